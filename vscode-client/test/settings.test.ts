import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { contributedKeys, explicitValue, needsRestart, serverSection, snakeCase } from "../src/settings";

const packageJson = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8"));

test("camelCase keys become the server's snake_case, digit runs included", () => {
  assert.equal(snakeCase("timeoutSeconds"), "timeout_seconds");
  assert.equal(snakeCase("pricePer1kPrompt"), "price_per_1k_prompt");
  assert.equal(snakeCase("apiKeyEnv"), "api_key_env");
  assert.equal(snakeCase("engine"), "engine");
});

test("only values the user set are sent, nested, most specific scope first", () => {
  const values = [
    ["engine", explicitValue({ globalValue: "offline" })],
    ["tests.command", explicitValue({ globalValue: "pytest", workspaceValue: "pytest -q" })],
    ["tests.run", explicitValue({ globalValue: "onSave", workspaceFolderValue: "off" })],
    ["sandbox.timeoutSeconds", explicitValue({ workspaceValue: 30 })],
    ["llm.pricePer1kPrompt", explicitValue({ globalValue: 0.5 })],
    ["llm.model", explicitValue({})], // only the default: left to pyproject / FIXLOOP_*
    ["memory.url", explicitValue({ globalValue: "" })], // emptied: same as unset
  ] as const;
  assert.deepEqual(serverSection(values), {
    engine: "offline",
    tests: { command: "pytest -q", run: "off" },
    sandbox: { timeout_seconds: 30 },
    llm: { price_per_1k_prompt: 0.5 },
  });
});

test("the extension's own settings never reach the server", () => {
  const section = serverSection([
    ["server.command", ["/venv/bin/python", "-m", "fixloop", "lsp"]],
    ["trace.server", "verbose"],
    ["diagnostics.groups", ["syntax"]],
  ]);
  assert.deepEqual(section, { diagnostics: { groups: ["syntax"] } });
});

test("every contributed key is read, and the server settings are all there", () => {
  const keys = contributedKeys(packageJson);
  for (const key of ["engine", "llm.baseUrl", "llm.model", "llm.apiKeyEnv", "tests.command", "tests.run",
    "memory.path", "memory.url", "memory.enabled", "sandbox.image", "sandbox.timeoutSeconds", "sandbox.memory",
    "sandbox.parallel", "diagnostics.groups", "server.command", "trace.server"]) {
    assert.ok(keys.includes(key), `${key} is not contributed`);
  }
  const properties = packageJson.contributes.configuration.properties;
  for (const key of keys) {
    assert.ok(properties[`fixloop.${key}`].description || properties[`fixloop.${key}`].markdownDescription, `${key} has no description`);
    assert.ok("default" in properties[`fixloop.${key}`], `${key} has no default`);
  }
});

test("a change of the server command restarts; a change of a rule group does not", () => {
  assert.equal(needsRestart((s) => ["fixloop", "fixloop.server", "fixloop.server.command"].includes(s)), true);
  assert.equal(needsRestart((s) => ["fixloop", "fixloop.diagnostics"].includes(s)), false);
});
