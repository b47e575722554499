import { curriculumPreview, CURRICULUM_SCHEDULES } from "../../src/core/training/curriculum";
import type { MetricsLine } from "../../src/core/training/runs";
import { COT_STATUS_CHOICES, COT_STATUS_FILTERS, LORA_PRESETS, trainingFormProblem, type RunView, type TrainingForm, type TrainingReplies, type TrainingToHost, type TrainingToWebview, type TrainingView } from "../../src/panels/training/protocol";
import { HostConnection, el, renderOrExplain } from "../shared/host";
import { button, checkbox, dropdown, progressRing, registerToolkit, textField } from "../shared/toolkit";
import { CHARTED_METRICS, drawCurriculum, MetricCharts } from "./charts";

/** What survives hiding the panel: the form being edited and the runs chosen for the charts. */
interface TrainingState {
  view?: TrainingView;
  form?: TrainingForm;
  overlay: string[];
}

registerToolkit();
const host = new HostConnection<TrainingState, TrainingToHost, TrainingToWebview, TrainingReplies>();
const app = document.getElementById("app")!;
const state: TrainingState = host.state ?? { overlay: [] };
let formProblem: string | undefined;
let drawnShape: string | undefined;
let charts: MetricCharts | undefined;
const metrics = new Map<string, MetricsLine[]>();

host.on("training/state", (view) => {
  state.view = view;
  state.form ??= structuredClone(view.form);
  // A form kept by an earlier version of the panel, from before it had this field.
  if (typeof state.form.processes !== "number") state.form.processes = view.form.processes;
  if (!Array.isArray(state.form.cotSets)) state.form.cotSets = [...view.form.cotSets];
  if (!Array.isArray(state.form.cotStatuses)) state.form.cotStatuses = [...view.form.cotStatuses];
  const known = new Set(view.runs.map((r) => r.id));
  state.overlay = state.overlay.filter((id) => known.has(id));
  if (view.live && !state.overlay.includes(view.live.runId)) state.overlay.unshift(view.live.runId);
  if (!state.overlay.length && view.runs[0]) state.overlay = [view.runs[0].id];
  save();
  // A run's steps and checkpoints push state often: while nothing else changed, only the runs
  // table and the progress line are redrawn, so the form (and a click on Stop) is left alone.
  const shape = JSON.stringify([view.problems, view.failure, view.live === null, view.previewSteps, view.cotSets]);
  if (shape === drawnShape && document.getElementById("runs")) refreshRuns(view);
  else renderSafely();
  drawnShape = shape;
  void loadMetrics();
});

host.on("training/progress", ({ runId, line }) => {
  const lines = metrics.get(runId) ?? [];
  lines.push(line);
  metrics.set(runId, lines);
  if (state.view?.live) {
    state.view.live.step = line.step;
    state.view.live.totalSteps = line.total_steps ?? state.view.live.totalSteps;
    state.view.live.message = `step ${line.step}/${line.total_steps}`;
    renderLive();
  }
  if (!charts?.append(runId, line)) drawMetrics();
});

if (state.view) renderSafely();
else app.replaceChildren(el("p", { className: "muted", text: "Loading…" }));
host.notify("training/ready");

function save(): void {
  host.state = state;
}

function renderSafely(): void {
  renderOrExplain(app, "training", render);
}

function render(): void {
  const view = state.view!;
  app.replaceChildren(
    el("h1", { text: "Training" }),
    ...view.problems.map((p) => el("div", { className: "callout warning", testId: "problem", text: p })),
    ...failure(view),
    formSection(view),
    el("div", { id: "live" }),
    runsSection(view),
    metricsSection(),
  );
  renderLive();
  updateCotNotes();
  drawPreview();
  drawMetrics();
}

function failure(view: TrainingView): HTMLElement[] {
  if (!view.failure) return [];
  return [
    el(
      "div",
      { className: "callout error", testId: "failure" },
      el("p", { text: `Run ${view.failure.runId} failed: ${view.failure.message}` }),
      ...(view.failure.suggestions.length ? [el("ul", {}, ...view.failure.suggestions.map((s) => el("li", { text: s })))] : []),
    ),
  ];
}

