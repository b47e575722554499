// The student on the sidecar's device (a GPU for students too large for a laptop): the base
// model with its LoRA adapter unmerged, streaming tokens as generate/token notifications until
// generate/finished. The sidecar renders the prompt with evaluation's own builder.
import type { GenerateFinishedParams, GenerateTokenParams, MethodMap } from "../../sidecar/protocol";
import type { CodeGeneration, CodeGenerator, GenerationHooks, SamplingSettings } from "./generator";
import type { PromptKind } from "./editorPrompt";

type GenerateMethod = "generate/start" | "generate/cancel";

/** What the generator needs from the sidecar (a SidecarSupervisor). */
export interface GenerateSidecar {
  request<M extends GenerateMethod>(method: M, params: MethodMap[M][0], options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<MethodMap[M][1]>;
  onNotification(method: "generate/token", handler: (params: GenerateTokenParams) => void): () => void;
  onNotification(method: "generate/finished", handler: (params: GenerateFinishedParams) => void): () => void;
}

export interface SidecarGeneratorOptions {
  model: string;
  adapter?: string;
  device?: "auto" | "cuda" | "cpu";
  /** Loading an 8B student takes minutes: the start request may wait this long. */
  startTimeoutMs: number;
}

export function sidecarGenerator(sidecar: GenerateSidecar, options: SidecarGeneratorOptions): CodeGenerator {
  return {
    label: `sidecar: ${options.model}${options.adapter ? ` + ${options.adapter}` : ""}`,
    generate: (prompt, sampling, hooks) => generateOnSidecar(sidecar, options, prompt, sampling, hooks ?? {}),
    dispose: async () => undefined,
  };
}

async function generateOnSidecar(
  sidecar: GenerateSidecar,
  options: SidecarGeneratorOptions,
  prompt: { kind: PromptKind; text: string },
  sampling: SamplingSettings,
  hooks: GenerationHooks,
): Promise<CodeGeneration> {
  // Notifications may overtake the start answer that names the generation: keep them until then.
  const early: (GenerateTokenParams | GenerateFinishedParams)[] = [];
  let generationId: string | undefined;
  let settle: ((finished: GenerateFinishedParams) => void) | undefined;
  const finished = new Promise<GenerateFinishedParams>((resolve) => (settle = resolve));
  const onToken = (params: GenerateTokenParams) => {
    if (generationId === undefined) early.push(params);
    else if (params.generationId === generationId) hooks.onText?.(params.text);
  };
  const onFinished = (params: GenerateFinishedParams) => {
    if (generationId === undefined) early.push(params);
    else if (params.generationId === generationId) settle!(params);
  };
  const offToken = sidecar.onNotification("generate/token", onToken);
  const offFinished = sidecar.onNotification("generate/finished", onFinished);
  const cancel = () => {
    if (generationId !== undefined) void sidecar.request("generate/cancel", { generationId }).catch(() => undefined);
  };
  try {
    const started = await sidecar.request(
      "generate/start",
      {
        model: options.model,
        ...(options.adapter ? { adapter: options.adapter } : {}),
        prompt: { kind: prompt.kind, text: prompt.text },
        maxNewTokens: sampling.maxNewTokens,
        temperature: sampling.temperature,
        topP: sampling.topP,
        seed: sampling.seed,
        device: options.device ?? "auto",
      },
      { ...(hooks.signal ? { signal: hooks.signal } : {}), timeoutMs: options.startTimeoutMs },
    );
    generationId = started.generationId;
    hooks.onStart?.(started.format);
    for (const params of early.splice(0)) ("reason" in params ? onFinished : onToken)(params as never);
    hooks.signal?.addEventListener("abort", cancel, { once: true });
    if (hooks.signal?.aborted) cancel();
    const end = await finished;
    if (end.reason === "failed") throw new Error(`the sidecar's generation failed: ${end.error ?? "no reason given"}`);
    return {
      text: end.text,
      tokenIds: end.tokenIds,
      promptTokens: end.promptTokens,
      newTokens: end.newTokens,
      firstTokenMs: end.firstTokenMs,
      tokensPerS: end.tokensPerS,
      finishReason: end.reason,
      format: started.format,
    };
  } finally {
    hooks.signal?.removeEventListener("abort", cancel);
    offToken();
    offFinished();
  }
}
