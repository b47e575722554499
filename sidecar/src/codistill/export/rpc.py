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
from typing import Any

from .. import protocol
from ..dispatch import CancelToken, MethodRegistry, RequestCancelled, RpcError

log = logging.getLogger("codistill.export")


def invalid_input(field: str, reason: str) -> RpcError:
    problem = f"params.{field}: {reason}"
    return RpcError(protocol.INVALID_PARAMS, f"Invalid params: {problem}", {"problems": [problem]})


def encoder_export(params: dict[str, Any], token: CancelToken) -> dict[str, Any]:
    from .encoder import (
        EncoderExportRequest,
        ExportCancelled,
        ExportInputError,
        ExportValidationError,
        export_encoder,
    )

    request = EncoderExportRequest.from_params(params)
    try:
        return export_encoder(request, cancelled=lambda: token.is_cancelled)
    except ExportInputError as exc:
        raise invalid_input(exc.field, exc.reason) from None
    except ExportValidationError as exc:
        raise RpcError(protocol.INTERNAL_ERROR, f"encoder/export: {exc}") from None
    except ExportCancelled:
        log.info("encoder/export of %s cancelled", request.path)
        raise RequestCancelled() from None


def export_onnx(params: dict[str, Any], token: CancelToken) -> dict[str, Any]:
    from .decoder import DecoderExportRequest, export_decoder
    from .encoder import ExportCancelled, ExportInputError, ExportValidationError

    request = DecoderExportRequest.from_params(params)
    try:
        return export_decoder(request, cancel=lambda: token.is_cancelled)
    except ExportInputError as exc:
        raise invalid_input(exc.field, exc.reason) from None
    except ExportValidationError as exc:
        raise RpcError(protocol.INTERNAL_ERROR, f"export/onnx: {exc}") from None
    except ExportCancelled:
        log.info("export/onnx of %s cancelled", request.model)
        raise RequestCancelled() from None


def register_export_methods(registry: MethodRegistry) -> None:
    registry.register("encoder/export", encoder_export)
    registry.register("export/onnx", export_onnx)
