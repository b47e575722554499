"""train/start, train/stop and train/resume over a real `python -m codistill serve` process,
with tiny random-weight models made by scripts/make-tiny-model.py and the run config of
test/fixtures/train/tiny.yaml (made 24 steps long, a checkpoint every 2): progress with every
metric key, checkpoint and finished notifications, stop and an exact resume, one run at a time,
inputs refused naming the field or the file, failures reported by train/failed, the run stopped
with a checkpoint when the sidecar exits, and a server whose startup does not import torch."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from train_support import Client, Message, golden_params, make_models, max_weight_diff
from train_support import tiny_config as tiny_run_config

from codistill import protocol

from conftest import Sidecar, sidecar_env

# Long enough that a stop sent after the first step lands well before the last.
STEPS = 24
# One thread: the runs are tiny, and the reference and the resumed run then reduce alike.
ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_models(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One alignment cache for every run of the module: built once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    sidecar = Sidecar.serve("--log-level", "info", env=ENV)
    yield Client(sidecar)
    sidecar.stop()


def tiny_config(models: tuple[Path, Path], cache: Path, **changes: Any) -> dict[str, Any]:
    return tiny_run_config(models, cache, max_steps=STEPS, **changes)


def active_run(client: Client) -> dict[str, Any] | None:
    """train/status's answer (it takes no params): the run the sidecar is training, or None."""
    return client.request("train/status", None)["result"]["active"]


def problems(response: Message) -> list[str]:
    assert response["error"]["code"] == protocol.INVALID_PARAMS, response
    return response["error"]["data"]["problems"]


# --- a whole run ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def whole_run(client: Client, models: tuple[Path, Path], cache: Path, tmp_path_factory) -> dict:
    """The golden train/start with the tiny config, run to its end."""
    run_dir = tmp_path_factory.mktemp("runs") / "20250601-143012-tiny-r4"
    params = golden_params("train-start.request.json")
    params.update(config=tiny_config(models, cache), runDir=str(run_dir))
    started = time.monotonic()
    answer = client.request("train/start", params)
    answered_in = time.monotonic() - started
    result = answer["result"]
    finished = client.notification("train/finished", result["runId"], timeout=120)
    return {"params": params, "result": result, "answered_in": answered_in, "finished": finished}


def test_start_answers_with_the_run_then_reports_progress_checkpoints_and_finished(
    client: Client, whole_run: dict
) -> None:
    result, finished = whole_run["result"], whole_run["finished"]
    run_dir = Path(whole_run["params"]["runDir"])
    assert result == {
        "runId": run_dir.name,
        "runDir": str(run_dir),
        "device": "cpu",
        "warnings": [],
    }
    run_id = result["runId"]
    # The answer does not wait for the training.
    assert client.messages.index(next(m for m in client.messages if m.get("result") == result)) < (
        client.messages.index(
            next(m for m in client.messages if m.get("method") == "train/progress")
        )
    )

    progress = client.notifications("train/progress", run_id)
    assert [p["step"] for p in progress] == list(range(1, STEPS + 1))
    for p in progress:
        assert p["totalSteps"] == STEPS and p["epoch"] > 0
        assert set(protocol.TRAIN_METRIC_KEYS) <= set(p["metrics"])
        for key in protocol.TRAIN_METRIC_KEYS:
            if key in ("l_struct", "gpu_mem_allocated", "gpu_mem_peak"):
                continue  # may be null: checked below
            assert isinstance(p["metrics"][key], (int, float)), (key, p)
        assert p["metrics"]["gpu_mem_allocated"] is None and p["metrics"]["gpu_mem_peak"] is None
    # The curriculum: beta starts at 0 (no L_struct), then the structural term is on.
    assert progress[0]["metrics"]["beta"] == 0 and progress[0]["metrics"]["l_struct"] is None
    assert progress[-1]["metrics"]["beta"] > 0 and progress[-1]["metrics"]["l_struct"] > 0
    assert progress[3]["metrics"]["eval_loss"] is not None  # eval_every: 4

    checkpoints = client.notifications("train/checkpoint", run_id)
    assert [c["step"] for c in checkpoints] == list(range(2, STEPS + 1, 2))
    assert [Path(c["path"]).name for c in checkpoints] == [
        f"step-{s}" for s in range(2, STEPS + 1, 2)
    ]

    assert finished["stopped"] is False
    assert (finished["step"], finished["totalSteps"]) == (STEPS, STEPS)
    adapter = Path(finished["adapter"])
    assert adapter == run_dir / "adapter"
    assert (adapter / "adapter_model.safetensors").is_file()
    assert (adapter / "adapter_config.json").is_file()
    assert finished["checkpoint"] == str(run_dir / "checkpoints" / f"step-{STEPS}")
    assert finished["metrics"]["loss"] == progress[-1]["metrics"]["loss"]

    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["state"] == "finished"
    assert manifest["git"] == whole_run["params"]["git"]
    assert (run_dir / "config.yaml").is_file() and (run_dir / "metrics.jsonl").is_file()


