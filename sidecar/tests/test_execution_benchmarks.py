"""The sandbox on the real benchmarks (CODISTILL_DATA, exported by dist/cli.js): reference
solutions pass, perturbed ones fail, verdicts repeat, and EvalPlus's special cases (converted
MBPP+ inputs, set / not-None answers, any root for find_zero) judge as EvalPlus does."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from benchdata import BENCHMARKS, BenchmarkDataError, export_benchmark

from codistill.execution import Executor, SampleResult
from codistill.tasks import load_tasks

Tasks = dict[str, dict[str, Any]]

# MBPP (original release) tasks whose reference code fails its own tests, and why. Upstream later
# rewrote exactly these three tests (see ../shared/data/SOURCES.md).
MBPP_KNOWN_FAILURES = {
    "mbpp/341": "expects set_to_tuple({12, ..., 16}) in sorted order; CPython iterates the set "
    "in hash-table order (16 first)",
    "mbpp/596": "compares sys.getsizeof of tuples with numbers that depend on the Python build",
    "mbpp/642": "compares a set of tuple(set(...)) results whose element order follows "
    "CPython's tuple hash, which changed across versions",
}


@pytest.fixture(scope="session")
def benchmarks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Tasks]:
    folder = tmp_path_factory.mktemp("benchmarks")
    try:
        paths = {name: export_benchmark(name, folder) for name in BENCHMARKS}
    except BenchmarkDataError as exc:
        pytest.fail(str(exc))
    return {name: {task["id"]: task for task in load_tasks(path)} for name, path in paths.items()}


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Reference runs (expected outputs and times) shared by every test of the session."""
    return tmp_path_factory.mktemp("expected-outputs")


@pytest.fixture(scope="module")
def executor(cache_dir: Path):
    with Executor(workers=2, cache_dir=cache_dir) as ex:
        yield ex


def canonical(tasks: Tasks) -> list[dict[str, Any]]:
    return [{"task_id": tid, "solution": task["solutions"][0]} for tid, task in tasks.items()]


def failures(results: list[SampleResult]) -> dict[str, str]:
    return {
        r.task_id: f"{r.status} at {r.failed_test}: {r.message}"
        for r in results
        if r.status != "passed"
    }


def timed_run(
    ex: Executor, tasks: Tasks, samples: list[dict[str, Any]], label: str
) -> list[SampleResult]:
    started = time.monotonic()
    results = ex.run(tasks, samples)
    elapsed = time.monotonic() - started
    print(f"{label}: {len(samples)} samples in {elapsed:.1f} s")
    return results


def test_humaneval_reference_solutions_pass_and_repeat(
    executor: Executor, benchmarks: dict[str, Tasks]
) -> None:
    tasks = benchmarks["humaneval"]
    assert len(tasks) == 164
    runs = [timed_run(executor, tasks, canonical(tasks), f"HumanEval run {n}") for n in range(3)]
    assert failures(runs[0]) == {}
    verdicts = [[(r.task_id, r.status, r.failed_test) for r in results] for results in runs]
    assert verdicts[0] == verdicts[1] == verdicts[2]


@pytest.mark.parametrize("name,count", [("humanevalplus", 164), ("mbppplus", 378)])
def test_evalplus_reference_solutions_pass_base_and_plus(
    executor: Executor, benchmarks: dict[str, Tasks], name: str, count: int
) -> None:
    tasks = benchmarks[name]
    assert len(tasks) == count
    for task in tasks.values():
        # Every base and plus input is a test.
        meta = task["meta"]
        assert len(task["tests"]["inputs"]) == meta["baseInputs"] + meta["plusInputs"]
    results = timed_run(executor, tasks, canonical(tasks), name)
    assert failures(results) == {}


def test_mbpp_reference_failures_are_the_documented_ones(
    executor: Executor, benchmarks: dict[str, Tasks]
) -> None:
    tasks = benchmarks["mbpp"]
    assert len(tasks) == 974
    results = timed_run(executor, tasks, canonical(tasks), "MBPP")
    failed = failures(results)
    # Build-dependent: a Python whose sizes and hashes happen to match passes some of them.
    assert set(failed) <= set(MBPP_KNOWN_FAILURES), failed
    assert all(
        r.status == "failed" and r.failed_test is not None for r in results if r.task_id in failed
    )
    passed = sum(r.status == "passed" for r in results)
    assert passed >= len(tasks) - len(MBPP_KNOWN_FAILURES)


def perturbed(task: dict[str, Any]) -> str:
    """The reference with every return value replaced: None, or 0 where it returned None."""
    fn = task["tests"].get("fnName") or task["entryPoint"]
    return (
        task["solutions"][0]
        + f"\n\n_reference = {fn}\n\ndef {fn}(*args, **kwargs):\n"
        + "    value = _reference(*args, **kwargs)\n"
        + "    return None if value is not None else 0\n"
    )


