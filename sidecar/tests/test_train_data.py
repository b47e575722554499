"""Training examples on the golden slices with a real BPE tokenizer (scripts/make-tiny-model.py):
rendering, prompt masking, the solution span, filters, the held-out split, length-grouped
batches with exact resume, and collation."""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from itertools import pairwise
from typing import Any

import pytest
from eval_support import REPO, golden, make_tiny_models

from codistill.evaluation.extract import extract_code
from codistill.evaluation.prompts import build_prompt, chat_instruction, plain_prompt
from codistill.tasks import load_tasks
from codistill.training import data
from codistill.training.cot import load_cots
from codistill.training.data import (
    CODE_FENCE_CLOSE,
    CODE_FENCE_OPEN,
    IGNORE_INDEX,
    LengthGroupedBatches,
    TrainExample,
    build_examples,
    collate,
    encode_example,
    normalize_code,
    render_reasoning,
    render_training_text,
    split_holdout,
)

from conftest import sidecar_env

COTS = REPO / "test" / "fixtures" / "cots"
SLICES = ("humaneval-slice", "mbpp-slice", "mbppplus-slice", "taco-fixture")
ALL_STATUSES = ("valid", "verified", "invalid", "failed-verification")
COT = {
    "intent": "Add two numbers.",
    "steps": ["Take x and y.", "Return their sum,\nwhich may be negative."],
    "formulas": [],
    "edgeCases": ["Both zero gives zero."],
    "status": "valid",
}


@pytest.fixture(scope="module")
def tokenizers(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Any]:
    """{chat: tokenizer}: the tiny model's tokenizer without and with a chat template."""
    from transformers import AutoTokenizer

    models = make_tiny_models(tmp_path_factory.getbasetemp())
    plain = AutoTokenizer.from_pretrained(str(models.base))
    chat = AutoTokenizer.from_pretrained(str(models.chat))
    assert not plain.chat_template and chat.chat_template
    return {False: plain, True: chat}


def tasks(name: str) -> list[dict[str, Any]]:
    return load_tasks(golden(name))


def cots(name: str) -> dict[str, dict[str, Any]]:
    return load_cots(COTS / f"{name}.jsonl")


