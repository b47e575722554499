"""How the sidecar ends: shutdown, stdin EOF, signals, a dead parent, failing handlers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codistill import protocol

from conftest import Sidecar, sidecar_env


def test_shutdown_answers_null_and_exits_zero(sidecar: Sidecar) -> None:
    sidecar.send({"jsonrpc": "2.0", "id": 7, "method": "shutdown"})
    response = sidecar.receive()
    assert response == {"jsonrpc": "2.0", "id": 7, "result": None}
    assert protocol.validate_response(response, "shutdown") == []
    assert sidecar.wait(timeout=5) == 0


def test_shutdown_cancels_requests_in_progress(sidecar: Sidecar) -> None:
    slow = sidecar.send_request("health/ping", {"delayMs": 10000})
    time.sleep(0.1)
    started = time.monotonic()
    assert sidecar.request("shutdown")["result"] is None
    assert sidecar.response_to(slow)["error"]["code"] == protocol.REQUEST_CANCELLED
    assert sidecar.wait(timeout=5) == 0
    assert time.monotonic() - started < 2.0


def test_lines_after_shutdown_are_not_read(sidecar: Sidecar) -> None:
    sidecar.send_raw(
        b'{"jsonrpc":"2.0","id":1,"method":"shutdown"}\n'
        b'{"jsonrpc":"2.0","id":2,"method":"health/ping"}\n'
    )
    assert sidecar.wait(timeout=5) == 0
    assert len(sidecar.stdout_lines) == 1


def test_stdin_eof_exits_zero(sidecar: Sidecar) -> None:
    assert sidecar.request("health/ping")["result"]["pong"] is True
    sidecar.close_stdin()
    assert sidecar.wait(timeout=5) == 0
    assert "stdin closed" in sidecar.stderr


def test_stdin_eof_cancels_requests_in_progress(sidecar: Sidecar) -> None:
    slow = sidecar.send_request("health/ping", {"delayMs": 10000})
    time.sleep(0.1)
    sidecar.close_stdin()
    assert sidecar.response_to(slow)["error"]["code"] == protocol.REQUEST_CANCELLED
    assert sidecar.wait(timeout=5) == 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_exits_zero(sidecar: Sidecar) -> None:
    assert sidecar.request("health/ping")["result"]["pong"] is True
    sidecar.proc.send_signal(signal.SIGTERM)
    assert sidecar.wait(timeout=5) == 0
    assert "received SIGTERM" in sidecar.stderr


def test_handler_exception_is_an_internal_error(spawn) -> None:
    server = spawn.extended()
    response = server.request("test/explode")
    assert protocol.validate_response(response) == []
    error = response["error"]
    assert error["code"] == protocol.INTERNAL_ERROR
    assert error["message"] == "Internal error: ZeroDivisionError: boom on purpose"
    assert error["data"]["type"] == "ZeroDivisionError"
    assert "in explode" in error["data"]["traceback"]
    assert error["data"]["traceback"].endswith("ZeroDivisionError: boom on purpose\n")
    server.wait_for_stderr("test/explode (id")
    assert server.request("health/ping")["result"]["pong"] is True


def test_unencodable_result_is_an_internal_error(spawn) -> None:
    server = spawn.extended()
    response = server.request("test/unencodable")
    assert response["error"]["code"] == protocol.INTERNAL_ERROR
    assert response["error"]["data"]["type"] == "TypeError"
    assert server.request("health/ping")["result"]["pong"] is True


def test_handler_ignoring_cancellation_does_not_keep_the_process_alive(spawn) -> None:
    server = spawn.extended(env={"TEST_GRACE_S": "0.3"})
    server.send_request("test/stubborn")
    time.sleep(0.1)
    started = time.monotonic()
    assert server.request("shutdown")["result"] is None
    assert server.wait(timeout=5) == 0
    assert time.monotonic() - started < 3.0
    assert "ignored cancellation" in server.stderr


def test_exits_at_once_when_the_named_parent_is_gone(spawn) -> None:
    # PID 1 is never our parent: the sidecar must conclude its real parent already died.
    server = spawn.serve(env={"CODISTILL_PARENT_PID": "1"})
    assert server.wait(timeout=5) == 1
    assert "parent process 1 is gone" in server.stderr
    assert server.stdout_lines == []


def test_serves_when_the_named_parent_is_alive(spawn) -> None:
    server = spawn.serve(env={"CODISTILL_PARENT_PID": str(os.getpid())})
    assert server.request("health/ping")["result"]["pong"] is True


def test_malformed_parent_pid_is_reported_and_ignored(spawn) -> None:
    server = spawn.serve(env={"CODISTILL_PARENT_PID": "launcher"})
    assert server.request("health/ping")["result"]["pong"] is True
    server.wait_for_stderr("CODISTILL_PARENT_PID: expected a process id, got 'launcher'")


def process_is_gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status  # exited, waiting to be reaped by whoever adopted it


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_dies_with_its_parent_even_while_stdin_stays_open(tmp_path: Path) -> None:
    # The test keeps the write end of the sidecar's stdin open, so only the death signal can
    # end it when its parent (a launcher process) is killed.
    read_end, write_end = os.pipe()
    launcher_code = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-m', 'codistill', 'serve'], stdin={read_end},"
        " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    launcher = subprocess.Popen(
        [sys.executable, "-c", launcher_code],
        stdout=subprocess.PIPE,
        pass_fds=(read_end,),
        env=sidecar_env(),
    )
    os.close(read_end)
    try:
        sidecar_pid = int(launcher.stdout.readline())
        time.sleep(0.5)  # let the sidecar arm its death signal
        assert not process_is_gone(sidecar_pid)
        launcher.kill()
        launcher.wait()
        deadline = time.monotonic() + 5
        while not process_is_gone(sidecar_pid):
            assert time.monotonic() < deadline, "sidecar outlived its parent"
            time.sleep(0.05)
    finally:
        os.close(write_end)
        launcher.kill()
        launcher.wait()
        launcher.stdout.close()


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "codistill", *args],
        input=b"",
        capture_output=True,
        env=sidecar_env(env),
        timeout=30,
    )


def test_log_level_from_environment_is_validated() -> None:
    result = run_cli("serve", env={"CODISTILL_LOG_LEVEL": "loud"})
    assert result.returncode == 2
    assert (
        b"CODISTILL_LOG_LEVEL: expected one of error, warning, info, debug, got 'loud'"
        in result.stderr
    )
    assert result.stdout == b""


def test_log_level_flag_wins_over_environment() -> None:
    quiet = run_cli("serve", "--log-level", "error", env={"CODISTILL_LOG_LEVEL": "debug"})
    assert quiet.returncode == 0
    assert quiet.stderr == b""
    chatty = run_cli("serve", env={"CODISTILL_LOG_LEVEL": "info"})
    assert chatty.returncode == 0
    assert b"INFO codistill.server: stdin closed; exiting" in chatty.stderr


def test_version_and_missing_command() -> None:
    version = run_cli("--version")
    assert version.returncode == 0
    assert version.stdout.strip() == b"codistill 0.1.0"
    bare = run_cli()
    assert bare.returncode == 2
    assert b"serve" in bare.stderr


def test_request_method_sent_as_notification_runs_unanswered_and_is_cancelled_at_exit(
    sidecar: Sidecar,
) -> None:
    sidecar.notify("health/ping", {"delayMs": 10000})
    ping_id = sidecar.send_request("health/ping")
    assert sidecar.receive()["id"] == ping_id
    started = time.monotonic()
    assert sidecar.request("shutdown")["result"] is None
    assert sidecar.wait(timeout=5) == 0
    assert time.monotonic() - started < 2.0
    assert len(sidecar.stdout_lines) == 2
