"""The structural loss's encoder as an ONNX folder for the editor.

The editor embeds code with the same encoder L_struct trains with (training/loss.py), through
onnxruntime-node, so its structural-similarity figures are the loss's. The folder written:

- ``model.onnx``: inputs ``input_ids`` and ``attention_mask`` (int64, ``[batch, sequence]``, both
  axes dynamic), output ``last_hidden_state`` (float32, ``[batch, sequence, hidden]``); the weights
  in float32, or int8 with onnxruntime's dynamic quantization;
- ``tokenizer.json`` and ``tokenizer_config.json``: the folder's fast tokenizer, which
  @huggingface/tokenizers reads;
- ``config.json``: the source folder's, as it was;
- ``export.json``: where it came from, how it was exported, the encoder's window and special
  token ids, how the loss embeds code (``embedding``), and the validation figures.

Embedding, exactly as the loss does (``loss.encode_ground_truth`` then ``loss.encode_ids``): the
code's tokens from the encoder's own tokenizer *without* special tokens (no <s> ... </s>: the
generated side of L_struct has none either), at most the encoder's window of them, through the
encoder in eval mode, and the mean of ``last_hidden_state`` over the attention mask, in float32.
The loss reads only the first window of a longer solution; the editor averages the windows of a
longer text, weighting each by its token count (src/core/inference/encoder.ts).

The training run loads the encoder in its precision (bf16 on most GPUs); the export is always
float32 in eval mode, the reference the loss's own bf16 values approximate, and what a CPU runs
best without int8.

Validation: after writing the model, onnxruntime runs it on sample code, as a padded batch and
one sample at a time, and PyTorch runs the source encoder on the same tokens; the largest
absolute difference of ``last_hidden_state`` over the real tokens and the lowest cosine of the
pooled embeddings go into the result and export.json. A float32 export that does not reproduce
PyTorch is an error; an int8 one is expected to differ and is only reported.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import math
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__, protocol
from ..evaluation.common import utc_now, write_json

log = logging.getLogger("codistill.export")

MODEL_FILE = "model.onnx"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")
CONFIG_FILE = "config.json"
EXPORT_FILE = "export.json"
# Bumped when export.json or the model's inputs and outputs change meaning; the editor refuses a
# folder of a format it does not know.
EXPORT_FORMAT = 1
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "last_hidden_state"
EXPORTERS = ("auto", "torchscript", "dynamo")
DEFAULT_OPSET = 17
# The TorchScript exporter writes opsets up to 20; attention (scaled_dot_product_attention)
# needs 14. The dynamo exporter writes 18 and up.
OPSETS = {"torchscript": range(14, 21), "dynamo": range(18, 24)}
# Float32 ONNX against PyTorch differs by reordered float sums, ~1e-6 on a hidden state of
# magnitude ~1; 1e-3 is far above that and far below what a wrong graph (a mask or position
# traced as a constant) gives.
FLOAT32_TOLERANCE = 1e-3
# int8 weights are expected to move the pooled embedding a little; below this the export is
# still written, with a warning.
INT8_COSINE_WARNING = 0.99

# Code the validation embeds: short and long, indented, with strings and comments; the last is
# repeated past any encoder's window, so the positions up to the window's end are checked too.
SAMPLE_CODE = (
    "def add(a, b):\n    return a + b\n",
    "import re\n\n\ndef words(text: str) -> list[str]:\n"
    '    """Lower-case words of text, in order."""\n'
    '    return [w.lower() for w in re.findall(r"[A-Za-z\']+", text)]\n',
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n"
    "    def push(self, item):\n        self.items.append(item)\n\n"
    "    def pop(self):\n        if not self.items:\n            raise IndexError('empty')\n"
    "        return self.items.pop()\n" * 40,
)

#: progress(message): what the export is doing, for a log or an output channel.
Progress = Callable[[str], None]
#: Polled between the export's phases; True once the caller wants it to stop.
Cancelled = Callable[[], bool]


def log_progress(message: str) -> None:
    log.info("%s", message)


def never_cancelled() -> bool:
    return False


class ExportInputError(ValueError):
    """A parameter names something unusable: a missing folder, a folder that is not an encoder,
    an opset the exporter cannot write. ``field`` is the parameter as the RPC method spells it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class ExportCancelled(Exception):
    """The caller cancelled; model.onnx is left as it was (the new one was never moved in)."""


