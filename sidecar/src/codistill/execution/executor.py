"""Runs samples against Task tests on a pool of pre-started workers (see worker.py)."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..tasks import prompt_is_code
from .compare import from_json
from .evalplus import plan_for
from .isolation import LEVELS, level_of, meets

STATUSES = ("passed", "failed", "timeout", "error", "oom", "needs_judge")
# Version of the reference-run cache (outputs, one canon JSON text a line, and times per input).
CACHE_VERSION = 2
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass
class Limits:
    """Sandbox limits. Call tests whose expected outputs come from running the reference get
    EvalPlus's per-input time limits: max(min_time_limit, time_limit_factor x the reference's
    time on that input); every other test, and loading the sample, gets test_timeout_s."""

    test_timeout_s: float = 5.0
    time_limit_factor: float = 4.0  # EvalPlus's DEFAULT_GT_TIME_LIMIT_FACTOR
    min_time_limit: float = 1.0  # EvalPlus's DEFAULT_MIN_TIME_LIMIT
    # Per input of a reference run; the longest one, MBPP+/255's 1.6 million tuples, takes 14 s.
    reference_timeout_s: float = 120.0
    address_space: int = 4 << 30
    file_size: int = 32 << 20
    nproc: int = 64
    cpu_s: int | None = None  # default: the wall-clock budget of all tests, plus slack

    def per_input(self, reference_times: list[float]) -> list[float]:
        return [max(self.min_time_limit, self.time_limit_factor * t) for t in reference_times]

    def for_job(self, wall_s: float) -> dict[str, Any]:
        """The limits a job carries; `wall_s` is what its tests may take in all."""
        values = asdict(self)
        if self.cpu_s is None:
            values["cpu_s"] = int(wall_s + self.test_timeout_s) + 1
        return values


class SandboxTooWeak(Exception):
    """The kernel allows less isolation than the caller asked for: nothing was run."""

    def __init__(self, isolation: str, minimum: str, problems: list[str]) -> None:
        why = f" ({'; '.join(problems)})" if problems else ""
        super().__init__(
            f"the sandbox's isolation here is {isolation} ({level_of(isolation)}), below the "
            f"minimum asked for, {minimum}{why}"
        )
        self.isolation = isolation
        self.minimum = minimum


@dataclass
class _Reference:
    """Expected call outputs: a file of one canon JSON text a line, and the reference's time
    per input (None for outputs stored in the task)."""

    path: Path
    times: list[float] | None


OnResult = Callable[["SampleResult", int, int], None]


class ExecutionCancelled(Exception):
    """`Executor.run` was cancelled; `results` holds the samples that finished, in order."""

    def __init__(self, results: list[SampleResult], total: int) -> None:
        super().__init__(f"execution cancelled after {len(results)} of {total} samples")
        self.results = results
        self.total = total


@dataclass
class SampleResult:
    task_id: str
    sample_index: int
    status: str
    failed_test: int | None = None
    message: str | None = None
    duration_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        data.update(self.extra)
        return data


def build_program(task: dict[str, Any], sample: dict[str, Any]) -> str:
    """EvalPlus-style: `solution` is a whole program; `completion` follows the prompt when the
    prompt is code (HumanEval, MBPP+), and stands alone when it is prose (MBPP, TACO)."""
    if isinstance(sample.get("solution"), str):
        return sample["solution"]
    completion = sample.get("completion")
    if not isinstance(completion, str):
        raise ValueError("a sample needs a string `solution` or `completion`")
    prompt = task.get("prompt", "")
    return prompt + completion if prompt_is_code(prompt) else completion


# What of the sidecar's environment a sample sees. Nothing else: the environment may hold API
# keys (the teacher's), and a sample can read its process's initial environment from /proc.
PASSED_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")


def worker_environment() -> dict[str, str]:
    env = {name: os.environ[name] for name in PASSED_ENVIRONMENT if name in os.environ}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))
    # One string hash seed for every run: answers built from set iteration order (MBPP+/2)
    # then come out the same in the reference run and in every check, run after run.
    env["PYTHONHASHSEED"] = "0"
    return env


class _Worker:
    def __init__(self) -> None:
        env = worker_environment()
        # A uid of its own (used when the worker runs as root): see worker.py.
        self.uid = 1_000_000 + secrets.randbelow(1_000_000_000)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "codistill.execution.worker", str(self.uid)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd="/",
        )

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps(job) + "\n").encode("utf-8"))
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"execution worker exited with code {self.proc.wait()}")
        return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()  # type: ignore[union-attr]
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()  # type: ignore[union-attr]


class Executor:
    """``with Executor(workers=2) as ex: ex.run(tasks_by_id, samples)``. Commands and methods
    open theirs with `sandbox.open_executor`, from the options they were given."""

    def __init__(
        self,
        workers: int = 2,
        limits: Limits | None = None,
        cache_dir: str | Path | None = None,
        challenge_tests: bool = False,
        min_isolation: str = "none",
    ) -> None:
        if min_isolation not in LEVELS:
            raise ValueError(f"min_isolation: expected one of {', '.join(LEVELS)}")
        self.limits = limits or Limits()
        # MBPP's challenge_test_list: harder asserts, run after the usual ones only when asked.
        self.challenge_tests = challenge_tests
        # Absolute: the workers, which write the reference runs' files there, work in /.
        self.cache_dir = Path(cache_dir).resolve() if cache_dir else None
        # Expected outputs live in files the workers read; without a cache_dir, in a private
        # folder that goes with the executor.
        self._scratch = Path(tempfile.mkdtemp(prefix="codistill-expected-"))
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._references: dict[str, _Reference | str] = {}  # or why the reference failed
        self._reference_locks: dict[str, threading.Lock] = {}
        for _ in range(max(1, workers)):
            worker = _Worker()
            self._all.append(worker)
            self._idle.put(worker)
        self.workers = len(self._all)
        self.isolation, self.isolation_problems = self._probe_isolation()
        if not meets(self.isolation, min_isolation):
            self.close()
            raise SandboxTooWeak(self.isolation, min_isolation, self.isolation_problems)

    def _probe_isolation(self) -> tuple[str, list[str]]:
        """What keeps a sample in here, and why not more: asked of the sandbox itself, by an
        empty sample run the way every sample runs."""
        job = {
            "mode": "probe",
            "program": "",
            "tests": {"kind": "assert", "code": ""},
            "evalplus": None,
            "limits": self.limits.for_job(self.limits.test_timeout_s),
        }
        result = self._run_job(job)
        if result.get("isolation") is None:
            raise RuntimeError(f"the sandbox did not start: {result.get('message')}")
        return result["isolation"], list(result.get("isolation_problems") or [])

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        for worker in self._all:
            worker.close()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def _run_job(self, job: dict[str, Any]) -> dict[str, Any]:
        worker = self._idle.get()
        try:
            return worker.run(job)
        except (RuntimeError, OSError, ValueError) as exc:
            # The worker itself died (it never runs samples, so this is a harness bug): replace it.
            worker.close()
            with self._lock:
                self._all.remove(worker)
                worker = _Worker()
                self._all.append(worker)
            return {"status": "error", "failed_test": None, "message": str(exc), "duration_s": 0.0}
        finally:
            self._idle.put(worker)

    def _job(self, task: dict[str, Any], program: str, mode: str = "check") -> dict[str, Any]:
        tests = task["tests"]
        if self.challenge_tests and tests["kind"] == "assert" and tests.get("challenge"):
            tests = {**tests, "code": f"{tests['code']}\n{tests['challenge']}"}
        units = len(tests["inputs"]) if tests["kind"] in ("call", "stdio") else 1
        per_test = (
            self.limits.reference_timeout_s if mode == "record" else self.limits.test_timeout_s
        )
        return {
            "mode": mode,
            "program": program,
            "tests": tests,
            "evalplus": plan_for(task),
            "limits": self.limits.for_job(per_test * units),
        }

    def reference(self, task: dict[str, Any]) -> _Reference:
        """Expected outputs of a call task: stored ones, or those of solutions[0] (run once per
        input, kept by content hash for the executor's life and in `cache_dir`)."""
        tests = task["tests"]
        stored = tests["outputs"] is not None
        if not stored and not task.get("solutions"):
            raise ValueError(f"{task['id']}: outputs are null and there is no reference solution")
        key = _reference_key(task)
        with self._lock:
            key_lock = self._reference_locks.setdefault(key, threading.Lock())
        # One run per reference, even when several samples of the task start at once; a
        # reference that failed is not run again for the task's other samples.
        with key_lock:
            known = self._references.get(key)
            if isinstance(known, str):
                raise ValueError(known)
            if known is None:
                try:
                    known = (
                        self._stored(key, tests["outputs"]) if stored else self._recorded(key, task)
                    )
                except ValueError as exc:
                    self._references[key] = str(exc)
                    raise
                self._references[key] = known
        return known

    def _stored(self, key: str, outputs: list[Any]) -> _Reference:
        path = self._scratch / f"{key}.outputs.jsonl"
        lines = "".join(json.dumps(from_json(value)) + "\n" for value in outputs)
        path.write_text(lines, encoding="utf-8")
        return _Reference(path, None)

    def _recorded(self, key: str, task: dict[str, Any]) -> _Reference:
        folder = self.cache_dir or self._scratch
        path = folder / f"{key}.outputs.jsonl"
        meta = folder / f"{key}.json"
        cached = _read_cached(path, meta, len(task["tests"]["inputs"]))
        if cached is not None:
            return cached
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f"{key}.{secrets.token_hex(4)}.tmp"
        job = self._job(task, task["solutions"][0], mode="record")
        job["record_path"] = str(partial)
        try:
            result = self._run_job(job)
            if result["status"] != "passed":
                raise ValueError(
                    f"{task['id']}: the reference solution failed on input "
                    f"{result['failed_test']}: {result['status']}: {result['message']}"
                )
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        _write_atomically(meta, json.dumps({"version": CACHE_VERSION, "times": result["times"]}))
        return _Reference(path, result["times"])

    def run_one(self, task: dict[str, Any], sample: dict[str, Any], index: int = 0) -> SampleResult:
        try:
            job = self._job(task, build_program(task, sample))
            if task["tests"]["kind"] == "call":
                self._add_expected(job, task)
        except ValueError as exc:
            return SampleResult(task["id"], index, "error", message=str(exc))
        result = self._run_job(job)
        return SampleResult(
            task["id"],
            index,
            result["status"],
            result.get("failed_test"),
            result.get("message"),
            result.get("duration_s", 0.0),
        )

    def _add_expected(self, job: dict[str, Any], task: dict[str, Any]) -> None:
        reference = self.reference(task)
        job["expected_path"] = str(reference.path)
        job["stored"] = task["tests"]["outputs"] is not None
        job["wrapped"] = job["stored"] and task["source"] == "taco"
        if reference.times is not None:
            job["time_limits"] = self.limits.per_input(reference.times)
            job["limits"] = self.limits.for_job(sum(job["time_limits"]))

    def run(
        self,
        tasks: dict[str, dict[str, Any]],
        samples: list[dict[str, Any]],
        on_result: OnResult | None = None,
        cancel: threading.Event | None = None,
    ) -> list[SampleResult]:
        """Results in the order of `samples`; `sample_index` counts samples per task.

        `on_result(result, done, total)` is called as each sample finishes, one call at a time.
        Once `cancel` is set, samples not yet started are skipped, and after the ones in flight
        finish, `ExecutionCancelled` is raised carrying the results that were completed."""
        work = _numbered(samples)
        total = len(work)
        results: list[SampleResult | None] = [None] * total
        report_lock = threading.Lock()
        done = 0

        def one(position: int) -> None:
            nonlocal done
            if cancel is not None and cancel.is_set():
                return
            task_id, sample, index = work[position]
            task = tasks.get(task_id)
            if task is None:
                result = SampleResult(str(task_id), index, "error", message="unknown task_id")
            else:
                result = self.run_one(task, sample, index)
            # One lock for the slot, the count and the callback, so callers see `done` rise by
            # one per call and never run their callback twice at once.
            with report_lock:
                results[position] = result
                done += 1
                if on_result is not None:
                    on_result(result, done, total)

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for future in [pool.submit(one, position) for position in range(total)]:
                future.result()
        if cancel is not None and cancel.is_set():
            raise ExecutionCancelled([r for r in results if r is not None], total)
        return [r for r in results if r is not None]


def _numbered(samples: list[dict[str, Any]]) -> list[tuple[Any, dict[str, Any], int]]:
    """(task_id, sample, index of the sample among those of its task) for each sample."""
    counters: dict[Any, int] = {}
    work = []
    for sample in samples:
        task_id = sample.get("task_id")
        index = counters.get(task_id, 0)
        counters[task_id] = index + 1
        work.append((task_id, sample, index))
    return work


def _reference_key(task: dict[str, Any]) -> str:
    """Content hash of what decides a task's expected outputs (the cache file name)."""
    tests = task["tests"]
    if tests["outputs"] is not None:
        basis: list[Any] = ["stored", tests["outputs"]]
    else:
        basis = [CACHE_VERSION, task["solutions"][0], tests["fnName"], tests["inputs"]]
        basis.append(plan_for(task))
    return hashlib.sha256(json.dumps(basis).encode("utf-8")).hexdigest()


def _read_cached(path: Path, meta: Path, count: int) -> _Reference | None:
    """A cached reference run, when both its files are there and agree with the task."""
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
        if not path.exists():
            return None
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("version") != CACHE_VERSION:
        return None
    times = info.get("times")
    if not isinstance(times, list) or len(times) != count:
        return None
    return _Reference(path, [float(t) for t in times])


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