// ------------------------------------------------------------------ the form and its preview

function numberInput(label: string, get: () => number, set: (v: number) => void, testId: string, redraw = false): HTMLElement {
  return textField(label, String(get()), (v) => {
    set(v.trim() === "" ? Number.NaN : Number(v));
    save();
    if (redraw) drawPreview();
  }, testId);
}

function formSection(view: TrainingView): HTMLElement {
  const f = state.form!;
  const c = f.curriculum;
  const running = view.live !== null;
  return el(
    "section",
    { className: "train-form" },
    el("h2", { text: "Run" }),
    el("p", { className: "muted", text: `Datasets: ${view.datasets.join(", ") || "none"}` }),
    el(
      "div",
      { className: "eval-fields" },
      textField("Student model folder", f.student, (v) => ((f.student = v), save()), "student"),
      textField("Encoder folder (structural loss)", f.encoder, (v) => ((f.encoder = v), save()), "encoder"),
      dropdown("LoRA preset", LORA_PRESETS, f.loraPreset, (v) => ((f.loraPreset = v), save()), "lora"),
      numberInput("Learning rate", () => f.lr, (v) => (f.lr = v), "lr"),
      numberInput("Epochs", () => f.epochs, (v) => (f.epochs = v), "epochs"),
      numberInput("Batch size per GPU", () => f.batchSize, (v) => (f.batchSize = v), "batch"),
      numberInput("Processes (GPUs)", () => f.processes, (v) => (f.processes = v), "processes"),
      numberInput("Sequence length", () => f.maxLength, (v) => (f.maxLength = v), "max-length"),
    ),
    ...cotSection(view),
    el("h2", { text: "α/β curriculum" }),
    el(
      "div",
      { className: "eval-fields" },
      numberInput("α start", () => c.alphaStart, (v) => (c.alphaStart = v), "alpha-start", true),
      numberInput("α end", () => c.alphaEnd, (v) => (c.alphaEnd = v), "alpha-end", true),
      numberInput("β start", () => c.betaStart, (v) => (c.betaStart = v), "beta-start", true),
      numberInput("β end", () => c.betaEnd, (v) => (c.betaEnd = v), "beta-end", true),
      dropdown("Schedule", CURRICULUM_SCHEDULES, c.schedule, (v) => ((c.schedule = v), save(), drawPreview()), "schedule"),
      numberInput("Over fraction of training", () => c.warmupFraction, (v) => (c.warmupFraction = v), "warmup-fraction", true),
      numberInput("Steps (step schedule)", () => c.steps, (v) => (c.steps = v), "schedule-steps", true),
    ),
    el("div", { className: "train-chart small" }, canvas("curriculum-chart", "α and β over the training steps")),
    el("p", { className: "muted", testId: "preview-note", text: `Preview over about ${view.previewSteps} optimizer steps.` }),
    ...(formProblem ? [el("p", { className: "callout error", testId: "form-problem", text: formProblem })] : []),
    el("div", { className: "actions" }, running ? button("Stop", () => void host.request("training/stop").catch(showProblem), "secondary") : button("Start Training", start)),
  );
}

// ------------------------------------------------------------------ teacher reasoning: CoT sets and the status filter

/** A column of checkboxes (the shared stylesheet lays them out in a row). */
function column(testId: string, ...children: HTMLElement[]): HTMLElement {
  const box = el("div", { testId }, ...children);
  box.style.display = "flex";
  box.style.flexDirection = "column";
  box.style.gap = "4px";
  box.style.marginTop = "8px";
  return box;
}

