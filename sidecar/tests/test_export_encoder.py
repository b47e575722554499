"""encoder/export: the tiny encoder of scripts/make-tiny-model.py exported to ONNX, float32 and
int8, through the Python function, a real `python -m codistill serve` and the real CLI; the
folder's files, the model's signature, its agreement with PyTorch under the loss's pooling, and
errors that name the parameter or file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from eval_support import golden
from train_support import Tiny, shared_models
from transformers import AutoTokenizer

from codistill import protocol
from codistill.export.encoder import (
    EXPORT_FORMAT,
    EncoderExportRequest,
    ExportInputError,
    export_encoder,
)
from codistill.training.loss import encode_ground_truth, encode_ids, load_frozen_encoder

from conftest import Sidecar, sidecar_env

FILES = ["model.onnx", "tokenizer.json", "tokenizer_config.json", "config.json", "export.json"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Tiny:
    return shared_models(tmp_path_factory)


@pytest.fixture(scope="module")
def float32(tiny: Tiny, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("encoder-float32")
    return export_encoder(EncoderExportRequest(tiny.encoder, out))


@pytest.fixture(scope="module")
def int8(tiny: Tiny, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("encoder-int8")
    return export_encoder(EncoderExportRequest(tiny.encoder, out, quantize="int8"))


def solutions(limit: int = 8) -> list[str]:
    """Real code: the golden MBPP and HumanEval slices' reference solutions."""
    codes = []
    for name in ("mbpp-slice", "humaneval-slice"):
        for line in golden(name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                codes.extend(json.loads(line)["solutions"][:1])
    return codes[:limit]


def onnx_pooled(model: Path, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    (hidden,) = session.run(
        ["last_hidden_state"], {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
    )
    weights = mask.unsqueeze(-1).float()
    return (torch.from_numpy(hidden) * weights).sum(1) / weights.sum(1).clamp_min(1.0)


def loss_inputs(encoder_dir: Path, codes: list[str]) -> dict[str, torch.Tensor]:
    """The codes tokenized exactly as the loss tokenizes ground truth."""
    tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
    return encode_ground_truth(tokenizer, codes, 512)


def cosines(a: torch.Tensor, b: torch.Tensor) -> list[float]:
    return torch.nn.functional.cosine_similarity(a, b).tolist()


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# --- the folder -----------------------------------------------------------------------------


def test_float32_folder_has_the_model_tokenizer_config_and_record(
    float32: dict[str, Any], tiny: Tiny
) -> None:
    assert protocol.validate_result("encoder/export", float32) == []
    out = Path(float32["outDir"])
    assert float32["files"] == FILES
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES), "no work files left behind"
    assert float32["modelPath"] == str(out / "model.onnx")
    assert (float32["quantized"], float32["hiddenSize"], float32["maxPositions"]) == (
        False,
        32,
        512,
    )
    assert read_json(out / "config.json") == read_json(tiny.encoder / "config.json")
    # The tokenizer as the folder has it: no truncation or padding left over from tokenizing.
    assert read_json(out / "tokenizer.json") == read_json(tiny.encoder / "tokenizer.json")
    assert read_json(out / "tokenizer_config.json")["tokenizer_class"] == "RobertaTokenizer"


def test_export_json_records_source_window_ids_and_validation(
    float32: dict[str, Any], tiny: Tiny
) -> None:
    record = read_json(Path(float32["outDir"]) / "export.json")
    assert record["format"] == EXPORT_FORMAT
    assert record["source"] == str(tiny.encoder.resolve())
    assert record["quantize"] is None and record["opset"] == 17
    assert (record["maxPositionEmbeddings"], record["maxPositions"], record["positionOffset"]) == (
        514,
        512,
        2,
    )
    assert (record["clsTokenId"], record["padTokenId"], record["sepTokenId"]) == (0, 1, 2)
    assert record["embedding"] == {
        "pooling": "mean",
        "specialTokens": False,
        "window": 512,
        "longerText": "token-weighted mean of the windows",
    }
    assert record["validation"]["maxAbsDiff"] == float32["maxAbsDiff"]
    assert record["validation"]["minCosine"] == float32["minCosine"]
    # The last sample runs to the end of the window: every position was checked.
    assert max(record["validation"]["tokens"]) == 512
    assert record["files"] == FILES


def test_model_takes_int64_ids_and_mask_with_dynamic_axes(float32: dict[str, Any]) -> None:
    model = onnx.load(float32["modelPath"])
    inputs = {i.name: i.type.tensor_type for i in model.graph.input}
    assert list(inputs) == ["input_ids", "attention_mask"]
    for tensor in inputs.values():
        assert tensor.elem_type == onnx.TensorProto.INT64
        assert [d.dim_param for d in tensor.shape.dim] == ["batch", "sequence"]
    (output,) = model.graph.output
    assert output.name == "last_hidden_state"
    assert output.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    dims = output.type.tensor_type.shape.dim
    assert [dims[0].dim_param, dims[1].dim_param, dims[2].dim_value] == ["batch", "sequence", 32]


# --- agreement with PyTorch -----------------------------------------------------------------


def test_float32_reproduces_the_loss_embedding(float32: dict[str, Any], tiny: Tiny) -> None:
    assert float32["maxAbsDiff"] < 1e-4
    assert float32["minCosine"] > 0.99999
    # Fresh code, as a padded batch: the loss's own encode_ids on the loss's own encoder.
    inputs = loss_inputs(tiny.encoder, solutions())
    encoder = load_frozen_encoder(tiny.encoder, dtype=torch.float32)
    with torch.no_grad():
        expected = encode_ids(encoder, inputs["input_ids"], inputs["attention_mask"].bool())
    got = onnx_pooled(Path(float32["modelPath"]), inputs["input_ids"], inputs["attention_mask"])
    assert float((got - expected).abs().max()) < 1e-4
    assert min(cosines(got, expected)) > 0.99999


def test_int8_is_smaller_and_close_to_float32(
    float32: dict[str, Any], int8: dict[str, Any], tiny: Tiny
) -> None:
    assert protocol.validate_result("encoder/export", int8) == []
    assert int8["quantized"] is True
    assert read_json(Path(int8["outDir"]) / "export.json")["quantize"] == "int8"
    float_size = Path(float32["modelPath"]).stat().st_size
    int8_size = Path(int8["modelPath"]).stat().st_size
    assert int8_size < 0.75 * float_size, (int8_size, float_size)
    ops = {node.op_type for node in onnx.load(int8["modelPath"]).graph.node}
    assert "MatMulInteger" in ops or "DynamicQuantizeMatMul" in ops, sorted(ops)
    assert int8["minCosine"] >= 0.99
    inputs = loss_inputs(tiny.encoder, solutions())
    ids, mask = inputs["input_ids"], inputs["attention_mask"]
    reference = onnx_pooled(Path(float32["modelPath"]), ids, mask)
    quantized = onnx_pooled(Path(int8["modelPath"]), ids, mask)
    assert min(cosines(quantized, reference)) >= 0.99


def test_dynamo_exporter_gives_the_same_model(
    float32: dict[str, Any], tiny: Tiny, tmp_path: Path
) -> None:
    # The exporter used where a torch no longer has the TorchScript one.
    result = export_encoder(
        EncoderExportRequest(tiny.encoder, tmp_path, opset=18, exporter="dynamo")
    )
    assert result["maxAbsDiff"] < 1e-4
    assert read_json(tmp_path / "export.json")["exporter"] == "dynamo"
    inputs = loss_inputs(tiny.encoder, solutions(4))
    ids, mask = inputs["input_ids"], inputs["attention_mask"]
    a = onnx_pooled(Path(result["modelPath"]), ids, mask)
    b = onnx_pooled(Path(float32["modelPath"]), ids, mask)
    assert float((a - b).abs().max()) < 1e-4


def test_reexport_replaces_the_folder_files(tiny: Tiny, tmp_path: Path) -> None:
    first = export_encoder(EncoderExportRequest(tiny.encoder, tmp_path, quantize="int8"))
    int8_bytes = Path(first["modelPath"]).read_bytes()
    second = export_encoder(EncoderExportRequest(tiny.encoder, tmp_path))
    assert Path(second["modelPath"]).read_bytes() != int8_bytes
    assert read_json(tmp_path / "export.json")["quantize"] is None
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)


# --- bad input ------------------------------------------------------------------------------


def test_missing_folder_names_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-encoder"
    with pytest.raises(ExportInputError) as caught:
        export_encoder(EncoderExportRequest(missing, tmp_path / "out"))
    assert caught.value.field == "path"
    assert str(missing) in caught.value.reason and "no such folder" in caught.value.reason
    assert not (tmp_path / "out").exists(), "nothing is created for an unusable input"


def test_folder_without_config_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExportInputError, match=r"empty/config\.json: missing") as caught:
        export_encoder(EncoderExportRequest(tmp_path / "empty", tmp_path / "out"))
    assert caught.value.field == "path"


