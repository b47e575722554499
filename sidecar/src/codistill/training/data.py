"""Training examples: Tasks joined with their CoT records, rendered, tokenized and masked
(DESIGN.md, "Training text and loss").

The text is the prompt, then a reasoning section rendered from the CoT, then the ground-truth
solution (``task["solutions"][0]``). The prompt is exactly what evaluation feeds the model
(evaluation/prompts.py), so the student is trained on the prompts it is tested on:

- **Chat mode** (the tokenizer has a chat template): the user turn is eval's chat instruction,
  rendered by the same ``render_chat``. The assistant turn is one ```python block holding the
  reasoning as comments, then the complete solution, which is the answer eval's instruction asks
  for and the code eval's extractor takes.
- **Completion mode** (no chat template): the benchmark prompt, the reasoning comments, then the
  solution, then the end-of-sequence token. When the reference solution repeats the prompt
  (HumanEval's does), only its continuation follows, as eval's program is prompt + completion;
  the comments are indented like that continuation, so the whole text stays valid Python.

The reasoning section is a Python comment block, because a code model reads comments before code
naturally and because it keeps the answer a single runnable program in both modes::

    # Intent: Check whether any two numbers are closer than the threshold.
    # Steps:
    # 1. Compare every pair of distinct positions.
    # 2. Return True as soon as one pair is closer than the threshold.
    # Formulas:
    # - abs(a - b) < threshold
    # Edge cases:
    # - An empty list has no pairs.

Empty sections are left out; without a CoT there is no reasoning at all (the code-only SFT arm).
The teacher's own code (``teacherCode``) is never rendered: the target is the reference solution.

Labels are the input ids (the model shifts them), with -100 on the prompt and on padding: the
token loss covers the reasoning, the solution and the end of the turn. ``solution_mask`` is True
at positions whose label is a solution token, the span the structural loss pools over.

Spans are exact: the pieces are tokenized one by one and concatenated, so no token straddles the
reasoning/solution boundary, and the prompt's tokens are the ones eval gives the model. That is
checked per example by decoding; tokenizers that add a prefix space to every piece they encode
(SentencePiece with a dummy prefix) fail the check, and for those the text is tokenized in one
go and tokens are assigned to pieces by their character offsets: a token straddling the
prompt's end is prompt, one overlapping the solution is solution.

Which tasks go in: a task needs a reference solution and, unless training on code alone, a CoT
record the filter ``cot_statuses`` keeps. The filter's words are the record statuses ("verified",
"valid", "failed-verification", "invalid") and "accepted", which keeps the records a person
accepted in review whatever their status; the default is verified, valid and accepted. A record
rejected in review, or one where the teacher gave no answer (``failure``), never trains. Every
task left out is listed with its reason.

Examples longer than ``max_length`` are skipped with a reason, never truncated: cutting the end
would drop the solution the structural loss needs, and cutting the reasoning would teach the
student to stop thinking mid-sentence.

Throughput comes from length-grouped batches rather than packing: the structural loss mean-pools
one solution span per row, which packing several examples into a row would mix up.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..evaluation.prompts import chat_instruction, has_chat_template, plain_prompt, render_chat
from .cot import COT_STATUSES

IGNORE_INDEX = -100
# The CoT filter's words: a record status, or "accepted" for records a person accepted in review
# (review.decision), whatever their status.
ACCEPTED = "accepted"
COT_FILTER_WORDS = (*COT_STATUSES, ACCEPTED)
DEFAULT_COT_STATUSES = ("verified", "valid", ACCEPTED)
CODE_FENCE_OPEN = "```python\n"
CODE_FENCE_CLOSE = "```"
# Batches are sorted by length within groups of this many batches: large enough that a batch
# holds similar lengths, small enough that the order stays random across the epoch (the value
# Hugging Face's LengthGroupedSampler uses).
DEFAULT_GROUP_BATCHES = 50

# Roles of the pieces after the prompt.
_TRAINED = "trained"
_SOLUTION = "solution"


@dataclass
class TrainExample:
    input_ids: list[int]
    #: The input ids with -100 on prompt tokens (and on padding, once collated).
    labels: list[int]
    #: True at positions whose label token is a solution token.
    solution_mask: list[bool]
    task_id: str
    #: The solution text the masked span encodes, for the encoder's own tokenization.
    gt_code: str

    @property
    def length(self) -> int:
        return len(self.input_ids)


# ----------------------------------------------------------------------------- rendering


def normalize_code(code: str) -> str:
    """Code with Unix line ends and a final newline: MBPP's solutions carry Windows line ends,
    and a student trained on them would learn to emit carriage returns."""
    code = code.replace("\r\n", "\n").replace("\r", "\n")
    return code if code.endswith("\n") else code + "\n"


def _comment(text: str, indent: str, marker: str = "") -> list[str]:
    """``text`` as comment lines, the first after ``marker`` and the rest aligned under it."""
    lines = text.strip().splitlines() or [""]
    hang = " " * len(marker)
    out = []
    for i, line in enumerate(lines):
        body = (marker if i == 0 else hang) + line.rstrip()
        out.append(f"{indent}# {body}".rstrip())
    return out


def _list_section(title: str, items: list[str], indent: str, numbered: bool) -> list[str]:
    items = [item for item in items if item.strip()]
    if not items:
        return []
    lines = [f"{indent}# {title}:"]
    for i, item in enumerate(items, start=1):
        lines.extend(_comment(item, indent, f"{i}. " if numbered else "- "))
    return lines


def render_reasoning(cot: dict[str, Any] | None, indent: str = "") -> str:
    """The reasoning section of a CoT record as a Python comment block, each line indented by
    ``indent``; "" without a CoT or when every section is empty."""
    if cot is None:
        return ""
    lines: list[str] = []
    if cot["intent"].strip():
        lines.extend(_comment(cot["intent"], indent, "Intent: "))
    lines.extend(_list_section("Steps", cot["steps"], indent, numbered=True))
    lines.extend(_list_section("Formulas", cot["formulas"], indent, numbered=False))
    lines.extend(_list_section("Edge cases", cot["edgeCases"], indent, numbered=False))
    return "".join(line + "\n" for line in lines)


def _leading_indent(code: str) -> str:
    for line in code.splitlines():
        if line.strip():
            return line[: len(line) - len(line.lstrip())]
    return ""


def completion_solution(task: dict[str, Any], prompt: str) -> str:
    """What follows the completion-mode prompt: the reference solution, or only its continuation
    when it starts with the whole prompt at a line boundary (HumanEval's canonical solutions)."""
    solution = task["solutions"][0]
    if prompt.endswith("\n") and solution.startswith(prompt) and solution[len(prompt) :].strip():
        return solution[len(prompt) :]
    return solution


def render_training_text(
    task: dict[str, Any], cot: dict[str, Any] | None, *, chat: bool = False
) -> tuple[str, str, str]:
    """(prompt, reasoning, solution) of one Task; the text is their concatenation.

    Completion mode: prompt is the benchmark prompt eval feeds, reasoning the comment block, and
    solution the code that follows it. Chat mode: prompt is the user turn's content (before the
    chat template), reasoning opens the assistant's code block, solution is the complete
    reference solution, and CODE_FENCE_CLOSE follows it in the assistant turn.
    """
    if not task["solutions"]:
        raise ValueError(f"task {task['id']}: no reference solution")
    plain = plain_prompt(task)
    if chat:
        solution = normalize_code(task["solutions"][0])
        return chat_instruction(task, plain), CODE_FENCE_OPEN + render_reasoning(cot), solution
    solution = normalize_code(completion_solution(task, plain))
    reasoning = render_reasoning(cot, _leading_indent(solution))
    if reasoning and not plain.endswith("\n"):
        # Comments must start on a line of their own, or they would comment out the prompt's
        # last line.
        reasoning = "\n" + reasoning
    return plain, reasoning, solution


# ----------------------------------------------------------------------------- tokenizing


@dataclass(frozen=True)
class _Layout:
    """One example as text: the prompt string fed to the tokenizer, the pieces after it with
    their roles, and token ids appended at the end (the completion-mode end of sequence)."""

    prompt: str
    prompt_special_tokens: bool
    pieces: tuple[tuple[str, str], ...]
    tail_ids: tuple[int, ...]
    gt_code: str


def _assistant_parts(tokenizer: Any, user: str, prompt: str, content: str) -> tuple[str, str]:
    """(text the template puts before the assistant's content, text after it): the content
    itself must appear verbatim right after the generation prompt eval uses."""
    messages = [{"role": "user", "content": user}, {"role": "assistant", "content": content}]
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    if not isinstance(full, str) or not full.startswith(prompt):
        raise ValueError(
            "chat template: a conversation with the assistant's answer does not start with the "
            "prompt that add_generation_prompt renders, so the prompt cannot be masked exactly"
        )
    after = full[len(prompt) :]
    at = after.find(content)
    if at < 0:
        raise ValueError(
            "chat template: the assistant's answer does not appear verbatim in the rendered "
            "conversation (the template rewrites it), so its tokens cannot be located"
        )
    return after[:at], after[at + len(content) :]


def _layout(
    task: dict[str, Any], cot: dict[str, Any] | None, tokenizer: Any, chat: bool
) -> _Layout:
    prompt, reasoning, solution = render_training_text(task, cot, chat=chat)
    if not chat:
        eos = tokenizer.eos_token_id
        return _Layout(
            prompt=prompt,
            # As eval tokenizes a completion prompt: with the tokenizer's own BOS.
            prompt_special_tokens=True,
            pieces=((reasoning, _TRAINED), (solution, _SOLUTION)),
            tail_ids=() if eos is None else (eos,),
            gt_code=solution,
        )
    rendered = render_chat(tokenizer, prompt)
    lead, end = _assistant_parts(
        tokenizer, prompt, rendered, reasoning + solution + CODE_FENCE_CLOSE
    )
    return _Layout(
        prompt=rendered,
        # A chat template writes its own BOS; eval tokenizes it without adding another.
        prompt_special_tokens=False,
        # The end of the turn is trained, so the student learns to stop after the code.
        pieces=(
            (lead + reasoning, _TRAINED),
            (solution, _SOLUTION),
            (CODE_FENCE_CLOSE + end, _TRAINED),
        ),
        tail_ids=(),
        gt_code=solution,
    )


def _ids(tokenizer: Any, text: str, special_tokens: bool) -> list[int]:
    if not text:
        return []
    return list(tokenizer(text, add_special_tokens=special_tokens)["input_ids"])


def _decode(tokenizer: Any, ids: list[int]) -> str:
    return tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)


