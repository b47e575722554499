import * as vscode from "vscode";
import type { CodistillContext } from "../../context";
import { panelHtml, panelWebviewOptions } from "./webviewHost";

/** What a panel slot needs to know about one kind of panel. */
export interface PanelKind<P extends vscode.Disposable> {
  /** The webview view type, also the id its serializer is registered under. */
  viewType: string;
  title: string;
  /** The name of the panel's bundle, dist/webview/<bundle>.js. */
  bundle: string;
  /** Builds the host side around a webview panel that already has its options, icon and HTML. */
  create: (panel: vscode.WebviewPanel, ctx: CodistillContext) => P;
}

/**
 * The one open instance of a kind of panel: each panel kind is a singleton, so opening it again
 * reveals the panel already open, and a panel restored after a window reload replaces it.
 */
export class PanelSlot<P extends vscode.Disposable> {
  private current: { host: P; panel: vscode.WebviewPanel } | undefined;

  constructor(private readonly kind: PanelKind<P>) {}

  get active(): P | undefined {
    return this.current?.host;
  }

  /** Reveals the open panel, or creates one in the active column. */
  show(ctx: CodistillContext): P {
    if (this.current) {
      this.current.panel.reveal();
      return this.current.host;
    }
    const panel = vscode.window.createWebviewPanel(this.kind.viewType, this.kind.title, vscode.ViewColumn.Active, panelWebviewOptions(ctx.extensionUri));
    return this.fill(panel, ctx);
  }

  /** Restores the panel after a window reload (what its WebviewPanelSerializer calls). */
  revive(panel: vscode.WebviewPanel, ctx: CodistillContext): P {
    // A restored panel comes back without our options: no scripts, no resource roots.
    panel.webview.options = panelWebviewOptions(ctx.extensionUri);
    this.current?.host.dispose();
    return this.fill(panel, ctx);
  }

  /** Empties the slot if `host` is in it; each panel calls this from its dispose(). */
  release(host: P): void {
    if (this.current?.host === host) this.current = undefined;
  }

  private fill(panel: vscode.WebviewPanel, ctx: CodistillContext): P {
    // A tab shows its icon as an image, not themed as the activity bar's: a variant per theme kind.
    panel.iconPath = panelIcon(ctx.extensionUri);
    panel.webview.html = panelHtml(panel.webview, ctx.extensionUri, this.kind.bundle, this.kind.title);
    const host = this.kind.create(panel, ctx);
    this.current = { host, panel };
    return host;
  }
}

/**
 * Codistill's icon on a panel's tab. Tabs draw it as an image, which ignores the theme (the
 * activity bar's currentColor SVG would be black on dark), so one fixed colour per theme kind.
 */
export function panelIcon(extensionUri: vscode.Uri): { light: vscode.Uri; dark: vscode.Uri } {
  return { light: vscode.Uri.joinPath(extensionUri, "media", "codistill-distil-light.svg"), dark: vscode.Uri.joinPath(extensionUri, "media", "codistill-distil-dark.svg") };
}
