"""The golden normalized Task files (test/fixtures/datasets/golden), written by
`codistill dataset export`, read by the sidecar's torch-free reader, and its errors on bad lines."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from codistill.tasks import TaskFileError, load_tasks

GOLDEN = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "datasets" / "golden"

# Rows of each golden file: the fixture slices and the TACO fixture (one row dropped by the
# Python-only filter in the python-spj export).
COUNTS = {
    "humaneval-slice.tasks.jsonl": 5,
    "humanevalplus-slice.tasks.jsonl": 2,
    "mbpp-slice.tasks.jsonl": 5,
    "mbppplus-slice.tasks.jsonl": 3,
    "sanitized-mbpp-slice.tasks.jsonl": 5,
    "taco-fixture.python-spj.tasks.jsonl": 11,
    "taco-fixture.tasks.jsonl": 12,
}


def test_every_golden_file_is_known() -> None:
    assert sorted(p.name for p in GOLDEN.glob("*.tasks.jsonl")) == sorted(COUNTS)


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_golden_file_loads_with_its_schema(name: str) -> None:
    tasks = load_tasks(GOLDEN / name)
    assert len(tasks) == COUNTS[name]
    for task in tasks:
        assert list(task)[:3] == ["id", "source", "prompt"], "schema key order"
        assert task["solutions"], task["id"]
        tests = task["tests"]
        if tests["kind"] == "call":
            expected = len(tests["inputs"])
            assert tests["outputs"] is None or len(tests["outputs"]) == expected
        if tests["kind"] == "stdio":
            assert len(tests["inputs"]) == len(tests["outputs"]) > 0


def test_taco_goldens_carry_special_judges_and_dropped_solutions() -> None:
    tasks = {t["id"]: t for t in load_tasks(GOLDEN / "taco-fixture.python-spj.tasks.jsonl")}
    assert "taco/8" not in tasks
    assert tasks["taco/0"]["meta"]["droppedSolutions"] == 1
    judges = {
        i: t["tests"].get("specialJudge") for i, t in tasks.items() if t["tests"]["kind"] == "stdio"
    }
    assert judges["taco/3"] == "non-deterministic"
    assert judges["taco/6"] == "float-tolerance"
    assert judges["taco/7"] == "case-insensitive"
    assert judges["taco/0"] is None
    call = tasks["taco/9"]
    assert call["entryPoint"] == call["tests"]["fnName"] == "min_cost"


def test_non_finite_inputs_read_as_floats() -> None:
    tasks = {t["id"]: t for t in load_tasks(GOLDEN / "mbppplus-slice.tasks.jsonl")}
    values = [v for args in tasks["Mbpp/404"]["tests"]["inputs"] for v in args]
    assert math.inf in values and -math.inf in values
    assert tasks["Mbpp/404"]["tests"]["outputs"] is None
    assert tasks["Mbpp/793"]["meta"]["plusInputs"] == 0


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def good_line() -> str:
    return (GOLDEN / "humaneval-slice.tasks.jsonl").read_text(encoding="utf-8").splitlines()[0]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (lambda t: t.pop("prompt"), "prompt", "missing"),
        (lambda t: t.update(solutions="x"), "solutions", "expected a list of strings, got string"),
        (lambda t: t.update(source="apps"), "source", "expected one of"),
        (
            lambda t: t["tests"].update(kind="exec"),
            "tests.kind",
            'expected "assert", "call" or "stdio"',
        ),
        (lambda t: t.update(colour="red"), "colour", "unknown field"),
        (
            lambda t: t.update(tests={"kind": "stdio", "inputs": ["1\n"], "outputs": []}),
            "tests.outputs",
            "1 inputs but 0 outputs",
        ),
        (
            lambda t: t.update(
                tests={"kind": "call", "fnName": "f", "inputs": [1], "outputs": None}
            ),
            "tests.inputs[0]",
            "expected an argument list",
        ),
        (lambda t: t.update(meta=[]), "meta", "expected an object"),
    ],
)
def test_a_bad_line_names_file_line_and_field(
    tmp_path: Path, change, field: str, reason: str
) -> None:
    task = json.loads(good_line())
    change(task)
    path = write_lines(
        tmp_path / "bad.tasks.jsonl",
        [good_line().replace("HumanEval/0", "HumanEval/x"), json.dumps(task)],
    )
    with pytest.raises(TaskFileError) as caught:
        load_tasks(path)
    err = caught.value
    assert (err.path, err.line, err.field) == (path, 2, field)
    assert reason in err.reason
    assert str(err).startswith(f"{path}:2: {field}: ")


def test_malformed_json_invalid_utf8_and_duplicate_ids(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "cut.tasks.jsonl", [good_line(), good_line()[:50]])
    with pytest.raises(TaskFileError, match=r"cut\.tasks\.jsonl:2: malformed JSON"):
        load_tasks(path)
    raw = tmp_path / "bytes.tasks.jsonl"
    raw.write_bytes(good_line().encode() + b"\n\xff\xfe\n")
    with pytest.raises(TaskFileError, match=r"bytes\.tasks\.jsonl:2: invalid UTF-8 at byte 1"):
        load_tasks(raw)
    twice = write_lines(tmp_path / "twice.tasks.jsonl", [good_line(), "", good_line()])
    with pytest.raises(
        TaskFileError,
        match=r"twice\.tasks\.jsonl:3: id: duplicate id 'HumanEval/0' \(first on line 1\)",
    ):
        load_tasks(twice)
