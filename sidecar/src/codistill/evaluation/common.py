"""What generation and execution share: input errors, cancellation, progress and file writing."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

#: progress(done, total, message): called as work advances, from the thread doing the work.
Progress = Callable[[int, int, str], None]
#: Polled between units of work; True once the caller wants the work to stop.
Cancelled = Callable[[], bool]


def no_progress(done: int, total: int, message: str) -> None:
    return None


def never_cancelled() -> bool:
    return False


class EvalInputError(ValueError):
    """A parameter names something unusable: a missing folder, a bad file line, a combination
    that cannot work. ``field`` is the parameter's name as the RPC method spells it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class EvalCancelled(Exception):
    """The caller cancelled; whatever was already written (samples.jsonl lines) is kept."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__(f"cancelled after {done} of {total}")
        self.done = done
        self.total = total


def utc_now() -> str:
    """ISO-8601 in UTC, to the second: what results.json and generation.json record."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def write_json(path: Path, value: Any) -> None:
    """Write through a temporary file and rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(value, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def prepare_folder(field: str, folder: str) -> Path:
    """The folder a parameter names, created when missing; EvalInputError naming the parameter
    when it cannot be."""
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise EvalInputError(field, f"{folder} exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EvalInputError(field, f"cannot create {folder}: {exc.strerror}") from None
    return path.resolve()


def prepare_out_dir(out_dir: str) -> Path:
    return prepare_folder("outDir", out_dir)


def require_file(field: str, path: str) -> Path:
    resolved = Path(path)
    if not resolved.is_file():
        raise EvalInputError(field, f"{path}: no such file")
    return resolved
