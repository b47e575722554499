import * as vscode from "vscode";
import type { CodistillContext } from "./context";
import { datasetRequest, type DatasetDecl } from "./core/experiment/config";
import { openTaskInEditor } from "./editor/taskEditor";
import { DatasetBrowserPanel, defaultDatasetName } from "./panels/datasetBrowser/Panel";

/** The datasets declared in codistill.yaml (its problems are reported by the workspace). */
async function declaredDatasets(ctx: CodistillContext): Promise<DatasetDecl[]> {
  return (await ctx.workspace.experiment())?.config?.datasets ?? [];
}

type DatasetPick = vscode.QuickPickItem & { decl?: DatasetDecl; browse?: true };

/**
 * "Codistill: Open Dataset…". With a dataset name (from the tree) or a file URI (from the
 * explorer) it opens that; otherwise it offers codistill.yaml's datasets and a file picker.
 * A second argument names the CoT set the browser reviews (Generate Reasoning's "Open in Browser").
 */
export async function openDatasetCommand(ctx: CodistillContext, arg?: unknown, cotSetArg?: unknown): Promise<void> {
  const declared = await declaredDatasets(ctx);
  const cotSet = typeof cotSetArg === "string" ? cotSetArg : undefined;
  if (typeof arg === "string") {
    const decl = declared.find((d) => d.name === arg);
    if (!decl) return void vscode.window.showErrorMessage(`No dataset named "${arg}" in codistill.yaml.`);
    return void (await DatasetBrowserPanel.open(ctx, datasetRequest(decl), cotSet));
  }
  if (arg instanceof vscode.Uri) {
    return void (await DatasetBrowserPanel.open(ctx, { path: arg.fsPath, name: defaultDatasetName(arg.fsPath) }));
  }
  const picks: DatasetPick[] = [
    ...declared.map((decl) => ({ label: decl.name, description: decl.format ?? "", detail: decl.path, decl })),
    { label: "$(folder-opened) Browse…", description: "a JSONL, JSON, .jsonl.gz or Parquet file, or a folder of TACO Parquet/JSONL files", browse: true as const },
  ];
  const pick = await vscode.window.showQuickPick(picks, {
    title: "Codistill: Open Dataset",
    placeHolder: declared.length ? "A dataset from codistill.yaml, or browse for a file" : "No datasets in codistill.yaml: browse for a file",
  });
  if (!pick) return;
  if (pick.decl) return void (await DatasetBrowserPanel.open(ctx, datasetRequest(pick.decl)));
  const uris = await vscode.window.showOpenDialog({
    title: "Open a dataset",
    canSelectFiles: true,
    canSelectFolders: true,
    canSelectMany: false,
    filters: { Datasets: ["jsonl", "json", "gz", "parquet"] },
  });
  if (uris?.[0]) await DatasetBrowserPanel.open(ctx, { path: uris[0].fsPath, name: defaultDatasetName(uris[0].fsPath) });
}

/** "Codistill: Open Task in Editor": the browser's selected task, or one picked from its dataset. */
export async function openTaskInEditorCommand(ctx: CodistillContext): Promise<void> {
  const selection = DatasetBrowserPanel.active?.selection;
  if (!selection) {
    const open = "Open Dataset…";
    const answer = await vscode.window.showInformationMessage("Open a dataset in the Codistill Dataset Browser first, then pick a task.", open);
    if (answer === open) await vscode.commands.executeCommand("codistill.openDataset");
    return;
  }
  let index = selection.selected;
  if (index === undefined) {
    const pick = await vscode.window.showQuickPick(
      selection.index.summaries.map((s) => ({ label: s.id, description: s.title, index: s.index })),
      { title: `Open a task of ${selection.request.name} in the editor`, matchOnDescription: true },
    );
    if (!pick) return;
    index = pick.index;
  }
  ctx.log.info(`opening task ${selection.index.summaries[index]?.id} in the editor`);
  await openTaskInEditor(ctx.workspace, selection.request, await selection.index.task(index));
}

/**
 * The tree's dataset rows: codistill.yaml's datasets with their task counts. Counting indexes
 * the file, so it runs in the background and the tree refreshes when a count arrives.
 */
export function datasetLister(ctx: CodistillContext, onCounted: () => void) {
  const counts = new Map<string, { text: string; problem?: boolean }>();
  const count = (decl: DatasetDecl) => {
    counts.set(decl.path, { text: "indexing…" });
    ctx.datasets.complete(datasetRequest(decl)).then(
      (index) => {
        const { rows, rejected } = index.stats();
        counts.set(decl.path, { text: `${rows.toLocaleString()} tasks${rejected.length ? `, ${rejected.length} rejected` : ""}` });
        onCounted();
      },
      (err: Error) => {
        counts.set(decl.path, { text: err.message, problem: true });
        onCounted();
      },
    );
  };
  return {
    forget: () => counts.clear(),
    list: async () => {
      const experiment = await ctx.workspace.experiment();
      if (!experiment) return { datasets: [], problems: [] };
      const datasets = (experiment.config?.datasets ?? []).map((decl) => {
        if (!counts.has(decl.path)) count(decl);
        const known = counts.get(decl.path)!;
        return { name: decl.name, path: decl.path, description: known.text, problem: known.problem };
      });
      return { datasets, problems: experiment.problems };
    },
  };
}
