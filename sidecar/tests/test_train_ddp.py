"""Multi-process training on CPU: ``torchrun --nproc_per_node 2`` (DDP over gloo) against one
process with the same global batch (per-device batch halved), both real ``python -m codistill
train`` runs on tiny models. The loss curves, L_struct included, and the final adapters match
within float tolerance, and only rank 0 writes the run folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from train_support import DDP_TOLERANCE as TOLERANCE
from train_support import ENV, TINY_RUN, make_models, max_weight_diff

from codistill.training import checkpoint as ckpt
from codistill.training.metrics import read_metrics

from conftest import sidecar_env

STEPS = 6


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_models(tmp_path_factory.mktemp("models"))


def train_args(models: tuple[Path, Path], out: Path, batch_size: int) -> list[str]:
    student, encoder = models
    return [
        "-m",
        "codistill",
        "train",
        "--config",
        str(TINY_RUN),
        f"student={student}",
        f"encoder={encoder}",
        f"output_dir={out}",
        f"cache_dir={out.parent / 'cache'}",
        f"batch_size={batch_size}",
        "grad_accum=2",
        f"max_steps={STEPS}",
        "save_every=3",
        "eval_every=3",
        # Dropout draws differ between one process and two (one RNG stream per rank).
        "lora.dropout=0",
        # L_struct on from the second step, so its normalisation across ranks is compared too.
        "curriculum.warmup_fraction=0.5",
    ]


def start(command: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        env=sidecar_env(ENV),
        start_new_session=True,  # so a hung run's workers can be killed with it
        text=True,
    )


def finish(proc: subprocess.Popen, log: Path, timeout: float = 240) -> str:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError(
            f"no result within {timeout} s (a collective hung?):\n{log.read_text()}"
        ) from None
    assert proc.returncode == 0, log.read_text()
    return out


def test_two_gloo_processes_match_one_with_the_same_global_batch(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    single, double = tmp_path / "single", tmp_path / "double"
    # Side by side; whichever builds the alignment cache first, its write is atomic.
    one = start([sys.executable, *train_args(models, single, 2)], tmp_path / "single.log")
    two = start(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nnodes",
            "1",
            "--nproc_per_node",
            "2",
            *train_args(models, double, 1),
        ],
        tmp_path / "double.log",
    )
    one_out = finish(one, tmp_path / "single.log")
    two_out = finish(two, tmp_path / "double.log")

    # Rank 0 alone reports and writes: one JSON result, one line per step.
    assert json.loads(two_out)["step"] == STEPS
    assert json.loads(one_out)["step"] == STEPS
    a, b = read_metrics(single), read_metrics(double)
    assert [r["step"] for r in b] == list(range(1, STEPS + 1))

    diffs: dict[str, float] = {}
    for key in ("loss", "ce", "l_struct", "grad_norm", "eval_loss", "eval_ce", "eval_l_struct"):
        pairs = [(x[key], y[key]) for x, y in zip(a, b, strict=True)]
        assert [x is None for x, _ in pairs] == [y is None for _, y in pairs], key
        diffs[key] = max((abs(x - y) for x, y in pairs if x is not None), default=0.0)
    for key in ("alpha", "beta", "lr", "epoch"):
        assert [r[key] for r in a] == [r[key] for r in b], key
    assert any(r["l_struct"] is not None for r in b) and b[2]["eval_loss"] is not None
    print(f"\nDDP (2 gloo processes) vs 1 process, max abs diffs: {diffs}")
    assert max(diffs.values()) <= TOLERANCE, diffs

    weight_diff = max_weight_diff(single / "adapter", double / "adapter")
    assert weight_diff <= TOLERANCE, f"adapter weights differ by {weight_diff}"

    manifest = json.loads((double / "manifest.json").read_text())
    assert manifest["state"] == "finished"
    assert manifest["device"]["processes"] == 2 and manifest["device"]["strategy"] == "ddp"
    state = ckpt.load_checkpoint(double / "checkpoints" / f"step-{STEPS}")
    # Each rank's RNG, gathered to rank 0, so a 2-process run resumes exactly too.
    assert len(state["rng"]) == 2 and state["trainer_state"]["world_size"] == 2
