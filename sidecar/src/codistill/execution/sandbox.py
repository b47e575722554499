"""The sandbox's front door: what every entry point that runs samples goes through.

`python -m codistill execute`, `python -m codistill eval execute` and the eval/execute method
offer the same choices under their own spellings (flags, params). Each maps them onto
`SandboxOptions` and opens its executor with `open_executor`, so each choice has one default
and one way into the executor; each reads its samples with `load_samples`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .executor import Executor, Limits
from .isolation import level_of

log = logging.getLogger("codistill.execute")


# kw_only: so that a request made of these options and more (eval/execute's) can add fields
# without defaults after them.
@dataclass(frozen=True, kw_only=True)
class SandboxOptions:
    """How samples run: these defaults are every entry point's."""

    workers: int = 2
    # Seconds per test without a reference time, and for loading a sample.
    timeout_s: float = Limits.test_timeout_s
    time_limit_factor: float = Limits.time_limit_factor
    min_time_limit_s: float = Limits.min_time_limit
    # Folder for expected outputs of reference runs, kept across runs; None: per executor.
    cache_dir: str | Path | None = None
    # MBPP's challenge_test_list, run after test_list when asked for.
    challenge_tests: bool = False
    # Refuse to run below this isolation level (isolation.LEVELS: none, partial, full).
    min_isolation: str = "none"

    def limits(self) -> Limits:
        return Limits(
            test_timeout_s=self.timeout_s,
            time_limit_factor=self.time_limit_factor,
            min_time_limit=self.min_time_limit_s,
        )


def open_executor(options: SandboxOptions) -> Executor:
    """An executor with its workers started; use it in a `with` block, which stops them.
    Says on the log what keeps the samples in, with a warning when it is not all of it."""
    executor = Executor(
        workers=options.workers,
        limits=options.limits(),
        cache_dir=options.cache_dir,
        challenge_tests=options.challenge_tests,
        min_isolation=options.min_isolation,
    )
    level = level_of(executor.isolation)
    if level == "full":
        log.info("sandbox isolation: %s (full)", executor.isolation)
    else:
        why = "; ".join(executor.isolation_problems) or "the kernel allows no more"
        log.warning("sandbox isolation: %s (%s): %s", executor.isolation, level, why)
    return executor


def load_samples(path: Path) -> list[dict[str, Any]]:
    """EvalPlus-style samples: a task_id and a string `solution` or `completion` each.
    ValueError names the file and line of the first one that is not."""
    samples = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                sample = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: not JSON: {exc}") from None
            if not isinstance(sample, dict) or not isinstance(sample.get("task_id"), str):
                raise ValueError(f"{path}:{number}: task_id: expected a string")
            if not isinstance(sample.get("solution", sample.get("completion")), str):
                raise ValueError(
                    f"{path}:{number}: solution: a string `solution` or `completion` is required"
                )
            samples.append(sample)
    return samples
