// Streamed text of a growing list of token ids at a constant cost per token (the incremental
// detokenizer of vLLM and Hugging Face's TextStreamer): each new id is decoded together with the
// ids of the last piece handed out, and the new piece is what that decoding adds to the last
// piece's own decoding. Decoding every id again at every step would make a long answer quadratic.
//
// A piece ending in U+FFFD (the first bytes of a character split over several byte-level
// tokens) is held back until the character is complete; `flush` hands out the rest as it
// decodes. The pieces add up to the decoding of all the ids at once, for decoders whose output
// for a list is the concatenation of their output for its parts cut at character boundaries
// (byte-level BPE; SentencePiece's leading space is kept by decoding with the previous piece).

export class IncrementalDetokenizer {
  private readonly ids: number[] = [];
  /** ids[prefixStart, readStart) are the last piece handed out; ids[readStart:] are not handed out yet. */
  private prefixStart = 0;
  private readStart = 0;

  constructor(private readonly decode: (ids: number[]) => string) {}

  /** The text that `id` settles, often "" (an incomplete character). */
  push(id: number): string {
    this.ids.push(id);
    const prefix = this.decode(this.ids.slice(this.prefixStart, this.readStart));
    const full = this.decode(this.ids.slice(this.prefixStart));
    if (full.length <= prefix.length || full.endsWith("\ufffd")) return "";
    this.prefixStart = this.readStart;
    this.readStart = this.ids.length;
    return full.slice(prefix.length);
  }

  /** Everything not handed out yet, an incomplete character included (as U+FFFD, as Python decodes it). */
  flush(): string {
    const prefix = this.decode(this.ids.slice(this.prefixStart, this.readStart));
    const full = this.decode(this.ids.slice(this.prefixStart));
    this.prefixStart = this.readStart = this.ids.length;
    return full.slice(prefix.length);
  }
}
