"""The student (a causal LM, with its LoRA adapter merged in) as an ONNX folder for the editor.

The editor generates with onnxruntime, feeding the model's key/value cache back itself, in the
layout Hugging Face Optimum and transformers.js use. The folder written:

- ``model.onnx``: inputs ``input_ids``, ``attention_mask``, ``position_ids`` (int64) and, per
  layer ``i``, ``past_key_values.{i}.key`` / ``.value`` (``[batch, kv_heads, past_sequence,
  head_dim]``); outputs ``logits`` (``[batch, sequence, vocab]``) and ``present.{i}.key`` /
  ``.value`` (``[batch, kv_heads, past_sequence + sequence, head_dim]``). ``attention_mask``
  covers the past and the new tokens (``[batch, past_sequence + sequence]``); batch, sequence and
  past length are dynamic axes. A prefill feeds an empty past (past_sequence 0), each decode step
  the presents of the step before;
- the weights in float32, float16 (``dtype fp16``: cast before the export, past and logits
  float16 too), int8 (onnxruntime's dynamic quantization of the MatMul weights) or int4
  (onnxruntime's blockwise MatMulNBits weights, block 32);
- ``tokenizer.json`` and the tokenizer's other files as ``save_pretrained`` writes them,
  ``config.json`` and ``generation_config.json`` of the source model;
- ``export.json``: the inputs and outputs, the cache's shape, the special token ids, dtype and
  quantization, the source model and adapter, the validation figures, and ``prompt``: the
  model's editor prompt format (evaluation/prompts.py ``prompt_templates``: completion or chat,
  whether to add the tokenizer's special tokens, a before/after template and the stop sequences
  per prompt kind, code or prose), so the editor renders exactly the prompts evaluation does.

Positions: ``position_ids`` is the count of real tokens before each token (``cumsum(mask) - 1``,
1 on padding), as transformers' ``generate`` computes it, so left-padded batches give each row
the positions it would have alone.

Validation: after writing the model, onnxruntime runs it and PyTorch runs the merged model in
float32 on sample prompts, alone and as a left-padded batch: a prefill from an empty past, then
3 decode steps (the next token PyTorch's greedy choice, fed to both), onnxruntime fed its own
presents. The largest absolute difference of the logits over the real tokens is the figure;
above the dtype's tolerance (TOLERANCES) the export fails.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..evaluation.common import utc_now, write_json
from .encoder import (
    EXTERNAL_DATA_BYTES,
    Cancelled,
    ExportCancelled,  # noqa: F401  (re-exported: the CLI and an rpc handler catch it here)
    ExportInputError,
    ExportValidationError,
    Progress,
    QuantizerChatter,
    choose_exporter,
    export_torchscript,
    load_tokenizer,
    log_progress,
    move_model,
    never_cancelled,
    parameter_bytes,
    prepare_out_dir,
    quantize_int8,
    read_model_config,
    stop_if,
)

log = logging.getLogger("codistill.export")

MODEL_FILE = "model.onnx"
CONFIG_FILE = "config.json"
GENERATION_CONFIG_FILE = "generation_config.json"
EXPORT_FILE = "export.json"
ADAPTER_CONFIG = "adapter_config.json"
# A training run's folder: its final adapter, and where the export goes by default.
RUN_ADAPTER_DIR = "adapter"
RUN_ONNX_DIR = "onnx"
# Bumped when export.json or the model's inputs and outputs change meaning.
EXPORT_FORMAT = 1
DTYPES = ("fp32", "fp16")
QUANTIZATIONS = ("int8", "int4")
DEFAULT_OPSET = 17
OPSETS = range(14, 21)
INT4_BLOCK_SIZE = 32
# Largest absolute difference of the logits allowed against float32 PyTorch, per kind of
# export. float32: reordered float sums, ~1e-6; a wrong graph (a mask or a past length traced as
# a constant) gives 1e-1 and more. The lossy ones are relative to the largest |logit| of the
# reference (logits of a trained model run to 20 and more, a random one's below 1): float16
# keeps ~3 decimal digits per step (the tiny random student: 0.3%). int8 (weights per channel,
# activations quantized per call) and int4 (blockwise weights) are checked after the float graph
# passed, so theirs only catch a broken quantization: the tiny random student, whose logits
# are nearly all noise, differs by 16% (int8) and 71% (int4) of its largest logit.
FLOAT32_TOLERANCE = 1e-3
RELATIVE_TOLERANCES = {"fp16": 2e-2, "int8": 0.5, "int4": 1.0}
DECODE_STEPS = 3
SAMPLE_PROMPTS = (
    'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n',
    "import os\n\n\ndef list_python_files(folder):\n    # every .py file under folder\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n",
)


@dataclass(frozen=True)
class DecoderExportRequest:
    """``model``: the base causal LM's folder; ``adapter``: a PEFT LoRA adapter folder to merge,
    or ``run_dir``: a training run whose ``adapter/`` it is (then ``out_dir`` defaults to the
    run's ``onnx/``)."""

    model: Path
    out_dir: Path | None = None
    adapter: Path | None = None
    run_dir: Path | None = None
    dtype: str = "fp32"
    quantize: str | None = None
    opset: int = DEFAULT_OPSET

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> DecoderExportRequest:
        """From export/onnx params (camelCase, as the extension would send them)."""

        def path(key: str) -> Path | None:
            return Path(params[key]) if params.get(key) is not None else None

        return cls(
            model=Path(params["model"]),
            out_dir=path("outDir"),
            adapter=path("adapter"),
            run_dir=path("runDir"),
            dtype=params.get("dtype", "fp32"),
            quantize=params.get("quantize"),
            opset=params.get("opset", DEFAULT_OPSET),
        )


def export_decoder(
    request: DecoderExportRequest,
    progress: Progress = log_progress,
    cancel: Cancelled = never_cancelled,
) -> dict[str, Any]:
    """Write the ONNX folder (module docstring) and return the result: where it is, the
    validation figures, the files. ExportInputError names the parameter that is unusable."""
    started = time.monotonic()
    check_request(request)
    if choose_exporter("auto") != "torchscript":
        raise ExportValidationError(
            "this torch has no TorchScript ONNX exporter, which the decoder export needs"
        )
    source = check_model_folder(request.model)
    adapter, out_request = resolve_adapter_and_out(request)
    adapter_base = check_adapter_folder(adapter, source) if adapter is not None else None
    out_dir = prepare_out_dir(out_request)
    progress(f"loading {source}" + (f" with adapter {adapter}" if adapter else ""))
    reference = load_merged(source, adapter)
    tokenizer = load_tokenizer(source, "model", local_files_only=True)
    info = decoder_info(reference, tokenizer)
    prompt = editor_prompt_format(tokenizer, source)
    stop_if(cancel)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".export-") as work_dir:
        work = Path(work_dir)
        exported = reference if request.dtype == "fp32" else half_copy(reference)
        progress(f"exporting to ONNX ({request.dtype}, opset {request.opset})")
        model = export_graph(exported, info, work / "float", request.opset)
        del exported
        stop_if(cancel)
        # The float graph first, at the dtype's tolerance: a graph that is wrong (a mask or a
        # past length traced as a constant) fails here, before quantization's error hides it.
        progress("validating against PyTorch")
        validation = validate(reference, model, tokenizer, info, request.dtype)
        check_validation(validation)
        stop_if(cancel)
        if request.quantize is not None:
            progress(f"quantizing the weights to {request.quantize}")
            quantize = quantize_student_int8 if request.quantize == "int8" else quantize_int4
            model = quantize(model, work / request.quantize)
            stop_if(cancel)
            progress(f"validating the {request.quantize} model against PyTorch")
            graph = validation
            validation = validate(reference, model, tokenizer, info, request.quantize)
            validation["floatGraph"] = graph
            check_validation(validation)
            stop_if(cancel)
        model_files = move_model(model.parent, out_dir)
    other_files = write_tokenizer(tokenizer, out_dir) + write_configs(reference, source, out_dir)
    files = model_files + other_files + [EXPORT_FILE]
    record = export_record(request, source, adapter, adapter_base, info, validation, files)
    record["prompt"] = prompt
    write_json(out_dir / EXPORT_FILE, record)
    progress(f"wrote {out_dir}")
    return {
        "outDir": str(out_dir),
        "modelPath": str(out_dir / MODEL_FILE),
        "dtype": request.dtype,
        "quantize": request.quantize,
        "adapter": str(adapter) if adapter else None,
        "maxAbsDiff": validation["maxAbsDiff"],
        "tolerance": validation["tolerance"],
        "numLayers": info["numLayers"],
        "files": files,
        "wallS": round(time.monotonic() - started, 3),
    }


