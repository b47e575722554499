// A listbox of fixed-height rows that keeps only the visible rows (and a few more) in the DOM,
// so it stays fluid with any number of tasks. Rows come from a RowCache; rows not fetched yet
// show as placeholders until their page arrives.
import type { TaskSummary } from "../../src/core/datasets/api";
import { COT_BUCKET_LABELS, type CotMark } from "../../src/panels/datasetBrowser/protocol";
import { difficultyBucket, difficultyLabel, testsLabel } from "./format";
import type { RowCache } from "./rowCache";

export const ROW_HEIGHT = 44;
const OVERSCAN = 8;

export interface VirtualListEvents {
  /** A row was clicked. */
  select(position: number): void;
  /** A row was double-clicked. */
  open(position: number): void;
  /** A navigation key was pressed in the list. */
  key(event: KeyboardEvent): void;
  scroll(scrollTop: number): void;
  /** The selected task was drawn at `position` (lets the owner learn where it is). */
  selectedSeen(position: number): void;
  /** The task's reasoning in the CoT set reviewed, for its badge; null or undefined draws none. */
  mark?(index: number): CotMark | null | undefined;
}

export class VirtualList {
  readonly element: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly rows = new Map<number, HTMLElement>();
  private readonly pool: HTMLElement[] = [];
  private cache: RowCache | undefined;
  private selectedIndex: number | undefined;
  private selectedPosition: number | undefined;
  private frame = 0;

  constructor(private readonly events: VirtualListEvents) {
    this.spacer = document.createElement("div");
    this.spacer.className = "dsb-list-spacer";
    this.spacer.setAttribute("role", "presentation");
    this.empty = document.createElement("div");
    this.empty.className = "dsb-list-empty";
    this.empty.dataset.testid = "list-empty";
    this.empty.hidden = true;
    this.element = document.createElement("div");
    this.element.className = "dsb-list";
    this.element.tabIndex = 0;
    this.element.setAttribute("role", "listbox");
    this.element.setAttribute("aria-label", "Tasks");
    this.element.dataset.testid = "task-list";
    this.element.append(this.spacer, this.empty);

    this.element.addEventListener("scroll", () => {
      this.schedule();
      this.events.scroll(this.element.scrollTop);
    }, { passive: true });
    this.element.addEventListener("keydown", (e) => this.events.key(e));
    this.element.addEventListener("mousedown", (e) => {
      const row = (e.target as Element).closest<HTMLElement>(".dsb-row");
      if (row && e.button === 0) this.events.select(Number(row.dataset.position));
    });
    this.element.addEventListener("dblclick", (e) => {
      const row = (e.target as Element).closest<HTMLElement>(".dsb-row");
      if (row) this.events.open(Number(row.dataset.position));
    });
    new ResizeObserver(() => this.schedule()).observe(this.element);
  }

  get count(): number {
    return this.cache?.count ?? 0;
  }

  /** Rows a PageUp/PageDown moves by. */
  get pageRows(): number {
    return Math.max(1, Math.floor(this.element.clientHeight / ROW_HEIGHT) - 1);
  }

  /** The first row whose top is in view. */
  get firstVisible(): number {
    return Math.min(Math.max(0, this.count - 1), Math.ceil(this.element.scrollTop / ROW_HEIGHT));
  }

  /**
   * Shows a new result; `scrollTop` restores a position (clamped to the new height). Where the
   * selected task is in it is not known yet: `selectedSeen` reports it once its row is drawn.
   */
  setCache(cache: RowCache, scrollTop: number, emptyText: string, selectedIndex: number | undefined): void {
    this.cache = cache;
    this.selectedIndex = selectedIndex;
    this.selectedPosition = undefined;
    for (const row of this.rows.values()) this.release(row);
    this.rows.clear();
    this.spacer.style.height = `${cache.count * ROW_HEIGHT}px`;
    this.empty.textContent = emptyText;
    this.empty.hidden = cache.count > 0;
    this.element.scrollTop = scrollTop;
    this.render();
  }

  setSelection(index: number | undefined, position: number | undefined): void {
    this.selectedIndex = index;
    this.selectedPosition = position;
    this.render();
  }

  /** Scrolls just enough to show the row at `position`. */
  reveal(position: number): void {
    const top = position * ROW_HEIGHT;
    const view = this.element;
    if (top < view.scrollTop) view.scrollTop = top;
    else if (top + ROW_HEIGHT > view.scrollTop + view.clientHeight) view.scrollTop = top + ROW_HEIGHT - view.clientHeight;
    this.render();
  }

  /** Redraws rows whose page just arrived. */
  refresh(): void {
    this.schedule();
  }

