// "Codistill: Generate Reasoning for Dataset…": pick a dataset and a CoT set name, then generate
// with cancellable progress (done/total, rate, ETA, failures). A set that already has records is
// resumed; a run that was cancelled or had failures offers Resume.
import { basename } from "node:path";
import * as vscode from "vscode";
import type { CodistillContext } from "../context";
import { datasetTasks, generateCots, type GenerateProgress, type GenerateReport } from "../core/cot/generate";
import { verifiedShare } from "../core/cot/stats";
import type { DatasetRequest } from "../core/datasets/registry";
import { datasetRequest } from "../core/experiment/config";
import { COT_SET_NAME } from "./service";

/** What one run generates: a dataset into a set. The command's arguments, for scripts and Resume. */
export interface GenerateTarget {
  dataset: DatasetRequest;
  set: string;
}

export async function generateReasoningCommand(ctx: CodistillContext, arg?: unknown): Promise<void> {
  const target = isTarget(arg) ? arg : await pickTarget(ctx, typeof arg === "string" ? arg : undefined);
  if (!target) return;
  await runGeneration(ctx, target);
}

function isTarget(value: unknown): value is GenerateTarget {
  const v = value as Partial<GenerateTarget> | undefined;
  return typeof v === "object" && v !== null && typeof v.set === "string" && typeof v.dataset?.path === "string";
}

async function pickTarget(ctx: CodistillContext, datasetName?: string): Promise<GenerateTarget | undefined> {
  const declared = (await ctx.workspace.experiment())?.config?.datasets ?? [];
  let dataset: DatasetRequest | undefined;
  const named = declared.find((d) => d.name === datasetName);
  if (named) dataset = datasetRequest(named);
  else {
    const picks = [
      ...declared.map((decl) => ({ label: decl.name, description: decl.format ?? "", detail: decl.path, request: datasetRequest(decl) })),
      { label: "$(folder-opened) Browse…", description: "a dataset file or folder", request: undefined },
    ];
    const pick = await vscode.window.showQuickPick(picks, { title: "Codistill: Generate Reasoning — dataset", placeHolder: "The dataset whose tasks the teacher explains" });
    if (!pick) return undefined;
    dataset = pick.request ?? (await browseDataset());
  }
  if (!dataset) return undefined;
  const set = await vscode.window.showInputBox({
    title: "Codistill: Generate Reasoning — CoT set",
    prompt: "The CoT set to write, .codistill/cots/<name>.jsonl. An existing set is resumed: tasks it has are skipped.",
    value: `${dataset.name}-cots`,
    validateInput: (value) => (COT_SET_NAME.test(value) ? undefined : 'Letters, digits, ".", "-" and "_" only'),
  });
  return set ? { dataset, set } : undefined;
}

async function browseDataset(): Promise<DatasetRequest | undefined> {
  const uris = await vscode.window.showOpenDialog({ title: "A dataset to generate reasoning for", canSelectFiles: true, canSelectFolders: true, canSelectMany: false });
  const path = uris?.[0]?.fsPath;
  return path ? { path, name: basename(path).replace(/\.(jsonl|json|parquet)(\.gz)?$/, "") } : undefined;
}

async function runGeneration(ctx: CodistillContext, target: GenerateTarget): Promise<void> {
  const reasoning = ctx.reasoning;
  let report: GenerateReport | undefined;
  try {
    const source = await reasoning.source();
    const store = await reasoning.store(target.set);
    const teacher = reasoning.teacherSettings();
    ctx.log.info(`generating reasoning for ${target.dataset.path} into ${store.path} with ${source.identity.model}${source.identity.endpoint ? ` at ${source.identity.endpoint}` : ""}`);
    report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Codistill: reasoning for ${target.dataset.name} → ${target.set}`, cancellable: true },
      async (progress, token) => {
        const stop = new AbortController();
        token.onCancellationRequested(() => stop.abort(new Error("cancelled")));
        progress.report({ message: "indexing the dataset…" });
        const index = await ctx.datasets.complete(target.dataset);
        let shown = 0;
        const verifier = reasoning.verifier();
        return generateCots(datasetTasks(index), store, {
          source,
          concurrency: teacher.concurrency,
          maxReasks: teacher.maxRetries,
          ...(verifier ? { verifier } : {}),
          signal: stop.signal,
          onProgress: (p) => {
            const percent = p.total ? (100 * p.done) / p.total : 100;
            progress.report({ message: progressMessage(p), increment: percent - shown });
            shown = percent;
            if (p.done % 10 === 0 || p.done === p.total) ctx.refreshExplorer();
          },
        });
      },
    );
  } catch (err) {
    ctx.log.error(`reasoning generation: ${(err as Error).stack ?? err}`);
    const resume = "Resume";
    const answer = await vscode.window.showErrorMessage(`Codistill: generating reasoning failed: ${(err as Error).message} What was written is kept.`, resume);
    if (answer === resume) return runGeneration(ctx, target);
    return;
  } finally {
    ctx.refreshExplorer();
  }
  await reportOutcome(ctx, target, report);
}

export function progressMessage(p: GenerateProgress): string {
  const eta = p.etaS === null ? "" : ` · ETA ${formatDuration(p.etaS)}`;
  const failures = p.failed ? ` · ${p.failed} failed` : "";
  const invalid = p.invalid ? ` · ${p.invalid} invalid` : "";
  const verified = p.verifiedDone ? ` · ${p.verifiedPassed}/${p.verifiedDone} verified` : "";
  const skipped = p.skipped ? ` (${p.skipped} already done)` : "";
  return `${p.done}/${p.total}${skipped} · ${p.rate.toFixed(1)}/s${eta}${failures}${invalid}${verified}`;
}

function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.ceil(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

async function reportOutcome(ctx: CodistillContext, target: GenerateTarget, report: GenerateReport): Promise<void> {
  const { summary } = report;
  const share = verifiedShare(summary);
  const counts = `${summary.total} tasks: ${summary.verified} verified, ${summary.valid} valid, ${summary.failedVerification} failed verification, ${summary.invalid} invalid, ${summary.failed} failed${share === null ? "" : ` (verified share ${(share * 100).toFixed(0)}%)`}`;
  ctx.log.info(`reasoning ${target.set}: ${report.asked} asked, ${report.skipped} skipped in ${report.seconds.toFixed(1)} s; ${counts}`);
  for (const failure of report.failures) ctx.log.warn(`reasoning ${target.set}: ${failure.taskId}: ${failure.reason}`);
  if (report.verificationError) ctx.log.error(`reasoning ${target.set}: verification: ${report.verificationError}`);
  const resume = "Resume";
  const browse = "Open in Browser";
  const unfinished = report.cancelled || report.failures.length > 0 || report.verificationError !== undefined;
  const why = report.cancelled ? "Cancelled" : report.verificationError ? `Verification could not run (${report.verificationError})` : report.failures.length ? `${report.failures.length} tasks failed (see the Codistill log)` : "Done";
  const show = unfinished ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  const answer = await show(`Codistill: ${target.set}: ${why}. ${counts}.`, ...(unfinished ? [resume, browse] : [browse]));
  if (answer === resume) await runGeneration(ctx, target);
  else if (answer === browse) await vscode.commands.executeCommand("codistill.openDataset", target.dataset.name, target.set);
}
