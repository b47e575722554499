"""The train/start, train/stop and train/resume methods of the sidecar protocol.

A run goes on in a thread of the sidecar after train/start (or train/resume) has answered: the
answer ({runId, runDir, device, warnings}) comes once the config, the files it names, the run
folder and the device have been checked, and every problem found by then is a -32602 naming the
parameter and the config field (``params.config.lora.r: must be >= 1, got 0``; a model folder
that lacks a file names the file). Loading the models and the data happens in the run's thread;
a problem found there, an out-of-memory error or a crash ends the run with ``train/failed``
{runId, kind, message, field?, suggestions?, checkpoint?}. While it runs, the run sends
``train/progress`` {runId, step, totalSteps, epoch, metrics} for the steps it logs and
``train/checkpoint`` {runId, step, path} for each checkpoint, then ``train/finished`` {runId,
runDir, step, totalSteps, stopped, adapter, checkpoint, metrics}.

The runId is the run folder's name: ``<yyyymmdd-hhmmss>-<student>-r<rank>`` when the sidecar
names the folder (under ``<workspace>/.codistill/runs/``), else the basename of the folder
given (params.runDir, or config.output_dir).

The sidecar trains one run at a time: a second train/start or train/resume while a run is going
on answers -32003 (TRAINING_RUN_ACTIVE) with data {runId, runDir} of the running one.

Stopping and cancelling:

- ``train/stop`` {runId} asks the run to stop after its current step; it saves a checkpoint,
  sends ``train/finished`` with ``stopped: true`` (adapter null) and the answer {runId, stopped,
  state, step, checkpoint} follows once the run has ended. ``train/resume`` carries on from that
  checkpoint exactly (the trainer restores optimizer, schedule, RNG and data position).
- ``$/cancelRequest`` of a train/start or train/resume that has not answered yet (it is still
  checking the inputs) answers -32800 and starts nothing. Once answered, the run is not a
  request any more: cancelling it does nothing, train/stop is how to end it.
- Cancelling a train/stop cancels only its wait (-32800); the stop it asked for still happens
  and train/finished still comes.
- When the sidecar exits (shutdown, stdin closed, SIGTERM), a running run is stopped the same
  way within the server's shutdown grace; a step that outlasts it is abandoned, and the last
  periodic checkpoint is what train/resume finds.

This module imports nothing heavy at import time: the server registers it at startup, which
must stay torch-free; torch and the trainer are imported by the handlers.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import protocol
from ..dispatch import CancelToken, MethodRegistry, Notify, RequestCancelled, RpcError

log = logging.getLogger("codistill.train")

RUNS_FOLDER = (".codistill", "runs")
NO_CUDA_WARNING = "no CUDA GPU: training runs on the CPU, which is practical for small models only"
# Record keys the notification carries outside ``metrics``.
COUNTER_KEYS = ("step", "total_steps", "epoch")


# --- errors -----------------------------------------------------------------------------------


def invalid(field: str, reason: str) -> RpcError:
    problem = f"{field}: {reason}"
    return RpcError(protocol.INVALID_PARAMS, f"Invalid params: {problem}", {"problems": [problem]})


def config_field(field: str, run_dir_param: bool) -> str:
    """The params path of a TrainConfigError's field, for train/start."""
    if field == "config":
        return "params.config"
    if field == "output_dir" and run_dir_param:
        return "params.runDir"
    return f"params.config.{field}"


# --- the one run at a time ------------------------------------------------------------------


class Run:
    def __init__(self, run_id: str, run_dir: Path) -> None:
        self.run_id = run_id
        self.run_dir = run_dir
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

    def claim(self, run_id: str, run_dir: Path) -> Run:
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
            run = self._active = Run(run_id, run_dir)
            self._known[run_id] = run_dir
            return run

    def release(self, run: Run) -> None:
        with self._lock:
            if self._active is run:
                self._active = None

    def active(self) -> Run | None:
        with self._lock:
            return self._active

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


def stop_training_runs(deadline: float) -> bool:
    """The server's exit hook."""
    return RUNS.stop_all(deadline)


# --- notifications --------------------------------------------------------------------------


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
        self.last_step = int(info["step"])
        self._notify(
            protocol.TRAIN_CHECKPOINT_NOTIFICATION,
            {"runId": self._run.run_id, "step": int(info["step"]), "path": str(info["path"])},
        )


# --- failures -------------------------------------------------------------------------------


def is_out_of_memory(exc: BaseException) -> bool:
    """torch.cuda.OutOfMemoryError, the trainer's TrainingError for it, a CUDA "out of memory"
    RuntimeError, or the CPU allocator's "not enough memory"."""
    if type(exc).__name__ == "OutOfMemoryError":
        return True
    text = str(exc).lower()
    return "out of memory" in text or "out of gpu memory" in text or "not enough memory" in text