def test_stop_mid_run_then_resume_finishes_exactly_where_the_whole_run_did(
    client: Client, models: tuple[Path, Path], cache: Path, whole_run: dict, tmp_path: Path
) -> None:
    run_dir = tmp_path / "stopped-run"
    # No run going on (the whole run has finished): train/status says so.
    assert active_run(client) is None
    started = client.request(
        "train/start", {"config": tiny_config(models, cache), "runDir": str(run_dir)}
    )["result"]
    run_id = started["runId"]
    client.notification("train/progress", run_id, step=1)
    # A client that lost track of the run (a reopened panel) finds it by train/status.
    active = active_run(client)
    assert active is not None
    assert (active["runId"], active["runDir"]) == (run_id, str(run_dir))
    assert 1 <= active["step"] <= STEPS and active["totalSteps"] == STEPS
    assert active["processes"] == 1

    # One run at a time: a second start (or a resume) is refused, naming the running run.
    second = client.request(
        "train/start", {"config": tiny_config(models, cache), "runDir": str(tmp_path / "other")}
    )
    assert second["error"]["code"] == protocol.TRAINING_RUN_ACTIVE
    assert second["error"]["data"] == {"runId": run_id, "runDir": str(run_dir)}
    assert run_id in second["error"]["message"]
    assert not (tmp_path / "other").exists()

    stop_params = dict(golden_params("train-stop.request.json"), runId=run_id)
    stop = client.request("train/stop", stop_params, timeout=60)["result"]
    assert stop["stopped"] is True and stop["state"] == "stopped"
    assert 1 <= stop["step"] < STEPS
    checkpoint = Path(stop["checkpoint"])
    assert checkpoint == run_dir / "checkpoints" / f"step-{stop['step']}"
    assert (checkpoint / "trainer_state.json").is_file()
    # train/finished (stopped) came before the answer to train/stop.
    finished = client.notification("train/finished", run_id, stopped=True)
    assert finished["adapter"] is None and finished["checkpoint"] == str(checkpoint)
    assert finished["step"] == stop["step"]
    assert not (run_dir / "adapter").exists()
    assert json.loads((run_dir / "manifest.json").read_text())["state"] == "stopped"
    assert active_run(client) is None

    resume_params = dict(golden_params("train-resume.request.json"), runDir=str(run_dir))
    resumed = client.request("train/resume", resume_params)["result"]
    assert resumed["runId"] == run_id and resumed["runDir"] == str(run_dir)
    assert (resumed["checkpoint"], resumed["step"]) == (str(checkpoint), stop["step"])
    done = client.notification("train/finished", run_id, stopped=False, timeout=120)
    assert (done["step"], done["totalSteps"]) == (STEPS, STEPS)
    after = [p["step"] for p in client.notifications("train/progress", run_id)]
    assert after[-(STEPS - stop["step"]) :] == list(range(stop["step"] + 1, STEPS + 1))
    # The same adapter as the uninterrupted run, from the same seed and data.
    whole = Path(whole_run["finished"]["adapter"])
    assert max_weight_diff(Path(done["adapter"]), whole) < 1e-6
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["state"] == "finished"
    assert manifest["resumes"][0]["step"] == stop["step"]
    assert active_run(client) is None


