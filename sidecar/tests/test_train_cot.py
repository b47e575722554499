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
from codistill.training.cot import COT_KEYS, CotFileError, load_cots, validate_cot

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


@pytest.mark.parametrize("name", SLICES)
def test_fixture_has_the_writers_optional_fields(name: str) -> None:
    tasks = load_tasks(golden(name))
    cots = load_cots(COTS / f"{name}.jsonl")
    for task in tasks:
        cot = cots[task["id"]]
        assert cot["usage"] == {
            "promptTokens": len(task["prompt"]) // 4,
            "completionTokens": len(cot["raw"]) // 4,
        }
        assert cot["attempts"] == 1 and "failure" not in cot
        passed = {"status": "passed", "failedTest": None, "message": None}
        assert cot.get("verification") == (passed if cot["status"] == "verified" else None)
    reviews = [cots[task["id"]].get("review") for task in tasks]
    # The first task (valid) accepted and the last (invalid) rejected, the rest not reviewed.
    assert reviews[0] == {"decision": "accepted", "at": "2025-01-01T00:00:00Z"}
    assert cots[tasks[0]["id"]]["status"] == "valid"
    assert reviews[-1] == {"decision": "rejected", "at": "2025-01-01T00:00:00Z"}
    assert reviews[1:-1] == [None] * (len(tasks) - 2)


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


def test_accepted_is_a_review_decision_not_a_status() -> None:
    with pytest.raises(ValueError, match='^status: expected one of .*, got "accepted"$'):
        validate_cot(record(status="accepted"))
    reviewed = record(review={"decision": "accepted", "at": "2025-03-02T09:30:00Z"})
    assert validate_cot(reviewed)["review"]["decision"] == "accepted"


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


# ---- the writer's optional fields (src/core/cot/record.ts, CotRecord) ------------------------

TEACHER_CODE = "def add(x, y):\n    return x + y\n"
PASSED = {"status": "passed", "failedTest": None, "message": None}
FAILED = {"status": "failed", "failedTest": 2, "message": "AssertionError"}
USAGE = {"promptTokens": 120, "completionTokens": 45}
REVIEW = {"decision": "accepted", "at": "2025-03-02T09:30:00Z"}


def verified(**changes: Any) -> dict[str, Any]:
    """A verified record with every optional field the writer adds, except failure."""
    value = record(
        status="verified",
        teacherCode=TEACHER_CODE,
        usage=dict(USAGE),
        attempts=2,
        verification=dict(PASSED),
        review=dict(REVIEW),
    )
    for key, change in changes.items():
        if change is ...:
            del value[key]
        else:
            value[key] = change
    return value


@pytest.mark.parametrize(
    "value",
    [
        verified(),
        record(usage={"promptTokens": 0, "completionTokens": 0}),
        record(attempts=1),
        record(attempts=7),
        record(status="invalid", problems=["no answer"], failure="HTTP 503 after 3 retries"),
        record(status="invalid", problems=["truncated"], failure="no JSON", review=REVIEW),
        record(
            status="failed-verification",
            teacherCode=TEACHER_CODE,
            verification=dict(FAILED),
        ),
        record(
            teacherCode=TEACHER_CODE,
            verification={"status": "needs_judge", "failedTest": None, "message": None},
        ),
        *(
            record(
                status="failed-verification",
                teacherCode=TEACHER_CODE,
                verification={"status": status, "failedTest": 0, "message": None},
            )
            for status in ("failed", "timeout", "error", "oom", "needs_judge")
        ),
        *(
            record(review={"decision": decision, "at": "2025-03-02T09:30:00.123+02:00"})
            for decision in ("accepted", "rejected", "edited")
        ),
    ],
    ids=lambda value: ",".join(
        f"{k}={json.dumps(value[k])}"
        for k in ("status", "usage", "attempts", "failure", "verification", "review")
        if k in value
    ),
)
def test_optional_fields_of_the_writer_are_read(value: dict[str, Any]) -> None:
    assert validate_cot(copy.deepcopy(value)) == value


