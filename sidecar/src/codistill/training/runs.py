"""The sidecar's runs: where their folders go, the one run going on at a time, and what a run
tells the client (train/progress, train/checkpoint, then train/finished or train/failed).

The runId is the run folder's name: ``<yyyymmdd-hhmmss>-<student>-r<rank>`` when the sidecar
names the folder (under ``<workspace>/.codistill/runs/``), else the basename of the folder
given. The sidecar trains one run at a time: claiming a second answers -32003
(TRAINING_RUN_ACTIVE) with data {runId, runDir} of the running one.

Imports nothing heavy: the server registers the training methods at startup.
"""

from __future__ import annotations

import logging
import math
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import protocol
from ..dispatch import Notify, RpcError

if TYPE_CHECKING:
    from .trainer import TrainResult

log = logging.getLogger("codistill.train")

RUNS_FOLDER = (".codistill", "runs")
# Record keys the notification carries outside ``metrics``.
COUNTER_KEYS = ("step", "total_steps", "epoch")


# --- run folders ------------------------------------------------------------------------------


def slug(text: str, limit: int = 40) -> str:
    cleaned = re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.")
    return cleaned[:limit].rstrip("-.") or "run"


def new_run_dir(workspace: Path, config: Any) -> Path:
    """<workspace>/.codistill/runs/<yyyymmdd-hhmmss>-<student>-r<rank>, unused so far."""
    root = workspace.joinpath(*RUNS_FOLDER)
    base = f"{time.strftime('%Y%m%d-%H%M%S')}-{slug(Path(config.student).name)}-r{config.lora.r}"
    candidate, n = root / base, 2
    while candidate.exists():
        candidate, n = root / f"{base}-{n}", n + 1
    return candidate


# --- the one run at a time ------------------------------------------------------------------


class Run:
    def __init__(self, run_id: str, run_dir: Path, processes: int = 1, step: int = 0) -> None:
        self.run_id = run_id
        self.run_dir = run_dir
        self.processes = processes
        # What train/status reports: the last step logged or checkpointed (the checkpoint's
        # step for a resume, until then), and the run's length once a step told it.
        self.step = step
        self.total_steps: int | None = None
        # The torchrun child of a run of several processes, once launched.
        self.child: subprocess.Popen | None = None
        self.stop_requested = threading.Event()
        # Set after train/finished or train/failed was sent, with ``outcome`` filled in.
        self.ended = threading.Event()
        self.outcome: dict[str, Any] = {}


class RunRegistry:
    """The running run (at most one) and the folders of the runs this process started."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: Run | None = None
        self._known: dict[str, Path] = {}

    def claim(self, run_id: str, run_dir: Path, processes: int = 1, step: int = 0) -> Run:
        with self._lock:
            running = self._active
            if running is not None:
                raise RpcError(
                    protocol.TRAINING_RUN_ACTIVE,
                    f"A training run is already in progress: {running.run_id} "
                    f"({running.run_dir}). The sidecar trains one run at a time; stop it with "
                    "train/stop first.",
                    {"runId": running.run_id, "runDir": str(running.run_dir)},
                )
            run = self._active = Run(run_id, run_dir, processes, step)
            self._known[run_id] = run_dir
            return run

    def release(self, run: Run) -> None:
        with self._lock:
            if self._active is run:
                self._active = None

    def active(self) -> Run | None:
        with self._lock:
            return self._active

    def status(self) -> dict[str, Any] | None:
        """train/status's ``active``: the running run, or None."""
        with self._lock:
            run = self._active
            if run is None:
                return None
            return {
                "runId": run.run_id,
                "runDir": str(run.run_dir),
                "step": run.step,
                "totalSteps": run.total_steps,
                "processes": run.processes,
            }

    def known_dir(self, run_id: str) -> Path | None:
        with self._lock:
            return self._known.get(run_id)

    def stop_all(self, deadline: float) -> bool:
        """Ask the running run to stop (checkpoint, train/finished) and wait for it until
        ``deadline`` (time.monotonic()). Returns whether no run is left going."""
        run = self.active()
        if run is None:
            return True
        log.info("stopping training run %s before exit", run.run_id)
        run.stop_requested.set()
        ended = run.ended.wait(max(0.0, deadline - time.monotonic()))
        if not ended:
            log.warning(
                "training run %s did not stop in time; its last checkpoint is what resumes",
                run.run_id,
            )
        return ended


