import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import {
  bundledWheel,
  ensureEnvironment,
  environmentPython,
  findEnvironment,
  isolatedEnv,
  probePython,
  STALE_PARTIAL_MS,
} from "../src/environment";

function script(path: string, body: string): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

function scratch(): string {
  return mkdtempSync(join(tmpdir(), "fixloop-env-"));
}

/** A stand-in base interpreter: `-m venv DIR` makes DIR/bin/python, itself a stand-in whose
 * `-m pip install` records its arguments (or fails when PIP_FAILS is set). */
function fakeBase(folder: string): string {
  const pip = `echo "$@" >> "$(dirname "$0")/../pip-calls"; if [ -n "$PIP_FAILS" ]; then echo "ERROR: No matching distribution found for chromadb" >&2; exit 1; fi`;
  return script(
    join(folder, "python-base"),
    `if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin"; printf '#!/bin/sh\\n%s\\n' '${pip}' > "$3/bin/python"; chmod +x "$3/bin/python"; fi`,
  );
}

function wheelIn(extension: string, name = "fixloop-0.1.0-py3-none-any.whl", content = "wheel"): string {
  mkdirSync(join(extension, "bundled"), { recursive: true });
  writeFileSync(join(extension, "bundled", name), content);
  return join(extension, "bundled", name);
}

test("the wheel the .vsix carries is found in bundled/, and none in a build without it", () => {
  const extension = scratch();
  assert.equal(bundledWheel(extension), undefined);
  const wheel = wheelIn(extension);
  writeFileSync(join(extension, "bundled", "README"), "not a wheel");
  assert.equal(bundledWheel(extension), wheel);
});

test("a venv's interpreter is bin/python, Scripts/python.exe on Windows", () => {
  assert.equal(environmentPython("/s/env", "linux"), "/s/env/bin/python");
  assert.equal(environmentPython("/s/env", "win32"), join("/s/env", "Scripts", "python.exe"));
});

test("the server's environment drops a PYTHONPATH and PYTHONHOME meant for the project", () => {
  const env = isolatedEnv({ PATH: "/bin", PYTHONPATH: "/work/src", PYTHONHOME: "/x", PIP_INDEX_URL: "https://idx" });
  assert.deepEqual(env, { PATH: "/bin", PIP_INDEX_URL: "https://idx" });
});

test("a base interpreter must be Python 3.11+ with venv", async () => {
  const folder = scratch();
  const ok = await probePython(script(join(folder, "p312"), "echo '3.12 yes'"));
  assert.deepEqual(ok, { ok: true, version: "3.12" });
  const old = await probePython(script(join(folder, "p39"), "echo '3.9 yes'"));
  assert.equal(old.ok, false);
  assert.match((old as { detail: string }).detail, /Python 3\.9; fixloop needs 3\.11/);
  const noVenv = await probePython(script(join(folder, "p311"), "echo '3.11 no'"));
  assert.match((noVenv as { detail: string }).detail, /python3-venv/);
  const missing = await probePython("/nonexistent/python3");
  assert.deepEqual(missing, { ok: false, detail: "/nonexistent/python3 not found" });
});

test("the environment is made once per wheel, then found; a new wheel replaces the old one", async () => {
  const folder = scratch();
  const storage = join(folder, "storage");
  const extension = join(folder, "extension");
  const base = fakeBase(folder);
  const wheel = wheelIn(extension);
  const lines: string[] = [];
  const request = { storage, wheel, python: base, version: "3.12", log: (line: string) => lines.push(line) };

  assert.equal(await findEnvironment(storage, wheel, "3.12"), undefined);
  const made = await ensureEnvironment(request);
  assert.equal(made.created, true);
  assert.ok(existsSync(made.python));
  assert.equal(await findEnvironment(storage, wheel, "3.12"), made.python);
  assert.ok(lines.some((line) => line.includes("-m pip install") && line.includes(wheel)));
  const again = await ensureEnvironment(request);
  assert.deepEqual(again, { python: made.python, created: false });

  const newer = wheelIn(extension, "fixloop-0.1.0-py3-none-any.whl", "rebuilt wheel");
  const replaced = await ensureEnvironment({ ...request, wheel: newer });
  assert.equal(replaced.created, true);
  assert.notEqual(replaced.python, made.python);
  const left = readdirSync(join(storage, "environments"));
  assert.equal(left.length, 1, `one environment left, no partial folder: ${left}`);
});

test("a failing pip leaves no environment and says pip's last words", async () => {
  const folder = scratch();
  const storage = join(folder, "storage");
  const wheel = wheelIn(join(folder, "extension"));
  const request = {
    storage, wheel, python: fakeBase(folder), version: "3.12", log: () => undefined,
    environ: { ...process.env, PIP_FAILS: "1" },
  };
  await assert.rejects(ensureEnvironment(request), /No matching distribution found for chromadb/);
  assert.deepEqual(readdirSync(join(storage, "environments")), []);
  assert.equal(await findEnvironment(storage, wheel, "3.12"), undefined);
});

test("a half-made environment left by a closed window is removed; a recent one is another window's", async () => {
  const folder = scratch();
  const storage = join(folder, "storage");
  const root = join(storage, "environments");
  mkdirSync(join(root, "partial-old"), { recursive: true });
  mkdirSync(join(root, "partial-recent"), { recursive: true });
  const old = (Date.now() - STALE_PARTIAL_MS - 60_000) / 1000;
  utimesSync(join(root, "partial-old"), old, old);
  const wheel = wheelIn(join(folder, "extension"));
  await ensureEnvironment({ storage, wheel, python: fakeBase(folder), version: "3.12", log: () => undefined });
  const left = readdirSync(root).sort();
  assert.equal(left.length, 2, String(left));
  assert.equal(left[1], "partial-recent");
  assert.match(left[0], /^fixloop-[0-9a-f]{12}-py3\.12$/);
});
