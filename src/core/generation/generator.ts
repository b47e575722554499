// One interface over the two ways the editor runs the student: the exported ONNX model in a
// worker thread (onnxruntime-node, no Python) and the sidecar on a GPU (base + LoRA adapter).
// Both take the prompt's content and kind, render it in the student's trained format, and
// stream the answer's text.
import type { GenerationResult, StudentDecoder } from "../inference/decoder";
import type { PromptKind } from "./editorPrompt";
import { readPromptFormat, renderPrompt, type PromptFormat, type PromptFormatName } from "./promptFormat";

export interface SamplingSettings {
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topP: number;
  seed: number;
}

export interface GenerationHooks {
  signal?: AbortSignal;
  /** Before the first text: the format the answer comes in (a chat student wraps it in a code block). */
  onStart?: (format: PromptFormatName) => void;
  onText?: (delta: string) => void;
}

export interface CodeGeneration extends GenerationResult {
  format: PromptFormatName;
}

export interface CodeGenerator {
  /** "onnx: <folder>" or "sidecar: <model> + <adapter>", for messages. */
  readonly label: string;
  generate(prompt: { kind: PromptKind; text: string }, sampling: SamplingSettings, hooks?: GenerationHooks): Promise<CodeGeneration>;
  dispose(): Promise<void>;
}


/** The ONNX student: its export folder's prompt format, filled here, decoded by `decoder`. */
export function onnxGenerator(decoder: StudentDecoder): CodeGenerator {
  const format: PromptFormat = readPromptFormat(decoder.info.prompt, `${decoder.info.folder}/export.json`);
  return {
    label: `onnx: ${decoder.info.folder}`,
    async generate(prompt, sampling, hooks = {}) {
      const rendered = renderPrompt(format, prompt.kind, prompt.text);
      hooks.onStart?.(format.format);
      const result = await decoder.generate(
        {
          prompt: rendered.text,
          addSpecialTokens: rendered.addSpecialTokens,
          stop: rendered.stops,
          maxNewTokens: sampling.maxNewTokens,
          temperature: sampling.temperature,
          topP: sampling.topP,
          seed: sampling.seed,
        },
        { ...(hooks.signal ? { signal: hooks.signal } : {}), ...(hooks.onText ? { onText: (delta: string) => hooks.onText!(delta) } : {}) },
      );
      return { ...result, format: format.format };
    },
    dispose: () => decoder.dispose(),
  };
}
