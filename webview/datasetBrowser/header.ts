// The top of the panel: the dataset's name, format and counts, the rejections, the loading
// progress, errors, the CoT set reviewed, and "Open Dataset…".
import type { CotStateView, DatasetView, LoadingView } from "../../src/panels/datasetBrowser/protocol";
import { el } from "../shared/host";
import { button } from "../shared/toolkit";
import { chip, count, plural } from "./format";

export class Header {
  readonly element: HTMLElement;
  private readonly title: HTMLElement;
  private readonly format: HTMLElement;
  private readonly counts: HTMLElement;
  private readonly rejections: HTMLElement;
  private readonly loading: HTMLElement;
  private readonly loadingText: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly error: HTMLElement;
  private readonly errorText: HTMLElement;
  /** The CoT set reviewed: the sets of .codistill/cots, and "none". */
  readonly cotSet: HTMLSelectElement;

  constructor(onOpenDataset: () => void, onCotSet: (name: string | null) => void) {
    this.title = el("h1", { className: "dsb-name", text: "Datasets", testId: "dataset-name" });
    this.format = chip("", "dsb-format");
    this.format.dataset.testid = "dataset-format";
    this.format.hidden = true;
    this.counts = el("span", { className: "dsb-counts", testId: "dataset-counts" });
    const open = button("Open Dataset…", onOpenDataset, "secondary");
    open.dataset.testid = "open-dataset";
    open.title = "Open a dataset file (JSONL, JSON or Parquet)";
    this.cotSet = el("select", { className: "dsb-select", id: "dsb-cot-set", testId: "cot-set-select" });
    this.cotSet.title = "The CoT set whose reasoning the browser shows and reviews (.codistill/cots)";
    this.cotSet.addEventListener("change", () => onCotSet(this.cotSet.value === "" ? null : this.cotSet.value));
    const cotLabel = el("label", { className: "dsb-cot-set-label", text: "CoT set" });
    cotLabel.htmlFor = this.cotSet.id;
    this.setCotState({ sets: [], selected: null, reason: "default", counts: null });
    this.rejections = el("section", { className: "dsb-rejections", id: "dsb-rejections", testId: "rejections" });
    this.rejections.hidden = true;

    this.loadingText = el("span", { testId: "loading-text" });
    this.bar = el("div", { className: "dsb-progress-bar" });
    const track = el("div", { className: "dsb-progress" }, this.bar);
    track.setAttribute("role", "progressbar");
    track.setAttribute("aria-label", "Loading the dataset");
    this.loading = el("div", { className: "dsb-loading", testId: "loading" }, el("span", { className: "dsb-spinner" }), this.loadingText, track);
    this.loading.hidden = true;

    this.errorText = el("pre", {});
    const dismiss = el("button", { className: "dsb-link", text: "Dismiss", testId: "error-dismiss" });
    dismiss.type = "button";
    dismiss.addEventListener("click", () => this.clearError());
    this.error = el("div", { className: "callout error dsb-error", testId: "error" }, this.errorText, dismiss);
    this.error.setAttribute("role", "alert");
    this.error.hidden = true;

    this.element = el(
      "header",
      { className: "dsb-header", testId: "header" },
      el(
        "div",
        { className: "dsb-header-main" },
        el("div", { className: "dsb-title" }, this.title, this.format, this.counts),
        el("div", { className: "dsb-header-actions" }, el("span", { className: "dsb-cot-set", testId: "cot-set" }, cotLabel, this.cotSet), open),
      ),
      this.rejections,
      this.loading,
      this.error,
    );
  }

  setDataset(view: DatasetView): void {
    this.title.textContent = view.name;
    this.title.title = view.path;
    this.format.textContent = view.format;
    this.format.hidden = false;
    const loaded = el("span", { testId: "loaded-count", text: `${count(view.rows)} loaded` });
    loaded.dataset.count = String(view.rows);
    this.rejections.hidden = true;
    if (view.rejectedCount === 0) {
      const none = el("span", { testId: "rejected-count", text: "0 rejected" });
      none.dataset.count = "0";
      this.counts.replaceChildren(loaded, ", ", none);
      this.rejections.replaceChildren();
      return;
    }
    const toggle = el("button", { className: "dsb-link", testId: "rejected-count", text: `${count(view.rejectedCount)} rejected` });
    toggle.type = "button";
    toggle.dataset.count = String(view.rejectedCount);
    toggle.title = "Show why rows were rejected";
    toggle.setAttribute("aria-expanded", "false");
    toggle.setAttribute("aria-controls", this.rejections.id);
    toggle.addEventListener("click", () => {
      this.rejections.hidden = !this.rejections.hidden;
      toggle.setAttribute("aria-expanded", String(!this.rejections.hidden));
    });
    this.counts.replaceChildren(loaded, ", ", toggle);

    const items = view.rejected.map((r) => {
      const li = el("li", { testId: "rejection" }, el("span", { className: "dsb-where", text: r.where }), ": ");
      if (r.field) li.append(el("code", { text: r.field }), ": ");
      li.append(r.reason);
      return li;
    });
    const shown = view.rejected.length < view.rejectedCount
      ? [el("p", { className: "dsb-note", text: `The first ${plural(view.rejected.length, "rejection")} of ${count(view.rejectedCount)}:` })]
      : [];
    this.rejections.replaceChildren(
      el("h2", { text: "Rejected rows" }),
      ...shown,
      el("ul", {}, ...items),
    );
  }

  /** The sets offered and the one reviewed. */
  setCotState(state: CotStateView): void {
    const none = el("option", { text: "none" });
    none.value = "";
    const options = [none, ...state.sets.map((name) => {
      const option = el("option", { text: name });
      option.value = name;
      return option;
    })];
    this.cotSet.replaceChildren(...options);
    this.cotSet.value = state.selected ?? "";
    this.cotSet.dataset.selected = state.selected ?? "";
  }

  setLoading(progress: LoadingView | undefined): void {
    this.loading.hidden = !progress;
    if (!progress) return;
    const name = progress.path.split(/[\\/]/).pop() || progress.path;
    const percent = progress.totalBytes > 0 ? Math.min(100, Math.round((progress.bytesRead / progress.totalBytes) * 100)) : undefined;
    this.loadingText.textContent = `Loading ${name}: ${plural(progress.rowsRead, "row")} read${percent !== undefined ? `, ${percent}%` : ""}`;
    this.loading.title = progress.path;
    const track = this.bar.parentElement!;
    if (percent === undefined) {
      track.classList.add("dsb-progress-indeterminate");
      track.removeAttribute("aria-valuenow");
    } else {
      track.classList.remove("dsb-progress-indeterminate");
      this.bar.style.width = `${percent}%`;
      track.setAttribute("aria-valuenow", String(percent));
    }
  }

  showError(message: string): void {
    this.errorText.textContent = message;
    this.error.hidden = false;
  }

  clearError(): void {
    this.error.hidden = true;
    this.errorText.textContent = "";
  }
}
