import { defaultRunName } from "../../src/core/runs/runNames";
import { curriculumPreview, CURRICULUM_SCHEDULES, runSteps, type CurriculumSchedule } from "../../src/core/training/curriculum";
import type { MetricsLine } from "../../src/core/training/runs";
import { COT_STATUS_CHOICES, COT_STATUS_FILTERS, LORA_PRESETS, trainingFormProblem, type BrowseField, type RunView, type TrainingForm, type TrainingReplies, type TrainingToHost, type TrainingToWebview, type TrainingView } from "../../src/panels/training/protocol";
import { HostConnection, el, renderOrExplain } from "../shared/host";
import { button, checkbox, dropdown, progressRing, registerToolkit, textField } from "../shared/toolkit";
import { CHARTED_METRICS, drawCurriculum, MetricCharts, NO_GPU } from "./charts";

/** What survives hiding the panel: the form being edited and the runs chosen for the charts. */
interface TrainingState {
  view?: TrainingView;
  form?: TrainingForm;
  overlay: string[];
  /** The run shown from the Runs view (its row selected), and the ask (FocusView.seq) applied last. */
  selected?: string;
  focusSeq?: number;
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
  if (state.form.maxSteps === undefined) state.form.maxSteps = view.form.maxSteps;
  if (!Array.isArray(state.form.datasets)) state.form.datasets = [...view.form.datasets];
  applyFocus(view);
  const known = new Set(view.runs.map((r) => r.id));
  state.overlay = state.overlay.filter((id) => known.has(id));
  if (view.live && !state.overlay.includes(view.live.runId)) state.overlay.unshift(view.live.runId);
  if (!state.overlay.length && view.runs[0]) state.overlay = [view.runs[0].id];
  save();
  // A run's steps and checkpoints push state often: while nothing else changed, only the runs
  // table and the progress line are redrawn, so the form (and a click on Stop) is left alone.
  const shape = JSON.stringify([view.problems, view.failure, view.live === null, view.previewSteps, view.cotSets, view.datasets, view.gradAccum]);
  if (shape === drawnShape && document.getElementById("runs")) refreshRuns(view);
  else renderSafely();
  drawnShape = shape;
  void loadMetrics();
});

host.on("training/progress", ({ runId, line }) => {
  const lines = metrics.get(runId) ?? [];
  lines.push(line);
  metrics.set(runId, lines);
  const live = state.view?.live;
  if (live?.runId === runId) {
    // The one step of the running run: the progress line and its row in the runs table read it.
    live.step = line.step;
    live.totalSteps = line.total_steps ?? live.totalSteps;
    live.message = `step ${line.step}/${live.totalSteps}`;
    const row = state.view?.runs.find((r) => r.id === runId);
    if (row) Object.assign(row, { step: live.step, totalSteps: live.totalSteps });
    const cell = document.querySelector(`[data-testid="run-row"][data-run="${CSS.escape(runId)}"] [data-testid="run-step"]`);
    if (cell && row) cell.textContent = stepText(row);
    renderLive();
  }
  if (!state.overlay.includes(runId)) return;
  if (!hasMetrics() || !charts?.append(runId, line, overlaid())) drawMetrics();
});

if (state.view) renderSafely();
else app.replaceChildren(el("p", { className: "muted", text: "Loading…" }));
host.notify("training/ready");

function save(): void {
  host.state = state;
}

