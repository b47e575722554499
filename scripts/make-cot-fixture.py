#!/usr/bin/env python3
"""Writes CoT JSONL fixtures for the golden Task slices, so training can be tested before the
teacher pipeline exists (issue 5).

Every record is derived from its task's own text, reference solution and tests; none of it is
teacher output, and each says so: teacher.model is "fixture-script".

- intent: the first sentence of the problem (the entry point's docstring when the prompt is
  code, the prompt text otherwise);
- steps: one per statement of the solution's entry-point function (or of the module);
- formulas: the solution's outermost arithmetic expressions;
- edgeCases: the two smallest test cases;
- status: "valid" mostly, "verified" for every third task (its teacherCode is the reference
  solution, which passes the tests, and its verification says "passed"), and "invalid" for the
  last task of each file, so status filters have something to keep and something to drop;
- usage and attempts on every record: a quarter of the prompt's and of raw's characters as
  tokens, and one attempt;
- review: the first task (a "valid" one) is accepted and the last (the "invalid" one) rejected,
  both at createdAt, so the "accepted" filter word keeps one record per file and a rejected
  record is never kept; the default filter (verified, valid, accepted) keeps what it kept before
  reviews existed.

Deterministic: the same tasks give byte-identical files (createdAt is a fixed timestamp).

Usage: python scripts/make-cot-fixture.py [TASKS.jsonl ...] [--out DIR] [--check]
  Default tasks: the HumanEval, MBPP, MBPP+ and TACO golden slices; default out:
  test/fixtures/cots/, one <slice>.jsonl per task file. --check writes nothing and exits 1 when
  a file is missing or differs from what the script would write.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "sidecar" / "src"))

from codistill.tasks import load_tasks  # noqa: E402
from codistill.training.cot import validate_cot  # noqa: E402

GOLDEN = REPO / "test" / "fixtures" / "datasets" / "golden"
DEFAULT_TASKS = [
    GOLDEN / f"{name}.tasks.jsonl"
    for name in ("humaneval-slice", "mbpp-slice", "mbppplus-slice", "taco-fixture")
]
DEFAULT_OUT = REPO / "test" / "fixtures" / "cots"
# Fixed, so that regenerating the fixtures changes nothing.
CREATED_AT = "2025-01-01T00:00:00Z"
TEACHER_MODEL = "fixture-script"
TEACHER_ENDPOINT = "scripts/make-cot-fixture.py"
MAX_STEPS = 6
MAX_FORMULAS = 3
MAX_EDGE_CASES = 2
SNIPPET_CHARS = 100
ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
INVALID_PROBLEM = "fixture-script: marked invalid on purpose, so status filters have one to drop"
# A token is about four characters of English or code: the usage the fixture claims.
CHARS_PER_TOKEN = 4


def shorten(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def first_sentence(text: str) -> str:
    """Up to the first full stop, question or exclamation mark followed by a space, ignoring
    doctest examples after it."""
    prose = text.split(">>>")[0]
    flat = " ".join(prose.split())
    match = re.match(r"(.+?[.!?])(?:\s|$)", flat)
    return shorten(match.group(1) if match else flat, 200)


def parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


def function(tree: ast.Module, name: str | None) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    return None


def problem_text(task: dict[str, Any]) -> str:
    """The prose of the problem: a code prompt's docstring (the entry point's, else the
    module's), or the prompt itself."""
    tree = parse(task["prompt"])
    if tree is not None:
        entry = function(tree, task.get("entryPoint"))
        docstring = ast.get_docstring(entry) if entry else ast.get_docstring(tree)
        if docstring:
            return docstring
    return task["prompt"]


def is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def first_line(code: str, node: ast.AST) -> str:
    segment = ast.get_source_segment(code, node) or ast.unparse(node)
    return shorten(segment.splitlines()[0].strip().rstrip(":"))


def describe(code: str, node: ast.stmt) -> str:
    """One step, in words, for one statement of the solution."""
    line = first_line(code, node)
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return f"Loop with `{line}`."
    if isinstance(node, ast.While):
        return f"Repeat `{line}`."
    if isinstance(node, ast.If):
        return f"Branch on `{shorten(ast.unparse(node.test))}`."
    if isinstance(node, ast.Return):
        value = "None" if node.value is None else shorten(ast.unparse(node.value))
        return f"Return `{value}`."
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        return f"Compute `{line}`."
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return f"Define the function `{node.name}`."
    if isinstance(node, ast.ClassDef):
        return f"Define the class `{node.name}`."
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return f"Import with `{line}`."
    if isinstance(node, ast.Try):
        return "Guard the computation with try/except."
    return f"Run `{line}`."


def solution_steps(task: dict[str, Any], code: str, tree: ast.Module | None) -> list[str]:
    if tree is None:
        lines = [line.strip() for line in code.splitlines() if line.strip()]
        return [f"Write `{shorten(line)}`." for line in lines[:MAX_STEPS]]
    entry = function(tree, task.get("entryPoint"))
    body = entry.body if entry is not None else tree.body
    statements = [node for node in body if not is_docstring(node)]
    return [describe(code, node) for node in statements[:MAX_STEPS]]


