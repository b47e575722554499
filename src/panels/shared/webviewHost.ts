import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import type { Logger } from "../../sidecar/logger";
import { isPanelMessage, type PanelNotification, type PanelResponse, type ParamsArg, type ParamsValidators, type RepliesOf } from "./messages";

/** Webviews may load only our bundles and stylesheets, nothing remote. */
export function panelWebviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, "dist", "webview"), vscode.Uri.joinPath(extensionUri, "media")],
  };
}

/** The HTML shell of a panel: a strict CSP with a per-load nonce, the shared CSS, and the panel's bundle. */
export function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri, panel: string, title: string): string {
  const nonce = randomBytes(16).toString("base64");
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "dist", "webview", `${panel}.js`));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "media", "webview.css"));
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    // The toolkit (FAST) adds one <style> element at start-up, stamped with the csp-nonce below.
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join("; ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <meta property="csp-nonce" content="${nonce}">
  <link rel="stylesheet" href="${style}">
  <title>${escapeHtml(title)}</title>
</head>
<body>
  <main id="app" data-panel="${escapeHtml(panel)}"></main>
  <script type="module" nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

/** What a handler may return: its method's reply when the webview awaits one, else anything (not sent back). */
type HandlerResult<Replies, M> = M extends keyof Replies ? (void extends Replies[M] ? unknown : Replies[M] | Promise<Replies[M]>) : unknown;

/** One handler per webview -> host method, given that method's validated params. */
export type PanelHandlers<ToHost, Replies> = { [M in keyof ToHost]-?: (params: ToHost[M]) => HandlerResult<Replies, M> };

/**
 * The host end of a panel's message protocol: validates every incoming message, routes
 * requests and notifications to handlers, and answers requests with `{ id, result | error }`.
 * Typed by the panel's maps (see ./messages.ts): a wrong method or params shape does not compile.
 */
export class PanelChannel<ToHost, ToWebview, Replies extends RepliesOf<ToHost, Replies>> implements vscode.Disposable {
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly webview: vscode.Webview,
    validators: ParamsValidators<ToHost>,
    private readonly handlers: PanelHandlers<ToHost, Replies>,
    private readonly log: Logger,
  ) {
    this.subscription = webview.onDidReceiveMessage(async (raw: unknown) => {
      const problems: string[] = [];
      if (!isPanelMessage(raw, validators, problems)) {
        this.log.warn(`ignored an invalid webview message: ${problems[0]}`);
        return;
      }
      await this.dispatch(raw);
    });
  }

  private async dispatch<M extends keyof ToHost & string>(message: PanelNotification<M, ToHost[M]> & { id?: number }): Promise<void> {
    try {
      const result = await this.handlers[message.method](message.params);
      if (message.id !== undefined) this.respond({ id: message.id, result: result ?? null });
    } catch (err) {
      const error = (err as Error).message;
      this.log.error(`${message.method}: ${error}`);
      if (message.id !== undefined) this.respond({ id: message.id, error });
    }
  }

  notify<M extends keyof ToWebview & string>(method: M, ...[params]: ParamsArg<ToWebview[M]>): Thenable<boolean> {
    return this.webview.postMessage({ method, params });
  }

  private respond(response: PanelResponse): void {
    void this.webview.postMessage(response);
  }

  dispose(): void {
    this.subscription.dispose();
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
