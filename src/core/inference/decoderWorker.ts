// The worker_threads entry of workerDecoder.ts: loads the student (decoder.ts) in this thread and
// answers the client's messages, so that tokenizing, sampling and onnxruntime's runs never hold
// up the extension host's event loop. dist/decoderWorker.js in the bundle (esbuild.mjs).
//
// Messages in: {type: "generate", id, request}, {type: "cancel", id}, {type: "dispose"}.
// Messages out: {type: "ready", info} or {type: "failed", message} once loaded; per generation
// {type: "text", id, delta, tokenIds}..., then {type: "result", id, result} or
// {type: "error", id, message}; {type: "disposed"}.
import { parentPort, workerData } from "node:worker_threads";
import { loadDecoder, type StudentDecoder } from "./decoder";
import type { DecoderWorkerData, ToDecoderWorker } from "./workerDecoder";

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function serve(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error("decoderWorker: not started as a worker thread");
  const { folder, options } = workerData as DecoderWorkerData;
  let decoder: StudentDecoder;
  try {
    decoder = await loadDecoder(folder, options);
  } catch (error) {
    port.postMessage({ type: "failed", message: messageOf(error) });
    return;
  }
  const running = new Map<number, AbortController>();
  port.on("message", (message: ToDecoderWorker) => {
    if (message.type === "cancel") {
      running.get(message.id)?.abort();
    } else if (message.type === "generate") {
      const { id, request } = message;
      const controller = new AbortController();
      running.set(id, controller);
      decoder
        .generate(request, { signal: controller.signal, onText: (delta, tokenIds) => port.postMessage({ type: "text", id, delta, tokenIds }) })
        .then(
          (result) => port.postMessage({ type: "result", id, result }),
          (error: unknown) => port.postMessage({ type: "error", id, message: messageOf(error) }),
        )
        .finally(() => running.delete(id));
    } else if (message.type === "dispose") {
      // As decoder.dispose(): the generation in flight finishes first.
      void decoder.dispose().finally(() => {
        port.postMessage({ type: "disposed" });
        port.close();
      });
    }
  });
  port.postMessage({ type: "ready", info: decoder.info });
}

void serve();
