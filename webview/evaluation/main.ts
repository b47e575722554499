import {
  evaluationValidators,
  type EvaluationReplies,
  type EvaluationSettingsView,
  type EvaluationToHost,
  type EvaluationToWebview,
  type EvaluationView,
  type ResultRowView,
  type SampleScoresView,
  type StructuralCell,
  type TaskRowView,
} from "../../src/panels/evaluation/protocol";
import { HostConnection, el, renderOrExplain } from "../shared/host";
import { button, checkbox, progressRing, registerToolkit, textField } from "../shared/toolkit";
import { drawPassChart } from "./chart";

/** What survives hiding the panel: the choices being made, and the drill-down being read. */
interface EvaluationState {
  view?: EvaluationView;
  chosenModels: string[];
  chosenBenchmarks: string[];
  /** The ask to select models (EvaluationFocusView.seq) applied last. */
  focusSeq?: number;
  settings?: EvaluationSettingsView;
  drillDown?: { modelId: string; benchmark: string };
}

registerToolkit();
const host = new HostConnection<EvaluationState, EvaluationToHost, EvaluationToWebview, EvaluationReplies>();
const app = document.getElementById("app")!;
const state: EvaluationState = host.state ?? { chosenModels: [], chosenBenchmarks: [] };
let drillRows: TaskRowView[] | undefined;
let formProblem: string | undefined;

host.on("evaluation/state", (view) => {
  const known = new Set(view.models.map((m) => m.id));
  // A new ask from the Runs view replaces the choice; the checked boxes then follow view.models' order.
  if (view.focus && view.focus.seq !== state.focusSeq) {
    state.focusSeq = view.focus.seq;
    const asked = view.focus.modelIds.filter((id) => known.has(id));
    if (asked.length) state.chosenModels = asked;
  }
  state.chosenModels = state.chosenModels.filter((id) => known.has(id));
  if (!state.chosenModels.length && view.models[0]) state.chosenModels = [view.models[0].id];
  state.chosenBenchmarks = state.chosenBenchmarks.filter((b) => view.benchmarks.includes(b));
  if (!state.chosenBenchmarks.length && view.benchmarks[0]) state.chosenBenchmarks = [view.benchmarks[0]];
  state.settings ??= view.settings;
  state.view = view;
  save();
  renderSafely();
  if (state.drillDown) void loadDrillDown(state.drillDown.modelId, state.drillDown.benchmark);
});

host.on("evaluation/progress", (running) => {
  if (!state.view) return;
  const wasRunning = state.view.running !== null;
  state.view.running = running;
  save();
  // Starting or finishing swaps Run for Cancel: redraw the form; otherwise only the progress line.
  if (wasRunning !== (state.view.running !== null)) renderSafely();
  else renderProgress();
});

if (state.view) renderSafely();
else app.replaceChildren(el("p", { className: "muted", text: "Loading evaluation results…" }));
host.notify("evaluation/ready");

function renderSafely(): void {
  renderOrExplain(app, "evaluation", render);
}

function save(): void {
  host.state = state;
}

function render(): void {
  const view = state.view!;
  app.replaceChildren(
    el("h1", { text: "Evaluation" }),
    ...view.problems.map((p) => el("div", { className: "callout warning", testId: "problem", text: p })),
    setupSection(view),
    el("div", { id: "progress" }),
    resultsSection(view),
    el("section", { id: "drilldown" }),
  );
  renderProgress();
  renderDrillDown();
}

// ------------------------------------------------------------------ run set-up

function setupSection(view: EvaluationView): HTMLElement {
  const settings = state.settings!;
  const models = view.models.length
    ? view.models.map((m) => withTestId(checkbox(m.label, state.chosenModels.includes(m.id), (on) => toggle(state.chosenModels, m.id, on), `Evaluate ${m.label}`), `model-${m.id}`))
    : [el("p", { className: "muted", text: "No models: set student.model in codistill.yaml (a Hugging Face model folder). Trained runs' adapters appear here too." })];
  const benchmarks = view.benchmarks.length
    ? view.benchmarks.map((b) => withTestId(checkbox(b, state.chosenBenchmarks.includes(b), (on) => toggle(state.chosenBenchmarks, b, on), `Benchmark ${b}`), `benchmark-${b}`))
    : [el("p", { className: "muted", text: "No benchmarks: list datasets in codistill.yaml." })];
  const number = (value: string) => (value.trim() === "" ? NaN : Number(value));
  const fields = el(
    "div",
    { className: "eval-fields" },
    textField("Samples per task (n)", String(settings.n), (v) => (settings.n = number(v)), "n"),
    textField("Temperature", String(settings.temperature), (v) => (settings.temperature = number(v)), "temperature"),
    textField("Tasks per benchmark (empty: all)", settings.limit === null ? "" : String(settings.limit), (v) => (settings.limit = v.trim() === "" ? null : number(v)), "limit"),
  );
  const running = view.running !== null;
  const actions = el(
    "div",
    { className: "actions" },
    running ? button("Cancel", () => host.notify("evaluation/cancel"), "secondary") : button("Run Evaluation", run),
    button("Refresh", () => host.notify("evaluation/refresh"), "secondary"),
  );
  return el(
    "section",
    { className: "eval-setup" },
    el("div", { className: "eval-choices" }, el("div", {}, el("h2", { text: "Models" }), ...models), el("div", {}, el("h2", { text: "Benchmarks" }), ...benchmarks)),
    fields,
    ...(formProblem ? [el("p", { className: "callout error", testId: "form-problem", text: formProblem })] : []),
    ...(view.lastOutcome && !running ? [el("p", { className: "callout warning", testId: "last-outcome", text: view.lastOutcome })] : []),
    actions,
  );
}

