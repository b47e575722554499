import * as vscode from "vscode";

export type SidecarLogLevel = "error" | "warning" | "info" | "debug";

export interface CodistillSettings {
  pythonPath: string;
  teacherEndpoint: string;
  teacherModel: string;
  sidecarLogLevel: SidecarLogLevel;
  requestTimeoutMs: number;
  torchIndexUrl: string;
  structure: StructureSettings;
}

export interface StructureSettings {
  enabled: boolean;
  /** Below these scores a function gets an Information, then a Warning diagnostic. */
  informationBelow: number;
  warningBelow: number;
  /** An exported ONNX encoder folder for the Code Lens's encoder cosine; "" = the workspace's export, if any. */
  encoder: string;
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
    structure: {
      enabled: c.get<boolean>("structure.enabled", true),
      informationBelow: clampScore(c.get<number>("structure.informationBelow", 0.8)),
      warningBelow: clampScore(c.get<number>("structure.warningBelow", 0.5)),
      encoder: c.get<string>("structure.encoder", "").trim(),
    },
  };
}

function clampScore(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

export function affectsStructure(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration("codistill.structure");
}

export function affectsSidecar(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration("codistill.pythonPath") || event.affectsConfiguration("codistill.sidecar");
}
