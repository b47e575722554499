// The Dataset Browser panel: a searchable, filterable, virtualized list of a dataset's tasks
// beside the selected task in full. Messages: src/panels/datasetBrowser/protocol.ts.
import type { TaskFilter } from "../../src/core/datasets/api";
import type {
  CotAction,
  CotFilter,
  CotMark,
  CotStateView,
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

/** Review keys: one key per task; Accept and Reject go on to the next task. */
const REVIEW_KEYS: Record<string, CotAction> = { a: "accept", r: "reject", e: "edit", g: "regenerate" };
const MOVE_KEYS: Record<string, number> = { j: 1, n: 1, k: -1, p: -1 };
/** Where keys are text, not shortcuts. */
const TYPING = "input, textarea, select, [contenteditable], vscode-text-field, vscode-text-area, vscode-dropdown";

const sameCounts = (a: CotStateView["counts"], b: CotStateView["counts"]) => JSON.stringify(a) === JSON.stringify(b);

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
  /** The CoT sets, the one reviewed and the counts, as the host last said. */
  private cotState: CotStateView | undefined;
  /** The list's CoT badges by dataset index, from the rows and the host's pushes. */
  private readonly marks = new Map<number, CotMark | null>();
  /** Tasks whose reasoning is being regenerated. */
  private readonly regenerating = new Set<number>();

  private readonly saveSoon = debounce(() => this.save(), SAVE_DELAY_MS);
  private readonly loadTaskSoon = debounce((index: number) => void this.loadTask(index), TASK_DELAY_MS);

  constructor(app: HTMLElement) {
    this.restoreFrom = this.host.state;
    this.listWidth = this.restoreFrom?.listWidth;

    this.header = new Header(
      () => this.host.notify("datasetBrowser/openDataset"),
      (name) => void this.chooseCotSet(name),
    );
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
      mark: (index) => this.marks.get(index),
    });
    this.detail = new DetailView({
      openInEditor: (index) => this.openInEditor(index),
      solutionTab: (tab) => {
        this.solutionTab = tab;
        this.save();
      },
      cotAction: (index, action) => {
        if (action === "accept" || action === "reject") this.review(action, index);
        else void this.cotAction(index, action);
      },
      regenerating: (index) => this.regenerating.has(index),
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
    this.host.on("datasetBrowser/cotState", (state) => this.onCotState(state));
    this.host.on("datasetBrowser/cotMarks", ({ set, changes }) => {
      if (set !== this.cotState?.selected) return;
      for (const [index, mark] of changes) this.marks.set(index, mark);
      this.list.invalidate();
    });
    this.host.on("datasetBrowser/cot", ({ index, set, cot }) => this.detail.updateCot(index, set, cot));
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
    let cotFilter: CotFilter = "any";
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
      cotFilter = saved.cotFilter ?? "any";
      // The set picked before, unless the host was asked for one (openDataset's argument).
      const state = this.cotState;
      if (saved.cotSet !== undefined && state?.reason === "default" && saved.cotSet !== state.selected && (saved.cotSet === null || state.sets.includes(saved.cotSet))) {
        await this.chooseCotSet(saved.cotSet, false);
      }
    } else if (previous && previous.path === view.path) {
      // The same file again (reloaded): a fresh query, but keep what was typed and the status filter.
      const text = this.filters.filter.text;
      if (text) filter = { text };
      cotFilter = this.filters.cotFilter;
    }
    this.filters.setFilter(filter);
    this.filters.setCotFilter(cotFilter);
    this.marks.clear();
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
      result = await this.host.request("datasetBrowser/query", { filter, cot: this.filters.cotFilter });
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
      async (start, n) => {
        const answer = await this.host.request("datasetBrowser/rows", { start, count: n });
        if (this.cache === cache) answer.rows.forEach((row, k) => this.marks.set(row.index, answer.marks[k] ?? null));
        return answer;
      },
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
    const filtered = Boolean(filter.text || filter.sources?.length || filter.difficulties?.length || filter.tags?.length || this.filters.cotFilter !== "any");
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
      const { task, cot, cotSet } = await this.host.request("datasetBrowser/task", { index });
      if (token !== this.taskToken) return;
      this.detail.show(index, task, cot, cotSet, this.solutionTab);
    } catch (err) {
      if (token === this.taskToken) this.detail.showError(`Could not load task ${index + 1}: ${errorMessage(err)}`);
    }
  }

  private openInEditor(index: number): void {
    this.host.notify("datasetBrowser/openInEditor", { index });
  }

  // ---- the CoT set reviewed

  private onCotState(state: CotStateView): void {
    const previous = this.cotState;
    this.cotState = state;
    this.header.setCotState(state);
    this.filters.setCotCounts(state.counts, state.selected !== null);
    if (previous?.selected !== state.selected) {
      this.marks.clear();
      this.list.invalidate();
    } else if (this.view && !this.loadingPath && this.filters.cotFilter !== "any" && !sameCounts(previous.counts, state.counts)) {
      // Tasks may have come into or left the status filter: query again, keeping the place.
      void this.runQuery(this.filters.filter, this.list.element.scrollTop, this.selectedPosition);
    }
  }

  /** Reviews `name` (null: none): the list's badges, the filter's counts and the task shown follow. */
  private async chooseCotSet(name: string | null, requery = true): Promise<void> {
    let state: CotStateView;
    try {
      state = await this.host.request("datasetBrowser/selectCotSet", { name });
    } catch (err) {
      this.header.showError(`Could not open the CoT set ${name}: ${errorMessage(err)}`);
      if (this.cotState) this.header.setCotState(this.cotState);
      return;
    }
    this.onCotState(state);
    this.save();
    if (!requery || !this.view) return;
    await this.runQuery(this.filters.filter, this.list.element.scrollTop, this.selectedPosition);
    if (this.selectedIndex !== undefined) void this.loadTask(this.selectedIndex);
  }

  /** Accept or Reject the task's reasoning, then go to the next task (the shown one only: a click elsewhere does not move). */
  private review(action: "accept" | "reject", index = this.selectedIndex): void {
    if (index === undefined) return;
    const shown = this.detail.cotOf(index);
    // Known to have nothing to judge: no record, or a failed one. Not shown yet: the host decides.
    if (shown && !shown.cot?.canReview) return;
    void this.cotAction(index, action);
    if (index === this.selectedIndex) void this.move(1);
  }

  private async cotAction(index: number, action: CotAction): Promise<void> {
    const set = this.cotState?.selected;
    if (!set) {
      this.header.showError("No CoT set is reviewed: pick one in the header (CoT set) first.");
      return;
    }
    if (action === "edit" && this.detail.cotOf(index) && !this.detail.cotOf(index)?.cot) return;
    if (action === "regenerate") {
      if (this.regenerating.has(index)) return;
      this.regenerating.add(index);
      this.detail.refreshCot(index);
    }
    let cot: DatasetBrowserReplies["datasetBrowser/cotAction"]["cot"] = null;
    try {
      cot = (await this.host.request("datasetBrowser/cotAction", { index, action })).cot;
    } catch (err) {
      const verb = { accept: "accept", reject: "reject", edit: "edit", regenerate: "regenerate" }[action];
      this.header.showError(`Could not ${verb} the reasoning of task ${index + 1}: ${errorMessage(err)}`);
    } finally {
      if (action === "regenerate") this.regenerating.delete(index);
    }
    if (cot) {
      this.marks.set(index, cot.review ? { bucket: cot.bucket, review: cot.review.decision } : { bucket: cot.bucket });
      this.list.invalidate();
      this.detail.updateCot(index, set, cot);
    } else if (action === "regenerate") {
      this.detail.refreshCot(index);
    }
  }

  /** Selects the task `delta` rows away in the list (j/n, k/p, and after Accept/Reject). */
  private async move(delta: number): Promise<void> {
    const cache = this.cache;
    if (!cache || cache.count === 0) return;
    let position = this.selectedPosition;
    if (position === undefined && this.selectedIndex !== undefined) position = await cache.locate(this.selectedIndex);
    if (this.cache !== cache) return;
    const target = position === undefined ? this.list.firstVisible : Math.min(cache.count - 1, Math.max(0, position + delta));
    if (target === position) return;
    await this.select(target);
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
    const typing = target?.closest(TYPING) != null;
    if (!typing && !e.ctrlKey && !e.metaKey && !e.altKey && !e.shiftKey) {
      // A held review key acts once; a held move key keeps moving.
      const action = e.repeat ? undefined : REVIEW_KEYS[e.key];
      const delta = MOVE_KEYS[e.key];
      if (action || (e.repeat && REVIEW_KEYS[e.key])) {
        e.preventDefault();
        if (!action) return;
        if (this.selectedIndex === undefined) return;
        if (action === "accept" || action === "reject") this.review(action);
        else void this.cotAction(this.selectedIndex, action);
        return;
      }
      if (delta !== undefined) {
        e.preventDefault();
        void this.move(delta);
        return;
      }
    }
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
      ...(this.cotState && this.cotState.reason !== "default" ? { cotSet: this.cotState.selected } : {}),
      cotFilter: this.filters.cotFilter,
    };
  }
}

registerToolkit();
new DatasetBrowser(document.getElementById("app")!);