def test_sidecar_names_the_run_folder_and_resumes_it_by_id(
    client: Client, models: tuple[Path, Path], cache: Path, tmp_path: Path
) -> None:
    workspace = tmp_path / "project"
    (workspace / "data").mkdir(parents=True)
    config = tiny_config(models, cache)
    for path in config["tasks"]:
        (workspace / "data" / Path(path).name).write_bytes(Path(path).read_bytes())
    config["tasks"] = [f"data/{Path(path).name}" for path in config["tasks"]]
    # Relative paths are refused without a workspace to resolve them against...
    refused = client.request("train/start", {"config": config, "runDir": str(tmp_path / "r")})
    assert problems(refused) == [
        "params.config.tasks[0]: expected an absolute path (or give params.workspace), "
        "got 'data/humaneval-slice.tasks.jsonl'"
    ]
    # ... and resolved against it when given; the folder is <workspace>/.codistill/runs/<id>.
    config["device"] = "auto"
    result = client.request("train/start", {"config": config, "workspace": str(workspace)})[
        "result"
    ]
    run_id = result["runId"]
    # Without a GPU, device auto trains on the CPU and says what that means.
    if result["device"] == "cpu":
        assert result["warnings"] == [
            "no CUDA GPU: training runs on the CPU, which is practical for small models only"
        ]
    assert Path(result["runDir"]) == workspace / ".codistill" / "runs" / run_id
    stamp, rest = run_id[:15], run_id[16:]
    assert time.strptime(stamp, "%Y%m%d-%H%M%S") and rest == "student-r4", run_id
    client.request("train/stop", {"runId": run_id})
    written = yaml.safe_load((Path(result["runDir"]) / "config.yaml").read_text())
    assert written["tasks"][0] == str(workspace / "data" / "humaneval-slice.tasks.jsonl")
    resumed = client.request("train/resume", {"runId": run_id, "workspace": str(workspace)})
    assert resumed["result"]["runDir"] == result["runDir"]
    assert client.request("train/stop", {"runId": run_id})["result"]["runId"] == run_id
    # A run this sidecar started is found by its id alone.
    again = client.request("train/resume", {"runId": run_id})["result"]
    assert again["runDir"] == result["runDir"]
    client.request("train/stop", {"runId": run_id})


# --- refused inputs -------------------------------------------------------------------------


def test_unusable_inputs_answer_invalid_params_naming_the_field(
    client: Client, models: tuple[Path, Path], cache: Path, tmp_path: Path
) -> None:
    student, _ = models
    broken = tmp_path / "broken-student"
    broken.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        (broken / name).write_bytes((student / name).read_bytes())
    run_dir = str(tmp_path / "run")

    def start(**changes: Any) -> list[str]:
        config = tiny_config(models, cache, **changes)
        return problems(client.request("train/start", {"config": config, "runDir": run_dir}))

    missing = start(student=str(broken))
    weights = "model.safetensors, model.safetensors.index.json, pytorch_model.bin"
    assert missing == [
        f"params.config.student: {broken / 'model.safetensors'}: missing (no {weights}, "
        f"pytorch_model.bin.index.json in {broken})"
    ]
    assert start(lora={"preset": None, "r": 0}) == ["params.config.lora.r: must be >= 1, got 0"]
    assert start(lr="fast") == ["params.config.lr: expected a number, got 'fast'"]
    assert start(epochs_typo=1)[0].startswith("params.config.epochs_typo: unknown key (known: ")
    assert start(device="cuda")[0].startswith("params.config.device: cuda was asked for, but torch")
    assert start(precision="bf16") == [
        "params.config.precision: bf16 needs a CUDA GPU; use auto or fp32 on the CPU"
    ]
    no_dir = client.request("train/start", {"config": tiny_config(models, cache)})
    assert problems(no_dir)[0].startswith("params.runDir: required when params.config has no")
    assert not Path(run_dir).exists()

    unknown = client.request("train/stop", {"runId": "nope"})
    assert problems(unknown) == ["params.runId: no training run 'nope' is in progress"]
    not_a_run = client.request("train/resume", {"runDir": str(tmp_path)})
    assert problems(not_a_run) == [
        f"params.runDir: {tmp_path / 'config.yaml'}: missing (not a Codistill run folder?)"
    ]
    stranger = client.request("train/resume", {"runId": "20250101-000000-x-r4"})
    assert problems(stranger)[0].startswith("params.runId: no run '20250101-000000-x-r4' was")


