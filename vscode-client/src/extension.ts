// The fixloop extension: starts the server (the one the .vsix carries, in the extension's own
// environment, or `python -m fixloop lsp` from the user's), maps the settings, adds the
// commands and a status-bar item driven by the server's `fixloop/status` notification.

import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";

import { bundledWheel, ensureEnvironment, findEnvironment, isolatedEnv, probePython } from "./environment";
import {
  baseCandidates,
  chooseServerCommand,
  checkFixloopImportable,
  importStrategy,
  SERVER_ARGS,
  type ServerCommand,
} from "./interpreter";
import {
  contributedKeys,
  explicitValue,
  isInside,
  needsRestart,
  restrictedKeys,
  serverSection,
  trustOptions,
} from "./settings";
import { statusView, type StatusParams } from "./status";
import { TestLog } from "./testlog";

const SECTION = "fixloop";
const STATUS_NOTIFICATION = "fixloop/status";
const TRUST_NOTIFICATION = "fixloop/workspaceTrust";
const PYTHON_EXTENSION = "ms-python.python";
// The editor's language ids the server analyses (server/fixloop/analysis/languages.py).
const LANGUAGES = ["python", "javascript", "javascriptreact", "typescript", "typescriptreact"];

let controller: Controller | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  controller = new Controller(context);
  await controller.activate();
}

export async function deactivate(): Promise<void> {
  await controller?.stop();
  controller = undefined;
}

