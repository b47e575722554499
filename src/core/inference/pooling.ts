// The arithmetic of encoder embeddings, kept apart from onnxruntime so it is checked on its own:
// windows of token ids, pooling of hidden states, cosine.

/** Consecutive, non-overlapping slices of at most `size` ids; the last may be shorter. */
export function splitWindows(ids: readonly number[], size: number): number[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`window: expected a positive integer, got ${size}`);
  const windows: number[][] = [];
  for (let start = 0; start < ids.length; start += size) windows.push(ids.slice(start, start + size));
  return windows;
}

/**
 * Sums of the hidden states of several windows, and how many tokens went in: the mean is taken
 * once at the end, so each window weighs as many tokens as it has (see PooledSum.mean).
 */
export class PooledSum {
  private readonly sums: Float64Array;
  private tokens = 0;

  constructor(readonly hiddenSize: number) {
    this.sums = new Float64Array(hiddenSize);
  }

  /** Adds a `[tokens, hiddenSize]` row-major block of hidden states, every token a real one. */
  add(hidden: Float32Array, tokens: number): void {
    if (hidden.length !== tokens * this.hiddenSize) {
      throw new RangeError(`last_hidden_state: expected ${tokens} × ${this.hiddenSize} values, got ${hidden.length}`);
    }
    for (let t = 0; t < tokens; t++) {
      const row = t * this.hiddenSize;
      for (let d = 0; d < this.hiddenSize; d++) this.sums[d]! += hidden[row + d]!;
    }
    this.tokens += tokens;
  }

  /**
   * The mean over every token added. With one window it is the loss's masked mean of
   * last_hidden_state; with several it is the token-weighted mean of the windows' means (a
   * window of 12 tokens counts 12/512 of a full one), so a short tail window cannot pull the
   * embedding as far as a plain mean of windows would.
   */
  mean(): Float32Array {
    if (this.tokens === 0) throw new RangeError("no tokens were pooled");
    return Float32Array.from(this.sums, (sum) => sum / this.tokens);
  }
}

/** Cosine similarity; 0 when either vector is all zeros (as the loss's normalize-then-dot gives). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`cosine: vectors of ${a.length} and ${b.length} values`);
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    normA += a[i]! * a[i]!;
    normB += b[i]! * b[i]!;
  }
  if (normA === 0 || normB === 0) return 0;
  return dot / Math.sqrt(normA * normB);
}
