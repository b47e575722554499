import * as vscode from "vscode";
import type { GenerationBackend } from "./core/generation/students";

export type SidecarLogLevel = "error" | "warning" | "info" | "debug";

export interface CodistillSettings {
  pythonPath: string;
  teacher: TeacherSettingsView;
  sidecarLogLevel: SidecarLogLevel;
  requestTimeoutMs: number;
  torchIndexUrl: string;
  structure: StructureSettings;
  generation: GenerationSettings;
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

/** "Codistill: Generate Code" and the inline completions. */
export interface GenerationSettings {
  backend: GenerationBackend;
  /** A student folder (an ONNX export, a run folder, an adapter or a model folder); "" = the latest run's. */
  model: string;
  maxNewTokens: number;
  /** 0 = greedy; with samples > 1 and 0 here, candidates are sampled at CANDIDATE_TEMPERATURE. */
  temperature: number;
  topP: number;
  seed: number;
  /** Candidates to generate; above 1 the structural consensus picks one. */
  samples: number;
  reasoning: "sideView" | "comment";
  inlineCompletion: boolean;
  device: "auto" | "cuda" | "cpu";
}

/** Sampling temperature of consensus candidates when the setting asks for greedy (identical candidates would agree on everything). */
export const CANDIDATE_TEMPERATURE = 0.8;

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
    generation: {
      backend: c.get<string>("generation.backend", "onnx") === "sidecar" ? "sidecar" : "onnx",
      model: c.get<string>("generation.model", "").trim(),
      maxNewTokens: Math.max(1, Math.floor(c.get<number>("generation.maxNewTokens", 256))),
      temperature: Math.max(0, c.get<number>("generation.temperature", 0)),
      topP: Math.min(1, Math.max(0.01, c.get<number>("generation.topP", 0.95))),
      seed: Math.floor(c.get<number>("generation.seed", 0)),
      samples: Math.min(16, Math.max(1, Math.floor(c.get<number>("generation.samples", 1)))),
      reasoning: c.get<string>("generation.reasoning", "sideView") === "comment" ? "comment" : "sideView",
      inlineCompletion: c.get<boolean>("generation.inlineCompletion", false),
      device: oneOf(c.get<string>("generation.device", "auto"), ["auto", "cuda", "cpu"] as const, "auto"),
    },
  };
}

function oneOf<T extends string>(value: string, allowed: readonly T[], fallback: T): T {
  return (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
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

export function affectsGeneration(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration("codistill.generation");
}