function withTestId<T extends HTMLElement>(element: T, testId: string): T {
  element.dataset.testid = testId;
  return element;
}

function toggle(list: string[], id: string, on: boolean): void {
  const at = list.indexOf(id);
  if (on && at < 0) list.push(id);
  if (!on && at >= 0) list.splice(at, 1);
  save();
}

function run(): void {
  const s = state.settings!;
  const params = { models: state.chosenModels, benchmarks: state.chosenBenchmarks, n: s.n, temperature: s.temperature, limit: s.limit };
  // The host ignores invalid messages, so the form checks with the same validator first.
  formProblem = evaluationValidators["evaluation/run"](params);
  save();
  if (formProblem) return renderSafely();
  host.request("evaluation/run", params).catch((err: Error) => {
    formProblem = err.message;
    renderSafely();
  });
}

function renderProgress(): void {
  const box = document.getElementById("progress");
  const running = state.view?.running;
  if (!box) return;
  if (!running) {
    box.replaceChildren();
    return;
  }
  const bar = el("progress", { testId: "progress-bar" });
  bar.max = Math.max(1, running.total);
  bar.value = running.done;
  const phase = { export: "Exporting tasks", generate: "Generating", execute: "Executing", score: "Scoring structure" }[running.phase];
  box.replaceChildren(
    el(
      "div",
      { className: "eval-progress" },
      progressRing(),
      el("span", { testId: "progress-text", text: `${running.modelLabel} on ${running.benchmark} (${running.step}/${running.steps}): ${phase} ${running.done}/${running.total}${running.message ? ` — ${running.message}` : ""}` }),
      bar,
    ),
  );
}

// ------------------------------------------------------------------ results

const pct = (x: number) => `${(x * 100).toFixed(1)}`;

const score = (x: number) => x.toFixed(3);
const scoreOrDash = (x: number | null) => (x === null ? "—" : score(x));

/** The average, with what it is over in the tooltip; otherwise "scoring…" or "unavailable" with the reason. */
function structural(cell: StructuralCell, testId: string): HTMLElement {
  const td = cell.available ? el("td", { testId, text: score(cell.value) }) : el("td", { className: "eval-na", testId, text: cell.pending ? "scoring…" : "unavailable" });
  td.title = cell.available
    ? `mean over ${cell.samples} of ${cell.totalSamples} samples, each against its task's best reference solution (CodeBLEU, ${cell.mode} mode)`
    : cell.reason;
  return td;
}

function resultsSection(view: EvaluationView): HTMLElement {
  if (!view.rows.length) {
    return el("section", { id: "results" }, el("h2", { text: "Results" }), el("p", { className: "muted", testId: "no-results", text: "No results yet: choose models and benchmarks and run an evaluation." }));
  }
  const ks = [...new Set(view.rows.flatMap((r) => r.passK.map((p) => p.k)))].filter((k) => k > 1).sort((a, b) => a - b);
  const head = el(
    "tr",
    {},
    ...["Model", "Benchmark", "Tasks", "n", "pass@1 % (95% CI)", ...ks.map((k) => `pass@${k} %`), "Δ pass@1 vs base (95% CI)", "Syntax match", "Dataflow match", "Sandbox", ""].map((h) => el("th", { text: h })),
  );
  const body = view.rows.map((row) => resultRow(row, ks));
  const canvas = el("canvas", { id: "pass-chart" });
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", "pass@1 by benchmark and model");
  requestAnimationFrame(() => drawPassChart(canvas, view.rows));
  return el(
    "section",
    { id: "results" },
    el("h2", { text: "Results" }),
    ...isolationWarning(view.rows),
    el("table", { className: "eval-table", testId: "results-table" }, el("thead", {}, head), el("tbody", {}, ...body)),
    el("div", { className: "eval-chart" }, canvas),
  );
}