def formulas(tree: ast.Module | None) -> list[str]:
    """The arithmetic expressions not nested in another one, in source order, without repeats."""
    if tree is None:
        return []
    nested = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.BinOp)
        for child in (node.left, node.right)
    }
    outermost = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.BinOp)
        and isinstance(node.op, ARITHMETIC)
        and id(node) not in nested
    ]
    # ast.walk goes breadth first; the steps read top to bottom, so the formulas do too.
    outermost.sort(key=lambda node: (node.lineno, node.col_offset))
    found: list[str] = []
    for node in outermost:
        text = shorten(ast.unparse(node))
        if text not in found:
            found.append(text)
    return found[:MAX_FORMULAS]


def smallest(cases: list[str]) -> list[str]:
    ranked = sorted(range(len(cases)), key=lambda i: (len(cases[i]), i))
    return [cases[i] for i in sorted(ranked[:MAX_EDGE_CASES])]


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def edge_cases(tests: dict[str, Any]) -> list[str]:
    if tests["kind"] == "assert":
        asserts = [line.strip() for line in tests["code"].splitlines()]
        cases = [
            line.removeprefix("assert").strip() for line in asserts if line.startswith("assert")
        ]
        return [f"`{shorten(case)}` holds." for case in smallest(cases)]
    if tests["kind"] == "call":
        outputs = tests["outputs"] or [None] * len(tests["inputs"])
        cases = [
            f"`{tests['fnName']}({compact(args)[1:-1]})`"
            + ("" if out is None else f" returns `{compact(out)}`")
            for args, out in zip(tests["inputs"], outputs, strict=True)
        ]
        return [shorten(case) + "." for case in smallest(cases)]
    cases = [
        f"input {compact(inp)} gives {compact(out)}"
        for inp, out in zip(tests["inputs"], tests["outputs"], strict=True)
    ]
    return [shorten(case) + "." for case in smallest(cases)]


def status_of(index: int, count: int) -> str:
    if index == count - 1:
        return "invalid"
    return "verified" if index % 3 == 1 else "valid"


def review_of(index: int, count: int) -> str | None:
    if index == count - 1:
        return "rejected"
    return "accepted" if index == 0 else None


def cot_record(task: dict[str, Any], index: int, count: int) -> dict[str, Any]:
    code = task["solutions"][0].replace("\r\n", "\n") if task["solutions"] else ""
    tree = parse(code)
    sections = {
        "intent": first_sentence(problem_text(task)),
        "steps": solution_steps(task, code, tree),
        "formulas": formulas(tree),
        "edgeCases": edge_cases(task["tests"]),
    }
    status = status_of(index, count)
    record: dict[str, Any] = {
        "taskId": task["id"],
        "teacher": {
            "model": TEACHER_MODEL,
            "endpoint": TEACHER_ENDPOINT,
            "temperature": 0,
            "promptHash": "sha256:" + hashlib.sha256(task["prompt"].encode()).hexdigest(),
        },
        "createdAt": CREATED_AT,
        **sections,
    }
    if status == "verified":
        record["teacherCode"] = task["solutions"][0]
    record["raw"] = json.dumps(sections, ensure_ascii=False)
    record["status"] = status
    record["problems"] = [INVALID_PROBLEM] if status == "invalid" else []
    record["usage"] = {
        "promptTokens": len(task["prompt"]) // CHARS_PER_TOKEN,
        "completionTokens": len(record["raw"]) // CHARS_PER_TOKEN,
    }
    record["attempts"] = 1
    if status == "verified":
        record["verification"] = {"status": "passed", "failedTest": None, "message": None}
    decision = review_of(index, count)
    if decision is not None:
        record["review"] = {"decision": decision, "at": CREATED_AT}
    return validate_cot(record)


def fixture_text(tasks_path: Path) -> str:
    tasks = load_tasks(tasks_path)
    records = [cot_record(task, i, len(tasks)) for i, task in enumerate(tasks)]
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def output_name(tasks_path: Path) -> str:
    name = tasks_path.name
    stem = name[: -len(".tasks.jsonl")] if name.endswith(".tasks.jsonl") else tasks_path.stem
    return f"{stem}.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "tasks",
        type=Path,
        nargs="*",
        default=DEFAULT_TASKS,
        help="normalized Task JSONL files (default: the golden slices)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write to")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a fixture is missing or out of date",
    )
    args = parser.parse_args()

    stale = []
    for tasks_path in args.tasks:
        target = args.out / output_name(tasks_path)
        text = fixture_text(tasks_path)
        if args.check:
            current = target.read_text(encoding="utf-8") if target.is_file() else None
            if current != text:
                stale.append(target)
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target} ({text.count(chr(10))} records)", file=sys.stderr)
    for target in stale:
        print(
            f"{target}: missing or out of date; run scripts/make-cot-fixture.py",
            file=sys.stderr,
        )
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
