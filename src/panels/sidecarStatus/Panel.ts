import * as vscode from "vscode";
import type { CodistillContext } from "../../context";
import type { StateChange } from "../../sidecar/supervisor";
import { PanelSlot } from "../shared/panelSlot";
import { PanelChannel } from "../shared/webviewHost";
import {
  PANEL_ID,
  PANEL_TITLE,
  sidecarStatusValidators,
  type SandboxView,
  type SidecarStatusReplies,
  type SidecarStatusToHost,
  type SidecarStatusToWebview,
} from "./protocol";

/** The "Codistill Sidecar" panel: what the sidecar reported, its state history, and restart. */
export class SidecarStatusPanel implements vscode.Disposable {
  private static readonly slot = new PanelSlot({ viewType: PANEL_ID, title: PANEL_TITLE, bundle: "sidecarStatus", create: (panel, ctx) => new SidecarStatusPanel(panel, ctx) });
  private readonly disposables: vscode.Disposable[] = [];
  private readonly channel: PanelChannel<SidecarStatusToHost, SidecarStatusToWebview, SidecarStatusReplies>;
  /** Asked of each sidecar process once: the kernel's answer does not change while it runs. */
  private sandbox: { pid: number; view: SandboxView | undefined } | undefined;

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

  private async push(): Promise<void> {
    const snapshot = this.ctx.supervisor.snapshot();
    const known = this.sandbox && this.sandbox.pid === snapshot.pid ? this.sandbox : undefined;
    await this.channel.notify("sidecarStatus/state", { ...snapshot, interpreter: this.ctx.interpreterLabel(), sandbox: known?.view ?? null });
    if (snapshot.state !== "ready" || snapshot.pid === undefined || known) return;
    const asked: { pid: number; view: SandboxView | undefined } = { pid: snapshot.pid, view: undefined };
    this.sandbox = asked;
    asked.view = await this.ctx.supervisor.request("sandbox/status", undefined).then(
      (status): SandboxView => status,
      (err: Error): SandboxView => ({ error: err.message }),
    );
    // Pushed again only if the answer is still this sidecar's, so a newer state is not undone.
    if (this.sandbox === asked && this.ctx.supervisor.snapshot().pid === asked.pid) await this.push();
  }

  dispose(): void {
    SidecarStatusPanel.slot.release(this);
    while (this.disposables.length) this.disposables.pop()?.dispose();
    this.panel.dispose();
  }
}
