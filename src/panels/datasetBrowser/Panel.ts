import { basename } from "node:path";
import * as vscode from "vscode";
import type { CodistillContext } from "../../context";
import type { DatasetIndex } from "../../core/datasets/api";
import { facetsOf } from "../../core/datasets/facets";
import type { DatasetRequest } from "../../core/datasets/registry";
import { PanelSlot } from "../shared/panelSlot";
import { PanelChannel } from "../shared/webviewHost";
import { openTaskInEditor } from "../../editor/taskEditor";
import {
  PANEL_ID,
  PANEL_TITLE,
  datasetBrowserValidators,
  encodeTask,
  type DatasetBrowserReplies,
  type DatasetBrowserToHost,
  type DatasetBrowserToWebview,
  type DatasetView,
  type LoadingView,
  type QueryParams,
  type RowsParams,
} from "./protocol";

const REJECTIONS_SHOWN = 200;

/** The Dataset Browser: one panel, showing one dataset at a time. */
export class DatasetBrowserPanel implements vscode.Disposable {
  private static readonly slot = new PanelSlot({ viewType: PANEL_ID, title: PANEL_TITLE, bundle: "datasetBrowser", create: (panel, ctx) => new DatasetBrowserPanel(panel, ctx) });
  private readonly disposables: vscode.Disposable[] = [];
  private readonly channel: PanelChannel<DatasetBrowserToHost, DatasetBrowserToWebview, DatasetBrowserReplies>;
  private request: DatasetRequest | undefined;
  private index: DatasetIndex | undefined;
  private loading: LoadingView | undefined;
  private matches: number[] = [];
  private selected: number | undefined;

  static get active(): DatasetBrowserPanel | undefined {
    return DatasetBrowserPanel.slot.active;
  }

  /** Shows the panel and loads `request` into it, with cancellable progress. */
  static async open(ctx: CodistillContext, request: DatasetRequest): Promise<DatasetBrowserPanel> {
    const panel = DatasetBrowserPanel.show(ctx);
    await panel.load(request);
    return panel;
  }

  static show(ctx: CodistillContext): DatasetBrowserPanel {
    return DatasetBrowserPanel.slot.show(ctx);
  }

  static revive(panel: vscode.WebviewPanel, ctx: CodistillContext): void {
    DatasetBrowserPanel.slot.revive(panel, ctx);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly ctx: CodistillContext,
  ) {
    this.channel = new PanelChannel<DatasetBrowserToHost, DatasetBrowserToWebview, DatasetBrowserReplies>(
      panel.webview,
      datasetBrowserValidators,
      {
        "datasetBrowser/ready": () => this.pushCurrent(),
        "datasetBrowser/query": (p) => this.query(p),
        "datasetBrowser/rows": (p) => this.rows(p),
        "datasetBrowser/task": (p) => this.task(p.index),
        "datasetBrowser/openInEditor": (p) => this.openInEditor(p.index),
        "datasetBrowser/openDataset": () => vscode.commands.executeCommand("codistill.openDataset"),
      },
      ctx.log,
    );
    this.disposables.push(this.channel, panel.onDidDispose(() => this.dispose()));
  }

  /** The dataset shown and the task selected in it, for "Open Task in Editor". */
  get selection(): { request: DatasetRequest; index: DatasetIndex; selected: number | undefined } | undefined {
    return this.request && this.index ? { request: this.request, index: this.index, selected: this.selected } : undefined;
  }

