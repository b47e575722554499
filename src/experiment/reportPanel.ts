// "Codistill: Open Experiment Report": the experiment folder's report.html in a panel, as the
// file is (its own strict CSP; the placeholder nonce of its scripts replaced by a fresh one), so
// what the panel shows is exactly what a browser opening the file shows. Reloaded when the file
// changes (a rerun of the experiment writes it again).
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as vscode from "vscode";
import type { CodistillContext } from "../context";
import { NONCE_PLACEHOLDER } from "../core/experiment/reportRender";
import { panelIcon } from "../panels/shared/panelSlot";

export const REPORT_VIEW_TYPE = "codistill.experimentReport";

export class ExperimentReportPanel implements vscode.Disposable {
  private static current: ExperimentReportPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private file: string,
    private readonly ctx: CodistillContext,
  ) {
    this.disposables.push(panel.onDidDispose(() => this.dispose()));
    this.watch();
  }

  /** Shows `file` (an experiment's report.html), in the panel already open if there is one. */
  static async show(ctx: CodistillContext, file: string): Promise<void> {
    const open = ExperimentReportPanel.current;
    if (open) {
      open.file = file;
      open.watch();
      open.panel.reveal();
      await open.render();
      return;
    }
    const panel = vscode.window.createWebviewPanel(REPORT_VIEW_TYPE, "Codistill Experiment Report", vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [],
    });
    panel.iconPath = panelIcon(ctx.extensionUri);
    ExperimentReportPanel.current = new ExperimentReportPanel(panel, file, ctx);
    await ExperimentReportPanel.current.render();
  }

  private watcher: vscode.FileSystemWatcher | undefined;

  private watch(): void {
    this.watcher?.dispose();
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(join(this.file, "..")), "report.html"));
    const rerender = () => void this.render().catch((err: unknown) => this.ctx.log.error(`report panel: ${(err as Error).message}`));
    this.watcher.onDidChange(rerender);
    this.watcher.onDidCreate(rerender);
  }

  private async render(): Promise<void> {
    const nonce = randomBytes(16).toString("base64");
    const html = await readFile(this.file, "utf8");
    this.panel.title = `Report: ${this.file.split(/[\\/]/).at(-2) ?? "experiment"}`;
    this.panel.webview.html = html.replaceAll(NONCE_PLACEHOLDER, nonce);
  }

  dispose(): void {
    if (ExperimentReportPanel.current === this) ExperimentReportPanel.current = undefined;
    this.watcher?.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
    this.panel.dispose();
  }
}

/** The report of codistill.yaml's experiment, or a message with the command that writes one. */
export async function openExperimentReport(ctx: CodistillContext, out?: string): Promise<void> {
  const folder = out ?? (await ctx.workspace.experiment())?.config?.experiment.out;
  if (!folder) {
    void vscode.window.showErrorMessage("Codistill: no codistill.yaml in this folder, so no experiment to report on.");
    return;
  }
  const file = join(folder, "report.html");
  if (!existsSync(file)) {
    const run = "Run Experiment";
    const answer = await vscode.window.showInformationMessage(`Codistill: no report yet in ${folder}: run the experiment first.`, run);
    if (answer === run) await vscode.commands.executeCommand("codistill.runExperiment");
    return;
  }
  await ExperimentReportPanel.show(ctx, file);
}
