import * as vscode from "vscode";

export type SidecarLogLevel = "error" | "warning" | "info" | "debug";

export interface CodistillSettings {
  pythonPath: string;
  teacher: TeacherSettingsView;
  sidecarLogLevel: SidecarLogLevel;
  requestTimeoutMs: number;
  torchIndexUrl: string;
  structure: StructureSettings;
}

/** The teacher of "Generate Reasoning": an OpenAI-compatible endpoint, or the offline rationalizer when it is empty. */
export interface TeacherSettingsView {
  endpoint: string;
  model: string;
  temperature: number;
  maxTokens: number;
  concurrency: number;
  maxRetries: number;
  timeoutMs: number;
  stream: boolean;
  mode: "blind" | "rationalize";
  /** A template file (absolute, or relative to the workspace folder); "" = the one that ships. */
  promptTemplate: string;
  /** Run the teacher's code against the task's tests in the sidecar's sandbox. */
  verify: boolean;
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
    teacher: {
      endpoint: c.get<string>("teacher.endpoint", "").trim(),
      model: c.get<string>("teacher.model", "").trim(),
      temperature: Math.max(0, c.get<number>("teacher.temperature", 0.2)),
      maxTokens: Math.max(1, Math.floor(c.get<number>("teacher.maxTokens", 2048))),
      concurrency: Math.max(1, Math.floor(c.get<number>("teacher.concurrency", 8))),
      maxRetries: Math.max(0, Math.floor(c.get<number>("teacher.maxRetries", 3))),
      timeoutMs: Math.max(1, c.get<number>("teacher.timeoutSeconds", 120)) * 1000,
      stream: c.get<boolean>("teacher.stream", true),
      mode: c.get<string>("teacher.mode", "blind") === "rationalize" ? "rationalize" : "blind",
      promptTemplate: c.get<string>("teacher.promptTemplate", "").trim(),
      verify: c.get<boolean>("teacher.verify", true),
    },
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
