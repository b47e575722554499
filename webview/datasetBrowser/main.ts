// The Dataset Browser panel: a searchable, filterable, virtualized list of a dataset's tasks
// beside the selected task in full. Messages: src/panels/datasetBrowser/protocol.ts.
import type { TaskFilter } from "../../src/core/datasets/api";
import type {
  DatasetBrowserReplies,
  DatasetBrowserState,
  DatasetBrowserToHost,
  DatasetBrowserToWebview,
  DatasetView,
  LoadingView,
} from "../../src/panels/datasetBrowser/protocol";
import { HostConnection, el } from "../shared/host";
import { button, registerToolkit } from "../shared/toolkit";
import { DetailView } from "./detail";
import { FilterPanel } from "./filters";
import { count, debounce } from "./format";
import { Header } from "./header";
import { RowCache } from "./rowCache";
import { Sash } from "./sash";
import { VirtualList } from "./virtualList";

/** What the panel keeps across hide/show: the protocol's state plus layout hints of its own. */
interface SavedState extends DatasetBrowserState {
  /** Where the selected task was in the list, tried before searching for it. */
  position?: number;
  /** Width of the list column in pixels, when the user dragged the divider. */
  listWidth?: number;
}

/** Selection changes faster than this (a held arrow key) ask for the task once. */
const TASK_DELAY_MS = 60;
const SAVE_DELAY_MS = 100;

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

class DatasetBrowser {
  private readonly host = new HostConnection<SavedState, DatasetBrowserToHost, DatasetBrowserToWebview, DatasetBrowserReplies>();
  private readonly header: Header;
  private readonly filters: FilterPanel;
  private readonly list: VirtualList;
  private readonly detail: DetailView;
  private readonly sash: Sash;
  private readonly matched: HTMLElement;
  private readonly body: HTMLElement;
  private readonly start: HTMLElement;
  private readonly startText: HTMLElement;

  private view: DatasetView | undefined;
  /** The dataset being loaded, between its first "loading" and its "dataset" (or "error"). */
  private loadingPath: string | undefined;
  /** The state saved before the webview was last destroyed; used for the first dataset only. */
  private restoreFrom: SavedState | undefined;
  private cache: RowCache | undefined;
  private generation = 0;
  private selectedIndex: number | undefined;
  private selectedPosition: number | undefined;
  private solutionTab = 0;
  private taskToken = 0;
  private listWidth: number | undefined;

  private readonly saveSoon = debounce(() => this.save(), SAVE_DELAY_MS);
  private readonly loadTaskSoon = debounce((index: number) => void this.loadTask(index), TASK_DELAY_MS);