def unreviewed(records: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The records without their review (the fixtures accept one and reject one per file)."""
    return {k: {f: v for f, v in r.items() if f != "review"} for k, r in records.items()}


def decode(tokenizer: Any, ids: list[int]) -> str:
    return tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)


def prompt_length(example: TrainExample) -> int:
    return next(i for i, label in enumerate(example.labels) if label != IGNORE_INDEX)


def solution_ids(example: TrainExample) -> list[int]:
    return [tok for tok, keep in zip(example.input_ids, example.solution_mask, strict=True) if keep]


def synthetic(count: int, seed: int = 0) -> list[TrainExample]:
    rng = random.Random(seed)
    examples = []
    for i in range(count):
        n = rng.randint(3, 60)
        examples.append(TrainExample(list(range(n)), list(range(n)), [True] * n, f"t/{i}", ""))
    return examples


# ---- rendering --------------------------------------------------------------------------------


def test_reasoning_is_a_comment_block_without_empty_sections() -> None:
    assert render_reasoning(COT, "    ") == (
        "    # Intent: Add two numbers.\n"
        "    # Steps:\n"
        "    # 1. Take x and y.\n"
        "    # 2. Return their sum,\n"
        "    #    which may be negative.\n"
        "    # Edge cases:\n"
        "    # - Both zero gives zero.\n"
    )
    assert render_reasoning(None) == ""
    assert render_reasoning({**COT, "intent": " ", "steps": [], "edgeCases": [""]}) == ""


def test_completion_humaneval_continues_the_prompt_with_indented_comments() -> None:
    for task in tasks("humaneval-slice"):
        prompt, reasoning, solution = render_training_text(task, COT)
        assert prompt == build_prompt(task).text == task["prompt"]
        assert prompt + solution == task["solutions"][0]
        assert reasoning.startswith("    # Intent: Add two numbers.\n")
        # Comments inside the function body: the whole text is still the same program.
        compile(prompt + reasoning + solution, task["id"], "exec")


def test_completion_mbpp_follows_the_eval_prompt_with_the_whole_solution() -> None:
    for task in tasks("mbpp-slice"):
        prompt, reasoning, solution = render_training_text(task, COT)
        assert prompt == build_prompt(task).text
        assert "\r" not in solution
        assert solution == task["solutions"][0].replace("\r\n", "\n").rstrip("\n") + "\n"
        assert reasoning.startswith("# Intent: ")
        compile(prompt + reasoning + solution, task["id"], "exec")


@pytest.mark.parametrize("name", SLICES)
def test_chat_answer_is_one_code_block_that_eval_extracts(name: str) -> None:
    for task in tasks(name):
        prompt, reasoning, solution = render_training_text(task, COT, chat=True)
        assert prompt == chat_instruction(task, plain_prompt(task))
        assert reasoning == CODE_FENCE_OPEN + render_reasoning(COT)
        assert solution == normalize_code(task["solutions"][0])
        answer = reasoning + solution + CODE_FENCE_CLOSE
        assert extract_code(answer) == render_reasoning(COT) + solution


def test_without_cot_there_is_no_reasoning() -> None:
    task = tasks("humaneval-slice")[0]
    assert render_training_text(task, None)[1] == ""
    assert render_training_text(task, None, chat=True)[1] == CODE_FENCE_OPEN


def test_reasoning_starts_on_its_own_line_after_a_prompt_without_newline() -> None:
    prompt_code = 'def add(x, y):\n    """Add x and y."""'
    task = {
        "id": "custom/1",
        "source": "custom",
        "prompt": prompt_code,
        "solutions": [prompt_code + "\n    return x + y"],
        "tests": {"kind": "assert", "code": "assert add(1, 2) == 3"},
        "meta": {},
    }
    prompt, reasoning, solution = render_training_text(task, COT)
    assert prompt == prompt_code
    assert reasoning.startswith("\n# Intent: ")
    # Not continued mid-line: the whole solution follows, as a redefinition.
    assert solution == prompt_code + "\n    return x + y\n"
    compile(prompt + reasoning + solution, task["id"], "exec")
    assert render_training_text(task, None) == (prompt, "", solution)


def test_task_without_solution_cannot_be_rendered() -> None:
    task = {**tasks("mbpp-slice")[0], "solutions": []}
    with pytest.raises(ValueError, match="task mbpp/1: no reference solution"):
        render_training_text(task, None)


# ---- tokenizing and masking -------------------------------------------------------------------


@pytest.mark.parametrize("with_cot", [False, True], ids=["code-only", "cot"])
@pytest.mark.parametrize("chat", [False, True], ids=["completion", "chat"])
@pytest.mark.parametrize("name", SLICES)
def test_prompt_is_masked_and_solution_span_decodes_to_the_solution(
    tokenizers: dict[bool, Any], name: str, chat: bool, with_cot: bool
) -> None:
    tokenizer = tokenizers[chat]
    # Without their reviews, every fixture record is kept by the filter of every status.
    records = unreviewed(cots(name)) if with_cot else None
    examples, skipped = build_examples(
        tasks(name), records, tokenizer, max_length=8192, cot_statuses=ALL_STATUSES
    )
    assert skipped == []
    assert [e.task_id for e in examples] == [t["id"] for t in tasks(name)]
    for task, example in zip(tasks(name), examples, strict=True):
        cot = records[task["id"]] if records else None
        prompt, reasoning, solution = render_training_text(task, cot, chat=chat)
        start = prompt_length(example)
        # The prompt tokens are exactly the ones evaluation feeds the model.
        eval_prompt = build_prompt(task, tokenizer if chat else None).text
        expected_prompt = tokenizer(eval_prompt, add_special_tokens=not chat)["input_ids"]
        assert example.input_ids[:start] == expected_prompt
        assert example.labels[start:] == example.input_ids[start:]
        # The solution span is contiguous and decodes back to exactly the solution.
        positions = [i for i, keep in enumerate(example.solution_mask) if keep]
        assert positions == list(range(positions[0], positions[-1] + 1))
        assert positions[0] >= start
        assert decode(tokenizer, solution_ids(example)) == solution == example.gt_code
        answer = decode(tokenizer, example.input_ids[start:])
        if chat:
            assert answer == f"{reasoning}{solution}{CODE_FENCE_CLOSE}</s>\n"
        else:
            assert answer == f"{reasoning}{solution}</s>"
        assert ("# Intent: " + cot["intent"] in answer) if cot else ("# Intent" not in answer)


def test_code_only_and_cot_examples_share_prompt_and_solution(tokenizers: dict[bool, Any]) -> None:
    task = tasks("humaneval-slice")[3]
    for chat, tokenizer in tokenizers.items():
        bare = encode_example(task, None, tokenizer, chat=chat)
        with_cot = encode_example(task, COT, tokenizer, chat=chat)
        assert with_cot.length > bare.length
        assert prompt_length(bare) == prompt_length(with_cot)
        assert solution_ids(bare) == solution_ids(with_cot)


def with_template(tokenizers: dict[bool, Any], template: str) -> Any:
    tokenizer = copy.deepcopy(tokenizers[True])
    tokenizer.chat_template = template
    return tokenizer


# Like Qwen3's: the last assistant turn gets an empty thinking block before its content.
THINKING_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>\n"
    "{% if message['role'] == 'assistant' %}<think></think>\n{% endif %}"
    "{{ message['content'] }}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def test_text_a_template_adds_before_the_answer_is_trained(tokenizers: dict[bool, Any]) -> None:
    tokenizer = with_template(tokenizers, THINKING_TEMPLATE)
    task = tasks("mbpp-slice")[1]
    example = encode_example(task, COT, tokenizer, chat=True)
    start = prompt_length(example)
    assert decode(tokenizer, example.input_ids[:start]).endswith("<|assistant|>\n")
    answer = decode(tokenizer, example.input_ids[start:])
    assert answer.startswith("<think></think>\n" + CODE_FENCE_OPEN + "# Intent: ")
    assert decode(tokenizer, solution_ids(example)) == example.gt_code


def test_template_that_rewrites_the_answer_is_an_error(tokenizers: dict[bool, Any]) -> None:
    rewriting = THINKING_TEMPLATE.replace(
        "{{ message['content'] }}", "{{ message['content'] | upper }}"
    )
    tokenizer = with_template(tokenizers, rewriting)
    with pytest.raises(ValueError, match="chat template: the assistant's answer does not appear"):
        encode_example(tasks("mbpp-slice")[1], COT, tokenizer, chat=True)


def offset_only_tokenizer() -> Any:
    """A SentencePiece-style tokenizer that puts a space before every text it encodes, so
    pieces tokenized one by one do not add up to the text (CodeLlama's, Mistral's kind)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE(byte_fallback=True))
    core.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    core.decoder = decoders.Sequence(
        [decoders.ByteFallback(), decoders.Metaspace(replacement="▁", prepend_scheme="first")]
    )
    specials = ["<s>", "</s>", "<pad>"] + [f"<0x{i:02X}>" for i in range(256)]
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials, show_progress=False)
    texts = [t["prompt"] + t["solutions"][0] for n in SLICES[:2] for t in tasks(n)]
    core.train_from_iterator(texts, trainer=trainer)
    core.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", 0)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )


def test_prefix_space_tokenizer_locates_spans_by_offsets() -> None:
    tokenizer = offset_only_tokenizer()
    task = tasks("mbpp-slice")[0]
    # One by one, "R = 3" would become " R = 3": the exact path refuses it.
    layout = data._layout(task, COT, tokenizer, False)
    assert data._encode_by_pieces(tokenizer, layout, task["id"]) is None
    example = encode_example(task, COT, tokenizer, chat=False)
    start = prompt_length(example)
    assert decode(tokenizer, example.input_ids[:start]) == decode(
        tokenizer, tokenizer(layout.prompt)["input_ids"]
    )
    positions = [i for i, keep in enumerate(example.solution_mask) if keep]
    before = decode(tokenizer, example.input_ids[: positions[0]])
    through = decode(tokenizer, example.input_ids[: positions[-1] + 1])
    # Read in context, the span is the solution (give or take a boundary character).
    span = through[len(before) :]
    assert example.gt_code in span and len(span) - len(example.gt_code) <= 1
    assert example.input_ids[-1] == tokenizer.eos_token_id


# ---- filters ----------------------------------------------------------------------------------


def test_default_filter_keeps_verified_valid_and_accepted(tokenizers: dict[bool, Any]) -> None:
    records = cots("humaneval-slice")
    assert data.DEFAULT_COT_STATUSES == ("verified", "valid", "accepted")
    # HumanEval/0 is accepted in review: the default keeps it even when its status is not kept.
    assert records["HumanEval/0"]["review"]["decision"] == "accepted"
    records["HumanEval/0"] = {**records["HumanEval/0"], "status": "failed-verification"}
    records["HumanEval/32"] = {**records["HumanEval/32"], "status": "invalid"}
    examples, skipped = build_examples(
        tasks("humaneval-slice"), records, tokenizers[True], max_length=8192
    )
    assert [e.task_id for e in examples] == ["HumanEval/0", "HumanEval/2", "HumanEval/53"]
    assert skipped == [
        {
            "task_id": "HumanEval/32",
            "reason": "CoT status 'invalid' not in accepted, valid, verified",
        },
        # The fixture's invalid record is rejected in review.
        {"task_id": "HumanEval/163", "reason": "CoT rejected in review"},
    ]