class ExportValidationError(RuntimeError):
    """The float32 ONNX model does not reproduce PyTorch: an exporter bug, not an input."""


@dataclass(frozen=True)
class EncoderExportRequest:
    path: Path
    out_dir: Path
    quantize: str | None = None
    opset: int = DEFAULT_OPSET
    # Not part of the protocol: "auto" is the TorchScript exporter while torch has it (see
    # choose_exporter); the tests run both.
    exporter: str = "auto"

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> EncoderExportRequest:
        """From encoder/export params the protocol validator accepted."""
        return cls(
            path=Path(params["path"]),
            out_dir=Path(params["outDir"]),
            quantize=params.get("quantize"),
            opset=params.get("opset", DEFAULT_OPSET),
        )


def export_encoder(
    request: EncoderExportRequest,
    progress: Progress = log_progress,
    cancelled: Cancelled = never_cancelled,
) -> dict[str, Any]:
    """Write the ONNX folder ``request.out_dir`` (module docstring) and return encoder/export's
    result. ExportInputError names the parameter that is unusable."""
    started = time.monotonic()
    check_request(request)
    exporter = choose_exporter(request.exporter)
    check_opset(request.opset, exporter)
    source = request.path.resolve()
    config = check_encoder_folder(source)
    out_dir = prepare_out_dir(request.out_dir)
    progress(f"loading {source}")
    encoder = load_encoder(source)
    tokenizer = load_tokenizer(source)
    window = usable_window(encoder)
    samples = sample_inputs(tokenizer, window)
    stop_if(cancelled)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".export-") as work_dir:
        work = Path(work_dir)
        progress(f"exporting to ONNX (opset {request.opset}, {exporter} exporter)")
        model = export_graph(encoder, samples, work / "float32", request.opset, exporter)
        stop_if(cancelled)
        if request.quantize == "int8":
            progress("quantizing the weights to int8")
            model = quantize_int8(model, work / "int8")
            stop_if(cancelled)
        progress("validating against PyTorch")
        validation = validate(encoder, model, samples)
        check_validation(validation, request.quantize)
        stop_if(cancelled)
        model_files = move_model(model.parent, out_dir)
    other_files = write_tokenizer(tokenizer, out_dir) + copy_config(source, out_dir)
    files = model_files + other_files + [EXPORT_FILE]
    info = encoder_info(encoder, config, tokenizer, window)
    record = export_record(request, source, exporter, info, validation, files)
    write_json(out_dir / EXPORT_FILE, record)
    progress(f"wrote {out_dir}")
    return {
        "outDir": str(out_dir),
        "modelPath": str(out_dir / MODEL_FILE),
        "quantized": request.quantize is not None,
        "maxAbsDiff": validation["maxAbsDiff"],
        "minCosine": validation["minCosine"],
        "hiddenSize": info["hiddenSize"],
        "maxPositions": window,
        "files": files,
        "wallS": round(time.monotonic() - started, 3),
    }


def stop_if(cancelled: Cancelled) -> None:
    if cancelled():
        raise ExportCancelled()


# --- checking the request -------------------------------------------------------------------


def check_request(request: EncoderExportRequest) -> None:
    """What the protocol validator checks, for callers that build a request themselves."""
    if request.quantize is not None and request.quantize not in protocol.ENCODER_QUANTIZATIONS:
        choices = ", ".join(f'"{q}"' for q in protocol.ENCODER_QUANTIZATIONS)
        raise ExportInputError(
            "quantize", f"expected one of {choices} or null, got {request.quantize!r}"
        )
    if request.exporter not in EXPORTERS:
        raise ExportInputError(
            "exporter", f"expected one of {', '.join(EXPORTERS)}, got {request.exporter!r}"
        )


