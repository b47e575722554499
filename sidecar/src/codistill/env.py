"""What this interpreter can do: Python, training package versions and CUDA devices.

Package versions come from installed metadata, so asking costs no import. Devices need torch,
which is imported only here and only when asked: the server itself must start on a bare Python.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import platform
import sys
from typing import Any

log = logging.getLogger(__name__)

TRAINING_PACKAGES = ("torch", "transformers", "peft")


def python_info() -> dict[str, str]:
    return {"version": platform.python_version(), "executable": sys.executable}


def installed_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def package_versions(names: tuple[str, ...] = TRAINING_PACKAGES) -> dict[str, str | None]:
    return {name: installed_version(name) for name in names}


def missing_packages(versions: dict[str, str | None]) -> list[str]:
    return [name for name, version in versions.items() if version is None]


def probe_devices() -> dict[str, Any]:
    """CUDA availability and every GPU's name and memory, never raising.

    ``error`` explains why the answer may be incomplete (torch absent or broken, driver errors);
    GPUs probed before a failure are still listed.
    """
    devices: dict[str, Any] = {"cuda": False, "cudaVersion": None, "gpus": [], "error": None}
    if importlib.util.find_spec("torch") is None:
        devices["error"] = "torch is not installed"
        return devices
    try:
        import torch
    except Exception as exc:  # a broken install raises OSError, RuntimeError, ... not ImportError
        log.warning("importing torch failed", exc_info=True)
        devices["error"] = f"failed to import torch: {type(exc).__name__}: {exc}"
        return devices
    try:
        devices["cudaVersion"] = torch.version.cuda
        devices["cuda"] = bool(torch.cuda.is_available())
        if devices["cuda"]:
            for index in range(torch.cuda.device_count()):
                devices["gpus"].append(_probe_gpu(torch, index))
    except Exception as exc:
        log.warning("querying CUDA devices failed", exc_info=True)
        devices["error"] = f"CUDA query failed: {type(exc).__name__}: {exc}"
    return devices


def _probe_gpu(torch: Any, index: int) -> dict[str, Any]:
    # mem_get_info creates a CUDA context on the device; the sidecar will train there anyway.
    free, total = torch.cuda.mem_get_info(index)
    return {
        "index": index,
        "name": torch.cuda.get_device_name(index),
        "totalMemory": int(total),
        "freeMemory": int(free),
    }
