// The right-hand side: one task in full (problem, starter code, solutions, tests, reasoning).
// Large parts (hundreds of solutions or stdio cases) are drawn only when asked for.
import { COT_BUCKET_LABELS, entriesOf, isFloatValue, type CotAction, type CotView, type WireTask, type WireTaskTests } from "../../src/panels/datasetBrowser/protocol";
import { el } from "../shared/host";
import { button } from "../shared/toolkit";
import { chip, count, countBadge, difficultyBucket, difficultyLabel, firstLines, lineCount, plural, pyArgs, pyRepr, truncate } from "./format";
import { pythonBlock } from "./highlight";
import { looksLikePython, renderMarkdown } from "./markdown";

/** Assert code longer than this is collapsed. */
export const ASSERT_PREVIEW_LINES = 12;
const CALL_ROWS_STEP = 50;
/** Up to this many solutions, tabs say "Solution k"; more get "#k". */
const FULL_TAB_LABELS_MAX = 6;
const STDIO_CASES_STEP = 50;
/** Characters of one stdio input or output shown before "Show all". */
const STDIO_TEXT_LIMIT = 20_000;
const CELL_LIMIT = 300;

export interface DetailEvents {
  openInEditor(index: number): void;
  solutionTab(tab: number): void;
  /** A button of the CoT view: Accept, Reject, Edit, Regenerate. */
  cotAction(index: number, action: CotAction): void;
  /** Whether the task's reasoning is being regenerated (its button shows it). */
  regenerating(index: number): boolean;
}

/** The CoT view's buttons, their keys and what they do. */
const COT_BUTTONS: { action: CotAction; label: string; key: string; title: string; appearance: "primary" | "secondary" }[] = [
  { action: "accept", label: "Accept", key: "A", title: "Accept this reasoning for training, then go to the next task", appearance: "primary" },
  { action: "reject", label: "Reject", key: "R", title: "Reject this reasoning (it never trains), then go to the next task", appearance: "secondary" },
  { action: "edit", label: "Edit", key: "E", title: "Edit the reasoning as JSON in an editor; saving validates it and appends it to the set", appearance: "secondary" },
  { action: "regenerate", label: "Regenerate", key: "G", title: "Ask the teacher again for this task (and verify its code when codistill.teacher.verify is on)", appearance: "secondary" },
];

const SPECIAL_JUDGES: Record<string, string> = {
  "non-deterministic": "any correct output is accepted; a checker decides",
  "case-insensitive": "outputs are compared ignoring case",
  "float-tolerance": "numbers are compared with a tolerance",
};

export class DetailView {
  readonly element: HTMLElement;
  private index: number | undefined;
  /** The CoT section shown and what it shows, so a pushed change redraws it alone. */
  private cotSection: HTMLElement | undefined;
  private cotShown: { index: number; set: string | null; cot: CotView | null } | undefined;
  /** Whether the teacher code and raw answer disclosures are open, kept from task to task. */
  private codeOpen = true;
  private rawOpen = false;

  constructor(private readonly events: DetailEvents) {
    this.element = el("section", { className: "dsb-detail", testId: "detail" });
    this.element.setAttribute("aria-label", "Task details");
    this.element.tabIndex = -1;
    this.showEmpty("Select a task to see it here.");
  }

  /** The CoT of the task shown, when it is `index`. */
  cotOf(index: number): { set: string | null; cot: CotView | null } | undefined {
    return this.cotShown?.index === index && this.index === index ? this.cotShown : undefined;
  }

  showEmpty(text: string): void {
    this.index = undefined;
    this.cotShown = undefined;
    this.element.removeAttribute("aria-busy");
    this.element.replaceChildren(el("p", { className: "dsb-placeholder", text, testId: "detail-empty" }));
  }

  /** Marks the current content as stale while the next task loads. */
  showLoading(): void {
    this.element.setAttribute("aria-busy", "true");
    if (this.index === undefined) this.element.replaceChildren(el("p", { className: "dsb-placeholder", text: "Loading…", testId: "detail-loading" }));
  }

