// "Codistill: Run Experiment": codistill.yaml's experiment (core/experiment) in the editor's
// sidecar, with the stage, arm and time left in a cancellable notification. Cancel stops the
// stage in flight cleanly (a training run at a checkpoint); running the command again carries on.
import * as vscode from "vscode";
import type { CodistillContext } from "../context";
import { datasetRequest, type ExperimentConfig } from "../core/experiment/config";
import { planExperiment, type ExperimentHost, type PlannedExperiment } from "../core/experiment/experiment";
import { PipelineCancelled, runPipeline, type StageOutcome } from "../core/experiment/pipeline";
import { describeEvent, overallFraction } from "../core/experiment/progress";
import { writeExperimentReport } from "../core/experiment/report";
import { readGitInfo } from "../core/runs/gitInfo";
import { openExperimentReport } from "./reportPanel";

let running: Promise<void> | undefined;

export async function runExperimentCommand(ctx: CodistillContext): Promise<void> {
  if (running) {
    void vscode.window.showInformationMessage("Codistill: the experiment is already running (see its notification).");
    return;
  }
  const config = await experimentConfig(ctx);
  if (!config) return;
  const root = ctx.workspace.requireRoot("the experiment runs in the folder of codistill.yaml");
  let planned: PlannedExperiment;
  try {
    planned = planExperiment(config, editorHost(ctx, root));
  } catch (err) {
    void showConfigError(ctx, (err as Error).message);
    return;
  }
  running = runWithProgress(ctx, planned).finally(() => (running = undefined));
  await running;
}

/** codistill.yaml, or undefined after telling the user what is wrong with it. */
async function experimentConfig(ctx: CodistillContext): Promise<ExperimentConfig | undefined> {
  const loaded = await ctx.workspace.experiment();
  if (!loaded?.config) {
    void vscode.window.showErrorMessage(loaded?.problems[0] ? `Codistill: ${loaded.problems[0]}` : "Codistill: open a folder with a codistill.yaml to run its experiment.");
    return undefined;
  }
  if (loaded.problems.length) {
    void showConfigError(ctx, `codistill.yaml has ${loaded.problems.length} problem(s); the first: ${loaded.problems[0]}`);
    return undefined;
  }
  return loaded.config;
}

async function showConfigError(ctx: CodistillContext, message: string): Promise<void> {
  const open = "Open codistill.yaml";
  ctx.log.error(message);
  const answer = await vscode.window.showErrorMessage(`Codistill: ${message}`, open);
  const root = ctx.workspace.root;
  if (answer === open && root) await vscode.window.showTextDocument(vscode.Uri.joinPath(vscode.Uri.file(root), "codistill.yaml"));
}

function editorHost(ctx: CodistillContext, root: string): ExperimentHost {
  return {
    root,
    sidecar: ctx.supervisor,
    openDataset: (decl) => ctx.datasets.complete(datasetRequest(decl)),
    reasoningSource: (set) => ctx.reasoning.experimentSource(set),
    git: () => readGitInfo(root),
    writeReport: (planned, context) => writeExperimentReport(planned, root, context.outcomes),
  };
}

async function runWithProgress(ctx: CodistillContext, planned: PlannedExperiment): Promise<void> {
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: "Codistill experiment", cancellable: true },
    async (progress, token) => {
      const stop = new AbortController();
      token.onCancellationRequested(() => stop.abort(new Error("cancelled")));
      let reported = 0;
      try {
        await ctx.supervisor.ready();
        const outcomes = await runPipeline(planned.stages, {
          out: planned.out,
          signal: stop.signal,
          log: (line) => ctx.log.info(`experiment: ${line}`),
          onEvent: (event) => {
            const fraction = overallFraction(event);
            progress.report({ message: describeEvent(event), increment: Math.max(0, (fraction - reported) * 100) });
            reported = Math.max(reported, fraction);
            if (event.type !== "progress") ctx.log.info(`experiment: ${describeEvent(event)}`);
          },
        });
        return { ok: true, outcomes } as const;
      } catch (err) {
        return { ok: false, error: err as Error } as const;
      }
    },
  );
  ctx.refreshExplorer();
  if (outcome.ok) return finished(ctx, planned, outcome.outcomes);
  if (outcome.error instanceof PipelineCancelled) {
    void vscode.window.showInformationMessage(`Codistill: the experiment was ${outcome.error.message}.`);
    return;
  }
  ctx.log.error(`experiment: ${outcome.error.message}`);
  const show = "Show Log";
  const answer = await vscode.window.showErrorMessage(`Codistill: the experiment stopped: ${outcome.error.message}`, show);
  if (answer === show) ctx.log.show();
}

async function finished(ctx: CodistillContext, planned: PlannedExperiment, outcomes: StageOutcome[]): Promise<void> {
  const ran = outcomes.filter((o) => o.outcome === "ran").length;
  const open = "Open Report";
  const answer = await vscode.window.showInformationMessage(
    `Codistill: the experiment is done (${ran} stage(s) ran, ${outcomes.length - ran} up to date); report in ${planned.out}.`,
    open,
  );
  if (answer === open) await openExperimentReport(ctx, planned.out);
}