def _example(
    layout: _Layout, task_id: str, input_ids: list[int], prompt_len: int, solution: list[bool]
) -> TrainExample:
    labels = [IGNORE_INDEX if i < prompt_len else tok for i, tok in enumerate(input_ids)]
    mask = [s and labels[i] != IGNORE_INDEX for i, s in enumerate(solution)]
    return TrainExample(input_ids, labels, mask, task_id, layout.gt_code)


def _encode_by_pieces(tokenizer: Any, layout: _Layout, task_id: str) -> TrainExample | None:
    """Each piece tokenized on its own; None when that does not reproduce the text (the
    tokenizer adds something, such as a prefix space, at the start of every piece)."""
    prompt_ids = _ids(tokenizer, layout.prompt, layout.prompt_special_tokens)
    input_ids = list(prompt_ids)
    solution: list[bool] = [False] * len(prompt_ids)
    for text, role in layout.pieces:
        piece = _ids(tokenizer, text, False)
        input_ids.extend(piece)
        solution.extend([role == _SOLUTION] * len(piece))
    expected = _decode(tokenizer, prompt_ids) + "".join(text for text, _ in layout.pieces)
    if _decode(tokenizer, input_ids) != expected:
        return None
    input_ids.extend(layout.tail_ids)
    solution.extend([False] * len(layout.tail_ids))
    return _example(layout, task_id, input_ids, len(prompt_ids), solution)


