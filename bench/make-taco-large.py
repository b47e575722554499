#!/usr/bin/env python3
"""Generates a TACO-shaped dataset for bench/datasets.bench.ts: 25,000 rows, over 1 GB, as
Parquet (snappy, 1,000-row row groups with a page index, as the Hugging Face conversions
are written) and as JSONL, with every column a string as in BAAI/TACO.

Rows reuse and vary the 1,000 real TACO rows of taco_generation_example.json: each row is one
real question with its example blocks as stdio tests, and some 60 solutions like real TACO
rows: real TACO solutions, each under a "# submission" line that makes it distinct, one in
twenty rewritten with Python 2 print statements. Like TACO's generated tests, each row also has
some thirty tests with random inputs (a count and that many integers) after its example
blocks: random digits are what keeps the Parquet file over 1 GB on disk under snappy, which
compresses the code of the solutions some 2.5 times. Difficulty, source and skill tags are TACO's
own values assigned in rotation (benchmark data: they exercise the filters, they are not
labels of the questions).

Usage: .venv/bin/python bench/make-taco-large.py [folder]   (default /tmp/codistill-taco-large;
needs pyarrow; reads CODISTILL_DATA, default ../shared/data)
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("CODISTILL_DATA", REPO.parent / "shared" / "data"))

ROWS = 25_000
SOLUTIONS_PER_ROW = 60
ROWS_PER_GROUP = 1_000
GENERATED_TESTS = 32
MIN_BYTES = 1 << 30

def _fixture_module():
    """scripts/make-taco-fixture.py, which owns TACO's column list (its name is not importable)."""
    spec = importlib.util.spec_from_file_location("make_taco_fixture", REPO / "scripts" / "make-taco-fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


COLUMNS = _fixture_module().TACO_COLUMNS
# TACO's own vocabularies (TACO.py and the dataset card).
DIFFICULTIES = ["EASY", "MEDIUM", "MEDIUM_HARD", "HARD", "VERY_HARD", "UNKNOWN_DIFFICULTY"]
SKILLS = [
    "Data structures",
    "Sorting",
    "Range queries",
    "Complete search",
    "Amortized analysis",
    "Dynamic programming",
    "Bit manipulation",
    "Greedy algorithms",
]
SOURCES = [
    "codeforces",
    "atcoder",
    "codechef",
    "hackerrank",
    "codewars",
    "geeksforgeeks",
    "aizu",
    "leetcode",
    "kattis",
]


def question_of(prompt: str) -> tuple[str, bool]:
    body = prompt.removeprefix("\nQUESTION:\n")
    call = "Use Call-Based format" in body
    body = re.sub(r"\n?Use (Standard Input|Call-Based) format\nANSWER:\n$", "", body)
    return body, call


def examples_of(question: str) -> dict:
    """The statement's Input/Output example blocks as stdio tests (empty when it has none)."""
    inputs, outputs, current, target = [], [], None, None
    started = False
    for line in question.split("\n"):
        stripped = line.strip()
        if re.fullmatch(r"(-----)?Examples?(-----)?", stripped):
            started = True
            continue
        if not started:
            continue
        if stripped in ("Input", "Output"):
            if current is not None:
                target.append("\n".join(current).strip("\n") + "\n")
            current, target = [], (inputs if stripped == "Input" else outputs)
        elif re.fullmatch(r"(-----)?Note(-----)?", stripped):
            break
        elif current is not None:
            current.append(line)
    if current is not None:
        target.append("\n".join(current).strip("\n") + "\n")
    if len(inputs) != len(outputs):
        return {"inputs": [], "outputs": []}
    return {"inputs": inputs, "outputs": outputs}


def python2(code: str) -> str:
    return re.sub(r"\bprint\((.*)\)\s*$", r"print \1", code, flags=re.M)


def generated_tests(io: dict, rng: random.Random) -> None:
    """Appends GENERATED_TESTS random tests to io: stdio text, or an argument list for call-based."""
    for _ in range(GENERATED_TESTS):
        values = [rng.randrange(-(10**9), 10**9) for _ in range(rng.randrange(20, 100))]
        if "fn_name" in io:
            io["inputs"].append([values])
            io["outputs"].append(sum(values))
        else:
            io["inputs"].append(f"{len(values)}\n{' '.join(map(str, values))}\n")
            io["outputs"].append(f"{sum(values)}\n")


def rows(examples: list[dict]):
    pool = [e["output"][0] for e in examples]
    rng = random.Random(20240611)
    for i in range(ROWS):
        base = examples[i % len(examples)]
        question, call = question_of(base["prompt"])
        io = examples_of(question)
        if call:
            name = re.search(r"def (\w+)\(", question)
            io = {"fn_name": name.group(1) if name else "solution", "inputs": [], "outputs": []}
        generated_tests(io, rng)
        solutions = []
        for k in range(SOLUTIONS_PER_ROW):
            code = pool[(i + k * 37) % len(pool)] if k else base["output"][0]
            if (i + k) % 20 == 19:
                code = python2(code)
            solutions.append(f"# submission {i}-{k}\n{code}")
        skills = [SKILLS[i % len(SKILLS)], SKILLS[(i // 8) % len(SKILLS)]]
        skills = list(dict.fromkeys(skills))
        yield {
            "question": question,
            "solutions": json.dumps(solutions),
            "starter_code": "",
            "input_output": json.dumps(io),
            "difficulty": DIFFICULTIES[i % len(DIFFICULTIES)],
            "raw_tags": repr(skills),
            "name": None,
            "source": SOURCES[i % len(SOURCES)],
            "tags": repr(skills),
            "skill_types": repr(skills[:1]),
            "url": None,
            "Expected Auxiliary Space": None,
            "time_limit": None,
            "date": None,
            "picture_num": str(question.count("<image>")),
            "memory_limit": None,
            "Expected Time Complexity": None,
        }


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/codistill-taco-large")
    out.mkdir(parents=True, exist_ok=True)
    examples = json.loads((DATA / "taco" / "taco_generation_example.json").read_text())
    started = time.time()
    schema = pa.schema([(c, pa.string()) for c in COLUMNS])
    parquet_path, jsonl_path = out / "taco-large.parquet", out / "taco-large.jsonl"
    batch: list[dict] = []
    with (
        pq.ParquetWriter(
            parquet_path, schema, compression="snappy", write_page_index=True
        ) as writer,
        open(jsonl_path, "w", encoding="utf-8", newline="\n") as jsonl,
    ):
        for row in rows(examples):
            jsonl.write(json.dumps(row, ensure_ascii=False) + "\n")
            batch.append(row)
            if len(batch) == ROWS_PER_GROUP:
                writer.write_table(
                    pa.Table.from_pylist(batch, schema=schema), row_group_size=ROWS_PER_GROUP
                )
                batch = []
        if batch:
            writer.write_table(
                pa.Table.from_pylist(batch, schema=schema), row_group_size=ROWS_PER_GROUP
            )
    meta = pq.ParquetFile(parquet_path).metadata
    data_bytes = sum(meta.row_group(g).total_byte_size for g in range(meta.num_row_groups))
    for path in (parquet_path, jsonl_path):
        print(f"{path}: {path.stat().st_size / 1e9:.2f} GB")
    print(f"{meta.num_rows} rows, {meta.num_row_groups} row groups, ", end="")
    print(f"{data_bytes / 1e9:.2f} GB of column data; {time.time() - started:.0f} s")
    if min(jsonl_path.stat().st_size, parquet_path.stat().st_size) < MIN_BYTES:
        raise SystemExit("the dataset came out under 1 GB on disk")


if __name__ == "__main__":
    main()
