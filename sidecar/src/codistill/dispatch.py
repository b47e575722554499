"""Method registry, cancellation tokens and the error type handlers raise.

Later features (train/*, eval/*, export/*, generate/*) add themselves by registering a method:
a params validator plus a ``handler(params, token)`` that returns the JSON result.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from . import protocol


class RequestCancelled(Exception):
    """Raised inside a handler when the client cancelled its request; answered with -32800."""


Notify = Callable[[str, Any], None]


def _drop_notification(method: str, params: Any) -> None:
    # Tokens made outside the server (tests, the CLI) have no client to tell.
    return None


class CancelToken:
    """What a handler gets besides its params: a cancellation flag that long work polls or sleeps
    on, the id of the request it serves (``None`` for notifications), and ``notify`` to send the
    client notifications while it works (progress that names ``request_id``)."""

    __slots__ = ("_event", "request_id", "_notify")

    def __init__(self, request_id: Any = None, notify: Notify | None = None) -> None:
        self._event = threading.Event()
        self.request_id = request_id
        self._notify = notify or _drop_notification

    def cancel(self) -> None:
        self._event.set()

    @property
    def is_cancelled(self) -> bool:
        return self._event.is_set()

    @property
    def event(self) -> threading.Event:
        """The underlying event, for APIs that take a ``threading.Event`` to stop on."""
        return self._event

    def notify(self, method: str, params: Any = None) -> None:
        """Send a notification to the client. Safe from any thread: the server writes each
        message whole, so it never interleaves with a response or another notification."""
        self._notify(method, params)

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking early on cancel. Returns whether it was cancelled."""
        # Event.wait overflows on absurd timeouts; a client may legitimately ask for a huge one.
        return self._event.wait(min(max(seconds, 0.0), threading.TIMEOUT_MAX))

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise RequestCancelled()


class RpcError(Exception):
    """A handler's way to answer with a specific JSON-RPC error instead of -32603."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_response(self, request_id: Any) -> dict[str, Any]:
        return protocol.error_response(request_id, self.code, self.message, self.data)


def invalid_param(field: str, reason: str) -> RpcError:
    """-32602 naming the parameter (``field`` is under params: "model", "prompt.kind")."""
    problem = f"params.{field}: {reason}"
    return RpcError(protocol.INVALID_PARAMS, f"Invalid params: {problem}", {"problems": [problem]})


Handler = Callable[[Any, CancelToken], Any]


@dataclass(frozen=True)
class Method:
    name: str
    handler: Handler
    validate_params: protocol.ParamsValidator
    # Notification-only methods ($/cancelRequest) run on the reader thread and never answer.
    notification: bool = False
    # Run on the reader thread instead of the pool: for methods that change the server's own
    # state (shutdown) and must take effect before the next line is read.
    inline: bool = False


def _accept_any_params(params: Any) -> protocol.Problems:
    return []


class MethodRegistry:
    def __init__(self) -> None:
        self._methods: dict[str, Method] = {}
        self._lock = threading.Lock()

    def register(
        self,
        name: str,
        handler: Handler,
        validate_params: protocol.ParamsValidator | None = None,
        *,
        notification: bool = False,
        inline: bool = False,
    ) -> Method:
        """Add a method. Without a validator, the one in ``protocol.PARAMS_VALIDATORS`` is used
        when there is one, else any params are accepted."""
        if not isinstance(name, str) or not name:
            raise ValueError("method name must be a non-empty string")
        if validate_params is None:
            validate_params = protocol.PARAMS_VALIDATORS.get(name, _accept_any_params)
        method = Method(name, handler, validate_params, notification, inline)
        with self._lock:
            if name in self._methods:
                raise ValueError(f"method {name!r} is already registered")
            self._methods[name] = method
        return method

    def get(self, name: str) -> Method | None:
        return self._methods.get(name)

    def names(self) -> list[str]:
        return sorted(self._methods)

    def copy(self) -> MethodRegistry:
        clone = MethodRegistry()
        clone._methods = dict(self._methods)
        return clone

    def __contains__(self, name: object) -> bool:
        return name in self._methods

    def __iter__(self) -> Iterator[Method]:
        return iter(list(self._methods.values()))