  showError(message: string): void {
    this.index = undefined;
    this.cotShown = undefined;
    this.element.removeAttribute("aria-busy");
    this.element.replaceChildren(el("div", { className: "callout error", testId: "detail-error" }, el("pre", { text: message })));
  }

  show(index: number, task: WireTask, cot: CotView | null, cotSet: string | null, solutionTab: number): void {
    const keepScroll = this.index === index ? this.element.scrollTop : 0;
    this.index = index;
    this.element.removeAttribute("aria-busy");
    this.element.dataset.index = String(index);
    this.cotShown = { index, set: cotSet, cot };
    this.cotSection = this.reasoning(index, cotSet, cot);
    // While a set is reviewed the reasoning sits beside the task when the panel is wide, and right
    // after the problem when it is narrow (media/webview.css); otherwise its note comes last.
    const taskColumn = el("div", { className: "dsb-detail-task" }, this.problem(task), ...this.starter(task), this.solutions(task, solutionTab), this.tests(task.tests), ...this.meta(task));
    const columns = el("div", { className: `dsb-detail-columns${cotSet === null ? "" : " dsb-reviewing"}` }, taskColumn, this.cotSection);
    this.element.replaceChildren(this.header(index, task), columns);
    this.element.scrollTop = keepScroll;
  }

  /** Redraws the CoT section when it shows task `index` of `set` (a pushed change, an action's answer). */
  updateCot(index: number, set: string, cot: CotView | null): void {
    if (this.index !== index || this.cotShown?.set !== set || !this.cotSection) return;
    this.cotShown = { index, set, cot };
    const section = this.reasoning(index, set, cot);
    this.cotSection.replaceWith(section);
    this.cotSection = section;
  }

  /** Redraws the CoT section as it is (the Regenerate button's busy state changed). */
  refreshCot(index: number): void {
    const shown = this.cotShown;
    if (this.index !== index || !shown || !this.cotSection) return;
    const section = this.reasoning(index, shown.set, shown.cot);
    this.cotSection.replaceWith(section);
    this.cotSection = section;
  }

  private header(index: number, task: WireTask): HTMLElement {
    const meta = el("div", { className: "dsb-detail-meta" });
    const source = chip(task.source, "dsb-source");
    source.dataset.testid = "detail-source";
    meta.append(source);
    if (task.difficulty) {
      meta.append(el("span", {
        className: `dsb-difficulty dsb-difficulty-${difficultyBucket(task.difficulty)}`,
        text: difficultyLabel(task.difficulty),
        testId: "detail-difficulty",
      }));
    }
    if (task.tags?.length) {
      meta.append(el("span", { className: "dsb-tags", testId: "detail-tags" }, ...task.tags.map((t) => chip(t, "dsb-tag"))));
    }
    const open = button("Open in Editor", () => this.events.openInEditor(index), "primary");
    open.dataset.testid = "open-in-editor";
    open.title = "Open this task as a document (Enter in the list)";
    return el(
      "header",
      { className: "dsb-detail-header", testId: "detail-header" },
      el("div", { className: "dsb-detail-title" }, el("h2", { text: task.id, testId: "detail-id" }), open),
      meta,
    );
  }

  private problem(task: WireTask): HTMLElement {
    const body = el("div", { className: "dsb-markdown", testId: "detail-prompt" });
    if (looksLikePython(task.source, task.prompt)) body.append(pythonBlock(task.prompt));
    else renderMarkdown(body, task.prompt);
    const section = this.section("Problem", "detail-problem", body);
    if (task.entryPoint) section.append(el("p", { className: "dsb-note" }, "Entry point: ", el("code", { text: task.entryPoint })));
    return section;
  }

  private starter(task: WireTask): HTMLElement[] {
    if (!task.starterCode?.trim()) return [];
    return [this.section("Starter code", "detail-starter", pythonBlock(task.starterCode))];
  }

