"""FSDP (``distributed.strategy: fsdp``: FSDP2's fully_shard) on CPU: ``torchrun
--nproc_per_node 2`` over gloo against one process with the same global batch, both real
``python -m codistill train`` runs on the tiny models. The loss curves and final adapters match
within the DDP tolerance; the adapter the sharded run wrote loads in PEFT; its checkpoints hold
the whole AdamW state in a single process's layout; and a resume from one of them under FSDP
ends exactly as the uninterrupted run."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
import torch
from train_support import (
    DDP_TOLERANCE,
    TINY_RUN,
    assert_same_run,
    curve_diffs,
    finish_run,
    max_weight_diff,
    shared_models_fixture,  # noqa: F401 (fixtures)
    split_batch_args,
    start_run,
)

from codistill.training import checkpoint as ckpt
from codistill.training.config import TrainConfigError, load_config
from codistill.training.distributed import check_launch

STEPS = 6
FSDP = "distributed.strategy=fsdp"
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1"]


def test_fsdp_on_two_gloo_processes_matches_one_process_and_resumes_exactly(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    single, sharded = tmp_path / "single", tmp_path / "sharded"
    one = start_run(
        [sys.executable, *split_batch_args(models, single, 2, STEPS)], tmp_path / "single.log"
    )
    two = start_run(
        [*TORCHRUN, "--nproc_per_node", "2", *split_batch_args(models, sharded, 1, STEPS, FSDP)],
        tmp_path / "sharded.log",
        {"CODISTILL_LOG_LEVEL": "info"},
    )
    finish_run(one, tmp_path / "single.log")
    assert json.loads(finish_run(two, tmp_path / "sharded.log"))["step"] == STEPS
    assert_same_run(single, sharded, STEPS, "FSDP (2 gloo processes)")
    # Sharded indeed: one unit per decoder layer and the root, each process with half the weights.
    held = re.search(
        r"fsdp: (\d+) units over 2 processes; this process holds (\d+) of (\d+) weights",
        (tmp_path / "sharded.log").read_text(),
    )
    assert held is not None
    units, mine, total = map(int, held.groups())
    assert units >= 2 and 0.45 * total <= mine <= 0.55 * total, held.group(0)
    manifest = json.loads((sharded / "manifest.json").read_text())
    assert manifest["state"] == "finished"
    assert manifest["device"]["processes"] == 2 and manifest["device"]["strategy"] == "fsdp"

    assert_loads_in_peft(models[0], sharded / ckpt.ADAPTER_DIR, single / ckpt.ADAPTER_DIR)
    step3 = Path(ckpt.CHECKPOINTS_DIR, "step-3")
    assert_whole_optimizer_state(single / step3, sharded / step3)

    # Resume a copy from its step-3 checkpoint, again on 2 FSDP processes.
    resumed = tmp_path / "resumed"
    shutil.copytree(sharded, resumed)
    shutil.rmtree(resumed / ckpt.ADAPTER_DIR)
    shutil.rmtree(resumed / ckpt.CHECKPOINTS_DIR / f"step-{STEPS}")
    again = start_run(
        [
            *TORCHRUN,
            "--nproc_per_node",
            "2",
            *("-m", "codistill", "train", "--resume", str(resumed), "--checkpoint", "step-3"),
        ],
        tmp_path / "resumed.log",
    )
    assert json.loads(finish_run(again, tmp_path / "resumed.log"))["step"] == STEPS
    diffs = curve_diffs(sharded, resumed, STEPS)
    # The same processes doing the same sums: as exact as test_train_resume.py's resume.
    assert max(diffs.values()) <= 1e-6, diffs
    weight_diff = max_weight_diff(sharded / ckpt.ADAPTER_DIR, resumed / ckpt.ADAPTER_DIR)
    assert weight_diff <= 1e-6, weight_diff


def assert_loads_in_peft(student: Path, adapter: Path, reference: Path) -> None:
    """PEFT loads the sharded run's adapter onto the student: every LoRA weight of the model
    comes from the file, and equals the single-process run's."""
    from peft import PeftModel, get_peft_model_state_dict
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(student)), adapter)
    loaded = get_peft_model_state_dict(model)
    expected = load_file(str(reference / ckpt.ADAPTER_WEIGHTS))
    assert loaded.keys() == expected.keys() and any("lora_B" in key for key in loaded)
    for key, tensor in expected.items():
        assert loaded[key].shape == tensor.shape, key
        assert float((loaded[key] - tensor).abs().max()) <= DDP_TOLERANCE, key


def assert_whole_optimizer_state(single: Path, sharded: Path) -> None:
    """AdamW's state gathered whole from the shards: the single-process checkpoint's tensors,
    indices and shapes, and values within the tolerance."""
    a = ckpt.load_checkpoint(single)["optimizer"]
    b = ckpt.load_checkpoint(sharded)["optimizer"]
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys() and len(a["state"]) > 0
    for index, values in a["state"].items():
        assert values.keys() == b["state"][index].keys()
        for key, tensor in values.items():
            other = b["state"][index][key]
            assert type(other) is torch.Tensor and other.shape == tensor.shape, (index, key)
            assert float((other - tensor).abs().max()) <= DDP_TOLERANCE, (index, key)


def test_fsdp_refuses_qlora_before_any_process_group(tmp_path: Path) -> None:
    config = load_config(
        TINY_RUN,
        [
            *(f"{key}={tmp_path / key}" for key in ("student", "encoder", "output_dir")),
            "qlora=true",
            FSDP,
        ],
    )
    with pytest.raises(TrainConfigError) as raised:
        check_launch(config, world_size=2)
    assert raised.value.field == "distributed.strategy"
    assert "qlora: true use ddp" in raised.value.reason
    # One process takes neither DDP nor FSDP: nothing to refuse.
    check_launch(config, world_size=1)
