// Proves that onnxruntime-node's native binding loads and runs in the current process
// (the extension host, or Node in tests) on the self-test model in media/onnx/.

export interface OnnxSelfTestReport {
  onnxruntimeVersion: string;
  backends: string[];
  input: number[][];
  output: number[][];
  expected: number[][];
  ok: boolean;
  elapsedMs: number;
}

// Must match scripts/make-selftest-onnx.py, which wrote the model.
const WEIGHTS = [
  [1, 2],
  [3, 4],
  [5, 6],
];
const BIAS = [0.5, -0.5];
const INPUT = [
  [1, 0, 0],
  [1, 1, 1],
];

export function expectedSelfTestOutput(input: number[][] = INPUT): number[][] {
  return input.map((row) => BIAS.map((b, j) => row.reduce((sum, x, i) => sum + x * WEIGHTS[i]![j]!, b)));
}

export async function runOnnxSelfTest(modelPath: string): Promise<OnnxSelfTestReport> {
  const started = performance.now();
  const ort = await import("onnxruntime-node");
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ["cpu"] });
  try {
    const x = new ort.Tensor("float32", Float32Array.from(INPUT.flat()), [INPUT.length, 3]);
    const { y } = await session.run({ x });
    if (!y) throw new Error(`${modelPath}: the model has no output named "y"`);
    const flat = Array.from(y.data as Float32Array);
    const output = INPUT.map((_, r) => flat.slice(r * 2, r * 2 + 2));
    const expected = expectedSelfTestOutput();
    const ok = output.every((row, r) => row.every((v, j) => Math.abs(v - expected[r]![j]!) < 1e-5));
    return {
      onnxruntimeVersion: ort.env.versions.node ?? ort.env.versions.common,
      backends: ort.listSupportedBackends().map((b: { name: string }) => b.name),
      input: INPUT,
      output,
      expected,
      ok,
      elapsedMs: performance.now() - started,
    };
  } finally {
    await session.release();
  }
}
