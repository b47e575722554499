"""export/onnx through a real `python -m codistill serve`: the tiny student of
scripts/make-tiny-model.py with its LoRA adapter merged, the answer the CLI prints, bad params
answered -32602 naming the field, and a cancel answered -32800 leaving no model."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from eval_support import TinyModels, make_tiny_models

from codistill import protocol
from codistill.export.decoder import FLOAT32_TOLERANCE

from conftest import Sidecar

RESULT_KEYS = {
    "outDir",
    "modelPath",
    "dtype",
    "quantize",
    "adapter",
    "maxAbsDiff",
    "tolerance",
    "numLayers",
    "files",
    "wallS",
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    return make_tiny_models(tmp_path_factory.mktemp("export-rpc-models"))


@pytest.fixture(scope="module")
def server() -> Any:
    sidecar = Sidecar.serve("--log-level", "debug")
    yield sidecar
    sidecar.stop()


def test_rpc_exports_the_merged_student(server: Sidecar, tiny: TinyModels, tmp_path: Path) -> None:
    out = tmp_path / "onnx"
    params = {"model": str(tiny.base), "adapter": str(tiny.adapter), "outDir": str(out)}
    assert protocol.validate_params("export/onnx", params) == []
    response = server.request("export/onnx", params, timeout=180)
    assert protocol.validate_response(response, "export/onnx") == [], response
    result = response["result"]
    assert set(result) == RESULT_KEYS
    assert result["outDir"] == str(out.resolve())
    assert result["modelPath"] == str(out.resolve() / "model.onnx")
    assert (result["dtype"], result["quantize"]) == ("fp32", None)
    assert result["adapter"] == str(tiny.adapter.resolve())
    assert result["maxAbsDiff"] <= result["tolerance"] == FLOAT32_TOLERANCE
    assert result["numLayers"] == 2
    assert sorted(result["files"]) == sorted(p.name for p in out.iterdir())
    record = json.loads((out / "export.json").read_text(encoding="utf-8"))
    assert record["merged"] is True and record["prompt"]["format"] == "completion"


def test_rpc_exports_a_run_folder_into_its_onnx(
    server: Sidecar, tiny: TinyModels, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    (run / "adapter").mkdir(parents=True)
    for item in tiny.adapter.iterdir():
        (run / "adapter" / item.name).write_bytes(item.read_bytes())
    params = {"model": str(tiny.base), "runDir": str(run), "quantize": None}
    response = server.request("export/onnx", params, timeout=180)
    assert protocol.validate_response(response, "export/onnx") == [], response
    assert response["result"]["outDir"] == str((run / "onnx").resolve())
    assert (run / "onnx" / "model.onnx").is_file()


@pytest.mark.parametrize(
    "params,problem",
    [
        ({"model": "{missing}", "outDir": "{out}"}, "params.model: {missing}: no such folder"),
        (
            {"model": "{base}", "adapter": "{missing}", "outDir": "{out}"},
            "params.adapter: {missing}: no such folder",
        ),
        ({"model": "{base}"}, "params.outDir: required without a run folder (runDir)"),
        (
            {"model": "{base}", "adapter": "{adapter}", "runDir": "{tmp}", "outDir": "{out}"},
            "params.adapter: give the adapter or the run folder (runDir), not both",
        ),
        (
            {"model": "{base}", "outDir": "{out}", "dtype": "fp16", "quantize": "int8"},
            "params.quantize: int8 quantizes float32 weights",
        ),
        (
            {"model": "{base}", "outDir": "{out}", "quantize": "int2"},
            'params.quantize: expected one of "int8", "int4" or null',
        ),
        ({"model": "{base}", "outDir": "{out}", "opset": 9}, "params.opset: the torchscript"),
        ({"outDir": "{out}"}, "params.model: expected a non-empty string"),
    ],
)
def test_rpc_bad_input_is_answered_invalid_params(
    server: Sidecar,
    tiny: TinyModels,
    tmp_path: Path,
    params: dict[str, Any],
    problem: str,
) -> None:
    names = {
        "missing": str(tmp_path / "missing"),
        "base": str(tiny.base),
        "adapter": str(tiny.adapter),
        "tmp": str(tmp_path),
        "out": str(tmp_path / "out"),
    }
    filled = {
        key: value.format(**names) if isinstance(value, str) else value
        for key, value in params.items()
    }
    response = server.request("export/onnx", filled, timeout=60)
    assert protocol.validate_response(response, "export/onnx") == []
    error = response["error"]
    assert error["code"] == protocol.INVALID_PARAMS
    assert problem.format(**names) in error["message"], error
    assert not (tmp_path / "out" / "model.onnx").exists()


def test_rpc_cancel_leaves_no_model(server: Sidecar, tiny: TinyModels, tmp_path: Path) -> None:
    out = tmp_path / "cancelled"
    request_id = server.send_request(
        "export/onnx", {"model": str(tiny.base), "adapter": str(tiny.adapter), "outDir": str(out)}
    )
    # Loading and exporting take seconds: the cancel lands before a phase ends.
    server.notify("$/cancelRequest", {"id": request_id})
    started = time.monotonic()
    response = server.response_to(request_id, timeout=120)
    assert response["error"]["code"] == protocol.REQUEST_CANCELLED, response
    assert time.monotonic() - started < 60
    assert not (out / "model.onnx").exists()
    assert server.request("health/ping")["result"]["pong"] is True
