"""Handlers of the core methods that need nothing from the server's own state."""

from __future__ import annotations

import os
from typing import Any

from . import __version__, env, protocol
from .dispatch import CancelToken, MethodRegistry, RequestCancelled, RpcError
from .export.rpc import register_export_methods


def initialize(params: dict[str, Any], token: CancelToken) -> dict[str, Any]:
    client_version = params["protocolVersion"]
    if not protocol.is_supported_protocol_version(client_version):
        raise RpcError(
            protocol.UNSUPPORTED_PROTOCOL_VERSION,
            f"Unsupported protocol version {client_version!r}: "
            f"this sidecar speaks version {protocol.PROTOCOL_VERSION}",
            {"serverProtocolVersion": protocol.PROTOCOL_VERSION},
        )
    packages = env.package_versions()
    # Importing torch for the device probe takes seconds; a client that gave up meanwhile
    # gets its -32800 rather than a stale answer.
    token.raise_if_cancelled()
    devices = env.probe_devices()
    token.raise_if_cancelled()
    return {
        "protocolVersion": protocol.PROTOCOL_VERSION,
        "serverVersion": __version__,
        "pid": os.getpid(),
        "python": env.python_info(),
        "packages": packages,
        "missing": env.missing_packages(packages),
        "devices": devices,
    }


def health_ping(params: dict[str, Any] | None, token: CancelToken) -> dict[str, Any]:
    delay_ms = (params or {}).get("delayMs", 0)
    if delay_ms and token.wait(delay_ms / 1000.0):
        raise RequestCancelled()
    return {"pong": True, "pid": os.getpid()}


def register_core_methods(registry: MethodRegistry) -> None:
    registry.register("initialize", initialize)
    registry.register("health/ping", health_ping)
    # encoder/export needs nothing from the server's state either; the server registers what
    # this function registers.
    register_export_methods(registry)
