"""export onnx: the tiny student of scripts/make-tiny-model.py, its LoRA adapter merged, exported
to ONNX by the real CLI (float32, without the adapter, int8 from a run folder); the folder's
files and export.json, greedy decoding with onnxruntime feeding the presents back against
PyTorch's generate, the adapter really merged, and errors that name the option or file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
import torch
from eval_support import TinyModels, make_tiny_models
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

from codistill.evaluation.prompts import prompt_templates
from codistill.export.decoder import EXPORT_FORMAT, FLOAT32_TOLERANCE, RELATIVE_TOLERANCES

from conftest import sidecar_env

PROMPTS = (
    "def add(a, b):\n",
    'def is_palindrome(text):\n    """True when text reads the same backwards."""\n',
    "import math\n\n\ndef circle_area(r):\n    return",
)
NEW_TOKENS = 32
ENV = {"OMP_NUM_THREADS": "1", "CODISTILL_LOG_LEVEL": "warning"}


def cli(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "codistill", "export", "onnx", *map(str, args)]


def run_all(commands: list[list[str]], timeout: float = 180) -> list[subprocess.CompletedProcess]:
    """The commands side by side, as a user would run them one by one."""
    processes = [
        subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=sidecar_env(ENV),
        )
        for command in commands
    ]
    done = []
    for command, process in zip(commands, processes, strict=True):
        out, err = process.communicate(timeout=timeout)
        done.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    return done


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    return make_tiny_models(tmp_path_factory.mktemp("decoder-models"))


@pytest.fixture(scope="module")
def exports(tiny: TinyModels, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three exports by the real CLI: float32 with the adapter, float32 without, and int8 of a
    run folder (its adapter/, into its onnx/)."""
    root = tmp_path_factory.mktemp("decoder-exports")
    run = root / "run"
    shutil.copytree(tiny.adapter, run / "adapter")
    outs = {"merged": root / "merged", "base": root / "base", "int8": run / "onnx"}
    done = run_all(
        [
            cli("--model", tiny.base, "--adapter", tiny.adapter, "--out", outs["merged"]),
            cli("--model", tiny.base, "--out", outs["base"]),
            cli("--model", tiny.base, "--run", run, "--quantize", "int8"),
        ]
    )
    results = {}
    for name, process in zip(outs, done, strict=True):
        assert process.returncode == 0, (name, process.stderr)
        results[name] = json.loads(process.stdout)
    return {"outs": outs, "results": results, "run": run}


@pytest.fixture(scope="module")
def merged(tiny: TinyModels) -> Any:
    """The student with its adapter merged, in PyTorch: what the export must reproduce."""
    base = AutoModelForCausalLM.from_pretrained(tiny.base, dtype=torch.float32)
    return PeftModel.from_pretrained(base, tiny.adapter).merge_and_unload().eval()


