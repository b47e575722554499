"""Strict JSON Lines reading shared by the Task reader (codistill.tasks) and the CoT reader
(codistill.training.cot): one JSON value per non-blank line, validated as it is read, and every
error naming the file, the line and the field; and the field checks both readers make. Standard
library only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

Record = TypeVar("Record")


class RecordFieldError(ValueError):
    """One field of a record is missing, mistyped or malformed (``field`` is None when the
    record as a whole is)."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


class RecordLineError(ValueError):
    """A line of a JSONL file that is not a valid record: names the file, line and field."""

    def __init__(self, path: Path, line: int, field: str | None, reason: str) -> None:
        where = f"{path}:{line}"
        super().__init__(f"{where}: {field}: {reason}" if field else f"{where}: {reason}")
        self.path = path
        self.line = line
        self.field = field
        self.reason = reason


def type_name(value: Any) -> str:
    """The JSON type of a parsed value, as errors name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class FieldChecks:
    """The checks both record readers make, raising that reader's own RecordFieldError."""

    def __init__(self, error: type[RecordFieldError]) -> None:
        self.error = error

    def keys(self, value: dict[str, Any], allowed: tuple[str, ...], prefix: str) -> None:
        """No key outside ``allowed``; errors name the key after ``prefix`` ("teacher.")."""
        for key in value:
            if key not in allowed:
                raise self.error(
                    f"{prefix}{key}", f"unknown field (expected one of {', '.join(allowed)})"
                )

    def string(
        self, value: Any, field: str, *, optional: bool = False, non_empty: bool = False
    ) -> None:
        if value is None and optional:
            return
        if value is None:
            raise self.error(field, "missing")
        if not isinstance(value, str):
            raise self.error(field, f"expected a string, got {type_name(value)}")
        if non_empty and not value.strip():
            raise self.error(field, "empty")

    def strings(self, value: Any, field: str) -> list[str]:
        if not isinstance(value, list):
            raise self.error(field, f"expected a list of strings, got {type_name(value)}")
        for i, item in enumerate(value):
            self.string(item, f"{field}[{i}]")
        return value


def iter_records(
    path: Path,
    validate: Callable[[Any], Record],
    line_error: type[RecordLineError],
) -> Iterator[tuple[int, Record]]:
    """(line number, validated record) for every non-blank line of ``path``, in file order.

    A line that is not UTF-8 or not JSON, or whose value ``validate`` refuses with a
    RecordFieldError, raises ``line_error`` at that line (the cause chained).
    """
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise line_error(
                    path, number, None, f"invalid UTF-8 at byte {err.start + 1} of the line"
                ) from err
            try:
                value = json.loads(text)
            except json.JSONDecodeError as err:
                raise line_error(
                    path, number, None, f"malformed JSON: {err.msg} at column {err.colno}"
                ) from err
            try:
                record = validate(value)
            except RecordFieldError as err:
                raise line_error(path, number, err.field, err.reason) from err
            yield number, record
