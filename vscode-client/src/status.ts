// The status-bar text for the server's `fixloop/status` notification. Pure (unit-tested).

export interface StatusParams {
  // "preparing": the extension itself, while it installs the bundled server (first start).
  state: "idle" | "testing" | "fixing" | "unavailable" | "preparing";
  message?: string;
  iteration?: number;
  maxIterations?: number;
}

export interface StatusView {
  text: string;
  tooltip: string;
  warning: boolean;
}

/** "fixloop: idle", "fixloop: fixing 2/5", "fixloop: Docker missing", … */
export function statusView(params: StatusParams): StatusView {
  const tooltip = params.message || `fixloop: ${params.state}`;
  switch (params.state) {
    case "fixing": {
      const count =
        params.iteration !== undefined && params.maxIterations !== undefined
          ? ` ${params.iteration}/${params.maxIterations}`
          : "";
      return { text: `$(sync~spin) fixloop: fixing${count}`, tooltip, warning: false };
    }
    case "preparing":
      return { text: "$(sync~spin) fixloop: installing", tooltip, warning: false };
    case "testing":
      return { text: "$(beaker) fixloop: testing", tooltip, warning: false };
    case "unavailable":
      return { text: `$(warning) fixloop: ${missingPiece(params.message ?? "")}`, tooltip, warning: true };
    default:
      return { text: "$(check) fixloop: idle", tooltip, warning: false };
  }
}

/** A short name for what is missing; the whole message stays in the tooltip. */
function missingPiece(message: string): string {
  const lower = message.toLowerCase();
  if (lower.includes("not importable")) {
    return "not installed";
  }
  if (lower.includes("image")) {
    return "sandbox image missing";
  }
  if (lower.includes("docker")) {
    return "Docker missing";
  }
  if (lower.includes("model")) {
    return "no model";
  }
  return "unavailable";
}