# --- checking the request -------------------------------------------------------------------


def check_request(request: DecoderExportRequest) -> None:
    if request.dtype not in DTYPES:
        raise ExportInputError(
            "dtype", f"expected one of {', '.join(DTYPES)}, got {request.dtype!r}"
        )
    if request.quantize is not None and request.quantize not in QUANTIZATIONS:
        raise ExportInputError(
            "quantize",
            f"expected one of {', '.join(QUANTIZATIONS)} or none, got {request.quantize!r}",
        )
    if request.quantize is not None and request.dtype != "fp32":
        raise ExportInputError(
            "quantize",
            f"{request.quantize} quantizes float32 weights; give dtype fp32, not {request.dtype}",
        )
    if request.opset not in OPSETS:
        raise ExportInputError(
            "opset",
            f"the torchscript exporter writes opsets {OPSETS.start} to {OPSETS.stop - 1}, "
            f"got {request.opset}",
        )
    if request.adapter is not None and request.run_dir is not None:
        raise ExportInputError("adapter", "give the adapter or the run folder (runDir), not both")


def resolve_adapter_and_out(request: DecoderExportRequest) -> tuple[Path | None, Path]:
    """The adapter folder to merge (the run's adapter/ for a run) and the output folder (the
    run's onnx/ unless given)."""
    if request.run_dir is None:
        if request.out_dir is None:
            raise ExportInputError("outDir", "required without a run folder (runDir)")
        adapter = request.adapter.resolve() if request.adapter is not None else None
        return adapter, request.out_dir
    run_dir = request.run_dir
    if not run_dir.is_dir():
        raise ExportInputError("runDir", f"{run_dir}: no such folder")
    adapter = run_dir / RUN_ADAPTER_DIR
    if not adapter.is_dir():
        raise ExportInputError(
            "runDir", f"{adapter}: missing (the run has no final adapter; did it finish?)"
        )
    out_dir = request.out_dir if request.out_dir is not None else run_dir / RUN_ONNX_DIR
    return adapter.resolve(), out_dir


