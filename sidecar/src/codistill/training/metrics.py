"""Per-step metrics of a training run: ``<run>/metrics.jsonl``, TensorBoard / W&B through
``report_to``, and the throughput / ETA bookkeeping behind them.

Every line of metrics.jsonl has every key of METRIC_KEYS (null where a value does not apply: no
L_struct while β = 0, no GPU memory on a CPU, no eval loss between evaluations), so readers
(the training panel's charts) need no per-line schema guessing. Keys the structural loss adds
(cos, l_struct_aligned / l_struct_encoder) follow on the steps where it ran.

loss, ce and l_struct are the values of that optimizer step (over all its micro-batches and
ranks); tokens_per_s counts every non-padding input token (prompt included) over the training
time since the previous line, summed over ranks; GPU memory is rank 0's, in bytes.

report_to sends every number of every line but the step counters, at its step, to TensorBoard
(<run>/tensorboard) and W&B (<run>/wandb, with the resolved config); a resumed run goes on with
the same TensorBoard folder and W&B run.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import secrets
import sys
from collections import deque
from pathlib import Path
from typing import Any

from ..protocol import TRAIN_METRIC_KEYS
from .checkpoint import METRICS_FILE
from .config import TrainConfigError

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
# Keys of a line that TensorBoard / W&B get as the x axis, or not at all; every other number in
# the line (epoch, the structural loss's extra keys) is charted.
COUNTER_KEYS = ("step", "total_steps")
# Package each report_to value needs, and the module the reporter imports from it.
REPORTER_PACKAGES = {"tensorboard": "tensorboard", "wandb": "wandb"}
REPORTER_MODULES = {"tensorboard": "torch.utils.tensorboard", "wandb": "wandb"}
# <run>/tensorboard holds the event files; W&B writes <run>/wandb/ itself, and the run's W&B id
# is kept in it so a resumed run goes on with the same W&B run.
TENSORBOARD_DIR = "tensorboard"
WANDB_DIR = "wandb"
WANDB_ID_FILE = "codistill-run-id"
WANDB_PROJECT = "codistill"

log = logging.getLogger("codistill.train")


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
    getting nothing would lose the run's charts. Imported rather than looked up, so a broken
    install (a protobuf tensorboard cannot use) is caught here too, not after the run started."""
    for index, name in enumerate(names):
        package, module = REPORTER_PACKAGES[name], REPORTER_MODULES[name]
        try:
            importlib.import_module(module)
        except Exception as exc:
            missing = isinstance(exc, ModuleNotFoundError) and exc.name in (package, module)
            reason = "is not installed" if missing else f"cannot be imported ({exc})"
            raise TrainConfigError(
                f"report_to[{index}]",
                f"{name} {reason} in {sys.executable} (pip install {package}), "
                "or remove it from report_to",
            ) from None


def chart_values(record: dict[str, Any]) -> dict[str, float | int]:
    """The numbers of a metrics line that TensorBoard / W&B chart: all but the counters and the
    nulls."""
    return {
        key: value
        for key, value in record.items()
        if key not in COUNTER_KEYS
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    }


class Reporters:
    """TensorBoard and W&B for the names in report_to (rank 0 only): every line of
    metrics.jsonl, at its step, and on W&B the resolved config. Built after the trainer has cut
    metrics.jsonl back to the checkpoint a run resumes from, which both reporters rely on."""

    def __init__(self, names: list[str], run_dir: Path, run_name: str, config: dict[str, Any]):
        self.tensorboard: Any = None
        self.wandb: Any = None
        try:
            if "tensorboard" in names:
                self.tensorboard = open_tensorboard(run_dir)
            if "wandb" in names:
                self.wandb = open_wandb(run_dir, run_name, config, names.index("wandb"))
        except BaseException:
            self.close()  # the trainer gets no Reporters to close: close what did open
            raise

    def log(self, record: dict[str, Any]) -> None:
        step, values = record["step"], chart_values(record)
        if self.tensorboard is not None:
            for key, value in values.items():
                # As a double: TensorBoard's default float32 would chart other values than
                # metrics.jsonl holds (tokens/s, the learning rate).
                self.tensorboard.add_scalar(
                    f"train/{key}", value, step, new_style=True, double_precision=True
                )
            # Per line, as metrics.jsonl: a killed run keeps its charts up to its last step.
            self.tensorboard.flush()
        if self.wandb is not None:
            self.wandb.log(values, step=step)

    def close(self) -> None:
        """Flush and close every reporter; again is a no-op. Called from the trainer's finally:
        an exception on its way out means the run failed, which W&B is told (exit code 1); a
        stopped run ended normally (it can be resumed). A reporter that fails to close is
        logged rather than raised, so it neither hides the run's own error nor fails a run
        whose results are all on disk."""
        failed = sys.exc_info()[1] is not None
        writer, self.tensorboard = self.tensorboard, None
        if writer is not None:
            try:
                writer.close()
            except Exception as exc:
                log.warning("closing the TensorBoard writer failed: %s", exc)
        run, self.wandb = self.wandb, None
        if run is not None:
            try:
                run.finish(exit_code=1 if failed else 0)
            except Exception as exc:
                log.warning("finishing the W&B run failed: %s", exc)


def open_tensorboard(run_dir: Path) -> Any:
    from torch.utils.tensorboard import SummaryWriter

    # A resumed run logs the steps after its checkpoint again, and an earlier attempt may have
    # written events for them: purge_step makes TensorBoard drop every event from the first step
    # metrics.jsonl no longer holds, so each step shows once, with the resumed run's values. A
    # fresh run gets one too (step 1, nothing to drop): TensorBoard takes the first such mark in
    # a folder for the start of the run, and purges only at the ones after it.
    logged = read_metrics(run_dir)
    purge_step = logged[-1]["step"] + 1 if logged else 1
    return SummaryWriter(log_dir=str(run_dir / TENSORBOARD_DIR), purge_step=purge_step)


def open_wandb(run_dir: Path, run_name: str, config: dict[str, Any], index: int) -> Any:
    import wandb

    try:
        return wandb.init(
            project=os.environ.get("WANDB_PROJECT") or WANDB_PROJECT,
            name=run_name,
            id=wandb_run_id(run_dir, run_name),
            resume="allow",
            config=config,
            dir=str(run_dir),
            # The process's output is not the run's: the sidecar's is shared with its other
            # requests.
            settings=wandb.Settings(console="off"),
        )
    except Exception as exc:
        raise TrainConfigError(
            f"report_to[{index}]",
            f"W&B did not start: {exc} (run `wandb login`, or set WANDB_MODE=offline to keep "
            "the run on disk for a later `wandb sync`)",
        ) from exc


def wandb_run_id(run_dir: Path, run_name: str) -> str:
    """The W&B id this run folder was given, or a new one: the folder's name and a random
    suffix, as W&B ids are unique per project and folder names repeat (``out``, ``run``), so a
    new run never appends to another's W&B run, while a resumed one goes on with its own."""
    path = run_dir / WANDB_DIR / WANDB_ID_FILE
    try:
        saved = path.read_text(encoding="utf-8").strip()
    except OSError:
        saved = ""
    if saved:
        return saved
    # W&B refuses ids with /\#?%: in them.
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", run_name)[:48].strip("-") or "run"
    run_id = f"{readable}-{secrets.token_hex(4)}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(run_id + "\n", encoding="utf-8")
    return run_id


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
