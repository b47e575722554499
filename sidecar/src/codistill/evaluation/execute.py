"""eval/execute: run samples.jsonl in the sandbox and write `<outDir>/results.json`.

results.json is EvalPlus's format plus what Codistill's panels need: per task, one entry per
sample in sample order with `status`, EvalPlus's `base_status` / `plus_status`, the failing
test and the sandbox's message; a summary with status counts and pass@k (unbiased estimator);
the generation.json found next to the samples and the time limits the samples ran under, so
results say how they were produced and judged.

Expected outputs that come from running a task's reference solution (EvalPlus's extra inputs)
are kept in `cacheDir` when one is given, so a later request on the same tasks skips those runs
(80-90 s for MBPP+): the cache is keyed by content (reference, inputs), and holds the
reference's time per input rather than time limits, so it serves any limits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..execution import (
    ExecutionCancelled,
    Limits,
    SampleResult,
    SandboxOptions,
    build_program,
    load_samples,
    open_executor,
    summarize,
)
from ..execution.executor import SandboxTooWeak
from ..tasks import TaskFileError, load_tasks
from .common import (
    EvalCancelled,
    EvalInputError,
    Progress,
    no_progress,
    prepare_folder,
    prepare_out_dir,
    require_file,
    utc_now,
    write_json,
)
from .generate import GENERATION_FILE, RESULTS_FILE

log = logging.getLogger("codistill.eval")

DEFAULT_KS = (1, 10, 100)
PASS = "pass"
FAIL = "fail"


@dataclass(frozen=True)
class ExecuteRequest(SandboxOptions):
    """eval/execute's params: how the samples run (SandboxOptions), and what to run, where to
    write the results and which pass@k to report."""

    tasks_path: str
    samples_path: str
    out_dir: str
    ks: tuple[int, ...] = DEFAULT_KS

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ExecuteRequest:
        return cls(
            tasks_path=params["tasksPath"],
            samples_path=params["samplesPath"],
            out_dir=params["outDir"],
            workers=params.get("workers", cls.workers),
            timeout_s=float(params.get("timeoutS", cls.timeout_s)),
            ks=tuple(params.get("ks", DEFAULT_KS)),
            cache_dir=params.get("cacheDir"),
            time_limit_factor=float(params.get("timeLimitFactor", cls.time_limit_factor)),
            min_time_limit_s=float(params.get("minTimeLimitS", cls.min_time_limit_s)),
            challenge_tests=bool(params.get("challengeTests", cls.challenge_tests)),
            min_isolation=params.get("minIsolation", cls.min_isolation),
        )


def limits_record(limits: Limits) -> dict[str, float]:
    """results.json's `limits`: the time limits the samples were judged under."""
    return {
        "timeoutS": limits.test_timeout_s,
        "timeLimitFactor": limits.time_limit_factor,
        "minTimeLimitS": limits.min_time_limit,
    }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_inputs(request: ExecuteRequest) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    tasks_path = require_file("tasksPath", request.tasks_path)
    samples_path = require_file("samplesPath", request.samples_path)
    try:
        tasks = {task["id"]: task for task in load_tasks(tasks_path)}
    except TaskFileError as exc:
        raise EvalInputError("tasksPath", str(exc)) from None
    try:
        samples = load_samples(samples_path)
    except ValueError as exc:
        raise EvalInputError("samplesPath", str(exc)) from None
    for number, sample in enumerate(samples, 1):
        if sample["task_id"] not in tasks:
            raise EvalInputError(
                "samplesPath",
                f"{samples_path}: sample {number}: task_id {sample['task_id']!r} is not in "
                f"{tasks_path}",
            )
    return tasks, samples


def read_generation(samples_path: Path) -> dict[str, Any] | None:
    """generation.json next to the samples, or None (samples made elsewhere have none)."""
    path = samples_path.parent / GENERATION_FILE
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("%s: unreadable (%s); results.json records no generation", path, exc)
        return None
    return value if isinstance(value, dict) else None


def base_plus_status(task: dict[str, Any], result: SampleResult) -> tuple[str, str | None]:
    """EvalPlus's two verdicts. Its tests are the base inputs then the plus inputs, and a run
    stops at the first failure: a failure among the base inputs fails base (and plus, whose
    inputs never ran: "Base + Extra" needs both), one past them passes base and fails plus, and
    a failure with no test index (crash, syntax error, timeout of the whole program) fails both.
    Tasks without EvalPlus inputs have no plus verdict."""
    base_inputs = task["meta"].get("baseInputs")
    if result.status == "passed":
        return PASS, (PASS if base_inputs is not None else None)
    if base_inputs is None:
        return FAIL, None
    failed_at = result.failed_test
    if failed_at is not None and failed_at >= base_inputs:
        return PASS, FAIL
    return FAIL, FAIL


