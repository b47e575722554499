"""Shared by the test_train_* modules: the tiny student and encoder made by
scripts/make-tiny-model.py, the fixture run config, comparing the adapters runs wrote, and a
client of a real sidecar that keeps every message for waiting on notifications."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from eval_support import MAKE_TINY_MODEL, REPO, golden
from safetensors.torch import load_file

from codistill import protocol
from codistill.training import checkpoint as ckpt

from conftest import Sidecar, fixtures_dir

TINY_RUN = REPO / "test" / "fixtures" / "train" / "tiny.yaml"
CORPUS = ("humaneval-slice", "mbpp-slice", "mbppplus-slice", "taco-fixture")
# For the runs in a subprocess. One thread per process: the runs go side by side on a small CI
# machine, and the same thread count in every process keeps the float reductions identical.
ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "CODISTILL_LOG_LEVEL": "warning"}
# Two processes against one with the same global batch (test_train_ddp.py,
# test_train_server_ddp.py): fp32 sums over a differently split batch round differently; anything
# above this is a bug (a wrong normalisation shows up at 1e-2 and more).
DDP_TOLERANCE = 1e-5
Message = dict[str, Any]


def make_models(root: Path) -> tuple[Path, Path]:
    """(student, encoder) folders written by the real script, tokenizers trained on the slices."""
    student, encoder = root / "student", root / "encoder"
    corpus = [arg for name in CORPUS for arg in ("--corpus", str(golden(name)))]
    done = subprocess.run(
        [sys.executable, str(MAKE_TINY_MODEL), str(student), "--encoder", str(encoder), *corpus],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"make-tiny-model.py failed:\n{done.stderr}"
    return student, encoder


def max_weight_diff(a: Path, b: Path) -> float:
    """The largest absolute difference between two adapter folders' weights, which must have
    the same tensors."""
    left, right = load_file(str(a / ckpt.ADAPTER_WEIGHTS)), load_file(str(b / ckpt.ADAPTER_WEIGHTS))
    assert left.keys() == right.keys()
    return max(float((left[k] - right[k]).abs().max()) for k in left)


class Client:
    """A sidecar with every message it sent kept in order, for waiting on notifications and
    responses alike."""

    def __init__(self, sidecar: Sidecar) -> None:
        self.sidecar = sidecar
        self.messages: list[Message] = []

    def send(self, method: str, params: Any, request_id: Any = None) -> Any:
        return self.sidecar.send_request(method, params, request_id)

    def wait_for(self, what: str, match: Callable[[Message], bool], timeout: float = 60) -> Message:
        for message in self.messages:
            if match(message):
                return message
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"no {what} within {timeout} s; stderr:\n{self.sidecar.stderr}"
                )
            try:
                message = self.sidecar.receive(timeout=left)
            except AssertionError:
                raise AssertionError(f"no {what}; stderr:\n{self.sidecar.stderr}") from None
            self.messages.append(message)
            if match(message):
                return message

    def response(self, request_id: Any, method: str, timeout: float = 60) -> Message:
        message = self.wait_for(
            f"answer to {request_id}",
            lambda m: "method" not in m and m.get("id") == request_id,
            timeout,
        )
        assert protocol.validate_response(message, method) == [], message
        return message

    def request(self, method: str, params: Any, timeout: float = 60) -> Message:
        return self.response(self.send(method, params), method, timeout)

    def notification(self, method: str, run_id: str, timeout: float = 60, **fields: Any) -> Message:
        def match(m: Message) -> bool:
            return (
                m.get("method") == method
                and m["params"].get("runId") == run_id
                and all(m["params"].get(k) == v for k, v in fields.items())
            )

        message = self.wait_for(f"{method} of {run_id} {fields or ''}", match, timeout)
        assert protocol.validate_notification(message) == [], message
        return message["params"]

    def notifications(self, method: str, run_id: str) -> list[dict[str, Any]]:
        found = [
            m["params"]
            for m in self.messages
            if m.get("method") == method and m["params"].get("runId") == run_id
        ]
        for params in found:
            assert (
                protocol.validate_notification(
                    {"jsonrpc": "2.0", "method": method, "params": params}
                )
                == []
            )
        return found


def tiny_config(models: tuple[Path, Path], cache: Path, **changes: Any) -> dict[str, Any]:
    """tiny.yaml as train/start sends it: a JSON object, every path absolute."""
    raw = yaml.safe_load(TINY_RUN.read_text(encoding="utf-8"))
    for key in ("tasks", "cots"):
        raw[key] = [str((TINY_RUN.parent / path).resolve()) for path in raw[key]]
    student, encoder = models
    raw.update(student=str(student), encoder=str(encoder), cache_dir=str(cache))
    raw.update(changes)
    return raw


def golden_params(name: str) -> dict[str, Any]:
    return json.loads((fixtures_dir() / name).read_text(encoding="utf-8"))["message"]["params"]
