import type * as vscode from "vscode";
import type { SidecarSupervisor } from "./sidecar/supervisor";

/** Everything commands, views and panels share; built once by activate(). */
export interface CodistillContext {
  extension: vscode.ExtensionContext;
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  supervisor: SidecarSupervisor;
  /** The interpreter the sidecar was last launched with, for display. */
  interpreterLabel(): string | undefined;
  /** Re-reads the Runs / CoT sets / Datasets tree. */
  refreshExplorer(): void;
}
