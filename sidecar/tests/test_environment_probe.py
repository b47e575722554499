"""What initialize reports about packages and devices on different interpreters."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from codistill import protocol

from conftest import SOURCE_DIR, Sidecar

# Stand-ins for torch with a behaviour no CPU machine has: they exercise the probe's handling
# of a broken install and of GPUs, while the real GPU path is checked on GPU machines.
LOAD_FAILURE = "libtorch_cuda.so: cannot open shared object file"
BROKEN_TORCH = f"raise OSError({LOAD_FAILURE!r})\n"
TWO_GPU_TORCH = """
import types

version = types.SimpleNamespace(cuda="12.4")

def _mem_get_info(index):
    if index == 1:
        raise RuntimeError("CUDA error: an illegal memory access was encountered")
    return (30 * 2**30, 40 * 2**30)

cuda = types.SimpleNamespace(
    is_available=lambda: True,
    device_count=lambda: 2,
    get_device_name=lambda index: f"Stand-in GPU {index}",
    mem_get_info=_mem_get_info,
)
"""


def initialize(server: Sidecar) -> dict:
    response = server.request("initialize", {"protocolVersion": "1"})
    assert protocol.validate_response(response, "initialize") == []
    return response["result"]


def serve_with_torch_stand_in(spawn, tmp_path: Path, source: str) -> Sidecar:
    package = tmp_path / "torch"
    package.mkdir()
    (package / "__init__.py").write_text(source)
    path = os.pathsep.join([str(tmp_path), str(SOURCE_DIR)])
    return spawn.serve(env={"PYTHONPATH": path})


def test_broken_torch_is_reported_not_fatal(spawn, tmp_path: Path) -> None:
    server = serve_with_torch_stand_in(spawn, tmp_path, BROKEN_TORCH)
    devices = initialize(server)["devices"]
    assert devices == {
        "cuda": False,
        "cudaVersion": None,
        "gpus": [],
        "error": f"failed to import torch: OSError: {LOAD_FAILURE}",
    }
    assert server.request("health/ping")["result"]["pong"] is True


def test_gpus_probed_before_a_cuda_failure_are_kept(spawn, tmp_path: Path) -> None:
    server = serve_with_torch_stand_in(spawn, tmp_path, TWO_GPU_TORCH)
    devices = initialize(server)["devices"]
    assert devices["cuda"] is True
    assert devices["cudaVersion"] == "12.4"
    assert devices["gpus"] == [
        {"index": 0, "name": "Stand-in GPU 0", "totalMemory": 40 * 2**30, "freeMemory": 30 * 2**30}
    ]
    assert devices["error"] == (
        "CUDA query failed: RuntimeError: CUDA error: an illegal memory access was encountered"
    )


def interpreter_without_torch(folder: Path) -> str:
    """A fresh virtual environment: none of the training packages, whatever this one has."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    return str(folder / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python"))


def test_bare_interpreter_lists_every_training_package_as_missing(spawn, tmp_path) -> None:
    interpreter = interpreter_without_torch(tmp_path / "bare")
    env = {"PYTHONPATH": str(SOURCE_DIR)}
    server = Sidecar([interpreter, "-m", "codistill", "serve"], {**os.environ, **env})
    try:
        result = initialize(server)
    finally:
        server.stop()
    assert result["python"]["executable"] == interpreter
    assert result["packages"] == {"torch": None, "transformers": None, "peft": None}
    assert result["missing"] == ["torch", "transformers", "peft"]
    assert result["devices"] == {
        "cuda": False,
        "cudaVersion": None,
        "gpus": [],
        "error": "torch is not installed",
    }
