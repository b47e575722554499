"""train/start and train/resume with ``processes: 2`` over a real `python -m codistill serve`: the
sidecar runs `python -m torch.distributed.run --nproc_per_node 2 -m codistill train` as a child
(DDP over gloo on the CPU) on the tiny models and relays the run folder as notifications. One run,
stopped after its first step and resumed with 2 processes again, against one uninterrupted run in
the sidecar's own process with the same global batch: the progress of every step, the
checkpoints, train/finished with the adapter, and the metrics and adapter weights of both runs
within the tolerance of test_train_ddp.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from train_support import DDP_TOLERANCE, Client, golden_params, make_models, max_weight_diff
from train_support import tiny_config as tiny_run_config

from codistill import protocol
from codistill.training.metrics import read_metrics

from conftest import Sidecar

# Long enough that a stop sent on the first step's progress lands well before the last (a
# tiny step takes some 40 ms; the sidecar looks at the run folder every 0.2 s).
STEPS = 48
# One thread per process: the 1- and 2-process runs then reduce alike.
ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# Two Python processes importing torch, transformers and peft on a busy machine.
STARTUP_S = 90


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_models(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    sidecar = Sidecar.serve("--log-level", "info", env=ENV)
    yield Client(sidecar)
    sidecar.stop()


def run_config(models: tuple[Path, Path], cache: Path, batch_size: int) -> dict[str, Any]:
    # The same global batch (batch_size x processes) in both runs; no dropout, whose draws
    # differ between one RNG stream and one per rank. Every checkpoint kept: one pruned before
    # the sidecar looked would not be reported.
    return tiny_run_config(
        models,
        cache,
        max_steps=STEPS,
        batch_size=batch_size,
        save_every=4,
        keep_last=STEPS,
        lora={"preset": None, "r": 4, "alpha": 8, "dropout": 0.0},
    )


def test_two_processes_stop_resume_and_match_one_process(
    client: Client, models: tuple[Path, Path], tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    # The reference: one process, the sidecar's own thread.
    single_dir = tmp_path / "single"
    single = client.request(
        "train/start",
        {"config": run_config(models, cache, 2), "runDir": str(single_dir), "processes": 1},
    )["result"]
    reference = client.notification("train/finished", single["runId"], timeout=120)
    assert reference["stopped"] is False and not (single_dir / "train.log").exists()

    run_dir = tmp_path / "double"
    params = dict(
        golden_params("train-start.request.processes.json"),
        config=run_config(models, cache, 1),
        runDir=str(run_dir),
        processes=2,
    )
    started = client.request("train/start", params)["result"]
    run_id = started["runId"]
    assert started == {"runId": run_id, "runDir": str(run_dir), "device": "cpu", "warnings": []}
    client.notification("train/progress", run_id, timeout=STARTUP_S, step=1)

    # Stop: SIGTERM to torchrun, forwarded to the ranks, which save a checkpoint and exit.
    stop = client.request("train/stop", {"runId": run_id}, timeout=120)["result"]
    assert stop["stopped"] is True and stop["state"] == "stopped", stop
    assert 1 <= stop["step"] < STEPS
    checkpoint = run_dir / "checkpoints" / f"step-{stop['step']}"
    assert stop["checkpoint"] == str(checkpoint)
    finished = client.notification("train/finished", run_id, stopped=True)
    assert finished["adapter"] is None and finished["checkpoint"] == str(checkpoint)
    assert finished["step"] == stop["step"] and finished["totalSteps"] == STEPS
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["state"] == "stopped" and manifest["device"]["processes"] == 2
    log = (run_dir / "train.log").read_text()
    assert log.startswith("==== ") and "--nproc_per_node 2" in log.splitlines()[0]

    # An exact resume needs the number of processes that wrote the checkpoint.
    refused = client.request("train/resume", {"runDir": str(run_dir), "processes": 1})
    assert refused["error"]["code"] == protocol.INVALID_PARAMS
    assert refused["error"]["data"]["problems"][0].startswith(
        f"params.processes: {checkpoint} was written by 2 process(es)"
    )

    resume_params = dict(golden_params("train-resume.request.json"), runDir=str(run_dir))
    resume_params["processes"] = 2
    resumed = client.request("train/resume", resume_params)["result"]
    assert (resumed["runId"], resumed["checkpoint"], resumed["step"]) == (
        run_id,
        str(checkpoint),
        stop["step"],
    )
    done = client.notification("train/finished", run_id, stopped=False, timeout=120)
    assert (done["step"], done["totalSteps"]) == (STEPS, STEPS)
    assert done["adapter"] == str(run_dir / "adapter")
    assert (run_dir / "adapter" / "adapter_model.safetensors").is_file()
    assert done["checkpoint"] == str(run_dir / "checkpoints" / f"step-{STEPS}")
    assert json.loads((run_dir / "manifest.json").read_text())["state"] == "finished"
    # Two launches in the one log.
    assert (run_dir / "train.log").read_text().count("\n==== ") == 1

    # Every step's progress once, in order, as metrics.jsonl has it, and every checkpoint of
    # both launches (save_every: 4, and the stop's) after the progress of its step.
    progress = client.notifications("train/progress", run_id)
    assert [p["step"] for p in progress] == list(range(1, STEPS + 1))
    for p in progress:
        assert p["totalSteps"] == STEPS and set(protocol.TRAIN_METRIC_KEYS) <= set(p["metrics"])
    lines = read_metrics(run_dir)
    assert [p["metrics"]["loss"] for p in progress] == [line["loss"] for line in lines]
    assert done["metrics"]["loss"] == progress[-1]["metrics"]["loss"]
    checkpoints = client.notifications("train/checkpoint", run_id)
    assert [c["step"] for c in checkpoints] == sorted({*range(4, STEPS + 1, 4), stop["step"]})
    assert [Path(c["path"]) for c in checkpoints] == [
        run_dir / "checkpoints" / f"step-{c['step']}" for c in checkpoints
    ]
    order = [
        (m["method"], m["params"]["step"])
        for m in client.messages
        if m.get("method") in ("train/progress", "train/checkpoint")
        and m["params"]["runId"] == run_id
    ]
    for c in checkpoints:
        assert order.index(("train/progress", c["step"])) < order.index(
            ("train/checkpoint", c["step"])
        )

    # The same curves and adapter as the one-process run.
    single_lines = read_metrics(single_dir)
    diffs: dict[str, float] = {}
    for key in ("loss", "ce", "l_struct", "grad_norm", "eval_loss", "eval_ce", "eval_l_struct"):
        pairs = [(a[key], b[key]) for a, b in zip(single_lines, lines, strict=True)]
        assert [a is None for a, _ in pairs] == [b is None for _, b in pairs], key
        diffs[key] = max((abs(a - b) for a, b in pairs if a is not None), default=0.0)
    for key in ("alpha", "beta", "lr", "epoch"):
        assert [a[key] for a in single_lines] == [b[key] for b in lines], key
    assert max(diffs.values()) <= DDP_TOLERANCE, diffs
    assert max_weight_diff(single_dir / "adapter", run_dir / "adapter") <= DDP_TOLERANCE


def test_a_failed_run_of_two_processes_ends_with_the_end_of_its_log(
    client: Client, models: tuple[Path, Path], tmp_path: Path
) -> None:
    # Every example is longer than 8 tokens: found by the ranks once the data is tokenized.
    config = dict(run_config(models, tmp_path / "cache", 1), max_length=8)
    run_dir = tmp_path / "run"
    result = client.request(
        "train/start", {"config": config, "runDir": str(run_dir), "processes": 2}
    )["result"]
    failed = client.notification("train/failed", result["runId"], timeout=STARTUP_S)
    assert (failed["kind"], failed["checkpoint"]) == ("input", None)
    # torchrun exits 1 whichever rank failed how; its summary names the rank that failed first.
    first, _, tail = failed["message"].partition("\n")
    assert re.fullmatch(
        r"the training processes exited with code 1 \(rank [01] first, with code 2\); the end "
        rf"of {re.escape(str(run_dir / 'train.log'))}:",
        first,
    ), first
    # The ranks' own message, once, and not torchrun's traceback.
    assert tail.count("codistill train: tasks: no training example left out of 13 tasks") == 1
    assert "Traceback" not in tail
    # The slot is free again.
    assert client.request("train/stop", {"runId": result["runId"]})["error"]["code"] == (
        protocol.INVALID_PARAMS
    )


def run_processes(run_dir: Path) -> list[int]:
    """Processes whose command line names the run folder: torchrun and its ranks."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(run_dir) in (entry / "cmdline").read_text():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="lists processes through /proc")
