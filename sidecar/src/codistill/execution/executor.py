"""Runs samples against Task tests on a pool of pre-started workers (see worker.py)."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import secrets
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .compare import from_json

STATUSES = ("passed", "failed", "timeout", "error", "oom", "needs_judge")
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass
class Limits:
    test_timeout_s: float = 5.0
    address_space: int = 4 << 30
    file_size: int = 32 << 20
    nproc: int = 64
    cpu_s: int | None = None  # default: the wall-clock budget of all tests, plus slack

    def for_tests(self, units: int) -> dict[str, Any]:
        values = asdict(self)
        if self.cpu_s is None:
            values["cpu_s"] = int(self.test_timeout_s * (units + 1)) + 1
        return values


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


def _is_python(text: str) -> bool:
    try:
        compile(text, "<prompt>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def build_program(task: dict[str, Any], sample: dict[str, Any]) -> str:
    """EvalPlus-style: `solution` is a whole program; `completion` follows the prompt when the
    prompt is code (HumanEval, MBPP+), and stands alone when it is prose (MBPP, TACO)."""
    if isinstance(sample.get("solution"), str):
        return sample["solution"]
    completion = sample.get("completion")
    if not isinstance(completion, str):
        raise ValueError("a sample needs a string `solution` or `completion`")
    prompt = task.get("prompt", "")
    return prompt + completion if _is_python(prompt) else completion


class _Worker:
    def __init__(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, env.get("PYTHONPATH")]))
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
    """``with Executor(workers=2) as ex: ex.run(tasks_by_id, samples)``."""

    def __init__(
        self, workers: int = 2, limits: Limits | None = None, cache_dir: str | Path | None = None
    ) -> None:
        self.limits = limits or Limits()
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._expected: dict[str, Any] = {}
        for _ in range(max(1, workers)):
            worker = _Worker()
            self._all.append(worker)
            self._idle.put(worker)
        self.workers = len(self._all)

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        for worker in self._all:
            worker.close()

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
        units = len(tests["inputs"]) if tests["kind"] in ("call", "stdio") else 1
        job: dict[str, Any] = {
            "mode": mode,
            "program": program,
            "tests": tests,
            "limits": self.limits.for_tests(units + 1),
        }
        return job

    def expected_outputs(self, task: dict[str, Any]) -> list[Any]:
        """Expected call outputs in compared form: stored ones, or those of solutions[0] (run
        once per input, cached by content hash in memory and in `cache_dir`)."""
        tests = task["tests"]
        if tests["outputs"] is not None:
            return [from_json(value) for value in tests["outputs"]]
        if not task.get("solutions"):
            raise ValueError(f"{task['id']}: outputs are null and there is no reference solution")
        key = hashlib.sha256(
            json.dumps([task["solutions"][0], tests["fnName"], tests["inputs"]]).encode("utf-8")
        ).hexdigest()
        with self._lock:
            if key in self._expected:
                return self._expected[key]
        path = self.cache_dir / f"{key}.json" if self.cache_dir else None
        if path is not None and path.exists():
            outputs = json.loads(path.read_text(encoding="utf-8"))
        else:
            result = self._run_job(self._job(task, task["solutions"][0], mode="record"))
            if result["status"] != "passed":
                raise ValueError(
                    f"{task['id']}: the reference solution failed on input {result['failed_test']}: "
                    f"{result['status']}: {result['message']}"
                )
            outputs = result["outputs"]
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(outputs), encoding="utf-8")
                tmp.replace(path)
        with self._lock:
            self._expected[key] = outputs
        return outputs

    def run_one(self, task: dict[str, Any], sample: dict[str, Any], index: int = 0) -> SampleResult:
        try:
            program = build_program(task, sample)
            job = self._job(task, program)
            if task["tests"]["kind"] == "call":
                job["expected"] = self.expected_outputs(task)
                job["wrapped"] = task["tests"]["outputs"] is not None and task["source"] == "taco"
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

    def run(
        self, tasks: dict[str, dict[str, Any]], samples: list[dict[str, Any]]
    ) -> list[SampleResult]:
        """Results in the order of `samples`; `sample_index` counts samples per task."""
        counters: dict[str, int] = {}
        work = []
        for sample in samples:
            task_id = sample.get("task_id")
            index = counters.get(task_id, 0)
            counters[task_id] = index + 1
            work.append((task_id, sample, index))

        def one(item: tuple[str, dict[str, Any], int]) -> SampleResult:
            task_id, sample, index = item
            task = tasks.get(task_id)
            if task is None:
                return SampleResult(str(task_id), index, "error", message="unknown task_id")
            return self.run_one(task, sample, index)

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return list(pool.map(one, work))
