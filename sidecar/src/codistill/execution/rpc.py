"""The sandbox/status method: what keeps samples in on this machine, for the status panel.

The kernel's answer does not change while the sidecar runs, so the sandbox is asked once (an
empty sample, run as every sample runs) and the answer kept.
"""

from __future__ import annotations

import threading
from typing import Any

from ..dispatch import CancelToken, MethodRegistry

_probed: dict[str, Any] | None = None
_lock = threading.Lock()


def sandbox_status(params: dict[str, Any] | None, token: CancelToken) -> dict[str, Any]:
    global _probed
    with _lock:
        if _probed is None:
            from .isolation import level_of
            from .sandbox import SandboxOptions, open_executor

            with open_executor(SandboxOptions(workers=1)) as executor:
                _probed = {
                    "isolation": executor.isolation,
                    "level": level_of(executor.isolation),
                    "problems": executor.isolation_problems,
                }
        return dict(_probed)


def register_sandbox_methods(registry: MethodRegistry) -> None:
    registry.register("sandbox/status", sandbox_status)
