// The server's own Python environment (`fixloop.importStrategy: useBundled`): a venv in the
// extension's global storage, made once per bundled wheel and Python version from the wheel
// the .vsix carries. pip installs the wheel's dependencies from the user's own package index
// (pip's configuration), so compiled ones (tree-sitter, chromadb) match this machine and this
// Python. Never the user's project environment. No `vscode` import: unit-tested with node.

import { spawn, execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, promises as fs, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** The oldest Python the server runs on (`requires-python` in pyproject.toml). */
export const MIN_PYTHON: readonly [number, number] = [3, 11];
const WHEEL_PATTERN = /^fixloop-.+\.whl$/;
const ENVIRONMENT_PATTERN = /^fixloop-([0-9a-f]+)-py\d+\.\d+$/;
const PARTIAL_PREFIX = "partial-";
/** A half-made environment this old was left by a window that closed while making it. */
export const STALE_PARTIAL_MS = 60 * 60 * 1000;

/** What a candidate base interpreter can do, from `probePython`. */
export type Probe = { ok: true; version: string } | { ok: false; detail: string };

/** The wheel shipped in the .vsix (`bundled/`), if this build carries one. */
export function bundledWheel(extensionPath: string): string | undefined {
  const folder = join(extensionPath, "bundled");
  if (!existsSync(folder)) {
    return undefined;
  }
  const wheels = readdirSync(folder).filter((name) => WHEEL_PATTERN.test(name)).sort();
  return wheels.length > 0 ? join(folder, wheels[wheels.length - 1]) : undefined;
}

/** The wheel's content digest: a rebuilt wheel of the same version gets a new environment. */
export async function wheelDigest(wheel: string): Promise<string> {
  const bytes = await fs.readFile(wheel);
  return createHash("sha256").update(bytes).digest("hex").slice(0, 12);
}

/** `fixloop-<digest>-py3.12`: one environment per wheel and Python version. */
export function environmentName(digest: string, version: string): string {
  return `fixloop-${digest}-py${version}`;
}

/** The interpreter inside a venv folder. */
export function environmentPython(folder: string, platform: string = process.platform): string {
  return platform === "win32" ? join(folder, "Scripts", "python.exe") : join(folder, "bin", "python");
}

/** The environment without what would shadow the managed venv's packages (a PYTHONPATH set
 * for the user's project, a PYTHONHOME). */
export function isolatedEnv(environ: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...environ };
  delete env.PYTHONPATH;
  delete env.PYTHONHOME;
  return env;
}

const PROBE = [
  "import sys",
  "try:\n    import venv, ensurepip\n    ok = 'yes'\nexcept ImportError:\n    ok = 'no'",
  "print('%d.%d %s' % (sys.version_info[0], sys.version_info[1], ok))",
].join("\n");

/** Whether `python` can be the base of the environment: recent enough, with venv and pip. */
export function probePython(python: string, timeoutMs = 20_000): Promise<Probe> {
  return new Promise((resolve) => {
    execFile(python, ["-c", PROBE], { timeout: timeoutMs }, (error, stdout) => {
      if (error) {
        const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
        resolve({ ok: false, detail: missing ? `${python} not found` : `${python} failed: ${error.message}` });
        return;
      }
      const [version, venv] = stdout.trim().split(" ");
      const [major, minor] = version.split(".").map(Number);
      if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
        resolve({ ok: false, detail: `${python} is Python ${version}; fixloop needs ${MIN_PYTHON.join(".")} or later` });
      } else if (venv !== "yes") {
        resolve({ ok: false, detail: `${python} has no venv module with pip (on Debian: apt install python3-venv)` });
      } else {
        resolve({ ok: true, version });
      }
    });
  });
}

/** The environment's folder for this wheel and Python version. */
async function environmentFolder(storage: string, wheel: string, version: string): Promise<string> {
  return join(storage, "environments", environmentName(await wheelDigest(wheel), version));
}

/** The interpreter of the environment already made for this wheel and Python version. A
 * base interpreter that has gone (its venv's `python` link dangles) counts as none. */