/** A new ask to show a run (FocusView): select its row and chart it alone. */
function applyFocus(view: TrainingView): void {
  if (!view.focus || view.focus.seq === state.focusSeq) return;
  state.focusSeq = view.focus.seq;
  state.selected = view.focus.runId;
  state.overlay = [view.focus.runId];
  // Drawn after this state's render: the row is there by the next frame.
  requestAnimationFrame(() => document.querySelector(`[data-testid="run-row"][data-run="${CSS.escape(view.focus!.runId)}"]`)?.scrollIntoView({ block: "center" }));
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
  updateNameHint();
  updateDatasetNote();
  updateLengthNote();
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

/** Optimizer steps of the form's run: its max steps, or its datasets' tasks over the epochs. */
function formSteps(withMaxSteps = true): number {
  const f = state.form!;
  const view = state.view!;
  const examples = view.datasets.filter((d) => f.datasets.includes(d.name)).reduce((n, d) => n + (d.tasks ?? 0), 0);
  return runSteps({ examples: Math.max(1, examples), epochs: f.epochs, batchSize: f.batchSize, processes: f.processes, gradAccum: view.gradAccum, maxSteps: withMaxSteps ? f.maxSteps : null });
}

/** What decides the run's length, redrawn as the fields change. */
function updateLengthNote(): void {
  const note = document.querySelector<HTMLElement>('[data-testid="length-note"]');
  const f = state.form;
  if (!note || !f || !state.view) return;
  const byEpochs = formSteps(false);
  const epochs = `${f.epochs} epoch${f.epochs === 1 ? "" : "s"}`;
  note.textContent =
    typeof f.maxSteps === "number" && Number.isInteger(f.maxSteps) && f.maxSteps >= 1
      ? f.maxSteps < byEpochs
        ? `Max steps decides the length: the run ends after ${f.maxSteps} optimizer steps, before its ${epochs} (about ${byEpochs} steps) are done. max_steps, when set, ends the run before the epochs do.`
        : `The run ends after ${f.maxSteps} optimizer steps (max_steps wins over the epochs: ${epochs} would take about ${byEpochs} steps).`
      : `The epochs decide the length: ${epochs} over the checked datasets, about ${byEpochs} optimizer steps. Set max steps to end the run sooner.`;
  const preview = document.querySelector<HTMLElement>('[data-testid="preview-note"]');
  if (preview) preview.textContent = `Preview over about ${formSteps()} optimizer steps.`;
}

/** A number field whose change moves the run's length. */
function lengthInput(label: string, get: () => number, set: (v: number) => void, testId: string): HTMLElement {
  return numberInput(label, get, (v) => (set(v), updateLengthNote()), testId, true);
}

/** A full-width path field with "Browse…", which asks the host for a folder picker. */
function pathField(label: string, field: BrowseField, testId: string): HTMLElement {
  const f = state.form!;
  const input = textField(label, f[field], (v) => ((f[field] = v), save()), testId);
  input.style.flex = "1";
  const browse = button("Browse…", () => {
    host
      .request("training/browse", { field, current: f[field] })
      .then((picked) => {
        if (picked === null) return;
        f[field] = picked;
        input.value = picked;
        save();
      })
      .catch(showProblem);
  }, "secondary");
  browse.dataset.testid = `${testId}-browse`;
  browse.style.marginBottom = "2px";
  const row = el("div", { className: "path-field" }, input, browse);
  Object.assign(row.style, { display: "flex", alignItems: "flex-end", gap: "8px", width: "100%", marginTop: "12px" });
  return row;
}

/** The datasets of codistill.yaml to train on, training.datasets checked by default. */
function datasetsSection(view: TrainingView): HTMLElement[] {
  const f = state.form!;
  const listed = new Set(view.datasets.map((d) => d.name));
  const rows = [...view.datasets.map((d) => ({ name: d.name, counts: d.error !== null ? `⚠ cannot be read: ${d.error}` : `${d.tasks} task${d.tasks === 1 ? "" : "s"}` })), ...f.datasets.filter((n) => !listed.has(n)).map((name) => ({ name, counts: "⚠ not in codistill.yaml's datasets" }))];
  const boxes = rows.map(({ name, counts }) => {
    const box = checkbox(el("span", { testId: "dataset-label" }, name, hint(` — ${counts}`)), f.datasets.includes(name), (on) => {
      f.datasets = on ? [...f.datasets.filter((n) => n !== name), name] : f.datasets.filter((n) => n !== name);
      save();
      updateDatasetNote();
      updateLengthNote();
      drawPreview();
    }, name);
    box.dataset.testid = "dataset";
    box.dataset.dataset = name;
    return box;
  });
  return [
    el("h2", { text: "Datasets" }),
    el("p", { className: "muted", text: "The datasets of codistill.yaml to train on (training.datasets checked to begin with)." }),
    rows.length ? column("datasets", ...boxes) : el("p", { className: "muted", testId: "no-datasets", text: "codistill.yaml declares no datasets: add some under datasets: to train on them." }),
    el("p", { className: "callout error", testId: "dataset-problem" }),
  ];
}

function updateDatasetNote(): void {
  const problem = document.querySelector<HTMLElement>('[data-testid="dataset-problem"]');
  if (!problem || !state.form) return;
  const text = state.form.datasets.length ? "" : "Check at least one dataset to train on.";
  problem.textContent = text;
  problem.hidden = !text;
}

const SCHEDULE_HINTS: Record<CurriculumSchedule, string> = {
  linear: "Linear: α and β move in a straight line from start to end over the first part of the run, then hold.",
  cosine: "Cosine: α and β move from start to end along half a cosine (slow, fast, slow) over the first part of the run, then hold.",
  step: "Step: α and β move from start to end in equal jumps over the first part of the run, then hold.",
};

/** The schedule's own fields, with a one-line hint: "Steps" only for the step schedule. */
function scheduleFields(): HTMLElement {
  const c = state.form!.curriculum;
  return el(
    "div",
    { id: "schedule-fields" },
    el(
      "div",
      { className: "eval-fields" },
      numberInput("Move over (fraction of the run, 0–1)", () => c.warmupFraction, (v) => (c.warmupFraction = v), "warmup-fraction", true),
      ...(c.schedule === "step" ? [numberInput("Steps (equal jumps)", () => c.steps, (v) => (c.steps = v), "schedule-steps", true)] : []),
    ),
    el("p", { className: "muted", testId: "schedule-hint", text: `${SCHEDULE_HINTS[c.schedule]} Move over 1: the whole run; 0.5: its first half.` }),
  );
}

function formSection(view: TrainingView): HTMLElement {
  const f = state.form!;
  const c = f.curriculum;
  const running = view.live !== null;
  return el(
    "section",
    { className: "train-form" },
    el("h2", { text: "Run" }),
    el("div", { className: "eval-fields" }, textField("Run name", f.name ?? "", (v) => ((f.name = v), save(), updateNameHint()), "run-name")),
    el("p", { className: "muted", testId: "run-name-default" }),
    pathField("Student model folder", "student", "student"),
    pathField("Encoder folder (structural loss)", "encoder", "encoder"),
    el(
      "div",
      { className: "eval-fields" },
      dropdown("LoRA preset", LORA_PRESETS, f.loraPreset, (v) => ((f.loraPreset = v), save()), "lora"),
      numberInput("Learning rate", () => f.lr, (v) => (f.lr = v), "lr"),
      lengthInput("Epochs", () => f.epochs, (v) => (f.epochs = v), "epochs"),
      textField("Max steps (empty: the epochs decide)", f.maxSteps === null ? "" : String(f.maxSteps), (v) => {
        f.maxSteps = v.trim() === "" ? null : Number(v);
        save();
        updateLengthNote();
        drawPreview();
      }, "max-steps"),
      lengthInput("Batch size per GPU", () => f.batchSize, (v) => (f.batchSize = v), "batch"),
      lengthInput("Processes (GPUs)", () => f.processes, (v) => (f.processes = v), "processes"),
      numberInput("Sequence length", () => f.maxLength, (v) => (f.maxLength = v), "max-length"),
    ),
    el("p", { className: "muted", testId: "length-note" }),
    ...datasetsSection(view),
    ...cotSection(view),
    el("h2", { text: "α/β curriculum" }),
    el(
      "div",
      { className: "eval-fields" },
      numberInput("α start", () => c.alphaStart, (v) => (c.alphaStart = v), "alpha-start", true),
      numberInput("α end", () => c.alphaEnd, (v) => (c.alphaEnd = v), "alpha-end", true),
      numberInput("β start", () => c.betaStart, (v) => (c.betaStart = v), "beta-start", true),
      numberInput("β end", () => c.betaEnd, (v) => (c.betaEnd = v), "beta-end", true),
      dropdown("Schedule", CURRICULUM_SCHEDULES, c.schedule, (v) => {
        c.schedule = v;
        save();
        document.getElementById("schedule-fields")?.replaceWith(scheduleFields());
        drawPreview();
      }, "schedule"),
    ),
    scheduleFields(),
    el("div", { className: "train-chart small" }, canvas("curriculum-chart", "α and β over the training steps")),
    el("p", { className: "muted", testId: "preview-note", text: `Preview over about ${formSteps()} optimizer steps.` }),
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

/** The name an empty Run name field gives (defaultRunName, as the host computes it at Start). */
function updateNameHint(): void {
  const f = state.form;
  const hint = document.querySelector<HTMLElement>('[data-testid="run-name-default"]');
  if (!f || !hint) return;
  hint.textContent = f.name?.trim() ? "Shown in the Runs view and the Evaluation panel." : `Empty: "${defaultRunName(f.student, f.cotSets, new Date())}" (student, CoT sets or sft, start time).`;
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
  // The default name names the CoT sets.
  updateNameHint();
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
  drawCurriculum(target, curriculumPreview(state.form!.curriculum, formSteps()));
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
    ...selectedRun(view),
    el("table", { className: "eval-table", testId: "runs-table" }, el("thead", {}, el("tr", {}, ...["Chart", "Run", "State", "Step", "Checkpoints", ""].map((h) => el("th", { text: h })))), el("tbody", {}, ...rows)),
  );
}

/** "12/20": the running run's from the live progress, the one the progress line shows. */
function stepText(run: RunView): string {
  const live = state.view?.live;
  if (live?.runId === run.id && live.step > 0) return `${live.step}/${live.totalSteps || run.totalSteps || "?"}`;
  return run.step === null ? "—" : `${run.step}/${run.totalSteps ?? "?"}`;
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
    el("td", {}, el("div", { testId: "run-name", text: run.name }), ...(run.name === run.id ? [] : [el("div", { className: "muted", testId: "run-id", text: run.id })])),
    el("td", {}, el("span", { testId: "run-state", text: run.state }), ...(run.error ? [el("div", { className: "run-error", testId: "run-error", text: run.error })] : [])),
    el("td", { testId: "run-step", text: stepText(run) }),
    el("td", { testId: "run-checkpoints", text: run.checkpoints.length ? run.checkpoints.map((s) => `step-${s}`).join(", ") : "none" }),
    el("td", {}, ...resume),
  );
  tr.dataset.run = run.id;
  if (run.id === state.selected) {
    tr.classList.add("selected");
    tr.setAttribute("aria-selected", "true");
    // The shared table style has no selected row: the list's selection colours.
    tr.style.background = "var(--vscode-list-inactiveSelectionBackground)";
    tr.style.outline = "1px solid var(--vscode-focusBorder)";
  }
  return tr;
}

/** The run shown from the Runs view: its name, state and checkpoints above the table. */
function selectedRun(view: TrainingView): HTMLElement[] {
  const run = view.runs.find((r) => r.id === state.selected);
  if (!run) return [];
  const checkpoints = run.checkpoints.length ? run.checkpoints.map((s) => `step-${s}`).join(", ") : "none";
  const text = `Showing ${run.name} (${run.id}): ${run.state}${run.step === null ? "" : ` at step ${run.step}/${run.totalSteps ?? "?"}`}; checkpoints: ${checkpoints}. Its metrics are charted below.`;
  return [el("p", { className: "callout", testId: "selected-run", text })];
}

function metricsSection(): HTMLElement {
  const cells = CHARTED_METRICS.map(({ key, title, note }) => {
    const figure = el("figure", { className: "train-chart" }, el("figcaption", { text: title }), canvas(`metric-${key}`, `${title} by step`));
    figure.dataset.metric = key;
    if (key === "gpu_mem_peak") {
      const none = el("p", { className: "muted", testId: "no-gpu", text: NO_GPU });
      Object.assign(none.style, { position: "absolute", top: "45%", left: "0", right: "0", justifyContent: "center", margin: "0", pointerEvents: "none" });
      none.style.display = "none";
      figure.append(none);
    }
    if (!note) return figure;
    // The line saying what the chart plots, under it.
    const noteLine = el("p", { className: "muted", testId: `${key}-note`, text: note });
    noteLine.style.margin = "4px 0 0";
    return el("div", { className: "train-chart-cell" }, figure, noteLine);
  });
  const guidance = el("p", { className: "muted", testId: "metrics-guidance", text: "Start a run to see its metrics." });
  return el("section", {}, el("h2", { text: "Metrics" }), guidance, el("div", { className: "train-charts", testId: "metric-charts" }, ...cells));
}

/** The charted runs, each with the lines loaded so far. */
function overlaid(): Map<string, MetricsLine[]> {
  return new Map(state.overlay.map((id) => [id, metrics.get(id) ?? []]));
}

function hasMetrics(): boolean {
  return state.overlay.some((id) => (metrics.get(id)?.length ?? 0) > 0);
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
  for (const { key } of CHARTED_METRICS) {
    const target = document.getElementById(`metric-${key}`);
    if (target instanceof HTMLCanvasElement) canvases.set(key, target);
  }
  charts?.destroy();
  charts = undefined;
  // Nothing logged yet: one line of guidance instead of eight empty charts.
  const grid = document.querySelector<HTMLElement>('[data-testid="metric-charts"]');
  const guidance = document.querySelector<HTMLElement>('[data-testid="metrics-guidance"]');
  const any = hasMetrics();
  if (guidance) {
    const view = state.view;
    guidance.style.display = any ? "none" : "";
    guidance.textContent = view?.live ? `Run ${view.live.runId} has logged no step yet: its metrics show here from its first step.` : view?.runs.length ? "Check a run in the table to chart its metrics, or start a run." : "Start a run to see its metrics.";
  }
  if (grid) grid.style.display = any ? "" : "none";
  if (!any) return;
  charts = new MetricCharts(canvases, (noGpu) => {
    const none = document.querySelector<HTMLElement>('[data-testid="no-gpu"]');
    if (none) none.style.display = noGpu ? "" : "none";
  });
  charts.draw(overlaid());
}
