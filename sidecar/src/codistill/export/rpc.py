"""The encoder/export method of the sidecar protocol.

Answers -32602 naming the parameter when an input is unusable (a missing folder, a folder that
is not an encoder), -32800 when cancelled between the export's phases (the folder's model.onnx is
then left as it was), and -32603 when the float32 model does not reproduce PyTorch.
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


def register_export_methods(registry: MethodRegistry) -> None:
    registry.register("encoder/export", encoder_export)