def kept_by(
    tokenizer: Any, statuses: tuple[str, ...], records: dict[str, dict[str, Any]]
) -> set[str]:
    examples, _ = build_examples(
        tasks("mbpp-slice"), records, tokenizer, max_length=8192, cot_statuses=statuses
    )
    return {e.task_id for e in examples}


def test_status_filter_selects_by_status_and_by_review(tokenizers: dict[bool, Any]) -> None:
    records = cots("mbpp-slice")
    # mbpp/1 valid and accepted, mbpp/2 verified, mbpp/11 and mbpp/367 valid, mbpp/974 invalid
    # and rejected.
    assert {k: (r["status"], r.get("review", {}).get("decision")) for k, r in records.items()} == {
        "mbpp/1": ("valid", "accepted"),
        "mbpp/2": ("verified", None),
        "mbpp/11": ("valid", None),
        "mbpp/367": ("valid", None),
        "mbpp/974": ("invalid", "rejected"),
    }

    def kept(*statuses: str) -> set[str]:
        return kept_by(tokenizers[False], statuses, records)

    assert kept("verified") == {"mbpp/2"}
    assert kept("valid") == {"mbpp/1", "mbpp/11", "mbpp/367"}
    # "accepted" is the review, not the status: it keeps the accepted record alone.
    assert kept("accepted") == {"mbpp/1"}
    assert kept("verified", "accepted") == {"mbpp/1", "mbpp/2"}
    assert kept("invalid") == set()
    assert kept(*ALL_STATUSES) == {"mbpp/1", "mbpp/2", "mbpp/11", "mbpp/367"}


def test_accepted_in_the_filter_keeps_an_accepted_invalid_record(
    tokenizers: dict[bool, Any],
) -> None:
    records = cots("mbpp-slice")
    records["mbpp/11"] = {
        **records["mbpp/11"],
        "status": "invalid",
        "problems": ["steps is not a list"],
        "review": {"decision": "accepted", "at": "2025-03-02T09:30:00Z"},
    }
    assert kept_by(tokenizers[False], ("verified", "accepted"), records) == {
        "mbpp/1",
        "mbpp/2",
        "mbpp/11",
    }
    # Without "accepted" in the filter, the review does not keep it.
    assert kept_by(tokenizers[False], ("verified", "valid"), records) == {
        "mbpp/1",
        "mbpp/2",
        "mbpp/367",
    }