def out_of_memory_suggestions(config: Any) -> list[str]:
    """Concrete changes to the config, most effective for the least change first."""
    suggestions = []
    if config.batch_size > 1:
        suggestions.append(
            f"batch_size: {max(1, config.batch_size // 2)} with grad_accum: "
            f"{config.grad_accum * 2} (now {config.batch_size} and {config.grad_accum}): the "
            "same global batch in smaller pieces"
        )
    if not config.gradient_checkpointing:
        suggestions.append(
            "gradient_checkpointing: true (activations are recomputed in the backward pass: "
            "far less memory, about a third slower)"
        )
    if not config.qlora:
        suggestions.append("qlora: true (4-bit NF4 base weights; needs the bitsandbytes package)")
    suggestions.append(
        f"max_length: {max(1, config.max_length // 2)} (now {config.max_length}); longer "
        "examples are skipped"
    )
    if config.lora.r > 8:
        suggestions.append(f"lora.r: {config.lora.r // 2} (now {config.lora.r})")
    return suggestions


DEVICE_SUGGESTIONS = [
    "device: auto trains on the GPU when torch sees one, else on the CPU (small models only)",
    "check that torch is a CUDA build (python -c 'import torch; print(torch.version.cuda)') "
    "and that nvidia-smi lists the GPU",
]


def describe_failure(exc: BaseException, config: Any) -> dict[str, Any]:
    """train/failed's kind, message, field and suggestions for an exception of a run."""
    from .config import TrainConfigError

    if is_out_of_memory(exc):
        text = str(exc)
        message = text if text.startswith("out of GPU memory") else f"out of memory: {text}"
        return {
            "kind": "out-of-memory",
            "message": message,
            "suggestions": out_of_memory_suggestions(config),
        }
    if isinstance(exc, TrainConfigError):
        failure: dict[str, Any] = {
            "kind": "device" if exc.field == "device" else "input",
            "message": str(exc),
            "field": exc.field,
        }
        if exc.field == "device":
            failure["suggestions"] = DEVICE_SUGGESTIONS
        return failure
    from .trainer import TrainingError

    if isinstance(exc, TrainingError):
        return {"kind": "input", "message": str(exc)}
    return {"kind": "internal", "message": f"{type(exc).__name__}: {exc}"}


# --- checks before a run starts -------------------------------------------------------------


def param_path(value: str, name: str, workspace: Path | None) -> Path:
    path = Path(value).expanduser()
    if path.is_absolute():
        return path.resolve()
    if workspace is None:
        raise invalid(
            f"params.{name}", f"expected an absolute path (or give params.workspace), got {value!r}"
        )
    return (workspace / path).resolve()


def workspace_of(params: dict[str, Any]) -> Path | None:
    value = params.get("workspace")
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        raise invalid("params.workspace", f"expected an absolute path, got {value!r}")
    return path.resolve()


def check_absolute_paths(raw: dict[str, Any]) -> None:
    """Without a workspace, relative paths would resolve against the sidecar's working
    directory, which the extension does not choose: refuse them."""
    from .config import PATH_FIELDS

    for name in PATH_FIELDS:
        value = raw.get(name)
        values = value if isinstance(value, list) else [value]
        for index, item in enumerate(values):
            if isinstance(item, str) and item and not Path(item).expanduser().is_absolute():
                where = f"{name}[{index}]" if isinstance(value, list) else name
                raise invalid(
                    f"params.config.{where}",
                    f"expected an absolute path (or give params.workspace), got {item!r}",
                )


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


def check_fresh(run_dir: Path, field: str) -> None:
    """A new run never writes over another run's results."""
    from . import checkpoint as ckpt
    from .metrics import METRICS_FILE

    taken = [
        name
        for name in (ckpt.CHECKPOINTS_DIR, ckpt.ADAPTER_DIR, ckpt.MANIFEST_FILE, METRICS_FILE)
        if (run_dir / name).exists()
    ]
    if taken:
        raise invalid(
            field,
            f"{run_dir} already holds a run ({', '.join(taken)}): continue it with "
            "train/resume, or choose another folder",
        )


def resolve_device(config: Any) -> tuple[str, list[str]]:
    """("cuda" | "cpu", warnings); TrainConfigError when the device or precision asked for
    cannot be had. Imports torch."""
    import torch

    from .config import TrainConfigError
    from .trainer import resolve_precision

    has_cuda = torch.cuda.is_available()
    if config.device == "cuda" and not has_cuda:
        raise TrainConfigError(
            "device",
            f"cuda was asked for, but torch {torch.__version__} sees no CUDA GPU (a CPU-only "
            "build, or no driver); use device: auto or cpu to train on the CPU, which is "
            "practical for small models only",
        )
    device = "cuda" if has_cuda and config.device != "cpu" else "cpu"
    warnings = [NO_CUDA_WARNING] if device == "cpu" and config.device == "auto" else []
    resolve_precision(config, torch.device(device))
    return device, warnings