def _encode_by_offsets(tokenizer: Any, layout: _Layout, task_id: str) -> TrainExample:
    """The whole text tokenized at once and tokens assigned by their character offsets: one
    straddling the prompt's end counts as prompt, one overlapping the solution as solution (so
    the span covers all of it, give or take a boundary character)."""
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(
            "tokenizer: its pieces do not tokenize separately without changing the text, and it "
            "is not a fast tokenizer, so token offsets are not available to locate the spans"
        )
    text = layout.prompt + "".join(piece for piece, _ in layout.pieces)
    encoded = tokenizer(
        text, add_special_tokens=layout.prompt_special_tokens, return_offsets_mapping=True
    )
    start = len(layout.prompt)
    solution_range = (start, start)
    for piece, role in layout.pieces:
        if role == _SOLUTION:
            solution_range = (start, start + len(piece))
        start += len(piece)
    offsets = encoded["offset_mapping"]
    # The prompt is the run of leading tokens that start inside it (BOS included); a special
    # token appended at the end has offsets (0, 0) too, but comes after that run.
    prompt_len = 0
    while prompt_len < len(offsets) and offsets[prompt_len][0] < len(layout.prompt):
        prompt_len += 1
    low, high = solution_range
    solution = [
        i >= prompt_len and begin < high and end > low for i, (begin, end) in enumerate(offsets)
    ]
    input_ids = list(encoded["input_ids"]) + list(layout.tail_ids)
    solution.extend([False] * len(layout.tail_ids))
    return _example(layout, task_id, input_ids, prompt_len, solution)