RUNS = RunRegistry()


# --- what a run tells the client --------------------------------------------------------------


def split_metrics(record: dict[str, Any]) -> tuple[dict[str, float | int | None], list[str]]:
    """(metrics without the step counters, keys whose value was NaN or infinite): JSON has no
    such numbers, so they go as null and are named."""
    metrics: dict[str, float | int | None] = {}
    non_finite: list[str] = []
    for key, value in record.items():
        if key in COUNTER_KEYS:
            continue
        if value is None:
            metrics[key] = None
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            log.debug("metric %s is not a number (%r); not sent", key, value)
        elif isinstance(value, float) and not math.isfinite(value):
            metrics[key] = None
            non_finite.append(key)
        else:
            metrics[key] = value
    return metrics, non_finite


class RunNotifier:
    """The trainer's progress and checkpoint callbacks, as notifications naming the run. Every
    step the trainer logs (log_every) is sent, so the live charts show what metrics.jsonl
    holds, line for line."""

    def __init__(self, notify: Notify, run: Run):
        self._notify = notify
        self._run = run
        self.last_step: int | None = None

    def progress(self, record: dict[str, Any]) -> None:
        step = int(record["step"])
        self.last_step = step
        self._run.step = step
        self._run.total_steps = int(record["total_steps"])
        metrics, non_finite = split_metrics(record)
        params: dict[str, Any] = {
            "runId": self._run.run_id,
            "step": step,
            "totalSteps": int(record["total_steps"]),
            "epoch": float(record.get("epoch") or 0.0),
            "metrics": metrics,
        }
        if non_finite:
            params["nonFinite"] = non_finite
        self._notify(protocol.TRAIN_PROGRESS_NOTIFICATION, params)

    def checkpoint(self, info: dict[str, Any]) -> None:
        self.last_step = self._run.step = int(info["step"])
        self._notify(
            protocol.TRAIN_CHECKPOINT_NOTIFICATION,
            {"runId": self._run.run_id, "step": int(info["step"]), "path": str(info["path"])},
        )


def report_finished(run: Run, notify: Notify, result: TrainResult) -> None:
    """train/finished, with the outcome train/stop answers; the slot is freed before telling, so
    a client that resumes on train/finished finds it free."""
    metrics, non_finite = split_metrics(result.metrics)
    params: dict[str, Any] = {"runId": run.run_id, **result.to_json(), "metrics": metrics}
    if non_finite:
        params["nonFinite"] = non_finite
    run.outcome = {
        "stopped": result.stopped,
        "state": "stopped" if result.stopped else "finished",
        "step": result.step,
        "checkpoint": params["checkpoint"],
    }
    RUNS.release(run)
    notify(protocol.TRAIN_FINISHED_NOTIFICATION, params)


def report_failed(run: Run, notify: Notify, failure: dict[str, Any], last_step: int | None) -> None:
    """train/failed naming the latest whole checkpoint, which train/resume carries on from."""
    from . import checkpoint as ckpt

    latest = ckpt.latest_checkpoint(run.run_dir)
    params = {"runId": run.run_id, **failure, "checkpoint": str(latest) if latest else None}
    if last_step is not None:
        params["step"] = last_step
    run.outcome = {
        "stopped": False,
        "state": "failed",
        "step": last_step or 0,
        "checkpoint": params["checkpoint"],
    }
    RUNS.release(run)
    notify(protocol.TRAIN_FAILED_NOTIFICATION, params)
