"""CoT JSONL, the teacher's reasoning for each task (DESIGN.md, "CoT record").

One record per line:

    { taskId, teacher: { model, endpoint, temperature, promptHash }, createdAt,
      intent, steps[], formulas[], edgeCases[], teacherCode?, raw,
      status: "valid" | "invalid" | "verified" | "failed-verification", problems[] }

The file is append-only: a task asked again (a retry, a re-verification) gets a new line, so the
last record of a taskId is the one that counts. Validation is as strict as the Task reader's
(codistill.tasks): unknown fields are errors, so a misspelt section never silently trains on an
empty one. Errors name the file, the line and the field. Standard library only.
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
# The status filter names "accepted" beside verified and valid; DESIGN.md's record has no
# such status. It is read as another word for "valid" (the parser accepted the teacher's answer),
# in records and in filters alike, so a later review step that writes it needs no reader change.
STATUS_ALIASES = {"accepted": "valid"}
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
)
TEACHER_KEYS = ("model", "endpoint", "temperature", "promptHash")
SECTION_KEYS = ("steps", "formulas", "edgeCases", "problems")


class CotFieldError(RecordFieldError):
    """One field of a CoT record is missing, mistyped or malformed."""


class CotFileError(RecordLineError):
    """A line of a CoT JSONL file that is not a valid record: names the file, line and field."""


def canonical_status(status: str) -> str:
    """The DESIGN.md status a status word stands for ("accepted" is "valid")."""
    return STATUS_ALIASES.get(status, status)


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
    status = value.get("status")
    if status is None:
        raise CotFieldError("status", "missing")
    if not isinstance(status, str) or canonical_status(status) not in COT_STATUSES:
        raise CotFieldError(
            "status", f"expected one of {', '.join(COT_STATUSES)}, got {json.dumps(status)}"
        )
    # "verified" is a claim about the teacher's own code (DESIGN.md): without it, nothing was run.
    if status == "verified" and not value.get("teacherCode"):
        raise CotFieldError("teacherCode", 'required when status is "verified"')


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