@pytest.mark.parametrize("status", ALL_STATUSES)
@pytest.mark.parametrize(
    "statuses", [ALL_STATUSES, (*ALL_STATUSES, "accepted"), data.DEFAULT_COT_STATUSES]
)
def test_a_record_rejected_in_review_never_trains(
    tokenizers: dict[bool, Any], status: str, statuses: tuple[str, ...]
) -> None:
    records = cots("mbpp-slice")
    records["mbpp/2"] = {
        **records["mbpp/2"],
        "status": status,
        "review": {"decision": "rejected", "at": "2025-03-02T09:30:00Z"},
    }
    examples, skipped = build_examples(
        tasks("mbpp-slice"), records, tokenizers[False], max_length=8192, cot_statuses=statuses
    )
    assert "mbpp/2" not in {e.task_id for e in examples}
    assert {"task_id": "mbpp/2", "reason": "CoT rejected in review"} in skipped


@pytest.mark.parametrize("review", [None, "accepted", "edited"])
@pytest.mark.parametrize("statuses", [(*ALL_STATUSES, "accepted"), data.DEFAULT_COT_STATUSES])
def test_a_record_without_a_teacher_answer_never_trains(
    tokenizers: dict[bool, Any], review: str | None, statuses: tuple[str, ...]
) -> None:
    records = cots("mbpp-slice")
    failed = {
        **records["mbpp/11"],
        "status": "invalid",
        "problems": ["no answer"],
        "failure": "HTTP 503 after 3 attempts",
    }
    if review:
        failed["review"] = {"decision": review, "at": "2025-03-02T09:30:00Z"}
    records["mbpp/11"] = failed
    examples, skipped = build_examples(
        tasks("mbpp-slice"), records, tokenizers[False], max_length=8192, cot_statuses=statuses
    )
    assert "mbpp/11" not in {e.task_id for e in examples}
    assert {
        "task_id": "mbpp/11",
        "reason": "teacher gave no answer: HTTP 503 after 3 attempts",
    } in skipped


