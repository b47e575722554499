import * as vscode from "vscode";
import type { CodistillContext } from "../../context";
import type { StateChange } from "../../sidecar/supervisor";
import { PanelSlot } from "../shared/panelSlot";
import { PanelChannel } from "../shared/webviewHost";
import { PANEL_ID, PANEL_TITLE, sidecarStatusValidators, type SidecarStatusReplies, type SidecarStatusToHost, type SidecarStatusToWebview, type SidecarStatusView } from "./protocol";

/** The "Codistill Sidecar" panel: what the sidecar reported, its state history, and restart. */
export class SidecarStatusPanel implements vscode.Disposable {
  private static readonly slot = new PanelSlot({ viewType: PANEL_ID, title: PANEL_TITLE, bundle: "sidecarStatus", create: (panel, ctx) => new SidecarStatusPanel(panel, ctx) });
  private readonly disposables: vscode.Disposable[] = [];
  private readonly channel: PanelChannel<SidecarStatusToHost, SidecarStatusToWebview, SidecarStatusReplies>;

  static show(ctx: CodistillContext): SidecarStatusPanel {
    return SidecarStatusPanel.slot.show(ctx);
  }

  /** Restores the panel after a window reload (registered as its WebviewPanelSerializer). */
  static revive(panel: vscode.WebviewPanel, ctx: CodistillContext): void {
    SidecarStatusPanel.slot.revive(panel, ctx);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly ctx: CodistillContext,
  ) {
    this.channel = new PanelChannel<SidecarStatusToHost, SidecarStatusToWebview, SidecarStatusReplies>(
      panel.webview,
      sidecarStatusValidators,
      {
        "sidecarStatus/ready": () => this.push(),
        "sidecarStatus/restart": () => vscode.commands.executeCommand("codistill.restartSidecar"),
        "sidecarStatus/showLog": () => ctx.log.show(true),
        "sidecarStatus/setUpPython": () => vscode.commands.executeCommand("codistill.setUpPythonEnvironment"),
      },
      ctx.log,
    );
    const onState = (_change: StateChange) => void this.push();
    ctx.supervisor.on("state", onState);
    this.disposables.push(
      this.channel,
      { dispose: () => ctx.supervisor.off("state", onState) },
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private push(): Thenable<boolean> {
    const view: SidecarStatusView = { ...this.ctx.supervisor.snapshot(), interpreter: this.ctx.interpreterLabel() };
    return this.channel.notify("sidecarStatus/state", view);
  }

  dispose(): void {
    SidecarStatusPanel.slot.release(this);
    while (this.disposables.length) this.disposables.pop()?.dispose();
    this.panel.dispose();
  }
}
