"""Shared by the test_train_* modules: the tiny student and encoder made by
scripts/make-tiny-model.py, the fixture run config, and comparing the adapters runs wrote."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from eval_support import MAKE_TINY_MODEL, REPO, golden
from safetensors.torch import load_file

from codistill.training import checkpoint as ckpt

TINY_RUN = REPO / "test" / "fixtures" / "train" / "tiny.yaml"
CORPUS = ("humaneval-slice", "mbpp-slice", "mbppplus-slice", "taco-fixture")
# For the runs in a subprocess. One thread per process: the runs go side by side on a small CI
# machine, and the same thread count in every process keeps the float reductions identical.
ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "CODISTILL_LOG_LEVEL": "warning"}


def make_models(root: Path) -> tuple[Path, Path]:
    """(student, encoder) folders written by the real script, tokenizers trained on the slices."""
    student, encoder = root / "student", root / "encoder"
    corpus = [arg for name in CORPUS for arg in ("--corpus", str(golden(name)))]
    done = subprocess.run(
        [sys.executable, str(MAKE_TINY_MODEL), str(student), "--encoder", str(encoder), *corpus],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"make-tiny-model.py failed:\n{done.stderr}"
    return student, encoder


def max_weight_diff(a: Path, b: Path) -> float:
    """The largest absolute difference between two adapter folders' weights, which must have
    the same tensors."""
    left, right = load_file(str(a / ckpt.ADAPTER_WEIGHTS)), load_file(str(b / ckpt.ADAPTER_WEIGHTS))
    assert left.keys() == right.keys()
    return max(float((left[k] - right[k]).abs().max()) for k in left)
