import * as vscode from "vscode";
import { cotSetDescription, cotSetDetails, listCotSets, readCotSetSummary, type CotSet } from "../core/cot/cotSets";
import { listRunFolders } from "../core/runs/runFolders";
import { summarizeRun, type RunState, type RunSummary } from "../core/training/runs";
import type { ExperimentWorkspace } from "../workspace";

/** A dataset row of the tree: its name and what is known of it so far. */
export interface DatasetLeaf {
  name: string;
  path: string;
  /** "164 tasks", "indexing…", or an error. */
  description: string;
  problem?: boolean;
}

export type DatasetLister = () => Promise<{ datasets: DatasetLeaf[]; problems: string[] }>;

type GroupId = "datasets" | "cots" | "runs";

interface GroupNode {
  kind: "group";
  id: GroupId;
}

interface LeafNode {
  kind: "leaf";
  label: string;
  command?: vscode.Command;
  contextValue?: string;
  description?: string;
  tooltip?: string | vscode.MarkdownString;
  resource?: vscode.Uri;
  icon: string;
  empty?: boolean;
}

type Node = GroupNode | LeafNode;

const GROUPS: Record<GroupId, { label: string; icon: string; empty: string }> = {
  datasets: {
    label: "Datasets",
    icon: "database",
    empty: "No datasets yet: declare them under `datasets:` in codistill.yaml.",
  },
  cots: {
    label: "CoT sets",
    icon: "comment-discussion",
    empty: "No reasoning yet: teacher CoTs are written to .codistill/cots/.",
  },
  runs: {
    label: "Runs",
    icon: "rocket",
    empty: "No training runs yet: runs are written to .codistill/runs/.",
  },
};

const RUN_ICONS: Record<RunState, string> = { finished: "pass", failed: "error", stopped: "debug-pause", started: "rocket", evaluation: "beaker", empty: "circle-outline" };

function runDescription(summary: RunSummary): string {
  const progress = summary.step !== null && summary.totalSteps !== null ? ` at step ${summary.step}/${summary.totalSteps}` : "";
  const checkpoints = summary.checkpoints.length ? `, ${summary.checkpoints.length} checkpoint(s)` : "";
  return `${summary.state}${progress}${checkpoints}`;
}

/** A set's tooltip: its name and path, then `lines`. */
function cotSetTooltip(set: CotSet, lines: string[]): vscode.MarkdownString {
  const tooltip = new vscode.MarkdownString().appendMarkdown("**").appendText(set.name).appendMarkdown("**  \n").appendText(set.path);
  for (const line of lines) tooltip.appendMarkdown("\n\n").appendText(line);
  return tooltip;
}

/** A set's row: its counts by status, or why it cannot be read (the tree never fails on one bad set). */
async function cotSetLeaf(set: CotSet): Promise<LeafNode> {
  const leaf = { kind: "leaf", label: set.name, resource: vscode.Uri.file(set.path) } as const;
  try {
    const counts = await readCotSetSummary(set.path);
    return { ...leaf, icon: "comment", description: cotSetDescription(counts), tooltip: cotSetTooltip(set, cotSetDetails(counts)) };
  } catch (err) {
    const problem = `cannot be read: ${(err as Error).message}`;
    return { ...leaf, icon: "error", description: problem, tooltip: cotSetTooltip(set, [problem]) };
  }
}

/** The Codistill explorer: Datasets, CoT sets and Runs of the first workspace folder. */
export class ExplorerTree implements vscode.TreeDataProvider<Node> {
  constructor(
    private readonly workspace: ExperimentWorkspace,
    private readonly listDatasets: DatasetLister,
  ) {}

  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  refresh(): void {
    this.changed.fire(undefined);
  }

  /**
   * Refreshes the tree as CoT sets are written, created or deleted. A set being generated gets a
   * record per task, so the refreshes are coalesced: at most one every `delayMs`.
   */
  watchCotSets(delayMs = 750): vscode.Disposable {
    const watcher = vscode.workspace.createFileSystemWatcher("**/.codistill/cots/*.jsonl");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refreshSoon = () => {
      timer ??= setTimeout(() => {
        timer = undefined;
        this.refresh();
      }, delayMs);
    };
    return vscode.Disposable.from(watcher, watcher.onDidCreate(refreshSoon), watcher.onDidChange(refreshSoon), watcher.onDidDelete(refreshSoon), { dispose: () => clearTimeout(timer) });
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === "group") {
      const group = GROUPS[node.id];
      const item = new vscode.TreeItem(group.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `codistill.${node.id}`;
      item.iconPath = new vscode.ThemeIcon(group.icon);
      item.contextValue = `codistill.group.${node.id}`;
      return item;
    }
    const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
    item.description = node.description;
    item.tooltip = node.tooltip ?? node.label;
    item.iconPath = new vscode.ThemeIcon(node.icon);
    if (node.resource) {
      item.resourceUri = node.resource;
      item.command = { command: "vscode.open", title: "Open", arguments: [node.resource] };
    }
    if (node.command) item.command = node.command;
    item.contextValue = node.contextValue ?? (node.empty ? "codistill.empty" : "codistill.item");
    return item;
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) return (Object.keys(GROUPS) as GroupId[]).map((id) => ({ kind: "group", id }));
    if (node.kind === "leaf") return [];
    const leaves = await this.leavesOf(node.id);
    return leaves.length > 0 ? leaves : [emptyLeaf(node.id)];
  }

  private async leavesOf(group: GroupId): Promise<LeafNode[]> {
    const root = this.workspace.root;
    if (!root) return [];
    if (group === "cots") {
      return Promise.all((await listCotSets(root)).map(cotSetLeaf));
    }
    if (group === "runs") {
      const runs = await listRunFolders(root);
      const summaries = await Promise.all(runs.map((run) => summarizeRun(run.path)));
      return runs.map((run, i) => ({
        kind: "leaf",
        label: run.id,
        description: runDescription(summaries[i]!),
        icon: RUN_ICONS[summaries[i]!.state],
        tooltip: `${run.path}\n${summaries[i]!.state}, last changed ${new Date(run.modifiedMs).toLocaleString()}${summaries[i]!.error ? `\n${summaries[i]!.error}` : ""}`,
      }));
    }
    const { datasets, problems } = await this.listDatasets();
    return [
      ...problems.map((problem): LeafNode => ({ kind: "leaf", label: problem, icon: "warning", tooltip: problem })),
      ...datasets.map((d): LeafNode => ({
        kind: "leaf",
        label: d.name,
        description: d.description,
        tooltip: `${d.path}\n${d.description}`,
        icon: d.problem ? "error" : "database",
        contextValue: "codistill.dataset",
        command: { command: "codistill.openDataset", title: "Open Dataset", arguments: [d.name] },
      })),
    ];
  }
}

function emptyLeaf(group: GroupId): LeafNode {
  const text = GROUPS[group].empty;
  return { kind: "leaf", label: text.split(":")[0]!, description: text.split(":").slice(1).join(":").trim(), tooltip: text, icon: "info", empty: true };
}