function cotSection(view: TrainingView): HTMLElement[] {
  const f = state.form!;
  const listed = new Set(view.cotSets.map((s) => s.name));
  // A picked set that is not in .codistill/cots/ (named by codistill.yaml, or deleted since) stays
  // listed, so it can be unchecked: Start names it otherwise.
  const missing = f.cotSets.filter((name) => !listed.has(name));
  const sets = [
    ...view.cotSets.map((set) => cotSetBox(set.name, set.error === null ? set.counts : `⚠ ${set.counts}`)),
    ...missing.map((name) => cotSetBox(name, "⚠ not in .codistill/cots/")),
  ];
  const statuses = COT_STATUS_FILTERS.map((word) => {
    const box = checkbox(el("span", {}, word, hint(` — ${COT_STATUS_CHOICES[word]}`)), f.cotStatuses.includes(word), (on) => {
      f.cotStatuses = on ? COT_STATUS_FILTERS.filter((w) => w === word || f.cotStatuses.includes(w)) : f.cotStatuses.filter((w) => w !== word);
      save();
      updateCotNotes();
    }, word);
    box.dataset.testid = "cot-status";
    box.dataset.status = word;
    return box;
  });
  return [
    el("h2", { text: "Teacher reasoning" }),
    el("p", { className: "muted", text: "The CoT sets of .codistill/cots/ to train on. None checked: code-only SFT, without teacher reasoning." }),
    sets.length ? column("cot-sets", ...sets) : el("p", { className: "muted", testId: "no-cot-sets", text: "No CoT sets in .codistill/cots/: the run is code-only SFT." }),
    el("p", { className: "muted", testId: "cot-mode" }),
    el("div", { testId: "cot-filter" }, el("p", { text: "Train on the CoT records that are:" }), column("cot-statuses", ...statuses), el("p", { className: "muted", text: "Records rejected in review never train; a task without a record the filter keeps is left out." })),
    el("p", { className: "callout error", testId: "cot-status-problem" }),
  ];
}

/** Secondary text inside a label. */
function hint(text: string): HTMLElement {
  const span = el("span", { text });
  span.style.color = "var(--vscode-descriptionForeground)";
  return span;
}

/** "humaneval-cots — 120 tasks: 80 verified, 30 valid, 10 invalid". */
function cotSetBox(name: string, counts: string): HTMLElement {
  const f = state.form!;
  const box = checkbox(el("span", { testId: "cot-set-label" }, name, hint(` — ${counts}`)), f.cotSets.includes(name), (on) => {
    f.cotSets = on ? [...f.cotSets.filter((n) => n !== name), name] : f.cotSets.filter((n) => n !== name);
    save();
    updateCotNotes();
  }, name);
  box.dataset.testid = "cot-set";
  box.dataset.set = name;
  return box;
}

/** What the form trains on, and the filter's problem, redrawn as boxes are checked. */
function updateCotNotes(): void {
  const f = state.form;
  if (!f) return;
  const mode = document.querySelector<HTMLElement>('[data-testid="cot-mode"]');
  if (mode) mode.textContent = f.cotSets.length ? `Training on ${f.cotSets.length} CoT set${f.cotSets.length === 1 ? "" : "s"}: ${f.cotSets.join(", ")}.` : "No CoT set checked: code-only SFT.";
  const filter = document.querySelector<HTMLElement>('[data-testid="cot-filter"]');
  if (filter) filter.style.opacity = f.cotSets.length ? "1" : "0.6";
  const problem = document.querySelector<HTMLElement>('[data-testid="cot-status-problem"]');
  if (problem) {
    const text = f.cotSets.length && !f.cotStatuses.length ? "Check at least one status: no CoT record would train." : "";
    problem.textContent = text;
    problem.hidden = !text;
  }
}

function canvas(id: string, label: string): HTMLCanvasElement {
  const c = el("canvas", { id });
  c.setAttribute("role", "img");
  c.setAttribute("aria-label", label);
  return c;
}

function drawPreview(): void {
  const target = document.getElementById("curriculum-chart") as HTMLCanvasElement | null;
  const view = state.view;
  if (!target || !view) return;
  const problem = trainingFormProblem({ ...state.form!, student: state.form!.student || "-" });
  const curriculumBroken = problem?.startsWith("curriculum.");
  document.querySelector('[data-testid="preview-problem"]')?.remove();
  if (curriculumBroken) {
    target.parentElement?.after(el("p", { className: "callout error", testId: "preview-problem", text: problem! }));
    return;
  }
  drawCurriculum(target, curriculumPreview(state.form!.curriculum, view.previewSteps));
}

