// Which command starts the server, and whether fixloop is importable there. No `vscode`
// import: the lookup is unit-tested with node alone.

import { execFile } from "node:child_process";

export type CommandSource = "setting" | "python-setting" | "python-extension" | "default";

export interface ServerCommand {
  command: string;
  args: string[];
  source: CommandSource;
  /** The interpreter, when fixloop is started as `python -m fixloop` (checked, installable). */
  python?: string;
}

export const DEFAULT_PYTHON = "python3";
const SERVER_ARGS = ["-m", "fixloop", "lsp"];

/** `fixloop.server.command` if set (used as given), else `python -m fixloop lsp` with the
 * `fixloop.server.python` interpreter, else the Python extension's, else python3. */
export function chooseServerCommand(
  configured: readonly string[],
  configuredPython: string,
  pythonFromExtension?: string,
): ServerCommand {
  const words = configured.filter((word) => word.trim() !== "");
  if (words.length > 0) {
    return { command: words[0], args: words.slice(1), source: "setting" };
  }
  if (configuredPython.trim() !== "") {
    const python = configuredPython.trim();
    return { command: python, args: [...SERVER_ARGS], source: "python-setting", python };
  }
  if (pythonFromExtension) {
    return { command: pythonFromExtension, args: [...SERVER_ARGS], source: "python-extension", python: pythonFromExtension };
  }
  return { command: DEFAULT_PYTHON, args: [...SERVER_ARGS], source: "default", python: DEFAULT_PYTHON };
}

export interface ImportCheck {
  ok: boolean;
  /** fixloop's version when importable; else why not (the interpreter's own words). */
  detail: string;
}

/** Runs `python -c "import fixloop"`: a missing interpreter or package is a clear answer. */
export function checkFixloopImportable(python: string, timeoutMs = 20_000): Promise<ImportCheck> {
  const code = "import fixloop, importlib.metadata as m; print(m.version('fixloop'))";
  return new Promise((resolve) => {
    execFile(python, ["-c", code], { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) {
        const why = (error as NodeJS.ErrnoException).code === "ENOENT" ? `${python} not found` : lastLine(stderr) || error.message;
        resolve({ ok: false, detail: why });
      } else {
        resolve({ ok: true, detail: stdout.trim() });
      }
    });
  });
}

/** The pip command that installs fixloop into that interpreter. */
export function installArgs(target: string): string[] {
  return ["-m", "pip", "install", target];
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n");
  return lines[lines.length - 1] ?? "";
}
