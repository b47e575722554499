"""JSON-RPC 2.0 server on stdin/stdout, one compact JSON object per line.

The reader (main) thread parses each line and hands requests to a small thread pool, so a slow
request never holds up a fast one or a ``$/cancelRequest``. Responses are written whole under a
lock. Stdout is reserved for protocol messages: ``stdio.take_over_stdio`` moves the real stdout
to a private descriptor and points descriptor 1 at stderr, so stray prints, C extensions and
child processes cannot corrupt the stream.

Extra methods are added with ``register_method`` before ``serve`` runs.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

from . import __version__, protocol
from .dispatch import CancelToken, Method, MethodRegistry, RequestCancelled, RpcError
from .evaluation.rpc import register_eval_methods
from .execution.rpc import register_sandbox_methods
from .generation.rpc import register_generate_methods, stop_generations
from .methods import register_core_methods
from .stdio import take_over_stdio
from .training.rpc import register_train_methods, stop_training_runs

log = logging.getLogger("codistill.server")

DEFAULT_MAX_WORKERS = 8
# How long in-flight requests get to notice cancellation at exit before the process leaves
# without them; the extension waits a few seconds for the sidecar to go.
DEFAULT_SHUTDOWN_GRACE_S = 3.0

METHODS = MethodRegistry()
register_core_methods(METHODS)
register_eval_methods(METHODS)
register_sandbox_methods(METHODS)
register_train_methods(METHODS)
register_generate_methods(METHODS)

#: Work that outlives its request (a training run) and must wind down when the server exits:
#: called with the exit deadline (``time.monotonic()``), returns whether it finished in time.
ExitHook = Callable[[float], bool]
EXIT_HOOKS: list[ExitHook] = [stop_training_runs, stop_generations]


#: Adds a method to the registry the ``serve`` command uses.
register_method = METHODS.register


# ---------------------------------------------------------------------------------------------
# Encoding and decoding


class MessageParseError(ValueError):
    pass


def _reject_non_json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_line(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MessageParseError(f"invalid UTF-8 at byte {exc.start}: {exc.reason}") from None
    try:
        return json.loads(text, parse_constant=_reject_non_json_constant)
    except RecursionError:
        raise MessageParseError("JSON nested too deeply") from None
    except ValueError as exc:
        raise MessageParseError(str(exc)) from None


def encode_message(message: Any) -> bytes:
    """Compact UTF-8 JSON plus newline. Raises TypeError/ValueError for unencodable values."""
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (say, from an undecodable file name) have no UTF-8 form; \u escapes do.
        return (json.dumps(message, separators=(",", ":"), allow_nan=False) + "\n").encode("ascii")


class MessageWriter:
    """Writes whole messages to a file descriptor; safe to call from any thread."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]


def internal_error_response(request_id: Any, exc: BaseException) -> dict[str, Any]:
    return protocol.error_response(
        request_id,
        protocol.INTERNAL_ERROR,
        f"Internal error: {type(exc).__name__}: {exc}",
        {"type": type(exc).__name__, "traceback": "".join(traceback.format_exception(exc))},
    )


def cancelled_response(request_id: Any) -> dict[str, Any]:
    return protocol.error_response(request_id, protocol.REQUEST_CANCELLED, "Request cancelled")


# ---------------------------------------------------------------------------------------------
# The server


class _StopReading(BaseException):
    """Raised by the signal handler to break out of a blocking read of stdin."""


