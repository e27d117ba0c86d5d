// `npm run wheel`: builds fixloop's wheel (the server) into bundled/, for the .vsix to carry.
// Built from a copy of the repository's files (git's view, uncommitted edits included) so that
// a stale setuptools build/ folder never puts deleted modules into the wheel. The Python that
// builds it: $FIXLOOP_PYTHON, else the repository's .venv, else python3; pip fetches the build
// backend from its configured index (build isolation).

import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const client = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repo = resolve(client, "..");
const bundled = join(client, "bundled");
const venvPython = join(repo, ".venv", process.platform === "win32" ? "Scripts/python.exe" : "bin/python");
const python = process.env.FIXLOOP_PYTHON || (existsSync(venvPython) ? venvPython : "python3");

/** The repository's files as git sees them (tracked, or new and not ignored), minus this client. */
function sourceFiles() {
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repo });
  return listed.toString("utf8").split("\0").filter((path) => path && !path.startsWith("vscode-client/") && existsSync(join(repo, path)));
}

const work = mkdtempSync(join(tmpdir(), "fixloop-wheel-"));
try {
  let source = repo;
  if (existsSync(join(repo, ".git"))) {
    source = join(work, "src");
    for (const path of sourceFiles()) {
      mkdirSync(dirname(join(source, path)), { recursive: true });
      copyFileSync(join(repo, path), join(source, path));
    }
  }
  const out = join(work, "dist");
  execFileSync(python, ["-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", out, source], { stdio: "inherit" });
  const wheels = readdirSync(out).filter((name) => /^fixloop-.+\.whl$/.test(name));
  if (wheels.length !== 1) {
    throw new Error(`expected one fixloop wheel, found ${wheels.join(", ") || "none"}`);
  }
  rmSync(bundled, { recursive: true, force: true });
  mkdirSync(bundled);
  copyFileSync(join(out, wheels[0]), join(bundled, wheels[0]));
  console.log(`bundled/${wheels[0]}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
