"""A run of several processes: the sidecar's torchrun child, and what the sidecar relays from it.

With ``processes`` > 1 in train/start or train/resume the run goes on in a child, ``<python> -m
torch.distributed.run --standalone --nnodes 1 --nproc_per_node N -m codistill train --config
<run>/config.yaml`` (``--resume <run> [--checkpoint <path>]`` for train/resume), DDP over NCCL on
GPUs or gloo on CPUs (the trainer picks). The sidecar writes the resolved run config to
``<run>/config.yaml`` (the file the trainer writes there too) before it launches; the child runs
in its own session with stdin closed and its stdout and stderr appended to ``<run>/train.log``,
one ``==== <time> <command>`` header per launch. The sidecar relays what the run writes:
``train/progress`` for each new line of ``<run>/metrics.jsonl`` (the same params as the
thread's), ``train/checkpoint`` for each new ``checkpoints/step-N`` (the folder is looked at
every ``POLL_S``: a checkpoint saved and pruned by keep_last in between is not reported), and
when the child exits, from ``manifest.json`` (torchrun's own exit code does not tell a stop from
a failure: it exits 1 whenever a rank did not exit 0): ``train/finished`` when the run finished
(the adapter) or stopped (the last checkpoint), else ``train/failed`` whose message is the end
of train.log (failures.describe_child_failure: kind out-of-memory when it says so, with the
thread's suggestions; input when the CLI reported a problem with the run; else internal).

- A stop (train/stop, sidecar exit) sends SIGTERM to the child's process group; torchrun
  forwards it to every rank, which stop after the current step with a checkpoint (python -m
  codistill train's SIGTERM handling). A stop asked for while the ranks are still loading is
  held until the trainer has written manifest.json (the ranks handle SIGTERM by then), so, as in
  the thread, the run stops at its first step boundary. torchrun SIGKILLs ranks still running
  ``STOP_GRACE_S`` (120) seconds after it forwarded the signal (``TORCH_ELASTIC_SHUTDOWN_TIMEOUT``
  is set to it); a child still running ``KILL_AFTER_S`` seconds after the SIGTERM is killed by
  the sidecar (SIGKILL to torchrun and to each rank's process group). A run killed either way
  ends with ``train/failed`` naming the last periodic checkpoint, unless it had already saved its
  stop checkpoint.
- A sidecar killed outright (SIGKILL) cannot signal: the ranks watch its pid
  (``CODISTILL_STOP_WITH_PID``) and stop the same way once it is gone.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..dispatch import Notify
from .failures import describe_child_failure, exit_description
from .runs import RUNS, Run, RunNotifier, report_failed, report_finished

log = logging.getLogger("codistill.train")

# Its output, how often the run folder is looked at, and how long a stopped child may take to
# finish its step and checkpoint before it is killed.
TRAIN_LOG = "train.log"
POLL_S = 0.2
STOP_GRACE_S = 120
# After which the sidecar kills what is left itself (torchrun kills its ranks at STOP_GRACE_S).
KILL_AFTER_S = STOP_GRACE_S + 10
# Lines of train.log a failure's message ends with.
LOG_TAIL_LINES = 40
LOG_TAIL_CHARS = 6000


# --- following the child ----------------------------------------------------------------------


def child_worker(
    run: Run,
    config: Any,
    resume_from: Path | None,
    git: dict[str, Any] | None,
    notify: Notify,
    processes: int,
) -> None:
    """The run's thread in the sidecar: launches the child, relays what it writes, reports how
    it ended, and frees the run's slot."""
    child = Child(run, notify)
    try:
        child.start(resume_from, git, processes)
        child.report(child.follow(), config)
    except Exception as exc:
        log.exception("training run %s: launching or following its processes failed", run.run_id)
        if run.child is not None and run.child.poll() is None:
            kill_child(run.child)
        report_failed(
            run,
            notify,
            {"kind": "internal", "message": f"{type(exc).__name__}: {exc}"},
            child.notifier.last_step,
        )
    finally:
        RUNS.release(run)
        run.ended.set()


