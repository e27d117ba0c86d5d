// The `fixloop` settings VS Code holds → the section the server reads through
// workspace/configuration. Pure: no `vscode` import, so it is unit-tested with node alone.

/** Settings of the extension itself: never sent to the server (it would call them unknown). */
export const CLIENT_ONLY_PREFIXES = ["server.", "trace.", "importStrategy"];

/** A VS Code key (`sandbox.timeoutSeconds`, `llm.pricePer1kPrompt`) as the server's
 * snake_case path (`sandbox.timeout_seconds`, `llm.price_per_1k_prompt`). The server maps
 * camelCase itself, but not a digit run inside a word (`Per1k`), so the client does it. */
export function snakeCase(key: string): string {
  return key
    .replace(/([a-z])([0-9])/g, "$1_$2")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase();
}

/** What VS Code's `inspect()` says about one key (the fields this mapping reads). */
export interface InspectedValue {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** The value the user set for a key, the most specific scope first; undefined when only the
 * contributed default applies. Defaults are not sent: they would hide `[tool.fixloop]` in
 * pyproject.toml and the `FIXLOOP_*` variables, which the editor's values override.
 * `userOnly`: the user settings' value alone, for the restricted settings (where code, data
 * or the key go), which a workspace's `.vscode/settings.json` must never set: `inspect()`
 * reports workspace values whatever the setting's scope. */
export function explicitValue(inspected: InspectedValue | undefined, userOnly = false): unknown {
  if (inspected === undefined) {
    return undefined;
  }
  const scopes = userOnly
    ? [inspected.globalValue]
    : [inspected.workspaceFolderValue, inspected.workspaceValue, inspected.globalValue];
  for (const value of scopes) {
    if (value !== undefined && value !== null && value !== "") {
      return value;
    }
  }
  return undefined;
}

/** The server's section: keys (relative to `fixloop.`) with explicit values, nested. */
export function serverSection(values: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  const section: Record<string, unknown> = {};
  for (const [key, value] of values) {
    if (value === undefined || CLIENT_ONLY_PREFIXES.some((prefix) => key.startsWith(prefix))) {
      continue;
    }
    const path = key.split(".").map(snakeCase);
    let target = section;
    for (const part of path.slice(0, -1)) {
      const next = target[part];
      target = (typeof next === "object" && next !== null ? next : (target[part] = {})) as Record<string, unknown>;
    }
    target[path[path.length - 1]] = value;
  }
  return section;
}

/** Keys (relative to `fixloop.`) this extension contributes, from its package.json. */
export function contributedKeys(packageJson: unknown): string[] {
  const properties = (packageJson as { contributes?: { configuration?: { properties?: object } } })
    ?.contributes?.configuration?.properties;
  return Object.keys(properties ?? {})
    .filter((key) => key.startsWith("fixloop."))
    .map((key) => key.slice("fixloop.".length));
}

/** Whether a settings change needs a new server process (the others are pulled live). */
export function needsRestart(affects: (section: string) => boolean): boolean {
  return affects("fixloop.server") || affects("fixloop.importStrategy");
}

/** Keys (relative to `fixloop.`) that only the user's settings may set: the restricted
 * configurations declared for Restricted Mode in package.json (also `"scope": "machine"`). */
export function restrictedKeys(packageJson: unknown): Set<string> {
  const declared = (packageJson as {
    capabilities?: { untrustedWorkspaces?: { restrictedConfigurations?: string[] } };
  })?.capabilities?.untrustedWorkspaces?.restrictedConfigurations;
  return new Set(
    (declared ?? []).filter((key) => key.startsWith("fixloop.")).map((key) => key.slice("fixloop.".length)),
  );
}

/** What the server is told at start-up about trust (see server/fixloop/lsp/configuration.py):
 * the workspace's trust, and that restricted settings it receives are the user's own. */
export function trustOptions(workspaceTrusted: boolean): { workspaceTrusted: boolean; restrictedSettings: "user" } {
  return { workspaceTrusted, restrictedSettings: "user" };
}

/** Whether `path` is `folder` or inside it (POSIX or Windows separators). */
export function isInside(path: string, folder: string): boolean {
  const normal = (p: string): string => p.replace(/\\/g, "/").replace(/\/+$/, "");
  const [file, root] = [normal(path), normal(folder)];
  return file === root || file.startsWith(root + "/");
}
