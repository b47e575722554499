"""Where a run goes on once train/start or train/resume has answered: a thread of the sidecar
(one process), or a torchrun child followed by a thread (several, child.py). Either way the
thread reports how the run ended (train/finished or train/failed, failures.py) and frees the
run's slot.

A stop (train/stop, sidecar exit) sets the run's ``stop_requested``: the trainer checks it
between steps, and the child's follower sends SIGTERM on seeing it.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..dispatch import Notify
from .child import child_worker
from .failures import describe_failure
from .runs import RUNS, Run, RunNotifier, report_failed, report_finished

if TYPE_CHECKING:
    from .requests import RunRequest

log = logging.getLogger("codistill.train")


def launch(run: Run, request: RunRequest, notify: Notify) -> None:
    """The run in a thread of the sidecar (one process), or in a torchrun child (several)."""
    config, resume_from, git = request.config, request.checkpoint, request.git
    if request.processes == 1:
        target, args = run_worker, (run, config, resume_from, git, notify)
    else:
        target, args = child_worker, (run, config, resume_from, git, notify, request.processes)
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


def run_worker(
    run: Run,
    config: Any,
    resume_from: Path | None,
    git: dict[str, Any] | None,
    notify: Notify,
) -> None:
    """The run's thread in the sidecar: trains, reports how it ended, frees the run's slot."""
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
        report_finished(run, notify, result)
    finally:
        RUNS.release(run)
        run.ended.set()


def release_memory() -> None:
    """Give the run's GPU memory back to the driver, for the next run or an evaluation."""
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
