"""``python -m codistill export encoder``: the encoder/export method without the editor.

It builds the params the extension sends, checks them with the protocol's own validator, and
calls the same function as the RPC handler; the result object is printed to stdout as JSON,
progress and errors go to stderr (exit code 2 for an unusable input).
"""

from __future__ import annotations

import argparse
import json
import sys
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


def fail(message: str, code: int) -> int:
    print(f"codistill export encoder: {message}", file=sys.stderr)
    return code


def run_encoder(args: argparse.Namespace) -> int:
    from .encoder import (
        EncoderExportRequest,
        ExportCancelled,
        ExportInputError,
        ExportValidationError,
        export_encoder,
    )

    params = encoder_params(args)
    problems = protocol.validate_params("encoder/export", params)
    if problems:
        for problem in problems:
            fail(problem, EXIT_BAD_INPUT)
        return EXIT_BAD_INPUT
    try:
        result = export_encoder(EncoderExportRequest.from_params(params))
    except ExportInputError as exc:
        return fail(str(exc), EXIT_BAD_INPUT)
    except ExportValidationError as exc:
        return fail(str(exc), EXIT_FAILED)
    except (ExportCancelled, KeyboardInterrupt):
        return fail("interrupted; the folder's model.onnx is as it was", EXIT_INTERRUPTED)
    print(json.dumps(result, indent=1))
    return 0


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


def add_export_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export models to ONNX for the editor",
        description="Export: `encoder` writes the structural loss's encoder as ONNX.",
    )
    commands = parser.add_subparsers(dest="export_command", metavar="COMMAND", required=True)
    add_encoder_command(commands)