def check_model_folder(path: Path) -> Path:
    """The folder, resolved, once its config is known to be a causal LM's."""
    config = read_model_config(path, "model")
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    model_type = getattr(config, "model_type", None)
    if getattr(config, "is_encoder_decoder", False) or (
        model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
    ):
        raise ExportInputError(
            "model", f'{path}: model_type "{model_type}" is not a causal language model'
        )
    return path.resolve()


# The config fields an adapter's weights depend on: one that differs means another base.
SHAPE_FIELDS = (
    "model_type",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "vocab_size",
)


def check_adapter_folder(adapter: Path, model: Path) -> str | None:
    """The adapter's recorded base (base_model_name_or_path), once the folder is known to be a
    LoRA adapter and, where that base is a local folder, one of the same shape as ``model``."""
    if not adapter.is_dir():
        raise ExportInputError("adapter", f"{adapter}: no such folder")
    config_file = adapter / ADAPTER_CONFIG
    if not config_file.is_file():
        raise ExportInputError(
            "adapter", f"{adapter}: not a PEFT adapter folder (no {ADAPTER_CONFIG})"
        )
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportInputError("adapter", f"{config_file}: {exc}") from None
    if config.get("peft_type") != "LORA":
        raise ExportInputError(
            "adapter", f"{config_file}: peft_type is {config.get('peft_type')!r}, not 'LORA'"
        )
    base = config.get("base_model_name_or_path")
    if base and (Path(base) / CONFIG_FILE).is_file() and Path(base).resolve() != model:
        ours = json.loads((model / CONFIG_FILE).read_text(encoding="utf-8"))
        theirs = json.loads((Path(base) / CONFIG_FILE).read_text(encoding="utf-8"))
        differ = [f for f in SHAPE_FIELDS if ours.get(f) != theirs.get(f)]
        if differ:
            detail = ", ".join(f"{f} {theirs.get(f)!r} there, {ours.get(f)!r} here" for f in differ)
            raise ExportInputError(
                "adapter",
                f"{adapter}: made for the base {base}, which does not match {model} ({detail})",
            )
    return base


