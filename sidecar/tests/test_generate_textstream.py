"""The generation's streamed text (generation/session.py TextStream) with a byte-level
vocabulary, where characters of several bytes span several ids: the pieces add up to the
decoding of all the ids, no piece shows half a character, a stop sequence cuts the text before
it even when it arrives split over several ids, and each id costs a few ids of decoding."""

from __future__ import annotations

from codistill.generation.session import TextStream


class ByteTokenizer:
    """Every id is one byte, decoded as tokenizers decodes byte-level BPE (U+FFFD for bytes that
    do not make a whole character)."""

    def __init__(self) -> None:
        self.decoded = 0

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        self.decoded += len(ids)
        return bytes(ids).decode("utf-8", errors="replace")


def stream(text: str, stops: tuple[str, ...] = ()) -> tuple[list[str], TextStream, ByteTokenizer]:
    tokenizer = ByteTokenizer()
    streamer = TextStream(tokenizer, stops)
    pieces = [streamer.push([byte]) for byte in text.encode()]
    pieces.append(streamer.finish())
    return pieces, streamer, tokenizer


def test_pieces_add_up_and_never_split_a_character() -> None:
    text = "def f(x):\n    return 'é 日本 🙂' != x\n"
    pieces, streamer, _ = stream(text)
    assert "".join(pieces) == text == streamer.text
    assert not any("\ufffd" in piece for piece in pieces)
    at = text.encode().index("🙂".encode())
    assert pieces[at : at + 4] == ["", "", "", "🙂"]


def test_a_stop_sequence_cuts_the_text_before_it() -> None:
    pieces, streamer, _ = stream("    return x\ndef g():\n    pass\n", stops=("\ndef ",))
    assert streamer.stopped
    assert "".join(pieces) == streamer.text == "    return x"


def test_unfinished_character_at_the_end_comes_out_as_replacement() -> None:
    tokenizer = ByteTokenizer()
    streamer = TextStream(tokenizer, ())
    for byte in b"ok " + "日".encode()[:2]:
        streamer.push([byte])
    assert streamer.finish().endswith("\ufffd")
    assert streamer.text == "ok \ufffd"


def test_each_id_costs_a_few_ids_of_decoding() -> None:
    _, _, tokenizer = stream("x" * 2000)
    assert tokenizer.decoded < 2000 * 4
