"""The eval/generate and eval/execute methods of the sidecar protocol.

Both report `eval/progress` notifications naming their request id, answer -32800 when cancelled
(keeping what was written), and -32602 naming the parameter when an input is unusable.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from .. import protocol
from ..dispatch import CancelToken, MethodRegistry, RequestCancelled, RpcError, invalid_param
from .common import EvalCancelled, EvalInputError, Progress

log = logging.getLogger("codistill.eval")

# Execution reports every sample; a notification per sample of a 16,400-sample run would flood
# the extension for nothing. Generation reports per batch, so it is rarely held back.
PROGRESS_INTERVAL_S = 0.2


class ProgressNotifier:
    """A Progress callback that sends eval/progress for one request, at most every
    PROGRESS_INTERVAL_S, and always the first and the last step."""

    def __init__(self, token: CancelToken, phase: str, interval_s: float = PROGRESS_INTERVAL_S):
        self._token = token
        self._phase = phase
        self._interval_s = interval_s
        self._last_sent = float("-inf")
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int, message: str) -> None:
        with self._lock:
            now = time.monotonic()
            boundary = done == 0 or done >= total
            if not boundary and now - self._last_sent < self._interval_s:
                return
            self._last_sent = now
            self._token.notify(
                protocol.EVAL_PROGRESS_NOTIFICATION,
                {
                    "requestId": self._token.request_id,
                    "phase": self._phase,
                    "done": done,
                    "total": total,
                    "message": message,
                },
            )


def invalid_input(exc: EvalInputError) -> RpcError:
    return invalid_param(exc.field, exc.reason)


def eval_generate(params: dict[str, Any], token: CancelToken) -> dict[str, Any]:
    from .backends import BackendUnavailable
    from .generate import GenerateRequest, run_generation

    request = GenerateRequest.from_params(params)
    progress: Progress = ProgressNotifier(token, "generate")
    try:
        return run_generation(request, progress, lambda: token.is_cancelled)
    except EvalInputError as exc:
        raise invalid_input(exc) from None
    except BackendUnavailable as exc:
        raise RpcError(
            protocol.BACKEND_UNAVAILABLE, str(exc), {"backend": request.backend}
        ) from None
    except EvalCancelled as exc:
        log.info("eval/generate cancelled after %d of %d samples", exc.done, exc.total)
        raise RequestCancelled() from None


def eval_execute(params: dict[str, Any], token: CancelToken) -> dict[str, Any]:
    from .execute import ExecuteRequest, run_execution

    request = ExecuteRequest.from_params(params)
    try:
        return run_execution(request, ProgressNotifier(token, "execute"), token.event)
    except EvalInputError as exc:
        raise invalid_input(exc) from None
    except EvalCancelled as exc:
        log.info("eval/execute cancelled after %d of %d samples", exc.done, exc.total)
        raise RequestCancelled() from None


def register_eval_methods(registry: MethodRegistry) -> None:
    registry.register("eval/generate", eval_generate)
    registry.register("eval/execute", eval_execute)
