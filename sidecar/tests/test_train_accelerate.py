"""The training CLI under ``accelerate launch`` on CPU, against one plain process with the same
global batch: ``--multi_gpu --num_processes 2`` (DDP over gloo, no accelerate config file) and
the shipped FSDP config, sidecar/configs/accelerate-fsdp.yaml, with ``distributed.strategy:
fsdp``. Both match the 1-process loss curve and adapter within the DDP tolerance. The launches
the trainer would get wrong are refused before a run folder exists: ``--cpu`` with several
processes (accelerate starts one), and the FSDP config with ``distributed.strategy: ddp``.

Each accelerate gets an empty HF_HOME, so no user default_config.yaml is read, and
HF_HUB_OFFLINE, so nothing is fetched."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from eval_support import REPO
from train_support import (
    assert_same_run,
    finish_run,
    shared_models_fixture,  # noqa: F401 (fixtures)
    split_batch_args,
    start_run,
)

STEPS = 6
FSDP_CONFIG = REPO / "sidecar" / "configs" / "accelerate-fsdp.yaml"
LAUNCH = [sys.executable, "-m", "accelerate.commands.accelerate_cli", "launch"]
# Every launcher setting given, so accelerate neither reads a config nor guesses.
MULTI_PROCESS = [
    *("--multi_gpu", "--num_processes", "2", "--num_machines", "1"),
    *("--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "0"),
]


@pytest.fixture(scope="module")
def launch_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {"HF_HOME": str(tmp_path_factory.mktemp("hf-home")), "HF_HUB_OFFLINE": "1"}


class Reference:
    """The 1-process run every launch is compared with: started once, waited for on first
    use, so it runs beside the first launch."""

    def __init__(self, models: tuple[Path, Path], root: Path) -> None:
        self.run_dir, self.log = root / "single", root / "single.log"
        self.proc = start_run(
            [sys.executable, *split_batch_args(models, self.run_dir, 2, STEPS)], self.log
        )

    def done(self) -> Path:
        if self.proc.returncode is None:
            finish_run(self.proc, self.log)
        return self.run_dir


@pytest.fixture(scope="module")
def reference(
    models: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Reference]:
    ref = Reference(models, tmp_path_factory.mktemp("reference"))
    yield ref
    if ref.proc.returncode is None:
        ref.proc.kill()
        ref.proc.communicate()


def launched(run_dir: Path, out: str, strategy: str) -> None:
    assert json.loads(out)["step"] == STEPS  # rank 0 alone prints the result
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["state"] == "finished"
    assert manifest["device"]["processes"] == 2 and manifest["device"]["strategy"] == strategy


def test_multi_gpu_flag_runs_two_gloo_processes_that_match_one(
    models: tuple[Path, Path], reference: Reference, launch_env: dict[str, str], tmp_path: Path
) -> None:
    run_dir, log = tmp_path / "ddp", tmp_path / "ddp.log"
    proc = start_run(
        [*LAUNCH, *MULTI_PROCESS, *split_batch_args(models, run_dir, 1, STEPS)], log, launch_env
    )
    launched(run_dir, finish_run(proc, log), "ddp")
    assert_same_run(reference.done(), run_dir, STEPS, "accelerate launch --multi_gpu (DDP)")


def test_the_fsdp_config_launches_the_trainers_fsdp(
    models: tuple[Path, Path], reference: Reference, launch_env: dict[str, str], tmp_path: Path
) -> None:
    run_dir, log = tmp_path / "fsdp", tmp_path / "fsdp.log"
    args = split_batch_args(models, run_dir, 1, STEPS, "distributed.strategy=fsdp")
    proc = start_run([*LAUNCH, "--config_file", str(FSDP_CONFIG), *args], log, launch_env)
    launched(run_dir, finish_run(proc, log), "fsdp")
    assert_same_run(reference.done(), run_dir, STEPS, "accelerate launch, FSDP config")


def test_the_fsdp_config_with_ddp_is_refused(
    models: tuple[Path, Path], launch_env: dict[str, str], tmp_path: Path
) -> None:
    run_dir, log = tmp_path / "run", tmp_path / "run.log"
    args = split_batch_args(models, run_dir, 1, STEPS)
    proc = start_run([*LAUNCH, "--config_file", str(FSDP_CONFIG), *args], log, launch_env)
    finish_run(proc, log, expect=1)  # torchrun's exit for failed workers
    assert (
        "codistill train: distributed.strategy: is ddp, but accelerate launch was given an FSDP "
        "config; set distributed.strategy: fsdp"
    ) in log.read_text()
    assert not run_dir.exists()


def test_cpu_flag_with_several_processes_is_refused(
    models: tuple[Path, Path], launch_env: dict[str, str], tmp_path: Path
) -> None:
    run_dir, log = tmp_path / "run", tmp_path / "run.log"
    cpu = ["--cpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no"]
    proc = start_run([*LAUNCH, *cpu, *split_batch_args(models, run_dir, 1, STEPS)], log, launch_env)
    finish_run(proc, log, expect=1)  # accelerate's exit for a failed child
    text = log.read_text()
    assert "codistill train: accelerate launch --cpu: starts a single process" in text
    assert "use accelerate launch --multi_gpu --num_processes N" in text
    assert not run_dir.exists()