  constructor(app: HTMLElement) {
    this.restoreFrom = this.host.state;
    this.listWidth = this.restoreFrom?.listWidth;

    this.header = new Header(() => this.host.notify("datasetBrowser/openDataset"));
    this.filters = new FilterPanel(
      (filter) => void this.runQuery(filter),
      () => this.enterList(),
    );
    this.list = new VirtualList({
      select: (position) => void this.select(position, true),
      open: (position) => {
        const row = this.cache?.get(position);
        if (row) this.openInEditor(row.index);
      },
      key: (event) => this.onListKey(event),
      scroll: () => this.saveSoon(),
      selectedSeen: (position) => {
        this.selectedPosition = position;
        this.saveSoon();
      },
    });
    this.detail = new DetailView({
      openInEditor: (index) => this.openInEditor(index),
      solutionTab: (tab) => {
        this.solutionTab = tab;
        this.save();
      },
    });
    this.matched = el("span", { className: "dsb-matched", testId: "matched" });
    this.matched.setAttribute("aria-live", "polite");
    const listHeader = el("div", { className: "dsb-list-header" }, this.matched, this.filters.clearButton);
    const left = el("div", { className: "dsb-left" }, this.filters.element, listHeader, this.list.element);
    this.sash = new Sash(left, (width) => {
      this.listWidth = width;
      this.save();
    });
    this.body = el("div", { className: "dsb-body" }, left, this.sash.element, this.detail.element);
    this.body.hidden = true;
    if (this.listWidth) this.sash.setWidth(this.listWidth);

    this.startText = el("p", { text: "No dataset is open." });
    const open = button("Open Dataset…", () => this.host.notify("datasetBrowser/openDataset"));
    open.dataset.testid = "start-open-dataset";
    this.start = el(
      "div",
      { className: "dsb-start", testId: "no-dataset" },
      this.startText,
      el("p", { className: "dsb-note", text: "TACO, MBPP, HumanEval, EvalPlus, Codistill task JSONL, or any JSONL/Parquet mapped in codistill.yaml." }),
      open,
    );

    app.classList.add("dataset-browser");
    document.body.classList.add("dataset-browser-page");
    app.replaceChildren(this.header.element, this.start, this.body);

    document.addEventListener("keydown", (e) => this.onGlobalKey(e));
    window.addEventListener("pagehide", () => this.saveSoon.flush());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") this.saveSoon.flush();
    });

    this.host.on("datasetBrowser/dataset", (view) => void this.onDataset(view));
    this.host.on("datasetBrowser/loading", (progress) => this.onLoading(progress));
    this.host.on("datasetBrowser/error", ({ message }) => {
      this.loadingPath = undefined;
      this.header.setLoading(undefined);
      if (!this.view) this.startText.textContent = "No dataset is open.";
      this.header.showError(message);
    });
    this.host.notify("datasetBrowser/ready");
  }

  // ---- host pushes

  private onLoading(progress: LoadingView): void {
    this.loadingPath = progress.path;
    this.header.setLoading(progress);
    if (!this.view) this.startText.textContent = "Loading the dataset…";
  }

  private async onDataset(view: DatasetView): Promise<void> {
    const previous = this.view;
    const saved = this.restoreFrom;
    this.restoreFrom = undefined;
    this.view = view;
    this.loadingPath = undefined;
    this.header.setLoading(undefined);
    this.header.clearError();
    this.header.setDataset(view);
    this.filters.setFacets(view.facets);
    this.start.hidden = true;
    this.body.hidden = false;

    let filter: TaskFilter = {};
    let scrollTop = 0;
    let selected: number | undefined;
    let hint: number | undefined;
    if (previous && previous.path === view.path && !previous.complete && !saved) {
      // The same load, further along (the rest of the file is indexed now): keep everything.
      const keptSelection = this.selectedIndex;
      await this.runQuery(this.filters.filter, this.list.element.scrollTop, this.selectedPosition);
      this.selectedIndex = keptSelection;
      return;
    }
    this.solutionTab = 0;
    if (saved && saved.path === view.path) {
      // The webview was destroyed while hidden: put everything back.
      filter = saved.filter ?? {};
      scrollTop = saved.scrollTop ?? 0;
      if (Number.isInteger(saved.selectedIndex) && saved.selectedIndex! < view.rows) selected = saved.selectedIndex;
      hint = saved.position;
      this.solutionTab = saved.solutionTab ?? 0;
    } else if (previous && previous.path === view.path) {
      // The same file again (reloaded): a fresh query, but keep what was typed.
      const text = this.filters.filter.text;
      if (text) filter = { text };
    }
    this.filters.setFilter(filter);
    this.loadTaskSoon.cancel();
    this.taskToken++;
    this.selectedIndex = selected;
    this.selectedPosition = undefined;
    if (selected === undefined) this.detail.showEmpty("Select a task to see it here.");
    else void this.loadTask(selected);
    await this.runQuery(filter, scrollTop, hint);
  }

  // ---- query and rows

  private async runQuery(filter: TaskFilter, scrollTop = 0, hint?: number): Promise<void> {
    if (!this.view) return;
    const generation = ++this.generation;
    // Rows carry no query id: once a new query is sent, answers for the old one may already hold
    // the new result, so the old cache stops asking and drops what comes back. It still shows
    // the rows it has until the new result arrives.
    this.cache?.dispose();
    this.matched.classList.add("dsb-busy");
    let result: DatasetBrowserReplies["datasetBrowser/query"];
    try {
      result = await this.host.request("datasetBrowser/query", { filter });
    } catch (err) {
      if (generation === this.generation) {
        this.matched.classList.remove("dsb-busy");
        // While another dataset loads the host has none to search; the "dataset" push re-queries.
        if (!this.loadingPath) this.header.showError(`Search failed: ${errorMessage(err)}`);
      }
      return;
    }
    if (generation !== this.generation) return;
    this.matched.classList.remove("dsb-busy");
    const cache: RowCache = new RowCache(
      result.matched,
      (start, n) => this.host.request("datasetBrowser/rows", { start, count: n }),
      () => {
        if (this.cache === cache) this.list.refresh();
      },
      (err) => {
        if (this.cache === cache && !this.loadingPath) this.header.showError(`Could not read the task list: ${err.message}`);
      },
    );
    this.cache = cache;
    this.showMatched(result.matched, result.total);
    // Positions change with the result: the selected task's is found again below (or drawn).
    this.selectedPosition = undefined;
    const filtered = Boolean(filter.text || filter.sources?.length || filter.difficulties?.length || filter.tags?.length);
    this.list.setCache(cache, scrollTop, filtered ? "No task matches the search and filters." : "This dataset has no tasks.", this.selectedIndex);
    this.save();
    if (this.selectedIndex !== undefined && this.selectedPosition === undefined) {
      const index = this.selectedIndex;
      const position = await cache.locate(index, hint);
      if (this.cache === cache && this.selectedIndex === index && this.selectedPosition === undefined && position !== undefined) {
        this.selectedPosition = position;
        this.list.setSelection(index, position);
        this.save();
      }
    }
  }

  private showMatched(matched: number, total: number): void {
    this.matched.textContent = `${count(matched)} / ${count(total)} tasks`;
    this.matched.title = matched === total ? "All tasks" : `${count(matched)} of ${count(total)} tasks match`;
    this.matched.dataset.matched = String(matched);
    this.matched.dataset.total = String(total);
  }

  // ---- selection

  /** Selects the row at `position`; keyboard moves (not `immediate`) ask for the task after a pause. */
  private async select(position: number, immediate = false): Promise<void> {
    const cache = this.cache;
    if (!cache || position < 0 || position >= cache.count) return;
    this.selectedPosition = position;
    let row = cache.get(position);
    this.list.setSelection(row?.index, position);
    this.list.reveal(position);
    if (!row) {
      row = await cache.load(position);
      if (!row || this.cache !== cache || this.selectedPosition !== position) return;
      this.list.setSelection(row.index, position);
    }
    if (row.index !== this.selectedIndex) {
      this.selectedIndex = row.index;
      this.solutionTab = 0;
      this.detail.showLoading();
      this.loadTaskSoon(row.index);
      if (immediate) this.loadTaskSoon.flush();
    }
    this.save();
  }

  private async loadTask(index: number): Promise<void> {
    const token = ++this.taskToken;
    this.detail.showLoading();
    try {
      const { task, cot } = await this.host.request("datasetBrowser/task", { index });
      if (token !== this.taskToken) return;
      this.detail.show(index, task, cot, this.solutionTab);
    } catch (err) {
      if (token === this.taskToken) this.detail.showError(`Could not load task ${index + 1}: ${errorMessage(err)}`);
    }
  }

  private openInEditor(index: number): void {
    this.host.notify("datasetBrowser/openInEditor", { index });
  }

  /** From the search box: focus the list, selecting the first row when nothing is selected there. */
  private enterList(): void {
    this.list.element.focus();
    if (this.selectedPosition === undefined && this.list.count > 0) void this.select(this.list.firstVisible);
  }

  private onListKey(e: KeyboardEvent): void {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const n = this.list.count;
    if (n === 0) return;
    const current = this.selectedPosition;
    const from = current ?? this.list.firstVisible;
    let target: number;
    switch (e.key) {
      case "ArrowDown":
        target = current === undefined ? from : from + 1;
        break;
      case "ArrowUp":
        target = current === undefined ? from : from - 1;
        break;
      case "PageDown":
        target = from + this.list.pageRows;
        break;
      case "PageUp":
        target = from - this.list.pageRows;
        break;
      case "Home":
        target = 0;
        break;
      case "End":
        target = n - 1;
        break;
      case "Enter":
      case " ":
        e.preventDefault();
        if (e.key === "Enter" && this.selectedIndex !== undefined && current !== undefined) this.openInEditor(this.selectedIndex);
        else if (current === undefined) void this.select(from);
        return;
      default:
        return;
    }
    e.preventDefault();
    void this.select(Math.min(n - 1, Math.max(0, target)));
  }

  private onGlobalKey(e: KeyboardEvent): void {
    if (!this.view) return;
    const target = e.target instanceof Element ? e.target : null;
    const typing = target?.closest("input, textarea, select, [contenteditable]") != null;
    if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "f") {
      e.preventDefault();
      this.filters.focusSearch();
    } else if (e.key === "/" && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      this.filters.focusSearch();
    }
  }

  // ---- state

  private save(): void {
    this.saveSoon.cancel();
    if (!this.view) return;
    this.host.state = {
      path: this.view.path,
      filter: this.filters.filter,
      selectedIndex: this.selectedIndex,
      scrollTop: this.list.element.scrollTop,
      solutionTab: this.solutionTab,
      position: this.selectedPosition,
      listWidth: this.listWidth,
    };
  }
}

registerToolkit();
new DatasetBrowser(document.getElementById("app")!);