def test_causal_lm_is_not_an_encoder(tiny: Tiny, tmp_path: Path) -> None:
    with pytest.raises(ExportInputError) as caught:
        export_encoder(EncoderExportRequest(tiny.student, tmp_path / "out"))
    assert caught.value.field == "path"
    assert 'not an encoder: model_type "llama" (LlamaForCausalLM) is a causal language model' in (
        caught.value.reason
    )


def test_missing_weights_name_path(tiny: Tiny, tmp_path: Path) -> None:
    broken = tmp_path / "no-weights"
    shutil.copytree(tiny.encoder, broken)
    (broken / "model.safetensors").unlink()
    with pytest.raises(ExportInputError) as caught:
        export_encoder(EncoderExportRequest(broken, tmp_path / "out"))
    assert caught.value.field == "path" and "cannot load the encoder" in caught.value.reason


@pytest.mark.parametrize(
    "changes,field,text",
    [
        ({"quantize": "int4"}, "quantize", 'expected one of "int8" or null'),
        ({"opset": 11}, "opset", "writes opsets 14 to 20, got 11"),
        ({"exporter": "magic"}, "exporter", "expected one of auto, torchscript, dynamo"),
    ],
)
def test_bad_options_name_the_field(
    tiny: Tiny, tmp_path: Path, changes: dict[str, Any], field: str, text: str
) -> None:
    options: dict[str, Any] = {"path": tiny.encoder, "out_dir": tmp_path / "out", **changes}
    with pytest.raises(ExportInputError) as caught:
        export_encoder(EncoderExportRequest(**options))
    assert caught.value.field == field and text in caught.value.reason


