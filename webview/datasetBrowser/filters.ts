// The search box, the CoT status filter and the source / difficulty / tag filters above the task list.
import type { TaskFilter } from "../../src/core/datasets/api";
import { COT_FILTER_LABELS, COT_FILTERS, type CotFilter, type CotFilterCounts, type DatasetView, type Facet } from "../../src/panels/datasetBrowser/protocol";
import { el } from "../shared/host";
import { checkbox } from "../shared/toolkit";
import { count, countBadge, debounce, difficultyLabel } from "./format";

export const SEARCH_DEBOUNCE_MS = 150;
/** Facet values shown before "Show all". */
const FACET_PREVIEW = 12;

type FacetKey = "sources" | "difficulties" | "tags";

const FACETS: { key: FacetKey; label: string; hint: string }[] = [
  { key: "sources", label: "Source", hint: "any source" },
  { key: "difficulties", label: "Difficulty", hint: "any difficulty" },
  { key: "tags", label: "Tags", hint: "any tag" },
];

export class FilterPanel {
  readonly element: HTMLElement;
  readonly search: HTMLInputElement;
  private readonly facetsBox: HTMLElement;
  private readonly clear: HTMLButtonElement;
  /** The CoT status filter; shown while a CoT set is reviewed. */
  readonly cotSelect: HTMLSelectElement;
  private readonly cotRow: HTMLElement;
  private cotCounts: CotFilterCounts | null = null;
  private facets: DatasetView["facets"] = { sources: [], difficulties: [], tags: [] };
  private selected: Record<FacetKey, Set<string>> = { sources: new Set(), difficulties: new Set(), tags: new Set() };
  private readonly expanded = new Set<FacetKey>();
  private readonly showAll = new Set<FacetKey>();
  private readonly debouncedText = debounce(() => this.changed(), SEARCH_DEBOUNCE_MS);