  private solutions(task: WireTask, active: number): HTMLElement {
    const n = task.solutions.length;
    if (n === 0) return this.section("Solutions", "detail-solutions", el("p", { className: "dsb-note", text: "No reference solutions." }));
    const current = Math.min(Math.max(0, active), n - 1);
    const tablist = el("div", { className: "dsb-tabs", testId: "solution-tabs" });
    tablist.setAttribute("role", "tablist");
    tablist.setAttribute("aria-label", "Solutions");
    const panel = el("div", { className: "dsb-tabpanel", id: "dsb-solution-panel", testId: "solution-panel" });
    panel.setAttribute("role", "tabpanel");
    panel.tabIndex = 0;
    const tabs: HTMLButtonElement[] = [];
    const select = (i: number, focus: boolean) => {
      tabs.forEach((t, k) => {
        t.setAttribute("aria-selected", String(k === i));
        t.tabIndex = k === i ? 0 : -1;
      });
      panel.setAttribute("aria-labelledby", tabs[i]!.id);
      panel.dataset.tab = String(i);
      const code = task.solutions[i]!;
      panel.replaceChildren(
        pythonBlock(code, "solution-code"),
        el("p", { className: "dsb-note", text: `${plural(lineCount(code), "line")}${i === 0 ? " · canonical solution" : ""}` }),
      );
      if (focus) {
        tabs[i]!.focus();
        tabs[i]!.scrollIntoView({ block: "nearest", inline: "nearest" });
      }
    };
    for (let i = 0; i < n; i++) {
      // Many solutions (TACO has hundreds) get short labels so that more tabs fit.
      const label = n === 1 ? "Solution" : n <= FULL_TAB_LABELS_MAX ? `Solution ${i + 1}` : `#${i + 1}`;
      const t = el("button", { className: "dsb-tab", id: `dsb-solution-tab-${i}`, text: label, testId: "solution-tab" });
      t.setAttribute("aria-label", `Solution ${i + 1}${i === 0 ? " (canonical)" : ""}`);
      t.type = "button";
      t.dataset.tab = String(i);
      t.setAttribute("role", "tab");
      t.setAttribute("aria-controls", panel.id);
      if (i === 0) t.title = "The canonical solution";
      t.addEventListener("click", () => {
        select(i, false);
        this.events.solutionTab(i);
      });
      tabs.push(t);
    }
    tablist.append(...tabs);
    tablist.addEventListener("keydown", (e) => {
      const at = tabs.findIndex((t) => t.getAttribute("aria-selected") === "true");
      const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: n - 1 }[e.key];
      if (next === undefined) return;
      e.preventDefault();
      const i = (next + n) % n;
      select(i, true);
      this.events.solutionTab(i);
    });
    select(current, false);
    const section = this.section("Solutions", "detail-solutions", tablist, panel);
    section.querySelector("h3")!.append(countBadge(count(n)));
    // The selected tab may be far right in a long strip.
    if (current > 0) {
      requestAnimationFrame(() => {
        const t = tabs[current]!;
        tablist.scrollLeft = Math.max(0, t.offsetLeft - tablist.clientWidth / 2);
      });
    }
    return section;
  }

  private tests(tests: WireTaskTests): HTMLElement {
    switch (tests.kind) {
      case "assert":
        return this.assertTests(tests);
      case "call":
        return this.callTests(tests);
      case "stdio":
        return this.stdioTests(tests);
    }
  }

  private assertTests(tests: Extract<WireTaskTests, { kind: "assert" }>): HTMLElement {
    const lines = tests.code.split("\n");
    const asserts = lines.filter((l) => /^\s*assert\b/.test(l)).length;
    // HumanEval's tests end with `check(entry_point)`, which runs the asserts of `def check`.
    const runner = lines.map((l) => l.trim()).filter(Boolean).pop()?.match(/^check\(\s*[\w.]+\s*\)$/)?.[0];
    const what = asserts ? plural(asserts, "assert statement") : `${plural(lines.length, "line")} of test code`;
    const summary = el("p", {
      className: "dsb-tests-summary",
      testId: "tests-summary",
      text: `Assert tests: ${what}${runner ? `, run by ${runner}` : ""}`,
    });
    const parts: HTMLElement[] = [summary];
    if (tests.setup?.trim()) {
      parts.push(el("h4", { text: "Setup" }), collapsibleCode(tests.setup, ASSERT_PREVIEW_LINES, "tests-setup"));
    }
    parts.push(collapsibleCode(tests.code, ASSERT_PREVIEW_LINES, "tests-assert"));
    if (tests.challenge?.trim()) {
      const details = el(
        "details",
        { className: "dsb-case", testId: "tests-challenge" },
        el("summary", { text: `Challenge tests (${plural(lineCount(tests.challenge), "line")}; run only when asked)` }),
      );
      lazyDetails(details, () => [pythonBlock(tests.challenge!)]);
      parts.push(details);
    }
    return this.section("Tests", "detail-tests", ...parts);
  }

  private callTests(tests: Extract<WireTaskTests, { kind: "call" }>): HTMLElement {
    const n = tests.inputs.length;
    const summary = el("p", { className: "dsb-tests-summary", testId: "tests-summary" }, "Calls to ", el("code", { text: tests.fnName, testId: "tests-fn" }), `: ${plural(n, "input")}`);
    // A float atol with an integral value (0.0) crosses as { $float }: pyRepr prints either form.
    if (tests.atol) summary.append(`, outputs compared with atol ${pyRepr(tests.atol)}`);
    const parts: HTMLElement[] = [summary];
    const outputs = tests.outputs;
    if (outputs === null) {
      parts.push(el("p", {
        className: "dsb-note",
        testId: "tests-outputs-computed",
        text: "Expected outputs are not stored: they are computed from the canonical solution at evaluation.",
      }));
    }
    const head = el("tr", {}, el("th", { text: "#" }), el("th", { text: `${tests.fnName}(…)` }));
    if (outputs) head.append(el("th", { text: "Expected output" }));
    const body = el("tbody", {});
    const table = el("table", { className: "dsb-table", testId: "tests-call" }, el("thead", {}, head), body);
    const more = el("button", { className: "dsb-link", testId: "tests-more" });
    more.type = "button";
    let shown = 0;
    const showMore = () => {
      const end = Math.min(n, shown + CALL_ROWS_STEP);
      for (let i = shown; i < end; i++) {
        const args = pyArgs(tests.inputs[i], CELL_LIMIT);
        const row = el("tr", { testId: "call-case" }, el("td", { className: "dsb-num", text: String(i + 1) }), codeCell(args));
        if (outputs) row.append(codeCell(i < outputs.length ? pyRepr(outputs[i], CELL_LIMIT) : "(missing)"));
        body.append(row);
      }
      shown = end;
      more.hidden = shown >= n;
      more.textContent = moreLabel(n - shown, CALL_ROWS_STEP, "input");
    };
    more.addEventListener("click", showMore);
    showMore();
    parts.push(el("div", { className: "dsb-table-wrap" }, table), more);
    return this.section("Tests", "detail-tests", ...parts);
  }

  private stdioTests(tests: Extract<WireTaskTests, { kind: "stdio" }>): HTMLElement {
    const n = Math.max(tests.inputs.length, tests.outputs.length);
    const summary = el("p", { className: "dsb-tests-summary", testId: "tests-summary", text: `Standard input/output: ${plural(n, "case")}` });
    const parts: HTMLElement[] = [summary];
    if (tests.specialJudge) {
      const judge = el("p", { className: "dsb-judge", testId: "tests-judge" }, chip(`special judge: ${tests.specialJudge}`, "dsb-tag"));
      const why = SPECIAL_JUDGES[tests.specialJudge];
      if (why) judge.append(` ${why}.`);
      parts.push(judge);
    }
    const list = el("div", { className: "dsb-cases", testId: "tests-stdio" });
    const more = el("button", { className: "dsb-link", testId: "tests-more" });
    more.type = "button";
    let shown = 0;
    const showMore = () => {
      const end = Math.min(n, shown + STDIO_CASES_STEP);
      for (let i = shown; i < end; i++) list.append(stdioCase(i, tests.inputs[i], tests.outputs[i]));
      shown = end;
      more.hidden = shown >= n;
      more.textContent = moreLabel(n - shown, STDIO_CASES_STEP, "case");
    };
    more.addEventListener("click", showMore);
    showMore();
    parts.push(list, more);
    return this.section("Tests", "detail-tests", ...parts);
  }

  private reasoning(index: number, set: string | null, cot: CotView | null): HTMLElement {
    const title = "Reasoning (CoT)";
    if (set === null) {
      return this.section(title, "detail-cot", el("p", { className: "dsb-note", text: "No CoT set is reviewed: pick one in the header (CoT set), or generate one with “Codistill: Generate Reasoning for Dataset…”.", testId: "cot-empty" }));
    }
    const section = this.section(title, "detail-cot");
    section.dataset.set = set;
    const heading = section.querySelector("h3")!;
    heading.append(chip(set, "dsb-cot-set-chip"));
    const head = el("div", { className: "dsb-cot-header" });
    heading.replaceWith(head);
    head.append(heading, this.cotActions(index, cot));
    if (!cot) {
      section.append(el("p", { className: "dsb-note", testId: "cot-empty", text: `No reasoning for this task in ${set}.` }));
      return section;
    }
    section.dataset.bucket = cot.bucket;
    const badges = el("p", { className: "dsb-cot-status", testId: "cot-status" });
    const status = chip(COT_BUCKET_LABELS[cot.bucket], `dsb-cot-badge dsb-cot-${cot.bucket}`);
    status.dataset.testid = "cot-status-badge";
    status.title = "The record's status (verified: the teacher's code passed the task's tests in the sandbox)";
    badges.append(status);
    if (cot.review) {
      const review = chip(cot.review.decision, `dsb-cot-badge dsb-cot-review-${cot.review.decision}`);
      review.dataset.testid = "cot-review-badge";
      review.title = `${cot.review.decision} ${formatTime(cot.review.at)}`;
      badges.append(review);
    }
    section.append(badges);
    if (cot.failure !== null) {
      section.append(el("div", { className: "callout error dsb-cot-failure", testId: "cot-failure" }, el("pre", { text: `The teacher gave no usable answer: ${cot.failure}` })));
    }
    const problems = this.cotProblems(cot);
    if (problems) section.append(problems);
    if (cot.intent) section.append(el("h4", { text: "Intent" }), el("p", { className: "dsb-cot-intent", testId: "cot-intent" }, ...withInlineCode(cot.intent)));
    const list = (heading: string, items: string[], testId: string, ordered = false, code = false) => {
      if (!items.length) return;
      const listEl = el(ordered ? "ol" : "ul", { testId, className: code ? "dsb-formulas" : "dsb-cot-list" }, ...items.map((t) => el("li", {}, ...(code ? [el("code", { text: t })] : withInlineCode(t)))));
      section.append(el("h4", { text: heading }), listEl);
    };
    list("Steps", cot.steps, "cot-steps", true);
    list("Formulas", cot.formulas, "cot-formulas", false, true);
    list("Edge cases", cot.edgeCases, "cot-edge-cases");
    if (cot.teacherCode !== null) {
      const code = el("details", { className: "dsb-case dsb-cot-code", testId: "cot-code" }, el("summary", { text: `Teacher's code (${plural(lineCount(cot.teacherCode), "line")})` }), pythonBlock(cot.teacherCode, "cot-code-block"));
      code.open = this.codeOpen;
      code.addEventListener("toggle", () => (this.codeOpen = code.open));
      section.append(code);
    }
    if (cot.raw) {
      const raw = el("details", { className: "dsb-case dsb-cot-raw", testId: "cot-raw" }, el("summary", { text: "Raw answer" }));
      raw.open = this.rawOpen;
      raw.addEventListener("toggle", () => (this.rawOpen = raw.open));
      // The raw text can be long: drawn when first opened.
      const fill = () => {
        if (!raw.querySelector("pre")) raw.append(textBlock(cot.raw, "cot-raw-text"));
      };
      if (raw.open) fill();
      raw.addEventListener("toggle", fill);
      section.append(raw);
    }
    section.append(el("p", { className: "dsb-note dsb-cot-meta", testId: "cot-meta", text: cotMetaLine(cot) }));
    return section;
  }

  /** Accept (A), Reject (R), Edit (E), Regenerate (G); Accept and Reject need an answer to judge. */
  private cotActions(index: number, cot: CotView | null): HTMLElement {
    const bar = el("div", { className: "dsb-cot-actions", testId: "cot-actions" });
    const busy = this.events.regenerating(index);
    for (const { action, label, key, title, appearance } of COT_BUTTONS) {
      const regenerate = action === "regenerate";
      const text = regenerate && busy ? "Regenerating…" : regenerate && !cot ? "Generate" : label;
      const b = button(`${text} (${key})`, () => this.events.cotAction(index, action), appearance);
      b.dataset.testid = `cot-${action}`;
      b.title = `${regenerate && !cot ? "Ask the teacher for this task's reasoning" : title} — key ${key}`;
      b.setAttribute("aria-keyshortcuts", key);
      const disabled = (action === "accept" || action === "reject") ? !cot?.canReview : action === "edit" ? !cot || cot.failure !== null : busy;
      if (disabled) b.setAttribute("disabled", "");
      if (regenerate && busy) {
        b.setAttribute("aria-busy", "true");
        b.prepend(el("span", { className: "dsb-spinner dsb-button-spinner" }));
      }
      bar.append(b);
    }
    return bar;
  }

  /** The sandbox's verdict and the validator's problems, a line each, as a warning. */
  private cotProblems(cot: CotView): HTMLElement | undefined {
    const lines: HTMLElement[] = [];
    const v = cot.verification;
    if (v && v.status !== "passed") {
      const test = v.failedTest === null ? "" : ` on test #${v.failedTest}`;
      const line = el("li", { testId: "cot-verification" }, el("strong", { text: `Verification ${v.status}${test}` }));
      if (v.message) line.append(": ", el("code", { text: v.message }));
      line.dataset.failedTest = v.failedTest === null ? "" : String(v.failedTest);
      lines.push(line);
    }
    for (const problem of cot.problems) lines.push(el("li", { testId: "cot-problem" }, ...withInlineCode(problem)));
    if (!lines.length) return undefined;
    return el("div", { className: "callout warning dsb-cot-problems", testId: "cot-problems" }, el("ul", {}, ...lines));
  }

  /** TACO's url, time and memory limits and the like: primitive values only. */
  private meta(task: WireTask): HTMLElement[] {
    // entriesOf: a meta with keys like "8" that a Task JSONL wrote out of JS's order crosses as { $dict }.
    const entries = entriesOf(task.meta ?? {}).filter(([, v]) => (v !== null && ["string", "number", "boolean"].includes(typeof v)) || isFloatValue(v));
    if (!entries.length) return [];
    const dl = el("dl", { className: "dsb-meta", testId: "detail-meta" });
    for (const [k, v] of entries.slice(0, 30)) {
      const value = isFloatValue(v) ? v.$float : String(v);
      const dd = el("dd", {});
      if (typeof v === "string" && /^https?:\/\//.test(v)) {
        const a = el("a", { text: truncate(value, 200) });
        a.href = value;
        dd.append(a);
      } else dd.textContent = truncate(value, 500);
      dl.append(el("dt", { text: k }), dd);
    }
    const details = el("details", { className: "dsb-section dsb-meta-section" }, el("summary", { text: "More about this task" }), dl);
    return [details];
  }

  private section(title: string, testId: string, ...children: HTMLElement[]): HTMLElement {
    return el("section", { className: "dsb-section", testId }, el("h3", { text: title }), ...children);
  }
}