def choose_exporter(choice: str) -> str:
    """The TorchScript exporter while torch has it, else the dynamo one.

    Why TorchScript first: it ships inside torch (the dynamo exporter needs onnxscript besides),
    traces an encoder in about a second where dynamo takes several, prints nothing to stdout (the
    dynamo exporter prints its progress there), and writes the plain MatMul graph that
    onnxruntime's dynamic quantization was made for. torch 2.9 made dynamo the default and
    deprecated TorchScript; when a torch no longer has it, the dynamo exporter is used, which is
    why onnxscript is in the sidecar's export extra."""
    if choice != "auto":
        return choice
    if importlib.util.find_spec("torch.onnx._internal.torchscript_exporter") is not None:
        return "torchscript"
    return "dynamo"


def check_opset(opset: int, exporter: str) -> None:
    allowed = OPSETS[exporter]
    if opset not in allowed:
        raise ExportInputError(
            "opset",
            f"the {exporter} exporter writes opsets {allowed.start} to {allowed.stop - 1}, "
            f"got {opset}",
        )


def read_model_config(path: Path, field: str) -> Any:
    """The Hugging Face config of the model folder ``path`` (the request's ``field``); errors
    name the folder or the file. Shared by the encoder's and the student's export."""
    if not path.exists():
        raise ExportInputError(field, f"{path}: no such folder")
    if not path.is_dir():
        raise ExportInputError(field, f"{path}: not a folder")
    config_file = path / CONFIG_FILE
    if not config_file.is_file():
        raise ExportInputError(field, f"{config_file}: missing (not a Hugging Face model folder)")
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(path)
    except (OSError, ValueError, KeyError) as exc:
        raise ExportInputError(field, f"{config_file}: {exc}") from None


def check_encoder_folder(path: Path) -> Any:
    """The folder's config, once it is known to be a bidirectional encoder's."""
    config = read_model_config(path, "path")
    problem = not_an_encoder(config)
    if problem:
        raise ExportInputError("path", f"{path}: not an encoder: {problem}")
    return config


def not_an_encoder(config: Any) -> str | None:
    """Why a model config is not a bidirectional text encoder, or None when it is one.

    A model type with a masked-LM head in transformers (BERT, RoBERTa/CodeBERT, DeBERTa, ...) is
    one; a causal LM (the student) or an encoder-decoder (T5) is not: AutoModel of those needs
    decoder inputs or attends one way only."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    model_type = getattr(config, "model_type", None)
    architectures = ", ".join(getattr(config, "architectures", None) or []) or "no architectures"
    described = f'model_type "{model_type}" ({architectures})'
    if getattr(config, "is_encoder_decoder", False):
        return f"{described} is an encoder-decoder model"
    if model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return None
    kind = (
        "a causal language model"
        if model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
        else "not a bidirectional text encoder"
    )
    return (
        f"{described} is {kind}; encoder/export takes a bidirectional encoder such as "
        "CodeBERT (RoBERTa) or BERT"
    )


def prepare_out_dir(out_dir: Path) -> Path:
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportInputError("outDir", f"{out_dir}: exists and is not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportInputError("outDir", f"cannot create {out_dir}: {exc.strerror}") from None
    return out_dir.resolve()


# --- the encoder and its tokenizer ----------------------------------------------------------


def load_encoder(path: Path) -> Any:
    """The encoder as the loss loads it (loss.load_frozen_encoder: AutoModel, eval mode, frozen),
    in float32 whatever dtype the folder was saved in."""
    import torch

    from ..training.loss import load_frozen_encoder

    try:
        return load_frozen_encoder(path, dtype=torch.float32)
    except (OSError, ValueError) as exc:
        raise ExportInputError("path", f"{path}: cannot load the encoder: {exc}") from None


def load_tokenizer(path: Path, field: str = "path", **options: Any) -> Any:
    """The folder's tokenizer as training loads it (AutoTokenizer), which must be a fast one:
    its tokenizer.json is what the editor tokenizes with. ``field`` names the request's field in
    errors; ``options`` go to from_pretrained."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path, **options)
    except (OSError, ValueError) as exc:
        raise ExportInputError(field, f"{path}: cannot load its tokenizer: {exc}") from None
    if getattr(tokenizer, "backend_tokenizer", None) is None:
        raise ExportInputError(
            field,
            f"{path}: its tokenizer ({type(tokenizer).__name__}) has no fast (tokenizers) form, "
            "so there is no tokenizer.json for the editor",
        )
    return tokenizer


