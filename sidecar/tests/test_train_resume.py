"""Exact resume: a real ``python -m codistill train`` process killed with SIGKILL mid-run (after
a checkpoint exists, possibly while it is writing the next one) and resumed with ``--resume``
ends with the same adapter weights and loss curve as an uninterrupted run, within 1e-6.

The run trains with LoRA dropout on and the structural loss switching on during the run, so the
restored RNG streams, curriculum step and data position all have to be right."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from train_support import ENV, TINY_RUN, make_models, max_weight_diff

from codistill.training import checkpoint as ckpt
from codistill.training.metrics import read_metrics

from conftest import sidecar_env

STEPS = 30
SAVE_EVERY = 3
KILL_AFTER = 6  # the checkpoint whose appearance triggers the kill


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_models(tmp_path_factory.mktemp("models"))


def start(args: list[str], log: Path) -> subprocess.Popen:
    """The CLI with stderr to ``log`` and stdout (the JSON result) to ``log`` + ".out"."""
    return subprocess.Popen(
        [sys.executable, "-m", "codistill", "train", *args],
        stdout=log.with_suffix(".out").open("w"),
        stderr=log.open("w"),
        env=sidecar_env(ENV),
    )


def run_args(models: tuple[Path, Path], out: Path) -> list[str]:
    student, encoder = models
    return [
        "--config",
        str(TINY_RUN),
        f"student={student}",
        f"encoder={encoder}",
        f"output_dir={out}",
        # One alignment cache for every run of the module.
        f"cache_dir={student.parent / 'cache'}",
        f"max_steps={STEPS}",
        f"save_every={SAVE_EVERY}",
        "keep_last=3",
        "eval_every=10",
        "deterministic=true",
        "lora.dropout=0.1",
        # L_struct joins at step 9 of 30, after the kill, so the resumed part runs it too.
        "curriculum.schedule=step",
        "curriculum.warmup_fraction=0.6",
        "curriculum.steps=2",
    ]


def wait_for(path: Path, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(
                f"the run ended (rc {proc.returncode}) before {path} existed:\n{log.read_text()}"
            )
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"{path} never appeared:\n{log.read_text()}")
        time.sleep(0.005)


def finish(proc: subprocess.Popen, log: Path, timeout: float = 240, expect: int = 0) -> None:
    assert proc.wait(timeout=timeout) == expect, log.read_text()


class Reference:
    """The uninterrupted run, started once for the module and waited for where it is needed,
    so it runs side by side with the interrupted ones."""

    def __init__(self, models: tuple[Path, Path], root: Path) -> None:
        self.run_dir = root / "whole"
        self.log = root / "whole.log"
        self.proc = start(run_args(models, self.run_dir), self.log)
        # Once it has a checkpoint, the alignment cache the other runs share exists.
        wait_for(self.run_dir / "checkpoints" / "step-3", self.proc, self.log)

    def done(self) -> Path:
        if self.proc.returncode is None:
            finish(self.proc, self.log)
        return self.run_dir


@pytest.fixture(scope="module")
def reference(
    models: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Reference]:
    run = Reference(models, tmp_path_factory.mktemp("reference"))
    yield run
    if run.proc.poll() is None:
        run.proc.kill()


def assert_same_run(whole: Path, resumed: Path) -> None:
    """Same adapter within 1e-6, same loss curve, each step logged once."""
    diff = max_weight_diff(whole / "adapter", resumed / "adapter")
    assert diff <= 1e-6, f"adapter weights differ by {diff}"
    whole_metrics, resumed_metrics = read_metrics(whole), read_metrics(resumed)
    # Lines past the checkpoint were dropped on resume, so each step appears once.
    assert [r["step"] for r in resumed_metrics] == list(range(1, STEPS + 1))
    for left, right in zip(whole_metrics, resumed_metrics, strict=True):
        for key in ("loss", "ce", "grad_norm", "lr", "alpha", "beta"):
            assert abs(left[key] - right[key]) <= 1e-6, (left["step"], key)
        assert (left["l_struct"] is None) == (right["l_struct"] is None)
        if left["l_struct"] is not None:
            assert abs(left["l_struct"] - right["l_struct"]) <= 1e-6
    assert any(r["l_struct"] is not None for r in resumed_metrics[KILL_AFTER + 3 :])
    assert not [p for p in (resumed / "checkpoints").iterdir() if p.name.startswith(".tmp-")]


def test_sigkill_then_resume_matches_an_uninterrupted_run(
    models: tuple[Path, Path], reference: Reference, tmp_path: Path
) -> None:
    killed = tmp_path / "killed"
    victim = start(run_args(models, killed), tmp_path / "killed.log")
    wait_for(killed / "checkpoints" / f"step-{KILL_AFTER}", victim, tmp_path / "killed.log")
    os.kill(victim.pid, signal.SIGKILL)
    assert victim.wait(timeout=30) == -signal.SIGKILL
    assert not (killed / "adapter").exists(), "killed before the end"
    killed_at = [step for step, _ in ckpt.list_checkpoints(killed)]
    assert KILL_AFTER in killed_at and max(killed_at) < STEPS
    # Whole or absent: every checkpoint folder that exists reads back completely.
    for _, folder in ckpt.list_checkpoints(killed):
        ckpt.load_checkpoint(folder)
    manifest = json.loads((killed / "manifest.json").read_text())
    assert manifest["state"] == "running"  # what a SIGKILL leaves behind

    resumed = start(["--resume", str(killed)], tmp_path / "resumed.log")
    finish(resumed, tmp_path / "resumed.log")
    assert_same_run(reference.done(), killed)
    manifest = json.loads((killed / "manifest.json").read_text())
    assert manifest["state"] == "finished"
    assert [r["step"] for r in manifest["resumes"]] == [max(killed_at)]


def test_sigterm_stops_with_a_checkpoint_and_resumes_exactly(
    models: tuple[Path, Path], reference: Reference, tmp_path: Path
) -> None:
    stopped = tmp_path / "stopped"
    log = tmp_path / "stopped.log"
    proc = start(run_args(models, stopped), log)
    wait_for(stopped / "checkpoints" / "step-3", proc, log)
    proc.send_signal(signal.SIGTERM)
    finish(proc, log, expect=130)
    result = json.loads(log.with_suffix(".out").read_text())
    assert result["stopped"] is True and result["adapter"] is None
    assert 3 <= result["step"] < STEPS
    # The stop wrote a checkpoint at the step it stopped on, whatever save_every says.
    assert result["checkpoint"] == str(stopped / "checkpoints" / f"step-{result['step']}")
    assert f"continue with: python -m codistill train --resume {stopped}" in log.read_text()
    assert json.loads((stopped / "manifest.json").read_text())["state"] == "stopped"

    resumed = start(["--resume", str(stopped)], tmp_path / "resumed.log")
    finish(resumed, tmp_path / "resumed.log")
    assert_same_run(reference.done(), stopped)
