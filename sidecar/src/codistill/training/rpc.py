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

- ``train/status`` (no params) answers {active}: {runId, runDir, step, totalSteps, processes}
  of the run going on (step: the last one logged or checkpointed, the checkpoint's for a resume
  before its first; totalSteps: null until a step has been logged), or null when none is, so
  a client that lost track of a run (a reopened panel) finds it again.
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

Several processes (``processes`` > 1 in train/start or train/resume; default 1, the thread
above): the run goes on in a child, ``<python> -m torch.distributed.run --standalone --nnodes 1
--nproc_per_node N -m codistill train --config <run>/config.yaml`` (``--resume <run>
[--checkpoint <path>]`` for train/resume), DDP over NCCL on GPUs or gloo on CPUs (the trainer
picks). The sidecar writes the resolved run config to ``<run>/config.yaml`` (the file the trainer
writes there too) before it launches; the child runs in its own session with stdin closed and
its stdout and stderr appended to ``<run>/train.log``, one ``==== <time> <command>`` header per
launch. The sidecar relays what the run writes: ``train/progress`` for each new line of
``<run>/metrics.jsonl`` (the same params as the thread's), ``train/checkpoint`` for each new
``checkpoints/step-N`` (the folder is looked at every ``POLL_S``: a checkpoint saved and pruned
by keep_last in between is not reported), and when the child exits, from ``manifest.json``
(torchrun's own exit code does not tell a stop from a failure: it exits 1 whenever a rank did
not exit 0): ``train/finished`` when the run finished (the adapter) or stopped (the last
checkpoint), else ``train/failed`` whose message is the end of train.log (kind out-of-memory
when it says so, with the thread's suggestions; input when the CLI reported a problem with the
run; else internal).

- ``train/stop`` sends SIGTERM to the child's process group; torchrun forwards it to every rank,
  which stop after the current step with a checkpoint (python -m codistill train's SIGTERM
  handling), and the answer comes once the child has exited. A stop asked for while the ranks
  are still loading is held until the trainer has written manifest.json (the ranks handle
  SIGTERM by then), so, as in the thread, the run stops at its first step boundary. torchrun
  SIGKILLs ranks still running ``STOP_GRACE_S`` (120) seconds after it forwarded the signal
  (``TORCH_ELASTIC_SHUTDOWN_TIMEOUT`` is set to it); a child still running ``KILL_AFTER_S``
  seconds after the SIGTERM is killed by the sidecar (SIGKILL to torchrun and to each rank's
  process group). A run killed either way ends with ``train/failed`` naming the last periodic
  checkpoint, unless it had already saved its stop checkpoint.
- On sidecar exit the child is sent SIGTERM the same way and waited for within the server's
  shutdown grace; past it the sidecar exits without waiting, and the ranks, already told, finish
  their step and checkpoint on their own (torchrun's timeout above bounds them). A sidecar killed
  outright (SIGKILL) cannot signal: the ranks watch its pid (``CODISTILL_STOP_WITH_PID``) and
  stop the same way once it is gone.
- train/start refuses (-32602 naming params.processes) more processes than CUDA GPUs when the run
  trains on CUDA; train/resume refuses a number of processes other than the one that wrote the
  checkpoint (an exact resume needs it; its default is that number).

This module imports nothing heavy at import time: the server registers it at startup, which
must stay torch-free; torch and the trainer are imported by the handlers.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import signal
import subprocess
import sys
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
# Runs of several processes: their output, how often the run folder is looked at, and how long
# a stopped child may take to finish its step and checkpoint before it is killed.
TRAIN_LOG = "train.log"
POLL_S = 0.2
STOP_GRACE_S = 120
# After which the sidecar kills what is left itself (torchrun kills its ranks at STOP_GRACE_S).
KILL_AFTER_S = STOP_GRACE_S + 10
# Lines of train.log a failure's message ends with.
LOG_TAIL_LINES = 40
LOG_TAIL_CHARS = 6000


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


# --- failures -------------------------------------------------------------------------------


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
    from .trainer import OutOfMemory, is_out_of_memory

    if is_out_of_memory(exc):
        # The trainer's OutOfMemory says where and how much; its remedies are the list below.
        text = exc.summary if isinstance(exc, OutOfMemory) else str(exc)
        message = text if text.startswith("out of ") else f"out of memory: {text}"
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

    taken = ckpt.results_in(run_dir)
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


def check_processes(processes: int, device: str) -> None:
    """Several processes need a GPU each on CUDA (NCCL); on CPUs they share the machine (gloo),
    under ddp or fsdp alike."""
    if processes == 1 or device != "cuda":
        return
    import torch

    count = torch.cuda.device_count()
    if processes > count:
        raise invalid(
            "params.processes",
            f"{processes} processes need {processes} CUDA GPUs (one each), torch sees {count}",
        )


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
    processes: int = 1,
) -> None:
    """The run in a thread of the sidecar (one process), or in a torchrun child (several)."""
    if processes == 1:
        target, args = run_worker, (run, config, resume_from, git, notify)
    else:
        target, args = child_worker, (run, config, resume_from, git, notify, processes)
    thread = threading.Thread(
        target=target,
        args=args,
        name=f"codistill-train-{run.run_id}",
        # Exit does not wait for it: the server's exit hook stops it within the grace period.
        daemon=True,
    )
    try:
        thread.start()
    except BaseException:
        RUNS.release(run)
        raise


def report_finished(
    run: Run,
    notify: Notify,
    *,
    run_dir: Path,
    step: int,
    total_steps: int,
    stopped: bool,
    adapter: Path | None,
    checkpoint: Path | None,
    record: dict[str, Any],
) -> None:
    """train/finished, with the outcome train/stop answers; the slot is freed before telling, so
    a client that resumes on train/finished finds it free."""
    metrics, non_finite = split_metrics(record)
    params: dict[str, Any] = {
        "runId": run.run_id,
        "runDir": str(run_dir),
        "step": step,
        "totalSteps": total_steps,
        "stopped": stopped,
        "adapter": str(adapter) if adapter else None,
        "checkpoint": str(checkpoint) if checkpoint else None,
        "metrics": metrics,
    }
    if non_finite:
        params["nonFinite"] = non_finite
    run.outcome = {
        "stopped": stopped,
        "state": "stopped" if stopped else "finished",
        "step": step,
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


def run_worker(
    run: Run,
    config: Any,
    resume_from: Path | None,
    git: dict[str, Any] | None,
    notify: Notify,
) -> None:
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
            release_memory()
            report_failed(run, notify, failure, notifier.last_step)
            return
        release_memory()
        report_finished(
            run,
            notify,
            run_dir=result.run_dir,
            step=result.step,
            total_steps=result.total_steps,
            stopped=result.stopped,
            adapter=result.adapter_dir,
            checkpoint=result.last_checkpoint,
            record=result.metrics,
        )
    finally:
        RUNS.release(run)
        run.ended.set()


# --- runs of several processes --------------------------------------------------------------


class MetricsTail:
    """The whole lines a child appends to <run>/metrics.jsonl, each once, in step order. The
    lines already there are a previous launch's; a resumed run rewrites the file without the
    lines past its checkpoint (a new file in its place), so another file, or a shorter one, is
    read again from its top, and lines of steps already relayed are skipped."""

    def __init__(self, path: Path, after_step: int) -> None:
        self.path = path
        self.after_step = after_step
        self.identity: tuple[int, int] | None = None
        self.offset = 0
        self.partial = b""
        try:
            stat = path.stat()
        except OSError:
            return
        self.identity, self.offset = (stat.st_dev, stat.st_ino), stat.st_size

    def read(self) -> list[dict[str, Any]]:
        try:
            handle = self.path.open("rb")
        except OSError:
            return []
        with handle:
            stat = os.fstat(handle.fileno())
            identity = (stat.st_dev, stat.st_ino)
            if identity != self.identity or stat.st_size < self.offset:
                self.identity, self.offset, self.partial = identity, 0, b""
            handle.seek(self.offset)
            data = handle.read()
        self.offset += len(data)
        *lines, self.partial = (self.partial + data).split(b"\n")
        records = []
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                log.debug("%s: unreadable line %r", self.path, line[:200])
                continue
            step = record.get("step") if isinstance(record, dict) else None
            if not isinstance(step, int) or step <= self.after_step:
                continue
            self.after_step = step
            records.append(record)
        return records


class CheckpointWatch:
    """Whole checkpoints that appear in the run folder (or are written again, when a resume from
    an older one reaches the step of a newer one), oldest first."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.known = self.scan()

    def scan(self) -> dict[Path, tuple[int, int]]:
        """{folder: (step, when its trainer_state.json was written)}"""
        from . import checkpoint as ckpt

        found = {}
        for step, path in ckpt.list_checkpoints(self.run_dir):
            try:
                found[path] = (step, (path / ckpt.STATE_FILE).stat().st_mtime_ns)
            except OSError:
                continue  # pruned meanwhile
        return found

    def new(self) -> list[dict[str, Any]]:
        current = self.scan()
        fresh = sorted(
            (step, str(path))
            for path, (step, stamp) in current.items()
            if self.known.get(path) != (step, stamp)
        )
        self.known = current
        return [{"step": step, "path": path} for step, path in fresh]


def child_command(
    config_file: Path | None,
    resume_from: Path | None,
    run_dir: Path,
    git: dict[str, Any] | None,
    processes: int,
) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nnodes",
        "1",
        "--nproc_per_node",
        str(processes),
        "-m",
        "codistill",
        "train",
    ]
    if resume_from is not None:
        command += ["--resume", str(run_dir), "--checkpoint", str(resume_from)]
    else:
        command += ["--config", str(config_file)]
    if git is not None:
        command += ["--git-json", json.dumps(git)]
    return command


def child_env() -> dict[str, str]:
    from .cli import STOP_WITH_PID_ENV

    env = dict(os.environ)
    # The ranks import this very copy of the package, whichever way the sidecar found it.
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env["TORCH_ELASTIC_SHUTDOWN_TIMEOUT"] = str(STOP_GRACE_S)
    env[STOP_WITH_PID_ENV] = str(os.getpid())
    return env


def child_pids(pid: int) -> list[int]:
    """The direct children of ``pid`` (torchrun's ranks, each in its own session)."""
    proc = Path("/proc")
    if proc.is_dir():
        children = []
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces and parentheses.
            fields = stat[stat.rfind(")") + 2 :].split()
            if len(fields) > 1 and fields[1] == str(pid):
                children.append(int(entry.name))
        return children
    try:
        listing = subprocess.run(
            ["ps", "-A", "-o", "pid=,ppid="], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    pairs = [line.split() for line in listing.splitlines()]
    return [int(p[0]) for p in pairs if len(p) == 2 and p[1] == str(pid)]


def signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def kill_child(child: subprocess.Popen) -> None:
    """SIGKILL for torchrun and for each rank's process group (torchrun starts each rank in a
    session of its own, so killing torchrun's group alone would leave them running)."""
    ranks = child_pids(child.pid)
    signal_group(child.pid, signal.SIGKILL)
    for pid in ranks:
        signal_group(pid, signal.SIGKILL)


def read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def log_tail(path: Path, offset: int) -> str:
    """The last lines this launch wrote to train.log, without torchrun's own traceback (its
    failure summary stays) and with the line every rank printed alike once."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", errors="replace")
    except OSError as exc:
        return f"({path}: {exc.strerror or exc})"
    lines = text.rstrip().splitlines()
    failed_at = next(
        (i for i in range(len(lines) - 1, -1, -1) if "ChildFailedError" in lines[i]), None
    )
    if failed_at is not None:
        starts = [i for i in range(failed_at) if lines[i].startswith("Traceback (most recent")]
        if starts:
            del lines[starts[-1] : failed_at + 1]
    kept = [line for i, line in enumerate(lines) if i == 0 or line != lines[i - 1]]
    return "\n".join(kept[-LOG_TAIL_LINES:])[-LOG_TAIL_CHARS:]


# torchrun's failure summary: the rank that failed first and its exit code.
ROOT_CAUSE = re.compile(
    r"Root Cause \(first observed failure\):.*?rank\s*:\s*(\d+).*?exitcode\s*:\s*(-?\d+)",
    re.DOTALL,
)


def exit_description(code: int) -> str:
    if code < 0:
        try:
            return f"were killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"were killed by signal {-code}"
    return f"exited with code {code}"


def describe_child_failure(code: int, tail: str, log_file: Path, config: Any) -> dict[str, Any]:
    """train/failed's kind, message and suggestions for a child that ended without a finished
    or stopped run: the message is the end of train.log."""
    from .cli import EXIT_BAD_INPUT

    how = exit_description(code)
    root = ROOT_CAUSE.search(tail)
    rank_code = int(root.group(2)) if root else None
    if root:
        how += f" (rank {root.group(1)} first, with code {rank_code})"
    message = f"the training processes {how}; the end of {log_file}:\n{tail}"
    from .trainer import mentions_out_of_memory

    if mentions_out_of_memory(tail):
        return {
            "kind": "out-of-memory",
            "message": message,
            "suggestions": out_of_memory_suggestions(config),
        }
    # The CLI prints "codistill train: <problem>" for a config, input or device it cannot use.
    if EXIT_BAD_INPUT in (code, rank_code) or "codistill train: " in tail:
        return {"kind": "input", "message": message}
    return {"kind": "internal", "message": message}


def child_worker(
    run: Run,
    config: Any,
    resume_from: Path | None,
    git: dict[str, Any] | None,
    notify: Notify,
    processes: int,
) -> None:
    from . import checkpoint as ckpt
    from .config import CONFIG_FILE
    from .metrics import METRICS_FILE

    run_dir = run.run_dir
    notifier = RunNotifier(notify, run)
    last_record: dict[str, Any] = {}
    log_file = run_dir / TRAIN_LOG
    manifest_file = run_dir / ckpt.MANIFEST_FILE
    try:
        resume_step = checkpoint_step(resume_from) if resume_from is not None else 0
        metrics = MetricsTail(run_dir / METRICS_FILE, resume_step)
        checkpoints = CheckpointWatch(run_dir)
        manifest_before = read_text(manifest_file)
        command = child_command(run_dir / CONFIG_FILE, resume_from, run_dir, git, processes)
        with log_file.open("ab") as out:
            offset = out.tell()
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            out.write(f"==== {stamp} {subprocess.list2cmdline(command)}\n".encode())
            out.flush()
            child = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=str(run_dir),
                env=child_env(),
                start_new_session=True,
            )
        run.child = child
        log.info("training run %s: %d processes, pid %d", run.run_id, processes, child.pid)

        def relay() -> None:
            # In the thread's order: a step's progress, then its checkpoint.
            nonlocal last_record
            events = [(int(r["step"]), 0, r) for r in metrics.read()]
            events += [(info["step"], 1, info) for info in checkpoints.new()]
            for _, kind, item in sorted(events, key=lambda e: e[:2]):
                if kind == 0:
                    last_record = item
                    notifier.progress(item)
                else:
                    notifier.checkpoint(item)

        term_sent: float | None = None
        killed = False
        while True:
            try:
                code = child.wait(timeout=POLL_S)
            except subprocess.TimeoutExpired:
                code = None
            relay()
            if code is not None:
                break
            if run.stop_requested.is_set():
                # Held until this launch's trainer wrote the manifest: every rank is past the
                # setup's barrier then, with its SIGTERM handler installed (a SIGTERM before
                # that would kill torchrun or a rank outright); as in the thread, a run stops
                # at its first step boundary.
                if term_sent is None and read_text(manifest_file) != manifest_before:
                    log.info("training run %s: SIGTERM to its processes", run.run_id)
                    signal_group(child.pid, signal.SIGTERM)
                    term_sent = time.monotonic()
                elif (
                    term_sent is not None
                    and not killed
                    and time.monotonic() - term_sent > KILL_AFTER_S
                ):
                    log.warning(
                        "training run %s did not stop within %d s; killing it",
                        run.run_id,
                        KILL_AFTER_S,
                    )
                    kill_child(child)
                    killed = True
        relay()
        manifest_text = read_text(manifest_file)
        manifest: dict[str, Any] = {}
        if manifest_text is not None and manifest_text != manifest_before:
            try:
                manifest = json.loads(manifest_text)
            except ValueError:
                manifest = {}
        state = manifest.get("state")
        adapter = run_dir / ckpt.ADAPTER_DIR
        finished = state == "finished" and (adapter / ckpt.ADAPTER_CONFIG).is_file()
        # The manifest rather than the exit code: torchrun exits 1 when a rank exits 130.
        if finished or state == "stopped":
            stopped = not finished
            step = manifest.get("step")
            total = manifest.get("totalSteps")
            report_finished(
                run,
                notify,
                run_dir=run_dir,
                step=int(step if step is not None else notifier.last_step or 0),
                total_steps=int(total if total is not None else last_record.get("total_steps", 1)),
                stopped=stopped,
                adapter=None if stopped else adapter,
                checkpoint=ckpt.latest_checkpoint(run_dir),
                record=last_record,
            )
            log.info("training run %s %s (exit %s)", run.run_id, state, code)
            return
        tail = log_tail(log_file, offset)
        if term_sent is not None:
            # Stopped (train/stop, sidecar exit) but ended without the stop checkpoint.
            how = (
                f"were killed {KILL_AFTER_S} s after SIGTERM" if killed else exit_description(code)
            )
            failure = {
                "kind": "internal",
                "message": f"asked to stop, the training processes {how} before saving a "
                f"checkpoint; the end of {log_file}:\n{tail}",
            }
        else:
            failure = describe_child_failure(code, tail, log_file, config)
        log.error("training run %s failed (exit %s)", run.run_id, code)
        report_failed(run, notify, failure, notifier.last_step)
    except Exception as exc:
        log.exception("training run %s: launching or following its processes failed", run.run_id)
        if run.child is not None and run.child.poll() is None:
            kill_child(run.child)
        report_failed(
            run,
            notify,
            {"kind": "internal", "message": f"{type(exc).__name__}: {exc}"},
            notifier.last_step,
        )
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
    from .config import TrainConfigError, load_config, write_config

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
    processes = params.get("processes", 1)
    check_processes(processes, device)
    token.raise_if_cancelled()
    run = RUNS.claim(run_dir.name, run_dir, processes)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)  # reserves a name the sidecar chose
        if processes > 1:
            # What python -m codistill train --config reads; the trainer writes it again.
            write_config(config, run_dir)
    except OSError as exc:
        RUNS.release(run)
        raise invalid(
            run_dir_field, f"{run_dir}: cannot write to it: {exc.strerror or exc}"
        ) from None
    log.info("train/start %s in %s on %s x%d", run.run_id, run_dir, device, processes)
    launch(run, config, None, params.get("git"), token.notify, processes)
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


def checkpoint_state(checkpoint: Path) -> tuple[int, int]:
    """(step, processes that wrote it) of a checkpoint's trainer_state.json."""
    from .checkpoint import STATE_FILE

    try:
        state = json.loads((checkpoint / STATE_FILE).read_text(encoding="utf-8"))
        return int(state["step"]), int(state.get("world_size", 1))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise invalid(
            "params.checkpoint", f"{checkpoint / STATE_FILE}: unreadable: {exc}"
        ) from None


def checkpoint_step(checkpoint: Path) -> int:
    return checkpoint_state(checkpoint)[0]


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
    step, written_by = checkpoint_state(checkpoint)
    # An exact resume restores each rank's RNG: the same number of processes, by default.
    processes = params.get("processes", written_by)
    if processes != written_by:
        raise invalid(
            "params.processes",
            f"{checkpoint} was written by {written_by} process(es); an exact resume needs the "
            f"same number ({written_by})",
        )
    # A field of the run's own config.yaml (a model folder moved since, say).
    device, warnings = check_run(config, lambda exc: invalid(field, f"config.yaml {exc}"))
    check_processes(processes, device)
    token.raise_if_cancelled()
    run = RUNS.claim(run_dir.name, run_dir, processes, step)
    log.info(
        "train/resume %s from %s (step %d) on %s x%d",
        run.run_id,
        checkpoint,
        step,
        device,
        processes,
    )
    launch(run, config, checkpoint, params.get("git"), token.notify, processes)
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
    # The thread checks it between steps; a child's follower sends SIGTERM on seeing it.
    run.stop_requested.set()
    # The stop stands whatever happens to this request; only the wait can be cancelled.
    while not run.ended.wait(0.05):
        if token.is_cancelled:
            raise RequestCancelled()
    return {"runId": run_id, **run.outcome}


def train_status(params: dict[str, Any] | None, token: CancelToken) -> dict[str, Any]:
    return {"active": RUNS.status()}


def register_train_methods(registry: MethodRegistry) -> None:
    registry.register("train/start", train_start)
    registry.register("train/resume", train_resume)
    registry.register("train/stop", train_stop)
    registry.register("train/status", train_status)