def usable_window(encoder: Any) -> int:
    """Tokens the encoder reads at once, as the loss counts them (loss.encoder_max_tokens:
    RoBERTa numbers positions from padding_idx + 1, so CodeBERT's 514 give 512)."""
    from ..training.loss import encoder_max_tokens

    try:
        return encoder_max_tokens(encoder)
    except ValueError as exc:
        raise ExportInputError("path", str(exc)) from None


def sample_inputs(tokenizer: Any, window: int) -> dict[str, Any]:
    """SAMPLE_CODE tokenized as the loss tokenizes ground truth (loss.encode_ground_truth: no
    special tokens, cut at the window), right-padded into one batch."""
    from ..training.loss import encode_ground_truth

    return encode_ground_truth(tokenizer, list(SAMPLE_CODE), window)


def encoder_info(encoder: Any, config: Any, tokenizer: Any, window: int) -> dict[str, Any]:
    limit = int(config.max_position_embeddings)
    return {
        "modelType": config.model_type,
        "hiddenSize": int(config.hidden_size),
        "maxPositionEmbeddings": limit,
        "maxPositions": window,
        "positionOffset": limit - window,
        "vocabSize": int(config.vocab_size),
        "padTokenId": tokenizer.pad_token_id,
        "clsTokenId": tokenizer.cls_token_id,
        "sepTokenId": tokenizer.sep_token_id,
        "parameters": sum(p.numel() for p in encoder.parameters()),
    }


# --- ONNX -----------------------------------------------------------------------------------


def last_hidden_state_module(encoder: Any) -> Any:
    """The encoder with the ONNX model's signature: (input_ids, attention_mask) ->
    last_hidden_state. In eval mode: a new Module starts in training mode, and the exporter puts
    the modules back in the mode it found them in, which would turn the encoder's dropout on."""
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    return LastHiddenState(encoder).eval()


def export_graph(
    encoder: Any, samples: dict[str, Any], folder: Path, opset: int, exporter: str
) -> Path:
    """Write ``folder/model.onnx`` (and any external weight files beside it). The samples are
    padded (their mask has zeros), so nothing that depends on the mask is traced as if every
    token were real."""
    import torch

    folder.mkdir()
    path = folder / MODEL_FILE
    module = last_hidden_state_module(encoder)
    args = (samples["input_ids"], samples["attention_mask"])
    with torch.no_grad():
        if exporter == "torchscript":
            export_torchscript(module, args, path, opset)
        else:
            export_dynamo(module, args, path, opset, parameter_bytes(encoder))
    return path


def export_torchscript(
    module: Any,
    args: tuple[Any, ...],
    path: Path,
    opset: int,
    *,
    input_names: list[str] | None = None,
    output_names: list[str] | None = None,
    dynamic_axes: dict[str, dict[int, str]] | None = None,
    quiet: tuple[type[Warning], ...] = (),
) -> None:
    """The legacy (TorchScript) exporter, by default with the encoder's names and axes; the
    student's export gives its own, and the warning categories its tracing raises (``quiet``)."""
    import torch

    if input_names is None:
        input_names, output_names = list(INPUT_NAMES), [OUTPUT_NAME]
        dynamic_axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUT_NAMES, OUTPUT_NAME)}
    with torch.no_grad(), warnings.catch_warnings():
        # Its deprecation notice, and tracer notes on shape checks; validate() checks the graph
        # on other shapes.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message=".*aten::index.*")
        for category in quiet:
            warnings.simplefilter("ignore", category)
        torch.onnx.export(
            module,
            args,
            str(path),
            dynamo=False,
            input_names=input_names,
            output_names=output_names,
            dynamic_axes=dynamic_axes,
            opset_version=opset,
            do_constant_folding=True,
        )