# --- the model ------------------------------------------------------------------------------


def load_merged(model: Path, adapter: Path | None) -> Any:
    """The base in float32, eval mode, with the adapter's LoRA weights merged into its own
    (merge_and_unload): one plain model, the one exported and the reference."""
    import torch
    from transformers import AutoModelForCausalLM

    from ..evaluation.backends import dtype_option

    try:
        network = AutoModelForCausalLM.from_pretrained(
            model, local_files_only=True, **dtype_option(torch.float32)
        )
    except (OSError, ValueError) as exc:
        raise ExportInputError("model", f"{model}: cannot load the model: {exc}") from None
    if adapter is not None:
        from peft import PeftModel

        try:
            network = PeftModel.from_pretrained(network, adapter).merge_and_unload()
        except (RuntimeError, ValueError, KeyError, OSError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ExportInputError(
                "adapter", f"{adapter}: does not fit the base {model}: {first}"
            ) from None
    return network.eval()


def half_copy(model: Any) -> Any:
    import copy

    import torch

    return copy.deepcopy(model).to(torch.float16).eval()


def decoder_info(model: Any, tokenizer: Any) -> dict[str, Any]:
    config = model.config
    heads = int(config.num_attention_heads)
    kv_heads = int(getattr(config, "num_key_value_heads", None) or heads)
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    layers = int(config.num_hidden_layers)
    generation = getattr(model, "generation_config", None)
    eos = getattr(generation, "eos_token_id", None)
    return {
        "modelType": config.model_type,
        "numLayers": layers,
        "numAttentionHeads": heads,
        "numKeyValueHeads": kv_heads,
        "headDim": int(head_dim),
        "hiddenSize": int(config.hidden_size),
        "vocabSize": int(config.vocab_size),
        "maxPositionEmbeddings": getattr(config, "max_position_embeddings", None),
        "bosTokenId": tokenizer.bos_token_id
        if tokenizer.bos_token_id is not None
        else config.bos_token_id,
        "eosTokenId": eos if eos is not None else tokenizer.eos_token_id,
        "padTokenId": tokenizer.pad_token_id
        if tokenizer.pad_token_id is not None
        else config.pad_token_id,
        "parameters": sum(p.numel() for p in model.parameters()),
        "inputs": input_names(layers),
        "outputs": output_names(layers),
    }


def editor_prompt_format(tokenizer: Any, source: Path) -> dict[str, Any]:
    """export.json's ``prompt``: the tokenizer's editor prompt templates (the tokenizer written
    beside the model)."""
    from ..evaluation.prompts import prompt_templates

    try:
        return prompt_templates(tokenizer)
    except ValueError as exc:
        raise ExportInputError("model", f"{source}: {exc}") from None


def input_names(layers: int) -> list[str]:
    past = [f"past_key_values.{i}.{kind}" for i in range(layers) for kind in ("key", "value")]
    return ["input_ids", "attention_mask", "position_ids", *past]


def output_names(layers: int) -> list[str]:
    return ["logits", *(f"present.{i}.{kind}" for i in range(layers) for kind in ("key", "value"))]


def flat_cache_module(model: Any) -> Any:
    """The model with the ONNX signature: (input_ids, attention_mask, position_ids, past key,
    past value, ...) -> (logits, present key, present value, ...). The past becomes a
    DynamicCache inside; its layers after the call are the presents."""
    import torch
    from transformers import DynamicCache

    layers = model.config.num_hidden_layers
    # transformers 5 renamed the forward's past_key_values to cache (and the output's field).
    cache_arg = "cache" if "cache" in inspect.signature(model.forward).parameters else None
    cache_arg = cache_arg or "past_key_values"

    class FlatCache(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, position_ids: Any, *past: Any):
            cache = new_cache(DynamicCache, self.inner.config)
            for i in range(layers):
                cache.update(past[2 * i], past[2 * i + 1], i)
            out = self.inner(
                input_ids=input_ids,
                attention_mask=attention_mask,
                position_ids=position_ids,
                use_cache=True,
                **{cache_arg: cache},
            )
            # The cache was updated in place with the new tokens' keys and values.
            return (out.logits, *cache_tensors(cache, layers))

    return FlatCache(model).eval()


def new_cache(cache_class: Any, config: Any) -> Any:
    try:
        return cache_class(config=config)
    except TypeError:  # transformers before 4.56
        return cache_class()


def cache_tensors(cache: Any, layers: int) -> list[Any]:
    tensors = []
    for i in range(layers):
        if hasattr(cache, "layers"):
            tensors += [cache.layers[i].keys, cache.layers[i].values]
        else:  # transformers before 4.56
            tensors += [cache.key_cache[i], cache.value_cache[i]]
    return tensors


def trace_inputs(info: dict[str, Any], dtype: Any) -> tuple[Any, ...]:
    """A left-padded batch of 2 with 3 new tokens after a past of 4: no axis of size 1 or 0 and
    no two equal, so none is traced as a constant or confused with another."""
    import torch

    batch, sequence, past = 2, 3, 4
    ids = torch.randint(3, min(info["vocabSize"], 100), (batch, sequence))
    mask = torch.ones(batch, past + sequence, dtype=torch.long)
    mask[0, :2] = 0
    positions = positions_of(mask)[:, past:]
    shape = (batch, info["numKeyValueHeads"], past, info["headDim"])
    pasts = [torch.randn(shape, dtype=dtype) for _ in range(2 * info["numLayers"])]
    return (ids, mask, positions, *pasts)


def positions_of(mask: Any) -> Any:
    """transformers' generate: real tokens counted from 0, padding at 1."""
    positions = mask.long().cumsum(-1) - 1
    return positions.masked_fill(mask == 0, 1)


def export_graph(model: Any, info: dict[str, Any], folder: Path, opset: int) -> Path:
    folder.mkdir()
    path = folder / MODEL_FILE
    module = flat_cache_module(model)
    dtype = next(model.parameters()).dtype
    args = trace_inputs(info, dtype)
    inputs, outputs = info["inputs"], info["outputs"]
    axes: dict[str, dict[int, str]] = {
        "input_ids": {0: "batch", 1: "sequence"},
        "attention_mask": {0: "batch", 1: "total_sequence"},
        "position_ids": {0: "batch", 1: "sequence"},
        "logits": {0: "batch", 1: "sequence"},
    }
    axes.update({name: {0: "batch", 2: "past_sequence"} for name in inputs[3:]})
    axes.update({name: {0: "batch", 2: "total_sequence"} for name in outputs[1:]})
    # The tracer's notes on shape checks; validate() runs the graph on other shapes, an empty
    # past included.
    export_torchscript(
        module,
        args,
        path,
        opset,
        input_names=inputs,
        output_names=outputs,
        dynamic_axes=axes,
        quiet=(FutureWarning, UserWarning),
    )
    if parameter_bytes(model) > EXTERNAL_DATA_BYTES:
        # The TorchScript exporter writes large weights beside the model already; nothing to do.
        log.info("large model: weights may be in files beside %s", path.name)
    return path


def quantize_student_int8(model: Path, folder: Path) -> Path:
    """encoder.quantize_int8 on the weight MatMuls only, per channel; the embedding Gather stays
    float32 as transformers.js's q8 models keep it."""
    return quantize_int8(model, folder, op_types_to_quantize=["MatMul"], per_channel=True)


def int4_quantizer() -> Any:
    """onnxruntime's MatMulNBitsQuantizer (1.20+), or MatMul4BitsQuantizer of older ones."""
    try:
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

        return MatMulNBitsQuantizer
    except ImportError:
        pass
    try:
        from onnxruntime.quantization.matmul_4bits_quantizer import MatMul4BitsQuantizer

        return MatMul4BitsQuantizer
    except ImportError:
        import onnxruntime

        raise ExportInputError(
            "quantize",
            f"int4 needs onnxruntime's MatMulNBitsQuantizer, which onnxruntime "
            f"{onnxruntime.__version__} does not have",
        ) from None


def quantize_int4(model: Path, folder: Path) -> Path:
    """Blockwise 4-bit weights of the weight MatMuls (MatMulNBits), symmetric, blocks of
    INT4_BLOCK_SIZE along the input axis."""
    import onnx

    quantizer_class = int4_quantizer()
    folder.mkdir()
    path = folder / MODEL_FILE
    chatter = QuantizerChatter()
    logging.getLogger().addFilter(chatter)
    try:
        quantizer = quantizer_class(
            onnx.load(str(model)), block_size=INT4_BLOCK_SIZE, is_symmetric=True
        )
        quantizer.process()
        onnx.save_model(quantizer.model.model, str(path))
    finally:
        logging.getLogger().removeFilter(chatter)
    return path


# --- validation -----------------------------------------------------------------------------


def tolerance_for(kind: str) -> tuple[str, float]:
    """kind: the dtype of a float graph, or the quantization."""
    if kind == "fp32":
        return "absolute", FLOAT32_TOLERANCE
    return "relative to the largest |logit|", RELATIVE_TOLERANCES[kind]


def validate(
    reference: Any, model: Path, tokenizer: Any, info: dict[str, Any], kind: str
) -> dict[str, Any]:
    """onnxruntime on ``model`` against PyTorch on the float32 merged ``reference``: each sample
    prompt alone and all of them as a left-padded batch, a prefill from an empty past, then
    DECODE_STEPS decode steps on PyTorch's greedy tokens."""
    import onnxruntime as ort
    import torch

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    past_type = np_dtype(session.get_inputs()[3].type) if info["numLayers"] else "float32"
    encoded = [tokenizer(p)["input_ids"] for p in SAMPLE_PROMPTS]
    batches = [[ids] for ids in encoded] + [encoded]
    max_diff, max_logit, agree, compared = 0.0, 0.0, 0, 0
    for rows in batches:
        ids, mask = left_padded(rows, info["padTokenId"] or 0)
        past = empty_past(info, len(rows), past_type)
        cache = None
        for _ in range(DECODE_STEPS + 1):
            past_len = mask.shape[1] - ids.shape[1]
            positions = positions_of(mask)[:, past_len:]
            feeds = {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
            feeds["position_ids"] = positions.numpy()
            feeds.update(zip(info["inputs"][3:], past, strict=True))
            got, *past = session.run(info["outputs"], feeds)
            with torch.no_grad():
                out = reference(
                    input_ids=ids,
                    attention_mask=mask,
                    position_ids=positions,
                    use_cache=True,
                    **({} if cache is None else cache_kwargs(reference, cache)),
                )
            cache = out_cache(out)
            expected = out.logits.float()
            got = torch.from_numpy(got).float()
            real = mask[:, past_len:].bool()
            max_diff = max(max_diff, float((got - expected).abs()[real].max()))
            max_logit = max(max_logit, float(expected.abs()[real].max()))
            agree += int((got.argmax(-1) == expected.argmax(-1))[real].sum())
            compared += int(real.sum())
            ids = expected[:, -1].argmax(-1, keepdim=True)
            mask = torch.cat([mask, torch.ones_like(ids)], dim=1)
    how, tolerance = tolerance_for(kind)
    allowed = tolerance if how == "absolute" else tolerance * max_logit
    return {
        "maxAbsDiff": max_diff,
        "maxAbsLogit": max_logit,
        "tolerance": allowed,
        "model": kind,
        "toleranceKind": how if how == "absolute" else f"{tolerance} x {how}",
        "top1Agreement": agree / compared,
        "reference": "PyTorch, float32, adapter merged",
        "prompts": len(SAMPLE_PROMPTS),
        "promptTokens": [len(ids) for ids in encoded],
        "decodeSteps": DECODE_STEPS,
        "batches": "each prompt alone, then all left-padded in one batch",
    }


def np_dtype(onnx_type: str) -> str:
    return "float16" if onnx_type == "tensor(float16)" else "float32"


def left_padded(rows: list[list[int]], pad: int) -> tuple[Any, Any]:
    import torch

    width = max(len(r) for r in rows)
    ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], dtype=torch.long)
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], dtype=torch.long)
    return ids, mask


