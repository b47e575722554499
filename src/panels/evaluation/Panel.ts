import * as vscode from "vscode";
import type { CodistillContext } from "../../context";
import { evalDir, expectedOutputsCacheDir, listEvalModels, runEvaluation, type EvalModel, type EvalProgress } from "../../core/evaluation/runner";
import { readEvalResults, type EvalResults } from "../../core/evaluation/results";
import type { StructureState } from "../../core/evaluation/structureFile";
import { StructureJobs } from "../../core/evaluation/structureJobs";
import { findTask } from "../../core/evaluation/tasksFile";
import { EVALUATION_DEFAULTS, datasetRequest, type EvaluationDecl, type ExperimentConfig } from "../../core/experiment/config";
import { showReadOnlyDiff } from "../../editor/taskEditor";
import { PanelSlot } from "../shared/panelSlot";
import { PanelChannel } from "../shared/webviewHost";
import { comparisonRows, drillDownRows, type LoadedResults } from "./view";
import {
  PANEL_ID,
  PANEL_TITLE,
  evaluationValidators,
  type EvaluationReplies,
  type EvaluationToHost,
  type EvaluationToWebview,
  type EvaluationFocusView,
  type EvaluationView,
  type OpenSampleParams,
  type RunParams,
  type RunningView,
  type TaskRowView,
  type TasksParams,
} from "./protocol";

/** The "Codistill Evaluation" panel: choose models × benchmarks, run them, compare and drill down. */
export class EvaluationPanel implements vscode.Disposable {
  private static readonly slot = new PanelSlot({ viewType: PANEL_ID, title: PANEL_TITLE, bundle: "evaluation", create: (panel, ctx) => new EvaluationPanel(panel, ctx) });
  private readonly disposables: vscode.Disposable[] = [];
  private readonly channel: PanelChannel<EvaluationToHost, EvaluationToWebview, EvaluationReplies>;
  /** The folder being written is scored by the run itself, so it is not queued for background scoring. */
  private running: { abort: AbortController; view: RunningView; dir?: string } | undefined;
  private models: EvalModel[] = [];
  private lastOutcome: string | null = null;
  private focus: EvaluationFocusView | null = null;
  private readonly structureJobs = new StructureJobs({
    onSettled: (dir, error) => {
      if (error) this.ctx.log.error(`structure scores of ${dir}: ${error.message}`);
      void this.push().catch((err: Error) => this.ctx.log.error(`evaluation panel: ${err.message}`));
    },
  });

  static show(ctx: CodistillContext): EvaluationPanel {
    return EvaluationPanel.slot.show(ctx);
  }

  /**
   * The panel with `modelId` selected (a run's adapter, a checkpoint, or the base), from the Runs
   * view. Kept in every state pushed, not sent once: a webview still loading would miss it.
   */
  static showModel(ctx: CodistillContext, modelId: string | undefined): EvaluationPanel {
    const panel = EvaluationPanel.slot.show(ctx);
    if (modelId) panel.focus = { modelIds: [modelId], seq: Date.now() };
    panel.push().catch((err: Error) => ctx.log.error(`evaluation panel: ${err.message}`));
    return panel;
  }

  static revive(panel: vscode.WebviewPanel, ctx: CodistillContext): void {
    EvaluationPanel.slot.revive(panel, ctx);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly ctx: CodistillContext,
  ) {
    this.channel = new PanelChannel<EvaluationToHost, EvaluationToWebview, EvaluationReplies>(
      panel.webview,
      evaluationValidators,
      {
        "evaluation/ready": () => this.push(),
        "evaluation/refresh": () => this.push(),
        "evaluation/run": (p) => this.run(p),
        "evaluation/cancel": () => this.running?.abort.abort(),
        "evaluation/tasks": (p) => this.tasks(p),
        "evaluation/openSample": (p) => this.openSample(p),
      },
      ctx.log,
    );
    this.disposables.push(this.channel, panel.onDidDispose(() => this.dispose()));
  }

  private async config(): Promise<{ root: string; config: ExperimentConfig | undefined; problems: string[] }> {
    const root = this.ctx.workspace.requireRoot("evaluation results are written under .codistill/runs/ in the workspace");
    const { config, problems } = (await this.ctx.workspace.experiment()) ?? { config: undefined, problems: [] };
    if (!config && !problems.length) return { root, config, problems: ["No codistill.yaml in this workspace: add one with student.model and datasets."] };
    return { root, config, problems: [...problems] };
  }

  private async push(): Promise<void> {
    const view = await this.buildView();
    await this.channel.notify("evaluation/state", view);
  }

  private async buildView(): Promise<EvaluationView> {
    const { root, config, problems } = await this.config();
    this.models = await listEvalModels(root, config?.student?.model);
    const benchmarks = config?.datasets.map((d) => d.name) ?? [];
    const loaded = await this.loadResults(benchmarks, problems);
    const settings = config?.evaluation ?? EVALUATION_DEFAULTS;
    return {
      models: this.models.map(({ id, label, kind }) => ({ id, label, kind })),
      focus: this.focus,
      benchmarks,
      settings: { n: settings.n, temperature: settings.temperature, limit: settings.limit ?? null },
      rows: comparisonRows(loaded),
      problems,
      running: this.running?.view ?? null,
      lastOutcome: this.lastOutcome,
    };
  }

