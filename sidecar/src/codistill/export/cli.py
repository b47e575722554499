"""``python -m codistill export encoder``: the encoder/export method without the editor, and
``python -m codistill export onnx``: the student (its LoRA adapter merged) as an ONNX decoder.

`encoder` builds the params the extension sends, checks them with the protocol's own validator,
and calls the same function as the RPC handler; `onnx` builds a DecoderExportRequest the same
way the export/onnx handler does (export/decoder.py checks it). The result object is printed
to stdout as JSON, progress and errors go to stderr (exit code 2 for an unusable input, 1 when
the model does not reproduce PyTorch).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from .. import protocol
from ..cliargs import add_command

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def encoder_params(args: argparse.Namespace) -> dict[str, Any]:
    """Params as the extension would send them: options not given are absent."""
    params: dict[str, Any] = {"path": args.model, "outDir": args.out}
    if args.quantize != "none":
        params["quantize"] = args.quantize
    if args.opset is not None:
        params["opset"] = args.opset
    return params


def fail(message: str, code: int, command: str = "encoder") -> int:
    print(f"codistill export {command}: {message}", file=sys.stderr)
    return code


def run_export(command: str, export: Callable[[], dict[str, Any]]) -> int:
    """Runs an export, prints its result as JSON, and turns its errors into the exit codes."""
    from .encoder import ExportCancelled, ExportInputError, ExportValidationError

    try:
        result = export()
    except ExportInputError as exc:
        return fail(str(exc), EXIT_BAD_INPUT, command)
    except ExportValidationError as exc:
        return fail(str(exc), EXIT_FAILED, command)
    except (ExportCancelled, KeyboardInterrupt):
        return fail("interrupted; the folder's model.onnx is as it was", EXIT_INTERRUPTED, command)
    print(json.dumps(result, indent=1))
    return 0


def run_encoder(args: argparse.Namespace) -> int:
    from .encoder import EncoderExportRequest, export_encoder

    params = encoder_params(args)
    problems = protocol.validate_params("encoder/export", params)
    if problems:
        for problem in problems:
            fail(problem, EXIT_BAD_INPUT)
        return EXIT_BAD_INPUT
    return run_export("encoder", lambda: export_encoder(EncoderExportRequest.from_params(params)))


def add_encoder_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        required=True,
        metavar="DIR",
        help="local Hugging Face encoder folder (CodeBERT or another encoder)",
    )
    parser.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="folder for model.onnx, tokenizer.json, tokenizer_config.json, "
        "config.json and export.json (created when missing)",
    )
    parser.add_argument(
        "--quantize",
        choices=("none", *protocol.ENCODER_QUANTIZATIONS),
        default="none",
        help="int8: onnxruntime's dynamic quantization of the weights (default none: float32)",
    )
    parser.add_argument("--opset", type=int, default=None, help="ONNX opset (default 17)")


def add_encoder_command(subparsers: argparse._SubParsersAction) -> None:
    add_command(
        subparsers,
        "encoder",
        run_encoder,
        add_encoder_options,
        help="export the structural loss's encoder to ONNX for the editor's embeddings",
        description="Export an encoder folder to ONNX with its tokenizer.json (OUT/model.onnx, "
        "input_ids + attention_mask -> last_hidden_state), validated against PyTorch, as the "
        "encoder/export method does; prints the result as JSON.",
    )


def decoder_params(args: argparse.Namespace) -> dict[str, Any]:
    """Params as an export/onnx request would carry them: options not given are absent."""
    params: dict[str, Any] = {"model": args.model, "dtype": args.dtype}
    for key, value in (("adapter", args.adapter), ("runDir", args.run_dir), ("outDir", args.out)):
        if value is not None:
            params[key] = value
    if args.quantize != "none":
        params["quantize"] = args.quantize
    if args.opset is not None:
        params["opset"] = args.opset
    return params


def run_decoder(args: argparse.Namespace) -> int:
    from .decoder import DecoderExportRequest, export_decoder

    params = decoder_params(args)
    return run_export("onnx", lambda: export_decoder(DecoderExportRequest.from_params(params)))


def add_decoder_options(parser: argparse.ArgumentParser) -> None:
    from .decoder import DTYPES, QUANTIZATIONS

    parser.add_argument(
        "--model",
        required=True,
        metavar="DIR",
        help="local Hugging Face causal LM folder (the base)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--adapter", metavar="DIR", default=None, help="PEFT LoRA adapter folder to merge in"
    )
    source.add_argument(
        "--run",
        # Not "run": add_command's set_defaults(run=...) is the function main() calls.
        dest="run_dir",
        metavar="RUN_DIR",
        default=None,
        help="training run folder: merge RUN_DIR/adapter, write to RUN_DIR/onnx unless --out",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="folder for model.onnx, the tokenizer files, config.json, generation_config.json "
        "and export.json (created when missing; required without --run)",
    )
    parser.add_argument(
        "--dtype", choices=DTYPES, default="fp32", help="weights' float type (default fp32)"
    )
    parser.add_argument(
        "--quantize",
        choices=("none", *QUANTIZATIONS),
        default="none",
        help="int8: onnxruntime's dynamic quantization; int4: blockwise MatMulNBits (default none)",
    )
    parser.add_argument("--opset", type=int, default=None, help="ONNX opset (default 17)")


def add_decoder_command(subparsers: argparse._SubParsersAction) -> None:
    add_command(
        subparsers,
        "onnx",
        run_decoder,
        add_decoder_options,
        help="export the student (LoRA adapter merged) to ONNX for the editor's generation",
        description="Export a causal LM folder, with a LoRA adapter merged in, to ONNX with "
        "past key/values in and presents out (Optimum's layout), validated against PyTorch; "
        "prints the result as JSON.",
    )


def add_export_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export models to ONNX for the editor",
        description="Export: `encoder` writes the structural loss's encoder as ONNX, `onnx` the "
        "student as an ONNX decoder with a key/value cache.",
    )
    commands = parser.add_subparsers(dest="export_command", metavar="COMMAND", required=True)
    add_encoder_command(commands)
    add_decoder_command(commands)
