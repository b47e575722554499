"""CoT JSONL, the teacher's reasoning for each task (DESIGN.md, "CoT record").

One record per line:

    { taskId, teacher: { model, endpoint, temperature, promptHash }, createdAt,
      intent, steps[], formulas[], edgeCases[], teacherCode?, raw,
      status: "valid" | "invalid" | "verified" | "failed-verification", problems[],
      usage?: { promptTokens, completionTokens }, attempts?, failure?,
      verification?: { status, failedTest, message }, review?: { decision, at } }

The optional fields after ``problems`` are the ones the extension's writer adds beyond
DESIGN.md's record (src/core/cot/record.ts, ``CotRecord``):

- ``usage``: the tokens the teacher spent on the answer, retries included (integers >= 0);
- ``attempts``: the teacher requests the answer took (an integer >= 1);
- ``failure``: why the teacher gave no usable answer at all; only on an "invalid" record;
- ``verification``: the sandbox's verdict on ``teacherCode`` (which it needs): ``status`` is one
  of the execution statuses, ``failedTest`` the index of the failing test or null, ``message``
  a string or null. A "verified" record's verdict is "passed", a "failed-verification" one's is
  not;
- ``review``: a person's curation, ``decision`` "accepted", "rejected" or "edited" and ``at`` an
  ISO 8601 timestamp. The training filter (training/data.py) reads it: accepted records can be
  kept whatever their status, rejected ones never train.

The file is append-only: a task asked again (a retry, a re-verification) gets a new line, so the
last record of a taskId is the one that counts. Validation is as strict as the Task reader's
(codistill.tasks): unknown fields, nested ones included, are errors, so a misspelt section never
silently trains on an empty one. Errors name the file, the line and the field. Standard library
only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from ..jsonl import FieldChecks, RecordFieldError, RecordLineError, iter_records
from ..jsonl import type_name as _type_name

COT_STATUSES = ("valid", "invalid", "verified", "failed-verification")
# The statuses of the execution sandbox's results (codistill.execution), as a verification has.
VERIFICATION_STATUSES = ("passed", "failed", "timeout", "error", "oom", "needs_judge")
REVIEW_DECISIONS = ("accepted", "rejected", "edited")
COT_KEYS = (
    "taskId",
    "teacher",
    "createdAt",
    "intent",
    "steps",
    "formulas",
    "edgeCases",
    "teacherCode",
    "raw",
    "status",
    "problems",
    "usage",
    "attempts",
    "failure",
    "verification",
    "review",
)
TEACHER_KEYS = ("model", "endpoint", "temperature", "promptHash")
USAGE_KEYS = ("promptTokens", "completionTokens")
VERIFICATION_KEYS = ("status", "failedTest", "message")
REVIEW_KEYS = ("decision", "at")
SECTION_KEYS = ("steps", "formulas", "edgeCases", "problems")


class CotFieldError(RecordFieldError):
    """One field of a CoT record is missing, mistyped or malformed."""


class CotFileError(RecordLineError):
    """A line of a CoT JSONL file that is not a valid record: names the file, line and field."""


_checks = FieldChecks(CotFieldError)
_check_keys, _string = _checks.keys, _checks.string


def _strings(value: Any, field: str) -> None:
    if value is None:
        raise CotFieldError(field, "missing (an empty list when there is nothing to say)")
    _checks.strings(value, field)


def _timestamp(value: Any, field: str) -> None:
    _string(value, field)
    # fromisoformat only learnt the "Z" suffix in Python 3.11; the sidecar supports 3.10.
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise CotFieldError(field, f"expected an ISO 8601 timestamp, got {value!r}") from None


def _integer(value: Any, field: str, minimum: int) -> None:
    if value is None:
        raise CotFieldError(field, "missing")
    if isinstance(value, float):
        raise CotFieldError(field, f"expected an integer, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise CotFieldError(field, f"expected an integer, got {_type_name(value)}")
    if value < minimum:
        raise CotFieldError(field, f"expected >= {minimum}, got {value}")


def _one_of(value: Any, field: str, allowed: tuple[str, ...]) -> str:
    if value is None:
        raise CotFieldError(field, "missing")
    if not isinstance(value, str) or value not in allowed:
        raise CotFieldError(field, f"expected one of {', '.join(allowed)}, got {json.dumps(value)}")
    return value


def _object(value: Any, field: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """``value`` as an object with no key outside ``keys``; a key that is absent is missing
    even where null is allowed, so "exactly these keys" holds both ways."""
    if not isinstance(value, dict):
        raise CotFieldError(field, f"expected an object, got {_type_name(value)}")
    _check_keys(value, keys, f"{field}.")
    for key in keys:
        if key not in value:
            raise CotFieldError(f"{field}.{key}", "missing")
    return value


def _teacher(value: Any) -> None:
    if not isinstance(value, dict):
        raise CotFieldError("teacher", f"expected an object, got {_type_name(value)}")
    _check_keys(value, TEACHER_KEYS, "teacher.")
    _string(value.get("model"), "teacher.model", non_empty=True)
    _string(value.get("endpoint"), "teacher.endpoint")
    temperature = value.get("temperature")
    if temperature is None:
        raise CotFieldError("teacher.temperature", "missing")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise CotFieldError(
            "teacher.temperature", f"expected a number, got {_type_name(temperature)}"
        )
    if temperature < 0:
        raise CotFieldError("teacher.temperature", f"expected >= 0, got {temperature}")
    _string(value.get("promptHash"), "teacher.promptHash", non_empty=True)


def _status(value: dict[str, Any]) -> None:
    status = _one_of(value.get("status"), "status", COT_STATUSES)
    # "verified" is a claim about the teacher's own code (DESIGN.md): without it, nothing was run.
    if status == "verified" and not value.get("teacherCode"):
        raise CotFieldError("teacherCode", 'required when status is "verified"')


def _usage(value: Any) -> None:
    usage = _object(value, "usage", USAGE_KEYS)
    for key in USAGE_KEYS:
        _integer(usage[key], f"usage.{key}", 0)


def _failure(value: dict[str, Any]) -> None:
    _string(value["failure"], "failure", non_empty=True)
    # A teacher that never answered leaves nothing to parse, so nothing valid or verified.
    if value["status"] != "invalid":
        raise CotFieldError(
            "failure", f'only on an "invalid" record, got status {json.dumps(value["status"])}'
        )


def _verification(value: dict[str, Any]) -> None:
    verification = _object(value["verification"], "verification", VERIFICATION_KEYS)
    verdict = _one_of(verification["status"], "verification.status", VERIFICATION_STATUSES)
    failed_test = verification["failedTest"]
    if failed_test is not None:
        _integer(failed_test, "verification.failedTest", 0)
    _string(verification["message"], "verification.message", optional=True)
    # A verdict is on the teacher's code: without it, nothing was run.
    if not value.get("teacherCode"):
        raise CotFieldError("teacherCode", "required when there is a verification")
    status = value["status"]
    if status == "verified" and verdict != "passed":
        raise CotFieldError(
            "verification.status", f'expected "passed" when status is "verified", got "{verdict}"'
        )
    if status == "failed-verification" and verdict == "passed":
        raise CotFieldError(
            "verification.status", 'expected a failure when status is "failed-verification"'
        )


def _review(value: Any) -> None:
    review = _object(value, "review", REVIEW_KEYS)
    _one_of(review["decision"], "review.decision", REVIEW_DECISIONS)
    _timestamp(review["at"], "review.at")


def validate_cot(value: Any) -> dict[str, Any]:
    """The record itself when it is valid; raises CotFieldError naming the first bad field."""
    if not isinstance(value, dict):
        raise CotFieldError(None, f"expected a JSON object, got {_type_name(value)}")
    _check_keys(value, COT_KEYS, "")
    _string(value.get("taskId"), "taskId", non_empty=True)
    _teacher(value.get("teacher"))
    _timestamp(value.get("createdAt"), "createdAt")
    _string(value.get("intent"), "intent")
    for key in SECTION_KEYS:
        _strings(value.get(key), key)
    _string(value.get("teacherCode"), "teacherCode", optional=True)
    _string(value.get("raw"), "raw")
    _status(value)
    if value.get("usage") is not None:
        _usage(value["usage"])
    if value.get("attempts") is not None:
        _integer(value["attempts"], "attempts", 1)
    if value.get("failure") is not None:
        _failure(value)
    if value.get("verification") is not None:
        _verification(value)
    if value.get("review") is not None:
        _review(value["review"])
    return value


def iter_cots(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for every non-blank line, in file order; raises CotFileError at
    the first bad line."""
    yield from iter_records(Path(path), validate_cot, CotFileError)


def load_cots(path: str | Path) -> dict[str, dict[str, Any]]:
    """The current CoT record of each task in a CoT JSONL file: the last line of each taskId,
    since the file is append-only."""
    records: dict[str, dict[str, Any]] = {}
    for _, record in iter_cots(path):
        records[record["taskId"]] = record
    return records
