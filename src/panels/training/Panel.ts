import { mkdir } from "node:fs/promises";
import { dirname, isAbsolute, join } from "node:path";
import * as vscode from "vscode";
import type { CodistillContext } from "../../context";
import { exportTasks } from "../../core/evaluation/runner";
import { datasetRequest, type ExperimentConfig } from "../../core/experiment/config";
import { readGitInfo } from "../../core/runs/gitInfo";
import { listRunFolders, writeRunInfo } from "../../core/runs/runFolders";
import { estimateSteps, formDefaults, missingCotSetsProblem, newRunId, planTrainingRun } from "../../core/training/launch";
import { isResumable, readMetrics, summarizeRun, type MetricsLine } from "../../core/training/runs";
import { describeCotSet, listCotSets, readCotSetSummary } from "../../core/cot/cotSets";
import { PanelSlot } from "../shared/panelSlot";
import { PanelChannel } from "../shared/webviewHost";
import type { TrainFailedParams, TrainFinishedParams, TrainProgressParams } from "../../sidecar/protocol";
import {
  PANEL_ID,
  PANEL_TITLE,
  trainingFormProblem,
  trainingValidators,
  type BrowseParams,
  type CotSetView,
  type DatasetView,
  type FailureView,
  type FocusView,
  type MetricsParams,
  type ResumeParams,
  type RunView,
  type TrainingForm,
  type TrainingReplies,
  type TrainingToHost,
  type TrainingToWebview,
  type TrainingView,
} from "./protocol";

interface LiveRun {
  runId: string;
  runDir: string;
  step: number;
  totalSteps: number;
  message: string;
}

/** The "Codistill Training" panel: the run form with its curriculum preview, Start/Stop/Resume, live and past metrics. */
export class TrainingPanel implements vscode.Disposable {
  private static readonly slot = new PanelSlot({ viewType: PANEL_ID, title: PANEL_TITLE, bundle: "training", create: (panel, ctx) => new TrainingPanel(panel, ctx) });
  private readonly disposables: vscode.Disposable[] = [];
  private readonly channel: PanelChannel<TrainingToHost, TrainingToWebview, TrainingReplies>;
  private live: LiveRun | undefined;
  private failure: FailureView | null = null;
  private form: TrainingForm | undefined;
  private focus: FocusView | null = null;

  static show(ctx: CodistillContext): TrainingPanel {
    const open = TrainingPanel.slot.active;
    const panel = TrainingPanel.slot.show(ctx);
    // A panel shown again reloads its webview, which asks for the state; one already in view is refreshed here.
    if (open) panel.push().catch((err: Error) => ctx.log.warn(`training: ${err.message}`));
    return panel;
  }

  static revive(panel: vscode.WebviewPanel, ctx: CodistillContext): void {
    TrainingPanel.slot.revive(panel, ctx);
  }

  /** The panel on one run (a click in the Runs view): its row selected, its metrics charted. */
  static showRun(ctx: CodistillContext, runId: string): TrainingPanel {
    const panel = TrainingPanel.show(ctx);
    // Kept in every state pushed, not sent once: a webview still loading would miss a one-off message.
    panel.focus = { runId, seq: Date.now() };
    panel.push().catch((err: Error) => ctx.log.warn(`training: ${err.message}`));
    return panel;
  }

  /** The run the open panel is training, if any: the Runs view will not delete it. */
  static trainingRunId(): string | undefined {
    return TrainingPanel.slot.active?.live?.runId;
  }

  /** Resume from the Runs view's context menu: the panel's own resume, with the form's processes. */
  async resumeRun(runId: string): Promise<void> {
    this.focus = { runId, seq: Date.now() };
    await this.resume({ runId });
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly ctx: CodistillContext,
  ) {
    this.channel = new PanelChannel<TrainingToHost, TrainingToWebview, TrainingReplies>(
      panel.webview,
      trainingValidators,
      {
        "training/ready": async () => {
          await this.adoptActiveRun();
          await this.push();
        },
        "training/start": (p) => this.start(p),
        "training/stop": () => this.stop(),
        "training/resume": (p) => this.resume(p),
        "training/metrics": (p) => this.metrics(p),
        "training/browse": (p) => this.browse(p),
      },
      ctx.log,
    );
    const detach = [
      ctx.supervisor.onNotification("train/progress", (p) => this.onProgress(p)),
      ctx.supervisor.onNotification("train/checkpoint", () => void this.push()),
      ctx.supervisor.onNotification("train/finished", (p) => void this.onFinished(p)),
      ctx.supervisor.onNotification("train/failed", (p) => void this.onFailed(p)),
    ];
    this.disposables.push(this.channel, { dispose: () => detach.forEach((d) => d()) }, panel.onDidDispose(() => this.dispose()));
  }

  private async experiment(): Promise<{ root: string; config: ExperimentConfig; problems: string[] }> {
    const root = this.ctx.workspace.requireRoot("runs are written under .codistill/runs/ in the workspace");
    const { config, problems } = (await this.ctx.workspace.experiment()) ?? { config: undefined, problems: [] };
    if (!config) throw new Error(problems[0] ?? "No codistill.yaml in this workspace: add one with student, encoder, datasets and a training section.");
    return { root, config, problems: [...problems] };
  }

