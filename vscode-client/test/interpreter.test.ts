import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { baseCandidates, chooseServerCommand, checkFixloopImportable, importStrategy } from "../src/interpreter";

test("the fixloop.server.command setting wins, used as given", () => {
  const chosen = chooseServerCommand(["/opt/fixloop/bin/fixloop", "lsp"], "/usr/bin/python3.11", "/venv/bin/python");
  assert.deepEqual(chosen, { command: "/opt/fixloop/bin/fixloop", args: ["lsp"], source: "setting" });
});

test("else the fixloop.server.python interpreter, ahead of the Python extension's", () => {
  const chosen = chooseServerCommand([], " /opt/py/bin/python ", "/work/.venv/bin/python");
  assert.deepEqual(chosen, {
    command: "/opt/py/bin/python", args: ["-m", "fixloop", "lsp"], source: "python-setting", python: "/opt/py/bin/python",
  });
});

test("else the Python extension's interpreter runs `-m fixloop lsp`", () => {
  const chosen = chooseServerCommand([], "", "/work/.venv/bin/python");
  assert.deepEqual(chosen, {
    command: "/work/.venv/bin/python", args: ["-m", "fixloop", "lsp"], source: "python-extension", python: "/work/.venv/bin/python",
  });
});

test("else python3; blank words in the setting count as unset", () => {
  const chosen = chooseServerCommand(["", " "], "", undefined);
  assert.equal(chosen.command, "python3");
  assert.equal(chosen.source, "default");
  assert.deepEqual(chosen.args, ["-m", "fixloop", "lsp"]);
});

// A stand-in interpreter: a real executable that answers like Python would.
function fakePython(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), "fixloop-python-"));
  const path = join(dir, "python");
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

test("an interpreter with fixloop answers its version", async () => {
  const check = await checkFixloopImportable(fakePython("echo 0.1.0"));
  assert.deepEqual(check, { ok: true, detail: "0.1.0" });
});

test("an interpreter without fixloop is reported with Python's own words", async () => {
  const python = fakePython("echo 'Traceback (most recent call last):' >&2; echo \"ModuleNotFoundError: No module named 'fixloop'\" >&2; exit 1");
  const check = await checkFixloopImportable(python);
  assert.equal(check.ok, false);
  assert.equal(check.detail, "ModuleNotFoundError: No module named 'fixloop'");
});

test("a missing interpreter says so", async () => {
  const check = await checkFixloopImportable("/nonexistent/python3");
  assert.deepEqual(check, { ok: false, detail: "/nonexistent/python3 not found" });
});

test("the import strategy is useBundled unless fromEnvironment is asked for", () => {
  assert.equal(importStrategy(undefined), "useBundled");
  assert.equal(importStrategy("useBundled"), "useBundled");
  assert.equal(importStrategy("fromEnviroment"), "useBundled"); // a typo: the default
  assert.equal(importStrategy("fromEnvironment"), "fromEnvironment");
});

test("the bundled server's base interpreter: the setting alone, else the Python extension's, then python3", () => {
  assert.deepEqual(baseCandidates(" /opt/py/bin/python3.12 ", "/work/.venv/bin/python"), ["/opt/py/bin/python3.12"]);
  assert.deepEqual(baseCandidates("", "/work/.venv/bin/python"), ["/work/.venv/bin/python", "python3"]);
  assert.deepEqual(baseCandidates("", undefined), ["python3"]);
});
