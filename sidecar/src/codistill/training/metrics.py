"""Per-step metrics of a training run: ``<run>/metrics.jsonl``, TensorBoard / W&B through
``report_to``, and the throughput / ETA bookkeeping behind them.

Every line of metrics.jsonl has every key of METRIC_KEYS (null where a value does not apply: no
L_struct while β = 0, no GPU memory on a CPU, no eval loss between evaluations), so readers
(the training panel's charts) need no per-line schema guessing. Keys the structural loss adds
(cos, l_struct_aligned / l_struct_encoder) follow on the steps where it ran.

loss, ce and l_struct are the values of that optimizer step (over all its micro-batches and
ranks); tokens_per_s counts every non-padding input token (prompt included) over the training
time since the previous line, summed over ranks; GPU memory is rank 0's, in bytes.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import deque
from pathlib import Path
from typing import Any

from ..protocol import TRAIN_METRIC_KEYS
from .config import TrainConfigError

METRICS_FILE = "metrics.jsonl"
# The train/progress metrics (protocol.TRAIN_METRIC_KEYS) between the step counters and the
# evaluation losses.
METRIC_KEYS = (
    "step",
    "total_steps",
    "epoch",
    *TRAIN_METRIC_KEYS,
    "eval_loss",
    "eval_ce",
    "eval_l_struct",
)
# Scalars sent to TensorBoard / W&B (not the counters).
CHART_KEYS = tuple(key for key in METRIC_KEYS if key not in ("step", "total_steps", "epoch"))
# Package each report_to value needs.
REPORTER_PACKAGES = {"tensorboard": "tensorboard", "wandb": "wandb"}


class MetricsLog:
    """Append-only metrics.jsonl, flushed per line so a killed run keeps what it logged."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / METRICS_FILE

    def truncate_after(self, step: int) -> None:
        """Drop lines past ``step``: a resumed run logs those steps again from its checkpoint."""
        if not self.path.is_file():
            return
        kept = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                try:
                    if json.loads(line).get("step", 0) <= step:
                        kept.append(line)
                except ValueError:
                    continue  # a line cut short by a kill
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
        tmp.replace(self.path)

    def append(self, record: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / METRICS_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def check_reporters(names: list[str]) -> None:
    """A reporter named in report_to must be importable: asking for TensorBoard and silently
    getting nothing would lose the run's charts."""
    for index, name in enumerate(names):
        package = REPORTER_PACKAGES[name]
        if importlib.util.find_spec(package) is None:
            raise TrainConfigError(
                f"report_to[{index}]",
                f"{name} is not installed in {sys.executable} (pip install {package}), "
                "or remove it from report_to",
            )


class Reporters:
    """TensorBoard and W&B writers for the names in report_to (rank 0 only)."""

    def __init__(self, names: list[str], run_dir: Path, run_name: str, config: dict[str, Any]):
        self.writers: list[Any] = []
        self.wandb: Any = None
        if "tensorboard" in names:
            from torch.utils.tensorboard import SummaryWriter

            self.writers.append(SummaryWriter(log_dir=str(run_dir / "tensorboard")))
        if "wandb" in names:
            import wandb

            self.wandb = wandb.init(
                project="codistill",
                name=run_name,
                config=config,
                dir=str(run_dir),
                resume="allow",
                id=run_name,
            )

    def log(self, record: dict[str, Any]) -> None:
        scalars = {key: record[key] for key in CHART_KEYS if record.get(key) is not None}
        for writer in self.writers:
            for key, value in scalars.items():
                writer.add_scalar(f"train/{key}", value, record["step"])
            writer.flush()
        if self.wandb is not None:
            self.wandb.log(scalars, step=record["step"])

    def close(self) -> None:
        for writer in self.writers:
            writer.close()
        if self.wandb is not None:
            self.wandb.finish()


class Throughput:
    """Tokens/s and samples/s over the steps since the last log (step time only: evaluation and
    checkpoint writes are not training throughput), and the ETA from the recent step times (a
    window, so the slow first steps, allocator warm-up and the like, fade out of it)."""

    def __init__(self, window: int = 20) -> None:
        self.step_times: deque[float] = deque(maxlen=window)
        self.tokens = 0
        self.samples = 0
        self.seconds = 0.0

    def add_step(self, seconds: float, tokens: int, samples: int) -> None:
        self.step_times.append(seconds)
        self.tokens += tokens
        self.samples += samples
        self.seconds += seconds

    def take(self, steps_left: int) -> dict[str, float | None]:
        """The rates since the previous call, then start a new interval."""
        elapsed = max(self.seconds, 1e-9)
        mean_step = sum(self.step_times) / len(self.step_times) if self.step_times else None
        rates = {
            "tokens_per_s": self.tokens / elapsed,
            "samples_per_s": self.samples / elapsed,
            "eta_s": mean_step * steps_left if mean_step is not None else None,
        }
        self.tokens = self.samples = 0
        self.seconds = 0.0
        return rates


def gpu_memory(device: Any) -> dict[str, int | None]:
    """Bytes allocated now and at peak on this rank's GPU; null on a CPU."""
    import torch

    if device.type != "cuda":
        return {"gpu_mem_allocated": None, "gpu_mem_peak": None}
    return {
        "gpu_mem_allocated": torch.cuda.memory_allocated(device),
        "gpu_mem_peak": torch.cuda.max_memory_allocated(device),
    }


def complete(record: dict[str, Any]) -> dict[str, Any]:
    """The record with every METRIC_KEYS key (null when absent) first, then any extra keys the
    structural loss reported."""
    ordered = {key: record.get(key) for key in METRIC_KEYS}
    ordered.update({key: value for key, value in record.items() if key not in ordered})
    return ordered