class Child:
    """One launch of a run's torchrun child, followed until it exits."""

    def __init__(self, run: Run, notify: Notify) -> None:
        from . import checkpoint as ckpt

        self.run = run
        self.notify = notify
        self.notifier = RunNotifier(notify, run)
        self.last_record: dict[str, Any] = {}
        self.log_file = run.run_dir / TRAIN_LOG
        self.manifest_file = run.run_dir / ckpt.MANIFEST_FILE
        # When SIGTERM went to the processes (a stop), and whether they were killed after it.
        self.term_sent: float | None = None
        self.killed = False

    def start(self, resume_from: Path | None, git: dict[str, Any] | None, processes: int) -> None:
        from .config import CONFIG_FILE
        from .metrics import METRICS_FILE

        run, run_dir = self.run, self.run.run_dir
        # run.step is the checkpoint's step for a resume, 0 for a start: the lines up to it are
        # a previous launch's.
        self.metrics = MetricsTail(run_dir / METRICS_FILE, run.step)
        self.checkpoints = CheckpointWatch(run_dir)
        self.manifest_before = read_text(self.manifest_file)
        command = child_command(run_dir / CONFIG_FILE, resume_from, run_dir, git, processes)
        with self.log_file.open("ab") as out:
            self.offset = out.tell()
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            out.write(f"==== {stamp} {subprocess.list2cmdline(command)}\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=str(run_dir),
                env=child_env(),
                start_new_session=True,
            )
        run.child = self.process
        log.info("training run %s: %d processes, pid %d", run.run_id, processes, self.process.pid)

    def follow(self) -> int:
        """Relay until the child exits, stopping it when asked; its exit code."""
        while True:
            try:
                code = self.process.wait(timeout=POLL_S)
            except subprocess.TimeoutExpired:
                code = None
            self.relay()
            if code is not None:
                break
            if self.run.stop_requested.is_set():
                self.stop()
        self.relay()
        return code

    def relay(self) -> None:
        """New metrics lines and checkpoints as notifications, in the thread's order: a step's
        progress, then its checkpoint."""
        events = [(int(r["step"]), 0, r) for r in self.metrics.read()]
        events += [(info["step"], 1, info) for info in self.checkpoints.new()]
        for _, kind, item in sorted(events, key=lambda e: e[:2]):
            if kind == 0:
                self.last_record = item
                self.notifier.progress(item)
            else:
                self.notifier.checkpoint(item)

    def stop(self) -> None:
        """SIGTERM to the processes, then SIGKILL if they outlast KILL_AFTER_S."""
        # Held until this launch's trainer wrote the manifest: every rank is past the setup's
        # barrier then, with its SIGTERM handler installed (a SIGTERM before that would kill
        # torchrun or a rank outright); as in the thread, a run stops at its first step
        # boundary.
        if self.term_sent is None and read_text(self.manifest_file) != self.manifest_before:
            log.info("training run %s: SIGTERM to its processes", self.run.run_id)
            signal_group(self.process.pid, signal.SIGTERM)
            self.term_sent = time.monotonic()
        elif (
            self.term_sent is not None
            and not self.killed
            and time.monotonic() - self.term_sent > KILL_AFTER_S
        ):
            log.warning(
                "training run %s did not stop within %d s; killing it",
                self.run.run_id,
                KILL_AFTER_S,
            )
            kill_child(self.process)
            self.killed = True

    def report(self, code: int, config: Any) -> None:
        """train/finished when this launch's manifest says the run finished or stopped (rather
        than the exit code: torchrun exits 1 when a rank exits 130), else train/failed."""
        from . import checkpoint as ckpt
        from .trainer import TrainResult

        run, run_dir = self.run, self.run.run_dir
        manifest = self.manifest()
        state = manifest.get("state")
        adapter = run_dir / ckpt.ADAPTER_DIR
        finished = state == "finished" and (adapter / ckpt.ADAPTER_CONFIG).is_file()
        if finished or state == "stopped":
            step, total = manifest.get("step"), manifest.get("totalSteps")
            result = TrainResult(
                run_dir,
                int(step if step is not None else self.notifier.last_step or 0),
                int(total if total is not None else self.last_record.get("total_steps", 1)),
                not finished,
                adapter if finished else None,
                ckpt.latest_checkpoint(run_dir),
                self.last_record,
            )
            report_finished(run, self.notify, result)
            log.info("training run %s %s (exit %s)", run.run_id, state, code)
            return
        tail = log_tail(self.log_file, self.offset)
        if self.term_sent is not None:
            failure = self.stop_failure(code, tail)
        else:
            failure = describe_child_failure(code, tail, self.log_file, config)
        log.error("training run %s failed (exit %s)", run.run_id, code)
        report_failed(run, self.notify, failure, self.notifier.last_step)

    def manifest(self) -> dict[str, Any]:
        """manifest.json as this launch left it; {} when it did not write one."""
        text = read_text(self.manifest_file)
        if text is None or text == self.manifest_before:
            return {}
        try:
            return json.loads(text)
        except ValueError:
            return {}

    def stop_failure(self, code: int, tail: str) -> dict[str, Any]:
        """Stopped (train/stop, sidecar exit) but ended without the stop checkpoint."""
        how = (
            f"were killed {KILL_AFTER_S} s after SIGTERM" if self.killed else exit_description(code)
        )
        return {
            "kind": "internal",
            "message": f"asked to stop, the training processes {how} before saving a "
            f"checkpoint; the end of {self.log_file}:\n{tail}",
        }


# --- what it writes ---------------------------------------------------------------------------


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


# --- the processes ----------------------------------------------------------------------------


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
