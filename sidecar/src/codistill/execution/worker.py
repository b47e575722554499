"""A pre-started worker: reads one job per line on stdin, forks a fresh sandboxed child for it,
judges what the child reports and writes one result per line on stdout.

Run as ``python -m codistill.execution.worker UID`` by `Executor`. The worker first moves into
its own namespaces (isolation.py) as their init, so that whatever a sample leaves is killed with
one kill(-1). The child (one per sample): new session and process group, a fresh temporary
directory as cwd and HOME, stdin /dev/null, stdout and stderr to files in that directory, rlimits
(address space, CPU, file size, core, process count), when the worker runs as root a uid of its
own, then no privileges and Landlock (isolation.py); its first frame names the isolation it got.
It reports over a pipe: one JSON frame per test, then the per-run nonce.
The worker compares outputs itself, so nothing the sample returns is trusted to compare itself.
Expected call outputs come from a file of one JSON text per line, opened after the fork; a
reference run ("record" mode) writes that file and reports the time each input took.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import re
import resource
import secrets
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
from typing import Any, BinaryIO

from .compare import call_output_matches, canon, stdout_matches
from .evalplus import Plan, convert_input, oracle_verdict, transform_output
from .isolation import (
    LIBC,
    Isolation,
    drop_privileges,
    enter_namespaces,
    refuse_socket_families,
    restrict_with_landlock,
)

PR_SET_CHILD_SUBREAPER = 36
MAX_FRAMES_BYTES = 64 << 20
# An answer whose JSON is longer travels as a SHA-256 digest, compared exactly: MBPP+/255 answers
# 900 MB on one input. Shorter ones (HumanEval+/130's 12 MB lists) keep the float tolerance.
DIGEST_OVER_CHARS = 32 << 20
# Reference runs are trusted to be large: HumanEval+/15 and /130 answer over 64 MB in all.
MAX_RECORD_BYTES = 512 << 20
# A call's result frame as the child writes it (see _out_frame); the value's JSON text follows.
OUT_FRAME = re.compile(rb'\{"i": (\d+), "t": (\d+\.\d+), "out": ')
MAX_MESSAGE = 500


def _truncate(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ----------------------------------------------------------------------------- child side


def _refuse_sockets() -> None:
    """Without a network namespace, at least Python's own sockets fail. Not a boundary (ctypes
    or a subprocess gets round it): the isolation's name says there is no network namespace."""
    import socket

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("network access is disabled in the sandbox")

    class NoSocket(socket.socket):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            refuse()

    socket.socket = NoSocket  # type: ignore[misc]
    socket.create_connection = refuse  # type: ignore[assignment]
    socket.socketpair = refuse  # type: ignore[assignment]
    try:
        import _socket

        _socket.socket = NoSocket  # type: ignore[misc]
    except ImportError:
        pass


def _set_limit(which: int, value: int) -> None:
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            try:
                resource.setrlimit(which, (min(value, hard), hard))
            except (ValueError, OSError):
                pass