class Server:
    def __init__(
        self,
        registry: MethodRegistry,
        reader: BinaryIO,
        writer: MessageWriter,
        *,
        max_workers: int = DEFAULT_MAX_WORKERS,
        shutdown_grace_s: float = DEFAULT_SHUTDOWN_GRACE_S,
        exit_hooks: Sequence[ExitHook] = (),
    ) -> None:
        self._methods = registry.copy()
        self._exit_hooks = list(exit_hooks)
        self._methods.register(
            protocol.CANCEL_REQUEST_METHOD, self._cancel_request, notification=True
        )
        self._methods.register("shutdown", self._shutdown, inline=True)
        self._reader = reader
        self._writer = writer
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="codistill-rpc")
        self._shutdown_grace_s = shutdown_grace_s
        # Request id -> token for requests queued or running. Notifications run in the pool are
        # tracked under a private key so exit can cancel and wait for them too.
        self._in_flight: dict[Any, CancelToken] = {}
        self._in_flight_changed = threading.Condition()
        self._stop = threading.Event()
        self._reading = False

    # -- lifecycle -------------------------------------------------------------------------

    def serve_forever(self) -> bool:
        """Read and dispatch until shutdown, EOF or stop. Returns whether all work finished."""
        try:
            while True:
                line = self._read_line()
                if line is None:
                    break
                self._handle_line(line)
        except _StopReading:
            pass
        return self._finish()

    def request_stop(self) -> None:
        """Stop reading; called from a signal handler, so it only sets a flag."""
        self._stop.set()

    def interrupt_if_reading(self) -> None:
        # Only a blocked read may be broken by an exception: anywhere else it could cut a
        # response in half, and the loop checks the stop flag before its next read anyway.
        if self._reading:
            raise _StopReading()

    def _read_line(self) -> bytes | None:
        self._reading = True
        try:
            if self._stop.is_set():
                return None
            line = self._reader.readline()
        finally:
            self._reading = False
        if not line:
            log.info("stdin closed; exiting")
            return None
        return line

    def _finish(self) -> bool:
        self._stop.set()
        deadline = time.monotonic() + self._shutdown_grace_s
        with self._in_flight_changed:
            tokens = list(self._in_flight.values())
        if tokens:
            log.info("cancelling %d request(s) still in progress", len(tokens))
        for token in tokens:
            token.cancel()
        # Queued requests still run: they see their cancelled token and answer -32800 at once.
        self._pool.shutdown(wait=False)
        hooks_done = True
        for hook in self._exit_hooks:
            try:
                hooks_done = hook(deadline) and hooks_done
            except Exception:
                log.exception("exit hook %r failed", hook)
                hooks_done = False
        with self._in_flight_changed:
            drained = self._in_flight_changed.wait_for(
                lambda: not self._in_flight, timeout=max(0.0, deadline - time.monotonic())
            )
        if drained:
            self._pool.shutdown(wait=True)
        else:
            log.warning(
                "%d request(s) ignored cancellation for %.1f s; exiting without them",
                len(self._in_flight),
                self._shutdown_grace_s,
            )
        return drained and hooks_done

    # -- reading -----------------------------------------------------------------------------

    def _handle_line(self, raw: bytes) -> None:
        if not raw.strip():
            return
        try:
            message = parse_line(raw)
        except MessageParseError as exc:
            log.warning("unparseable input line: %s", exc)
            self._send(protocol.error_response(None, protocol.PARSE_ERROR, f"Parse error: {exc}"))
            return
        problems = protocol.validate_envelope_to_server(message)
        if problems:
            self._reject_invalid_request(message, problems)
        elif protocol.is_notification(message):
            self._handle_notification(message["method"], message.get("params"))
        else:
            self._handle_request(message["id"], message["method"], message.get("params"))

    def _reject_invalid_request(self, message: Any, problems: list[str]) -> None:
        request_id = message.get("id") if isinstance(message, dict) else None
        if not protocol.is_request_id(request_id):
            request_id = None
        if isinstance(message, list):
            text = "Invalid Request: batches are not supported; send one JSON object per line"
        else:
            text = "Invalid Request: " + "; ".join(problems)
        log.warning("%s", text)
        self._send(
            protocol.error_response(
                request_id, protocol.INVALID_REQUEST, text, {"problems": problems}
            )
        )

    def _handle_request(self, request_id: Any, name: str, params: Any) -> None:
        method = self._methods.get(name)
        if method is None:
            self._send_error(
                request_id, protocol.METHOD_NOT_FOUND, f"Method not found: {name}", {"method": name}
            )
            return
        if method.notification:
            self._send_error(
                request_id,
                protocol.INVALID_REQUEST,
                f"Invalid Request: {name} is a notification and must not carry an id",
            )
            return
        problems = method.validate_params(params)
        if problems:
            self._send_error(
                request_id,
                protocol.INVALID_PARAMS,
                "Invalid params: " + "; ".join(problems),
                {"problems": problems},
            )
            return
        token = self._track(request_id, request_id=request_id)
        if token is None:
            self._send_error(
                request_id,
                protocol.INVALID_REQUEST,
                f"Invalid Request: id {json.dumps(request_id)} belongs to a request in progress",
            )
            return
        log.debug("-> %s (id %s)", name, request_id)
        if method.inline:
            self._run_request(method, request_id, params, token)
        else:
            self._pool.submit(self._run_request, method, request_id, params, token)

    def _handle_notification(self, name: str, params: Any) -> None:
        method = self._methods.get(name)
        if method is None:
            # LSP convention: "$/" notifications are optional and may be ignored quietly.
            level = logging.DEBUG if name.startswith("$/") else logging.WARNING
            log.log(level, "ignoring notification for unknown method %s", name)
            return
        problems = method.validate_params(params)
        if problems:
            log.warning("ignoring invalid %s notification: %s", name, "; ".join(problems))
            return
        if method.notification or method.inline:
            self._run_notification(method, params, CancelToken(notify=self.send_notification))
            return
        key = object()
        token = self._track(key, request_id=None)
        self._pool.submit(self._run_notification, method, params, token, key)

    # -- running ---------------------------------------------------------------------------

    def _track(self, key: Any, request_id: Any) -> CancelToken | None:
        token = CancelToken(request_id, notify=self.send_notification)
        with self._in_flight_changed:
            if key in self._in_flight:
                return None
            self._in_flight[key] = token
        return token

    def _untrack(self, key: Any) -> None:
        with self._in_flight_changed:
            self._in_flight.pop(key, None)
            self._in_flight_changed.notify_all()

    def _run_request(
        self, method: Method, request_id: Any, params: Any, token: CancelToken
    ) -> None:
        started = time.perf_counter()
        response = self._call_handler(method, request_id, params, token)
        # Free the id before answering: the client may reuse it as soon as it has the answer.
        self._untrack(request_id)
        self._send(response)
        log.debug(
            "<- %s (id %s) in %.1f ms",
            method.name,
            request_id,
            (time.perf_counter() - started) * 1e3,
        )

    def _call_handler(
        self, method: Method, request_id: Any, params: Any, token: CancelToken
    ) -> dict[str, Any]:
        try:
            token.raise_if_cancelled()
            return protocol.success_response(request_id, method.handler(params, token))
        except RequestCancelled:
            log.info("%s (id %s) cancelled", method.name, request_id)
            return cancelled_response(request_id)
        except RpcError as exc:
            log.info(
                "%s (id %s) answered error %d: %s", method.name, request_id, exc.code, exc.message
            )
            return exc.to_response(request_id)
        except Exception as exc:
            log.exception("%s (id %s) failed", method.name, request_id)
            return internal_error_response(request_id, exc)

    def _run_notification(
        self, method: Method, params: Any, token: CancelToken, key: Any = None
    ) -> None:
        try:
            method.handler(params, token)
        except RequestCancelled:
            log.debug("%s notification cancelled", method.name)
        except Exception:
            log.exception("%s notification failed", method.name)
        finally:
            if key is not None:
                self._untrack(key)

    # -- writing ---------------------------------------------------------------------------

    def _send_error(self, request_id: Any, code: int, message: str, data: Any = None) -> None:
        log.warning("answering id %s with error %d: %s", request_id, code, message)
        self._send(protocol.error_response(request_id, code, message, data))

    def send_notification(self, method: str, params: Any = None) -> None:
        """Handlers reach this through ``token.notify``, from any thread. A notification that
        cannot be encoded is dropped with a log line: it has no id to answer an error to."""
        try:
            data = encode_message(protocol.notification(method, params))
        except (TypeError, ValueError):
            log.exception("dropping %s notification: its params are not valid JSON", method)
            return
        self._write(data)

    def _send(self, message: dict[str, Any]) -> None:
        try:
            data = encode_message(message)
        except (TypeError, ValueError) as exc:
            log.exception("the answer to id %s is not valid JSON", message.get("id"))
            data = encode_message(internal_error_response(message.get("id"), exc))
        self._write(data)

    def _write(self, data: bytes) -> None:
        try:
            self._writer.write(data)
        except OSError as exc:
            # The client closed our stdout, so it is gone: stop instead of failing every answer.
            log.error("cannot write to the client (%s); stopping", exc)
            self.request_stop()

    # -- control methods -------------------------------------------------------------------

    def _cancel_request(self, params: dict[str, Any], token: CancelToken) -> None:
        target = params["id"]
        with self._in_flight_changed:
            victim = self._in_flight.get(target)
        if victim is None:
            log.debug("cancel of id %s: no such request in progress", target)
            return
        log.debug("cancelling id %s", target)
        victim.cancel()

    def _shutdown(self, params: Any, token: CancelToken) -> None:
        log.info("shutdown requested")
        self._stop.set()
        return None


