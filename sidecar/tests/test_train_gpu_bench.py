"""bench/gpu_train.py --dry-run: the CPU-only pieces of the GPU training benchmark (the
Llama-3.1-8B and RoBERTa-base configs, checked on the meta device; the locally trained
tokenizers; the alignment; both arms of the step at a scaled-down size), so the script that
runs on an H100 is known to work before a GPU is at hand."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import sidecar_env

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench" / "gpu_train.py"


def test_gpu_train_bench_dry_run(tmp_path: Path) -> None:
    out = tmp_path / "gpu_train.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--dry-run", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=sidecar_env({"OMP_NUM_THREADS": "2"}),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "student 8,030,261,248 parameters, encoder 124,645,632" in done.stdout
    assert "L_struct overhead" in done.stdout
    report = json.loads(out.read_text())
    assert report["dryRun"] is True and report["seqLen"] == 256
    results = report["results"]
    assert [(r["beta"], r["gradient_checkpointing"]) for r in results] == [
        (0.0, False),
        (0.5, False),
        (0.0, True),
        (0.5, True),
    ]
    for result in results:
        assert result["error"] is None and result["steps"] == 2
        assert result["tokens_per_s"] > 0 and result["loss"] > 0
        assert (result["l_struct"] is None) == (result["beta"] == 0)
    assert report["notes"]["student_tokenizer"] > 500 and report["notes"]["encoder_tokenizer"] > 300
