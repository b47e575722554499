import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IncrementalDetokenizer } from "../../src/core/inference/detokenize";

// A byte-level vocabulary: every id is one byte, so characters of 2-4 bytes span several ids, as
// they do in byte-level BPE; decoding an incomplete character gives U+FFFD, as tokenizers does.
const byteDecode = (ids: number[]) => new TextDecoder().decode(new Uint8Array(ids));
const bytesOf = (text: string) => [...new TextEncoder().encode(text)];

function streamed(detokenizer: IncrementalDetokenizer, ids: number[]): { pieces: string[]; text: string } {
  const pieces = ids.map((id) => detokenizer.push(id));
  pieces.push(detokenizer.flush());
  return { pieces, text: pieces.join("") };
}

describe("IncrementalDetokenizer", () => {
  it("adds up to the decoding of all ids, holding back a character until its last byte", () => {
    const text = "def f(x):\n    return 'é 日本 🙂' != x\n";
    const { pieces, text: joined } = streamed(new IncrementalDetokenizer(byteDecode), bytesOf(text));
    assert.equal(joined, text);
    assert.ok(pieces.every((p) => !p.includes("\ufffd")), "no piece shows half a character");
    const smile = bytesOf("🙂");
    const at = bytesOf(text).indexOf(smile[0]!);
    assert.deepEqual(pieces.slice(at, at + 4), ["", "", "", "🙂"]);
  });

  it("hands out an unfinished character at the end as U+FFFD, as Python decodes it", () => {
    const ids = [...bytesOf("ok "), ...bytesOf("日").slice(0, 2)];
    const { text } = streamed(new IncrementalDetokenizer(byteDecode), ids);
    assert.equal(text, byteDecode(ids));
    assert.ok(text.endsWith("\ufffd"));
  });

  it("keeps a word's leading space that a SentencePiece decoder drops at the start of what it decodes", () => {
    const vocab = ["▁def", "▁f", "(x", "):", "▁return", "▁x"];
    const metaspace = (ids: number[]) => ids.map((id) => vocab[id]!).join("").replaceAll("▁", " ").replace(/^ /, "");
    const ids = [0, 1, 2, 3, 4, 5];
    assert.equal(streamed(new IncrementalDetokenizer(metaspace), ids).text, metaspace(ids));
  });

  it("decodes a few ids per step, not the whole answer again", () => {
    let decoded = 0;
    const counting = (ids: number[]) => ((decoded += ids.length), byteDecode(ids));
    streamed(new IncrementalDetokenizer(counting), bytesOf("x".repeat(2000)));
    assert.ok(decoded < 2000 * 4, `${decoded} ids decoded for 2000`);
  });
});