  /** Every dataset of codistill.yaml with its tasks, for the datasets picker and the step estimate. */
  private async datasetViews(config: ExperimentConfig): Promise<DatasetView[]> {
    return Promise.all(
      config.datasets.map(async (decl): Promise<DatasetView> => {
        try {
          return { name: decl.name, tasks: (await this.ctx.datasets.complete(datasetRequest(decl))).summaries.length, error: null };
        } catch (err) {
          return { name: decl.name, tasks: null, error: (err as Error).message };
        }
      }),
    );
  }

  /** Every CoT set of .codistill/cots/ with its counts; one that cannot be read says why. */
  private async cotSets(root: string): Promise<CotSetView[]> {
    return Promise.all(
      (await listCotSets(root)).map(async (set): Promise<CotSetView> => {
        try {
          const counts = await readCotSetSummary(set.path);
          return { name: set.name, tasks: counts.summary.total, counts: describeCotSet(counts), error: null };
        } catch (err) {
          const error = (err as Error).message;
          return { name: set.name, tasks: 0, counts: `cannot be read: ${error}`, error };
        }
      }),
    );
  }

  private async buildView(): Promise<TrainingView> {
    const { root, config, problems } = await this.experiment();
    this.form ??= formDefaults(config);
    const form = this.form;
    const datasets = await this.datasetViews(config);
    // Tasks of the form's datasets: the step estimate; one that cannot be read is named.
    let tasks = 0;
    for (const d of datasets.filter((d) => (form.datasets ?? []).includes(d.name))) {
      if (d.error !== null) problems.push(d.error);
      tasks += d.tasks ?? 0;
    }
    const runs: RunView[] = [];
    for (const run of await listRunFolders(root)) {
      const summary = await summarizeRun(run.path);
      if (summary.state === "evaluation") continue;
      const running = this.live?.runId === run.id;
      // The running run's step is the live one (train/progress), the same the progress line shows:
      // metrics.jsonl is read only when the panel redraws, at a checkpoint.
      const step = running && this.live!.step > 0 ? { step: this.live!.step, totalSteps: this.live!.totalSteps || summary.totalSteps } : {};
      runs.push({ id: run.id, name: run.name, ...summary, ...step, state: running ? "running" : summary.state, resumable: !running && isResumable(summary) });
    }
    if (!config.training) problems.push("codistill.yaml has no training section: add training.datasets (and cots) to start a run.");
    return {
      form: this.form,
      focus: this.focus,
      previewSteps: estimateSteps(Math.max(1, tasks), this.form, config.training?.settings ?? {}),
      datasets,
      gradAccum: typeof config.training?.settings.grad_accum === "number" ? Math.max(1, config.training.settings.grad_accum) : 1,
      cotSets: await this.cotSets(root),
      runs,
      live: this.live ? { runId: this.live.runId, step: this.live.step, totalSteps: this.live.totalSteps, message: this.live.message } : null,
      failure: this.failure,
      problems,
    };
  }

  /** A reopened panel finds the run the sidecar is still training (train/status); never starts the sidecar for it. */
  private async adoptActiveRun(): Promise<void> {
    if (this.live || this.ctx.supervisor.state !== "ready") return;
    try {
      const { active } = await this.ctx.supervisor.request("train/status", undefined);
      if (!active || this.live) return;
      const totalSteps = active.totalSteps ?? 0;
      const message = active.totalSteps === null ? `step ${active.step}` : `step ${active.step}/${active.totalSteps}`;
      this.live = { runId: active.runId, runDir: active.runDir, step: active.step, totalSteps, message };
      this.ctx.log.info(`training: ${active.runId} is still training (step ${active.step}) in ${active.runDir}`);
    } catch (err) {
      this.ctx.log.warn(`training: train/status: ${(err as Error).message}`);
    }
  }

  private async push(): Promise<void> {
    await this.channel.notify("training/state", await this.buildView());
  }

  /**
   * "Codistill: Start Training Run": codistill.yaml's run as the form first fills it in
   * (formDefaults), by the same start path as the form's Start. Resolves with its run id once the
   * sidecar has started it.
   */
  async startConfiguredRun(): Promise<string> {
    const { config } = await this.experiment();
    const form = formDefaults(config);
    const problem = trainingFormProblem(form);
    if (problem) throw new Error(`codistill.yaml: ${problem}`);
    await this.start(form);
    return this.live?.runId ?? "";
  }

