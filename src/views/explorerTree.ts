import * as vscode from "vscode";
import { cotSetDescription, cotSetDetails, listCotSets, readCotSetSummary, type CotSet } from "../core/cot/cotSets";
import { baseRunId } from "../core/evaluation/runner";
import { listRunFolders } from "../core/runs/runFolders";
import { evalModelIdOf, groupRuns, RUN_ICONS, runContextValue, runDescription, runTooltipLines, type RunEntry } from "../core/runs/runsView";
import { isResumable, summarizeRun } from "../core/training/runs";
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
/** The Runs group's two groups: training runs, and evaluation-only folders (a base model's). */
type RunGroupId = "training" | "evaluations";

interface GroupNode {
  kind: "group";
  id: GroupId;
}

interface RunGroupNode {
  kind: "runGroup";
  id: RunGroupId;
}

/**
 * What the run commands (codistill.openRun, resumeRun, evaluateRun, revealRun, deleteRun) are given:
 * a click passes it, the context menu passes the row's node, which carries it as `run`.
 */
export interface RunRef {
  id: string;
  name: string;
  path: string;
  /** A training run, or an evaluation-only folder. */
  kind: "training" | "evaluation";
  resumable: boolean;
  /** The Evaluation panel's model for the run (runsView's evalModelIdOf), if it has one. */
  evalModelId?: string;
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
  run?: RunRef;
  /** A stable TreeItem id: the row keeps its identity (selection, focus) across refreshes. */
  id?: string;
}

type Node = GroupNode | RunGroupNode | LeafNode;

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

const RUN_GROUPS: Record<RunGroupId, { label: string; icon: string; empty: string }> = {
  training: { label: "Training runs", icon: "rocket", empty: "No training runs yet: start one from the Training panel." },
  evaluations: { label: "Evaluations", icon: "beaker", empty: "No evaluations yet: base-model results appear here once evaluated." },
};

/** A run's row: labelled with its name, the id in the description; a click opens it (codistill.openRun). */
function runLeaf({ folder, summary }: RunEntry, student: string | undefined): LeafNode {
  const run: RunRef = {
    id: folder.id,
    name: folder.name,
    path: folder.path,
    kind: summary.state === "evaluation" ? "evaluation" : "training",
    resumable: isResumable(summary),
    evalModelId: evalModelIdOf(folder, summary, student ? baseRunId(student) : undefined),
  };
  return {
    kind: "leaf",
    id: `codistill.run.${folder.id}`,
    label: folder.name,
    description: runDescription(folder, summary),
    icon: RUN_ICONS[summary.state],
    tooltip: runTooltipLines(folder, summary).join("\n"),
    contextValue: runContextValue(summary),
    command: { command: "codistill.openRun", title: "Open Run", arguments: [run] },
    run,
  };
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
    if (node.kind === "runGroup") {
      const group = RUN_GROUPS[node.id];
      const item = new vscode.TreeItem(group.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `codistill.runs.${node.id}`;
      item.iconPath = new vscode.ThemeIcon(group.icon);
      item.contextValue = `codistill.group.runs.${node.id}`;
      return item;
    }
    if (node.kind === "group") {
      const group = GROUPS[node.id];
      const item = new vscode.TreeItem(group.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `codistill.${node.id}`;
      item.iconPath = new vscode.ThemeIcon(group.icon);
      item.contextValue = `codistill.group.${node.id}`;
      return item;
    }
    const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
    if (node.id) item.id = node.id;
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
    if (node.kind === "runGroup") {
      const leaves = await this.runLeaves(node.id);
      return leaves.length > 0 ? leaves : [emptyLeaf(RUN_GROUPS[node.id].empty)];
    }
    if (node.id === "runs") return this.workspace.root ? [{ kind: "runGroup", id: "training" }, { kind: "runGroup", id: "evaluations" }] : [emptyLeaf(GROUPS.runs.empty)];
    const leaves = await this.leavesOf(node.id);
    return leaves.length > 0 ? leaves : [emptyLeaf(GROUPS[node.id].empty)];
  }

  /** One of the Runs groups, newest first (groupRuns). */
  private async runLeaves(group: RunGroupId): Promise<LeafNode[]> {
    const root = this.workspace.root;
    if (!root) return [];
    const folders = await listRunFolders(root);
    const entries = await Promise.all(folders.map(async (folder) => ({ folder, summary: await summarizeRun(folder.path) })));
    // The student's base-model folder maps to the Evaluation panel's "base" model.
    const student = (await this.workspace.experiment().catch(() => undefined))?.config?.student?.model;
    return groupRuns(entries)[group].map((entry) => runLeaf(entry, student));
  }

  private async leavesOf(group: GroupId): Promise<LeafNode[]> {
    const root = this.workspace.root;
    if (!root) return [];
    if (group === "cots") {
      return Promise.all((await listCotSets(root)).map(cotSetLeaf));
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

function emptyLeaf(text: string): LeafNode {
  return { kind: "leaf", label: text.split(":")[0]!, description: text.split(":").slice(1).join(":").trim(), tooltip: text, icon: "info", empty: true };
}