@pytest.mark.parametrize("end", ["exit", "killed"])
def test_the_processes_stop_with_a_checkpoint_when_the_sidecar_goes(
    models: tuple[Path, Path], tmp_path: Path, end: str
) -> None:
    """exit: the sidecar's exit sends them SIGTERM; killed: a SIGKILLed sidecar cannot, and the
    ranks, watching its pid, stop on their own."""
    sidecar = Sidecar.serve("--log-level", "info", env=ENV)
    run_dir = tmp_path / "run"
    try:
        client = Client(sidecar)
        config = run_config(models, tmp_path / "cache", 1)
        run_id = client.request(
            "train/start", {"config": config, "runDir": str(run_dir), "processes": 2}
        )["result"]["runId"]
        client.notification("train/progress", run_id, timeout=STARTUP_S, step=1)
        if end == "exit":
            sidecar.close_stdin()
            sidecar.wait(timeout=30)
        else:
            sidecar.proc.kill()
            sidecar.proc.wait(timeout=10)  # reaped: its pid is gone
    finally:
        sidecar.stop()
    deadline = time.monotonic() + 60
    while run_processes(run_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert run_processes(run_dir) == [], (run_dir / "train.log").read_text()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["state"] == "stopped", (run_dir / "train.log").read_text()
    assert 1 <= manifest["step"] < STEPS
    assert (run_dir / "checkpoints" / f"step-{manifest['step']}" / "trainer_state.json").is_file()


def test_the_cli_stops_when_the_watched_process_is_gone() -> None:
    from codistill.training.cli import StopFlag

    assert StopFlag()() is False and StopFlag(os.getpid())() is False
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: no process has its pid now
    flag = StopFlag(child.pid)
    assert flag() is True and flag.requested is True