  /** "Browse…" beside a path field: a folder picker opened at the field's folder. */
  private async browse({ field, current }: BrowseParams): Promise<string | null> {
    const root = this.ctx.workspace.requireRoot("the model folders are relative to the workspace");
    const at = current.trim() ? vscode.Uri.file(isAbsolute(current) ? current : join(root, current)) : vscode.Uri.file(root);
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      defaultUri: at,
      openLabel: field === "student" ? "Use as student model" : "Use as encoder",
      title: field === "student" ? "The student model: a Hugging Face causal-LM folder" : "The encoder of the structural loss: a Hugging Face encoder folder",
    });
    return picked?.[0]?.fsPath ?? null;
  }

  private async start(form: TrainingForm): Promise<void> {
    if (this.live) throw new Error(`Run ${this.live.runId} is still training: stop it first.`);
    const { root, config } = await this.experiment();
    this.form = form;
    const missing = missingCotSetsProblem(form.cotSets, (await listCotSets(root)).map((s) => s.name));
    if (missing) throw new Error(missing);
    const plan = planTrainingRun(root, config, form, newRunId(new Date(), config.name));
    this.failure = null;
    this.live = { runId: plan.runId, runDir: plan.runDir, step: 0, totalSteps: 0, message: "exporting tasks" };
    await this.push();
    try {
      // Before train/start: the run is listed by its name from the moment its folder exists.
      await mkdir(plan.runDir, { recursive: true });
      await writeRunInfo(plan.runDir, { name: plan.name, createdAt: new Date().toISOString() });
      for (const { dataset, out } of plan.exports) {
        const decl = config.datasets.find((d) => d.name === dataset)!;
        await mkdir(dirname(out), { recursive: true });
        const index = await this.ctx.datasets.complete(datasetRequest(decl));
        await exportTasks(index, out);
      }
      const git = await readGitInfo(root).catch(() => null);
      this.live.message = "starting";
      await this.push();
      const started = await this.ctx.supervisor.request("train/start", { config: plan.config, runDir: plan.runDir, workspace: root, git, processes: plan.processes }, { timeoutMs: 0 });
      this.ctx.log.info(`training: started ${started.runId} on ${started.device} (${plan.processes} process(es)) in ${started.runDir}`);
      // e.g. no GPU: the run goes on, on the CPU, which suits small models only.
      for (const warning of started.warnings) void vscode.window.showWarningMessage(`Codistill: ${warning}`);
    } catch (err) {
      this.live = undefined;
      this.failure = { runId: plan.runId, message: (err as Error).message, suggestions: [] };
      await this.push();
      throw err;
    }
    this.ctx.refreshExplorer();
  }

  private async stop(): Promise<void> {
    if (!this.live) throw new Error("No run is training.");
    this.live.message = "stopping: saving a checkpoint";
    await this.push();
    await this.ctx.supervisor.request("train/stop", { runId: this.live.runId }, { timeoutMs: 0 });
  }

  private async resume({ runId, processes }: ResumeParams): Promise<void> {
    if (this.live) throw new Error(`Run ${this.live.runId} is still training: stop it first.`);
    const { root } = await this.experiment();
    const runDir = `${root}/.codistill/runs/${runId}`;
    this.failure = null;
    this.live = { runId, runDir, step: 0, totalSteps: 0, message: "resuming" };
    await this.push();
    try {
      // The form's processes (default 1): the sidecar names params.processes when the checkpoint was written by another number.
      await this.ctx.supervisor.request("train/resume", { runDir, workspace: root, processes: processes ?? this.form?.processes ?? 1 }, { timeoutMs: 0 });
    } catch (err) {
      this.live = undefined;
      this.failure = { runId, message: (err as Error).message, suggestions: [] };
      await this.push();
      throw err;
    }
  }

  private async metrics(params: MetricsParams): Promise<Record<string, MetricsLine[]>> {
    const { root } = await this.experiment();
    const out: Record<string, MetricsLine[]> = {};
    for (const runId of params.runIds) {
      out[runId] = await readMetrics(`${root}/.codistill/runs/${runId}/metrics.jsonl`).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return [];
        throw err;
      });
    }
    return out;
  }

  private onProgress(p: TrainProgressParams): void {
    if (!this.live || p.runId !== this.live.runId) return;
    this.live.step = p.step;
    this.live.totalSteps = p.totalSteps;
    this.live.message = `step ${p.step}/${p.totalSteps}`;
    void this.channel.notify("training/progress", { runId: p.runId, line: { ...p.metrics, step: p.step, total_steps: p.totalSteps } });
  }

  private async onFinished(p: TrainFinishedParams): Promise<void> {
    if (this.live?.runId === p.runId) this.live = undefined;
    void vscode.window.showInformationMessage(`Codistill: run ${p.runId} ${p.stopped ? "stopped; it can be resumed" : "finished"}.`);
    this.ctx.refreshExplorer();
    await this.push();
  }

  private async onFailed(p: TrainFailedParams): Promise<void> {
    if (this.live?.runId === p.runId) this.live = undefined;
    this.failure = { runId: p.runId, message: p.message, suggestions: p.suggestions ?? [] };
    this.ctx.log.error(`training ${p.runId} failed: ${p.message}`);
    void vscode.window.showErrorMessage(`Codistill: run ${p.runId} failed: ${p.message}`);
    this.ctx.refreshExplorer();
    await this.push();
  }

  dispose(): void {
    TrainingPanel.slot.release(this);
    while (this.disposables.length) this.disposables.pop()?.dispose();
    this.panel.dispose();
  }
}
