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
above): the run goes on in a torchrun child whose output the sidecar relays as the same
notifications (child.py). train/stop and sidecar exit send it SIGTERM, which every rank takes
as a stop after the current step; on sidecar exit the ranks, once told, finish their step and
checkpoint on their own past the shutdown grace.

The pieces: the checks before an answer in requests.py, the run folders, the one run at a time
and its notifications in runs.py, the run's thread in launch.py, the child in child.py, and
train/failed's descriptions in failures.py.

This module imports nothing heavy at import time: the server registers it at startup, which
must stay torch-free; torch and the trainer are imported by the handlers.
"""

from __future__ import annotations

import logging
from typing import Any

from ..dispatch import CancelToken, MethodRegistry, RequestCancelled
from .launch import launch
from .requests import invalid, make_run_dir, resume_request, start_request
from .runs import RUNS

log = logging.getLogger("codistill.train")


def train_start(params: dict[str, Any], token: CancelToken) -> dict[str, Any]:
    request = start_request(params)
    token.raise_if_cancelled()
    run = RUNS.claim(request.run_id, request.run_dir, request.processes)
    make_run_dir(run, request)
    log.info("train/start %s in %s on %s", run.run_id, request.run_dir, request.where)
    launch(run, request, token.notify)
    return request.answer()


def train_resume(params: dict[str, Any], token: CancelToken) -> dict[str, Any]:
    request = resume_request(params)
    token.raise_if_cancelled()
    run = RUNS.claim(request.run_id, request.run_dir, request.processes, request.step)
    where = f"from {request.checkpoint} (step {request.step}) on {request.where}"
    log.info("train/resume %s %s", run.run_id, where)
    launch(run, request, token.notify)
    return request.answer()


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


def stop_training_runs(deadline: float) -> bool:
    """The server's exit hook."""
    return RUNS.stop_all(deadline)


def register_train_methods(registry: MethodRegistry) -> None:
    registry.register("train/start", train_start)
    registry.register("train/resume", train_resume)
    registry.register("train/stop", train_stop)
    registry.register("train/status", train_status)
