// Where a reasoning context comes from: a teacher model behind an OpenAI-compatible endpoint, or
// the offline rationalizer when none is configured. Generation (generate.ts) sees one interface,
// so resume, verification and the store work the same for both.
import { createHash } from "node:crypto";
import type { Task } from "../datasets/task";
import { renderPrompt, type CotMode, type PromptTemplate } from "./prompt";
import { RATIONALIZER_MODEL, rationalize } from "./rationalizer";
import type { CotRecord } from "./store";
import type { TeacherAnswer, TeacherClient } from "./teacher";

export type TeacherIdentity = CotRecord["teacher"];

export interface ReasoningSource {
  /** What every record it makes says in `teacher`. */
  readonly identity: TeacherIdentity;
  /** One answer for one task. Throws TeacherError when the request failed for good. */
  ask(task: Task, signal?: AbortSignal): Promise<TeacherAnswer>;
}

/** A teacher model: the template rendered for the task, in blind or rationalize mode. */
export function teacherSource(client: TeacherClient, settings: { endpoint: string; model: string; temperature: number }, template: PromptTemplate, mode: CotMode): ReasoningSource {
  return {
    identity: { model: settings.model, endpoint: settings.endpoint, temperature: settings.temperature, promptHash: template.hash },
    ask: (task, signal) => client.complete(renderPrompt(template, promptTaskOf(task), mode), signal),
  };
}

function promptTaskOf(task: Task): { id: string; prompt: string; entryPoint?: string; solution?: string } {
  return { id: task.id, prompt: task.prompt, ...(task.entryPoint ? { entryPoint: task.entryPoint } : {}), ...(task.solutions[0] ? { solution: task.solutions[0] } : {}) };
}

/** Bumped when the rationalizer's output changes, so its records say which version wrote them. */
const RATIONALIZER_VERSION = "1";

/**
 * The offline teacher: a reasoning context derived from the reference solution. Its answer is the
 * JSON a teacher would send, so it goes through the same parser and validator; it costs no tokens.
 */
export function rationalizerSource(): ReasoningSource {
  return {
    identity: {
      model: RATIONALIZER_MODEL,
      endpoint: "",
      temperature: 0,
      promptHash: `sha256:${createHash("sha256").update(`${RATIONALIZER_MODEL} ${RATIONALIZER_VERSION}`).digest("hex")}`,
    },
    async ask(task) {
      const cot = await rationalize(task);
      return { text: JSON.stringify(cot, null, 1), finishReason: "stop", usage: { promptTokens: 0, completionTokens: 0 }, attempts: 1 };
    },
  };
}
