"""What train/start and train/resume ask for, checked before they answer.

Everything that can be checked without loading the models is checked here: the config, the
files it names, the run folder, the device and the number of processes. Every problem found is
a -32602 naming the parameter and the config field (``params.config.lora.r: must be >= 1, got
0``; a model folder that lacks a file names the file).

Without params.workspace every path must be absolute: relative ones would resolve against the
sidecar's working directory, which the extension does not choose. train/start refuses more
processes than CUDA GPUs when the run trains on CUDA; train/resume refuses a number of processes
other than the one that wrote the checkpoint (an exact resume needs it; its default is that
number).

Imports nothing heavy at import time; resolve_device imports torch when a request is checked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import protocol
from ..dispatch import RpcError
from .runs import RUNS, RUNS_FOLDER, Run, new_run_dir

NO_CUDA_WARNING = "no CUDA GPU: training runs on the CPU, which is practical for small models only"


@dataclass
class RunRequest:
    """A train/start or train/resume whose inputs have been checked: the run, where it goes on,
    on what, and (train/resume) the checkpoint it carries on from."""

    config: Any  # TrainConfig, output_dir resolved
    run_dir: Path
    run_dir_field: str  # the params field that named the run folder
    device: str  # "cuda" | "cpu"
    warnings: list[str]
    processes: int
    git: dict[str, Any] | None
    checkpoint: Path | None = None
    step: int = 0  # the checkpoint's

    @property
    def run_id(self) -> str:
        return self.run_dir.name

    @property
    def where(self) -> str:
        """The device and the processes, for the log: "cpu x1", "cuda x2"."""
        return f"{self.device} x{self.processes}"

    def answer(self) -> dict[str, Any]:
        answer = {
            "runId": self.run_id,
            "runDir": str(self.run_dir),
            "device": self.device,
            "warnings": self.warnings,
        }
        if self.checkpoint is not None:
            answer.update(checkpoint=str(self.checkpoint), step=self.step)
        return answer


# --- train/start ------------------------------------------------------------------------------


def start_request(params: dict[str, Any]) -> RunRequest:
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
    processes = params.get("processes", 1)
    check_processes(processes, device)
    return RunRequest(
        config, run_dir, run_dir_field, device, warnings, processes, params.get("git")
    )


def make_run_dir(run: Run, request: RunRequest) -> None:
    """The run folder (which reserves a name the sidecar chose) and, for a run of several
    processes, the config.yaml that python -m codistill train reads (the trainer writes it
    again). A folder that cannot be written frees the run's slot and names the folder's field."""
    from .config import write_config

    run_dir = request.run_dir
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        if request.processes > 1:
            write_config(request.config, run_dir)
    except OSError as exc:
        RUNS.release(run)
        raise invalid(
            request.run_dir_field, f"{run_dir}: cannot write to it: {exc.strerror or exc}"
        ) from None


# --- train/resume -----------------------------------------------------------------------------


def resume_request(params: dict[str, Any]) -> RunRequest:
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
    return RunRequest(
        config, run_dir, field, device, warnings, processes, params.get("git"), checkpoint, step
    )


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


# --- checks -----------------------------------------------------------------------------------


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
    from .models import resolve_precision

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