# Above this, weights go to a file beside model.onnx: a protobuf holds at most 2 GiB.
EXTERNAL_DATA_BYTES = 1 << 30


def export_dynamo(
    module: Any, args: tuple[Any, ...], path: Path, opset: int, weight_bytes: int
) -> None:
    import torch

    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    shapes = {name: {0: batch, 1: sequence} for name in INPUT_NAMES}
    # The dynamo exporter prints its progress with print(); stdout may be the protocol's or the
    # CLI's JSON. Its notes that both inputs share the axis names are what is meant.
    with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*The axis name.*will not be used")
        warnings.filterwarnings("ignore", category=FutureWarning, message=".*LeafSpec.*")
        torch.onnx.export(
            module,
            args,
            str(path),
            dynamo=True,
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_shapes=shapes,
            opset_version=opset,
            external_data=weight_bytes > EXTERNAL_DATA_BYTES,
        )


def parameter_bytes(encoder: Any) -> int:
    return sum(p.numel() * p.element_size() for p in encoder.parameters())


def quantize_int8(model: Path, folder: Path, **options: Any) -> Path:
    """onnxruntime's dynamic quantization: int8 weights, activations quantized per call.

    MatMulConstBOnly: only products with a weight are quantized; attention's query-key and
    weights-value products (both activations) stay float32, where per-call activation scales
    would cost the most accuracy for the least time. Embedding lookups (Gather) are quantized
    too: they are a third of a RoBERTa-base's weights. ``options`` go to quantize_dynamic (the
    student's export narrows the operators)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder.mkdir()
    path = folder / MODEL_FILE
    chatter = QuantizerChatter()
    logging.getLogger().addFilter(chatter)
    try:
        quantize_dynamic(
            str(model),
            str(path),
            weight_type=QuantType.QInt8,
            extra_options={"MatMulConstBOnly": True},
            **options,
        )
    finally:
        logging.getLogger().removeFilter(chatter)
    return path


class QuantizerChatter(logging.Filter):
    """What quantize_dynamic logs on the root logger and a user has no use for: a line per tensor
    it leaves alone (info), and the advice to run quant_pre_process first. Not for this graph: on
    a RoBERTa-base on 2 cores the pre-processed int8 model embedded 256 tokens no faster (p50
    104 ms against 101 ms)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return False
        return "pre-processing before quantization" not in record.getMessage()