def session(folder: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(
        str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
    )


def empty_past(record: dict[str, Any], batch: int = 1) -> dict[str, np.ndarray]:
    shape = (batch, record["numKeyValueHeads"], 0, record["headDim"])
    return {
        name: np.zeros(shape, dtype=np.float32)
        for name in record["inputs"]
        if name.startswith("past_key_values.")
    }


def step(
    model: ort.InferenceSession, record: dict[str, Any], ids: list[int], mask_len: int, past: dict
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One call: ``ids`` after a past of mask_len - len(ids) tokens; the logits and the next
    step's past (the presents under the past's names)."""
    feeds = {
        "input_ids": np.array([ids], dtype=np.int64),
        "attention_mask": np.ones((1, mask_len), dtype=np.int64),
        "position_ids": np.arange(mask_len - len(ids), mask_len, dtype=np.int64)[None],
        **past,
    }
    logits, *presents = model.run(record["outputs"], feeds)
    names = [n for n in record["inputs"] if n.startswith("past_key_values.")]
    return logits, dict(zip(names, presents, strict=True))


def onnx_greedy(model: ort.InferenceSession, record: dict[str, Any], prompt: list[int]) -> list:
    """Greedy decoding as the editor will do it: a prefill from an empty past, then one token at
    a time with the presents fed back, stopping at end-of-sequence."""
    eos = record["eosTokenId"]
    stops = set(eos) if isinstance(eos, list) else {eos}
    logits, past = step(model, record, prompt, len(prompt), empty_past(record))
    tokens: list[int] = []
    while True:
        token = int(logits[0, -1].argmax())
        tokens.append(token)
        if token in stops or len(tokens) == NEW_TOKENS:
            return tokens
        logits, past = step(model, record, [token], len(prompt) + len(tokens), past)


# --- the folder -----------------------------------------------------------------------------


def test_folder_has_model_tokenizer_configs_and_record(
    exports: dict[str, Any], tiny: TinyModels
) -> None:
    out, result = exports["outs"]["merged"], exports["results"]["merged"]
    names = {p.name for p in out.iterdir()}
    expected = {"model.onnx", "tokenizer.json", "config.json", "generation_config.json"}
    assert expected | {"export.json", "tokenizer_config.json"} <= names
    assert not [n for n in names if n.startswith(".")], "no work folders left behind"
    assert sorted(result["files"]) == sorted(names)
    assert result["modelPath"] == str(out.resolve() / "model.onnx")
    assert read_json(out / "config.json") == read_json(tiny.base / "config.json")
    assert (
        read_json(out / "tokenizer.json")["model"]
        == read_json(tiny.base / "tokenizer.json")["model"]
    )
    assert result["maxAbsDiff"] <= FLOAT32_TOLERANCE


def test_export_json_describes_inputs_cache_ids_and_validation(
    exports: dict[str, Any], tiny: TinyModels
) -> None:
    record = read_json(exports["outs"]["merged"] / "export.json")
    assert record["format"] == EXPORT_FORMAT and record["kind"] == "decoder"
    assert record["source"] == str(tiny.base.resolve())
    assert record["adapter"] == str(tiny.adapter.resolve()) and record["merged"] is True
    assert (record["dtype"], record["quantize"]) == ("fp32", None)
    assert (record["numLayers"], record["numKeyValueHeads"], record["headDim"]) == (2, 2, 16)
    assert (record["bosTokenId"], record["eosTokenId"], record["padTokenId"]) == (0, 1, 2)
    assert record["inputs"] == [
        "input_ids",
        "attention_mask",
        "position_ids",
        "past_key_values.0.key",
        "past_key_values.0.value",
        "past_key_values.1.key",
        "past_key_values.1.value",
    ]
    assert record["outputs"] == [
        "logits",
        "present.0.key",
        "present.0.value",
        "present.1.key",
        "present.1.value",
    ]
    validation = record["validation"]
    assert 0 <= validation["maxAbsDiff"] <= FLOAT32_TOLERANCE == validation["tolerance"]
    assert validation["decodeSteps"] == 3 and validation["prompts"] == 3
    assert validation["top1Agreement"] == 1.0
    # The graph's own signature is the one export.json describes, with dynamic axes.
    model = session(exports["outs"]["merged"])
    assert [i.name for i in model.get_inputs()] == record["inputs"]
    assert [o.name for o in model.get_outputs()] == record["outputs"]
    assert model.get_inputs()[3].shape == ["batch", 2, "past_sequence", 16]
    assert model.get_outputs()[1].shape == ["batch", 2, "total_sequence", 16]
    # The editor's prompt format, from the tokenizer written beside the model.
    prompt = record["prompt"]
    assert prompt == prompt_templates(AutoTokenizer.from_pretrained(exports["outs"]["merged"]))
    assert (prompt["format"], prompt["addSpecialTokens"]) == ("completion", True)
    assert prompt["templates"]["code"] == {"before": "", "after": "\n"}


# --- generation -----------------------------------------------------------------------------


def test_greedy_decoding_with_presents_fed_back_matches_generate(
    exports: dict[str, Any], tiny: TinyModels, merged: Any
) -> None:
    out = exports["outs"]["merged"]
    record = read_json(out / "export.json")
    tokenizer = AutoTokenizer.from_pretrained(out)
    model = session(out)
    lengths = []
    for prompt in PROMPTS:
        ids = tokenizer(prompt)["input_ids"]
        with torch.no_grad():
            expected = merged.generate(
                torch.tensor([ids]),
                attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                do_sample=False,
                max_new_tokens=NEW_TOKENS,
                pad_token_id=record["padTokenId"],
            )[0, len(ids) :].tolist()
        assert onnx_greedy(model, record, ids) == expected, prompt
        lengths.append(len(expected))
    assert max(lengths) == NEW_TOKENS, "at least one prompt decodes all 32 steps"


def test_the_adapter_is_merged(exports: dict[str, Any], tiny: TinyModels, merged: Any) -> None:
    outs = exports["outs"]
    record = read_json(outs["merged"] / "export.json")
    assert read_json(outs["base"] / "export.json")["adapter"] is None
    ids = AutoTokenizer.from_pretrained(tiny.base)(PROMPTS[1])["input_ids"]
    with_adapter, _ = step(session(outs["merged"]), record, ids, len(ids), empty_past(record))
    without, _ = step(session(outs["base"]), record, ids, len(ids), empty_past(record))
    with torch.no_grad():
        reference = merged(torch.tensor([ids])).logits.numpy()
    assert np.abs(with_adapter - reference).max() <= FLOAT32_TOLERANCE
    # make-tiny-model's adapter has a random (not zero) B: merged, it moves the logits.
    assert np.abs(with_adapter - without).max() > 100 * FLOAT32_TOLERANCE


def test_int8_of_a_run_goes_to_its_onnx_folder_and_validates(exports: dict[str, Any]) -> None:
    run, result = exports["run"], exports["results"]["int8"]
    out = run / "onnx"
    assert result["outDir"] == str(out.resolve()) and result["quantize"] == "int8"
    record = read_json(out / "export.json")
    assert record["adapter"] == str((run / "adapter").resolve())
    assert record["runDir"] == str(run.resolve())
    validation = record["validation"]
    assert validation["model"] == "int8"
    assert validation["maxAbsDiff"] <= validation["tolerance"]
    assert validation["tolerance"] == pytest.approx(
        RELATIVE_TOLERANCES["int8"] * validation["maxAbsLogit"]
    )
    # The float graph was checked strictly before quantizing.
    assert validation["floatGraph"]["maxAbsDiff"] <= FLOAT32_TOLERANCE
    model = session(out)
    weights = {i.name for i in model.get_inputs()}
    assert weights == set(record["inputs"])
    logits, presents = step(model, record, [5, 6, 7], 3, empty_past(record))
    assert logits.shape == (1, 3, record["vocabSize"])
    assert presents["past_key_values.0.key"].shape == (1, 2, 3, 16)


# --- bad input ------------------------------------------------------------------------------


def other_shaped_student(tiny: TinyModels, folder: Path) -> Path:
    """A student with a wider hidden size than the adapter was made for, same tokenizer."""
    config = read_json(tiny.base / "config.json")
    config.update(hidden_size=96, head_dim=24)
    LlamaForCausalLM(LlamaConfig(**config)).save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(tiny.base / name, folder / name)
    return folder


def test_bad_input_exits_2_naming_it(tiny: TinyModels, tmp_path: Path) -> None:
    missing, empty, out = tmp_path / "missing", tmp_path / "empty", tmp_path / "out"
    empty.mkdir()
    (tmp_path / "run-without-adapter").mkdir()
    wide = other_shaped_student(tiny, tmp_path / "wide")
    cases = [
        (("--model", missing, "--out", out), f"model: {missing}: no such folder"),
        (("--model", empty, "--out", out), f"model: {empty}/config.json: missing"),
        (("--model", tiny.base, "--adapter", missing, "--out", out), f"adapter: {missing}: no"),
        (
            ("--model", tiny.base, "--adapter", tiny.base, "--out", out),
            f"adapter: {tiny.base.resolve()}: not a PEFT adapter folder",
        ),
        (
            ("--model", wide, "--adapter", tiny.adapter, "--out", out),
            f"adapter: {tiny.adapter.resolve()}: does not fit the base",
        ),
        (
            ("--model", tiny.base, "--adapter", tiny.adapter, "--run", tmp_path, "--out", out),
            "argument --run: not allowed with argument --adapter",
        ),
        (("--model", tiny.base), "outDir: required without a run folder"),
        (
            ("--model", tiny.base, "--run", tmp_path / "run-without-adapter"),
            "runDir: " + str(tmp_path / "run-without-adapter" / "adapter") + ": missing",
        ),
        (
            ("--model", tiny.base, "--out", out, "--dtype", "fp16", "--quantize", "int8"),
            "quantize: int8 quantizes float32 weights",
        ),
        (("--model", tiny.base, "--out", out, "--quantize", "int2"), "invalid choice: 'int2'"),
        (("--model", tiny.base, "--out", out, "--opset", "9"), "opset: the torchscript exporter"),
    ]
    done = run_all([cli(*args) for args, _ in cases])
    for (args, message), process in zip(cases, done, strict=True):
        assert process.returncode == 2, (args, process.stdout, process.stderr)
        assert process.stdout == "", args
        assert message in process.stderr, (message, process.stderr)
    assert not out.exists() or not (out / "model.onnx").exists()
