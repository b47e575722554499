// The two n-gram components of the reference CodeBLEU (bleu.py and weighted_ngram_match.py, NLTK's
// corpus BLEU with smoothing method 1), for one hypothesis and its references, over `split()`
// tokens. Sums run in the reference's order so that the floating-point results agree to the bit
// wherever libm does.

/** keywords/python.txt of the reference package: these unigrams weigh 1, every other 0.2. */
export const PYTHON_KEYWORDS: ReadonlySet<string> = new Set([
  "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "else",
  "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise",
  "return", "try", "while", "with", "yield", "match", "case", "type",
]);

const KEYWORD_WEIGHT = 1;
const OTHER_WEIGHT = 0.2;
const MAX_ORDER = 4;
const ORDER_WEIGHT = 0.25;
const SMOOTHING_EPSILON = 0.1;

type Counts = Map<number | string, number>;

/**
 * Counter(ngrams(tokens, n)) for n = 1..4 of each token list, in first-appearance order. Tokens
 * are numbered once; an n-gram is keyed by its numbers packed into one safe integer (or joined,
 * for a vocabulary too large to pack).
 */
export class NgramCounts {
  private readonly vocabulary = new Map<string, number>();
  private readonly tokens: string[] = [];
  private readonly cache = new Map<readonly string[], Counts[]>();

  constructor(lists: readonly (readonly string[])[]) {
    for (const list of lists) for (const token of list) if (!this.vocabulary.has(token)) this.vocabulary.set(token, this.tokens.push(token) - 1);
  }

  /** counts(list)[n - 1]: the n-gram counts of one of the lists given to the constructor. */
  of(list: readonly string[]): Counts[] {
    let counts = this.cache.get(list);
    if (!counts) {
      const ids = list.map((t) => this.vocabulary.get(t)!);
      counts = [1, 2, 3, 4].map((n) => this.count(ids, n));
      this.cache.set(list, counts);
    }
    return counts;
  }

  tokenOf(unigram: number | string): string {
    return this.tokens[unigram as number];
  }

  private count(ids: readonly number[], n: number): Counts {
    const size = this.tokens.length;
    const packable = size ** n < Number.MAX_SAFE_INTEGER;
    const counts: Counts = new Map();
    for (let i = 0; i + n <= ids.length; i++) {
      let key: number | string;
      if (packable) {
        key = ids[i];
        for (let k = 1; k < n; k++) key = key * size + ids[i + k];
      } else key = ids.slice(i, i + n).join(" ");
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }
}

/** closest_ref_length: the reference length nearest the hypothesis length, the shorter on a tie. */
function closestLength(lengths: readonly number[], hypLength: number): number {
  let best = lengths[0];
  for (const length of lengths) {
    const d = Math.abs(length - hypLength);
    const bestD = Math.abs(best - hypLength);
    if (d < bestD || (d === bestD && length < best)) best = length;
  }
  return best;
}

function brevityPenalty(closestRefLength: number, hypLength: number): number {
  if (hypLength > closestRefLength) return 1;
  if (hypLength === 0) return 0;
  return Math.exp(1 - closestRefLength / hypLength);
}

/** math.fsum: the correctly rounded sum (Shewchuk's partials, as CPython). */
export function fsum(values: readonly number[]): number {
  const partials: number[] = [];
  for (let x of values) {
    let i = 0;
    for (let y of partials) {
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) partials[i++] = lo;
      x = hi;
    }
    partials.length = i;
    partials.push(x);
  }
  let n = partials.length;
  if (n === 0) return 0;
  let hi = partials[--n];
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = partials[--n];
    hi = x + y;
    lo = y - (hi - x);
    if (lo !== 0) break;
  }
  if (n > 0 && ((lo < 0 && partials[n - 1] < 0) || (lo > 0 && partials[n - 1] > 0))) {
    const y = lo * 2;
    const x = hi + y;
    if (y === x - hi) hi = x;
  }
  return hi;
}

/** The end of corpus_bleu: 0 without a matching unigram, else BP · exp(Σ wₙ log pₙ) with ε-smoothing. */
function combine(numerators: readonly number[], denominators: readonly number[], bp: number): number {
  if (numerators[0] === 0) return 0;
  const logs = numerators.map((num, i) => ORDER_WEIGHT * Math.log((num === 0 ? num + SMOOTHING_EPSILON : num) / denominators[i]));
  return bp * Math.exp(fsum(logs));
}

/** bleu.corpus_bleu([references], [hypothesis]): clipped n-gram precision. */
export function bleu(references: readonly (readonly string[])[], hypothesis: readonly string[], ngrams = new NgramCounts([...references, hypothesis])): number {
  const numerators: number[] = [];
  const denominators: number[] = [];
  for (let n = 1; n <= MAX_ORDER; n++) {
    const counts = ngrams.of(hypothesis)[n - 1];
    const maxRef = new Map<number | string, number>();
    for (const reference of references) {
      const refCounts = ngrams.of(reference)[n - 1];
      for (const gram of counts.keys()) maxRef.set(gram, Math.max(maxRef.get(gram) ?? 0, refCounts.get(gram) ?? 0));
    }
    let numerator = 0;
    let total = 0;
    for (const [gram, count] of counts) {
      numerator += Math.min(count, maxRef.get(gram)!);
      total += count;
    }
    numerators.push(numerator);
    denominators.push(Math.max(1, total));
  }
  const bp = brevityPenalty(
    closestLength(
      references.map((r) => r.length),
      hypothesis.length,
    ),
    hypothesis.length,
  );
  return combine(numerators, denominators, bp);
}

function tokenWeight(token: string): number {
  return PYTHON_KEYWORDS.has(token) ? KEYWORD_WEIGHT : OTHER_WEIGHT;
}

/**
 * weighted_ngram_match.corpus_bleu: n-gram recall of each reference, keyword unigrams weighted.
 * Its closest_ref_length sees each reference as the pair [tokens, weights], of length 2, so the
 * brevity penalty only bites a hypothesis of one or two tokens; both modes keep that.
 */
export function weightedBleu(references: readonly (readonly string[])[], hypothesis: readonly string[], ngrams = new NgramCounts([...references, hypothesis])): number {
  const numerators: number[] = [];
  const denominators: number[] = [];
  for (let n = 1; n <= MAX_ORDER; n++) {
    const counts = ngrams.of(hypothesis)[n - 1];
    let numerator = 0;
    let denominator = 0;
    for (const reference of references) {
      const refCounts = ngrams.of(reference)[n - 1];
      let clipped = 0;
      let total = 0;
      for (const [gram, count] of refCounts) {
        const weight = n === 1 ? tokenWeight(ngrams.tokenOf(gram)) : 1;
        clipped += Math.min(count, counts.get(gram) ?? 0) * weight;
        total += count * weight;
      }
      numerator += clipped;
      denominator += Math.max(1, total);
    }
    numerators.push(numerator);
    denominators.push(denominator);
  }
  const pairLength = 2;
  const bp = brevityPenalty(
    closestLength(
      references.map(() => pairLength),
      hypothesis.length,
    ),
    hypothesis.length,
  );
  return combine(numerators, denominators, bp);
}