def validate(encoder: Any, model: Path, samples: dict[str, Any]) -> dict[str, Any]:
    """onnxruntime on ``model`` against PyTorch on ``encoder``, on the samples as one padded
    batch and one at a time: the largest absolute difference of last_hidden_state over the real
    tokens, and the lowest cosine of the pooled embeddings (loss.mean_pool)."""
    import numpy as np
    import onnxruntime as ort
    import torch

    from ..training.loss import mean_pool

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    max_diff, min_cosine = 0.0, 1.0
    for ids, mask in sample_batches(samples):
        with torch.no_grad():
            expected = encoder(input_ids=ids, attention_mask=mask).last_hidden_state.float()
        feeds = {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
        (got,) = session.run([OUTPUT_NAME], feeds)
        got = torch.from_numpy(np.asarray(got, dtype=np.float32))
        real = mask.bool().unsqueeze(-1)
        max_diff = max(max_diff, float(((got - expected).abs() * real).max()))
        cos = torch.nn.functional.cosine_similarity(mean_pool(got, mask), mean_pool(expected, mask))
        min_cosine = min(min_cosine, float(cos.min()))
    return {
        "maxAbsDiff": max_diff,
        "minCosine": min_cosine,
        "samples": len(SAMPLE_CODE),
        "tokens": [int(n) for n in samples["attention_mask"].sum(dim=1)],
    }


def sample_batches(samples: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    """The padded batch, then each sample alone at its own length: other shapes than the one
    traced, and no padding at all."""
    ids, mask = samples["input_ids"], samples["attention_mask"]
    yield ids, mask
    for row in range(ids.shape[0]):
        length = int(mask[row].sum())
        yield ids[row : row + 1, :length].contiguous(), mask[row : row + 1, :length].contiguous()


def check_validation(validation: dict[str, Any], quantize: str | None) -> None:
    diff, cosine = validation["maxAbsDiff"], validation["minCosine"]
    if not (math.isfinite(diff) and math.isfinite(cosine)):
        raise ExportValidationError(f"the ONNX model gives non-finite values (max |diff| {diff})")
    if quantize is None and diff > FLOAT32_TOLERANCE:
        raise ExportValidationError(
            f"the float32 ONNX model does not reproduce PyTorch: max |diff| of "
            f"last_hidden_state {diff:.3g} > {FLOAT32_TOLERANCE} (lowest cosine {cosine:.6f})"
        )
    if quantize is not None and cosine < INT8_COSINE_WARNING:
        log.warning(
            "int8 model: lowest cosine to PyTorch %.4f (below %s); float32 keeps the loss's values",
            cosine,
            INT8_COSINE_WARNING,
        )


# --- the folder -----------------------------------------------------------------------------


def move_model(folder: Path, out_dir: Path) -> list[str]:
    """Move model.onnx (and any external weight files) from the work folder into out_dir,
    model.onnx last, so a reader never finds a new model.onnx without its weights. The old
    export.json goes first: it is written last, once everything it describes is in place."""
    (out_dir / EXPORT_FILE).unlink(missing_ok=True)
    names = sorted(p.name for p in folder.iterdir() if p.name != MODEL_FILE)
    for name in [*names, MODEL_FILE]:
        (folder / name).replace(out_dir / name)
    return [MODEL_FILE, *names]


def write_tokenizer(tokenizer: Any, out_dir: Path) -> list[str]:
    """tokenizer.json and tokenizer_config.json as transformers saves the fast tokenizer (a
    folder with only vocab.json and merges.txt, as CodeBERT's, gets its tokenizer.json here).
    Without truncation and padding: tokenizing the samples the loss's way set both on the
    backend tokenizer, and save_pretrained would write them into tokenizer.json; the editor
    splits long code into windows itself and never pads."""
    tokenizer.backend_tokenizer.no_truncation()
    tokenizer.backend_tokenizer.no_padding()
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".tokenizer-") as work:
        tokenizer.save_pretrained(work)
        for name in TOKENIZER_FILES:
            saved = Path(work) / name
            if not saved.is_file():
                raise ExportInputError("path", f"its tokenizer saved no {name}")
            saved.replace(out_dir / name)
    return list(TOKENIZER_FILES)


def copy_config(source: Path, out_dir: Path) -> list[str]:
    shutil.copyfile(source / CONFIG_FILE, out_dir / CONFIG_FILE)
    return [CONFIG_FILE]


def export_record(
    request: EncoderExportRequest,
    source: Path,
    exporter: str,
    info: dict[str, Any],
    validation: dict[str, Any],
    files: list[str],
) -> dict[str, Any]:
    """export.json: everything the editor needs besides the model and tokenizer, and what a
    person needs to tell two exports apart."""
    from ..env import installed_version

    return {
        "format": EXPORT_FORMAT,
        "source": str(source),
        "createdAt": utc_now(),
        "quantize": request.quantize,
        "opset": request.opset,
        "exporter": exporter,
        "inputs": list(INPUT_NAMES),
        "output": OUTPUT_NAME,
        **info,
        # How the loss embeds code (module docstring); the editor does the same.
        "embedding": {
            "pooling": "mean",
            "specialTokens": False,
            "window": info["maxPositions"],
            "longerText": "token-weighted mean of the windows",
        },
        "validation": validation,
        "files": files,
        "versions": {
            "codistill": __version__,
            **{name: installed_version(name) for name in ("torch", "transformers", "onnxruntime")},
        },
    }
