"""CoT JSONL reading (DESIGN.md, "CoT record") and the fixture script that writes CoT records
for the golden Task slices."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eval_support import REPO, golden

from codistill.tasks import load_tasks
from codistill.training.cot import (
    COT_STATUSES,
    CotFileError,
    canonical_status,
    load_cots,
    validate_cot,
)

COTS = REPO / "test" / "fixtures" / "cots"
SCRIPT = REPO / "scripts" / "make-cot-fixture.py"
SLICES = ("humaneval-slice", "mbpp-slice", "mbppplus-slice", "taco-fixture")

RECORD: dict[str, Any] = {
    "taskId": "HumanEval/53",
    "teacher": {
        "model": "some-teacher",
        "endpoint": "http://localhost:8000/v1",
        "temperature": 0.2,
        "promptHash": "sha256:abc",
    },
    "createdAt": "2025-03-01T12:00:00Z",
    "intent": "Add two numbers.",
    "steps": ["Return x + y."],
    "formulas": ["x + y"],
    "edgeCases": ["Zero plus zero."],
    "raw": '{"intent": "Add two numbers."}',
    "status": "valid",
    "problems": [],
}


def record(**changes: Any) -> dict[str, Any]:
    value = copy.deepcopy(RECORD)
    value.update(changes)
    return value


def write_lines(path: Path, lines: list[str | dict[str, Any]]) -> Path:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60
    )


# ---- the fixtures -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", SLICES)
def test_fixture_has_one_record_per_task_from_the_fixture_script(name: str) -> None:
    tasks = load_tasks(golden(name))
    cots = load_cots(COTS / f"{name}.jsonl")
    assert list(cots) == [task["id"] for task in tasks]
    for task in tasks:
        cot = cots[task["id"]]
        assert cot["teacher"]["model"] == "fixture-script"
        assert cot["intent"] and cot["steps"] and cot["edgeCases"]
        assert json.loads(cot["raw"]) == {
            key: cot[key] for key in ("intent", "steps", "formulas", "edgeCases")
        }


@pytest.mark.parametrize("name", SLICES)
def test_fixture_statuses_give_the_filters_something_to_keep_and_drop(name: str) -> None:
    tasks = load_tasks(golden(name))
    cots = load_cots(COTS / f"{name}.jsonl")
    statuses = [cots[task["id"]]["status"] for task in tasks]
    assert statuses[-1] == "invalid" and statuses.count("invalid") == 1
    assert "verified" in statuses and "valid" in statuses
    for task in tasks:
        cot = cots[task["id"]]
        if cot["status"] == "verified":
            # The reference solution stands in for the teacher's code that passed.
            assert cot["teacherCode"] == task["solutions"][0]
        assert bool(cot["problems"]) == (cot["status"] == "invalid")


def test_fixture_intent_is_the_first_sentence_of_the_problem() -> None:
    humaneval = load_cots(COTS / "humaneval-slice.jsonl")
    assert humaneval["HumanEval/53"]["intent"] == "Add two numbers x and y"
    assert humaneval["HumanEval/0"]["intent"] == (
        "Check if in given list of numbers, are any two numbers closer to each other than "
        "given threshold."
    )
    mbpp = load_cots(COTS / "mbpp-slice.jsonl")
    assert mbpp["mbpp/2"]["intent"] == (
        "Write a function to find the similar elements from the given two tuple lists."
    )
    assert mbpp["mbpp/2"]["steps"] == [
        "Compute `res = tuple(set(test_tup1) & set(test_tup2))`.",
        "Return `res`.",
    ]


def test_committed_fixtures_are_what_the_script_writes() -> None:
    done = run_script("--check")
    assert done.returncode == 0, done.stderr


def test_script_output_is_deterministic(tmp_path: Path) -> None:
    for out in (tmp_path / "a", tmp_path / "b"):
        done = run_script(str(golden("humaneval-slice")), "--out", str(out))
        assert done.returncode == 0, done.stderr
    first = (tmp_path / "a" / "humaneval-slice.jsonl").read_bytes()
    assert first == (tmp_path / "b" / "humaneval-slice.jsonl").read_bytes()
    assert first == (COTS / "humaneval-slice.jsonl").read_bytes()


def test_script_check_names_a_stale_fixture(tmp_path: Path) -> None:
    stale = tmp_path / "mbpp-slice.jsonl"
    stale.write_text((COTS / "mbpp-slice.jsonl").read_text(encoding="utf-8")[:-2] + "\n")
    done = run_script(str(golden("mbpp-slice")), "--out", str(tmp_path), "--check")
    assert done.returncode == 1
    assert f"{stale}: missing or out of date" in done.stderr


# ---- reading ----------------------------------------------------------------------------------


def test_last_record_of_a_task_wins(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "cots.jsonl",
        [
            record(status="invalid", problems=["no JSON"]),
            record(taskId="HumanEval/0"),
            "",
            record(status="verified", teacherCode="def add(x, y):\n    return x + y\n"),
        ],
    )
    cots = load_cots(path)
    assert list(cots) == ["HumanEval/53", "HumanEval/0"]
    assert cots["HumanEval/53"]["status"] == "verified"
    assert cots["HumanEval/0"]["status"] == "valid"


def test_validate_returns_the_record_and_accepts_an_omitted_teacher_code() -> None:
    value = record()
    assert validate_cot(value) is value
    assert "teacherCode" not in value


def test_accepted_reads_as_valid() -> None:
    assert validate_cot(record(status="accepted"))["status"] == "accepted"
    assert canonical_status("accepted") == "valid"
    assert [canonical_status(s) for s in COT_STATUSES] == list(COT_STATUSES)


def broken(field: str, value: Any) -> dict[str, Any]:
    """The record with ``field`` (dotted for teacher's) set to ``value``, or removed when
    ``value`` is ...."""
    changed = record()
    target, key = (
        (changed["teacher"], field[8:]) if field.startswith("teacher.") else (changed, field)
    )
    if value is ...:
        del target[key]
    else:
        target[key] = value
    return changed


@pytest.mark.parametrize(
    ("field", "value", "reported", "reason"),
    [
        ("intent", ..., "intent", "missing"),
        ("intent", 3, "intent", "expected a string, got number"),
        ("taskId", " ", "taskId", "empty"),
        ("steps", "one step", "steps", "expected a list of strings, got string"),
        ("steps", ["ok", None], "steps[1]", "missing"),
        ("formulas", ["ok", 2], "formulas[1]", "expected a string, got number"),
        ("edgeCases", ..., "edgeCases", "missing (an empty list when there is nothing to say)"),
        ("problems", {}, "problems", "expected a list of strings, got object"),
        ("raw", ..., "raw", "missing"),
        ("createdAt", "yesterday", "createdAt", "expected an ISO 8601 timestamp, got 'yesterday'"),
        (
            "status",
            "great",
            "status",
            'expected one of valid, invalid, verified, failed-verification, got "great"',
        ),
        ("status", "verified", "teacherCode", 'required when status is "verified"'),
        ("teacherCode", 1, "teacherCode", "expected a string, got number"),
        ("edge_cases", [], "edge_cases", "unknown field"),
        ("teacher", "gpt", "teacher", "expected an object, got string"),
        ("teacher.model", "", "teacher.model", "empty"),
        ("teacher.temperature", "hot", "teacher.temperature", "expected a number, got string"),
        ("teacher.temperature", True, "teacher.temperature", "expected a number, got boolean"),
        ("teacher.temperature", -1, "teacher.temperature", "expected >= 0, got -1"),
        ("teacher.promptHash", ..., "teacher.promptHash", "missing"),
        ("teacher.seed", 3, "teacher.seed", "unknown field"),
    ],
)
def test_bad_field_names_file_line_and_field(
    tmp_path: Path, field: str, value: Any, reported: str, reason: str
) -> None:
    path = write_lines(
        tmp_path / "cots.jsonl", [record(taskId="HumanEval/0"), broken(field, value)]
    )
    with pytest.raises(CotFileError) as caught:
        load_cots(path)
    assert str(caught.value).startswith(f"{path}:2: {reported}: {reason}")
    assert (caught.value.line, caught.value.field) == (2, reported)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"{not json\n", "malformed JSON: Expecting property name enclosed in double quotes"),
        (b"[1, 2]\n", "expected a JSON object, got array"),
        (b'{"taskId": "\xff"}\n', "invalid UTF-8 at byte 13 of the line"),
    ],
)
def test_unreadable_line_names_file_and_line(tmp_path: Path, line: bytes, reason: str) -> None:
    path = tmp_path / "cots.jsonl"
    path.write_bytes(b"\n" + json.dumps(record()).encode() + b"\n" + line)
    with pytest.raises(CotFileError) as caught:
        load_cots(path)
    assert str(caught.value).startswith(f"{path}:3: {reason}")
    assert caught.value.field is None
