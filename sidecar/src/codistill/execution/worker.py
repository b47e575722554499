"""A pre-started worker: reads one job per line on stdin, forks a fresh sandboxed child for it,
judges what the child reports and writes one result per line on stdout.

Run as ``python -m codistill.execution.worker UID`` by `Executor`. The child (one per sample):
new session and process group, a new network namespace where the kernel lets us (otherwise
socket creation raises), a fresh temporary directory as cwd and HOME, stdin /dev/null, stdout and
stderr to files in that directory, rlimits (address space, CPU, file size, core, process count)
and, when the worker runs as root, a uid of its own (so RLIMIT_NPROC applies, files outside
world-writable places cannot be written, and every process it leaves, even after setsid, is found
and killed by uid). It reports over a pipe: one JSON frame per test, then the per-run nonce.
The worker compares outputs itself, so nothing the sample returns is trusted to compare itself.
"""

from __future__ import annotations

import builtins
import ctypes
import json
import os
import resource
import secrets
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
from typing import Any

from .compare import call_output_matches, canon, stdout_matches

CLONE_NEWNET = 0x40000000
PR_SET_CHILD_SUBREAPER = 36
MAX_FRAMES_BYTES = 64 << 20
MAX_MESSAGE = 500


def _libc() -> Any:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _truncate(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ----------------------------------------------------------------------------- child side


def _isolate_network() -> bool:
    libc = _libc()
    if libc is not None and libc.unshare(CLONE_NEWNET) == 0:
        return True
    # No namespace: make socket creation fail inside Python instead.
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
    return False


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


def _child(job: dict[str, Any], wfd: int, nonce: str, tmp: str, uid: int | None) -> None:
    os.setsid()
    _isolate_network()
    os.chdir(tmp)
    limits = job["limits"]
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        _set_limit(resource.RLIMIT_NPROC, int(limits["nproc"]))
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
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    write = os.write

    def send(frame: dict[str, Any]) -> None:
        data = (json.dumps(frame) + "\n").encode("utf-8")
        while data:
            data = data[write(wfd, data) :]

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
                for index, args in enumerate(tests["inputs"]):
                    send({"i": index, "out": canon(fn(*args))})
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


def _processes() -> list[tuple[int, int, int, str]]:
    """(pid, uid, process group, state) of every live process."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            uid = os.stat(f"/proc/{name}").st_uid
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read().decode("ascii", "replace")
            fields = stat[stat.rindex(")") + 2 :].split()
            found.append((int(name), uid, int(fields[2]), fields[0]))
        except (OSError, ValueError, IndexError):
            continue
    return found


def kill_everything(pgid: int, uid: int | None) -> int:
    """SIGKILL the child's process group and, when it had a uid of its own, every process of
    that uid, until none is left. Returns how many rounds it took."""
    for round_ in range(1, 200):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        alive = [
            pid
            for pid, puid, pgrp, state in _processes()
            if state != "Z"
            and pid != os.getpid()
            and (pgrp == pgid or (uid is not None and puid == uid))
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
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
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


def run_job(job: dict[str, Any], uid: int | None) -> dict[str, Any]:
    started = time.monotonic()
    limits = job["limits"]
    tests = job["tests"]
    kind = tests["kind"]
    record = job.get("mode") == "record"
    expected = job.get("expected")
    n_tests = len(tests["inputs"]) if kind in ("call", "stdio") else 1
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
            _child(job, wfd, nonce, tmp, uid)
        finally:
            os._exit(70)
    os.close(wfd)
    result: dict[str, Any] = {"status": None, "failed_test": None, "message": None}
    outputs: list[Any] = []
    seen = 0
    timeout = float(limits["test_timeout_s"])
    deadline = time.monotonic() + timeout
    buffer = b""
    total = 0
    current: int | None = None

    def verdict(status: str, message: str | None, test: int | None = None) -> None:
        result.update(
            status=status, message=_truncate(message) if message else None, failed_test=test
        )

    try:
        while result["status"] is None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([rfd], [], [], left)[0]:
                verdict("timeout", f"no progress within {timeout:g} s", current)
                break
            data = os.read(rfd, 1 << 16)
            if not data:
                break
            total += len(data)
            if total > MAX_FRAMES_BYTES:
                verdict("error", "the sample's results exceed the size limit", current)
                break
            buffer += data
            while b"\n" in buffer and result["status"] is None:
                line, buffer = buffer.split(b"\n", 1)
                try:
                    frame = json.loads(line)
                    if not isinstance(frame, dict):
                        raise ValueError
                except ValueError:
                    verdict("failed", "garbled result frame (the sample wrote to the result pipe?)")
                    break
                deadline = time.monotonic() + timeout
                if "end" in frame:
                    if frame["end"] == nonce and seen == (n_tests if kind != "assert" else 0):
                        verdict("passed", None)
                    else:
                        verdict("failed", "completion marker is wrong or came too early")
                elif "error" in frame:
                    status = (
                        "oom"
                        if frame.get("oom")
                        else ("error" if frame.get("compile") else "failed")
                    )
                    verdict(status, frame["error"], frame.get("i"))
                elif "phase" in frame:
                    current = 0 if kind != "assert" else None
                elif frame.get("i") != seen:
                    verdict("failed", "result frames out of order")
                elif "out" in frame:
                    if record:
                        outputs.append(frame["out"])
                    elif not call_output_matches(
                        frame["out"],
                        expected[seen],
                        float(tests.get("atol") or 0),
                        bool(job.get("wrapped")),
                    ):
                        got = json.dumps(frame["out"])
                        want = json.dumps(expected[seen])
                        verdict(
                            "failed",
                            f"wrong output: got {_truncate(got, 150)}, expected {_truncate(want, 150)}",
                            seen,
                        )
                    seen += 1
                    current = seen
                elif "ran" in frame:
                    want = tests["outputs"][seen]
                    got, over = _read_capped(
                        os.path.join(tmp, f"stdout-{seen}.txt"), 2 * len(want.encode()) + (1 << 16)
                    )
                    if over or not stdout_matches(got, want, tests.get("specialJudge")):
                        if tests.get("specialJudge") == "non-deterministic":
                            verdict(
                                "needs_judge",
                                "output differs from the reference answer and the task needs a checker",
                                seen,
                            )
                        else:
                            verdict(
                                "failed",
                                f"wrong output: got {_truncate(got, 150)!r}, expected {_truncate(want, 150)!r}",
                                seen,
                            )
                    seen += 1
                    current = seen
                else:
                    verdict("failed", "unknown result frame")
    finally:
        os.close(rfd)
        kill_everything(pid, uid)
        _, wait_status = os.waitpid(pid, 0)
        _reap_orphans()
    if result["status"] is None:
        stderr = _tail(os.path.join(tmp, "stderr.txt")).strip()
        if os.WIFSIGNALED(wait_status):
            sig = os.WTERMSIG(wait_status)
            if sig == signal.SIGXCPU:
                verdict("timeout", "CPU time limit exceeded", current)
            elif sig == signal.SIGXFSZ:
                verdict("failed", "output file size limit exceeded", current)
            else:
                name = (
                    signal.Signals(sig).name
                    if sig in signal.Signals._value2member_map_
                    else str(sig)
                )
                verdict(
                    "error", f"killed by {name}" + (f": {stderr[-300:]}" if stderr else ""), current
                )
        else:
            code = os.WEXITSTATUS(wait_status)
            verdict("failed", f"exited with code {code} before the tests finished", current)
    shutil.rmtree(tmp, ignore_errors=True)
    result["duration_s"] = round(time.monotonic() - started, 4)
    if record:
        result["outputs"] = outputs
    return result


# Samples run under a uid of their own, which may not read the interpreter's own folders (a
# pyenv Python under /root, say): the standard modules benchmark code imports are loaded here,
# before the fork, so the child finds them in sys.modules.
PRELOADED_MODULES = (
    "array", "bisect", "cmath", "collections", "copy", "dataclasses", "datetime", "decimal",
    "enum", "fractions", "functools", "hashlib", "heapq", "itertools", "json", "math",
    "operator", "random", "re", "statistics", "string", "typing", "unicodedata",
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
    libc = _libc()
    if libc is not None:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    reader, writer = sys.stdin.buffer, sys.stdout.buffer
    for line in reader:
        if not line.strip():
            continue
        try:
            result = run_job(json.loads(line), uid)
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