def encode_example(
    task: dict[str, Any], cot: dict[str, Any] | None, tokenizer: Any, *, chat: bool
) -> TrainExample:
    """One Task (and its CoT, or None for code-only SFT) as token ids, labels and solution mask."""
    layout = _layout(task, cot, tokenizer, chat)
    example = _encode_by_pieces(tokenizer, layout, task["id"])
    return example if example is not None else _encode_by_offsets(tokenizer, layout, task["id"])


# ----------------------------------------------------------------------------- selecting


def status_filter(statuses: Iterable[str]) -> frozenset[str]:
    """The words of a CoT filter (record statuses, and "accepted" for records accepted in
    review); raises ValueError on an unknown word or an empty filter."""
    kept = set()
    for status in statuses:
        if status not in COT_FILTER_WORDS:
            known = ", ".join(COT_FILTER_WORDS)
            raise ValueError(f"cot_statuses: unknown status {status!r} (expected one of {known})")
        kept.add(status)
    if not kept:
        raise ValueError("cot_statuses: empty, so every task would be skipped")
    return frozenset(kept)


def cot_skip_reason(cot: dict[str, Any], statuses: frozenset[str]) -> str | None:
    """Why a CoT record does not train under the filter ``statuses``, or None when it does.

    A record rejected in review never trains, nor does one where the teacher gave no answer
    (``failure``), whatever the filter. Otherwise it trains when its status is in the filter, or
    when it was accepted in review and the filter has "accepted".
    """
    review = cot.get("review")
    decision = review["decision"] if review else None
    if decision == "rejected":
        return "CoT rejected in review"
    if cot.get("failure"):
        return f"teacher gave no answer: {cot['failure']}"
    if cot["status"] in statuses or (decision == ACCEPTED and ACCEPTED in statuses):
        return None
    return f"CoT status {cot['status']!r} not in {', '.join(sorted(statuses))}"


def _skip_reason(
    task: dict[str, Any],
    cots: dict[str, dict[str, Any]] | None,
    statuses: frozenset[str],
    difficulties: Collection[str] | None,
) -> str | None:
    if not task["solutions"] or not task["solutions"][0].strip():
        return "no reference solution"
    if difficulties is not None:
        difficulty = task.get("difficulty")
        if difficulty is None:
            return f"no difficulty (the filter keeps {', '.join(sorted(difficulties))})"
        if difficulty not in difficulties:
            return f"difficulty {difficulty!r} not in {', '.join(sorted(difficulties))}"
    if cots is None:
        return None
    cot = cots.get(task["id"])
    if cot is None:
        return "no CoT record"
    return cot_skip_reason(cot, statuses)


