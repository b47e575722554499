"""The encoder/export and export/onnx methods of the sidecar protocol.

``encoder/export`` writes the structural loss's encoder (export/encoder.py); ``export/onnx`` the
student, its LoRA adapter merged, as an ONNX decoder with a key/value cache (export/decoder.py:
params {model, outDir?, adapter?, runDir?, dtype?, quantize?, opset?}, the result the CLI
``python -m codistill export onnx`` prints).

Both answer -32602 naming the parameter when an input is unusable (a missing folder, a folder
that is not an encoder or not a causal LM, an adapter for another base), -32800 when cancelled
between the export's phases (the folder's model.onnx is then left as it was), and -32603 when the
ONNX model does not reproduce PyTorch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .. import protocol
from ..dispatch import CancelToken, MethodRegistry, RequestCancelled, RpcError, invalid_param

log = logging.getLogger("codistill.export")


def run_export(method: str, subject: Any, export: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """An export's result, its errors as the protocol's: the parameter named, -32603 when the
    model does not reproduce PyTorch, -32800 when cancelled between phases."""
    from .encoder import ExportCancelled, ExportInputError, ExportValidationError

    try:
        return export()
    except ExportInputError as exc:
        raise invalid_param(exc.field, exc.reason) from None
    except ExportValidationError as exc:
        raise RpcError(protocol.INTERNAL_ERROR, f"{method}: {exc}") from None
    except ExportCancelled:
        log.info("%s of %s cancelled", method, subject)
        raise RequestCancelled() from None


def encoder_export(params: dict[str, Any], token: CancelToken) -> dict[str, Any]:
    from .encoder import EncoderExportRequest, export_encoder

    request = EncoderExportRequest.from_params(params)
    return run_export(
        "encoder/export",
        request.path,
        lambda: export_encoder(request, cancelled=lambda: token.is_cancelled),
    )


def export_onnx(params: dict[str, Any], token: CancelToken) -> dict[str, Any]:
    from .decoder import DecoderExportRequest, export_decoder

    request = DecoderExportRequest.from_params(params)
    return run_export(
        "export/onnx",
        request.model,
        lambda: export_decoder(request, cancel=lambda: token.is_cancelled),
    )


def register_export_methods(registry: MethodRegistry) -> None:
    registry.register("encoder/export", encoder_export)
    registry.register("export/onnx", export_onnx)
