import * as vscode from "vscode";
import type { SidecarState, SidecarSupervisor } from "../sidecar/supervisor";

const LOOK: Record<SidecarState, { icon: string; background?: string }> = {
  stopped: { icon: "$(circle-slash)" },
  starting: { icon: "$(sync~spin)" },
  ready: { icon: "$(check)" },
  crashed: { icon: "$(error)", background: "statusBarItem.errorBackground" },
};

/** "Codistill: <state>" in the status bar; clicking it opens the sidecar status panel. */
export function createSidecarStatusItem(supervisor: SidecarSupervisor): vscode.Disposable {
  const item = vscode.window.createStatusBarItem("codistill.sidecar", vscode.StatusBarAlignment.Left, 10);
  item.name = "Codistill Sidecar";
  item.command = "codistill.showSidecarStatus";
  const render = () => {
    const snapshot = supervisor.snapshot();
    const look = LOOK[snapshot.state];
    item.text = `${look.icon} Codistill: ${snapshot.state}`;
    item.backgroundColor = look.background ? new vscode.ThemeColor(look.background) : undefined;
    item.tooltip = tooltipFor(snapshot);
  };
  render();
  item.show();
  supervisor.on("state", render);
  return { dispose: () => (supervisor.off("state", render), item.dispose()) };
}

function tooltipFor(snapshot: ReturnType<SidecarSupervisor["snapshot"]>): vscode.MarkdownString {
  const md = new vscode.MarkdownString(`**Codistill sidecar: ${snapshot.state}**`);
  const init = snapshot.initialize;
  if (init) {
    md.appendMarkdown(`\n\nPython ${init.python.version} · torch ${init.packages.torch ?? "missing"}`);
    md.appendMarkdown(init.devices.cuda ? ` · ${init.devices.gpus.length} GPU(s)` : " · CPU only");
  }
  if (snapshot.launchProblem) md.appendMarkdown(`\n\n${snapshot.launchProblem.problem}`);
  else if (snapshot.lastError && snapshot.state !== "ready") md.appendText(`\n\n${snapshot.lastError.split("\n")[0]}`);
  md.appendMarkdown("\n\nClick for details.");
  return md;
}