export async function findEnvironment(storage: string, wheel: string, version: string): Promise<string | undefined> {
  const python = environmentPython(await environmentFolder(storage, wheel, version));
  return existsSync(python) ? python : undefined;
}

export interface EnvironmentRequest {
  /** The extension's global storage folder. */
  storage: string;
  wheel: string;
  /** The base interpreter (probed) and its version ("3.12"). */
  python: string;
  version: string;
  /** Each line pip and venv print, for the output channel. */
  log: (line: string) => void;
  environ?: NodeJS.ProcessEnv;
}

export interface Environment {
  python: string;
  /** Whether this call made it (the first start with this wheel and Python). */
  created: boolean;
}

/** The environment's interpreter, made first when it does not exist. Made in a private
 * folder and renamed into place, so two windows starting at once never share a half-made
 * one; older wheels' environments are removed once the new one works. */
export async function ensureEnvironment(request: EnvironmentRequest): Promise<Environment> {
  const folder = await environmentFolder(request.storage, request.wheel, request.version);
  const root = dirname(folder);
  if (existsSync(environmentPython(folder))) {
    return { python: environmentPython(folder), created: false };
  }
  // A dangling one (its base interpreter is gone) is made again.
  await fs.rm(folder, { recursive: true, force: true });
  await fs.mkdir(root, { recursive: true });
  await removeStalePartials(root, request.log);
  const partial = await fs.mkdtemp(join(root, PARTIAL_PREFIX));
  const env = isolatedEnv(request.environ ?? process.env);
  try {
    await run(request.python, ["-m", "venv", partial], env, request.log);
    // With the memory of past fixes (ChromaDB): the editor is where fixes are chosen,
    // and what the user keeps or reverts is what memory learns from.
    const target = `${request.wheel}[memory]`;
    const pip = ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", target];
    await run(environmentPython(partial), pip, env, request.log);
    await moveIntoPlace(partial, folder);
  } finally {
    await fs.rm(partial, { recursive: true, force: true });
  }
  await removeOthers(root, basename(folder), request.log);
  return { python: environmentPython(folder), created: true };
}

async function moveIntoPlace(partial: string, folder: string): Promise<void> {
  try {
    await fs.rename(partial, folder);
  } catch (error) {
    // Another window finished first: its environment is as good as this one.
    if (!existsSync(environmentPython(folder))) {
      throw error;
    }
  }
}

/** Environments of other wheels (earlier versions of the extension): hundreds of MB each. */
async function removeOthers(root: string, current: string, log: (line: string) => void): Promise<void> {
  const digest = ENVIRONMENT_PATTERN.exec(current)?.[1];
  for (const name of await fs.readdir(root)) {
    const match = ENVIRONMENT_PATTERN.exec(name);
    if (match && match[1] !== digest) {
      log(`removing the environment of an earlier version: ${name}`);
      await fs.rm(join(root, name), { recursive: true, force: true });
    }
  }
}

/** Half-made environments of windows closed while making them (VS Code ends the extension
 * host without waiting); a recent one may be another window's, still being made. */
async function removeStalePartials(root: string, log: (line: string) => void): Promise<void> {
  for (const name of await fs.readdir(root)) {
    if (!name.startsWith(PARTIAL_PREFIX)) {
      continue;
    }
    const stat = await fs.stat(join(root, name)).catch(() => undefined);
    if (stat && Date.now() - stat.mtimeMs > STALE_PARTIAL_MS) {
      log(`removing a half-made environment: ${name}`);
      await fs.rm(join(root, name), { recursive: true, force: true });
    }
  }
}

/** Runs a command, streaming its output lines to `log`; rejects with its last lines. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  log(`$ ${[command, ...args].join(" ")}`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const tail: string[] = [];
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString("utf8").split(/\r?\n/)) {
        if (line.trim() !== "") {
          log(line);
          tail.push(line);
          tail.splice(0, Math.max(0, tail.length - 5));
        }
      }
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", (error) => reject(error));
    child.on("close", (code) => {
      if (code === 0) {
        resolve();
      } else {
        reject(new Error(`${command} ${args.slice(0, 3).join(" ")} exited with ${code}: ${tail.join(" | ")}`));
      }
    });
  });
}
