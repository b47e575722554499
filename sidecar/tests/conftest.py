"""Shared helpers: real sidecar subprocesses and the golden protocol messages."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SIDECAR_ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIR = SIDECAR_ROOT / "src"
FIXTURES_ENV = "CODISTILL_PROTOCOL_FIXTURES"

# Extra methods that exist only in tests: the package never ships a method that prints to
# stdout, raises on purpose or ignores cancellation.
EXTENDED_SERVER_CODE = r"""
import logging, os, subprocess, sys, time
from codistill import cli, server

def noisy(params, token):
    print("printed by print()")
    sys.stdout.write("written to sys.stdout\n")
    sys.stdout.flush()
    os.write(1, b"written to fd 1\n")
    subprocess.run([sys.executable, "-c", "print('printed by a child process')"], check=True)
    return {"noisy": True}

def explode(params, token):
    raise ZeroDivisionError("boom on purpose")

def unencodable(params, token):
    return {"value": object()}

def stubborn(params, token):
    time.sleep(30)
    return {"finished": True}

server.register_method("test/noisy", noisy)
server.register_method("test/explode", explode)
server.register_method("test/unencodable", unencodable)
server.register_method("test/stubborn", stubborn)
cli.configure_logging("debug")
sys.exit(server.serve(shutdown_grace_s=float(os.environ.get("TEST_GRACE_S", "3"))))
"""


def fixtures_dir() -> Path:
    configured = os.environ.get(FIXTURES_ENV)
    if configured:
        return Path(configured)
    return SIDECAR_ROOT.parent / "test" / "fixtures" / "protocol"


def load_fixtures() -> list[tuple[str, dict[str, Any]]]:
    directory = fixtures_dir()
    files = sorted(directory.glob("*.json"))
    if not files:
        raise FileNotFoundError(
            f"no golden protocol messages in {directory} (set {FIXTURES_ENV} to their folder)"
        )
    return [(path.name, json.loads(path.read_text(encoding="utf-8"))) for path in files]


def sidecar_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    # Test this source tree even when another copy of the package is installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SOURCE_DIR), env.get("PYTHONPATH")]))
    for name in ("CODISTILL_PARENT_PID", "CODISTILL_LOG_LEVEL"):
        env.pop(name, None)
    env.update(extra or {})
    return env


class Sidecar:
    """A real ``python -m codistill serve`` child with line-oriented access to its pipes."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.stdout_lines: list[bytes] = []
        self._stdout: queue.Queue[bytes | None] = queue.Queue()
        self._stderr_chunks: list[bytes] = []
        self._pending: dict[Any, dict[str, Any]] = {}
        self._next_id = 1000
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        threading.Thread(target=self._pump_stderr, daemon=True).start()

    @classmethod
    def serve(cls, *args: str, env: dict[str, str] | None = None) -> Sidecar:
        return cls([sys.executable, "-m", "codistill", "serve", *args], sidecar_env(env))

    @classmethod
    def extended(cls, env: dict[str, str] | None = None) -> Sidecar:
        return cls([sys.executable, "-c", EXTENDED_SERVER_CODE], sidecar_env(env))

    def _pump_stdout(self) -> None:
        for line in self.proc.stdout:
            self.stdout_lines.append(line)
            self._stdout.put(line)
        self._stdout.put(None)

    def _pump_stderr(self) -> None:
        for chunk in iter(lambda: self.proc.stderr.read1(65536), b""):
            self._stderr_chunks.append(chunk)

    @property
    def stderr(self) -> str:
        return b"".join(self._stderr_chunks).decode("utf-8", "replace")

    def wait_for_stderr(self, text: str, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.stderr:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared on stderr:\n{self.stderr}")
            time.sleep(0.01)
        return self.stderr

    def send_raw(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: Any) -> None:
        self.send_raw(json.dumps(message).encode("utf-8") + b"\n")

    def receive(self, timeout: float = 10.0) -> dict[str, Any]:
        try:
            line = self._stdout.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no message within {timeout} s; stderr:\n{self.stderr}") from None
        if line is None:
            self._stdout.put(None)
            raise AssertionError(f"stdout closed; stderr:\n{self.stderr}")
        return json.loads(line)

    def assert_silent(self, seconds: float) -> None:
        try:
            line = self._stdout.get(timeout=seconds)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected output: {line!r}")

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def send_request(self, method: str, params: Any = None, request_id: Any = None) -> Any:
        request_id = self.new_id() if request_id is None else request_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return request_id

    def response_to(self, request_id: Any, timeout: float = 10.0) -> dict[str, Any]:
        """The response for ``request_id``, keeping others that arrive first for later."""
        deadline = time.monotonic() + timeout
        while request_id not in self._pending:
            message = self.receive(timeout=max(0.0, deadline - time.monotonic()))
            self._pending[message.get("id")] = message
        return self._pending.pop(request_id)

    def request(self, method: str, params: Any = None, timeout: float = 10.0) -> dict[str, Any]:
        return self.response_to(self.send_request(method, params), timeout)

    def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def close_stdin(self) -> None:
        if not self.proc.stdin.closed:
            self.proc.stdin.close()

    def wait(self, timeout: float = 5.0) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            message = f"sidecar still running after {timeout} s; stderr:\n{self.stderr}"
            raise AssertionError(message) from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass


@pytest.fixture
def spawn() -> Iterator[Any]:
    """Start sidecars in a test; every one is killed at the end if still alive."""
    started: list[Sidecar] = []

    class Spawner:
        def serve(self, *args: str, env: dict[str, str] | None = None) -> Sidecar:
            started.append(Sidecar.serve(*args, env=env))
            return started[-1]

        def extended(self, env: dict[str, str] | None = None) -> Sidecar:
            started.append(Sidecar.extended(env=env))
            return started[-1]

    yield Spawner()
    for sidecar in started:
        sidecar.stop()


@pytest.fixture
def sidecar(spawn: Any) -> Sidecar:
    return spawn.serve("--log-level", "debug")


@pytest.fixture(scope="module")
def shared_sidecar() -> Iterator[Sidecar]:
    """One server for a whole module of tests that each leave it in a working state."""
    server = Sidecar.serve("--log-level", "debug")
    yield server
    server.stop()