class Controller {
  private client: LanguageClient | undefined;
  private readonly output = vscode.window.createOutputChannel("fixloop", { log: true });
  private readonly status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 0);
  private readonly log = new TestLog(process.env.FIXLOOP_VSCODE_TEST_LOG);
  private readonly keys: string[];
  private readonly restricted: Set<string>;
  private restarting: Promise<void> = Promise.resolve();

  constructor(private readonly context: vscode.ExtensionContext) {
    this.keys = contributedKeys(context.extension.packageJSON);
    this.restricted = restrictedKeys(context.extension.packageJSON);
  }

  async activate(): Promise<void> {
    this.log.write("activated");
    this.context.subscriptions.push(this.output, this.status);
    this.status.name = "fixloop";
    this.status.command = "fixloop.showLastReport";
    this.showStatus({ state: "idle", message: "fixloop: starting" });
    this.status.show();
    this.registerCommands();
    this.context.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((event) => this.settingsChanged(event)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.trustGranted()),
    );
    if (this.log.enabled) {
      this.context.subscriptions.push(
        vscode.workspace.onDidChangeTextDocument((event) => this.logEdit(event)),
        vscode.workspace.onDidSaveTextDocument((document) => this.log.write("saved", { uri: document.uri.toString() })),
      );
    }
    await this.watchPythonInterpreter();
    await this.restart();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop();
      } catch (error) {
        this.output.appendLine(`stopping the server: ${String(error)}`);
      }
    }
  }

  /** Stop the server (if any) and start it again with the current interpreter and settings. */
  restart(): Promise<void> {
    this.restarting = this.restarting.then(async () => {
      await this.stop();
      await this.start();
    });
    return this.restarting;
  }

  private async start(): Promise<void> {
    const command = await this.chooseCommand();
    if (!command) {
      return;
    }
    this.output.appendLine(`server: ${[command.command, ...command.args].join(" ")} (from ${command.source})`);
    // The bundled server's own environment: a PYTHONPATH meant for the project must not shadow it.
    const options = command.source === "bundled" ? { env: isolatedEnv(process.env) } : undefined;
    const serverOptions: ServerOptions = { command: command.command, args: command.args, options };
    const client = new LanguageClient(SECTION, "fixloop", serverOptions, this.clientOptions());
    client.onNotification(STATUS_NOTIFICATION, (params: StatusParams) => {
      this.log.write("status", { params });
      this.showStatus(params);
    });
    this.client = client;
    try {
      await client.start();
      this.log.write("started", { command: [command.command, ...command.args] });
    } catch (error) {
      this.client = undefined;
      this.showStatus({ state: "unavailable", message: `the fixloop server did not start: ${String(error)}` });
      this.log.write("startFailed", { error: String(error) });
    }
  }

  private clientOptions(): LanguageClientOptions {
    return {
      documentSelector: LANGUAGES.map((language) => ({ scheme: "file", language })),
      initializationOptions: trustOptions(vscode.workspace.isTrusted),
      outputChannel: this.output,
      middleware: {
        workspace: {
          configuration: async (params, token, next) => {
            const answers = await next(params, token);
            if (!Array.isArray(answers)) {
              return answers;
            }
            return params.items.map((item, index) =>
              item.section === SECTION ? this.sectionFor(item.scopeUri) : answers[index],
            );
          },
        },
        handleDiagnostics: (uri, diagnostics, next) => {
          this.log.write("diagnostics", {
            uri: uri.toString(),
            items: diagnostics.map((d) => ({
              code: typeof d.code === "object" ? d.code.value : d.code,
              message: d.message,
              line: d.range.start.line,
              character: d.range.start.character,
              source: d.source,
            })),
          });
          next(uri, diagnostics);
        },
        provideCodeActions: async (document, range, context, token, next) => {
          const actions = await next(document, range, context, token);
          this.log.write("codeActions", {
            uri: document.uri.toString(),
            line: range.start.line,
            titles: (actions ?? []).map((action) => action.title),
          });
          return actions;
        },
        executeCommand: async (command, args, next) => {
          this.log.write("command", { command, args });
          return next(command, args);
        },
      },
    };
  }

  /** The server's `fixloop` section for a folder: only what the user set (see settings.ts). */
  private sectionFor(scopeUri: string | undefined): Record<string, unknown> {
    const scope = scopeUri ? vscode.Uri.parse(scopeUri) : undefined;
    const configuration = vscode.workspace.getConfiguration(SECTION, scope);
    return serverSection(
      this.keys.map((key) => [key, explicitValue(configuration.inspect(key), this.restricted.has(key))] as const),
    );
  }

  /** `fixloop.server.command` as given; else the bundled server (`importStrategy`
   * useBundled) or `python -m fixloop lsp` from the user's interpreter (fromEnvironment).
   * Undefined when there is none to start (the status bar and a message say why). */
  private async chooseCommand(): Promise<ServerCommand | undefined> {
    const configuration = vscode.workspace.getConfiguration(SECTION);
    const configuredCommand = configuration.get<string[]>("server.command", []);
    const configuredPython = configuration.get<string>("server.python", "");
    if (configuredCommand.some((word) => word.trim() !== "")) {
      return chooseServerCommand(configuredCommand, configuredPython);
    }
    const fromExtension = this.followsPythonExtension() ? this.runnable(await this.pythonFromExtension()) : undefined;
    if (importStrategy(configuration.get("importStrategy")) === "useBundled") {
      return this.bundledCommand(baseCandidates(configuredPython, fromExtension));
    }
    const command = chooseServerCommand([], configuredPython, fromExtension);
    return (await this.ensureImportable(command)) ? command : undefined;
  }

  /** The bundled server in the extension's environment, made from the first base
   * interpreter that can (once per wheel and Python version). */
  private async bundledCommand(candidates: string[]): Promise<ServerCommand | undefined> {
    const wheel = bundledWheel(this.context.extensionPath);
    if (!wheel) {
      this.unavailable("this build of the extension carries no fixloop wheel: set fixloop.importStrategy to fromEnvironment.");
      return undefined;
    }
    const refused: string[] = [];
    for (const python of candidates) {
      const probe = await probePython(python);
      if (probe.ok) {
        const environment = await this.environment(wheel, python, probe.version);
        return environment ? { command: environment, args: [...SERVER_ARGS], source: "bundled" } : undefined;
      }
      refused.push(probe.detail);
    }
    this.unavailable(`no Python to run fixloop's server: ${refused.join("; ")}. Set fixloop.server.python.`);
    return undefined;
  }

  /** The environment's interpreter, made first (with a progress notification) if needed. */
  private async environment(wheel: string, python: string, version: string): Promise<string | undefined> {
    const storage = this.context.globalStorageUri.fsPath;
    const existing = await findEnvironment(storage, wheel, version);
    if (existing) {
      this.log.write("environment", { python: existing, base: python, created: false });
      return existing;
    }
    const started = Date.now();
    this.showStatus({ state: "preparing", message: `fixloop: installing its server into ${storage} (first start)` });
    this.output.appendLine(`installing the server into the extension's own environment, from ${python}`);
    const title = "fixloop: installing its server (first start; a minute or two)";
    try {
      const made = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, () =>
        ensureEnvironment({ storage, wheel, python, version, log: (line) => this.output.appendLine(line) }),
      );
      this.log.write("environment", { python: made.python, base: python, created: made.created, seconds: (Date.now() - started) / 1000 });
      return made.python;
    } catch (error) {
      this.unavailable(`installing fixloop's server failed (see the fixloop output): ${String(error)}`);
      return undefined;
    }
  }

  /** No server: the status bar says why, and a message offers the way out. */
  private unavailable(message: string): void {
    this.log.write("unavailable", { message });
    this.showStatus({ state: "unavailable", message });
    void this.offerSettings(message); // not awaited: a restart must not wait for the user
  }

  private async offerSettings(message: string, ...extra: string[]): Promise<string | undefined> {
    const output = "Show output";
    const settings = "Open settings";
    const choice = await vscode.window.showWarningMessage(message, ...extra, output, settings);
    if (choice === settings) {
      await vscode.commands.executeCommand("workbench.action.openSettings", "@ext:fixloop.fixloop");
    } else if (choice === output) {
      this.output.show();
    }
    return choice;
  }

  /** Whether the server's interpreter is the Python extension's (none is configured). */
  private followsPythonExtension(): boolean {
    const configuration = vscode.workspace.getConfiguration(SECTION);
    return configuration.get<string[]>("server.command", []).length === 0 && !configuration.get<string>("server.python");
  }

  /** The Python extension's interpreter, unless the workspace is untrusted and the
   * interpreter lies inside it (a repository's `.venv` is the repository's program). */
  private runnable(python: string | undefined): string | undefined {
    if (python === undefined || vscode.workspace.isTrusted) {
      return python;
    }
    const inside = (vscode.workspace.workspaceFolders ?? []).some((folder) =>
      isInside(python, folder.uri.fsPath),
    );
    if (inside) {
      this.output.appendLine(`Restricted Mode: not running the workspace's interpreter ${python}`);
      return undefined;
    }
    return python;
  }

  /** Trust granted: the server may now use the project's own settings and run its tests; a
   * restart when the interpreter becomes the Python extension's. */
  private trustGranted(): void {
    this.log.write("trustGranted");
    if (this.followsPythonExtension() && vscode.extensions.getExtension(PYTHON_EXTENSION)) {
      void this.restart();
    } else if (this.client?.isRunning()) {
      void this.client.sendNotification(TRUST_NOTIFICATION, { trusted: true });
    }
  }

  private settingsChanged(event: vscode.ConfigurationChangeEvent): void {
    if (!event.affectsConfiguration(SECTION)) {
      return;
    }
    if (needsRestart((section) => event.affectsConfiguration(section))) {
      void this.restart();
    } else if (this.client?.isRunning()) {
      // `settings: null`: the server pulls the section again (workspace/configuration).
      void this.client.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
    }
  }

  /** The Python extension's active interpreter, when that extension is installed. */
  private async pythonFromExtension(): Promise<string | undefined> {
    const api = await this.pythonApi();
    if (!api) {
      return undefined;
    }
    try {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      const active = api.environments.getActiveEnvironmentPath(folder);
      const environment = await api.environments.resolveEnvironment(active);
      return environment?.executable.uri?.fsPath ?? active.path;
    } catch (error) {
      this.output.appendLine(`the Python extension gave no interpreter: ${String(error)}`);
      return undefined;
    }
  }

  private async pythonApi(): Promise<import("@vscode/python-extension").PythonExtension | undefined> {
    if (!vscode.extensions.getExtension(PYTHON_EXTENSION)) {
      return undefined;
    }
    try {
      const { PythonExtension } = await import("@vscode/python-extension");
      return await PythonExtension.api();
    } catch (error) {
      this.output.appendLine(`the Python extension's API is not available: ${String(error)}`);
      return undefined;
    }
  }

  private async watchPythonInterpreter(): Promise<void> {
    const api = await this.pythonApi();
    if (api) {
      this.context.subscriptions.push(
        api.environments.onDidChangeActiveEnvironmentPath(() => {
          if (this.followsPythonExtension()) {
            void this.restart();
          }
        }),
      );
    }
  }

  /** fixloop importable by `command.python` (fromEnvironment); else the status bar says so
   * and a message offers the bundled server. The user's environment is never installed into. */
  private async ensureImportable(command: ServerCommand): Promise<boolean> {
    const python = command.python as string;
    const check = await checkFixloopImportable(python);
    this.log.write("importCheck", { python, ok: check.ok, detail: check.detail });
    if (check.ok) {
      return true;
    }
    const message = `fixloop is not importable by ${python} (${check.detail}). Install it there, or use the server the extension carries.`;
    this.log.write("unavailable", { message });
    this.showStatus({ state: "unavailable", message });
    void this.offerBundled(message);
    return false;
  }

  private async offerBundled(message: string): Promise<void> {
    const bundled = "Use the bundled server";
    if ((await this.offerSettings(message, bundled)) === bundled) {
      // A settings change that restarts the server (needsRestart).
      await vscode.workspace.getConfiguration(SECTION).update("importStrategy", "useBundled", vscode.ConfigurationTarget.Global);
    }
  }

  private registerCommands(): void {
    const register = (name: string, run: () => Promise<unknown>): void => {
      this.context.subscriptions.push(vscode.commands.registerCommand(name, run));
    };
    register("fixloop.restart", () => this.restart());
    register("fixloop.fixAtCursor", () => this.atCursor("fixloop.fix"));
    register("fixloop.generateTestsAtCursor", () => this.atCursor("fixloop.generateTests"));
    register("fixloop.showLastReport", () => this.serverCommand("fixloop.showReport", []));
    register("fixloop.cancelRunningFix", () => this.serverCommand("fixloop.cancelFix", []));
    register("fixloop.runTestsNow", async () => {
      const uri = vscode.window.activeTextEditor?.document.uri.toString();
      const result = await this.serverCommand("fixloop.runTests", uri ? [uri] : []);
      const answer = result as { status?: string; message?: string } | undefined;
      if (answer?.message) {
        const show = answer.status === "failed" ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
        void show(`fixloop: ${answer.message}`);
      }
    });
  }

  /** A server command on the active document and the cursor's line (0-based). */
  private async atCursor(command: string): Promise<unknown> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage("fixloop: open a file first.");
      return undefined;
    }
    return this.serverCommand(command, [editor.document.uri.toString(), editor.selection.active.line]);
  }

  private async serverCommand(command: string, args: unknown[]): Promise<unknown> {
    const client = this.client;
    if (!client?.isRunning()) {
      void vscode.window.showWarningMessage("fixloop: the server is not running (see the fixloop output).");
      return undefined;
    }
    this.log.write("command", { command, args });
    try {
      return await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
    } catch (error) {
      void vscode.window.showErrorMessage(`fixloop: ${command} failed: ${String(error)}`);
      return undefined;
    }
  }

  private showStatus(params: StatusParams): void {
    const view = statusView(params);
    this.status.text = view.text;
    this.status.tooltip = view.tooltip;
    this.status.backgroundColor = view.warning ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
  }

  private logEdit(event: vscode.TextDocumentChangeEvent): void {
    if (event.contentChanges.length === 0 || event.document.uri.scheme !== "file") {
      return;
    }
    this.log.write("edit", {
      uri: event.document.uri.toString(),
      version: event.document.version,
      changes: event.contentChanges.map((change) => ({ line: change.range.start.line, text: change.text })),
    });
  }
}