  /**
   * Shows the first page as soon as it is indexed; the rest of a large file is indexed in the
   * background, with cancellable progress, and the panel is updated when it is done.
   */
  async load(request: DatasetRequest): Promise<void> {
    this.request = request;
    this.index = undefined;
    this.matches = [];
    this.selected = undefined;
    this.panel.title = `${PANEL_TITLE}: ${request.name}`;
    let index: DatasetIndex;
    try {
      index = await this.indexWithProgress(request);
    } catch (err) {
      const message = `Could not open ${request.path}: ${(err as Error).message}`;
      this.ctx.log.error(message);
      void this.channel.notify("datasetBrowser/error", { message });
      void vscode.window.showErrorMessage(message);
      return;
    }
    if (this.request !== request) return;
    this.index = index;
    await this.pushCurrent();
    index.whenIndexed().then(
      async () => {
        if (this.index !== index) return;
        this.loading = undefined;
        const stats = index.stats();
        this.ctx.log.info(`dataset ${request.name}: ${stats.rows} loaded, ${stats.rejected.length} rejected (${request.path})`);
        for (const r of stats.rejected.slice(0, 20)) this.ctx.log.warn(`  rejected ${r.where}${r.field ? ` [${r.field}]` : ""}: ${r.reason}`);
        await this.pushCurrent();
      },
      (err: Error) => {
        if (this.index !== index) return;
        const message = `Indexing ${request.path} stopped: ${err.message}`;
        this.ctx.log.error(message);
        void this.channel.notify("datasetBrowser/error", { message });
      },
    );
  }

  /** Resolves with the index at its first page; the progress notification stays until it is whole. */
  private indexWithProgress(request: DatasetRequest): Promise<DatasetIndex> {
    return new Promise((resolve, reject) => {
      void vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Codistill: indexing ${request.name}`, cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          let reported = 0;
          try {
            const index = await this.ctx.datasets.get(request, {
              signal: abort.signal,
              onProgress: (rowsRead, bytesRead, totalBytes) => {
                this.loading = { path: request.path, rowsRead, bytesRead, totalBytes };
                void this.channel.notify("datasetBrowser/loading", this.loading);
                const percent = totalBytes > 0 ? Math.floor((bytesRead / totalBytes) * 100) : 0;
                progress.report({ message: `${rowsRead.toLocaleString()} rows`, increment: percent - reported });
                reported = percent;
              },
            });
            resolve(index);
            await index.whenIndexed().catch(() => undefined);
          } catch (err) {
            reject(err);
          } finally {
            this.loading = undefined;
          }
        },
      );
    });
  }

  private async pushCurrent(): Promise<void> {
    if (this.loading) void this.channel.notify("datasetBrowser/loading", this.loading);
    if (!this.request || !this.index) return;
    const rejected = this.index.rejected;
    const view: DatasetView = {
      path: this.request.path,
      name: this.request.name,
      format: this.index.format,
      rows: this.index.summaries.length,
      complete: this.index.complete,
      rejectedCount: rejected.length,
      rejected: rejected.slice(0, REJECTIONS_SHOWN),
      facets: facetsOf(this.index.summaries),
    };
    await this.channel.notify("datasetBrowser/dataset", view);
  }

  private query({ filter }: QueryParams): DatasetBrowserReplies["datasetBrowser/query"] {
    const index = this.requireIndex();
    this.matches = index.search(filter);
    return { matched: this.matches.length, total: index.summaries.length };
  }

  private rows({ start, count }: RowsParams): DatasetBrowserReplies["datasetBrowser/rows"] {
    const index = this.requireIndex();
    const rows = this.matches.slice(start, start + count).map((i) => index.summaries[i]!);
    return { start, rows };
  }

  private async task(i: number): Promise<DatasetBrowserReplies["datasetBrowser/task"]> {
    const index = this.requireIndex();
    if (i >= index.summaries.length) throw new Error(`task ${i} is out of range (the dataset has ${index.summaries.length})`);
    this.selected = i;
    return { task: encodeTask(await index.task(i)), cot: null };
  }

  private async openInEditor(i: number): Promise<void> {
    const index = this.requireIndex();
    this.selected = i;
    await openTaskInEditor(this.ctx.workspace, this.request!, await index.task(i));
  }

  private requireIndex(): DatasetIndex {
    if (!this.index) throw new Error("no dataset is loaded yet");
    return this.index;
  }

  dispose(): void {
    DatasetBrowserPanel.slot.release(this);
    while (this.disposables.length) this.disposables.pop()?.dispose();
    this.panel.dispose();
  }
}

export function defaultDatasetName(path: string): string {
  return basename(path).replace(/\.(jsonl|json|parquet)(\.gz)?$/i, "");
}