@pytest.mark.parametrize(
    ("value", "reported", "reason"),
    [
        # usage
        (verified(usage=5), "usage", "expected an object, got number"),
        (verified(usage=[1, 2]), "usage", "expected an object, got array"),
        (verified(usage={"promptTokens": 1}), "usage.completionTokens", "missing"),
        (
            verified(usage={**USAGE, "cost": 0.1}),
            "usage.cost",
            "unknown field (expected one of promptTokens, completionTokens)",
        ),
        (verified(usage={**USAGE, "promptTokens": None}), "usage.promptTokens", "missing"),
        (
            verified(usage={**USAGE, "promptTokens": -1}),
            "usage.promptTokens",
            "expected >= 0, got -1",
        ),
        (
            verified(usage={**USAGE, "completionTokens": True}),
            "usage.completionTokens",
            "expected an integer, got boolean",
        ),
        (
            verified(usage={**USAGE, "completionTokens": 4.5}),
            "usage.completionTokens",
            "expected an integer, got 4.5",
        ),
        (
            verified(usage={**USAGE, "promptTokens": "12"}),
            "usage.promptTokens",
            "expected an integer, got string",
        ),
        # attempts
        (verified(attempts=0), "attempts", "expected >= 1, got 0"),
        (verified(attempts=-3), "attempts", "expected >= 1, got -3"),
        (verified(attempts=True), "attempts", "expected an integer, got boolean"),
        (verified(attempts=1.0), "attempts", "expected an integer, got 1.0"),
        (verified(attempts="2"), "attempts", "expected an integer, got string"),
        # failure
        (record(status="invalid", failure=""), "failure", "empty"),
        (record(status="invalid", failure=" "), "failure", "empty"),
        (record(status="invalid", failure=3), "failure", "expected a string, got number"),
        (
            record(failure="HTTP 503"),
            "failure",
            'only on an "invalid" record, got status "valid"',
        ),
        (
            verified(failure="HTTP 503"),
            "failure",
            'only on an "invalid" record, got status "verified"',
        ),
        # verification
        (verified(verification="passed"), "verification", "expected an object, got string"),
        (
            verified(verification={"status": "passed", "message": None}),
            "verification.failedTest",
            "missing",
        ),
        (
            verified(verification={**PASSED, "stdout": ""}),
            "verification.stdout",
            "unknown field (expected one of status, failedTest, message)",
        ),
        (verified(verification={**PASSED, "status": None}), "verification.status", "missing"),
        (
            verified(verification={**PASSED, "status": "great"}),
            "verification.status",
            'expected one of passed, failed, timeout, error, oom, needs_judge, got "great"',
        ),
        (
            verified(verification={**PASSED, "failedTest": -1}),
            "verification.failedTest",
            "expected >= 0, got -1",
        ),
        (
            verified(verification={**PASSED, "failedTest": False}),
            "verification.failedTest",
            "expected an integer, got boolean",
        ),
        (
            verified(verification={**PASSED, "failedTest": "0"}),
            "verification.failedTest",
            "expected an integer, got string",
        ),
        (
            verified(verification={**PASSED, "message": 3}),
            "verification.message",
            "expected a string, got number",
        ),
        (
            record(verification=dict(FAILED)),
            "teacherCode",
            "required when there is a verification",
        ),
        (
            record(teacherCode="", verification=dict(FAILED)),
            "teacherCode",
            "required when there is a verification",
        ),
        (
            verified(verification=dict(FAILED)),
            "verification.status",
            'expected "passed" when status is "verified", got "failed"',
        ),
        (
            verified(status="failed-verification"),
            "verification.status",
            'expected a failure when status is "failed-verification"',
        ),
        # review
        (verified(review="accepted"), "review", "expected an object, got string"),
        (verified(review={"decision": "accepted"}), "review.at", "missing"),
        (
            verified(review={**REVIEW, "by": "me"}),
            "review.by",
            "unknown field (expected one of decision, at)",
        ),
        (verified(review={**REVIEW, "decision": None}), "review.decision", "missing"),
        (
            verified(review={**REVIEW, "decision": "approved"}),
            "review.decision",
            'expected one of accepted, rejected, edited, got "approved"',
        ),
        (
            verified(review={**REVIEW, "at": "yesterday"}),
            "review.at",
            "expected an ISO 8601 timestamp, got 'yesterday'",
        ),
        (
            verified(review={**REVIEW, "at": 1735689600}),
            "review.at",
            "expected a string, got number",
        ),
        # status: "accepted" is a review decision now, not a status
        (
            record(status="accepted"),
            "status",
            'expected one of valid, invalid, verified, failed-verification, got "accepted"',
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_optional_field_names_file_line_and_field(
    tmp_path: Path, value: dict[str, Any], reported: str, reason: str
) -> None:
    path = write_lines(tmp_path / "cots.jsonl", [verified(taskId="HumanEval/0"), value])
    with pytest.raises(CotFileError) as caught:
        load_cots(path)
    assert str(caught.value) == f"{path}:2: {reported}: {reason}"
    assert (caught.value.line, caught.value.field) == (2, reported)


# The key order of src/core/cot/record.ts's CotRecord, which JSON.stringify keeps: the reader's.
TS_KEY_ORDER = COT_KEYS


def ts_line(**fields: Any) -> str:
    """A line as the extension's CotStore.append writes it: JSON.stringify of a CotRecord, with
    no spaces, the interface's key order, and absent optional fields (``...`` here) left out."""
    value: dict[str, Any] = {
        "teacher": {
            "model": "qwen",
            "endpoint": "http://localhost:8000/v1",
            "temperature": 0.2,
            "promptHash": "sha256:abc",
        },
        "createdAt": "2025-03-01T12:00:00.000Z",
        "intent": "Add two numbers.",
        "steps": ["Return x + y."],
        "formulas": ["x + y"],
        "edgeCases": ["Zero plus zero."],
        "teacherCode": TEACHER_CODE,
        "raw": "{}",
        "status": "verified",
        "problems": [],
        "usage": {"promptTokens": 120, "completionTokens": 45},
        "attempts": 1,
        **fields,
    }
    ordered = {k: value[k] for k in TS_KEY_ORDER if value.get(k, ...) is not ...}
    assert set(ordered) == {k for k, v in value.items() if v is not ...}
    return json.dumps(ordered, separators=(",", ":"))


def test_a_file_the_extension_wrote_with_the_optional_fields_reads(tmp_path: Path) -> None:
    lines = [
        # A verified answer.
        ts_line(taskId="HumanEval/53", verification=dict(PASSED)),
        # A teacher that gave no answer after every retry.
        ts_line(
            taskId="HumanEval/0",
            intent="",
            steps=[],
            formulas=[],
            edgeCases=[],
            teacherCode=...,
            raw="",
            status="invalid",
            problems=["the teacher gave no answer"],
            usage={"promptTokens": 300, "completionTokens": 0},
            attempts=3,
            failure="HTTP 503 Service Unavailable after 3 attempts",
        ),
        # Code that failed its first test, then edited by hand.
        ts_line(
            taskId="HumanEval/2",
            status="failed-verification",
            verification=dict(FAILED),
            review={"decision": "edited", "at": "2025-03-02T09:00:00.000Z"},
        ),
        # A review appended to the first task: the last line of a task counts.
        ts_line(
            taskId="HumanEval/53",
            verification=dict(PASSED),
            review={"decision": "rejected", "at": "2025-03-02T09:30:00.000Z"},
        ),
    ]
    assert lines[0].startswith('{"taskId":"HumanEval/53","teacher":{"model":"qwen",')
    path = write_lines(tmp_path / "cots.jsonl", list(lines))
    cots = load_cots(path)
    assert list(cots) == ["HumanEval/53", "HumanEval/0", "HumanEval/2"]
    assert cots["HumanEval/53"] == json.loads(lines[3])
    assert cots["HumanEval/53"]["review"]["decision"] == "rejected"
    assert cots["HumanEval/0"]["failure"].startswith("HTTP 503")
    assert "teacherCode" not in cots["HumanEval/0"]
    assert cots["HumanEval/2"]["verification"] == FAILED
