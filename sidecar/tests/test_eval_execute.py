"""eval/execute's results.json on the EvalPlus golden slices, with real samples run in the
sandbox: right answers, answers overfit to the base tests, wrong and broken ones."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from eval_support import evalplus_samples, read_json, run_eval_cli, task

from codistill import protocol
from codistill.evaluation.common import EvalCancelled, EvalInputError
from codistill.evaluation.execute import ExecuteRequest, run_execution
from codistill.execution import Executor

ENTRY_KEYS = [
    "task_id",
    "solution",
    "status",
    "base_status",
    "plus_status",
    "failed_test",
    "message",
    "duration_s",
]


@pytest.fixture(scope="module")
def evalplus_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("evalplus")
    tasks = root / "tasks.jsonl"
    chosen = [
        ("humanevalplus-slice", "HumanEval/2"),
        ("mbppplus-slice", "Mbpp/404"),
        ("humaneval-slice", "HumanEval/0"),
    ]
    lines = [json.dumps(task(name, task_id)) for name, task_id in chosen]
    tasks.write_text("\n".join(lines) + "\n")
    samples = root / "samples.jsonl"
    samples.write_text("".join(json.dumps(s) + "\n" for s in evalplus_samples()))
    return {"root": root, "tasks": tasks, "samples": samples}


@pytest.fixture(scope="module")
def executed(evalplus_files: dict[str, Path]) -> tuple[dict[str, Any], dict[str, Any]]:
    # generation.json next to the samples is copied into results.json.
    (evalplus_files["root"] / "generation.json").write_text(json.dumps({"model": "m", "n": 4}))
    request = ExecuteRequest(
        str(evalplus_files["tasks"]),
        str(evalplus_files["samples"]),
        str(evalplus_files["root"] / "out"),
        workers=2,
        timeout_s=3,
        ks=(1, 2, 10),
    )
    steps: list[tuple[int, int]] = []
    result = run_execution(request, lambda done, total, message: steps.append((done, total)))
    assert steps[0] == (0, 10) and steps[-1] == (10, 10)
    assert [done for done, _ in steps] == list(range(11))
    return result, read_json(Path(result["resultsPath"]))


def statuses(results: dict[str, Any], task_id: str) -> list[tuple[Any, ...]]:
    return [
        (e["status"], e["base_status"], e["plus_status"], e["failed_test"])
        for e in results["eval"][task_id]
    ]


def test_results_json_has_the_spec_shape(
    executed: tuple[dict[str, Any], dict[str, Any]], evalplus_files: dict[str, Path]
) -> None:
    result, results = executed
    assert list(results) == [
        "date",
        "hash",
        "tasksPath",
        "samplesPath",
        "generation",
        "limits",
        "challengeTests",
        "summary",
        "eval",
    ]
    assert results["hash"] == hashlib.sha256(evalplus_files["tasks"].read_bytes()).hexdigest()
    assert results["tasksPath"] == str(evalplus_files["tasks"])
    assert results["samplesPath"] == str(evalplus_files["samples"])
    assert results["generation"] == {"model": "m", "n": 4}
    # EvalPlus's per-input limits by default: max(1 s, 4 x the reference's time).
    assert results["limits"] == {"timeoutS": 3, "timeLimitFactor": 4, "minTimeLimitS": 1}
    assert results["challengeTests"] is False
    assert results["summary"] == result["summary"]
    assert protocol.validate_result("eval/execute", result) == []
    assert list(results["eval"]) == ["HumanEval/2", "Mbpp/404", "HumanEval/0"]
    for entries in results["eval"].values():
        for entry in entries:
            assert list(entry) == ENTRY_KEYS


def test_base_and_plus_status_follow_the_failing_input(
    executed: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    _, results = executed
    # HumanEval/2 has 3 base inputs and Mbpp/404 3; input 3 is the first extra one.
    assert statuses(results, "HumanEval/2")[:3] == [
        ("passed", "pass", "pass", None),
        ("failed", "pass", "fail", 3),
        ("failed", "fail", "fail", 0),
    ]
    broken = statuses(results, "HumanEval/2")[3]
    assert broken[0] != "passed" and broken[1:] == ("fail", "fail", None)
    assert statuses(results, "Mbpp/404")[:3] == [
        ("passed", "pass", "pass", None),
        ("failed", "pass", "fail", 3),
        ("failed", "fail", "fail", 0),
    ]
    # Exiting early is never a pass (no completion marker).
    assert statuses(results, "Mbpp/404")[3][1:3] == ("fail", "fail")
    # HumanEval without EvalPlus inputs has no plus verdict.
    right, wrong = statuses(results, "HumanEval/0")
    assert right == ("passed", "pass", None, None)
    assert wrong[0] == "failed" and wrong[1:3] == ("fail", None)


def test_solution_is_the_program_that_ran(executed: tuple[dict[str, Any], dict[str, Any]]) -> None:
    _, results = executed
    prompt = task("humanevalplus-slice", "HumanEval/2")["prompt"]
    assert results["eval"]["HumanEval/2"][2]["solution"] == prompt + "    return number\n"


def test_summary_counts_statuses_and_pass_at_k(
    executed: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    _, results = executed
    summary = results["summary"]
    assert (summary["samples"], summary["tasks"]) == (10, 3)
    assert sum(summary["statuses"].values()) == 10 and summary["statuses"]["passed"] == 3
    # 1 of 4, 1 of 4, 1 of 2 correct: pass@1 = (1/4 + 1/4 + 1/2) / 3; pass@2 = (1/2 + 1/2 + 1) / 3;
    # pass@10 is left out because no task has 10 samples.
    assert summary["passAtK"] == pytest.approx({"pass@1": 1 / 3, "pass@2": 2 / 3})
    assert summary["wallS"] > 0


def test_cancelled_execution_writes_no_results(
    evalplus_files: dict[str, Path], tmp_path: Path
) -> None:
    cancel = threading.Event()

    def progress(done: int, total: int, message: str) -> None:
        if done >= 2:
            cancel.set()

    request = ExecuteRequest(
        str(evalplus_files["tasks"]), str(evalplus_files["samples"]), str(tmp_path), workers=1
    )
    with pytest.raises(EvalCancelled) as caught:
        run_execution(request, progress, cancel)
    assert 2 <= caught.value.done < 10 and caught.value.total == 10
    assert not (tmp_path / "results.json").exists()


def test_unknown_task_in_samples_is_named(evalplus_files: dict[str, Path], tmp_path: Path) -> None:
    samples = tmp_path / "samples.jsonl"
    samples.write_text(
        '{"task_id": "HumanEval/2", "completion": "    return 0.0\\n"}\n'
        '{"task_id": "HumanEval/999", "completion": "    pass\\n"}\n'
    )
    request = ExecuteRequest(str(evalplus_files["tasks"]), str(samples), str(tmp_path))
    with pytest.raises(EvalInputError, match=r"^samplesPath: .*sample 2: task_id 'HumanEval/999'"):
        run_execution(request)


def verdicts(results: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    return {task_id: statuses(results, task_id) for task_id in results["eval"]}


def test_second_execution_reuses_cached_expected_outputs(
    executed: tuple[dict[str, Any], dict[str, Any]],
    evalplus_files: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    modes: list[str] = []
    run_job = Executor._run_job

    def spy(self: Executor, job: dict[str, Any]) -> dict[str, Any]:
        modes.append(job["mode"])
        return run_job(self, job)

    monkeypatch.setattr(Executor, "_run_job", spy)
    cache = tmp_path / "cache" / "expected-outputs"  # created, parents and all

    def execute(out: str) -> dict[str, Any]:
        request = ExecuteRequest(
            str(evalplus_files["tasks"]),
            str(evalplus_files["samples"]),
            str(tmp_path / out),
            workers=2,
            timeout_s=3,
            ks=(1, 2, 10),
            cache_dir=str(cache),
            time_limit_factor=6,
            min_time_limit_s=2,
        )
        return read_json(Path(run_execution(request)["resultsPath"]))

    first = execute("first")
    # One reference run per EvalPlus task (HumanEval/2, Mbpp/404; HumanEval/0 has assertions),
    # kept as its outputs and its times per input.
    assert modes.count("record") == 2
    cached = {path.name: path for path in cache.iterdir()}
    kinds = sorted(name.split(".", 1)[1] for name in cached)
    assert kinds == ["json", "json", "outputs.jsonl", "outputs.jsonl"]
    # Back-date the files: a rewrite would show as a fresh mtime.
    old = 1_000_000_000
    for path in cached.values():
        os.utime(path, (old, old))

    modes.clear()
    second = execute("second")
    assert "record" not in modes and modes.count("check") == 10
    assert {path.name for path in cache.iterdir()} == set(cached)
    assert all(path.stat().st_mtime == old for path in cached.values())
    # Same verdicts as without a cache, and the limits they were judged under.
    _, uncached = executed
    assert verdicts(first) == verdicts(second) == verdicts(uncached)
    for results in (first, second):
        assert results["limits"] == {"timeoutS": 3, "timeLimitFactor": 6, "minTimeLimitS": 2}


def test_unusable_cache_dir_is_named(evalplus_files: dict[str, Path], tmp_path: Path) -> None:
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("")
    request = ExecuteRequest(
        str(evalplus_files["tasks"]),
        str(evalplus_files["samples"]),
        str(tmp_path / "out"),
        cache_dir=str(not_a_folder),
    )
    with pytest.raises(EvalInputError, match=r"^cacheDir: .* exists and is not a folder"):
        run_execution(request)


def execute_cli(
    tasks: Path, samples: Path, out_dir: Path, options: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """``codistill eval execute`` of these samples into OUT_DIR."""
    return run_eval_cli(
        "execute", "--tasks", tasks, "--samples", samples, "--out-dir", out_dir, *options
    )


def test_cli_execute_writes_the_same_results(
    executed: tuple[dict[str, Any], dict[str, Any]], evalplus_files: dict[str, Path], tmp_path: Path
) -> None:
    options = ["--timeout", "3", "--ks", "1", "2", "10", "--cache-dir", str(tmp_path / "cache")]
    options += ["--time-limit-factor", "5", "--min-time-limit", "1.5"]
    done = execute_cli(evalplus_files["tasks"], evalplus_files["samples"], tmp_path, options)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["resultsPath"] == str(tmp_path / "results.json")
    results = read_json(tmp_path / "results.json")
    _, expected = executed

    assert verdicts(results) == verdicts(expected)
    assert results["summary"]["passAtK"] == expected["summary"]["passAtK"]
    assert results["limits"] == {"timeoutS": 3, "timeLimitFactor": 5, "minTimeLimitS": 1.5}
    assert len(list((tmp_path / "cache").glob("*.outputs.jsonl"))) == 2


def test_cli_execute_rejects_a_non_positive_time_limit_factor(
    evalplus_files: dict[str, Path], tmp_path: Path
) -> None:
    options = ["--time-limit-factor", "-2", "--min-time-limit", "0"]
    done = execute_cli(evalplus_files["tasks"], evalplus_files["samples"], tmp_path, options)
    assert done.returncode == 2
    assert "params.timeLimitFactor: " in done.stderr and "params.minTimeLimitS: " in done.stderr
    assert not (tmp_path / "results.json").exists()


def test_cli_execute_runs_mbpp_challenge_tests_when_asked(tmp_path: Path) -> None:
    """mbpp/11's challenge asserts remove_Occ("", "l") == "": a sample wrong only there passes
    test_list and fails with --challenge-tests."""
    tasks = tmp_path / "tasks.jsonl"
    mbpp11 = task("mbpp-slice", "mbpp/11")
    tasks.write_text(json.dumps(mbpp11) + "\n")
    wrong_on_empty = (
        "def remove_Occ(s, ch):\n    if not s:\n        return None\n"
        "    first = s.find(ch)\n    if first < 0:\n        return s\n"
        "    s = s[:first] + s[first + 1:]\n    last = s.rfind(ch)\n"
        "    return s if last < 0 else s[:last] + s[last + 1:]\n"
    )
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"task_id": "mbpp/11", "solution": wrong_on_empty}) + "\n")
    for flag, status in (([], "passed"), (["--challenge-tests"], "failed")):
        out = tmp_path / ("with" if flag else "without")
        done = execute_cli(tasks, samples, out, flag)
        assert done.returncode == 0, done.stderr
        results = read_json(out / "results.json")
        assert results["challengeTests"] is bool(flag)
        assert results["eval"]["mbpp/11"][0]["status"] == status