/** "fixture-script · 87 prompt / 90 completion tokens · 1 attempt · created 2025-01-01 00:00". */
export function cotMetaLine(cot: CotView): string {
  const { model, promptTokens, completionTokens, attempts, createdAt } = cot.meta;
  const parts = [model || "unknown teacher"];
  if (promptTokens !== null || completionTokens !== null) parts.push(`${count(promptTokens ?? 0)} prompt / ${count(completionTokens ?? 0)} completion tokens`);
  if (attempts !== null) parts.push(plural(attempts, "attempt"));
  parts.push(`created ${formatTime(createdAt)}`);
  return parts.join(" · ");
}

/** Text whose `backticked` spans become <code>, as the teacher writes identifiers; no other markup. */
export function withInlineCode(text: string): (Node | string)[] {
  const parts = text.split(/`([^`\n]+)`/);
  return parts.map((part, i) => (i % 2 === 1 ? el("code", { text: part }) : part)).filter((part) => part !== "");
}

/** An ISO time as "2025-01-01 00:00" in local time; the text itself when it is not a time. */
function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Python code showing its first `lines` lines, with a button to show the rest. */
function collapsibleCode(code: string, lines: number, testId: string): HTMLElement {
  const total = lineCount(code);
  const wrap = el("div", { className: "dsb-collapsible", testId });
  if (total <= lines + 2) {
    wrap.append(pythonBlock(code, "code"));
    return wrap;
  }
  const toggle = el("button", { className: "dsb-link", testId: "code-toggle" });
  toggle.type = "button";
  let expanded = false;
  const draw = () => {
    wrap.dataset.expanded = String(expanded);
    toggle.textContent = expanded ? "Show fewer lines" : `Show all ${count(total)} lines`;
    toggle.setAttribute("aria-expanded", String(expanded));
    wrap.replaceChildren(pythonBlock(expanded ? code : `${firstLines(code, lines)}\n…`, "code"), toggle);
  };
  toggle.addEventListener("click", () => {
    expanded = !expanded;
    draw();
    toggle.focus();
  });
  draw();
  return wrap;
}

/** "Show the last 32 inputs" or "Show 50 more inputs (120 not shown)". */
function moreLabel(remaining: number, step: number, noun: string): string {
  return remaining <= step ? `Show the last ${plural(remaining, noun)}` : `Show ${count(step)} more ${noun}s (${count(remaining)} not shown)`;
}

function codeCell(text: string): HTMLElement {
  const td = el("td", {}, el("code", { text }));
  if (text.endsWith("…")) td.title = "Cut for display; Open in Editor shows the whole value";
  return td;
}

/** Fills `details` with `content()` the first time it opens. */
function lazyDetails(details: HTMLDetailsElement, content: () => HTMLElement[]): void {
  let filled = false;
  details.addEventListener("toggle", () => {
    if (!details.open || filled) return;
    filled = true;
    details.append(...content());
  });
}

function stdioCase(i: number, input: string | undefined, output: string | undefined): HTMLElement {
  const describe = (text: string | undefined) => (text === undefined ? "missing" : plural(lineCount(text), "line"));
  const details = el(
    "details",
    { className: "dsb-case", testId: "stdio-case" },
    el("summary", {}, el("span", { className: "dsb-case-name", text: `Case ${i + 1}` }), el("span", { className: "dsb-note", text: `${describe(input)} in → ${describe(output)} out` })),
  );
  details.dataset.case = String(i);
  lazyDetails(details, () => [
    el("div", { className: "dsb-io" },
      el("div", {}, el("h4", { text: "Input" }), textBlock(input, "case-input")),
      el("div", {}, el("h4", { text: "Expected output" }), textBlock(output, "case-output"))),
  ]);
  return details;
}

function textBlock(text: string | undefined, testId: string): HTMLElement {
  const pre = el("pre", { className: "dsb-code dsb-plain", testId });
  if (text === undefined) {
    pre.textContent = "(missing)";
    pre.classList.add("dsb-none");
    return pre;
  }
  if (text === "") {
    pre.textContent = "(empty)";
    pre.classList.add("dsb-none");
    return pre;
  }
  if (text.length <= STDIO_TEXT_LIMIT) {
    pre.textContent = text;
    return pre;
  }
  pre.textContent = `${text.slice(0, STDIO_TEXT_LIMIT)}\n…`;
  const all = el("button", { className: "dsb-link", text: `Show all ${count(text.length)} characters` });
  all.type = "button";
  all.addEventListener("click", () => {
    pre.textContent = text;
    all.remove();
  });
  return el("div", {}, pre, all);
}