def _child(
    job: dict[str, Any], wfd: int, nonce: str, tmp: str, uid: int | None, isolation: Isolation
) -> None:
    """The sample's process: limits, privileges and Landlock, then the sample and its tests.
    `isolation` holds the worker's namespaces, which the child shares (see main)."""
    os.setsid()
    os.chdir(tmp)
    limits = job["limits"]
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        isolation.own_uid = True
    # Counted per uid (per user namespace since Linux 5.14): with a uid or a user namespace of
    # its own, the sample's processes alone; otherwise on top of the user's own processes.
    shared = 0 if isolation.own_uid or isolation.userns else _processes_of(os.getuid())
    _set_limit(resource.RLIMIT_NPROC, shared + int(limits["nproc"]))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    for fd, name in ((1, "stdout.txt"), (2, "stderr.txt")):
        out = os.open(os.path.join(tmp, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, fd)
        os.close(out)
    os.close(devnull)
    os.closerange(3, wfd)
    os.closerange(wfd + 1, 65536)
    os.environ["HOME"] = tmp
    os.environ["TMPDIR"] = tmp
    tempfile.tempdir = tmp
    _set_limit(resource.RLIMIT_AS, int(limits["address_space"]))
    _set_limit(resource.RLIMIT_CPU, int(limits["cpu_s"]))
    _set_limit(resource.RLIMIT_FSIZE, int(limits["file_size"]))
    _set_limit(resource.RLIMIT_CORE, 0)
    drop_privileges(isolation)
    restrict_with_landlock(isolation, tmp)
    if not isolation.netns:
        refuse_socket_families(isolation)
        _refuse_sockets()
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    write = os.write

    def send_bytes(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[write(wfd, view) :]

    def send(frame: dict[str, Any]) -> None:
        send_bytes((json.dumps(frame) + "\n").encode("utf-8"))

    send({"isolation": isolation.name, "problems": isolation.problems})
    tests = job["tests"]
    kind = tests["kind"]
    index: int | None = None
    try:
        globals_: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        if kind == "stdio":
            code = compile(job["program"], "<solution>", "exec")
            send({"phase": "loaded"})
            for index, text in enumerate(tests["inputs"]):
                _run_stdio(code, text, index, tmp)
                send({"i": index, "ran": True})
        else:
            exec(compile(job["program"], "<solution>", "exec"), globals_)  # noqa: S102
            send({"phase": "loaded"})
            if kind == "assert":
                if tests.get("setup"):
                    exec(compile(tests["setup"], "<setup>", "exec"), globals_)  # noqa: S102
                exec(compile(tests["code"], "<tests>", "exec"), globals_)  # noqa: S102
            else:
                fn = _find_function(globals_, tests["fnName"])
                plan = job.get("evalplus")
                record = job.get("mode") == "record"
                for index, args in enumerate(tests["inputs"]):
                    seconds, text = _call(fn, plan, args, record)
                    send_bytes(_out_frame(index, seconds, text))
        sys.stdout.flush()
        send({"end": nonce})
    except BaseException as exc:  # noqa: BLE001 - everything the sample raises is a verdict
        frame: dict[str, Any] = {"error": _describe(exc)}
        if isinstance(exc, MemoryError):
            frame["oom"] = True
        if isinstance(exc, SyntaxError) and index is None:
            frame["compile"] = True
        line = _tests_line(exc)
        frame["i"] = index if index is not None else line
        try:
            send(frame)
        except BaseException:  # noqa: BLE001
            pass
    os._exit(0)


def _call(fn: Any, plan: Plan | None, args: list[Any], record: bool) -> tuple[float, str]:
    """Seconds the call took (with turning its value into JSON) and that JSON text."""
    args = convert_input(plan, args)
    started = time.perf_counter()
    text = json.dumps(canon(transform_output(plan, fn(*args), record)))
    if len(text) > DIGEST_OVER_CHARS:
        text = _digest(text)
    return time.perf_counter() - started, text


def _digest(text: str) -> str:
    """A stand-in for an answer too large to send: equal texts, equal stand-ins."""
    digest = hashlib.sha256()
    for start in range(0, len(text), 1 << 24):
        digest.update(text[start : start + (1 << 24)].encode())
    return json.dumps({"__digest__": digest.hexdigest(), "chars": len(text)})


def _out_frame(index: int, seconds: float, text: str) -> bytes:
    # Laid out so the worker finds the value's JSON text without parsing it (see OUT_FRAME).
    return f'{{"i": {index}, "t": {seconds:.6f}, "out": '.encode() + text.encode() + b"}\n"


def _describe(exc: BaseException) -> str:
    try:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    except BaseException:  # noqa: BLE001
        text = type(exc).__name__
    return _truncate(text)


def _tests_line(exc: BaseException) -> int | None:
    """For assert tests: the line of the test code that failed (0-based)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<tests>":
            line = tb.tb_lineno - 1
        tb = tb.tb_next
    return line


def _find_function(globals_: dict[str, Any], name: str) -> Any:
    fn = globals_.get(name)
    if callable(fn):
        return fn
    solution = globals_.get("Solution")
    if isinstance(solution, type) and hasattr(solution, name):
        return getattr(solution(), name)
    raise NameError(f"function {name!r} is not defined by the sample")


def _run_stdio(code: Any, text: str, index: int, tmp: str) -> None:
    path_in = os.path.join(tmp, f"stdin-{index}.txt")
    with open(path_in, "w", encoding="utf-8") as handle:
        handle.write(text)
    fd_in = os.open(path_in, os.O_RDONLY)
    fd_out = os.open(os.path.join(tmp, f"stdout-{index}.txt"), os.O_WRONLY | os.O_CREAT, 0o600)
    os.dup2(fd_in, 0)
    os.dup2(fd_out, 1)
    os.close(fd_in)
    os.close(fd_out)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    try:
        exec(code, {"__name__": "__main__", "__builtins__": builtins})  # noqa: S102
    except SystemExit as exc:
        # A stdio program may end itself with exit(); only a non-zero code is a failure.
        if exc.code not in (None, 0):
            raise
    finally:
        try:
            sys.stdout.flush()
        except BaseException:  # noqa: BLE001
            pass


# ----------------------------------------------------------------------------- worker side


def _processes() -> list[tuple[int, int, int, int, str]]:
    """(pid, parent pid, uid, process group, state) of every live process."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            uid = os.stat(f"/proc/{name}").st_uid
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read().decode("ascii", "replace")
            fields = stat[stat.rindex(")") + 2 :].split()
            found.append((int(name), int(fields[1]), uid, int(fields[2]), fields[0]))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _processes_of(uid: int) -> int:
    return sum(1 for _, _, puid, _, state in _processes() if puid == uid and state != "Z")


def kill_everything(pgid: int, uid: int | None) -> int:
    """SIGKILL every process the sample started, until none is left; returns how many rounds
    it took. As the init of its own PID namespace (see main), the worker kills everything else
    in it: nothing there is not the sample's. Otherwise the child's process group and, when it
    had a uid of its own, every process of that uid, and every process orphaned to the worker
    (a subreaper), daemons after setsid and double forks included."""
    if os.getpid() == 1:
        # Every other process of the namespace; run_job then reaps them all.
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return 1
    for round_ in range(1, 200):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        me = os.getpid()
        alive = [
            pid
            for pid, ppid, puid, pgrp, state in _processes()
            if state != "Z"
            and pid != me
            and (pgrp == pgid or ppid == me or (uid is not None and puid == uid))
        ]
        if not alive:
            return round_
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.005)
    return -1


def _reap_orphans() -> None:
    """Reaps the dead processes orphaned to the worker; as its namespace's init, waits for
    every process left there, which kill_everything has killed."""
    flags = 0 if os.getpid() == 1 else os.WNOHANG
    while True:
        try:
            pid, _ = os.waitpid(-1, flags)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _read_capped(path: str, limit: int) -> tuple[str, bool]:
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError:
        return "", False
    return data[:limit].decode("utf-8", "replace"), len(data) > limit


def _tail(path: str, limit: int = 2000) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


class _LineReader:
    """Splits the pipe's bytes into lines; a line of hundreds of MB costs one join, not one copy
    of the buffer per read."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def feed(self, data: bytes) -> list[bytes]:
        lines = []
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            self.parts.append(data[start:end])
            lines.append(b"".join(self.parts))
            self.parts = []
            start = end + 1
        if start < len(data):
            self.parts.append(data[start:])
        return lines


class _Judge:
    """Judges the frames of one child as they arrive; `result["status"]` is set once decided."""

    def __init__(self, job: dict[str, Any], tmp: str, nonce: str) -> None:
        self.job = job
        self.tests = job["tests"]
        self.kind = self.tests["kind"]
        self.limits = job["limits"]
        self.record = job.get("mode") == "record"
        self.plan: Plan | None = job.get("evalplus")
        self.tmp = tmp
        self.nonce = nonce
        self.n_tests = len(self.tests["inputs"]) if self.kind in ("call", "stdio") else 1
        self.seen = 0
        self.current: int | None = None  # the test the child is running, once it is known
        self.result: dict[str, Any] = {
            "status": None,
            "failed_test": None,
            "message": None,
            "isolation": None,
        }
        self.times: list[float] = []
        self.expected: BinaryIO | None = None
        self.recording: BinaryIO | None = None
        self.max_bytes = MAX_FRAMES_BYTES

    def open_files(self) -> None:
        """Call outputs: written one JSON text a line (record mode) or read so (check mode)."""
        if self.kind != "call":
            return
        if self.record:
            self.recording = open(self.job["record_path"], "wb")  # noqa: SIM115
            self.max_bytes = MAX_RECORD_BYTES
        else:
            path = self.job["expected_path"]
            self.expected = open(path, "rb")  # noqa: SIM115
            # A right answer is about as large as the reference's, which may exceed the cap.
            self.max_bytes = max(MAX_FRAMES_BYTES, 2 * os.path.getsize(path) + (1 << 20))

    def close_files(self) -> None:
        for handle in (self.expected, self.recording):
            if handle is not None:
                handle.close()

    def verdict(self, status: str, message: str | None, test: int | None = None) -> None:
        self.result.update(
            status=status, message=_truncate(message) if message else None, failed_test=test
        )

    def time_limit(self) -> float:
        """Seconds the child may take to send its next frame."""
        if self.kind == "call" and self.current is not None:
            if self.record:
                return float(self.limits["reference_timeout_s"])
            per_input = self.job.get("time_limits")
            if per_input and self.seen < len(per_input):
                return float(per_input[self.seen])
        return float(self.limits["test_timeout_s"])

    def timed_out(self, limit: float) -> None:
        where = f"test {self.current}" if self.current is not None else "the sample"
        self.verdict("timeout", f"{where} ran past its time limit of {limit:.3g} s", self.current)

    def on_line(self, line: bytes) -> None:
        match = OUT_FRAME.match(line)
        if match and line.endswith(b"}"):
            self.on_out(int(match[1]), float(match[2]), line[match.end() : -1])
            return
        try:
            frame = json.loads(line)
            if not isinstance(frame, dict):
                raise ValueError
        except ValueError:
            self.verdict("failed", "garbled result frame (the sample wrote to the result pipe?)")
            return
        if "isolation" in frame and self.result.get("isolation") is None and self.current is None:
            # The harness's first frame, sent before the sample runs: what keeps the sample in.
            self.result["isolation"] = str(frame["isolation"])
            self.result["isolation_problems"] = [str(p) for p in frame.get("problems") or []]
        elif "end" in frame:
            self.on_end(frame["end"])
        elif "error" in frame:
            self.on_error(frame)
        elif "phase" in frame:
            self.current = 0 if self.kind != "assert" else None
        elif frame.get("i") != self.seen:
            self.verdict("failed", "result frames out of order")
        elif "ran" in frame and self.kind == "stdio":
            self.on_ran()
        else:
            self.verdict("failed", "unknown result frame")

    def on_end(self, nonce: Any) -> None:
        if nonce == self.nonce and self.seen == (self.n_tests if self.kind != "assert" else 0):
            self.verdict("passed", None)
        else:
            self.verdict("failed", "completion marker is wrong or came too early")

    def on_error(self, frame: dict[str, Any]) -> None:
        if frame.get("oom"):
            status = "oom"
        else:
            status = "error" if frame.get("compile") else "failed"
        self.verdict(status, frame["error"], frame.get("i"))

    def on_out(self, index: int, seconds: float, payload: bytes) -> None:
        if self.kind != "call" or self.current is None:
            self.verdict("failed", "unknown result frame")
            return
        if index != self.seen:
            self.verdict("failed", "result frames out of order")
            return
        if self.record:
            self.keep_output(payload, seconds)
        else:
            self.check_output(payload)
        self.seen += 1
        self.current = self.seen

    def keep_output(self, payload: bytes, seconds: float) -> None:
        try:
            json.loads(payload)
        except ValueError:
            self.verdict("failed", "garbled result frame", self.seen)
            return
        assert self.recording is not None
        self.recording.write(payload + b"\n")
        self.times.append(seconds)

    def check_output(self, payload: bytes) -> None:
        assert self.expected is not None
        want = self.expected.readline().rstrip(b"\n")
        if not want:
            raise RuntimeError("the expected outputs file has fewer lines than the task inputs")
        try:
            matches = payload == want or self.outputs_match(json.loads(payload), json.loads(want))
        except ValueError:
            self.verdict("failed", "garbled result frame", self.seen)
            return
        if not matches:
            got_text = _truncate(payload.decode("utf-8", "replace"), 150)
            want_text = _truncate(want.decode("utf-8", "replace"), 150)
            self.verdict("failed", f"wrong output: got {got_text}, expected {want_text}", self.seen)

    def outputs_match(self, got: Any, want: Any) -> bool:
        atol = float(self.tests.get("atol") or 0)
        special = oracle_verdict(self.plan, got, self.tests["inputs"][self.seen], atol)
        if special is not None:
            return special
        wrapped, stored = bool(self.job.get("wrapped")), bool(self.job.get("stored"))
        return call_output_matches(got, want, atol, wrapped, stored)

    def on_ran(self) -> None:
        want = self.tests["outputs"][self.seen]
        got, over = _read_capped(
            os.path.join(self.tmp, f"stdout-{self.seen}.txt"), 2 * len(want.encode()) + (1 << 16)
        )
        judge = self.tests.get("specialJudge")
        if over or not stdout_matches(got, want, judge):
            if judge == "non-deterministic":
                self.verdict(
                    "needs_judge",
                    "output differs from the reference answer and the task needs a checker",
                    self.seen,
                )
            else:
                self.verdict(
                    "failed",
                    f"wrong output: got {_truncate(got, 150)!r}, expected {_truncate(want, 150)!r}",
                    self.seen,
                )
        self.seen += 1
        self.current = self.seen

    def on_exit(self, wait_status: int) -> None:
        """The verdict when the child ended without one."""
        stderr = _tail(os.path.join(self.tmp, "stderr.txt")).strip()
        if not os.WIFSIGNALED(wait_status):
            code = os.WEXITSTATUS(wait_status)
            self.verdict(
                "failed", f"exited with code {code} before the tests finished", self.current
            )
            return
        sig = os.WTERMSIG(wait_status)
        if sig == signal.SIGXCPU:
            self.verdict("timeout", "CPU time limit exceeded", self.current)
        elif sig == signal.SIGXFSZ:
            self.verdict("failed", "output file size limit exceeded", self.current)
        else:
            name = (
                signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            )
            detail = f": {stderr[-300:]}" if stderr else ""
            self.verdict("error", f"killed by {name}{detail}", self.current)


def _read_frames(rfd: int, judge: _Judge) -> None:
    """Feed the child's frames to `judge` until a verdict, the end of the pipe or a deadline."""
    reader = _LineReader()
    total = 0
    limit = judge.time_limit()
    deadline = time.monotonic() + limit
    while judge.result["status"] is None:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([rfd], [], [], left)[0]:
            judge.timed_out(limit)
            return
        data = os.read(rfd, 1 << 20)
        if not data:
            return
        total += len(data)
        if total > judge.max_bytes:
            judge.verdict("error", "the sample's results exceed the size limit", judge.current)
            return
        for line in reader.feed(data):
            judge.on_line(line)
            if judge.result["status"] is not None:
                return
            limit = judge.time_limit()
            deadline = time.monotonic() + limit


def run_job(job: dict[str, Any], uid: int | None, isolation: Isolation) -> dict[str, Any]:
    started = time.monotonic()
    nonce = secrets.token_hex(16)
    tmp = tempfile.mkdtemp(prefix="codistill-exec-")
    if uid is not None:
        os.chown(tmp, uid, uid)
    os.chmod(tmp, 0o700)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(rfd)
            _child(job, wfd, nonce, tmp, uid, isolation)
        finally:
            os._exit(70)
    os.close(wfd)
    judge = _Judge(job, tmp, nonce)
    try:
        # Opened after the fork, so the sample cannot read the expected outputs.
        judge.open_files()
        _read_frames(rfd, judge)
    finally:
        os.close(rfd)
        judge.close_files()
        kill_everything(pid, uid)
        _, wait_status = os.waitpid(pid, 0)
        _reap_orphans()
    if judge.result["status"] is None:
        judge.on_exit(wait_status)
    shutil.rmtree(tmp, ignore_errors=True)
    result = judge.result
    result["duration_s"] = round(time.monotonic() - started, 4)
    if judge.record:
        result["times"] = judge.times
    return result


# Samples run under a uid of their own, which may not read the interpreter's own folders (a
# pyenv Python under /root, say): the standard modules benchmark code imports are loaded here,
# before the fork, so the child finds them in sys.modules.
PRELOADED_MODULES = (
    "array",
    "bisect",
    "cmath",
    "collections",
    "copy",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "fractions",
    "functools",
    "hashlib",
    "heapq",
    "itertools",
    "json",
    "math",
    "operator",
    "random",
    "re",
    "statistics",
    "string",
    "typing",
    "unicodedata",
)


def preload_standard_modules() -> None:
    import importlib

    for name in PRELOADED_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # a trimmed interpreter: the sample gets the ImportError itself


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    preload_standard_modules()
    uid = int(argv[0]) if argv and os.geteuid() == 0 else None
    # The samples share the worker's namespaces: made once here, not once per sample, where
    # they would cost a third of the throughput (see isolation.enter_namespaces).
    isolation = Isolation()
    enter_namespaces(isolation)
    if LIBC is not None and not isolation.pidns:
        LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    reader, writer = sys.stdin.buffer, sys.stdout.buffer
    for line in reader:
        if not line.strip():
            continue
        try:
            result = run_job(json.loads(line), uid, isolation)
        except Exception:  # noqa: BLE001 - a harness bug must not take the worker down
            result = {
                "status": "error",
                "failed_test": None,
                "duration_s": 0.0,
                "message": _truncate("harness error: " + traceback.format_exc()),
            }
        writer.write((json.dumps(result) + "\n").encode("utf-8"))
        writer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