def check_run(config: Any, fail: Callable[[Any], RpcError]) -> tuple[str, list[str]]:
    """The files the run reads, its reporters and its device; ``fail(TrainConfigError)`` makes
    the -32602 that names the field."""
    from .config import TrainConfigError, check_inputs
    from .metrics import check_reporters

    try:
        check_inputs(config)
        check_reporters(config.report_to)
        return resolve_device(config)
    except TrainConfigError as exc:
        raise fail(exc) from None


# --- running --------------------------------------------------------------------------------


def launch(
    run: Run,
    config: Any,
    resume_from: Path | None,
    git: dict[str, Any] | None,
    notify: Notify,
) -> None:
    thread = threading.Thread(
        target=run_worker,
        args=(run, config, resume_from, git, notify),
        name=f"codistill-train-{run.run_id}",
        # Exit does not wait for it: the server's exit hook stops it within the grace period.
        daemon=True,
    )
    try:
        thread.start()
    except BaseException:
        RUNS.release(run)
        raise


def run_worker(
    run: Run,
    config: Any,
    resume_from: Path | None,
    git: dict[str, Any] | None,
    notify: Notify,
) -> None:
    from . import checkpoint as ckpt
    from .trainer import TrainCallbacks, train

    notifier = RunNotifier(notify, run)
    callbacks = TrainCallbacks(
        progress=notifier.progress,
        checkpoint=notifier.checkpoint,
        should_stop=run.stop_requested.is_set,
    )
    try:
        try:
            result = train(config, resume_from=resume_from, callbacks=callbacks, git=git)
        except Exception as exc:
            failure = describe_failure(exc, config)
            if failure["kind"] == "internal":
                log.exception("training run %s failed", run.run_id)
            else:
                log.error("training run %s failed: %s", run.run_id, failure["message"])
            latest = ckpt.latest_checkpoint(run.run_dir)
            params = {"runId": run.run_id, **failure, "checkpoint": str(latest) if latest else None}
            if notifier.last_step is not None:
                params["step"] = notifier.last_step
            run.outcome = {
                "stopped": False,
                "state": "failed",
                "step": notifier.last_step or 0,
                "checkpoint": params["checkpoint"],
            }
            release_memory()
            RUNS.release(run)
            notify(protocol.TRAIN_FAILED_NOTIFICATION, params)
            return
        metrics, non_finite = split_metrics(result.metrics)
        checkpoint = str(result.last_checkpoint) if result.last_checkpoint else None
        params = {
            "runId": run.run_id,
            "runDir": str(result.run_dir),
            "step": result.step,
            "totalSteps": result.total_steps,
            "stopped": result.stopped,
            "adapter": str(result.adapter_dir) if result.adapter_dir else None,
            "checkpoint": checkpoint,
            "metrics": metrics,
        }
        if non_finite:
            params["nonFinite"] = non_finite
        run.outcome = {
            "stopped": result.stopped,
            "state": "stopped" if result.stopped else "finished",
            "step": result.step,
            "checkpoint": checkpoint,
        }
        release_memory()
        # Free before telling: a client that resumes on train/finished finds the slot free.
        RUNS.release(run)
        notify(protocol.TRAIN_FINISHED_NOTIFICATION, params)
    finally:
        RUNS.release(run)
        run.ended.set()


def release_memory() -> None:
    """Give the run's GPU memory back to the driver, for the next run or an evaluation."""
    import gc
    import sys

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


# --- handlers -------------------------------------------------------------------------------


def train_start(params: dict[str, Any], token: CancelToken) -> dict[str, Any]:
    from .config import TrainConfigError, load_config

    workspace = workspace_of(params)
    raw = dict(params["config"])
    if workspace is None:
        check_absolute_paths(raw)
    has_run_dir = "runDir" in params
    named_later = False
    if has_run_dir:
        raw["output_dir"] = str(param_path(params["runDir"], "runDir", workspace))
    elif raw.get("output_dir") is None:
        if workspace is None:
            raise invalid(
                "params.runDir",
                "required when params.config has no output_dir and no params.workspace is "
                "given (runs then go to <workspace>/.codistill/runs/)",
            )
        # A stand-in until the config is read: the folder is named after the student and rank.
        raw["output_dir"] = str(workspace.joinpath(*RUNS_FOLDER))
        named_later = True
    try:
        config = load_config(base=raw, base_dir=workspace)
    except TrainConfigError as exc:
        raise invalid(config_field(exc.field, has_run_dir), exc.reason) from None
    if named_later:
        config.output_dir = str(new_run_dir(workspace, config))
    run_dir = Path(config.output_dir).resolve()
    config.output_dir = str(run_dir)
    run_dir_field = "params.runDir" if has_run_dir else "params.config.output_dir"
    check_fresh(run_dir, run_dir_field)
    device, warnings = check_run(
        config, lambda exc: invalid(config_field(exc.field, has_run_dir), exc.reason)
    )
    token.raise_if_cancelled()
    run = RUNS.claim(run_dir.name, run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)  # reserves a name the sidecar chose
    except OSError as exc:
        RUNS.release(run)
        raise invalid(
            run_dir_field, f"{run_dir}: cannot create it: {exc.strerror or exc}"
        ) from None
    log.info("train/start %s in %s on %s", run.run_id, run_dir, device)
    launch(run, config, None, params.get("git"), token.notify)
    return {"runId": run.run_id, "runDir": str(run_dir), "device": device, "warnings": warnings}