def test_out_dir_that_is_a_file_names_outdir(tiny: Tiny, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(ExportInputError) as caught:
        export_encoder(EncoderExportRequest(tiny.encoder, tmp_path / "taken"))
    assert caught.value.field == "outDir" and "not a folder" in caught.value.reason


# --- the RPC method through a real server ---------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Any:
    sidecar = Sidecar.serve("--log-level", "debug")
    yield sidecar
    sidecar.stop()


def test_rpc_exports_int8_through_the_server(server: Sidecar, tiny: Tiny, tmp_path: Path) -> None:
    out = tmp_path / "rpc-int8"
    params = {"path": str(tiny.encoder), "outDir": str(out), "quantize": "int8", "opset": 17}
    assert protocol.validate_params("encoder/export", params) == []
    response = server.request("encoder/export", params, timeout=120)
    assert protocol.validate_response(response, "encoder/export") == [], response
    result = response["result"]
    assert result["quantized"] is True and result["files"] == FILES
    assert result["minCosine"] >= 0.99
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert read_json(out / "export.json")["source"] == str(tiny.encoder.resolve())


@pytest.mark.parametrize(
    "params,problem",
    [
        ({"path": "{missing}", "outDir": "{out}"}, "params.path: {missing}: no such folder"),
        ({"path": "{student}", "outDir": "{out}"}, "params.path: {student}: not an encoder"),
        (
            {"path": "{encoder}", "outDir": "{out}", "quantize": "fp16"},
            'params.quantize: expected one of "int8" or null',
        ),
        ({"path": "{encoder}"}, "params.outDir: expected a non-empty string"),
        (
            {"path": "{encoder}", "outDir": "{out}", "opset": 99},
            "params.opset: the torchscript exporter writes opsets 14 to 20, got 99",
        ),
    ],
)
def test_rpc_bad_input_is_answered_invalid_params(
    server: Sidecar, tiny: Tiny, tmp_path: Path, params: dict[str, Any], problem: str
) -> None:
    names = {
        "missing": str(tmp_path / "missing"),
        "student": str(tiny.student),
        "encoder": str(tiny.encoder),
        "out": str(tmp_path / "out"),
    }
    filled = {
        key: value.format(**names) if isinstance(value, str) else value
        for key, value in params.items()
    }
    response = server.request("encoder/export", filled, timeout=60)
    assert protocol.validate_response(response, "encoder/export") == []
    error = response["error"]
    assert error["code"] == protocol.INVALID_PARAMS
    assert problem.format(**names) in error["message"], error
    assert not (tmp_path / "out" / "model.onnx").exists()


def test_rpc_cancel_leaves_no_model(server: Sidecar, tiny: Tiny, tmp_path: Path) -> None:
    out = tmp_path / "cancelled"
    request_id = server.send_request(
        "encoder/export", {"path": str(tiny.encoder), "outDir": str(out)}
    )
    # Loading the encoder takes a second or more: the cancel lands before any export phase ends.
    server.notify("$/cancelRequest", {"id": request_id})
    started = time.monotonic()
    response = server.response_to(request_id, timeout=60)
    assert response["error"]["code"] == protocol.REQUEST_CANCELLED, response
    assert time.monotonic() - started < 30
    assert not (out / "model.onnx").exists()
    assert server.request("health/ping")["result"]["pong"] is True


# --- the CLI as a user runs it --------------------------------------------------------------


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codistill", "export", "encoder", *map(str, args)],
        capture_output=True,
        text=True,
        env=sidecar_env(),
        timeout=180,
    )


