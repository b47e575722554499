"""Benchmark prompts and code extraction on the golden benchmark rows, checked against the
harnesses' own prompts and by running the programs they produce in the sandbox."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from eval_support import REPO, golden, make_tiny_models

from codistill.evaluation.extract import extract, extract_code, truncate_at_stop
from codistill.evaluation.prompts import (
    CHAT,
    CODE_INSTRUCTION,
    COMPLETION,
    HUMANEVAL_STOPS,
    MBPP_STOPS,
    STDIO_INSTRUCTION,
    TACO_STOPS,
    build_prompt,
)
from codistill.execution import Executor, Limits
from codistill.tasks import load_tasks

DATA = Path(os.environ.get("CODISTILL_DATA", REPO.parent / "shared" / "data"))


def tasks(name: str) -> dict[str, dict[str, Any]]:
    return {task["id"]: task for task in load_tasks(golden(name))}


@pytest.fixture(scope="module")
def executor():
    with Executor(workers=2, limits=Limits(test_timeout_s=3)) as ex:
        yield ex


@pytest.fixture(scope="module")
def chat_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from codistill.evaluation.backends import load_tokenizer

    return load_tokenizer(str(make_tiny_models(tmp_path_factory.getbasetemp()).chat))


def passes(executor: Executor, task: dict[str, Any], solution: str) -> bool:
    result = executor.run({task["id"]: task}, [{"task_id": task["id"], "solution": solution}])[0]
    return result.status == "passed"


# ---- completion prompts --------------------------------------------------------------------


def test_humaneval_prompt_is_the_task_prompt_with_the_codex_stops() -> None:
    for task in tasks("humaneval-slice").values():
        prompt = build_prompt(task)
        assert prompt.format == COMPLETION
        assert prompt.text == prompt.program_prefix == task["prompt"]
        assert prompt.stops == HUMANEVAL_STOPS


def test_mbpp_prompt_is_evalplus_mbpp_plus_prompt() -> None:
    # EvalPlus built MBPP+ prompts from sanitized MBPP the same way: text and first test in a
    # docstring. Task 2 kept its wording, so both must be byte-identical.
    sanitized = tasks("sanitized-mbpp-slice")["mbpp/2"]
    plus = tasks("mbppplus-slice")["Mbpp/2"]
    assert build_prompt(sanitized).text == plus["prompt"] == build_prompt(plus).text
    assert build_prompt(sanitized).stops == MBPP_STOPS


def test_original_mbpp_prompt_shows_its_first_test() -> None:
    task = tasks("mbpp-slice")["mbpp/1"]
    assert build_prompt(task).text == (
        '"""\nWrite a function to find the minimum cost path to reach (m, n) from (0, 0) for the '
        "given cost matrix cost[][] and a position (m, n) in cost[][].\n"
        "assert min_cost([[1, 2, 3], [4, 8, 2], [1, 5, 3]], 2, 2) == 8\n"
        '"""\n'
    )


def test_taco_stdio_prompts_are_tacos_own() -> None:
    examples = json.loads((DATA / "taco" / "taco_generation_example.json").read_text())
    published = {example["prompt"] for example in examples}
    stdio = [t for t in tasks("taco-fixture").values() if t["tests"]["kind"] == "stdio"]
    assert len(stdio) == 9
    for task in stdio:
        prompt = build_prompt(task)
        assert prompt.text in published, task["id"]
        assert prompt.program_prefix == ""
        assert prompt.stops == TACO_STOPS


def test_taco_call_based_prompt_glues_the_starter_code_to_the_question() -> None:
    task = tasks("taco-fixture")["taco/10"]
    assert build_prompt(task).text == (
        f"\nQUESTION:\n{task['prompt']}def is_not_prime(n):\n\t\nUse Call-Based format\nANSWER:\n"
    )


# ---- completion extraction, run in the sandbox --------------------------------------------


@pytest.mark.parametrize("task_id", ["HumanEval/0", "HumanEval/32", "HumanEval/163"])
def test_completion_is_cut_at_the_first_stop_and_runs(executor: Executor, task_id: str) -> None:
    task = tasks("humaneval-slice")[task_id]
    prompt = build_prompt(task)
    canonical = task["solutions"][0][len(task["prompt"]) :]
    # What a base model typically writes after the function: a test harness of its own.
    raw = canonical + "\n\ndef check(candidate):\n    assert False\n\ncheck(None)\n"
    extracted = extract(prompt, raw)
    assert extracted.completion == canonical + "\n"
    assert extracted.solution == task["prompt"] + extracted.completion
    assert passes(executor, task, extracted.solution)
    assert not passes(executor, task, task["prompt"] + raw)


