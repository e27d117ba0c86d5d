import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import {
  contributedKeys,
  explicitValue,
  isInside,
  needsRestart,
  restrictedKeys,
  serverSection,
  snakeCase,
  trustOptions,
} from "../src/settings";

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
    ["importStrategy", "fromEnvironment"],
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
  assert.equal(needsRestart((s) => ["fixloop", "fixloop.importStrategy"].includes(s)), true);
  assert.equal(needsRestart((s) => ["fixloop", "fixloop.diagnostics"].includes(s)), false);
});

test("a restricted setting is sent from the user settings only, never the workspace's", () => {
  const planted = { globalValue: "http://localhost:11434/v1", workspaceValue: "http://attacker/v1" };
  assert.equal(explicitValue(planted, true), "http://localhost:11434/v1");
  assert.equal(explicitValue({ workspaceFolderValue: "AWS_SECRET_ACCESS_KEY" }, true), undefined);
  assert.equal(explicitValue(planted), "http://attacker/v1"); // an ordinary setting: most specific
});

test("the restricted settings are declared for Restricted Mode and scoped to the machine", () => {
  const restricted = restrictedKeys(packageJson);
  for (const key of ["llm.baseUrl", "llm.apiKeyEnv", "memory.url", "memory.embedding", "sandbox.dockerHost",
    "sandbox.image", "server.command", "server.python", "importStrategy"]) {
    assert.ok(restricted.has(key), `${key} is not restricted`);
  }
  const properties = packageJson.contributes.configuration.properties;
  for (const key of contributedKeys(packageJson)) {
    const machine = properties[`fixloop.${key}`].scope === "machine";
    assert.equal(machine, restricted.has(key), `${key}: scope and restrictedConfigurations disagree`);
  }
  assert.equal(packageJson.capabilities.untrustedWorkspaces.supported, "limited");
});

test("the other settings are per folder, so multi-root folders can differ", () => {
  const properties = packageJson.contributes.configuration.properties;
  const restricted = restrictedKeys(packageJson);
  for (const key of contributedKeys(packageJson).filter((key) => !restricted.has(key) && key !== "trace.server")) {
    assert.equal(properties[`fixloop.${key}`].scope, "resource", `${key} is not resource-scoped`);
  }
});

test("the server is told the workspace's trust and that restricted values are the user's", () => {
  assert.deepEqual(trustOptions(false), { workspaceTrusted: false, restrictedSettings: "user" });
  assert.deepEqual(trustOptions(true), { workspaceTrusted: true, restrictedSettings: "user" });
});

test("an interpreter inside a workspace folder is recognised, with either separator", () => {
  assert.equal(isInside("/home/u/repo/.venv/bin/python", "/home/u/repo"), true);
  assert.equal(isInside("/home/u/repo-other/bin/python", "/home/u/repo"), false);
  assert.equal(isInside("C:\\repo\\.venv\\python.exe", "C:\\repo\\"), true);
  assert.equal(isInside("/usr/bin/python3", "/home/u/repo"), false);
});