def test_cli_prints_the_result_as_json(tiny: Tiny, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    done = run_cli("--model", tiny.encoder, "--out", out, "--quantize", "int8")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert protocol.validate_result("encoder/export", result) == []
    assert result["outDir"] == str(out.resolve()) and result["quantized"] is True
    assert "validating against PyTorch" in done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    session = ort.InferenceSession(result["modelPath"], providers=["CPUExecutionProvider"])
    ids = np.array([[5, 6, 7, 8]], dtype=np.int64)
    (hidden,) = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
    assert hidden.shape == (1, 4, 32)


@pytest.mark.parametrize(
    "case,message",
    [
        ("missing", "path: {missing}: no such folder"),
        ("student", "path: {student}: not an encoder"),
        ("empty", "path: {empty}/config.json: missing"),
        ("bad-quantize", "argument --quantize: invalid choice: 'int4'"),
        ("bad-opset", "opset: the torchscript exporter writes opsets 14 to 20, got 7"),
        ("out-is-file", "outDir: {file}: exists and is not a folder"),
    ],
)
def test_cli_bad_input_exits_2_naming_it(
    tiny: Tiny, tmp_path: Path, case: str, message: str
) -> None:
    names = {
        "missing": str(tmp_path / "missing"),
        "student": str(tiny.student),
        "empty": str(tmp_path / "empty"),
        "file": str(tmp_path / "file"),
    }
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("not a folder")
    model, out, extra = str(tiny.encoder), str(tmp_path / "out"), []
    if case in ("missing", "student", "empty"):
        model = names[case]
    elif case == "bad-quantize":
        extra = ["--quantize", "int4"]
    elif case == "bad-opset":
        extra = ["--opset", "7"]
    else:
        out = names["file"]
    done = run_cli("--model", model, "--out", out, *extra)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert message.format(**names) in done.stderr, done.stderr