def test_truncate_at_stop_takes_the_earliest_stop() -> None:
    text = "    return 1\nprint(f())\n# done\ndef g(): pass"
    assert truncate_at_stop(text, HUMANEVAL_STOPS) == "    return 1"
    assert truncate_at_stop("    return 1\n", HUMANEVAL_STOPS) == "    return 1\n"


def test_mbpp_completion_keeps_its_def_and_stops_at_the_next_test(executor: Executor) -> None:
    task = tasks("sanitized-mbpp-slice")["mbpp/3"]
    prompt = build_prompt(task)
    raw = task["solutions"][0] + "\nassert is_not_prime(2) == True\n"
    extracted = extract(prompt, raw)
    assert extracted.completion == task["solutions"][0]
    assert extracted.solution == prompt.text + task["solutions"][0]
    assert passes(executor, task, extracted.solution)


# ---- chat prompts and extraction -----------------------------------------------------------


def test_chat_prompt_wraps_the_benchmark_prompt_in_the_template(chat_tokenizer: Any) -> None:
    task = tasks("humaneval-slice")["HumanEval/0"]
    prompt = build_prompt(task, chat_tokenizer)
    assert prompt.format == CHAT
    assert prompt.stops == ()
    assert prompt.text == (
        f"<|user|>\n{CODE_INSTRUCTION}\n\n```python\n{task['prompt'].rstrip()}\n```\n</s>\n"
        "<|assistant|>\n"
    )


def test_chat_prompt_of_a_stdio_task_asks_for_a_program(chat_tokenizer: Any) -> None:
    task = tasks("taco-fixture")["taco/0"]
    prompt = build_prompt(task, chat_tokenizer)
    assert prompt.text.startswith(f"<|user|>\n{STDIO_INSTRUCTION}\n\n{task['prompt'].rstrip()}")


def test_chat_answer_with_full_function_keeps_prompt_helpers(
    executor: Executor, chat_tokenizer: Any
) -> None:
    # HumanEval/32's find_zero calls poly(), which only the prompt defines; the answer redefines
    # find_zero alone, as chat models do.
    task = tasks("humaneval-slice")["HumanEval/32"]
    prompt = build_prompt(task, chat_tokenizer)
    function = task["solutions"][0].split("def find_zero", 1)[1]
    answer = (
        "Here is the function:\n```python\ndef find_zero" + function + "```\n"
        "It uses bisection.\n```python\nprint(find_zero([1, 2]))\n```\n"
    )
    extracted = extract(prompt, answer)
    assert extracted.completion == "def find_zero" + function
    assert "def poly(" in extracted.solution and "import math" in extracted.solution
    assert "print(" not in extracted.solution
    assert passes(executor, task, extracted.solution)


def test_chat_answer_with_only_the_body_continues_the_prompt(
    executor: Executor, chat_tokenizer: Any
) -> None:
    task = tasks("humaneval-slice")["HumanEval/2"]
    prompt = build_prompt(task, chat_tokenizer)
    extracted = extract(prompt, "    return number % 1.0\n")
    assert extracted.solution == task["prompt"] + "    return number % 1.0\n"
    assert passes(executor, task, extracted.solution)


def test_chat_answer_for_stdio_task_is_the_program(executor: Executor, chat_tokenizer: Any) -> None:
    task = tasks("taco-fixture")["taco/0"]
    prompt = build_prompt(task, chat_tokenizer)
    answer = f"```py\n{task['solutions'][0]}```"
    assert extract(prompt, answer).solution == task["solutions"][0]
    assert passes(executor, task, task["solutions"][0])


def test_extract_code_prefers_python_blocks_and_survives_a_cut_off_answer() -> None:
    assert extract_code("```text\nnot code\n```\n```python\nx = 1\n```") == "x = 1\n"
    assert extract_code("```\ny = 2\n```\nmore") == "y = 2\n"
    assert extract_code("```python\ndef f():\n    return 1") == "def f():\n    return 1"
    assert extract_code("def f():\n    return 1\n") == "def f():\n    return 1\n"