  constructor(
    private readonly onChange: (filter: TaskFilter) => void,
    /** ArrowDown or Enter in the search box: move to the list. */
    private readonly onLeaveSearch: () => void,
  ) {
    this.search = document.createElement("input");
    this.search.type = "search";
    this.search.className = "dsb-search";
    this.search.placeholder = "Search titles and questions";
    this.search.setAttribute("aria-label", "Search tasks (/ or Ctrl+F)");
    this.search.title = "Search tasks: every word must match (/ or Ctrl+F)";
    this.search.spellcheck = false;
    this.search.autocomplete = "off";
    this.search.dataset.testid = "search";
    this.search.addEventListener("input", () => this.debouncedText());
    this.search.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.search.value) {
        e.preventDefault();
        this.search.value = "";
        this.debouncedText.cancel();
        this.changed();
      } else if (e.key === "ArrowDown" || e.key === "Enter") {
        e.preventDefault();
        this.debouncedText.flush();
        this.onLeaveSearch();
      }
    });

    this.clear = el("button", { className: "dsb-link", text: "Clear filters", testId: "clear-filters" });
    this.clear.type = "button";
    this.clear.hidden = true;
    this.clear.addEventListener("click", () => {
      this.setFilter({});
      this.setCotFilter("any");
      this.changed();
      this.search.focus();
    });
    this.cotSelect = el("select", { className: "dsb-select", id: "dsb-cot-filter", testId: "cot-filter" });
    this.cotSelect.title = "Show the tasks whose reasoning in the CoT set has this status or review decision (not reviewed: answers no one has accepted, rejected or edited yet)";
    this.cotSelect.addEventListener("change", () => this.changed());
    const cotLabel = el("label", { className: "dsb-facet-label", text: "Reasoning" });
    cotLabel.htmlFor = this.cotSelect.id;
    this.cotRow = el("div", { className: "dsb-cot-filter" }, cotLabel, this.cotSelect);
    this.cotRow.hidden = true;
    this.renderCotOptions("any");
    this.facetsBox = el("div", { className: "dsb-facets" });
    this.element = el("div", { className: "dsb-filters", testId: "filters" }, this.search, this.cotRow, this.facetsBox);
  }

  /** The CoT status filter; "any" while no set is reviewed. */
  get cotFilter(): CotFilter {
    if (this.cotRow.hidden) return "any";
    return COT_FILTERS.find((f) => f === this.cotSelect.value) ?? "any";
  }

  /** Sets the CoT status filter without reporting a change. */
  setCotFilter(filter: CotFilter): void {
    this.renderCotOptions(filter);
    this.updateClear();
  }

  /** Shows the filter with the dataset's counts per option while a set is reviewed (`counts`), hides it otherwise. */
  setCotCounts(counts: CotFilterCounts | null, reviewing: boolean): void {
    this.cotCounts = counts;
    this.cotRow.hidden = !reviewing;
    this.renderCotOptions(reviewing ? (this.cotSelect.value as CotFilter) || "any" : "any");
    this.updateClear();
  }

  private renderCotOptions(value: CotFilter): void {
    const options = COT_FILTERS.map((f) => {
      const option = el("option", { text: this.cotCounts ? `${COT_FILTER_LABELS[f]} (${count(this.cotCounts[f])})` : COT_FILTER_LABELS[f] });
      option.value = f;
      option.selected = f === value;
      return option;
    });
    this.cotSelect.replaceChildren(...options);
    this.cotSelect.value = value;
  }

  /** "Clear filters", placed by the owner beside the matched count. */
  get clearButton(): HTMLElement {
    return this.clear;
  }

  focusSearch(): void {
    this.search.focus();
    this.search.select();
  }

  get filter(): TaskFilter {
    const filter: TaskFilter = {};
    const text = this.search.value.trim();
    if (text) filter.text = text;
    for (const { key } of FACETS) {
      if (this.selected[key].size) filter[key] = [...this.selected[key]];
    }
    return filter;
  }

  /** Sets the controls without reporting a change. */
  setFilter(filter: TaskFilter): void {
    this.debouncedText.cancel();
    this.search.value = filter.text ?? "";
    for (const { key } of FACETS) this.selected[key] = new Set(filter[key] ?? []);
    this.renderFacets();
  }

  setFacets(facets: DatasetView["facets"]): void {
    this.facets = facets;
    this.showAll.clear();
    this.renderFacets();
  }

  private changed(): void {
    this.updateClear();
    this.onChange(this.filter);
  }

  private updateClear(): void {
    const f = this.filter;
    this.clear.hidden = !(f.text || f.sources || f.difficulties || f.tags || this.cotFilter !== "any");
  }

  private renderFacets(): void {
    this.updateClear();
    const sections: HTMLElement[] = [];
    for (const { key, label, hint } of FACETS) {
      const values = this.facets[key];
      // Values selected but not in the facets (restored from an older state) stay visible.
      const extra = [...this.selected[key]].filter((v) => !values.some(([value]) => value === v));
      const all: Facet = [...values, ...extra.map((v): [string, number] => [v, 0])];
      // Every facet the dataset has is shown, even with a single value: the source always (it says
      // what the dataset is), difficulty and tags where the tasks have them (TACO, not HumanEval or MBPP).
      if (all.length === 0) continue;
      sections.push(this.facetSection(key, label, hint, all));
    }
    this.facetsBox.replaceChildren(...sections);
  }

  private facetSection(key: FacetKey, label: string, hint: string, values: Facet): HTMLElement {
    const selected = this.selected[key];
    const summaryValue = el("span", { className: "dsb-facet-value" });
    const summaryCount = el("span", { className: "dsb-facet-count" });
    const updateSummary = () => {
      summaryValue.textContent = selected.size ? [...selected].map((v) => this.display(key, v)).join(", ") : hint;
      summaryCount.replaceChildren(...(selected.size ? [countBadge(String(selected.size))] : []));
    };
    updateSummary();
    const summary = el("summary", {}, el("span", { className: "dsb-facet-label", text: label }), summaryValue, summaryCount);
    const details = el("details", { className: "dsb-facet", testId: `facet-${key}` }, summary);
    details.open = this.expanded.has(key);
    details.addEventListener("toggle", () => {
      if (details.open) this.expanded.add(key);
      else this.expanded.delete(key);
    });
    const shown = this.showAll.has(key) || values.length <= FACET_PREVIEW + 2 ? values : values.slice(0, FACET_PREVIEW);
    const options = el("div", { className: "dsb-facet-options" });
    options.setAttribute("role", "group");
    options.setAttribute("aria-label", label);
    for (const [value, n] of shown) {
      const text = this.display(key, value);
      const labelNode = el("span", { className: "dsb-facet-option" }, el("span", { text }), el("span", { className: "dsb-count", text: count(n) }));
      const box = checkbox(labelNode, selected.has(value), (checked) => {
        if (checked === selected.has(value)) return;
        if (checked) selected.add(value);
        else selected.delete(value);
        updateSummary();
        this.changed();
      }, `${text}, ${count(n)} tasks`);
      box.dataset.testid = "facet-option";
      box.dataset.value = value;
      options.append(box);
    }
    if (shown.length < values.length) {
      const more = el("button", { className: "dsb-link", text: `Show all ${count(values.length)}` });
      more.type = "button";
      more.addEventListener("click", () => {
        this.showAll.add(key);
        this.renderFacets();
        this.facetsBox.querySelector<HTMLElement>(`[data-testid="facet-${key}"] vscode-checkbox:nth-of-type(${FACET_PREVIEW + 1})`)?.focus();
      });
      options.append(more);
    }
    details.append(options);
    return details;
  }

  private display(key: FacetKey, value: string): string {
    return key === "difficulties" ? difficultyLabel(value) : value;
  }
}
