"""The sandbox against an adversarial corpus, as root (as CI runs) and as a normal user (as
people run VS Code): ``python -m codistill execute`` is run once as root and once as `nobody`
(setpriv, with the system interpreter, as a user without root would), over samples that try
to write, delete and read outside their folder, reach a TCP listener on 127.0.0.1, leave
processes behind or kill others. Each asserts its verdict, and the test asserts that the
machine is unchanged afterwards: files, the listener, the processes, the test process itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import pytest

from codistill.execution.isolation import level_of, load_seccomp_filter

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "codistill"
SYSTEM_PYTHON = "/usr/bin/python3"
SECRET = "-----BEGIN OPENSSH PRIVATE KEY----- codistill-test-secret"
ENV_SECRET = "codistill-env-secret-value"


class Listener:
    """A TCP server on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self.server.settimeout(0.2)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.server.close()


class UdpListener:
    """A UDP socket on 127.0.0.1; `received()` counts the datagrams that reached it."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.setblocking(False)
        self.port = self.socket.getsockname()[1]

    def received(self) -> int:
        count = 0
        while True:
            try:
                self.socket.recv(65536)
            except BlockingIOError:
                return count
            count += 1


def corpus(
    home: Path, workspace: Path, marker: str, port: int, udp_port: int
) -> dict[str, tuple[str, set[str]]]:
    """name -> (program, the verdicts it may get). Every program defines f() == 1 after its
    attack, so a sample whose attack silently did nothing would pass."""
    run_file = workspace / ".codistill" / "runs" / "r1" / "manifest.json"
    connect = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2)"
    daemon = (
        "import os, subprocess\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execvp('bash', ['bash', '-c', 'exec -a {marker}-daemon sleep 120'])\n"
        "    os._exit(0)\n"
    )
    env_check = (
        "import os\n"
        "leaked = [k for k, v in os.environ.items() if 'SECRET' in k or 'secret' in v]\n"
        "try:\n"
        "    if b'secret' in open('/proc/self/environ', 'rb').read():\n"
        "        leaked.append('/proc/self/environ')\n"
        "except OSError:\n"
        "    pass\n"
        "assert not leaked, leaked\n"
    )
    failed = {"failed"}
    programs = {
        "write_tmp": (f"open('/tmp/{marker}-tmp', 'w').write('x')\n", failed),
        "write_home": (f"open('{home}/{marker}-home', 'w').write('x')\n", failed),
        "write_workspace": (f"open('{workspace}/{marker}-ws', 'w').write('x')\n", failed),
        "write_run_folder": (f"open('{run_file.parent}/{marker}-run', 'w').write('x')\n", failed),
        "delete_run_file": (f"import os\nos.remove('{run_file}')\n", failed),
        "symlink_out": (
            f"import os\nos.symlink('{home}', 'out')\nopen('out/{marker}-link', 'w').write('x')\n",
            failed,
        ),
        "read_ssh_key": (f"print(open('{home}/.ssh/id_rsa').read())\n", failed),
        "read_config": (f"print(open('{home}/.config/token').read())\n", failed),
        "list_home": (f"import os\nprint(os.listdir('{home}'))\n", failed),
        "read_run_folder": (f"print(open('{run_file}').read())\n", failed),
        # Another process's environment: ptrace's read check, which Landlock (and the PID
        # namespace, where that process is not even there) denies.
        "read_sidecar_environ": (f"print(open('/proc/{os.getpid()}/environ').read())\n", failed),
        "tcp_python": (connect + "\n", failed),
        "tcp_python_subprocess": (
            "import subprocess, sys\n"
            f"subprocess.run([sys.executable, '-c', {connect!r}], check=True)\n",
            failed,
        ),
        "tcp_curl": (
            "import subprocess\n"
            f"subprocess.run(['curl', '-sS', '-m', '2', 'http://127.0.0.1:{port}/'], check=True)\n",
            failed,
        ),
        "tcp_bash": (
            "import subprocess\n"
            f"subprocess.run(['bash', '-c', 'echo hi > /dev/tcp/127.0.0.1/{port}'], check=True)\n",
            failed,
        ),
        # A fresh interpreter, without the harness's Python-level socket refusal: the kernel's.
        "udp_python_subprocess": (
            "import subprocess, sys\n"
            "code = 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
            f's.sendto(b"x", ("127.0.0.1", {udp_port}))\'\n'
            "subprocess.run([sys.executable, '-c', code], check=True)\n",
            failed,
        ),
        "environment_secrets": (env_check, {"passed"}),
        "daemon_after_double_fork": (daemon, {"passed"}),
        "kill_everything": (
            "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n",
            {"passed"},
        ),
        "kill_the_sidecar": (
            f"import os, signal\nos.kill({os.getpid()}, signal.SIGKILL)\n",
            failed,
        ),
        "fork_bomb": ("import os\nwhile True:\n    os.fork()\n", {"failed", "error", "timeout"}),
        "exit_before_tests": ("import os\nos._exit(0)\n", failed),
        "infinite_loop": ("while True:\n    pass\n", {"timeout"}),
        "memory_bomb": ("hoard = bytearray(64 << 30)\n", {"oom"}),
        "huge_output": ("import sys\nsys.stdout.write('x' * (256 << 20))\n", {"failed", "oom"}),
        "canary": ("", {"passed"}),
    }
    return {
        name: (code + "def f():\n    return 1\n", allowed)
        for name, (code, allowed) in programs.items()
    }


def tree_state(root: Path) -> dict[str, str]:
    """Every file and link below `root`, with a hash of its contents or its target."""
    state = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            state[key] = "-> " + os.readlink(path)
        elif path.is_file():
            state[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            state[key] = "dir"
    return state


def marked_processes(marker: str) -> list[str]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(f"{name}: {cmdline!r}")
    return found


# A container or kernel that forbids namespaces (Docker's default seccomp profile does, for
# unprivileged processes): unshare fails with EPERM, as in the process this filter is put on.
SYS_UNSHARE = {"x86_64": 272, "aarch64": 97}


def forbid_namespaces() -> None:
    """preexec_fn: a seccomp filter under which unshare(2) fails with EPERM."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(38, 1, 0, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS
    program = [
        (0x20, 0, 0, 0),  # load the system call number
        (0x15, 0, 1, SYS_UNSHARE[os.uname().machine]),  # unshare?
        (0x06, 0, 0, 0x00050000 | 1),  # then fail with EPERM
        (0x06, 0, 0, 0x7FFF0000),  # else allow
    ]
    assert load_seccomp_filter(program) is None