def resume_target(params: dict[str, Any], workspace: Path | None) -> tuple[Path, str]:
    """(run folder, the params field that named it)."""
    if "runDir" in params:
        return param_path(params["runDir"], "runDir", workspace), "params.runDir"
    run_id = params["runId"]
    if "/" in run_id or run_id in (".", ".."):
        raise invalid("params.runId", f"expected a run folder's name, got {run_id!r}")
    if workspace is not None:
        return workspace.joinpath(*RUNS_FOLDER, run_id), "params.runId"
    known = RUNS.known_dir(run_id)
    if known is None:
        raise invalid(
            "params.runId",
            f"no run {run_id!r} was started by this sidecar; give params.workspace (the run is "
            "then <workspace>/.codistill/runs/<runId>) or params.runDir",
        )
    return known, "params.runId"


def checkpoint_step(checkpoint: Path) -> int:
    from .checkpoint import STATE_FILE

    try:
        return int(json.loads((checkpoint / STATE_FILE).read_text(encoding="utf-8"))["step"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise invalid(
            "params.checkpoint", f"{checkpoint / STATE_FILE}: unreadable: {exc}"
        ) from None


def train_resume(params: dict[str, Any], token: CancelToken) -> dict[str, Any]:
    from .checkpoint import resolve_checkpoint
    from .config import TrainConfigError, read_run_config

    workspace = workspace_of(params)
    run_dir, field = resume_target(params, workspace)
    run_dir = run_dir.resolve()
    running = RUNS.active()
    if running is not None and running.run_dir == run_dir:
        raise RpcError(
            protocol.TRAINING_RUN_ACTIVE,
            f"Training run {running.run_id} is still going on; it can be resumed once it has "
            "stopped (train/stop)",
            {"runId": running.run_id, "runDir": str(running.run_dir)},
        )
    try:
        config = read_run_config(run_dir)
    except TrainConfigError as exc:
        reason = exc.reason if exc.field == "resume" else f"config.yaml {exc}"
        raise invalid(field, reason) from None
    # The folder resumed is where the run goes on, even if it was moved since it started.
    config.output_dir = str(run_dir)
    try:
        checkpoint = resolve_checkpoint(run_dir, params.get("checkpoint"))
    except TrainConfigError as exc:
        raise invalid(
            "params.checkpoint" if exc.field == "checkpoint" else field, exc.reason
        ) from None
    step = checkpoint_step(checkpoint)
    # A field of the run's own config.yaml (a model folder moved since, say).
    device, warnings = check_run(config, lambda exc: invalid(field, f"config.yaml {exc}"))
    token.raise_if_cancelled()
    run = RUNS.claim(run_dir.name, run_dir)
    log.info("train/resume %s from %s (step %d) on %s", run.run_id, checkpoint, step, device)
    launch(run, config, checkpoint, params.get("git"), token.notify)
    return {
        "runId": run.run_id,
        "runDir": str(run_dir),
        "device": device,
        "warnings": warnings,
        "checkpoint": str(checkpoint),
        "step": step,
    }


def train_stop(params: dict[str, Any], token: CancelToken) -> dict[str, Any]:
    run_id = params["runId"]
    run = RUNS.active()
    if run is None or run.run_id != run_id:
        running = f" (the run in progress is {run.run_id})" if run is not None else ""
        raise invalid("params.runId", f"no training run {run_id!r} is in progress{running}")
    log.info("train/stop %s: stopping after the current step", run_id)
    run.stop_requested.set()
    # The stop stands whatever happens to this request; only the wait can be cancelled.
    while not run.ended.wait(0.05):
        if token.is_cancelled:
            raise RequestCancelled()
    return {"runId": run_id, **run.outcome}


def register_train_methods(registry: MethodRegistry) -> None:
    registry.register("train/start", train_start)
    registry.register("train/resume", train_resume)
    registry.register("train/stop", train_stop)
