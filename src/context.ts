import type * as vscode from "vscode";
import type { DatasetRegistry } from "./core/datasets/registry";
import type { RecordEditor } from "./reasoning/editRecord";
import type { ReasoningService } from "./reasoning/service";
import type { SidecarSupervisor } from "./sidecar/supervisor";
import type { ExperimentWorkspace } from "./workspace";

/** Everything commands, views and panels share; built once by activate(). */
export interface CodistillContext {
  extension: vscode.ExtensionContext;
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  supervisor: SidecarSupervisor;
  /** The workspace folder and its codistill.yaml, read in this one place. */
  workspace: ExperimentWorkspace;
  /** Indexed datasets, shared by the browser, the tree and the commands. */
  datasets: DatasetRegistry;
  /** CoT sets: the teacher, the stores, review; shared by the Generate command, the browser and the tree. */
  reasoning: ReasoningService;
  /** Hand edits of CoT records, validated and appended on save. */
  recordEditor: RecordEditor;
  /** The interpreter the sidecar was last launched with, for display. */
  interpreterLabel(): string | undefined;
  /** Re-reads the Runs / CoT sets / Datasets tree. */
  refreshExplorer(): void;
}
