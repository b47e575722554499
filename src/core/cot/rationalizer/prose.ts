// Plain-English helpers shared by the rationalizer's sections: sentence splitting that survives
// "e.g." and decimals, capping at a sentence or word boundary, and the case changes that let one
// sentence be nested in another ("If `x`, " + "return `y`.").

/** Words whose trailing period does not end a sentence. */
const ABBREVIATIONS = new Set(["e.g.", "i.e.", "etc.", "vs.", "approx.", "mr.", "mrs.", "dr.", "no.", "fig.", "resp.", "cf."]);

/** The sentences of one paragraph of collapsed text, each with its closing punctuation. */
export function sentencesOf(text: string): string[] {
  const sentences: string[] = [];
  const boundary = /[.!?]+["')\]]?\s+(?=[A-Z0-9"'`(\[$])/g;
  let start = 0;
  for (let match = boundary.exec(text); match; match = boundary.exec(text)) {
    const end = match.index + match[0].trimEnd().length;
    const lastWord = text.slice(start, end).split(" ").pop()!.toLowerCase();
    if (ABBREVIATIONS.has(lastWord)) continue;
    sentences.push(text.slice(start, end).trim());
    start = match.index + match[0].length;
  }
  const rest = text.slice(start).trim();
  if (rest) sentences.push(rest);
  return sentences;
}

/** At most `max` characters: whole sentences when the first fits, else whole words and "…". */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  let kept = "";
  for (const sentence of sentencesOf(text)) {
    const next = kept ? `${kept} ${sentence}` : sentence;
    if (next.length > max) break;
    kept = next;
  }
  if (kept) return kept;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:]+$/, "")}…`;
}

/** "Return `x`." -> "return `x`.", for a sentence that continues another; names stay as they are. */
export function lowerFirst(sentence: string): string {
  return /^[A-Z][a-z ]/.test(sentence) ? sentence[0]!.toLowerCase() + sentence.slice(1) : sentence;
}

export function upperFirst(text: string): string {
  return text ? text[0]!.toUpperCase() + text.slice(1) : text;
}

/** "a", "a and b", "a, b and c". */
export function listed(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** "1 loop", "2 loops". */
export function counted(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