@pytest.mark.parametrize(
    ("statuses", "message"),
    [
        (
            ("valid", "great"),
            "cot_statuses: unknown status 'great' (expected one of valid, invalid, verified, "
            "failed-verification, accepted)",
        ),
        # Review decisions other than "accepted" are no filter words.
        (("rejected",), "cot_statuses: unknown status 'rejected'"),
        (("edited",), "cot_statuses: unknown status 'edited'"),
        ((), "cot_statuses: empty"),
    ],
)
def test_bad_status_filter_is_an_error(
    tokenizers: dict[bool, Any], statuses: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        build_examples(
            tasks("mbpp-slice"), {}, tokenizers[False], max_length=64, cot_statuses=statuses
        )
    assert str(caught.value).startswith(message)


def test_the_config_default_is_the_data_default() -> None:
    from codistill.training.config import DataSettings

    assert tuple(DataSettings().cot_statuses) == data.DEFAULT_COT_STATUSES


def test_task_without_cot_record_is_skipped(tokenizers: dict[bool, Any]) -> None:
    records = unreviewed(cots("mbpp-slice"))
    del records["mbpp/11"]
    _, skipped = build_examples(
        tasks("mbpp-slice"), records, tokenizers[False], max_length=8192, cot_statuses=ALL_STATUSES
    )
    assert skipped == [{"task_id": "mbpp/11", "reason": "no CoT record"}]


def test_difficulty_filter(tokenizers: dict[bool, Any]) -> None:
    taco = tasks("taco-fixture")
    for task in taco[:3]:
        task["difficulty"] = "EASY"
    mixed = taco + tasks("humaneval-slice")[:1]
    examples, skipped = build_examples(
        mixed, None, tokenizers[False], max_length=8192, difficulties={"EASY", "MEDIUM"}
    )
    assert [e.task_id for e in examples] == [t["id"] for t in taco[:3]]
    reasons = {s["task_id"]: s["reason"] for s in skipped}
    assert reasons["taco/3"] == "difficulty 'UNKNOWN_DIFFICULTY' not in EASY, MEDIUM"
    assert reasons["HumanEval/0"] == "no difficulty (the filter keeps EASY, MEDIUM)"
    assert len(skipped) == len(mixed) - 3


def test_too_long_examples_are_skipped_never_truncated(tokenizers: dict[bool, Any]) -> None:
    tokenizer = tokenizers[True]
    full, _ = build_examples(tasks("mbpp-slice"), None, tokenizer, max_length=8192)
    lengths = sorted(e.length for e in full)
    limit = lengths[len(lengths) // 2]
    kept, skipped = build_examples(tasks("mbpp-slice"), None, tokenizer, max_length=limit)
    assert kept == [e for e in full if e.length <= limit]
    by_id = {e.task_id: e for e in full}
    assert skipped == [
        {"task_id": e.task_id, "reason": f"{by_id[e.task_id].length} tokens > max_length {limit}"}
        for e in full
        if e.length > limit
    ]
    assert skipped


def test_task_without_solution_is_skipped(tokenizers: dict[bool, Any]) -> None:
    broken = [
        {**tasks("mbpp-slice")[0], "solutions": []},
        {**tasks("mbpp-slice")[1], "solutions": ["  \n"]},
    ]
    examples, skipped = build_examples(broken, None, tokenizers[False], max_length=8192)
    assert examples == []
    assert [s["reason"] for s in skipped] == ["no reference solution"] * 2


@pytest.mark.parametrize("bad", [0, -5, 2.5, True])
def test_max_length_must_be_a_positive_integer(tokenizers: dict[bool, Any], bad: Any) -> None:
    with pytest.raises(ValueError, match="max_length: expected a positive integer"):
        build_examples(tasks("mbpp-slice"), None, tokenizers[False], max_length=bad)


# ---- held-out split ---------------------------------------------------------------------------


def test_holdout_is_deterministic_disjoint_and_order_independent() -> None:
    examples = synthetic(40)
    train, held = split_holdout(examples, 0.2, seed=7)
    assert len(held) == 8 and len(train) == 32
    assert {e.task_id for e in train}.isdisjoint(e.task_id for e in held)
    assert sorted(train + held, key=examples.index) == examples
    assert train == [e for e in examples if e in train]  # input order kept
    again = split_holdout(examples, 0.2, seed=7)
    assert again == (train, held)
    reversed_held = split_holdout(examples[::-1], 0.2, seed=7)[1]
    assert {e.task_id for e in reversed_held} == {e.task_id for e in held}
    assert {e.task_id for e in split_holdout(examples, 0.2, seed=8)[1]} != {e.task_id for e in held}


def test_holdout_edges() -> None:
    examples = synthetic(10)
    assert split_holdout(examples, 0.0, seed=1) == (examples, [])
    train, held = split_holdout(examples, 0.01, seed=1)
    assert len(held) == 1 and len(train) == 9
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="holdout fraction"):
            split_holdout(examples, bad, seed=1)


# ---- length-grouped batches -------------------------------------------------------------------


def batches_of(sampler: LengthGroupedBatches) -> list[list[int]]:
    return list(sampler)


def test_batches_are_deterministic_per_seed_and_epoch() -> None:
    examples = synthetic(103)
    first = batches_of(LengthGroupedBatches(examples, 4, seed=3, epoch=1))
    assert first == batches_of(LengthGroupedBatches(examples, 4, seed=3, epoch=1))
    assert first != batches_of(LengthGroupedBatches(examples, 4, seed=3, epoch=2))
    assert first != batches_of(LengthGroupedBatches(examples, 4, seed=4, epoch=1))
    assert sorted(i for batch in first for i in batch) == list(range(103))
    assert sorted(len(b) for b in first) == [3] + [4] * 25


def test_drop_last_leaves_only_full_batches() -> None:
    sampler = LengthGroupedBatches(synthetic(103), 4, seed=3, drop_last=True)
    assert len(sampler) == 25
    assert all(len(b) == 4 for b in sampler)


def test_batches_group_similar_lengths() -> None:
    examples = synthetic(64)
    lengths = [e.length for e in examples]
    # One group spans the epoch: every batch is a run of the length-sorted order.
    batches = batches_of(LengthGroupedBatches(examples, 8, seed=0, group_batches=8))
    spans = sorted((min(lengths[i] for i in b), max(lengths[i] for i in b)) for b in batches)
    for (_, high), (low, _) in pairwise(spans):
        assert high <= low
    grouped_padding = sum(max(lengths[i] for i in b) * len(b) for b in batches)
    shuffled = list(range(64))
    random.Random(0).shuffle(shuffled)
    plain = [shuffled[i : i + 8] for i in range(0, 64, 8)]
    assert grouped_padding < sum(max(lengths[i] for i in b) * len(b) for b in plain)


def test_resume_mid_epoch_gives_the_identical_remaining_order() -> None:
    examples = synthetic(103)
    sampler = LengthGroupedBatches(examples, 4, seed=11)
    sampler.set_epoch(2)
    iterator = iter(sampler)
    consumed = [next(iterator) for _ in range(7)]
    state = json.loads(json.dumps(sampler.state_dict()))
    assert state["position"] == 7 and sampler.remaining() == len(sampler) - 7
    rest = list(iterator)
    resumed = LengthGroupedBatches(examples, 4, seed=11, epoch=0)
    resumed.load_state_dict(state)
    assert resumed.epoch == 2
    assert list(resumed) == rest
    assert consumed + rest == batches_of(LengthGroupedBatches(examples, 4, seed=11, epoch=2))


def test_resume_at_the_end_of_an_epoch_yields_nothing() -> None:
    examples = synthetic(20)
    sampler = LengthGroupedBatches(examples, 4, seed=0)
    list(sampler)
    resumed = LengthGroupedBatches(examples, 4, seed=0)
    resumed.load_state_dict(sampler.state_dict())
    assert list(resumed) == [] and resumed.remaining() == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seed": 1}, "batch state: seed is 1 in the saved state but 0 here"),
        ({"batch_size": 8}, "batch state: batch_size is 8"),
        ({"num_examples": 21}, "batch state: num_examples is 21"),
        ({"fingerprint": "0" * 64}, "batch state: fingerprint"),
        ({"position": 99}, r"batch state: position: expected 0\.\.5, got 99"),
    ],
)
def test_resume_refuses_a_state_for_other_data(change: dict[str, Any], message: str) -> None:
    sampler = LengthGroupedBatches(synthetic(20), 4, seed=0)
    with pytest.raises(ValueError, match=message):
        sampler.load_state_dict({**sampler.state_dict(), **change})


