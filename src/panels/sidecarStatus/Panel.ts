import * as vscode from "vscode";
import type { CodistillContext } from "../../context";
import type { StateChange } from "../../sidecar/supervisor";
import { PanelChannel, panelHtml, panelWebviewOptions } from "../shared/webviewHost";
import { PANEL_ID, PANEL_TITLE, sidecarStatusValidators, type SidecarStatusView } from "./protocol";

/** The "Codistill Sidecar" panel: what the sidecar reported, its state history, and restart. */
export class SidecarStatusPanel implements vscode.Disposable {
  private static current: SidecarStatusPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly channel: PanelChannel;

  static show(ctx: CodistillContext): SidecarStatusPanel {
    if (SidecarStatusPanel.current) {
      SidecarStatusPanel.current.panel.reveal();
      return SidecarStatusPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_ID, PANEL_TITLE, vscode.ViewColumn.Active, panelWebviewOptions(ctx.extensionUri));
    return (SidecarStatusPanel.current = new SidecarStatusPanel(panel, ctx));
  }

  /** Restores the panel after a window reload (registered as its WebviewPanelSerializer). */
  static revive(panel: vscode.WebviewPanel, ctx: CodistillContext): void {
    panel.webview.options = panelWebviewOptions(ctx.extensionUri);
    SidecarStatusPanel.current?.dispose();
    SidecarStatusPanel.current = new SidecarStatusPanel(panel, ctx);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly ctx: CodistillContext,
  ) {
    panel.iconPath = vscode.Uri.joinPath(ctx.extensionUri, "media", "codistill.svg");
    panel.webview.html = panelHtml(panel.webview, ctx.extensionUri, "sidecarStatus", PANEL_TITLE);
    this.channel = new PanelChannel(
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
    if (SidecarStatusPanel.current === this) SidecarStatusPanel.current = undefined;
    while (this.disposables.length) this.disposables.pop()?.dispose();
    this.panel.dispose();
  }
}