def test_perturbed_reference_solutions_fail(
    executor: Executor, benchmarks: dict[str, Tasks]
) -> None:
    tasks = {**benchmarks["humaneval"], **benchmarks["mbppplus"]}
    samples = [{"task_id": tid, "solution": perturbed(task)} for tid, task in tasks.items()]
    results = timed_run(executor, tasks, samples, "perturbed HumanEval + MBPP+")
    statuses = Counter(r.status for r in results)
    caught = len(results) - statuses["passed"]
    ratio = caught / len(results)
    print(f"perturbed solutions rejected: {caught}/{len(results)} = {ratio:.4f} ({dict(statuses)})")
    assert ratio >= 0.99, [r.task_id for r in results if r.status == "passed"]


def judge(ex: Executor, task: dict[str, Any], *solutions: str) -> list[tuple[str, int | None]]:
    samples = [{"task_id": task["id"], "solution": s} for s in solutions]
    return [(r.status, r.failed_test) for r in ex.run({task["id"]: task}, samples)]


def with_argument_check(task: dict[str, Any], check: str) -> str:
    """The reference, called only after `check` (an expression over `args`) holds."""
    fn = task["tests"]["fnName"]
    return (
        task["solutions"][0]
        + f"\n\n_reference = {fn}\n\ndef {fn}(*args):\n"
        + f"    assert {check}, [type(a) for a in args]\n"
        + "    return _reference(*args)\n"
        + "\ndef no_lists(value):\n"
        + "    return type(value) is not list and (type(value) is not tuple"
        + " or all(no_lists(v) for v in value))\n"
    )


def test_mbppplus_inputs_arrive_as_evalplus_passes_them(
    executor: Executor, benchmarks: dict[str, Tasks]
) -> None:
    tasks = benchmarks["mbppplus"]
    # Stored as JSON lists and strings; EvalPlus hands these tasks tuples and complex numbers.
    checks = {
        "Mbpp/106": "type(args[0]) is list and type(args[1]) is tuple",
        "Mbpp/124": "type(args[0]) is float and type(args[1]) is complex",
        "Mbpp/252": "type(args[0]) is complex",
        "Mbpp/580": "no_lists(args)",
        "Mbpp/722": "all(type(v) is tuple for v in args[0].values())",
    }
    for task_id, check in checks.items():
        solution = with_argument_check(tasks[task_id], check)
        assert judge(executor, tasks[task_id], solution) == [("passed", None)], task_id
        # The check itself bites: the same lists unconverted would fail it.
        unconverted = with_argument_check(tasks[task_id], f"not ({check})")
        assert judge(executor, tasks[task_id], unconverted)[0][0] == "failed", task_id


def test_mbppplus_answer_forms_evalplus_accepts(
    executor: Executor, benchmarks: dict[str, Tasks]
) -> None:
    tasks = benchmarks["mbppplus"]
    # Mbpp/88 returns a collections.Counter: an equal plain dict is the same answer.
    freq = tasks["Mbpp/88"]
    as_dict = (
        "def freq_count(list1):\n    d = {}\n"
        "    for x in list1:\n        d[x] = d.get(x, 0) + 1\n    return d\n"
    )
    off_by_one = as_dict.replace("return d", "return {k: v + 1 for k, v in d.items()}")
    assert judge(executor, freq, as_dict, off_by_one) == [("passed", None), ("failed", 0)]
    # Mbpp/794 returns a re.Match or None; EvalPlus only asks "not None", or takes a bool.
    starta = tasks["Mbpp/794"]
    search = "import re\ndef text_starta_endb(text):\n    return {}(re.search('a.*?b$', text))\n"
    always = "def text_starta_endb(text):\n    return 'a match'\n"
    never = "def text_starta_endb(text):\n    return None\n"
    verdicts = judge(executor, starta, search.format(""), search.format("bool"), always, never)
    assert verdicts[:2] == [("passed", None), ("passed", None)]
    assert verdicts[2][0] == verdicts[3][0] == "failed"
    # Mbpp/2 is compared as a set: any order of the shared elements.
    similar = tasks["Mbpp/2"]
    reordered = (
        "def similar_elements(a, b):\n"
        "    return tuple(sorted(set(a) & set(b), key=repr, reverse=True))\n"
    )
    assert judge(executor, similar, reordered) == [("passed", None)]
    # Mbpp/106 answers a tuple: EvalPlus's == tells a list with the same items apart.
    add_lists = tasks["Mbpp/106"]
    as_list = "def add_lists(test_list, test_tup):\n    return list(test_tup) + test_list\n"
    assert judge(executor, add_lists, as_list) == [("failed", 0)]


def test_find_zero_accepts_any_root(executor: Executor, benchmarks: dict[str, Tasks]) -> None:
    real = benchmarks["humanevalplus"]["HumanEval/32"]
    # Polynomials with two roots each: (x + 1)(x - 2) and (x - 2)(x - 3). The reference's Newton
    # iteration from 0 finds -1 and 2; the other roots are just as right.
    task = dict(real, tests=dict(real["tests"], inputs=[[[-2, -1, 1]], [[6, -5, 1]]]))
    other_roots = "def find_zero(xs):\n    return {(-2, -1, 1): 2.0, (6, -5, 1): 3.0}[tuple(xs)]\n"
    not_roots = other_roots.replace("2.0, (6", "2.5, (6")
    assert judge(executor, task, real["solutions"][0], other_roots, not_roots) == [
        ("passed", None),
        ("passed", None),
        ("failed", 0),
    ]