# ---------------------------------------------------------------------------------------------
# Process setup


PR_SET_PDEATHSIG = 1
PARENT_PID_ENV = "CODISTILL_PARENT_PID"


def arm_parent_death_signal() -> None:
    """On Linux, have the kernel kill us when the parent dies, even if it never closes stdin."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
            log.debug("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    except (OSError, AttributeError) as exc:
        log.debug("prctl(PR_SET_PDEATHSIG) unavailable: %s", exc)


def parent_is_gone() -> bool:
    """True when the launcher named its pid and we have been re-parented already: the parent
    died before the death signal was armed, so nobody would ever close our stdin."""
    raw = os.environ.get(PARENT_PID_ENV)
    if not raw:
        return False
    try:
        expected = int(raw)
    except ValueError:
        log.warning("%s: expected a process id, got %r; ignoring it", PARENT_PID_ENV, raw)
        return False
    return expected != os.getppid()


def install_signal_handlers(server: Server) -> None:
    def stop(signum: int, frame: Any) -> None:
        log.info("received %s; exiting", signal.Signals(signum).name)
        server.request_stop()
        server.interrupt_if_reading()

    for name in ("SIGTERM", "SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop)


def serve(
    registry: MethodRegistry | None = None,
    *,
    max_workers: int = DEFAULT_MAX_WORKERS,
    shutdown_grace_s: float = DEFAULT_SHUTDOWN_GRACE_S,
) -> int:
    """Run the server on this process's stdio until it is told to stop. Returns the exit code."""
    arm_parent_death_signal()
    if parent_is_gone():
        log.error("parent process %s is gone; exiting", os.environ[PARENT_PID_ENV])
        return 1
    streams = take_over_stdio()
    server = Server(
        registry if registry is not None else METHODS,
        streams.reader,
        MessageWriter(streams.out_fd),
        max_workers=max_workers,
        shutdown_grace_s=shutdown_grace_s,
        exit_hooks=EXIT_HOOKS,
    )
    install_signal_handlers(server)
    log.info(
        "codistill %s serving protocol %s on stdio (pid %d, python %s)",
        __version__,
        protocol.PROTOCOL_VERSION,
        os.getpid(),
        sys.executable,
    )
    if server.serve_forever():
        return 0
    # Threads stuck in handlers would block interpreter exit forever; leave without them.
    logging.shutdown()
    os._exit(0)
