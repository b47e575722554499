// The experiment in the editor: "Run Experiment" and "Open Experiment Report".
import * as vscode from "vscode";
import type { CodistillContext } from "../context";
import { openExperimentReport } from "./reportPanel";
import { runExperimentCommand } from "./runCommand";

export function registerExperiment(ctx: CodistillContext): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand("codistill.runExperiment", () => runExperimentCommand(ctx)),
    vscode.commands.registerCommand("codistill.openExperimentReport", () => openExperimentReport(ctx)),
  ];
}