def result_entry(
    task: dict[str, Any], sample: dict[str, Any], result: SampleResult
) -> dict[str, Any]:
    base_status, plus_status = base_plus_status(task, result)
    return {
        "task_id": result.task_id,
        "solution": build_program(task, sample),
        "status": result.status,
        "base_status": base_status,
        "plus_status": plus_status,
        "failed_test": result.failed_test,
        "message": result.message,
        "duration_s": result.duration_s,
    }


def summarize_results(
    entries: dict[str, list[dict[str, Any]]], ks: tuple[int, ...], wall_s: float, isolation: str
) -> dict[str, Any]:
    statuses: dict[str, int] = {}
    for task_entries in entries.values():
        for entry in task_entries:
            statuses[entry["status"]] = statuses.get(entry["status"], 0) + 1
    by_task = {
        task_id: [e["status"] for e in task_entries] for task_id, task_entries in entries.items()
    }
    return {
        "samples": sum(statuses.values()),
        "tasks": len(entries),
        "statuses": dict(sorted(statuses.items())),
        "passAtK": summarize(by_task, ks)["overall"],
        "wallS": round(wall_s, 3),
        # What kept the samples in (execution/isolation.py), e.g. landlock-v7+userns+netns+pidns.
        "isolation": isolation,
    }


def run_samples(
    request: ExecuteRequest,
    tasks: dict[str, dict[str, Any]],
    samples: list[dict[str, Any]],
    progress: Progress,
    cancel: threading.Event | None,
) -> tuple[list[SampleResult], str]:
    """The results, and the isolation they ran under."""

    def on_result(result: SampleResult, done: int, total: int) -> None:
        progress(done, total, f"{done}/{total} samples ({result.task_id}: {result.status})")

    try:
        executor = open_executor(request)
    except SandboxTooWeak as exc:
        raise EvalInputError("minIsolation", str(exc)) from None
    with executor:
        try:
            return executor.run(
                tasks, samples, on_result=on_result, cancel=cancel
            ), executor.isolation
        except ExecutionCancelled as exc:
            raise EvalCancelled(len(exc.results), exc.total) from None


def run_execution(
    request: ExecuteRequest,
    progress: Progress = no_progress,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """Run every sample; returns eval/execute's result after writing results.json. Raises
    EvalInputError for unusable inputs and EvalCancelled when `cancel` is set (nothing is
    written then: a results.json always covers every sample)."""
    started = time.monotonic()
    tasks, samples = load_inputs(request)
    out_dir = prepare_out_dir(request.out_dir)
    if request.cache_dir is not None:
        # Made before any sample runs, so that an unusable folder is reported as the cacheDir
        # param (the executor, which resolves the same path, would fail on it mid-run).
        cache_dir = prepare_folder("cacheDir", request.cache_dir)
        log.info("expected outputs of reference runs are cached in %s", cache_dir)
    progress(0, len(samples), f"running {len(samples)} samples in {request.workers} sandboxes")
    results, isolation = run_samples(request, tasks, samples, progress, cancel)
    entries: dict[str, list[dict[str, Any]]] = {}
    for sample, result in zip(samples, results, strict=True):
        task = tasks[result.task_id]
        entries.setdefault(result.task_id, []).append(result_entry(task, sample, result))
    summary = summarize_results(entries, request.ks, time.monotonic() - started, isolation)
    samples_path = Path(request.samples_path)
    results_path = out_dir / RESULTS_FILE
    write_json(
        results_path,
        {
            "date": utc_now(),
            "hash": file_sha256(Path(request.tasks_path)),
            "tasksPath": request.tasks_path,
            "samplesPath": request.samples_path,
            "generation": read_generation(samples_path),
            "limits": limits_record(request.limits()),
            "challengeTests": request.challenge_tests,
            "summary": summary,
            "eval": entries,
        },
    )
    log.info(
        "%d samples of %d tasks: %s, %s -> %s",
        summary["samples"],
        summary["tasks"],
        summary["statuses"],
        summary["passAtK"],
        results_path,
    )
    return {"resultsPath": str(results_path), "summary": summary}
