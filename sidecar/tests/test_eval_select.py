"""eval generate's `select` option: "consensus" (n >= 2) is checked like the protocol's other
params and recorded in generation.json; the choice itself is `codistill eval select`'s (TS)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eval_support import TinyModels, golden, make_tiny_models, read_json, read_samples, run_eval_cli

from codistill import protocol
from codistill.evaluation.common import EvalInputError
from codistill.evaluation.generate import GenerateRequest, check_request, run_generation

BASE_PARAMS: dict[str, Any] = {
    "model": "/models/m",
    "tasksPath": "/data/tasks.jsonl",
    "outDir": "/out",
    "n": 4,
    "temperature": 0.8,
}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    return make_tiny_models(tmp_path_factory.getbasetemp())


# ---- params --------------------------------------------------------------------------------


def test_protocol_accepts_both_selections() -> None:
    for select in protocol.EVAL_SELECT_CHOICES:
        assert protocol.validate_params("eval/generate", {**BASE_PARAMS, "select": select}) == []
    assert protocol.validate_params("eval/generate", BASE_PARAMS) == []


def test_protocol_rejects_an_unknown_selection() -> None:
    problems = protocol.validate_params("eval/generate", {**BASE_PARAMS, "select": "majority"})
    assert problems == ['params.select: expected one of "none", "consensus", got string']


def test_protocol_rejects_consensus_of_one_sample() -> None:
    params = {**BASE_PARAMS, "n": 1, "temperature": 0, "select": "consensus"}
    assert protocol.validate_params("eval/generate", params) == [
        'params.select: "consensus" chooses one of several samples per task, so it needs '
        "n >= 2, got n = 1"
    ]
    # A type problem elsewhere is reported alone: n's own problem says what is wrong.
    bad_n = protocol.validate_params("eval/generate", {**params, "n": 0})
    assert bad_n == ["params.n: expected a positive integer, got 0"]


def test_request_reads_select_with_none_by_default() -> None:
    assert GenerateRequest.from_params(BASE_PARAMS).select == "none"
    chosen = GenerateRequest.from_params({**BASE_PARAMS, "select": "consensus"})
    assert chosen.select == "consensus"


def test_request_check_names_select_when_n_is_one() -> None:
    request = GenerateRequest.from_params({**BASE_PARAMS, "n": 1, "select": "consensus"})
    with pytest.raises(EvalInputError) as raised:
        check_request(request)
    assert raised.value.field == "select"
    assert "n >= 2, got n = 1" in raised.value.reason


# ---- the CLI -------------------------------------------------------------------------------


def cli_args(model: Path, out_dir: Path, *options: str) -> list[str]:
    inputs = ["--model", str(model), "--tasks", str(golden("humaneval-slice"))]
    return ["generate", *inputs, "--out-dir", str(out_dir), *options]


def test_cli_names_select_when_n_is_one(tmp_path: Path) -> None:
    done = run_eval_cli(*cli_args(tmp_path, tmp_path / "out", "--select", "consensus"))
    assert done.returncode == 2
    assert "--select consensus" in done.stderr and "--n 2 or more" in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_cli_rejects_an_unknown_selection(tmp_path: Path) -> None:
    done = run_eval_cli(*cli_args(tmp_path, tmp_path / "out", "--n", "3", "--select", "best"))
    assert done.returncode == 2
    assert "--select" in done.stderr and "invalid choice" in done.stderr, done.stderr


# ---- generation.json -------------------------------------------------------------------------


def generate(model: Path, out: Path, **options: Any) -> dict[str, Any]:
    params = {
        "model": str(model),
        "tasksPath": str(golden("humaneval-slice")),
        "outDir": str(out),
        "n": 1,
        "temperature": 0,
        "maxNewTokens": 8,
        "limit": 2,
        **options,
    }
    return run_generation(GenerateRequest.from_params(params))


def test_generation_json_records_the_selection(models: TinyModels, tmp_path: Path) -> None:
    generate(models.base, tmp_path / "greedy")
    assert read_json(tmp_path / "greedy" / "generation.json")["select"] == "none"
    generate(models.base, tmp_path / "chosen", n=2, temperature=0.9, select="consensus")
    info = read_json(tmp_path / "chosen" / "generation.json")
    assert (info["select"], info["n"], info["samples"], info["complete"]) == (
        "consensus",
        2,
        4,
        True,
    )
    # Every sample is kept: the choice is made afterwards, from samples.jsonl.
    assert len(read_samples(tmp_path / "chosen" / "samples.jsonl")) == 4


def test_cli_records_the_selection(models: TinyModels, tmp_path: Path) -> None:
    options = ["--n", "2", "--temperature", "0.9", "--max-new-tokens", "8", "--limit", "1"]
    done = run_eval_cli(*cli_args(models.base, tmp_path, *options, "--select", "consensus"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["samples"] == 2
    assert read_json(tmp_path / "generation.json")["select"] == "consensus"