function resultRow(row: ResultRowView, ks: number[]): HTMLElement {
  const delta = row.delta
    ? el("td", { className: row.delta.low > 0 ? "delta-up" : row.delta.high < 0 ? "delta-down" : "", text: `${row.delta.value >= 0 ? "+" : ""}${pct(row.delta.value)} (${pct(row.delta.low)}, ${pct(row.delta.high)}) over ${row.delta.sharedTasks} tasks` })
    : el("td", { className: "eval-na", text: row.isBaseline ? "baseline" : (row.deltaNote ?? "no baseline results") });
  const tr = el(
    "tr",
    { testId: "result-row" },
    el("td", { text: row.modelLabel }),
    el("td", { text: row.benchmark }),
    el("td", { text: String(row.tasks) }),
    el("td", { text: String(row.n) }),
    el("td", { testId: "pass1", text: `${pct(row.pass1.value)} (${pct(row.pass1.low)}–${pct(row.pass1.high)})` }),
    ...ks.map((k) => {
      const p = row.passK.find((x) => x.k === k);
      return el("td", { text: p ? pct(p.value) : "—" });
    }),
    delta,
    structural(row.syntax, "syntax"),
    structural(row.dataflow, "dataflow"),
    isolationCell(row.isolation),
    el("td", {}, linkButton("Tasks", () => void loadDrillDown(row.modelId, row.benchmark))),
  );
  tr.dataset.model = row.modelId;
  tr.dataset.benchmark = row.benchmark;
  return tr;
}

function isolationCell(isolation: ResultRowView["isolation"]): HTMLElement {
  if (!isolation) return el("td", { className: "eval-na", testId: "isolation", text: "not recorded" });
  return el("td", { className: isolation.level === "full" ? "" : "delta-down", testId: "isolation", text: `${isolation.name} (${isolation.level})` });
}

/** Results whose samples ran with less than full isolation: say so above the table. */
function isolationWarning(rows: ResultRowView[]): HTMLElement[] {
  const weak = rows.flatMap(({ isolation, modelLabel, benchmark }) =>
    isolation && isolation.level !== "full" ? [`${modelLabel} on ${benchmark}: ${isolation.name} (${isolation.level})`] : [],
  );
  if (!weak.length) return [];
  const which = weak.join("; ");
  return [
    el("p", {
      className: "callout warning",
      testId: "isolation-warning",
      text: `Some samples ran in a weaker sandbox than full (Landlock, network and PID namespaces), so generated code could reach files, the network or processes outside it: ${which}. The sidecar's log says what the kernel refused.`,
    }),
  ];
}

function linkButton(text: string, onClick: () => void): HTMLButtonElement {
  const b = el("button", { className: "eval-link", text });
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

// ------------------------------------------------------------------ per-task drill-down

async function loadDrillDown(modelId: string, benchmark: string): Promise<void> {
  state.drillDown = { modelId, benchmark };
  save();
  try {
    drillRows = await host.request("evaluation/tasks", { modelId, benchmark });
  } catch (err) {
    drillRows = undefined;
    state.drillDown = undefined;
    save();
    document.getElementById("drilldown")?.replaceChildren(el("p", { className: "callout error", text: (err as Error).message }));
    return;
  }
  renderDrillDown();
}

function renderDrillDown(): void {
  const box = document.getElementById("drilldown");
  const target = state.drillDown;
  if (!box || !target || !drillRows) return;
  const label = state.view?.models.find((m) => m.id === target.modelId)?.label ?? target.modelId;
  const rows = drillRows.map((t) => {
    const tr = el(
      "tr",
      { testId: "task-row", className: t.passed === t.samples ? "task-pass" : "task-fail" },
      el("td", { text: t.taskId }),
      el("td", { text: `${t.passed}/${t.samples}` }),
      el("td", { text: summarizeStatuses(t.statuses) }),
      el("td", { text: t.failedTest === null ? "—" : `test ${t.failedTest}` }),
      el("td", { className: "eval-message", text: t.message ?? "" }),
      sampleScores(t, "syntax"),
      sampleScores(t, "dataflow"),
      el("td", {}, linkButton("Diff", () => host.notify("evaluation/openSample", { ...target, taskId: t.taskId, sample: t.failingSample ?? 0 }))),
    );
    tr.dataset.task = t.taskId;
    return tr;
  });
  box.replaceChildren(
    el("h2", { text: `Tasks: ${label} on ${target.benchmark}` }),
    el(
      "table",
      { className: "eval-table", testId: "task-table" },
      el("thead", {}, el("tr", {}, ...["Task", "Passed", "Statuses", "Failing test", "Error", "Syntax match", "Dataflow match", ""].map((h) => el("th", { text: h })))),
      el("tbody", {}, ...rows),
    ),
  );
}

/** One score per sample, in sample order ("—" where it is undefined); the note says why in the tooltip. */
function sampleScores(row: TaskRowView, component: keyof SampleScoresView): HTMLElement {
  const testId = `task-${component}`;
  if (!row.scores) {
    const td = el("td", { className: "eval-na", testId, text: row.scoresPending ? "scoring…" : "unavailable" });
    td.title = row.scoresNote ?? "";
    return td;
  }
  const td = el("td", { testId, text: row.scores.map((s) => scoreOrDash(s[component])).join(" ") });
  td.title = [`${component} match of each sample (${row.scores.length}) against the task's best reference solution`, row.scoresNote].filter(Boolean).join("; ");
  return td;
}

function summarizeStatuses(statuses: string[]): string {
  const counts = new Map<string, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts.entries()].map(([s, c]) => (c > 1 ? `${s} ×${c}` : s)).join(", ");
}
