// Choosing the next token from a decoder's logits: greedy (argmax, the first one on a tie, as
// torch.argmax does), or temperature and nucleus (top-p) sampling from a seeded generator, so the
// same seed gives the same text. The nucleus is the smallest set of most likely tokens whose
// probabilities reach p, as Hugging Face's TopPLogitsWarper keeps it.
import { mulberry32 } from "../random";

export interface SamplingOptions {
  /** 0 (or absent) is greedy. */
  temperature?: number;
  /** In (0, 1]; 1 keeps every token. */
  topP?: number;
}

/** A deterministic generator of floats in [0, 1) for a seed. */
export const seededRandom: (seed: number) => () => number = mulberry32;

/** The index of the largest logit; the first one when several are equal. */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

export class SamplingError extends Error {}

export function checkSampling(options: SamplingOptions): void {
  const { temperature = 0, topP = 1 } = options;
  if (!Number.isFinite(temperature) || temperature < 0) throw new SamplingError(`temperature: expected a number >= 0, got ${temperature}`);
  if (!Number.isFinite(topP) || topP <= 0 || topP > 1) throw new SamplingError(`topP: expected a number in (0, 1], got ${topP}`);
}

/** The next token: greedy at temperature 0, else a draw from the tempered nucleus. */
export function chooseToken(logits: ArrayLike<number>, options: SamplingOptions, random: () => number): number {
  const temperature = options.temperature ?? 0;
  if (temperature === 0) return argmax(logits);
  const probabilities = softmax(logits, temperature);
  const nucleus = nucleusOf(probabilities, options.topP ?? 1);
  let total = 0;
  for (const i of nucleus) total += probabilities[i]!;
  let draw = random() * total;
  for (const i of nucleus) {
    draw -= probabilities[i]!;
    if (draw < 0) return i;
  }
  return nucleus[nucleus.length - 1]!;
}

/** Probabilities of logits / temperature, computed from the largest logit down so nothing overflows. */
export function softmax(logits: ArrayLike<number>, temperature = 1): Float64Array {
  const out = new Float64Array(logits.length);
  const max = logits[argmax(logits)]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp((logits[i]! - max) / temperature);
    sum += out[i]!;
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum;
  return out;
}

/** The most likely tokens, most likely first, until their probabilities reach topP (at least one). */
export function nucleusOf(probabilities: Float64Array, topP: number): number[] {
  const order = Array.from(probabilities.keys()).sort((a, b) => probabilities[b]! - probabilities[a]! || a - b);
  if (topP >= 1) return order;
  const kept: number[] = [];
  let cumulative = 0;
  for (const i of order) {
    kept.push(i);
    cumulative += probabilities[i]!;
    if (cumulative >= topP) break;
  }
  return kept;
}
