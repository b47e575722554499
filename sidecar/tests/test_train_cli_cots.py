"""A CoT set written by `codistill cots generate` (the bundled CLI, dist/cli.js, with its offline
rationalizer) is read by training as it is: every task gets its reasoning section, none is left
out for its CoT, and a tiny run trains on it. Then a reviewer's rejection, appended by the same
store, takes that task out of the next run."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from eval_support import REPO, golden
from train_support import TINY_RUN, shared_models_fixture  # noqa: F401  (the models fixture)

from codistill.tasks import load_tasks
from codistill.training.config import load_config
from codistill.training.cot import load_cots
from codistill.training.data import render_training_text
from codistill.training.trainer import train

CLI = REPO / "dist" / "cli.js"


def generate(tasks: Path, out: Path) -> dict[str, int]:
    node = shutil.which("node")
    if node is None or not CLI.is_file():
        pytest.fail(f"needs node and {CLI} (`npm run build`; `npm test` builds it)")
    done = subprocess.run(
        [node, str(CLI), "cots", "generate", "--tasks", str(tasks), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def run(models: tuple[Path, Path], out: Path, tasks: Path, cots: Path) -> dict:
    student, encoder = models
    config = load_config(
        TINY_RUN,
        [
            f"student={student}",
            f"encoder={encoder}",
            f"output_dir={out}",
            f"cache_dir={out.parent / 'cache'}",
            f"tasks={tasks}",
            f"cots={cots}",
            "max_steps=2",
            "save_every=0",
            "eval_every=0",
            "max_length=2048",
        ],
    )
    result = train(config)
    return json.loads((result.run_dir / "manifest.json").read_text())


def test_a_cot_set_the_cli_wrote_trains(models: tuple[Path, Path], tmp_path: Path) -> None:
    tasks = golden("mbpp-slice")
    cots = tmp_path / "mbpp-cots.jsonl"
    summary = generate(tasks, cots)
    ids = [task["id"] for task in load_tasks(tasks)]
    assert summary["total"] == len(ids) and summary["valid"] == len(ids)

    records = load_cots(cots)
    assert sorted(records) == sorted(ids)
    first = next(iter(load_tasks(tasks)))
    _prompt, reasoning, _solution = render_training_text(first, records[first["id"]])
    assert "Intent:" in reasoning and "Steps" in reasoning

    manifest = run(models, tmp_path / "run", tasks, cots)
    skipped = manifest["examples"]["skipped"]
    assert not [s for s in skipped if "CoT" in s["reason"]], skipped
    assert manifest["examples"]["train"] + manifest["examples"]["eval"] == len(ids) - len(skipped)
    assert manifest["inputs"]["cots"] == {str(cots): manifest["inputs"]["cots"][str(cots)]}

    # A reviewer rejects one task (the store appends the record again with the decision).
    rejected = dict(records[ids[0]], review={"decision": "rejected", "at": "2026-12-05T00:00:00Z"})
    with cots.open("a", encoding="utf-8") as file:
        file.write(json.dumps(rejected) + "\n")
    again = run(models, tmp_path / "run2", tasks, cots)
    reasons = {s["task_id"]: s["reason"] for s in again["examples"]["skipped"]}
    assert reasons[ids[0]] == "CoT rejected in review"
