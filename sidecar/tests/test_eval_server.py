"""eval/generate and eval/execute over a real `python -m codistill serve` process: progress
notifications naming the request, cancellation keeping partial samples, the golden requests run
with real files, and errors naming the parameter."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eval_support import (
    SAMPLE_KEYS,
    WITHOUT_VLLM,
    TinyModels,
    evalplus_samples,
    golden,
    make_tiny_models,
    read_json,
    read_samples,
    task,
)

from codistill import protocol

from conftest import Sidecar, fixtures_dir, sidecar_env


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    return make_tiny_models(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def server() -> Iterator[Sidecar]:
    sidecar = Sidecar.serve("--log-level", "debug")
    yield sidecar
    sidecar.stop()


def golden_message(name: str) -> dict[str, Any]:
    return json.loads((fixtures_dir() / name).read_text(encoding="utf-8"))["message"]


def call(
    sidecar: Sidecar, method: str, params: dict[str, Any], request_id: Any, timeout: float = 120
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Send a request; return its response and the notifications that came before it."""
    sidecar.send_request(method, params, request_id)
    return await_response(sidecar, request_id, timeout)


def await_response(
    sidecar: Sidecar, request_id: Any, timeout: float = 120, until: Any = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    deadline = time.monotonic() + timeout
    notifications: list[dict[str, Any]] = []
    while True:
        message = sidecar.receive(timeout=max(0.0, deadline - time.monotonic()))
        if "method" in message:
            notifications.append(message)
            if until is not None and until(message):
                return message, notifications
        elif message.get("id") == request_id:
            return message, notifications


def progress_of(notifications: list[dict[str, Any]], request_id: Any) -> list[dict[str, Any]]:
    for note in notifications:
        assert protocol.validate_notification(note) == [], note
        assert note["method"] == "eval/progress"
    mine = [note["params"] for note in notifications if note["params"]["requestId"] == request_id]
    assert mine, "no eval/progress for this request"
    return mine


def generate_params(models: TinyModels, out: Path, **options: Any) -> dict[str, Any]:
    return {
        "model": str(models.base),
        "tasksPath": str(golden("humaneval-slice")),
        "outDir": str(out),
        "n": 1,
        "temperature": 0,
        "maxNewTokens": 16,
        **options,
    }


def test_generate_reports_progress_naming_its_request(
    server: Sidecar, models: TinyModels, tmp_path: Path
) -> None:
    params = generate_params(models, tmp_path, n=2, temperature=0.7, batchSize=2, limit=3)
    response, notifications = call(server, "eval/generate", params, "gen-1")
    assert protocol.validate_response(response, "eval/generate") == []
    assert response["result"]["samples"] == 6
    progress = progress_of(notifications, "gen-1")
    assert {p["phase"] for p in progress} == {"generate"}
    assert {p["total"] for p in progress} == {6}
    done = [p["done"] for p in progress]
    assert done[0] == 0 and done[-1] == 6 and done == sorted(done)
    assert len(read_samples(tmp_path / "samples.jsonl")) == 6


def test_cancel_mid_generation_keeps_partial_samples(
    server: Sidecar, models: TinyModels, tmp_path: Path
) -> None:
    # 12 tasks x 4 samples, one sequence per call: dozens of batches, cancelled after the first.
    params = generate_params(
        models,
        tmp_path,
        tasksPath=str(golden("taco-fixture")),
        n=4,
        temperature=0.8,
        batchSize=1,
        maxNewTokens=24,
    )
    server.send_request("eval/generate", params, 31)
    _, before = await_response(
        server,
        31,
        until=lambda note: note["params"]["requestId"] == 31 and note["params"]["done"] > 0,
    )
    server.notify("$/cancelRequest", {"id": 31})
    started = time.monotonic()
    response, _ = await_response(server, 31, timeout=30)
    assert time.monotonic() - started < 10
    assert response["error"]["code"] == protocol.REQUEST_CANCELLED
    samples = read_samples(tmp_path / "samples.jsonl")
    assert 1 <= len(samples) < 48
    assert all(set(sample) == SAMPLE_KEYS for sample in samples)
    info = read_json(tmp_path / "generation.json")
    assert (info["samples"], info["complete"]) == (len(samples), False)
    assert server.request("health/ping")["result"]["pong"] is True


def test_golden_generate_request_runs_with_real_files(
    server: Sidecar, models: TinyModels, tmp_path: Path
) -> None:
    message = golden_message("eval-generate.request.json")
    params = dict(message["params"])
    params.update(
        model=str(models.base),
        adapter=str(models.adapter),
        tasksPath=str(golden("humanevalplus-slice")),
        outDir=str(tmp_path / "eval" / "humaneval+"),
        maxNewTokens=16,
    )
    response, notifications = call(server, message["method"], params, message["id"])
    assert protocol.validate_response(response, "eval/generate") == []
    result = response["result"]
    # Both tasks of the slice, n = 10 each (over two calls of batchSize 8).
    assert (result["samples"], result["tasks"], result["backend"]) == (20, 2, "transformers")
    assert Path(result["samplesPath"]) == tmp_path / "eval" / "humaneval+" / "samples.jsonl"
    assert progress_of(notifications, message["id"])[-1]["done"] == 20
    info = read_json(tmp_path / "eval" / "humaneval+" / "generation.json")
    assert (info["adapter"], info["n"], info["topP"], info["limit"]) == (
        str(models.adapter),
        10,
        0.95,
        20,
    )


def test_golden_execute_request_runs_with_real_files(server: Sidecar, tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(
        json.dumps(task("humanevalplus-slice", "HumanEval/2"))
        + "\n"
        + json.dumps(task("mbppplus-slice", "Mbpp/404"))
        + "\n"
    )
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps(s) + "\n" for s in evalplus_samples()[:8]))
    message = golden_message("eval-execute.request.json")
    params = dict(
        message["params"],
        tasksPath=str(tasks),
        samplesPath=str(samples),
        outDir=str(tmp_path / "out"),
        cacheDir=str(tmp_path / "cache"),
    )
    response, notifications = call(server, message["method"], params, message["id"])
    assert protocol.validate_response(response, "eval/execute") == []
    summary = response["result"]["summary"]
    assert (summary["samples"], summary["tasks"]) == (8, 2)
    assert summary["passAtK"] == pytest.approx({"pass@1": 0.25})  # pass@10 needs 10 samples
    progress = progress_of(notifications, message["id"])
    assert {p["phase"] for p in progress} == {"execute"}
    assert progress[0]["done"] == 0 and progress[-1]["done"] == progress[-1]["total"] == 8
    results = read_json(Path(response["result"]["resultsPath"]))
    assert results["summary"] == summary
    assert [e["base_status"] for e in results["eval"]["Mbpp/404"]][:3] == ["pass", "pass", "fail"]
    assert results["limits"] == {"timeoutS": 5, "timeLimitFactor": 4, "minTimeLimitS": 1}
    # The reference runs' outputs of both tasks are kept for the next request.
    assert len(list((tmp_path / "cache").glob("*.outputs.jsonl"))) == 2


