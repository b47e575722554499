import { basename, dirname } from "node:path";
import * as vscode from "vscode";
import type { CodistillContext } from "../../context";
import { listCotSets } from "../../core/cot/cotSets";
import type { CotStore } from "../../core/cot/store";
import type { DatasetIndex } from "../../core/datasets/api";
import { facetsOf } from "../../core/datasets/facets";
import type { DatasetRequest } from "../../core/datasets/registry";
import { PanelSlot } from "../shared/panelSlot";
import { PanelChannel } from "../shared/webviewHost";
import { openTaskInEditor } from "../../editor/taskEditor";
import { cotFilterCounts, cotMarkOf, cotViewOf, defaultCotSet, filterByCot, markKey } from "./cotView";
import {
  PANEL_ID,
  PANEL_TITLE,
  datasetBrowserValidators,
  encodeTask,
  type DatasetBrowserReplies,
  type DatasetBrowserToHost,
  type DatasetBrowserToWebview,
  type CotAction,
  type CotMark,
  type CotSetReason,
  type CotStateView,
  type CotView,
  type DatasetView,
  type LoadingView,
  type QueryParams,
  type RowsParams,
} from "./protocol";

const REJECTIONS_SHOWN = 200;
/** Changes to the set reviewed (a generation appends a record per task) are pushed at most this often. */
const COT_REFRESH_MS = 150;

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
  /** The CoT set reviewed, null for none, and why it is that one. */
  private cotSet: string | null = null;
  private cotReason: CotSetReason = "default";
  private cotSets: string[] = [];
  /** What the webview was last told of each task's record (markKey by dataset index), to push only changes. */
  private marksSeen: string[] = [];
  private cotRefresh: Promise<void> = Promise.resolve();
  private cotTimer: ReturnType<typeof setTimeout> | undefined;
  private relistPending = false;
  /** Regenerations in flight, by task index; aborted when the panel closes. */
  private readonly regenerating = new Map<number, AbortController>();

  static get active(): DatasetBrowserPanel | undefined {
    return DatasetBrowserPanel.slot.active;
  }

  /** Shows the panel and loads `request` into it, with cancellable progress. */
  static async open(ctx: CodistillContext, request: DatasetRequest, cotSet?: string): Promise<DatasetBrowserPanel> {
    const panel = DatasetBrowserPanel.show(ctx);
    await panel.load(request, cotSet);
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
        "datasetBrowser/cotAction": (p) => this.cotAction(p.index, p.action),
        "datasetBrowser/selectCotSet": (p) => this.selectCotSet(p.name),
      },
      ctx.log,
    );
    // The set reviewed changes when this window appends to it (a review, an edit saved, a
    // generation run) and when another process does (the CLI): the watcher sees the file.
    const watcher = vscode.workspace.createFileSystemWatcher("**/.codistill/cots/*.jsonl");
    const onFile = (uri: vscode.Uri) => this.cotFileChanged(uri);
    this.disposables.push(
      this.channel,
      panel.onDidDispose(() => this.dispose()),
      ctx.reasoning.onDidChangeSet((name) => {
        if (name === this.cotSet) this.refreshCotSoon();
      }),
      watcher,
      watcher.onDidCreate(onFile),
      watcher.onDidChange(onFile),
      watcher.onDidDelete(onFile),
    );
  }

  /** The dataset shown and the task selected in it, for "Open Task in Editor". */
  get selection(): { request: DatasetRequest; index: DatasetIndex; selected: number | undefined } | undefined {
    return this.request && this.index ? { request: this.request, index: this.index, selected: this.selected } : undefined;
  }

  /**
   * Shows the first page as soon as it is indexed; the rest of a large file is indexed in the
   * background, with cancellable progress, and the panel is updated when it is done.
   */
  async load(request: DatasetRequest, cotSet?: string): Promise<void> {
    const samePath = this.request?.path === request.path;
    this.request = request;
    this.index = undefined;
    this.matches = [];
    this.selected = undefined;
    this.marksSeen = [];
    if (cotSet !== undefined && this.validSetName(cotSet)) {
      this.cotSet = cotSet;
      this.cotReason = "requested";
    } else if (!samePath || this.cotReason === "default") {
      // Chosen for another dataset, or the default: the default of this one is worked out once it is indexed.
      this.cotSet = null;
      this.cotReason = "default";
    }
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
    if (this.cotReason === "default") await this.pickDefaultCotSet(request, index);
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
    // The CoT state first: the webview's query after "dataset" filters by it.
    await this.channel.notify("datasetBrowser/cotState", await this.cotState(true));
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

  private async query({ filter, cot }: QueryParams): Promise<DatasetBrowserReplies["datasetBrowser/query"]> {
    const index = this.requireIndex();
    const found = index.search(filter);
    const store = cot && cot !== "any" ? await this.cotStore() : undefined;
    this.matches = filterByCot(found, cot ?? "any", (i) => store?.entry(index.summaries[i]!.id));
    return { matched: this.matches.length, total: index.summaries.length };
  }

  private async rows({ start, count }: RowsParams): Promise<DatasetBrowserReplies["datasetBrowser/rows"]> {
    const index = this.requireIndex();
    const rows = this.matches.slice(start, start + count).map((i) => index.summaries[i]!);
    const store = await this.cotStoreOrNothing();
    return { start, rows, marks: rows.map((row) => cotMarkOf(store?.entry(row.id))) };
  }

  private async task(i: number): Promise<DatasetBrowserReplies["datasetBrowser/task"]> {
    const index = this.requireIndex();
    if (i >= index.summaries.length) throw new Error(`task ${i} is out of range (the dataset has ${index.summaries.length})`);
    this.selected = i;
    const task = encodeTask(await index.task(i));
    // A set that cannot be read still lets the task show; why it cannot is said in the header.
    const cot = await this.cotViewOfTask(i).catch((err: Error) => {
      void this.channel.notify("datasetBrowser/error", { message: `The reasoning of ${index.summaries[i]!.id} cannot be read from ${this.cotSet}: ${err.message}` });
      return null;
    });
    return { task, cot, cotSet: this.cotSet };
  }

  // ---- the CoT set reviewed

  /** The set's store; an error when it cannot be read. Undefined when no set is reviewed. */
  private async cotStore(): Promise<CotStore | undefined> {
    return this.cotSet === null ? undefined : this.ctx.reasoning.store(this.cotSet);
  }

  /** The set's store, or nothing when it cannot be read (the list still shows, without marks). */
  private async cotStoreOrNothing(): Promise<CotStore | undefined> {
    try {
      return await this.cotStore();
    } catch (err) {
      this.ctx.log.warn(`CoT set ${this.cotSet}: ${(err as Error).message}`);
      return undefined;
    }
  }

  private async cotViewOfTask(i: number): Promise<CotView | null> {
    const set = this.cotSet;
    const store = await this.cotStore();
    const id = this.index?.summaries[i]?.id;
    if (set === null || !store || id === undefined) return null;
    const record = await store.get(id);
    return record ? cotViewOf(record, set) : null;
  }

  /** `<dataset>-cots`, else the first set with a record of one of its tasks, else none. */
  private async pickDefaultCotSet(request: DatasetRequest, index: DatasetIndex): Promise<void> {
    this.cotSets = await this.listSets();
    const sets = this.cotSets.map((name) => ({ name, open: () => this.ctx.reasoning.store(name) }));
    this.cotSet = await defaultCotSet(request.name, sets, index.summaries.map((s) => s.id));
    this.cotReason = "default";
  }

  private validSetName(name: string): boolean {
    try {
      this.ctx.reasoning.setPath(name);
      return true;
    } catch (err) {
      void vscode.window.showErrorMessage(`Codistill: ${(err as Error).message}`);
      return false;
    }
  }

  private async listSets(): Promise<string[]> {
    const root = this.ctx.workspace.root;
    return root ? (await listCotSets(root)).map((s) => s.name) : [];
  }

  /** The sets (the one reviewed among them even when its file is gone), and the dataset's counts by status. */
  private async cotState(relist: boolean): Promise<CotStateView> {
    if (relist) this.cotSets = await this.listSets();
    const sets = this.cotSet !== null && !this.cotSets.includes(this.cotSet) ? [...this.cotSets, this.cotSet].sort() : this.cotSets;
    const index = this.index;
    let counts = null;
    if (index) {
      let store: CotStore | undefined;
      try {
        store = await this.cotStore();
      } catch (err) {
        // Counting a set that cannot be read would say "no reasoning" of every task: say why instead.
        const message = `The CoT set ${this.cotSet} cannot be read: ${(err as Error).message}`;
        this.ctx.log.warn(message);
        void this.channel.notify("datasetBrowser/error", { message });
      }
      const entries = index.summaries.map((s) => store?.entry(s.id));
      if (store || this.cotSet === null) counts = cotFilterCounts(entries);
      this.marksSeen = entries.map((e) => markKey(cotMarkOf(e), e?.line));
    }
    return { sets, selected: this.cotSet, reason: this.cotReason, counts };
  }

  private async selectCotSet(name: string | null): Promise<CotStateView> {
    if (name !== null) this.ctx.reasoning.setPath(name);
    this.cotSet = name;
    this.cotReason = "chosen";
    return this.cotState(true);
  }

  private cotFileChanged(uri: vscode.Uri): void {
    let dir: string;
    try {
      dir = this.ctx.reasoning.cotsDir();
    } catch {
      return;
    }
    if (dirname(uri.fsPath) !== dir) return;
    this.relistPending = true;
    this.refreshCotSoon();
  }

  /** Coalesces changes of the set: one refresh every COT_REFRESH_MS at most, one at a time. */
  private refreshCotSoon(): void {
    if (this.cotTimer) return;
    this.cotTimer = setTimeout(() => {
      this.cotTimer = undefined;
      const relist = this.relistPending;
      this.relistPending = false;
      this.cotRefresh = this.cotRefresh.then(() => this.refreshCot(relist)).catch((err: Error) => this.ctx.log.error(`dataset browser: CoT refresh: ${err.message}`));
    }, COT_REFRESH_MS);
  }

  /** Pushes the counts, the rows whose record changed, and the selected task's CoT when it changed. */
  private async refreshCot(relist: boolean): Promise<void> {
    const index = this.index;
    const set = this.cotSet;
    if (!index) return;
    const before = this.marksSeen;
    const state = await this.cotState(relist);
    if (this.index !== index || this.cotSet !== set) return;
    await this.channel.notify("datasetBrowser/cotState", state);
    if (set === null) return;
    const store = await this.cotStoreOrNothing();
    const changes: [number, CotMark | null][] = [];
    this.marksSeen.forEach((key, i) => {
      if (key !== before[i]) changes.push([i, cotMarkOf(store?.entry(index.summaries[i]!.id))]);
    });
    if (!changes.length) return;
    await this.channel.notify("datasetBrowser/cotMarks", { set, changes });
    const selected = this.selected;
    if (selected !== undefined && changes.some(([i]) => i === selected)) {
      const cot = await this.cotViewOfTask(selected).catch(() => null);
      if (this.selected === selected && this.cotSet === set) await this.channel.notify("datasetBrowser/cot", { index: selected, set, cot });
    }
  }

  private async cotAction(i: number, action: CotAction): Promise<DatasetBrowserReplies["datasetBrowser/cotAction"]> {
    const index = this.requireIndex();
    const summary = index.summaries[i];
    if (!summary) throw new Error(`task ${i} is out of range (the dataset has ${index.summaries.length})`);
    const set = this.cotSet;
    if (set === null) throw new Error("Pick a CoT set in the header first: no set is reviewed.");
    const reasoning = this.ctx.reasoning;
    switch (action) {
      case "accept":
      case "reject": {
        const entry = (await reasoning.store(set)).entry(summary.id);
        if (!entry) throw new Error(`${summary.id} has no reasoning in ${set} to ${action}.`);
        if (entry.bucket === "failed") throw new Error(`${summary.id}: the teacher gave no answer in ${set}; regenerate it before reviewing.`);
        const record = await reasoning.review(set, summary.id, action === "accept" ? "accepted" : "rejected");
        this.ctx.log.info(`reasoning ${set}: ${summary.id} ${record.review?.decision}`);
        return { cot: cotViewOf(record, set) };
      }
      case "edit": {
        await this.ctx.recordEditor.edit(set, summary.id);
        return { cot: null };
      }
      case "regenerate": {
        if (this.regenerating.has(i)) throw new Error(`${summary.id} is already being regenerated.`);
        const abort = new AbortController();
        this.regenerating.set(i, abort);
        try {
          const record = await reasoning.regenerate(set, await index.task(i), abort.signal);
          this.ctx.log.info(`reasoning ${set}: ${summary.id} regenerated (${record.status})`);
          return { cot: cotViewOf(record, set) };
        } finally {
          this.regenerating.delete(i);
        }
      }
    }
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
    clearTimeout(this.cotTimer);
    for (const abort of this.regenerating.values()) abort.abort(new Error("the Dataset Browser was closed"));
    while (this.disposables.length) this.disposables.pop()?.dispose();
    this.panel.dispose();
  }
}

export function defaultDatasetName(path: string): string {
  return basename(path).replace(/\.(jsonl|json|parquet)(\.gz)?$/i, "");
}