def test_a_folder_holding_a_run_is_not_started_over(client: Client, whole_run: dict) -> None:
    params = dict(whole_run["params"])
    answer = client.request("train/start", params)
    assert problems(answer)[0].startswith(
        f"params.runDir: {params['runDir']} already holds a run (checkpoints, adapter, "
    )
    assert "train/resume" in answer["error"]["message"]


def test_a_problem_found_while_loading_the_run_is_reported_by_train_failed(
    client: Client, models: tuple[Path, Path], cache: Path, tmp_path: Path
) -> None:
    # Every example is longer than 8 tokens: found only once the data is tokenized, in the run.
    config = tiny_config(models, cache, max_length=8)
    result = client.request("train/start", {"config": config, "runDir": str(tmp_path / "r")})
    failed = client.notification("train/failed", result["result"]["runId"])
    assert (failed["kind"], failed["field"], failed["checkpoint"]) == ("input", "tasks", None)
    assert failed["message"].startswith("tasks: no training example left out of ")
    # The slot is free again: the next run starts.
    again = client.request("train/start", {"config": config, "runDir": str(tmp_path / "r2")})
    client.notification("train/failed", again["result"]["runId"])


# --- exit, cancel, startup ------------------------------------------------------------------


def test_exit_stops_a_running_run_with_a_checkpoint(
    models: tuple[Path, Path], cache: Path, tmp_path: Path
) -> None:
    sidecar = Sidecar.serve("--log-level", "info", env=ENV)
    try:
        client = Client(sidecar)
        run_dir = tmp_path / "run"
        run_id = client.request(
            "train/start", {"config": tiny_config(models, cache), "runDir": str(run_dir)}
        )["result"]["runId"]
        client.notification("train/progress", run_id, step=1)
        sidecar.close_stdin()
        finished = client.notification("train/finished", run_id, stopped=True)
        assert sidecar.wait(timeout=10) == 0
    finally:
        sidecar.stop()
    assert Path(finished["checkpoint"]).is_dir()
    assert json.loads((run_dir / "manifest.json").read_text())["state"] == "stopped"


def test_cancelled_start_starts_nothing(
    client: Client, models: tuple[Path, Path], cache: Path, tmp_path: Path
) -> None:
    # The cancel arrives while the start is still queued or checking its inputs; when it comes
    # too late the run has started, and train/stop ends it (the documented semantics).
    run_dir = tmp_path / "r"
    request_id = client.send(
        "train/start", {"config": tiny_config(models, cache), "runDir": str(run_dir)}
    )
    client.sidecar.notify("$/cancelRequest", {"id": request_id})
    answer = client.response(request_id, "train/start")
    if "error" in answer:
        assert answer["error"]["code"] == protocol.REQUEST_CANCELLED
        assert not (run_dir / "manifest.json").exists()
    else:
        stopped = client.request("train/stop", {"runId": answer["result"]["runId"]})
        assert stopped["result"]["runId"] == run_dir.name


def test_server_startup_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from codistill import server\n"
        "assert {'train/start', 'train/stop', 'train/resume'} <= set(server.METHODS.names())\n"
        "print(sorted(m for m in ('torch', 'transformers', 'peft') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=sidecar_env(), timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_progress_notifier_sends_non_finite_metrics_as_null() -> None:
    from codistill.training.runs import Run, RunNotifier

    sent: list[tuple[str, Any]] = []
    notifier = RunNotifier(
        lambda method, params: sent.append((method, params)), Run("r", Path("/r"))
    )
    record = {key: 1.0 for key in protocol.TRAIN_METRIC_KEYS}
    record.update(step=1, total_steps=2, epoch=0.5, loss=float("nan"), grad_norm=float("inf"))
    notifier.progress(record)
    ((method, params),) = sent
    assert method == "train/progress"
    assert params["metrics"]["loss"] is None and params["metrics"]["grad_norm"] is None
    assert params["nonFinite"] == ["loss", "grad_norm"]
    assert (
        protocol.validate_notification({"jsonrpc": "2.0", "method": method, "params": params}) == []
    )
