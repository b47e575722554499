"""The real benchmark files (CODISTILL_DATA, default ../shared/data) as normalized Task JSONL,
exported by the extension's own CLI (dist/cli.js, built by `npm run build`), so the sandbox is
tested on exactly the tasks the extension hands it. Used by test_execution_benchmarks.py and
bench/executor.bench.py."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLI = REPO / "dist" / "cli.js"

# Benchmark name -> file under the data folder.
BENCHMARKS = {
    "humaneval": "humaneval/HumanEval.jsonl",
    "humanevalplus": "evalplus/HumanEvalPlus-v0.1.10.jsonl.gz",
    "mbpp": "mbpp/mbpp.jsonl",
    "mbppplus": "evalplus/MbppPlus-v0.2.0.jsonl.gz",
}


class BenchmarkDataError(RuntimeError):
    """Something the export needs is missing; the message says what to do."""


def data_dir() -> Path:
    return Path(os.environ.get("CODISTILL_DATA") or REPO.parent / "shared" / "data")


def export_benchmark(name: str, out_dir: Path) -> Path:
    """`node dist/cli.js dataset export <file> --out <out_dir>/<name>.tasks.jsonl`."""
    source = data_dir() / BENCHMARKS[name]
    if not source.is_file():
        raise BenchmarkDataError(
            f"{source}: benchmark file missing (set CODISTILL_DATA to the benchmark data folder)"
        )
    if not CLI.is_file():
        raise BenchmarkDataError(f"{CLI}: missing; run `npm run build` first (`npm test` does)")
    node = shutil.which("node")
    if node is None:
        raise BenchmarkDataError("node is not on PATH; it runs dist/cli.js to export the tasks")
    out = out_dir / f"{name}.tasks.jsonl"
    command = [node, str(CLI), "dataset", "export", str(source), "--out", str(out)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise BenchmarkDataError(f"{' '.join(command)} failed: {proc.stderr.strip()[-2000:]}")
    return out
