"""Shared by the test_eval_* modules: tiny models made by scripts/make-tiny-model.py, golden
task files, and reading the files an evaluation writes."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codistill.tasks import load_tasks

from conftest import sidecar_env

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "test" / "fixtures" / "datasets" / "golden"
MAKE_TINY_MODEL = REPO / "scripts" / "make-tiny-model.py"
SAMPLE_KEYS = {"task_id", "solution", "completion", "raw"}


@dataclass(frozen=True)
class TinyModels:
    base: Path
    adapter: Path
    chat: Path


_made: dict[str, TinyModels] = {}


def golden(name: str) -> Path:
    return GOLDEN / f"{name}.tasks.jsonl"


def make_tiny_models(root: Path) -> TinyModels:
    """A completion model with a LoRA adapter and a chat-template model (same weights), made
    once per test session by the real script, both runs in parallel (a few seconds)."""
    if "models" in _made:
        return _made["models"]
    models = TinyModels(root / "tiny", root / "tiny-lora", root / "tiny-chat")
    corpus = [
        arg
        for name in ("humaneval-slice", "mbpp-slice", "mbppplus-slice", "taco-fixture")
        for arg in ("--corpus", str(golden(name)))
    ]
    runs = [
        [str(models.base), "--adapter", str(models.adapter)],
        [str(models.chat), "--chat-template"],
    ]
    processes = [
        subprocess.Popen(
            [sys.executable, str(MAKE_TINY_MODEL), *args, *corpus],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for args in runs
    ]
    for process, args in zip(processes, runs, strict=True):
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"make-tiny-model.py {args} failed:\n{err.decode()}"
    _made["models"] = models
    return models


def read_samples(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def task_ids(name: str, limit: int | None = None) -> list[str]:
    ids = [json.loads(line)["id"] for line in golden(name).read_text().splitlines() if line]
    return ids if limit is None else ids[:limit]


# A meta path finder that makes `vllm` absent for this interpreter whatever is installed, so the
# fallback is tested the same way on a GPU machine that has vLLM.
WITHOUT_VLLM = """
import importlib.abc, sys
class NoVllm(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "vllm" or name.startswith("vllm."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, NoVllm())
"""


def run_eval_cli(
    command: str, *args: str | Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m codistill eval COMMAND ARGS...`` in a child process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "codistill", "eval", command, *map(str, args)],
        capture_output=True,
        text=True,
        env=sidecar_env(),
        timeout=timeout,
    )


def task(name: str, task_id: str) -> dict[str, Any]:
    return next(t for t in load_tasks(golden(name)) if t["id"] == task_id)


def overfit(task: dict[str, Any], signature: str, right: str, wrong: str) -> str:
    """Right on the task's base inputs only: what EvalPlus's extra inputs exist to catch."""
    base = [tuple(args) for args in task["tests"]["inputs"][: task["meta"]["baseInputs"]]]
    args = signature[signature.index("(") + 1 : signature.index(")")]
    return (
        f"BASE = {base!r}\n{signature}\n"
        f"    if ({args},) in BASE:\n        return {right}\n    return {wrong}\n"
    )


def evalplus_samples() -> list[dict[str, Any]]:
    """Per task: canonical, overfit to the base inputs, wrong from the first input, broken."""
    truncate = task("humanevalplus-slice", "HumanEval/2")
    minimum = task("mbppplus-slice", "Mbpp/404")
    humaneval = task("humaneval-slice", "HumanEval/0")
    return [
        {"task_id": "HumanEval/2", "solution": truncate["solutions"][0]},
        {
            "task_id": "HumanEval/2",
            "solution": overfit(
                truncate, "def truncate_number(number):", "number - int(number)", "-1.0"
            ),
        },
        {"task_id": "HumanEval/2", "completion": "    return number\n"},
        {"task_id": "HumanEval/2", "solution": "def truncate_number(number:\n"},
        {"task_id": "Mbpp/404", "solution": minimum["solutions"][0]},
        {
            "task_id": "Mbpp/404",
            "solution": overfit(minimum, "def minimum(a, b):", "min(a, b)", "max(a, b)"),
        },
        {"task_id": "Mbpp/404", "solution": "def minimum(a, b):\n    return max(a, b)\n"},
        {"task_id": "Mbpp/404", "solution": "import sys\nsys.exit(3)\n"},
        {"task_id": "HumanEval/0", "solution": humaneval["solutions"][0]},
        {"task_id": "HumanEval/0", "completion": "    return False\n"},
    ]
