// The student's prompt format, as its export folder carries it (export.json "prompt"): the
// sidecar renders evaluation's own prompt builder (evaluation/prompts.py, build_prompt on an
// editor Task) around a placeholder and splits it there, so this file only fills the slot and
// the format has one implementation, shared by training, evaluation and the editor.
import { isRecord } from "../datasets/fields";
import type { PromptKind } from "./editorPrompt";

export type PromptFormatName = "completion" | "chat";

export interface PromptFormat {
  format: PromptFormatName;
  /** Completion prompts get the tokenizer's own BOS, as evaluation feeds them; chat templates write theirs. */
  addSpecialTokens: boolean;
  templates: Record<PromptKind, { before: string; after: string }>;
  stops: Record<PromptKind, string[]>;
}

export interface RenderedPrompt {
  text: string;
  addSpecialTokens: boolean;
  stops: string[];
}

const KINDS: readonly PromptKind[] = ["code", "prose"];

/** The prompt text the student is fed; the filling rule is the one prompt_templates documents. */
export function renderPrompt(format: PromptFormat, kind: PromptKind, text: string): RenderedPrompt {
  const { before, after } = format.templates[kind];
  const content = kind === "code" ? text.trimEnd() : text.trim();
  return { text: before + content + after, addSpecialTokens: format.addSpecialTokens, stops: [...format.stops[kind]] };
}

/** Validates export.json's "prompt" object; errors name the field. */
export function readPromptFormat(value: unknown, file: string): PromptFormat {
  const where = (field: string) => `${file}: prompt.${field}`;
  if (!isRecord(value)) {
    throw new Error(`${file}: no "prompt" object: the folder was exported before the editor's prompt format was written; export it again ("Codistill: Export Student to ONNX")`);
  }
  if (value.format !== "completion" && value.format !== "chat") throw new Error(`${where("format")}: expected "completion" or "chat"`);
  if (typeof value.addSpecialTokens !== "boolean") throw new Error(`${where("addSpecialTokens")}: expected true or false`);
  const templates = value.templates;
  const stops = value.stops;
  if (!isRecord(templates)) throw new Error(`${where("templates")}: expected an object`);
  if (!isRecord(stops)) throw new Error(`${where("stops")}: expected an object`);
  const format: PromptFormat = { format: value.format, addSpecialTokens: value.addSpecialTokens, templates: {} as PromptFormat["templates"], stops: {} as PromptFormat["stops"] };
  for (const kind of KINDS) {
    const template = templates[kind];
    if (!isRecord(template) || typeof template.before !== "string" || typeof template.after !== "string") {
      throw new Error(`${where(`templates.${kind}`)}: expected {"before": string, "after": string}`);
    }
    format.templates[kind] = { before: template.before, after: template.after };
    const list = stops[kind];
    if (!Array.isArray(list) || !list.every((s) => typeof s === "string" && s.length > 0)) throw new Error(`${where(`stops.${kind}`)}: expected a list of non-empty strings`);
    format.stops[kind] = list as string[];
  }
  return format;
}
