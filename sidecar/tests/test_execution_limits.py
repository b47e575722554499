"""EvalPlus-style per-input time limits, answers larger than the frame cap, and the cache of
reference runs, on real sandboxed processes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from test_execution import run_execute_command

from codistill.execution import Executor, Limits

SLEEPER = "import time\ndef wait(s):\n    time.sleep(s)\n    return s\n"


def sleep_task(task_id: str, seconds: list[float]) -> dict[str, Any]:
    """`wait(s)` sleeps s seconds; the reference solution is the plain sleeper."""
    return {
        "id": task_id,
        "source": "custom",
        "prompt": "",
        "entryPoint": "wait",
        "solutions": [SLEEPER],
        "tests": {
            "kind": "call",
            "fnName": "wait",
            "inputs": [[s] for s in seconds],
            "outputs": None,
        },
        "meta": {},
    }


def sleeping(factor: float) -> str:
    """A right answer that takes `factor` times as long as the reference."""
    return f"import time\ndef wait(s):\n    time.sleep(s * {factor})\n    return s\n"


# Reference 0.3 s on input 1: its limit is 4 x 0.3 = 1.2 s; input 0 gets the floor, 0.2 s.
FAST_LIMITS = Limits(test_timeout_s=0.5, min_time_limit=0.2, time_limit_factor=4.0)


@pytest.fixture(scope="module")
def executor():
    with Executor(workers=2, limits=FAST_LIMITS) as ex:
        yield ex


def run(ex: Executor, task: dict[str, Any], solution: str) -> Any:
    [result] = ex.run({task["id"]: task}, [{"task_id": task["id"], "solution": solution}])
    return result


def test_a_slow_answer_passes_where_the_reference_is_slow_too(executor: Executor) -> None:
    slow = sleep_task("custom/slow", [0.0, 0.3])
    # 0.6 s on input 1: over test_timeout_s (0.5 s), within 4 x the reference's 0.3 s.
    result = run(executor, slow, sleeping(2))
    assert result.status == "passed", result.to_json()


def test_the_same_answer_times_out_where_the_reference_is_fast(executor: Executor) -> None:
    fast = sleep_task("custom/fast", [0.0, 0.0])
    result = run(executor, fast, "import time\ndef wait(s):\n    time.sleep(0.6)\n    return s\n")
    assert (result.status, result.failed_test) == ("timeout", 0), result.to_json()
    assert "0.2 s" in result.message  # the floor, min_time_limit


def test_ten_times_slower_than_the_reference_times_out(executor: Executor) -> None:
    slow = sleep_task("custom/slow", [0.0, 0.3])
    started = time.monotonic()
    result = run(executor, slow, sleeping(10))  # 3 s on input 1, limit 1.2 s
    assert (result.status, result.failed_test) == ("timeout", 1), result.to_json()
    assert "1.2 s" in result.message
    # Stopped at the limit, not after the sleep.
    assert time.monotonic() - started < 2.5


def test_time_limit_options_of_the_execute_command(tmp_path: Path) -> None:
    tasks = tmp_path / "slow.tasks.jsonl"
    tasks.write_text(json.dumps(sleep_task("custom/slow", [0.0, 0.3])) + "\n")
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"task_id": "custom/slow", "solution": sleeping(2)}) + "\n")
    out = tmp_path / "results.json"

    def status(*options: str) -> str:
        proc = run_execute_command(tasks, samples, out, *options)
        assert proc.returncode == 0, proc.stderr
        return json.loads(out.read_text())["samples"][0]["status"]

    # EvalPlus's defaults (4 x, at least 1 s) accept 0.6 s; 1 x the reference's 0.3 s does not.
    assert status() == "passed"
    assert status("--time-limit-factor", "1", "--min-time-limit", "0.1") == "timeout"


BIG_TASK = {
    "id": "custom/big-text",
    "source": "custom",
    "prompt": "",
    "entryPoint": "text",
    "solutions": ["def text(n, c):\n    return c * n\n"],
    # 3 x 30 MB exceeds the 64 MB cap on a sample's results; 40 MB travels as a digest.
    "tests": {
        "kind": "call",
        "fnName": "text",
        "inputs": [[30 << 20, "a"], [30 << 20, "b"], [30 << 20, "c"], [40 << 20, "d"]],
        "outputs": None,
    },
    "meta": {},
}


@pytest.mark.parametrize(
    "solution,status,failed_test",
    [
        ("def text(n, c):\n    return c * n\n", "passed", None),
        # One character off in the 30 MB answer, then in the 40 MB one (compared by digest).
        ("def text(n, c):\n    return c * (n - 1) + ('x' if c == 'b' else c)\n", "failed", 1),
        ("def text(n, c):\n    return c * (n - 1) + ('x' if c == 'd' else c)\n", "failed", 3),
    ],
)
def test_answers_larger_than_the_frame_cap(
    executor: Executor, solution: str, status: str, failed_test: int | None
) -> None:
    result = run(executor, BIG_TASK, solution)
    assert (result.status, result.failed_test) == (status, failed_test), result.to_json()


def test_reference_runs_are_cached_with_their_times(tmp_path: Path) -> None:
    slow = sleep_task("custom/slow", [0.0, 0.3])
    with Executor(workers=1, limits=FAST_LIMITS, cache_dir=tmp_path) as ex:
        assert run(ex, slow, SLEEPER).status == "passed"
    [meta] = tmp_path.glob("*.json")
    times = json.loads(meta.read_text())["times"]
    assert times[0] < 0.1 and 0.3 <= times[1] < 0.6
    [outputs] = tmp_path.glob("*.outputs.jsonl")
    assert outputs.read_text().splitlines() == ["0.0", "0.3"]
    # A later executor trusts the cache: an edited expected output now fails the reference.
    outputs.write_text("0.0\n0.5\n")
    with Executor(workers=1, limits=FAST_LIMITS, cache_dir=tmp_path) as ex:
        result = run(ex, slow, SLEEPER)
    assert (result.status, result.failed_test) == ("failed", 1), result.to_json()
    assert not list(tmp_path.glob("*.tmp"))


def test_a_relative_cache_dir_is_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As `python -m codistill execute --cache-dir cache` passes it; the workers that write the
    # reference runs' files work in /, not here.
    monkeypatch.chdir(tmp_path)
    with Executor(workers=1, limits=FAST_LIMITS, cache_dir="cache") as ex:
        result = run(ex, sleep_task("custom/quick", [0.0]), SLEEPER)
    assert result.status == "passed", result.to_json()
    kinds = sorted(path.name.split(".", 1)[1] for path in (tmp_path / "cache").iterdir())
    assert kinds == ["json", "outputs.jsonl"]