def empty_past(info: dict[str, Any], batch: int, dtype: str) -> list[Any]:
    import numpy as np

    shape = (batch, info["numKeyValueHeads"], 0, info["headDim"])
    return [np.zeros(shape, dtype=dtype) for _ in range(2 * info["numLayers"])]


def cache_kwargs(model: Any, cache: Any) -> dict[str, Any]:
    name = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
    return {name: cache}


def out_cache(out: Any) -> Any:
    cache = getattr(out, "cache", None)
    return cache if cache is not None else out.past_key_values


def check_validation(validation: dict[str, Any]) -> None:
    diff, allowed = validation["maxAbsDiff"], validation["tolerance"]
    if not math.isfinite(diff):
        raise ExportValidationError(f"the ONNX model gives non-finite logits (max |diff| {diff})")
    if diff > allowed:
        raise ExportValidationError(
            f"the ONNX model does not reproduce PyTorch: max |diff| of the logits {diff:.3g} > "
            f"{allowed:.3g} ({validation['toleranceKind']}; largest |logit| "
            f"{validation['maxAbsLogit']:.3g}, top-1 agreement {validation['top1Agreement']:.3f})"
        )


# --- the folder -----------------------------------------------------------------------------


def write_tokenizer(tokenizer: Any, out_dir: Path) -> list[str]:
    """Every file save_pretrained writes (tokenizer.json, tokenizer_config.json, a chat template,
    special tokens), without truncation or padding left on the backend tokenizer."""
    tokenizer.backend_tokenizer.no_truncation()
    tokenizer.backend_tokenizer.no_padding()
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".tokenizer-") as work:
        tokenizer.save_pretrained(work)
        names = sorted(p.name for p in Path(work).iterdir() if p.is_file())
        if "tokenizer.json" not in names:
            raise ExportInputError("model", "its tokenizer saved no tokenizer.json")
        for name in names:
            (Path(work) / name).replace(out_dir / name)
    return names


