"""The execution sandbox on real subprocesses: golden slices, broken and adversarial samples,
determinism, pass@k and the `execute` command end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from codistill.execution import ExecutionCancelled, Executor, Limits, pass_at_k, summarize
from codistill.execution.worker import _processes
from codistill.tasks import load_tasks

from conftest import sidecar_env

GOLDEN = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "datasets" / "golden"
SLICES = [
    "humaneval-slice.tasks.jsonl",
    "humanevalplus-slice.tasks.jsonl",
    "mbpp-slice.tasks.jsonl",
    "mbppplus-slice.tasks.jsonl",
    "sanitized-mbpp-slice.tasks.jsonl",
    "taco-fixture.python-spj.tasks.jsonl",
]
# taco/4's reference prints a different valid answer than the stored one (non-deterministic
# judge): reported as needs_judge, never as passed.
NEEDS_JUDGE = {"taco/4"}


def tasks_of(name: str) -> dict[str, dict[str, Any]]:
    return {task["id"]: task for task in load_tasks(GOLDEN / name)}


@pytest.fixture(scope="module")
def executor():
    limits = Limits(test_timeout_s=1.5, address_space=1 << 30, file_size=8 << 20, nproc=32)
    with Executor(workers=2, limits=limits) as ex:
        yield ex


def leftovers(ex: Executor) -> list[tuple[int, int, int, int, str]]:
    uids = {worker.uid for worker in ex._all}
    return [p for p in _processes() if p[2] in uids and p[4] != "Z"]


def canonical(tasks: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"task_id": tid, "solution": task["solutions"][0]} for tid, task in tasks.items()]


@pytest.mark.parametrize("name", SLICES)
def test_canonical_solutions_pass(executor: Executor, name: str) -> None:
    tasks = tasks_of(name)
    for result in executor.run(tasks, canonical(tasks)):
        want = "needs_judge" if result.task_id in NEEDS_JUDGE else "passed"
        assert result.status == want, result.to_json()


def test_humaneval_tests_end_with_check_of_entry_point() -> None:
    for task in tasks_of("humaneval-slice.tasks.jsonl").values():
        assert task["tests"]["code"].rstrip().endswith(f"check({task['entryPoint']})")


def _break(solution: str) -> str:
    # Canonical with its return value replaced: rename it and wrap it.
    return (
        solution
        + "\n\n_orig = {fn}\ndef {fn}(*a, **k):\n    r = _orig(*a, **k)\n    return [r, 'broken']\n"
    )


@pytest.mark.parametrize("name", SLICES[:5] + ["taco-fixture.python-spj.tasks.jsonl"])
def test_broken_variants_fail(executor: Executor, name: str) -> None:
    tasks = tasks_of(name)
    samples = []
    for tid, task in tasks.items():
        fn = task["tests"].get("fnName") or task.get("entryPoint")
        if fn:
            samples.append({"task_id": tid, "solution": _break(task["solutions"][0]).format(fn=fn)})
        else:  # stdio: print something else
            samples.append({"task_id": tid, "solution": "print('definitely not the answer 12345')"})
    for result in executor.run(tasks, samples):
        assert result.status in ("failed", "needs_judge"), result.to_json()
        assert result.message


def test_completion_is_appended_to_a_code_prompt(executor: Executor) -> None:
    tasks = tasks_of("humaneval-slice.tasks.jsonl")
    task = tasks["HumanEval/53"]
    good = {"task_id": "HumanEval/53", "completion": "    return x + y\n"}
    bad = {"task_id": "HumanEval/53", "completion": "    return x - y\n"}
    results = executor.run({"HumanEval/53": task}, [good, bad])
    assert [r.status for r in results] == ["passed", "failed"]
    assert [r.sample_index for r in results] == [0, 1]


def test_standard_modules_import_under_the_sample_uid(executor: Executor) -> None:
    # MBPP 124/252/590/688 use cmath, a compiled module the sample's uid may not be able to read.
    code = (
        "import cmath, fractions, statistics\n"
        "def add(a, b):\n    return int(cmath.sqrt((a + b) ** 2).real)\n"
    )
    results = executor.run({"custom/add": ADD_TASK}, [{"task_id": "custom/add", "solution": code}])
    assert [r.status for r in results] == ["passed"], results[0].message


def test_huge_integers_in_results_and_strings(executor: Executor) -> None:
    # HumanEval/83 and 139 build ints of thousands of digits; EvalPlus outputs can exceed a float.
    task = {
        "id": "custom/big",
        "source": "custom",
        "prompt": "",
        "entryPoint": "big",
        "solutions": ["def big(n):\n    return int(str(10 ** n))\n"],
        "tests": {"kind": "call", "fnName": "big", "inputs": [[5000], [400]], "outputs": None},
        "meta": {},
    }
    wrong = "def big(n):\n    return float(n)\n"
    results = executor.run(
        {"custom/big": task},
        [
            {"task_id": "custom/big", "solution": task["solutions"][0]},
            {"task_id": "custom/big", "solution": wrong},
        ],
    )
    assert [r.status for r in results] == ["passed", "failed"], [r.message for r in results]


ADD_TASK = {
    "id": "custom/add",
    "source": "custom",
    "prompt": "",
    "entryPoint": "add",
    "solutions": ["def add(a, b):\n    return a + b\n"],
    "tests": {"kind": "assert", "code": "assert add(1, 2) == 3\nassert add(2, 2) == 4\n"},
    "meta": {},
}
CALL_TASK = {
    "id": "custom/call",
    "source": "custom",
    "prompt": "",
    "entryPoint": "add",
    "solutions": ["def add(a, b):\n    return a + b\n"],
    "tests": {"kind": "call", "fnName": "add", "inputs": [[1, 2], [2, 2]], "outputs": [3, 4]},
    "meta": {},
}
STDIO_TASK = {
    "id": "custom/stdio",
    "source": "custom",
    "prompt": "Add two numbers.",
    "solutions": ["a, b = map(int, input().split())\nprint(a + b)\n"],
    "tests": {"kind": "stdio", "inputs": ["1 2\n", "2 2\n"], "outputs": ["3\n", "4\n"]},
    "meta": {},
}
GOOD = "def add(a, b):\n    return a + b\n"

ADVERSARIAL = [
    # (name, task, solution, accepted statuses)
    ("infinite loop", ADD_TASK, "def add(a, b):\n    while True: pass\n", {"timeout"}),
    ("sleep forever", CALL_TASK, "import time\ndef add(a, b):\n    time.sleep(100)\n", {"timeout"}),
    ("os._exit before asserts", ADD_TASK, GOOD + "import os\nos._exit(0)\n", {"failed"}),
    ("sys.exit before asserts", ADD_TASK, GOOD + "import sys\nsys.exit(0)\n", {"failed"}),
    ("raise SystemExit", ADD_TASK, GOOD + "raise SystemExit\n", {"failed"}),
    ("exit in call", CALL_TASK, "import os\ndef add(a, b):\n    os._exit(0)\n", {"failed"}),
    ("exit in stdio", STDIO_TASK, "import os\nos._exit(0)\n", {"failed"}),
    (
        "__eq__ always True",
        CALL_TASK,
        "class Any:\n    def __eq__(self, other): return True\n"
        "    def __ne__(self, other): return False\n"
        "def add(a, b):\n    return Any()\n",
        {"failed"},
    ),
    (
        "int subclass with __eq__ True",
        CALL_TASK,
        "class I(int):\n    def __eq__(self, other): return True\n    __hash__ = int.__hash__\n"
        "def add(a, b):\n    return I(0)\n",
        {"failed"},
    ),
    (
        "fork bomb",
        ADD_TASK,
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
        {"timeout", "failed", "error"},
    ),
    ("deep recursion", ADD_TASK, "def f(n):\n    return f(n + 1)\nf(0)\n", {"failed"}),
    (
        "deep recursion with a raised limit",
        ADD_TASK,
        "import sys\nsys.setrecursionlimit(10**7)\ndef f(n):\n    return f(n + 1) + 1\nf(0)\n",
        {"failed", "error", "oom", "timeout"},
    ),
    (
        "ignore SIGTERM",
        ADD_TASK,
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "while True: time.sleep(1)\n",
        {"timeout"},
    ),
    (
        "100 MB of stdout",
        ADD_TASK,
        "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * (1 << 20))\n" + GOOD,
        {"failed"},
    ),
    (
        "100 MB of stdout in a stdio test",
        STDIO_TASK,
        "import sys\nfor _ in range(100):\n    sys.stdout.write('3\\n' * (1 << 19))\n",
        {"failed"},
    ),
    (
        "socket",
        ADD_TASK,
        "import socket\ns = socket.create_connection(('1.1.1.1', 80), timeout=1)\n" + GOOD,
        {"failed"},
    ),
]


def test_memory_bomb_is_stopped_by_the_address_space_limit() -> None:
    """The limit under test is memory, not time: a generous time limit, so that a loaded machine
    (slow page faults) cannot turn the out-of-memory verdict into a timeout."""
    limits = Limits(test_timeout_s=20, address_space=1 << 30, file_size=8 << 20, nproc=32)
    bomb = "x = []\nwhile True:\n    x.append(' ' * (1 << 24))\n"
    with Executor(workers=1, limits=limits) as ex:
        [result] = ex.run(
            {ADD_TASK["id"]: ADD_TASK}, [{"task_id": ADD_TASK["id"], "solution": bomb}]
        )
        assert result.status in {"oom", "failed", "error"}, result.to_json()
        assert leftovers(ex) == []
        [after] = ex.run(
            {ADD_TASK["id"]: ADD_TASK},
            [{"task_id": ADD_TASK["id"], "solution": ADD_TASK["solutions"][0]}],
        )
        assert after.status == "passed", after.to_json()


@pytest.mark.parametrize(
    "name,task,solution,statuses", ADVERSARIAL, ids=[a[0] for a in ADVERSARIAL]
)
def test_adversarial(
    executor: Executor, name: str, task: dict, solution: str, statuses: set
) -> None:
    started = time.monotonic()
    [result] = executor.run({task["id"]: task}, [{"task_id": task["id"], "solution": solution}])
    assert result.status in statuses, result.to_json()
    assert time.monotonic() - started < 8
    assert leftovers(executor) == []
    # The harness keeps working.
    [after] = executor.run(
        {task["id"]: task}, [{"task_id": task["id"], "solution": task["solutions"][0]}]
    )
    assert after.status == "passed", after.to_json()


def test_fork_bomb_is_bounded(executor: Executor) -> None:
    code = (
        "import os, time\nn = 0\nfor _ in range(200):\n    try:\n        pid = os.fork()\n"
        "    except OSError:\n        break\n"
        "    if pid == 0:\n        time.sleep(60)\n        os._exit(0)\n"
        "    n += 1\nassert n < 200, n\n" + GOOD
    )
    [result] = executor.run({"custom/add": ADD_TASK}, [{"task_id": "custom/add", "solution": code}])
    if os.geteuid() == 0:
        # Its own uid makes RLIMIT_NPROC apply: the fork loop stops before 200.
        assert result.status == "passed", result.to_json()
    assert leftovers(executor) == []


def test_child_outliving_the_sample_is_killed(executor: Executor, tmp_path: Path) -> None:
    code = (
        "import os, subprocess, time\n"
        "if os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\n    os._exit(0)\n"
        "subprocess.Popen(['sh', '-c', 'setsid sleep 60 & sleep 60'])\n"
        "import threading, time\nthreading.Thread(target=lambda: time.sleep(60)).start()\n" + GOOD
    )
    started = time.monotonic()
    [result] = executor.run({"custom/add": ADD_TASK}, [{"task_id": "custom/add", "solution": code}])
    assert result.status == "passed", result.to_json()
    assert time.monotonic() - started < 5  # threads left running do not hold the verdict up
    time.sleep(0.1)
    assert leftovers(executor) == []


def test_cwd_is_a_fresh_temp_dir_and_outside_files_are_protected(executor: Executor) -> None:
    sentinel_dir = Path(tempfile.mkdtemp(prefix="codistill-sentinel-"))
    try:
        os.chmod(sentinel_dir, 0o755)
        sentinel = sentinel_dir / "sentinel.txt"
        sentinel.write_text("untouched")
        os.chmod(sentinel, 0o644)
        code = (
            "import os, tempfile\n"
            "cwd = os.getcwd()\n"
            "assert sorted(os.listdir(cwd)) == ['stderr.txt', 'stdout.txt'], os.listdir(cwd)\n"
            "assert os.path.basename(cwd).startswith('codistill-exec-')\n"
            "open('mine.txt', 'w').write('ok')\n"
            f"try:\n    open({str(sentinel)!r}, 'w').write('overwritten')\n"
            "except OSError:\n    pass\n"
            f"try:\n    os.remove({str(sentinel)!r})\nexcept OSError:\n    pass\n" + GOOD
        )
        [result] = executor.run(
            {"custom/add": ADD_TASK}, [{"task_id": "custom/add", "solution": code}]
        )
        assert result.status == "passed", result.to_json()
        if os.geteuid() == 0:
            # As root the child switches to a uid of its own, so plain permissions protect it.
            assert sentinel.read_text() == "untouched"
        assert not list(Path(tempfile.gettempdir()).glob("codistill-exec-*/mine.txt"))
    finally:
        for path in sentinel_dir.iterdir():
            path.unlink()
        sentinel_dir.rmdir()


def test_nonce_cannot_be_forged_by_printing(executor: Executor) -> None:
    code = (
        GOOD
        + 'import sys\nprint(\'{"end": "guess"}\')\nsys.stdout.flush()\nimport os\nos._exit(0)\n'
    )
    [result] = executor.run({"custom/add": ADD_TASK}, [{"task_id": "custom/add", "solution": code}])
    assert result.status == "failed"


def test_failing_test_index_and_stdio_judges(executor: Executor) -> None:
    wrong_second = "def add(a, b):\n    return 3\n"
    [r1] = executor.run(
        {"custom/call": CALL_TASK}, [{"task_id": "custom/call", "solution": wrong_second}]
    )
    assert (r1.status, r1.failed_test) == ("failed", 1)
    [r2] = executor.run(
        {"custom/add": ADD_TASK}, [{"task_id": "custom/add", "solution": wrong_second}]
    )
    assert (r2.status, r2.failed_test) == ("failed", 1)  # line of the failing assert
    spaced = "a, b = map(int, input().split())\nprint('  ', a + b, '  ')\nprint()\n"
    [r3] = executor.run(
        {"custom/stdio": STDIO_TASK}, [{"task_id": "custom/stdio", "solution": spaced}]
    )
    assert r3.status == "passed", r3.to_json()
    floats = dict(
        STDIO_TASK,
        id="custom/f",
        tests=dict(
            STDIO_TASK["tests"], outputs=["3.0000001\n", "4\n"], specialJudge="float-tolerance"
        ),
    )
    caseless = dict(
        STDIO_TASK,
        id="custom/c",
        solutions=["print('YES')"],
        tests=dict(STDIO_TASK["tests"], outputs=["yes", "Yes"], specialJudge="case-insensitive"),
    )
    exact_case = dict(caseless, id="custom/e", tests=dict(caseless["tests"], specialJudge=None))
    tasks = {t["id"]: t for t in (floats, caseless, exact_case)}
    results = executor.run(
        tasks, [{"task_id": tid, "solution": t["solutions"][0]} for tid, t in tasks.items()]
    )
    assert [r.status for r in results] == ["passed", "passed", "failed"]


def test_call_float_tolerance(executor: Executor) -> None:
    task = dict(
        CALL_TASK,
        id="custom/fl",
        tests=dict(CALL_TASK["tests"], outputs=[3.0000000001, 4.0], atol=1e-6),
    )
    close = "def add(a, b):\n    return float(a + b)\n"
    far = "def add(a, b):\n    return a + b + 0.01\n"
    results = executor.run(
        {"custom/fl": task}, [{"task_id": "custom/fl", "solution": s} for s in (close, far)]
    )
    assert [r.status for r in results] == ["passed", "failed"]


def test_determinism(executor: Executor) -> None:
    tasks = tasks_of("humaneval-slice.tasks.jsonl")
    samples = (
        canonical(tasks)
        + [
            {"task_id": tid, "solution": _break(t["solutions"][0]).format(fn=t["entryPoint"])}
            for tid, t in tasks.items()
        ]
        + [{"task_id": "HumanEval/53", "solution": "def add(x, y):\n    while True: pass\n"}]
    )
    runs = [[(r.status, r.failed_test) for r in executor.run(tasks, samples)] for _ in range(3)]
    assert runs[0] == runs[1] == runs[2]


def test_pass_at_k() -> None:
    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 10, 10) == 1.0
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(5, 1, 2) == pytest.approx(1 - 6 / 10)
    with pytest.raises(ValueError):
        pass_at_k(5, 1, 10)
    summary = summarize({"a": ["passed"] * 3 + ["failed"] * 7, "b": ["failed"] * 10})
    assert summary["overall"] == {"pass@1": pytest.approx(0.15), "pass@10": pytest.approx(0.5)}
    assert "pass@100" not in summary["tasks"]["a"]["pass@k"]


def run_execute_command(
    tasks: Path, samples: Path, out: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "codistill", "execute", "--tasks", str(tasks)]
    command += ["--samples", str(samples), "--out", str(out), *options]
    return subprocess.run(command, env=sidecar_env(), capture_output=True, text=True, timeout=60)


def test_execute_command_end_to_end(tmp_path: Path) -> None:
    tasks_file = GOLDEN / "humaneval-slice.tasks.jsonl"
    tasks = tasks_of("humaneval-slice.tasks.jsonl")
    samples = tmp_path / "samples.jsonl"
    rows = []
    for tid, task in tasks.items():
        rows.append({"task_id": tid, "solution": task["solutions"][0]})
        rows.append({"task_id": tid, "completion": "    return None\n"})
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "results.json"
    proc = run_execute_command(tasks_file, samples, out, "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data["summary"]["samples"] == 10
    assert data["summary"]["pass@k"] == {"pass@1": pytest.approx(0.5)}
    assert [s["status"] for s in data["samples"]] == ["passed", "failed"] * 5
    assert data["tasks"]["HumanEval/0"] == {"n": 2, "c": 1, "pass@k": {"pass@1": 0.5}}

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"task_id": "HumanEval/0"}\n')
    proc = run_execute_command(tasks_file, bad, out)
    assert proc.returncode == 2 and "bad.jsonl:1" in proc.stderr


def test_network_namespace_has_only_loopback(executor: Executor) -> None:
    code = (
        "import socket\nnames = [n for _, n in socket.if_nameindex()]\n"
        "assert names == ['lo'], names\n" + GOOD
    )
    [result] = executor.run({"custom/add": ADD_TASK}, [{"task_id": "custom/add", "solution": code}])
    if (
        os.geteuid() == 0
    ):  # unshare(CLONE_NEWNET) needs CAP_SYS_ADMIN; otherwise sockets are patched
        assert result.status == "passed", result.to_json()


SLOW_ADD = "import time\ndef add(a, b):\n    time.sleep(0.3)\n    return a + b\n"


def test_on_result_reports_each_sample_once_in_sequence(executor: Executor) -> None:
    samples = [{"task_id": "custom/call", "solution": s} for s in [GOOD, SLOW_ADD, "x = ("] * 3]
    calls: list[tuple[int, int, int, str]] = []
    inside = threading.Event()

    def on_result(result: Any, done: int, total: int) -> None:
        # Serialized: no second call may start while this one sleeps.
        assert not inside.is_set()
        inside.set()
        time.sleep(0.02)
        calls.append((done, total, result.sample_index, result.status))
        inside.clear()

    results = executor.run({"custom/call": CALL_TASK}, samples, on_result=on_result)
    assert [c[0] for c in calls] == list(range(1, 10))
    assert {c[1] for c in calls} == {9}
    reported = sorted((c[2], c[3]) for c in calls)
    assert reported == sorted((r.sample_index, r.status) for r in results)
    assert [r.status for r in results] == ["passed", "passed", "error"] * 3


def test_cancel_skips_samples_not_started(executor: Executor) -> None:
    cancel = threading.Event()
    samples = [{"task_id": "custom/call", "solution": SLOW_ADD} for _ in range(20)]
    seen: list[int] = []

    def on_result(result: Any, done: int, total: int) -> None:
        seen.append(done)
        cancel.set()

    started = time.monotonic()
    with pytest.raises(ExecutionCancelled) as caught:
        executor.run({"custom/call": CALL_TASK}, samples, on_result=on_result, cancel=cancel)
    elapsed = time.monotonic() - started
    # The first result sets the flag; at most the other worker's sample was still in flight.
    assert 1 <= len(caught.value.results) <= executor.workers
    assert seen == list(range(1, len(caught.value.results) + 1))
    assert all(r.status == "passed" for r in caught.value.results)
    assert caught.value.total == 20
    assert elapsed < 20 * 0.3 / executor.workers
    assert leftovers(executor) == []


def test_cancel_set_before_run_runs_nothing(executor: Executor) -> None:
    cancel = threading.Event()
    cancel.set()
    calls: list[int] = []
    with pytest.raises(ExecutionCancelled) as caught:
        executor.run(
            {"custom/call": CALL_TASK},
            [{"task_id": "custom/call", "solution": GOOD}] * 5,
            on_result=lambda r, done, total: calls.append(done),
            cancel=cancel,
        )
    assert caught.value.results == [] and calls == []
    # The executor stays usable afterwards.
    [after] = executor.run(
        {"custom/call": CALL_TASK}, [{"task_id": "custom/call", "solution": GOOD}]
    )
    assert after.status == "passed"


def test_challenge_tests_run_only_when_asked(tmp_path: Path) -> None:
    """MBPP's challenge_test_list (mbpp/11 asks remove_Occ("", "l") == "") is an option."""
    task = tasks_of("mbpp-slice.tasks.jsonl")["mbpp/11"]
    assert 'remove_Occ("","l")' in task["tests"]["challenge"]
    canonical_code = task["solutions"][0]
    # Right on every non-empty string (first and last occurrence removed), wrong on "".
    empty_breaks = (
        "def remove_Occ(s, ch):\n"
        "    if not s:\n"
        "        return None\n"
        "    first = s.find(ch)\n"
        "    if first < 0:\n"
        "        return s\n"
        "    s = s[:first] + s[first + 1:]\n"
        "    last = s.rfind(ch)\n"
        "    return s if last < 0 else s[:last] + s[last + 1:]\n"
    )
    samples = [
        {"task_id": "mbpp/11", "solution": canonical_code},
        {"task_id": "mbpp/11", "solution": empty_breaks},
    ]
    verdicts = {}
    for challenge in (False, True):
        with Executor(workers=1, challenge_tests=challenge) as ex:
            verdicts[challenge] = [r.status for r in ex.run({"mbpp/11": task}, samples)]
    assert verdicts[False] == ["passed", "passed"]
    assert verdicts[True] == ["passed", "failed"]
    # The same through `python -m codistill execute --challenge-tests`.
    tasks_file = tmp_path / "tasks.jsonl"
    tasks_file.write_text(json.dumps(task) + "\n")
    samples_file = tmp_path / "samples.jsonl"
    samples_file.write_text("".join(json.dumps(s) + "\n" for s in samples))
    out = tmp_path / "results.json"
    done = run_execute_command(tasks_file, samples_file, out, "--challenge-tests")
    assert done.returncode == 0, done.stderr
    statuses = [r["status"] for r in json.loads(out.read_text())["samples"]]
    assert statuses == ["passed", "failed"]
