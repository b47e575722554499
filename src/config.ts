import * as vscode from "vscode";

export type SidecarLogLevel = "error" | "warning" | "info" | "debug";

export interface CodistillSettings {
  pythonPath: string;
  teacherEndpoint: string;
  teacherModel: string;
  sidecarLogLevel: SidecarLogLevel;
  requestTimeoutMs: number;
  torchIndexUrl: string;
}

/** The only reader of workspace configuration: everything else receives plain values. */
export function readSettings(scope?: vscode.ConfigurationScope): CodistillSettings {
  const c = vscode.workspace.getConfiguration("codistill", scope);
  return {
    pythonPath: c.get<string>("pythonPath", "").trim(),
    teacherEndpoint: c.get<string>("teacher.endpoint", ""),
    teacherModel: c.get<string>("teacher.model", ""),
    sidecarLogLevel: c.get<SidecarLogLevel>("sidecar.logLevel", "info"),
    requestTimeoutMs: Math.max(1, c.get<number>("sidecar.requestTimeoutSeconds", 60)) * 1000,
    torchIndexUrl: c.get<string>("python.torchIndexUrl", "").trim(),
  };
}

export function affectsSidecar(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration("codistill.pythonPath") || event.affectsConfiguration("codistill.sidecar");
}