def write_configs(model: Any, source: Path, out_dir: Path) -> list[str]:
    """config.json as the source has it; generation_config.json as the source has it, or as
    transformers derives it from config.json when the folder has none."""
    shutil.copyfile(source / CONFIG_FILE, out_dir / CONFIG_FILE)
    if (source / GENERATION_CONFIG_FILE).is_file():
        shutil.copyfile(source / GENERATION_CONFIG_FILE, out_dir / GENERATION_CONFIG_FILE)
    else:
        model.generation_config.to_json_file(out_dir / GENERATION_CONFIG_FILE)
    return [CONFIG_FILE, GENERATION_CONFIG_FILE]


def export_record(
    request: DecoderExportRequest,
    source: Path,
    adapter: Path | None,
    adapter_base: str | None,
    info: dict[str, Any],
    validation: dict[str, Any],
    files: list[str],
) -> dict[str, Any]:
    from ..env import installed_version

    return {
        "format": EXPORT_FORMAT,
        "kind": "decoder",
        "source": str(source),
        "adapter": str(adapter) if adapter else None,
        "adapterBase": adapter_base,
        "runDir": str(request.run_dir.resolve()) if request.run_dir else None,
        "merged": adapter is not None,
        "createdAt": utc_now(),
        "dtype": request.dtype,
        "quantize": request.quantize,
        "int4BlockSize": INT4_BLOCK_SIZE if request.quantize == "int4" else None,
        "opset": request.opset,
        "exporter": "torchscript",
        **info,
        "cache": {
            "pastShape": ["batch", "numKeyValueHeads", "pastSequence", "headDim"],
            "pastDtype": "float16" if request.dtype == "fp16" else "float32",
            "emptyPastLength": 0,
            "attentionMask": "[batch, pastSequence + sequence], 1 for real tokens",
            "positionIds": "cumsum(attentionMask) - 1, 1 on padding",
        },
        "validation": validation,
        "files": files,
        "versions": {
            "codistill": __version__,
            **{
                name: installed_version(name)
                for name in ("torch", "transformers", "peft", "onnxruntime")
            },
        },
    }
