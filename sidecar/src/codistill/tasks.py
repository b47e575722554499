"""Normalized Task JSONL, the only task format the sidecar reads (DESIGN.md, "Task schema").

`codistill dataset export` writes it: one Task per line, keys in schema order. Non-finite floats
(EvalPlus inputs) are written as NaN / Infinity / -Infinity, which json.loads reads as floats.
The rules mirror src/core/datasets/validate.ts; this module imports nothing beyond the standard
library, so training, execution and evaluation can all use it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .jsonl import FieldChecks, RecordFieldError, RecordLineError, iter_records
from .jsonl import type_name as _type_name

TASK_SOURCES = ("taco", "mbpp", "mbpp-sanitized", "mbpp+", "humaneval", "humaneval+", "custom")
SPECIAL_JUDGES = ("non-deterministic", "case-insensitive", "float-tolerance")
TASK_KEYS = (
    "id",
    "source",
    "prompt",
    "entryPoint",
    "starterCode",
    "solutions",
    "tests",
    "difficulty",
    "tags",
    "meta",
)
TEST_KEYS = {
    "assert": ("kind", "setup", "code", "challenge"),
    "call": ("kind", "fnName", "inputs", "outputs", "atol"),
    "stdio": ("kind", "inputs", "outputs", "specialJudge"),
}


class TaskFieldError(RecordFieldError):
    """One field of a Task is missing, mistyped or malformed."""


class TaskFileError(RecordLineError):
    """A line of a Task JSONL file that is not a valid Task: names the file, line and field."""


_checks = FieldChecks(TaskFieldError)
_check_keys, _string, _strings = _checks.keys, _checks.string, _checks.strings


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate_tests(value: Any, path: str = "tests") -> None:
    if not isinstance(value, dict):
        raise TaskFieldError(path, f"expected an object, got {_type_name(value)}")
    kind = value.get("kind")
    if kind not in TEST_KEYS:
        raise TaskFieldError(
            f"{path}.kind", f'expected "assert", "call" or "stdio", got {json.dumps(kind)}'
        )
    _check_keys(value, TEST_KEYS[kind], f"{path}.")
    if kind == "assert":
        _string(value.get("code"), f"{path}.code")
        _string(value.get("setup"), f"{path}.setup", optional=True)
        _string(value.get("challenge"), f"{path}.challenge", optional=True)
    elif kind == "call":
        _string(value.get("fnName"), f"{path}.fnName")
        inputs = value.get("inputs")
        if not isinstance(inputs, list):
            raise TaskFieldError(
                f"{path}.inputs", f"expected a list of argument lists, got {_type_name(inputs)}"
            )
        for i, args in enumerate(inputs):
            if not isinstance(args, list):
                raise TaskFieldError(
                    f"{path}.inputs[{i}]", f"expected an argument list, got {_type_name(args)}"
                )
        if "outputs" not in value:
            raise TaskFieldError(
                f"{path}.outputs", "missing (null when the canonical solution gives them)"
            )
        outputs = value["outputs"]
        if outputs is not None:
            if not isinstance(outputs, list):
                raise TaskFieldError(
                    f"{path}.outputs", f"expected a list or null, got {_type_name(outputs)}"
                )
            if len(outputs) != len(inputs):
                raise TaskFieldError(
                    f"{path}.outputs", f"{len(inputs)} inputs but {len(outputs)} outputs"
                )
        if "atol" in value and not _number(value["atol"]):
            raise TaskFieldError(
                f"{path}.atol", f"expected a number, got {_type_name(value['atol'])}"
            )
    else:
        inputs = _strings(value.get("inputs"), f"{path}.inputs")
        outputs = _strings(value.get("outputs"), f"{path}.outputs")
        if len(inputs) != len(outputs):
            raise TaskFieldError(
                f"{path}.outputs", f"{len(inputs)} inputs but {len(outputs)} outputs"
            )
        judge = value.get("specialJudge")
        if judge is not None and judge not in SPECIAL_JUDGES:
            raise TaskFieldError(
                f"{path}.specialJudge", f"expected one of {', '.join(SPECIAL_JUDGES)}"
            )


def validate_task(value: Any) -> dict[str, Any]:
    """The Task itself when it is valid; raises TaskFieldError naming the first bad field."""
    if not isinstance(value, dict):
        raise TaskFieldError(None, f"expected a JSON object, got {_type_name(value)}")
    _check_keys(value, TASK_KEYS, "")
    _string(value.get("id"), "id", non_empty=True)
    if value.get("source") not in TASK_SOURCES:
        raise TaskFieldError(
            "source",
            f"expected one of {', '.join(TASK_SOURCES)}, got {json.dumps(value.get('source'))}",
        )
    _string(value.get("prompt"), "prompt")
    _string(value.get("entryPoint"), "entryPoint", optional=True)
    _string(value.get("starterCode"), "starterCode", optional=True)
    _strings(value.get("solutions"), "solutions")
    validate_tests(value.get("tests"))
    _string(value.get("difficulty"), "difficulty", optional=True)
    if "tags" in value:
        _strings(value["tags"], "tags")
    if not isinstance(value.get("meta"), dict):
        raise TaskFieldError("meta", f"expected an object, got {_type_name(value.get('meta'))}")
    return value


def prompt_is_code(prompt: str) -> bool:
    """Whether a Task's prompt is Python that a completion continues (HumanEval, MBPP+) rather
    than prose that it stands apart from (MBPP, TACO). One test, so that the prompts evaluation
    builds and the programs the executor runs agree."""
    try:
        compile(prompt, "<prompt>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def iter_tasks(path: str | Path) -> Iterator[dict[str, Any]]:
    """Validated Tasks, one per non-blank line; raises TaskFileError at the first bad line."""
    path = Path(path)
    seen: dict[str, int] = {}
    for number, task in iter_records(path, validate_task, TaskFileError):
        if task["id"] in seen:
            raise TaskFileError(
                path,
                number,
                "id",
                f"duplicate id {task['id']!r} (first on line {seen[task['id']]})",
            )
        seen[task["id"]] = number
        yield task


def load_tasks(path: str | Path) -> list[dict[str, Any]]:
    """Every Task of a normalized Task JSONL file, validated."""
    return list(iter_tasks(path))