def test_unusable_inputs_answer_invalid_params_naming_the_field(
    server: Sidecar, models: TinyModels, tmp_path: Path
) -> None:
    cases = {
        "params.model": generate_params(models, tmp_path, model=str(tmp_path / "missing")),
        "params.n": generate_params(models, tmp_path, n=3, temperature=0),
        "params.tasksPath": generate_params(
            models, tmp_path, tasksPath=str(tmp_path / "none.jsonl")
        ),
    }
    for field, params in cases.items():
        response = server.request("eval/generate", params)
        assert response["error"]["code"] == protocol.INVALID_PARAMS
        assert response["error"]["data"]["problems"][0].startswith(f"{field}: ")
    execute = {
        "tasksPath": str(golden("humaneval-slice")),
        "samplesPath": str(tmp_path / "none"),
        "outDir": str(tmp_path),
    }
    response = server.request("eval/execute", execute)
    assert response["error"]["message"].startswith("Invalid params: params.samplesPath: ")


def test_forced_vllm_without_vllm_answers_backend_unavailable(
    models: TinyModels, tmp_path: Path
) -> None:
    sidecar = Sidecar(
        [
            sys.executable,
            "-c",
            WITHOUT_VLLM + "from codistill.cli import main\nsys.exit(main(['serve']))",
        ],
        sidecar_env(),
    )
    try:
        response = sidecar.request(
            "eval/generate", generate_params(models, tmp_path, backend="vllm"), timeout=30
        )
    finally:
        sidecar.stop()
    assert response["error"]["code"] == protocol.BACKEND_UNAVAILABLE
    assert "the vllm package is not installed" in response["error"]["message"]
    assert response["error"]["data"] == {"backend": "vllm"}
