// Which command starts the server, and whether fixloop is importable there. No `vscode`
// import: the lookup is unit-tested with node alone.
//
// `fixloop.server.command` wins, used as given. Else `fixloop.importStrategy`:
//   useBundled (default)  the server from the wheel the .vsix carries, in the extension's own
//                         environment (environment.ts), made from a base interpreter;
//   fromEnvironment       `python -m fixloop lsp` with the interpreter (fixloop installed there
//                         by the user; the extension never installs into it).

import { execFile } from "node:child_process";

export type CommandSource = "setting" | "python-setting" | "python-extension" | "default" | "bundled";
export type ImportStrategy = "useBundled" | "fromEnvironment";

export interface ServerCommand {
  command: string;
  args: string[];
  source: CommandSource;
  /** The interpreter, when fixloop is started as `python -m fixloop` from the user's
   * environment (checked to import fixloop). */
  python?: string;
}

export const DEFAULT_PYTHON = "python3";
export const SERVER_ARGS: readonly string[] = ["-m", "fixloop", "lsp"];

/** The setting's value; anything else (a typo in settings.json) is the default. */
export function importStrategy(value: unknown): ImportStrategy {
  return value === "fromEnvironment" ? "fromEnvironment" : "useBundled";
}

/** Base interpreters for the bundled server's environment, in the order tried: the
 * `fixloop.server.python` setting alone when set, else the Python extension's, then python3. */
export function baseCandidates(configuredPython: string, pythonFromExtension?: string): string[] {
  if (configuredPython.trim() !== "") {
    return [configuredPython.trim()];
  }
  const candidates = pythonFromExtension ? [pythonFromExtension, DEFAULT_PYTHON] : [DEFAULT_PYTHON];
  return [...new Set(candidates)];
}

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

function lastLine(text: string): string {
  const lines = text.trim().split("\n");
  return lines[lines.length - 1] ?? "";
}
