"""``python -m codistill execute``: run samples against tasks and write results with pass@k."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import fields
from pathlib import Path

from ..cliargs import (
    add_challenge_tests_option,
    add_command,
    add_isolation_option,
    add_sample_input_options,
    add_time_limit_options,
)
from ..tasks import load_tasks
from .executor import SandboxTooWeak
from .passk import summarize
from .sandbox import SandboxOptions, load_samples, open_executor

log = logging.getLogger("codistill.execute")


def sandbox_options(args: argparse.Namespace) -> SandboxOptions:
    """How the samples run, as the flags say: each of those flags keeps its value under the
    name of the option it sets (its dest), so a new option needs a flag and nothing else here."""
    names = [option.name for option in fields(SandboxOptions)]
    return SandboxOptions(**{name: getattr(args, name) for name in names})


def run_execute(args: argparse.Namespace) -> int:
    try:
        tasks = {task["id"]: task for task in load_tasks(args.tasks)}
        samples = load_samples(Path(args.samples))
    except (OSError, ValueError) as exc:
        print(f"codistill execute: {exc}", file=sys.stderr)
        return 2
    unknown = sorted({s["task_id"] for s in samples} - set(tasks))
    if unknown:
        print(f"codistill execute: {args.samples}: unknown task_id {unknown[0]!r}", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        executor = open_executor(sandbox_options(args))
    except SandboxTooWeak as exc:
        print(f"codistill execute: {exc}", file=sys.stderr)
        return 2
    with executor:
        results = executor.run(tasks, samples)
    elapsed = time.monotonic() - started
    by_task: dict[str, list[str]] = {}
    for result in results:
        by_task.setdefault(result.task_id, []).append(result.status)
    summary = summarize(by_task)
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    output = {
        "summary": {
            "samples": len(results),
            "statuses": counts,
            "pass@k": summary["overall"],
            "wall_s": round(elapsed, 3),
            "samples_per_s": round(len(results) / elapsed, 2) if elapsed > 0 else None,
            "workers": args.workers,
            "isolation": executor.isolation,
        },
        "tasks": summary["tasks"],
        "samples": [result.to_json() for result in results],
    }
    Path(args.out).write_text(json.dumps(output, indent=1) + "\n", encoding="utf-8")
    log.info(
        "%d samples in %.2f s (%s); pass@k %s -> %s",
        len(results),
        elapsed,
        counts,
        summary["overall"],
        args.out,
    )
    return 0


def add_execute_command(subparsers: argparse._SubParsersAction) -> None:
    add_command(
        subparsers,
        "execute",
        run_execute,
        add_execute_options,
        help="run samples against normalized tasks in the sandbox and compute pass@k",
        description="Run EvalPlus-style samples (task_id + solution or completion) against "
        "normalized Task JSONL; write per-sample statuses and pass@k to a JSON file.",
    )


def add_execute_options(parser: argparse.ArgumentParser) -> None:
    add_sample_input_options(parser)
    parser.add_argument("--out", required=True, help="results JSON to write")
    parser.add_argument(
        "--workers",
        type=int,
        default=SandboxOptions.workers,
        help="parallel sandboxes (default 2)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        dest="timeout_s",
        metavar="TIMEOUT",
        default=SandboxOptions.timeout_s,
        help="seconds per test without a reference time, and for loading a sample (default 5)",
    )
    add_time_limit_options(parser, with_defaults=True)
    parser.add_argument("--cache-dir", default=None, help="cache for computed expected outputs")
    add_challenge_tests_option(parser)
    add_isolation_option(parser, with_default=True)
