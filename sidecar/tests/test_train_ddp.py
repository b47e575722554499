"""Multi-process training on CPU: ``torchrun --nproc_per_node 2`` (DDP over gloo) against one
process with the same global batch (per-device batch halved), both real ``python -m codistill
train`` runs on tiny models. The loss curves, L_struct included, and the final adapters match
within float tolerance, and only rank 0 writes the run folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from train_support import (
    assert_same_run,
    finish_run,
    shared_models_fixture,  # noqa: F401 (fixtures)
    split_batch_args,
    start_run,
)

from codistill.training import checkpoint as ckpt

STEPS = 6


def test_two_gloo_processes_match_one_with_the_same_global_batch(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    single, double = tmp_path / "single", tmp_path / "double"
    # Side by side; whichever builds the alignment cache first, its write is atomic.
    one = start_run(
        [sys.executable, *split_batch_args(models, single, 2, STEPS)], tmp_path / "single.log"
    )
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1"]
    two = start_run(
        [*torchrun, "--nproc_per_node", "2", *split_batch_args(models, double, 1, STEPS)],
        tmp_path / "double.log",
    )
    one_out = finish_run(one, tmp_path / "single.log")
    two_out = finish_run(two, tmp_path / "double.log")

    # Rank 0 alone reports and writes: one JSON result, one line per step.
    assert json.loads(two_out)["step"] == STEPS
    assert json.loads(one_out)["step"] == STEPS
    assert_same_run(single, double, STEPS, "DDP (2 gloo processes)")

    manifest = json.loads((double / "manifest.json").read_text())
    assert manifest["state"] == "finished"
    assert manifest["device"]["processes"] == 2 and manifest["device"]["strategy"] == "ddp"
    state = ckpt.load_checkpoint(double / "checkpoints" / f"step-{STEPS}")
    # Each rank's RNG, gathered to rank 0, so a 2-process run resumes exactly too.
    assert len(state["rng"]) == 2 and state["trainer_state"]["world_size"] == 2
