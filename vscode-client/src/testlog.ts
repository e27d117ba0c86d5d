// Observations for the end-to-end test: when FIXLOOP_VSCODE_TEST_LOG names a file, each
// event (diagnostics received, code actions offered, commands run, edits applied, status)
// is appended to it as one JSON line. Off (and free) otherwise.

import { appendFileSync } from "node:fs";

export class TestLog {
  private readonly started = Date.now();

  constructor(private readonly path: string | undefined) {}

  get enabled(): boolean {
    return Boolean(this.path);
  }

  write(event: string, fields: Record<string, unknown> = {}): void {
    if (!this.path) {
      return;
    }
    const line = JSON.stringify({ event, ms: Date.now() - this.started, epochMs: Date.now(), ...fields });
    try {
      appendFileSync(this.path, line + "\n");
    } catch {
      // A test log that cannot be written must never break the extension.
    }
  }
}
