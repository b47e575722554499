// Seeded randomness for the core: the same seed gives the same numbers, so bootstrap intervals
// (evaluation/stats.ts) and sampled generations (inference/sampling.ts) are reproducible.

/**
 * mulberry32: a small 32-bit generator, uniform on [0, 1). Not for cryptography; chosen so that
 * results are reproducible from their seed in tests and across panel refreshes.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