function showProblem(err: Error): void {
  formProblem = err.message;
  renderSafely();
}

function start(): void {
  formProblem = trainingFormProblem(state.form);
  if (formProblem || !state.form) return renderSafely();
  host.request("training/start", state.form).catch(showProblem);
}

function renderLive(): void {
  const box = document.getElementById("live");
  const live = state.view?.live;
  if (!box) return;
  if (!live) return void box.replaceChildren();
  const bar = el("progress", { testId: "train-progress" });
  bar.max = Math.max(1, live.totalSteps);
  bar.value = live.step;
  box.replaceChildren(el("div", { className: "eval-progress" }, progressRing(), el("span", { testId: "live-text", text: `${live.runId}: ${live.message}` }), bar));
}

// ------------------------------------------------------------------ runs and their metrics

function refreshRuns(view: TrainingView): void {
  document.getElementById("runs")?.replaceWith(runsSection(view));
  renderLive();
}

function runsSection(view: TrainingView): HTMLElement {
  if (!view.runs.length) return el("section", { id: "runs" }, el("h2", { text: "Runs" }), el("p", { className: "muted", testId: "no-runs", text: "No training runs yet." }));
  const rows = view.runs.map((run) => runRow(run, view.live !== null));
  return el(
    "section",
    { id: "runs" },
    el("h2", { text: "Runs" }),
    el("table", { className: "eval-table", testId: "runs-table" }, el("thead", {}, el("tr", {}, ...["Chart", "Run", "State", "Step", "Checkpoints", ""].map((h) => el("th", { text: h })))), el("tbody", {}, ...rows)),
  );
}

function runRow(run: RunView, busy: boolean): HTMLElement {
  const overlay = checkbox("", state.overlay.includes(run.id), (on) => {
    state.overlay = on ? [...state.overlay, run.id] : state.overlay.filter((id) => id !== run.id);
    save();
    void loadMetrics();
  }, `Chart ${run.id}`);
  const resume = run.resumable && !busy ? [button("Resume", () => void host.request("training/resume", { runId: run.id, processes: state.form?.processes }).catch(showProblem), "secondary")] : [];
  const tr = el(
    "tr",
    { testId: "run-row" },
    el("td", {}, overlay),
    el("td", { text: run.id }),
    el("td", {}, el("span", { testId: "run-state", text: run.state }), ...(run.error ? [el("div", { className: "run-error", testId: "run-error", text: run.error })] : [])),
    el("td", { text: run.step === null ? "—" : `${run.step}/${run.totalSteps ?? "?"}` }),
    el("td", { testId: "run-checkpoints", text: run.checkpoints.length ? run.checkpoints.map((s) => `step-${s}`).join(", ") : "none" }),
    el("td", {}, ...resume),
  );
  tr.dataset.run = run.id;
  return tr;
}

function metricsSection(): HTMLElement {
  const cells = CHARTED_METRICS.map(([key, title]) => el("figure", { className: "train-chart" }, el("figcaption", { text: title }), canvas(`metric-${key}`, `${title} by step`)));
  return el("section", {}, el("h2", { text: "Metrics" }), el("div", { className: "train-charts", testId: "metric-charts" }, ...cells));
}

async function loadMetrics(): Promise<void> {
  const wanted = state.overlay.filter((id) => !metrics.has(id) || id === state.view?.live?.runId);
  if (wanted.length) {
    const loaded = await host.request("training/metrics", { runIds: wanted }).catch((): Record<string, MetricsLine[]> => ({}));
    for (const [id, lines] of Object.entries(loaded)) metrics.set(id, lines);
  }
  drawMetrics();
}

function drawMetrics(): void {
  const canvases = new Map<string, HTMLCanvasElement>();
  for (const [key] of CHARTED_METRICS) {
    const target = document.getElementById(`metric-${key}`);
    if (target instanceof HTMLCanvasElement) canvases.set(key, target);
  }
  charts?.destroy();
  charts = new MetricCharts(canvases);
  charts.draw(new Map(state.overlay.map((id) => [id, metrics.get(id) ?? []])));
}
