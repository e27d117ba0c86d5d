import assert from "node:assert/strict";
import { test } from "node:test";

import { statusView } from "../src/status";

test("the status bar says what the loop is doing", () => {
  assert.equal(statusView({ state: "idle", message: "" }).text, "$(check) fixloop: idle");
  assert.equal(statusView({ state: "fixing", message: "iteration 2/5", iteration: 2, maxIterations: 5 }).text,
    "$(sync~spin) fixloop: fixing 2/5");
  assert.equal(statusView({ state: "testing", message: "running pytest" }).text, "$(beaker) fixloop: testing");
});

test("a missing piece is named short, with the whole message in the tooltip", () => {
  const docker = statusView({ state: "unavailable", message: "Docker is not reachable: connection refused" });
  assert.equal(docker.text, "$(warning) fixloop: Docker missing");
  assert.equal(docker.tooltip, "Docker is not reachable: connection refused");
  assert.equal(docker.warning, true);
  const image = statusView({ state: "unavailable", message: "the sandbox image fixloop-sandbox:latest is missing" });
  assert.equal(image.text, "$(warning) fixloop: sandbox image missing");
  const notInstalled = statusView({ state: "unavailable", message: "fixloop is not importable by python3 (…)" });
  assert.equal(notInstalled.text, "$(warning) fixloop: not installed");
});