  /** Redraws every row drawn (their CoT marks changed). */
  invalidate(): void {
    for (const row of this.rows.values()) delete row.dataset.key;
    this.schedule();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  render(): void {
    if (this.frame) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
    }
    const cache = this.cache;
    const count = cache?.count ?? 0;
    if (!cache || count === 0) {
      for (const row of this.rows.values()) this.release(row);
      this.rows.clear();
      this.element.removeAttribute("aria-activedescendant");
      return;
    }
    const top = this.element.scrollTop;
    const height = this.element.clientHeight || ROW_HEIGHT * 20;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(count - 1, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    for (const [position, row] of this.rows) {
      if (position < first || position > last) {
        this.release(row);
        this.rows.delete(position);
      }
    }
    let active: string | undefined;
    for (let position = first; position <= last; position++) {
      let row = this.rows.get(position);
      if (!row) {
        row = this.pool.pop() ?? this.createRow();
        this.rows.set(position, row);
        this.spacer.appendChild(row);
      }
      const summary = cache.get(position);
      const selected = summary ? summary.index === this.selectedIndex : position === this.selectedPosition;
      this.draw(row, position, summary, selected);
      if (selected) {
        active = row.id;
        if (summary && this.selectedPosition !== position) {
          this.selectedPosition = position;
          this.events.selectedSeen(position);
        }
      }
    }
    if (active) this.element.setAttribute("aria-activedescendant", active);
    else this.element.removeAttribute("aria-activedescendant");
    cache.want(first, last);
  }

  private createRow(): HTMLElement {
    const row = document.createElement("div");
    row.className = "dsb-row";
    row.setAttribute("role", "option");
    row.dataset.testid = "task-row";
    row.style.height = `${ROW_HEIGHT}px`;
    const title = document.createElement("div");
    title.className = "dsb-row-title";
    const meta = document.createElement("div");
    meta.className = "dsb-row-meta";
    const id = document.createElement("span");
    id.className = "dsb-row-id";
    const difficulty = document.createElement("span");
    difficulty.className = "dsb-difficulty";
    const cot = document.createElement("span");
    cot.className = "dsb-row-cot";
    cot.dataset.testid = "row-cot";
    const tests = document.createElement("span");
    tests.className = "dsb-row-tests";
    meta.append(id, difficulty, cot, tests);
    row.append(title, meta);
    return row;
  }

  private draw(row: HTMLElement, position: number, summary: TaskSummary | undefined, selected: boolean): void {
    const mark = summary ? this.events.mark?.(summary.index) : undefined;
    const key = `${position}|${summary ? summary.index : "-"}|${selected ? 1 : 0}|${mark ? `${mark.bucket}/${mark.review ?? ""}` : ""}`;
    if (row.dataset.key === key) return;
    row.dataset.key = key;
    row.id = `dsb-row-${position}`;
    row.dataset.position = String(position);
    row.style.transform = `translateY(${position * ROW_HEIGHT}px)`;
    row.setAttribute("aria-posinset", String(position + 1));
    row.setAttribute("aria-setsize", String(this.count));
    row.setAttribute("aria-selected", selected ? "true" : "false");
    const [title, meta] = row.children as unknown as [HTMLElement, HTMLElement];
    const [id, difficulty, cot, tests] = meta.children as unknown as [HTMLElement, HTMLElement, HTMLElement, HTMLElement];
    drawMark(cot, mark);
    if (!summary) {
      row.classList.add("dsb-row-placeholder");
      delete row.dataset.index;
      delete row.dataset.id;
      row.removeAttribute("aria-label");
      title.textContent = "Loading…";
      id.textContent = "";
      difficulty.textContent = "";
      difficulty.hidden = true;
      tests.textContent = "";
      return;
    }
    row.classList.remove("dsb-row-placeholder");
    row.dataset.index = String(summary.index);
    row.dataset.id = summary.id;
    title.textContent = summary.title || "(no title)";
    title.title = summary.title;
    id.textContent = summary.id;
    difficulty.hidden = !summary.difficulty;
    difficulty.textContent = summary.difficulty ? difficultyLabel(summary.difficulty) : "";
    difficulty.className = `dsb-difficulty dsb-difficulty-${difficultyBucket(summary.difficulty)}`;
    tests.textContent = testsLabel(summary.testKind, summary.testCount);
    row.setAttribute(
      "aria-label",
      `${summary.id}: ${summary.title}${summary.difficulty ? `, ${difficultyLabel(summary.difficulty)}` : ""}, ${summary.testKind} tests: ${summary.testCount}${mark ? `, reasoning ${COT_BUCKET_LABELS[mark.bucket]}${mark.review ? ` ${mark.review}` : ""}` : ""}`,
    );
  }

  private release(row: HTMLElement): void {
    row.remove();
    delete row.dataset.key;
    if (this.pool.length < 200) this.pool.push(row);
  }
}

/** The row's CoT badge: the status bucket and the review decision, or nothing. */
function drawMark(node: HTMLElement, mark: CotMark | null | undefined): void {
  node.hidden = !mark;
  if (!mark) {
    node.textContent = "";
    delete node.dataset.bucket;
    delete node.dataset.review;
    return;
  }
  const status = COT_BUCKET_LABELS[mark.bucket];
  node.textContent = mark.review ? `${status} · ${mark.review}` : status;
  node.className = `dsb-row-cot dsb-cot-${mark.bucket}${mark.review ? ` dsb-cot-review-${mark.review}` : ""}`;
  node.dataset.bucket = mark.bucket;
  if (mark.review) node.dataset.review = mark.review;
  else delete node.dataset.review;
  node.title = `Reasoning: ${status}${mark.review ? `, ${mark.review}` : ", not reviewed"}`;
}
