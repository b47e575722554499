"""Shared by the test_train_* modules: the tiny student and encoder made by
scripts/make-tiny-model.py, the fixture run config, comparing the adapters runs wrote, and a
client of a real sidecar that keeps every message for waiting on notifications."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from eval_support import MAKE_TINY_MODEL, REPO, golden
from safetensors.torch import load_file

from codistill import protocol
from codistill.training import checkpoint as ckpt
from codistill.training.metrics import read_metrics

from conftest import Sidecar, fixtures_dir, sidecar_env

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


@dataclass(frozen=True)
class Tiny:
    """The folders make_models writes."""

    student: Path
    encoder: Path


_shared_models: dict[Path, Tiny] = {}


def shared_models(tmp_path_factory: pytest.TempPathFactory) -> Tiny:
    """One student and encoder for every module of the test session that only reads them (copy
    a folder before changing it), made on first use."""
    session = tmp_path_factory.getbasetemp()
    if session not in _shared_models:
        _shared_models[session] = Tiny(*make_models(tmp_path_factory.mktemp("shared-models")))
    return _shared_models[session]


@pytest.fixture(scope="module", name="models")
def shared_models_fixture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``models``: (student, encoder) of shared_models, for modules that only read them (import
    this fixture into the module)."""
    tiny = shared_models(tmp_path_factory)
    return tiny.student, tiny.encoder


@pytest.fixture(scope="module", name="one_thread", autouse=True)
def one_thread_fixture() -> Iterator[None]:
    """One torch thread for the module's in-process runs (import it into the module): the runs
    are tiny, one thread is fastest on a small shared machine, and it is what the subprocess
    runs use (ENV), so the float reductions match theirs."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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


# --- the same run on several processes (test_train_ddp.py, test_train_fsdp.py,
# test_train_accelerate.py): real `codistill train` CLI children ------------------------------

# Metrics that depend on the float sums of the split batch, compared within DDP_TOLERANCE; and
# those the schedule and the data position fix, which must be equal.
CLOSE_METRICS = ("loss", "ce", "l_struct", "grad_norm", "eval_loss", "eval_ce", "eval_l_struct")
EXACT_METRICS = ("alpha", "beta", "lr", "epoch")


def split_batch_args(
    models: tuple[Path, Path], out: Path, batch_size: int, steps: int, *overrides: str
) -> list[str]:
    """``-m codistill train ...`` for python, torchrun and accelerate launch alike: a tiny run
    whose loss curve does not depend on how its global batch is split over processes."""
    student, encoder = models
    return [
        "-m",
        "codistill",
        "train",
        "--config",
        str(TINY_RUN),
        f"student={student}",
        f"encoder={encoder}",
        f"output_dir={out}",
        f"cache_dir={out.parent / 'cache'}",
        f"batch_size={batch_size}",
        "grad_accum=2",
        f"max_steps={steps}",
        "save_every=3",
        "eval_every=3",
        # Dropout draws differ between one process and two (one RNG stream per rank).
        "lora.dropout=0",
        # L_struct on from mid-run, so its normalisation across ranks is compared too.
        "curriculum.warmup_fraction=0.5",
        *overrides,
    ]


def start_run(command: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """A CLI child with stderr to ``log``, stdout (the JSON result) kept, in its own session so
    a hung run's workers can be killed with it."""
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        env=sidecar_env({**ENV, **(env or {})}),
        start_new_session=True,
        text=True,
    )


def finish_run(proc: subprocess.Popen, log: Path, timeout: float = 240, expect: int = 0) -> str:
    """Its stdout, once it exited with ``expect``."""
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError(
            f"no result within {timeout} s (a collective hung?):\n{log.read_text()}"
        ) from None
    assert proc.returncode == expect, (
        f"exit {proc.returncode}, expected {expect}:\n{log.read_text()}"
    )
    return out


def curve_diffs(single: Path, multi: Path, steps: int) -> dict[str, float]:
    """The largest difference per metric between two runs' metrics.jsonl, after checking that
    both logged every step, the same metrics were null, and the schedule columns are equal."""
    a, b = read_metrics(single), read_metrics(multi)
    assert [r["step"] for r in a] == [r["step"] for r in b] == list(range(1, steps + 1))
    diffs: dict[str, float] = {}
    for key in CLOSE_METRICS:
        pairs = [(x[key], y[key]) for x, y in zip(a, b, strict=True)]
        assert [x is None for x, _ in pairs] == [y is None for _, y in pairs], key
        diffs[key] = max((abs(x - y) for x, y in pairs if x is not None), default=0.0)
    for key in EXACT_METRICS:
        assert [r[key] for r in a] == [r[key] for r in b], key
    # The comparison covers L_struct and an evaluation.
    assert any(r["l_struct"] is not None for r in b) and b[2]["eval_loss"] is not None
    return diffs


def assert_same_run(single: Path, multi: Path, steps: int, what: str) -> None:
    """``multi`` (several processes) has the loss curve and final adapter of ``single`` (one
    process, the same global batch), within DDP_TOLERANCE."""
    diffs = curve_diffs(single, multi, steps)
    print(f"\n{what} vs 1 process, max abs diffs: {diffs}")
    assert max(diffs.values()) <= DDP_TOLERANCE, diffs
    weight_diff = max_weight_diff(single / ckpt.ADAPTER_DIR, multi / ckpt.ADAPTER_DIR)
    assert weight_diff <= DDP_TOLERANCE, f"adapter weights differ by {weight_diff}"