def build_examples(
    tasks: list[dict[str, Any]],
    cots: dict[str, dict[str, Any]] | None,
    tokenizer: Any,
    *,
    max_length: int,
    cot_statuses: Iterable[str] = DEFAULT_COT_STATUSES,
    difficulties: Collection[str] | None = None,
    use_chat_template: bool = True,
) -> tuple[list[TrainExample], list[dict[str, str]]]:
    """The training examples of ``tasks``, and {task_id, reason} for each task left out.

    ``cots`` None trains on code alone (no reasoning section, no CoT filter); otherwise a task
    needs a CoT record that ``cot_statuses`` keeps: its status is listed, or it was accepted in
    review and "accepted" is listed; a record rejected in review, or one with a ``failure``,
    never trains (`cot_skip_reason`).
    ``difficulties`` keeps only tasks whose difficulty is listed. Chat mode is used when
    ``use_chat_template`` and the tokenizer has a chat template.
    """
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise ValueError(f"max_length: expected a positive integer, got {max_length!r}")
    statuses = status_filter(cot_statuses)
    chat = use_chat_template and has_chat_template(tokenizer)
    examples: list[TrainExample] = []
    skipped: list[dict[str, str]] = []
    for task in tasks:
        reason = _skip_reason(task, cots, statuses, difficulties)
        if reason is None:
            cot = None if cots is None else cots[task["id"]]
            example = encode_example(task, cot, tokenizer, chat=chat)
            if example.length > max_length:
                reason = f"{example.length} tokens > max_length {max_length}"
            else:
                examples.append(example)
        if reason is not None:
            skipped.append({"task_id": task["id"], "reason": reason})
    return examples, skipped


def _rank(seed: int, key: str) -> bytes:
    return hashlib.sha256(f"{seed}\0{key}".encode()).digest()