def group_of(user: str) -> str:
    import grp
    import pwd

    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


def as_user_command(user: str) -> list[str]:
    return ["setpriv", f"--reuid={user}", f"--regid={group_of(user)}", "--clear-groups"]


@pytest.fixture(params=["root", "nobody"])
def machine(request):
    """A home with a planted key, a workspace with a run folder, the package where the user can
    read it, and the files of one `execute` run, all owned by the user the sandbox runs as (in
    a folder of /tmp: pytest's own are root's alone)."""
    user = request.param
    tmp_path = Path(tempfile.mkdtemp(prefix="codistill-isolation-", dir="/tmp"))
    try:
        yield make_machine(user, tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def make_machine(user: str, tmp_path: Path) -> tuple[str, Path, Path, Path, Path]:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(SECRET + "\n")
    (home / ".config").mkdir()
    (home / ".config" / "token").write_text("codistill-config-secret\n")
    workspace = tmp_path / "workspace"
    runs = workspace / ".codistill" / "runs" / "r1"
    runs.mkdir(parents=True)
    (runs / "manifest.json").write_text('{"state": "finished"}\n')
    # The repository may sit where the user cannot read it (a root-only home): a copy of the
    # sandbox's package that they can.
    shutil.copytree(
        PACKAGE, tmp_path / "pkg" / "codistill", ignore=shutil.ignore_patterns("__pycache__")
    )
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    if user != "root":
        for path in [tmp_path, *tmp_path.rglob("*")]:
            shutil.chown(path, user=user, group=group_of(user))
    return user, tmp_path, home, workspace, run_dir


@pytest.mark.parametrize("namespaces", ["allowed", "forbidden"])
def test_adversarial_corpus_leaves_the_machine_unchanged(machine, namespaces: str) -> None:
    """With namespaces forbidden, Landlock alone still keeps files, TCP and signals in, and the
    worker (a subreaper) still kills what the sample left; the isolation says it is partial."""
    user, root, home, workspace, run_dir = machine
    allowed = namespaces == "allowed"
    marker = f"codistill-escape-{uuid.uuid4().hex[:12]}"
    listener = Listener()
    udp = UdpListener()
    try:
        programs = corpus(home, workspace, marker, listener.port, udp.port)
        task = {
            "id": "custom/f",
            "source": "custom",
            "prompt": "",
            "solutions": ["def f():\n    return 1\n"],
            "tests": {"kind": "assert", "code": "assert f() == 1"},
            "meta": {},
        }
        tasks_file = run_dir / "tasks.jsonl"
        tasks_file.write_text(json.dumps(task) + "\n")
        samples_file = run_dir / "samples.jsonl"
        names = list(programs)
        samples_file.write_text(
            "".join(
                json.dumps({"task_id": "custom/f", "solution": programs[n][0]}) + "\n"
                for n in names
            )
        )
        out = run_dir / "results.json"
        if user != "root":
            for path in (tasks_file, samples_file):
                shutil.chown(path, user=user)
        before = {"home": tree_state(home), "workspace": tree_state(workspace)}
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "PYTHONPATH": str(root / "pkg"),
            "HOME": str(home),
            "CODISTILL_TEST_SECRET": ENV_SECRET,
            "OPENAI_API_KEY": "codistill-secret-api-key",
        }
        prefix = [] if user == "root" else as_user_command(user)
        command = [
            *prefix,
            SYSTEM_PYTHON,
            "-m",
            "codistill",
            "execute",
            "--tasks",
            str(tasks_file),
            "--samples",
            str(samples_file),
            "--out",
            str(out),
            "--workers",
            "2",
            "--timeout",
            "3",
            "--min-isolation",
            "full" if allowed else "partial",
        ]
        done = subprocess.run(
            command,
            env=env,
            cwd=str(run_dir),
            capture_output=True,
            text=True,
            timeout=300,
            preexec_fn=None if allowed else forbid_namespaces,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        results = json.loads(out.read_text())
    finally:
        listener.close()
    received_udp = udp.received()
    udp.socket.close()

    isolation = results["summary"]["isolation"]
    parts = isolation.split("+")
    assert ("uid" in parts) == (user == "root"), isolation
    if allowed:
        assert level_of(isolation) == "full", isolation
        assert ("userns" in parts) == (user != "root"), isolation
        assert f"sandbox isolation: {isolation} (full)" in done.stderr
    else:
        assert parts[0].startswith("landlock-v") and not {"userns", "netns", "pidns"} & set(
            parts
        ), isolation
        assert (
            f"sandbox isolation: {isolation} (partial): unshare: Operation not permitted"
            in done.stderr
        )
    verdicts = {name: sample for name, sample in zip(names, results["samples"], strict=True)}
    wrong = {
        name: (verdicts[name]["status"], verdicts[name]["message"])
        for name, (_, allowed) in programs.items()
        if verdicts[name]["status"] not in allowed
    }
    assert wrong == {}, wrong
    # The machine afterwards: nothing written, deleted or read out, no connection, no process.
    assert {"home": tree_state(home), "workspace": tree_state(workspace)} == before
    assert not [p for p in Path("/tmp").iterdir() if p.name.startswith(marker)]
    assert listener.accepted == 0 and received_udp == 0
    assert marked_processes(marker) == []
    text = out.read_text()
    assert SECRET not in text and "codistill-config-secret" not in text
    assert "codistill-secret-api-key" not in text and ENV_SECRET not in text
    assert (
        verdicts["read_ssh_key"]["message"]
        and "Permission denied" in verdicts["read_ssh_key"]["message"]
    )


def test_below_the_minimum_isolation_nothing_runs(tmp_path: Path) -> None:
    """Where the kernel gives less than --min-isolation asks for, nothing runs: exit 2, and
    the message names the level it got and why."""
    task = {
        "id": "t",
        "source": "custom",
        "prompt": "",
        "solutions": [],
        "meta": {},
        "tests": {"kind": "assert", "code": "assert True"},
    }
    (tmp_path / "tasks.jsonl").write_text(json.dumps(task) + "\n")
    (tmp_path / "samples.jsonl").write_text(
        json.dumps({"task_id": "t", "solution": "open('/tmp/x', 'w')"}) + "\n"
    )
    out = tmp_path / "results.json"
    command = [
        sys.executable,
        "-m",
        "codistill",
        "execute",
        "--tasks",
        str(tmp_path / "tasks.jsonl"),
        "--samples",
        str(tmp_path / "samples.jsonl"),
        "--out",
        str(out),
        "--min-isolation",
        "full",
    ]
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, preexec_fn=forbid_namespaces
    )
    assert done.returncode == 2, done.stderr
    assert (
        "(partial), below the minimum asked for, full (unshare: Operation not permitted)"
        in done.stderr
    )
    assert not out.exists()
