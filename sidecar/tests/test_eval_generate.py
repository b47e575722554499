"""Generation end to end on tiny random-weight models made by scripts/make-tiny-model.py: real
transformers generation, LoRA adapters, chat templates and the files eval/generate writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eval_support import (
    SAMPLE_KEYS,
    WITHOUT_VLLM,
    TinyModels,
    golden,
    make_tiny_models,
    read_json,
    read_samples,
    run_eval_cli,
    task_ids,
)

from codistill.evaluation import backends
from codistill.evaluation.common import EvalCancelled, EvalInputError
from codistill.evaluation.extract import truncate_at_stop
from codistill.evaluation.generate import GenerateRequest, plan_batches, run_generation
from codistill.evaluation.prompts import CHAT, COMPLETION, HUMANEVAL_STOPS, build_prompt
from codistill.tasks import load_tasks

from conftest import sidecar_env

MAX_NEW_TOKENS = 24


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    return make_tiny_models(tmp_path_factory.getbasetemp())


def generate(model: Path, out: Path, **options: Any) -> dict[str, Any]:
    params = {
        "model": str(model),
        "tasksPath": str(golden(options.pop("tasks", "humaneval-slice"))),
        "outDir": str(out),
        "n": 1,
        "temperature": 0,
        "maxNewTokens": MAX_NEW_TOKENS,
        "limit": 3,
        **options,
    }
    return run_generation(GenerateRequest.from_params(params))


def test_greedy_writes_one_evalplus_sample_per_task(models: TinyModels, tmp_path: Path) -> None:
    result = generate(models.base, tmp_path)
    assert result == {
        "samplesPath": str(tmp_path / "samples.jsonl"),
        "samples": 3,
        "tasks": 3,
        "backend": "transformers",
        "wallS": result["wallS"],
    }
    samples = read_samples(tmp_path / "samples.jsonl")
    tasks = {task["id"]: task for task in load_tasks(golden("humaneval-slice"))}
    assert [s["task_id"] for s in samples] == task_ids("humaneval-slice", 3)
    for sample in samples:
        assert set(sample) == SAMPLE_KEYS
        assert sample["raw"], "the model generated nothing"
        # Completion mode: the cut completion follows the prompt, and no stop survives in it.
        assert sample["completion"] == truncate_at_stop(sample["raw"], HUMANEVAL_STOPS)
        assert sample["solution"] == tasks[sample["task_id"]]["prompt"] + sample["completion"]
        assert not any(stop in sample["completion"] for stop in HUMANEVAL_STOPS)


def test_generation_json_records_how_samples_were_made(models: TinyModels, tmp_path: Path) -> None:
    generate(models.base, tmp_path, seed=7, topP=0.9)
    info = read_json(tmp_path / "generation.json")
    assert info["model"] == str(models.base) and info["adapter"] is None
    assert (info["n"], info["temperature"], info["topP"], info["maxNewTokens"]) == (
        1,
        0.0,
        0.9,
        MAX_NEW_TOKENS,
    )
    assert (info["seed"], info["limit"], info["backend"], info["device"]) == (
        7,
        3,
        "transformers",
        "cpu",
    )
    assert (info["promptFormat"], info["chatTemplate"]) == (COMPLETION, False)
    assert info["stopSequences"] == sorted(HUMANEVAL_STOPS)
    assert (info["tasks"], info["samples"], info["complete"]) == (3, 3, True)
    assert info["packages"]["torch"] and info["packages"]["transformers"]
    assert info["date"].endswith("Z")


def test_new_samples_remove_the_results_of_old_ones(models: TinyModels, tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text('{"summary": "of samples about to be replaced"}')
    generate(models.base, tmp_path, limit=1)
    assert not (tmp_path / "results.json").exists()
    assert len(read_samples(tmp_path / "samples.jsonl")) == 1


def test_greedy_is_deterministic(models: TinyModels, tmp_path: Path) -> None:
    generate(models.base, tmp_path / "a")
    generate(models.base, tmp_path / "b", batchSize=1)
    first = read_samples(tmp_path / "a" / "samples.jsonl")
    assert first == read_samples(tmp_path / "b" / "samples.jsonl")


def test_sampling_gives_n_samples_per_task_in_task_order(
    models: TinyModels, tmp_path: Path
) -> None:
    # batchSize 2 < n: each task's samples are spread over two generate calls.
    result = generate(models.base, tmp_path, n=3, temperature=0.9, batchSize=2, seed=1)
    assert (result["samples"], result["tasks"]) == (9, 3)
    samples = read_samples(tmp_path / "samples.jsonl")
    assert [s["task_id"] for s in samples] == [
        t for t in task_ids("humaneval-slice", 3) for _ in range(3)
    ]
    for start in range(0, 9, 3):
        raws = {s["raw"] for s in samples[start : start + 3]}
        assert len(raws) == 3, "three samples of one task came out identical"
    again = tmp_path / "again"
    generate(models.base, again, n=3, temperature=0.9, batchSize=2, seed=1)
    assert read_samples(again / "samples.jsonl") == samples


def test_adapter_changes_what_the_model_writes(models: TinyModels, tmp_path: Path) -> None:
    generate(models.base, tmp_path / "base")
    generate(models.base, tmp_path / "lora", adapter=str(models.adapter))
    base = [s["raw"] for s in read_samples(tmp_path / "base" / "samples.jsonl")]
    tuned = [s["raw"] for s in read_samples(tmp_path / "lora" / "samples.jsonl")]
    assert len(base) == len(tuned) == 3
    assert base != tuned
    assert read_json(tmp_path / "lora" / "generation.json")["adapter"] == str(models.adapter)


def test_chat_template_model_answers_in_chat_mode(models: TinyModels, tmp_path: Path) -> None:
    generate(models.chat, tmp_path, tasks="taco-fixture")
    info = read_json(tmp_path / "generation.json")
    assert (info["promptFormat"], info["chatTemplate"], info["stopSequences"]) == (CHAT, True, [])
    for sample in read_samples(tmp_path / "samples.jsonl"):
        # No fenced block in a random model's answer: the code is the whole answer, and a
        # stdio task's program is that code alone.
        assert sample["completion"] == sample["raw"] == sample["solution"]


def test_mbpp_plus_and_taco_completions_follow_their_prompts(
    models: TinyModels, tmp_path: Path
) -> None:
    generate(models.base, tmp_path / "mbpp", tasks="mbppplus-slice")
    generate(models.base, tmp_path / "taco", tasks="taco-fixture")
    plus = {t["id"]: t for t in load_tasks(golden("mbppplus-slice"))}
    for sample in read_samples(tmp_path / "mbpp" / "samples.jsonl"):
        assert sample["solution"] == plus[sample["task_id"]]["prompt"] + sample["completion"]
    for sample in read_samples(tmp_path / "taco" / "samples.jsonl"):
        assert sample["solution"] == sample["completion"]


def test_greedy_with_several_samples_is_refused(models: TinyModels, tmp_path: Path) -> None:
    with pytest.raises(EvalInputError) as caught:
        generate(models.base, tmp_path, n=2, temperature=0)
    assert caught.value.field == "n"
    assert "greedy" in str(caught.value)
    assert not (tmp_path / "samples.jsonl").exists()


def test_missing_model_and_adapter_are_named(models: TinyModels, tmp_path: Path) -> None:
    with pytest.raises(EvalInputError, match=r"^model: .*no config\.json"):
        generate(tmp_path / "nowhere", tmp_path)
    with pytest.raises(EvalInputError, match=r"^adapter: .*no adapter_config\.json"):
        generate(models.base, tmp_path, adapter=str(models.base))
    with pytest.raises(EvalInputError, match=r"^tasksPath: .*no such file"):
        generate(models.base, tmp_path, tasks="no-such-slice")


def test_bad_task_line_is_reported_with_file_and_line(models: TinyModels, tmp_path: Path) -> None:
    lines = golden("humaneval-slice").read_text().splitlines()
    broken = tmp_path / "broken.tasks.jsonl"
    broken.write_text("\n".join([lines[0], '{"id": "x"}', *lines[1:]]) + "\n")
    params = {
        "model": str(models.base),
        "tasksPath": str(broken),
        "outDir": str(tmp_path / "o"),
        "n": 1,
        "temperature": 0,
    }
    with pytest.raises(EvalInputError, match=rf"^tasksPath: {broken}:2: source"):
        run_generation(GenerateRequest.from_params(params))


def test_cancel_keeps_the_batches_already_written(models: TinyModels, tmp_path: Path) -> None:
    seen: list[int] = []

    def progress(done: int, total: int, message: str) -> None:
        seen.append(done)

    params = {
        "model": str(models.base),
        "tasksPath": str(golden("humaneval-slice")),
        "outDir": str(tmp_path),
        "n": 1,
        "temperature": 0,
        "batchSize": 1,
        "maxNewTokens": 8,
    }
    with pytest.raises(EvalCancelled) as caught:
        # Cancelled as soon as the second batch has been written.
        run_generation(GenerateRequest.from_params(params), progress, lambda: 2 in seen)
    assert (caught.value.done, caught.value.total) == (2, 5)
    assert [s["task_id"] for s in read_samples(tmp_path / "samples.jsonl")] == task_ids(
        "humaneval-slice", 2
    )
    info = read_json(tmp_path / "generation.json")
    assert (info["samples"], info["complete"]) == (2, False)


def test_batches_follow_batch_size(models: TinyModels) -> None:
    prompts = [build_prompt(task) for task in load_tasks(golden("humaneval-slice"))]
    shape = lambda batches: [(len(b.prompts), b.per_prompt) for b in batches]  # noqa: E731
    assert shape(plan_batches(prompts, 1, 2, backends.TRANSFORMERS)) == [(2, 1), (2, 1), (1, 1)]
    assert shape(plan_batches(prompts, 2, 4, backends.TRANSFORMERS)) == [(2, 2), (2, 2), (1, 2)]
    assert (
        shape(plan_batches(prompts[:2], 5, 2, backends.TRANSFORMERS))
        == [(1, 2), (1, 2), (1, 1)] * 2
    )
    assert shape(plan_batches(prompts, 5, 2, backends.VLLM)) == [(2, 5), (2, 5), (1, 5)]


# ---- backend choice ------------------------------------------------------------------------


def generate_args(model: Path, out_dir: Path, *options: str) -> list[str]:
    """``eval generate`` of MODEL on the HumanEval slice into OUT_DIR, for the CLI."""
    inputs = ["--model", str(model), "--tasks", str(golden("humaneval-slice"))]
    return ["generate", *inputs, "--out-dir", str(out_dir), *options]


def run_without_vllm(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_VLLM + code],
        capture_output=True,
        text=True,
        env=sidecar_env(),
        timeout=60,
    )


def test_auto_backend_falls_back_to_transformers_without_vllm() -> None:
    done = run_without_vllm(
        "from codistill.evaluation.backends import choose_backend\nprint(choose_backend('auto'))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "transformers"


def test_forced_vllm_without_vllm_names_the_reason(models: TinyModels, tmp_path: Path) -> None:
    args = ["eval", *generate_args(models.base, tmp_path, "--backend", "vllm")]
    done = run_without_vllm(f"from codistill.cli import main\nsys.exit(main({args!r}))")
    assert done.returncode == 2
    assert "backend vllm: the vllm package is not installed" in done.stderr
    assert not (tmp_path / "samples.jsonl").exists()


def test_backend_choice_on_this_machine() -> None:
    # Without vLLM or without CUDA, auto can only be transformers; a named transformers always is.
    if not (backends.is_installed("vllm") and backends.cuda_available()):
        assert backends.choose_backend("auto") == "transformers"
    assert backends.choose_backend("transformers") == "transformers"
    with pytest.raises(ValueError, match="backend: expected auto, transformers or vllm"):
        backends.choose_backend("onnx")


# ---- the CLI -------------------------------------------------------------------------------


def test_cli_generate_writes_the_same_samples(models: TinyModels, tmp_path: Path) -> None:
    generate(models.base, tmp_path / "rpc", adapter=str(models.adapter))
    options = ["--adapter", str(models.adapter), "--max-new-tokens", str(MAX_NEW_TOKENS)]
    done = run_eval_cli(*generate_args(models.base, tmp_path / "cli", *options, "--limit", "3"))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["samples"] == 3 and result["samplesPath"] == str(
        tmp_path / "cli" / "samples.jsonl"
    )
    assert read_samples(tmp_path / "cli" / "samples.jsonl") == read_samples(
        tmp_path / "rpc" / "samples.jsonl"
    )


def test_cli_generate_rejects_bad_params_like_the_protocol(tmp_path: Path) -> None:
    done = run_eval_cli(*generate_args(tmp_path, tmp_path, "--n", "0", "--top-p", "1.5"))
    assert done.returncode == 2
    assert "params.n: expected a positive integer, got 0" in done.stderr
    assert "params.topP: expected a number in (0, 1], got 1.5" in done.stderr