def split_holdout(
    examples: Sequence[TrainExample], fraction: float, seed: int
) -> tuple[list[TrainExample], list[TrainExample]]:
    """(train, eval), each in the input order. The examples with the lowest hash of (seed, task
    id) are held out, so the split depends on the seed and the ids, not on the file order. A
    positive fraction holds out at least one example and leaves at least one for training."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"holdout fraction: expected 0 <= fraction < 1, got {fraction}")
    n = len(examples)
    count = round(fraction * n)
    if fraction > 0 and n >= 2:
        count = min(max(count, 1), n - 1)
    ranked = sorted(range(n), key=lambda i: (_rank(seed, examples[i].task_id), i))
    held = set(ranked[:count])
    train = [e for i, e in enumerate(examples) if i not in held]
    held_out = [e for i, e in enumerate(examples) if i in held]
    return train, held_out


# ----------------------------------------------------------------------------- batching


def collate(
    examples: Sequence[TrainExample], pad_id: int, *, pad_to_multiple_of: int | None = None
) -> dict[str, Any]:
    """Right-padded tensors: input_ids (pad_id), attention_mask (0), labels (-100) and
    solution_mask (False) on padding."""
    import torch

    if not examples:
        raise ValueError("collate: no examples")
    width = max(e.length for e in examples)
    if pad_to_multiple_of:
        width = -(-width // pad_to_multiple_of) * pad_to_multiple_of
    rows = len(examples)
    input_ids = torch.full((rows, width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((rows, width), dtype=torch.long)
    labels = torch.full((rows, width), IGNORE_INDEX, dtype=torch.long)
    solution_mask = torch.zeros((rows, width), dtype=torch.bool)
    for row, example in enumerate(examples):
        n = example.length
        input_ids[row, :n] = torch.tensor(example.input_ids, dtype=torch.long)
        attention_mask[row, :n] = 1
        labels[row, :n] = torch.tensor(example.labels, dtype=torch.long)
        solution_mask[row, :n] = torch.tensor(example.solution_mask, dtype=torch.bool)
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "labels": labels,
        "solution_mask": solution_mask,
    }


def _epoch_rng(seed: int, epoch: int) -> random.Random:
    # From a hash rather than seed + epoch, so (seed 1, epoch 0) and (seed 0, epoch 1) differ.
    return random.Random(int.from_bytes(_rank(seed, f"epoch {epoch}")[:8], "big"))


class LengthGroupedBatches:
    """Batches of example indices in which lengths are similar, so little of a batch is padding.

    Each epoch shuffles the indices with a generator seeded by (seed, epoch), cuts them into
    groups of ``group_batches`` batches, sorts each group by length (longest first), cuts it into
    batches, and shuffles the batch order. The order depends only on (seed, epoch, lengths).

    Iterating yields the batches from the current position on and advances it as each batch is
    handed out, so ``state_dict()`` taken after a batch was consumed resumes with the next one.
    A loader that prefetches must save the number of batches it has actually trained on instead,
    via ``load_state_dict({**state, "position": consumed})``.
    """

    def __init__(
        self,
        examples: Sequence[TrainExample],
        batch_size: int,
        seed: int,
        epoch: int = 0,
        *,
        drop_last: bool = False,
        group_batches: int = DEFAULT_GROUP_BATCHES,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size: expected a positive integer, got {batch_size}")
        if group_batches < 1:
            raise ValueError(f"group_batches: expected a positive integer, got {group_batches}")
        self.lengths = [e.length for e in examples]
        self.batch_size = batch_size
        self.seed = seed
        self.drop_last = drop_last
        self.group_batches = group_batches
        self.fingerprint = hashlib.sha256(",".join(map(str, self.lengths)).encode()).hexdigest()
        self.set_epoch(epoch)

    def set_epoch(self, epoch: int) -> None:
        """Start ``epoch`` from its first batch."""
        self.epoch = epoch
        self.position = 0
        self._batches = self._order(epoch)

    def _order(self, epoch: int) -> list[list[int]]:
        rng = _epoch_rng(self.seed, epoch)
        indices = list(range(len(self.lengths)))
        rng.shuffle(indices)
        group = self.batch_size * self.group_batches
        batches = []
        for start in range(0, len(indices), group):
            chunk = sorted(indices[start : start + group], key=lambda i: -self.lengths[i])
            batches.extend(
                chunk[at : at + self.batch_size] for at in range(0, len(chunk), self.batch_size)
            )
        if self.drop_last:
            batches = [b for b in batches if len(b) == self.batch_size]
        rng.shuffle(batches)
        return batches

    def __len__(self) -> int:
        """Batches in a whole epoch."""
        return len(self._batches)

    def remaining(self) -> int:
        return len(self._batches) - self.position

    def __iter__(self) -> Iterator[list[int]]:
        while self.position < len(self._batches):
            batch = self._batches[self.position]
            self.position += 1
            yield list(batch)

    def state_dict(self) -> dict[str, Any]:
        """JSON-serializable: enough to resume at the same batch of the same order."""
        return {
            "seed": self.seed,
            "epoch": self.epoch,
            "position": self.position,
            "batch_size": self.batch_size,
            "drop_last": self.drop_last,
            "group_batches": self.group_batches,
            "num_examples": len(self.lengths),
            "fingerprint": self.fingerprint,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume from ``state_dict()``; raises ValueError when it was saved for other data or
        another batching, which would silently resume a different order."""
        mine = self.state_dict()
        for key in ("seed", "batch_size", "drop_last", "group_batches", "num_examples"):
            if state.get(key) != mine[key]:
                raise ValueError(
                    f"batch state: {key} is {state.get(key)!r} in the saved state but "
                    f"{mine[key]!r} here"
                )
        if state.get("fingerprint") != self.fingerprint:
            raise ValueError("batch state: fingerprint: the saved state is for other examples")
        self.set_epoch(int(state["epoch"]))
        position = state.get("position")
        if not isinstance(position, int) or not 0 <= position <= len(self._batches):
            raise ValueError(
                f"batch state: position: expected 0..{len(self._batches)}, got {position!r}"
            )
        self.position = position
