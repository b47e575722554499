// Stop sequences over streamed text. Tokens decode to pieces of text, and a stop sequence can
// start in one piece and end in a later one: the matcher holds back the tail that could still
// become a stop, so what it lets through never contains any part of one, and the text ends right
// before the first stop.

export interface StopStep {
  /** Text safe to show now. */
  emit: string;
  /** A stop sequence was reached: nothing after it is generated. */
  stopped: boolean;
}

export class StopMatcher {
  private held = "";
  private done = false;

  constructor(private readonly stops: readonly string[]) {
    if (stops.some((s) => !s)) throw new Error("stop sequences: an empty one would stop at once");
  }

  /** The next piece of decoded text. */
  push(piece: string): StopStep {
    if (this.done) return { emit: "", stopped: true };
    const text = this.held + piece;
    let first = -1;
    for (const stop of this.stops) {
      const at = text.indexOf(stop);
      if (at !== -1 && (first === -1 || at < first)) first = at;
    }
    if (first !== -1) {
      this.done = true;
      this.held = "";
      return { emit: text.slice(0, first), stopped: true };
    }
    const keep = this.partialStopLength(text);
    this.held = text.slice(text.length - keep);
    return { emit: text.slice(0, text.length - keep), stopped: false };
  }

  /** The text held back, once generation ends without a stop. */
  flush(): string {
    const rest = this.done ? "" : this.held;
    this.held = "";
    return rest;
  }

  /** The longest end of `text` that is the start of a stop sequence. */
  private partialStopLength(text: string): number {
    let longest = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, text.length); n > longest; n--) {
        if (text.endsWith(stop.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}