  /**
   * Every model × benchmark that has a results.json, with its structure scores (queued for scoring
   * when missing or stale); unreadable ones become problems naming the file.
   */
  private async loadResults(benchmarks: string[], problems: string[]): Promise<LoadedResults[]> {
    const loaded: LoadedResults[] = [];
    for (const model of this.models) {
      for (const benchmark of benchmarks) {
        const dir = evalDir(model, benchmark);
        try {
          const results = await readEvalResults(`${dir}/results.json`);
          loaded.push({ model, benchmark, results, structure: await this.structure(dir) });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "ENOENT") problems.push((err as Error).message);
        }
      }
    }
    return loaded;
  }

  private structure(dir: string): Promise<StructureState> {
    return this.structureJobs.state(dir, this.running?.dir === dir);
  }

  private async results(modelId: string, benchmark: string): Promise<{ model: EvalModel; results: EvalResults }> {
    const model = this.models.find((m) => m.id === modelId);
    if (!model) throw new Error(`No model "${modelId}": refresh the panel.`);
    return { model, results: await readEvalResults(`${evalDir(model, benchmark)}/results.json`) };
  }

  private async tasks(params: TasksParams): Promise<TaskRowView[]> {
    const { model, results } = await this.results(params.modelId, params.benchmark);
    return drillDownRows(results, await this.structure(evalDir(model, params.benchmark)));
  }

  /** The generated program beside the task's reference solution, in VS Code's diff editor. */
  private async openSample(params: OpenSampleParams): Promise<void> {
    const { model, results } = await this.results(params.modelId, params.benchmark);
    const task = results.tasks.find((t) => t.taskId === params.taskId);
    const sample = task?.samples[params.sample];
    if (!sample) throw new Error(`${results.path}: no sample ${params.sample} of task ${params.taskId}`);
    const reference = await findTask(results.tasksPath, params.taskId);
    const referenceText = reference?.solutions[0] ?? `# ${results.tasksPath} has no reference solution for ${params.taskId}\n`;
    const header = sample.status === "passed" ? "# passed\n" : `# ${sample.status}${sample.failedTest !== null ? ` at test ${sample.failedTest}` : ""}: ${(sample.message ?? "").split("\n").join("\n# ")}\n`;
    const name = params.taskId.replace(/[^\w.-]+/g, "_");
    await showReadOnlyDiff(
      { path: `/eval/${model.id}/${params.benchmark}/${name}.reference.py`, text: referenceText },
      { path: `/eval/${model.id}/${params.benchmark}/${name}.sample-${params.sample}.py`, text: header + sample.solution },
      `${params.taskId}: reference ↔ ${model.label} sample ${params.sample}`,
    );
  }

  private async run(params: RunParams): Promise<void> {
    if (this.running) throw new Error("An evaluation is already running: cancel it first.");
    const { root, config } = await this.config();
    if (!config) throw new Error("No codistill.yaml in this workspace.");
    const models = params.models.map((id) => this.models.find((m) => m.id === id) ?? fail(`unknown model "${id}": refresh the panel`));
    const decls = params.benchmarks.map((name) => config.datasets.find((d) => d.name === name) ?? fail(`no dataset "${name}" in codistill.yaml`));
    const settings: EvaluationDecl = { ...config.evaluation, n: params.n, temperature: params.temperature, ...(params.limit === null ? { limit: undefined } : { limit: params.limit }) };
    const abort = new AbortController();
    this.lastOutcome = null;
    const steps = models.length * decls.length;
    this.running = { abort, view: { modelLabel: models[0]!.label, benchmark: decls[0]!.name, step: 1, steps, phase: "export", done: 0, total: 1 } };
    void this.channel.notify("evaluation/progress", this.running.view);
    // The run outlives this request: the webview hears about it through progress and state.
    void this.runAll(models, decls, settings, expectedOutputsCacheDir(root), abort);
  }

  private async runAll(models: EvalModel[], decls: ExperimentConfig["datasets"], settings: EvaluationDecl, cacheDir: string, abort: AbortController): Promise<void> {
    const title = `Evaluating ${models.length} model(s) on ${decls.length} benchmark(s)`;
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
        token.onCancellationRequested(() => abort.abort());
        let step = 0;
        for (const model of models) {
          for (const decl of decls) {
            step++;
            this.running!.dir = evalDir(model, decl.name);
            const tasks = await this.ctx.datasets.complete(datasetRequest(decl));
            const report = (p: EvalProgress) => {
              const view: RunningView = { modelLabel: model.label, benchmark: decl.name, step, steps: models.length * decls.length, ...p };
              this.running!.view = view;
              progress.report({ message: `${model.label} on ${decl.name} (${step}/${view.steps}): ${p.phase} ${p.done}/${p.total}` });
              void this.channel.notify("evaluation/progress", view);
            };
            const outcome = await runEvaluation({ model, benchmark: decl.name, tasks, settings, cacheDir }, this.ctx.supervisor, report, abort.signal);
            this.ctx.log.info(`evaluation: ${model.label} on ${decl.name} -> ${outcome.resultsPath}`);
            await this.push();
          }
        }
      });
      void vscode.window.showInformationMessage(`Codistill: evaluation finished (${models.length * decls.length} result set(s)).`);
    } catch (err) {
      const message = abort.signal.aborted ? "evaluation cancelled; results already written are kept" : `evaluation failed: ${(err as Error).message}`;
      this.lastOutcome = message;
      this.ctx.log.error(message);
      void vscode.window[abort.signal.aborted ? "showWarningMessage" : "showErrorMessage"](`Codistill: ${message}`);
    } finally {
      this.running = undefined;
      void this.channel.notify("evaluation/progress", null);
      this.ctx.refreshExplorer();
      await this.push().catch((err: Error) => this.ctx.log.error(`evaluation panel: ${err.message}`));
    }
  }

  dispose(): void {
    EvaluationPanel.slot.release(this);
    this.running?.abort.abort();
    this.structureJobs.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
    this.panel.dispose();
  }
}

function fail(message: string): never {
  throw new Error(message);
}