def test_bad_batch_size_is_an_error() -> None:
    with pytest.raises(ValueError, match="batch_size: expected a positive integer, got 0"):
        LengthGroupedBatches(synthetic(4), 0, seed=0)


# ---- collation --------------------------------------------------------------------------------


def test_collate_pads_on_the_right(tokenizers: dict[bool, Any]) -> None:
    import torch

    tokenizer = tokenizers[False]
    examples, _ = build_examples(tasks("humaneval-slice")[:2], None, tokenizer, max_length=8192)
    short, long = sorted(examples, key=lambda e: e.length)
    batch = collate([short, long], tokenizer.pad_token_id)
    assert batch["input_ids"].shape == (2, long.length)
    assert batch["input_ids"].dtype == torch.long and batch["solution_mask"].dtype == torch.bool
    n = short.length
    assert batch["input_ids"][0, :n].tolist() == short.input_ids
    assert batch["labels"][0, :n].tolist() == short.labels
    assert batch["solution_mask"][0, :n].tolist() == short.solution_mask
    assert batch["attention_mask"][0].tolist() == [1] * n + [0] * (long.length - n)
    assert set(batch["input_ids"][0, n:].tolist()) == {tokenizer.pad_token_id}
    assert set(batch["labels"][0, n:].tolist()) == {IGNORE_INDEX}
    assert not batch["solution_mask"][0, n:].any()
    assert batch["labels"][1].tolist() == long.labels
    assert batch["attention_mask"][1].all()


def test_collate_pads_to_a_multiple() -> None:
    batch = collate(synthetic(3), pad_id=0, pad_to_multiple_of=64)
    assert batch["input_ids"].shape[1] % 64 == 0
    with pytest.raises(ValueError, match="collate: no examples"):
        collate([], pad_id=0)


def test_training_data_module_imports_no_torch() -> None:
    # The server imports the training package at start-up on interpreters without torch.
    code = (
        "import sys, codistill.training.data, codistill.training.cot; print('torch' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=sidecar_env()
    )
    assert done.stdout.strip() == "False"
