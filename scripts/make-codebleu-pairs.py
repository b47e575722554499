"""Makes CodeBLEU (reference, hypothesis) pairs from real HumanEval and MBPP solutions.

Each solution is paired with perturbed copies of itself made with Python's `ast` (variables
renamed, a loop replaced by its body, an operator swapped, two statements swapped), with itself
reformatted by ast.unparse, with comments and docstrings added, with another task's solution, and
with itself unchanged; some pairs have two references. Tasks are drawn so that comments,
docstrings, if/elif/else chains, comprehensions, while loops and tab-indented CRLF code (MBPP's
originals) all occur. The output is deterministic: the same data gives the same file.

Writes JSON lines {"id", "kind", "ref", "hyp"} ("ref" is a string or a list of strings).

Usage:
  .venv/bin/python scripts/make-codebleu-pairs.py          # test/fixtures/codebleu/pairs.jsonl
  .venv/bin/python scripts/make-codebleu-pairs.py --count 1000 --out /tmp/pairs.jsonl
Data: $CODISTILL_DATA (default ../shared/data): humaneval/HumanEval.jsonl, mbpp/mbpp.jsonl,
mbpp/sanitized-mbpp.json.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import copy
import json
import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "test" / "fixtures" / "codebleu" / "pairs.jsonl"
SEED = 13


def data_dir() -> Path:
    return Path(os.environ.get("CODISTILL_DATA", REPO.parent / "shared" / "data"))


def load_solutions() -> list[tuple[str, str]]:
    """(task id, full solution) for every HumanEval and MBPP task, in file order."""
    root = data_dir()
    out = []
    with open(root / "humaneval" / "HumanEval.jsonl", encoding="utf-8") as f:
        for line in f:
            task = json.loads(line)
            out.append((task["task_id"], task["prompt"] + task["canonical_solution"]))
    with open(root / "mbpp" / "mbpp.jsonl", encoding="utf-8") as f:
        for line in f:
            task = json.loads(line)
            out.append((f"mbpp/{task['task_id']}", task["code"]))
    with open(root / "mbpp" / "sanitized-mbpp.json", encoding="utf-8") as f:
        for task in json.load(f):
            out.append((f"mbpp-sanitized/{task['task_id']}", task["code"]))
    return [(task_id, code) for task_id, code in out if parses(code)]


def parses(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def features(code: str) -> set[str]:
    """What a solution exercises, so that the draw covers every kind."""
    tree = ast.parse(code)
    found = set()
    if "#" in code:
        found.add("comment")
    if "\t" in code or "\r\n" in code:
        found.add("tabs")
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and ast.get_docstring(node):
            found.add("docstring")
        if isinstance(node, ast.If) and node.orelse:
            found.add("else-chain")
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            found.add("comprehension")
        if isinstance(node, ast.While):
            found.add("while")
        if isinstance(node, ast.For):
            found.add("for")
    return found


KINDS = ["comment", "docstring", "else-chain", "comprehension", "while", "for", "tabs"]


def draw_tasks(
    solutions: list[tuple[str, str]], count: int, rng: random.Random
) -> list[tuple[str, str]]:
    """`count` tasks, cycling through KINDS so that each kind is well represented."""
    by_kind = {kind: [s for s in solutions if kind in features(s[1])] for kind in KINDS}
    for pool in by_kind.values():
        rng.shuffle(pool)
    chosen: list[tuple[str, str]] = []
    seen: set[str] = set()
    while len(chosen) < count:
        progressed = False
        for kind in KINDS:
            pool = by_kind[kind]
            while pool and pool[-1][0] in seen:
                pool.pop()
            if pool and len(chosen) < count:
                task = pool.pop()
                seen.add(task[0])
                chosen.append(task)
                progressed = True
        if not progressed:
            break
    return chosen


# ---- perturbations: each returns new source, or None when it does not apply


class Renamer(ast.NodeTransformer):
    """Renames local variables and parameters (not functions, globals read-only or builtins)."""

    def __init__(self, names: set[str]) -> None:
        self.mapping = {
            name: f"{name}_{i}" if len(name) > 3 else f"v{i}"
            for i, name in enumerate(sorted(names))
        }

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self.mapping.get(node.arg, node.arg)
        return node


def rename_variables(code: str) -> str | None:
    tree = ast.parse(code)
    bound = {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    bound |= {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    bound -= set(dir(builtins))
    if not bound:
        return None
    return ast.unparse(Renamer(bound).visit(tree))


def remove_loop(code: str) -> str | None:
    """The first for/while loop replaced by its body (the loop is gone, its statements stay)."""
    tree = ast.parse(code)
    for parent in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(parent, field, None)
            if not isinstance(stmts, list):
                continue
            for i, stmt in enumerate(stmts):
                if isinstance(stmt, (ast.For, ast.While)):
                    stmts[i : i + 1] = stmt.body
                    return ast.unparse(tree)
    return None


SWAPS: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.FloorDiv: ast.Mult,
    ast.Lt: ast.Gt,
    ast.Gt: ast.Lt,
    ast.LtE: ast.GtE,
    ast.GtE: ast.LtE,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.And: ast.Or,
    ast.Or: ast.And,
}


def swap_operators(code: str, rng: random.Random) -> str | None:
    """Up to two operators swapped (+ and -, < and >, == and !=, and/or, ...)."""
    tree = ast.parse(code)
    sites = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.BinOp, ast.BoolOp, ast.AugAssign)) and type(node.op) in SWAPS:
            sites.append((node, "op", None))
        if isinstance(node, ast.Compare):
            sites.extend((node, "ops", i) for i, op in enumerate(node.ops) if type(op) in SWAPS)
    if not sites:
        return None
    for node, attr, index in rng.sample(sites, min(2, len(sites))):
        if index is None:
            setattr(node, attr, SWAPS[type(getattr(node, attr))]())
        else:
            node.ops[index] = SWAPS[type(node.ops[index])]()
    return ast.unparse(tree)


def reorder_statements(code: str, rng: random.Random) -> str | None:
    """Two adjacent statements of one body swapped (docstrings stay first)."""
    tree = ast.parse(code)
    bodies = []
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            start = (
                1
                if body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                else 0
            )
            if len(body) - start >= 2:
                bodies.append((body, start))
    if not bodies:
        return None
    body, start = rng.choice(bodies)
    i = rng.randrange(start, len(body) - 1)
    body[i], body[i + 1] = body[i + 1], body[i]
    return ast.unparse(tree)


def with_comments_and_docstrings(code: str, rng: random.Random) -> str:
    """Comments after some lines and on their own lines, and a docstring in each function."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not ast.get_docstring(
            node
        ):
            node.body.insert(
                0,
                ast.Expr(
                    ast.Constant(f"Compute {node.name}.\n\n    Made by make-codebleu-pairs.\n    ")
                ),
            )
    lines = ast.unparse(tree).split("\n")
    out = []
    for line in lines:
        indent = line[: len(line) - len(line.lstrip())]
        if line.strip() and rng.random() < 0.25:
            out.append(
                f"{indent}# {rng.choice(['check the edge case', 'main step', 'TODO: faster?'])}"
            )
        in_string = line.count('"""') % 2 == 1 or line.rstrip().endswith("\\")
        if (
            line.strip()
            and not in_string
            and rng.random() < 0.3
            and not line.lstrip().startswith(("@", '"'))
        ):
            line += "  # " + rng.choice(["why not", "note", "x"])
        out.append(line)
    return "\n".join(out)


def with_leading_strings(code: str) -> str | None:
    """A string statement and a string-led expression at the start of statements (the reference
    drops both strings, default mode keeps them)."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and len(node.body) >= 1:
            first = 1 if ast.get_docstring(node) else 0
            node.body.insert(
                first + 1 if len(node.body) > first else first,
                ast.parse('"-".join(["a", "b"])').body[0],
            )
            return ast.unparse(tree)
    return None


def variants(task_id: str, code: str, rng: random.Random) -> Iterator[tuple[str, str]]:
    makers: list[tuple[str, Callable[[], str | None]]] = [
        ("rename", lambda: rename_variables(code)),
        ("remove-loop", lambda: remove_loop(code)),
        ("swap-operators", lambda: swap_operators(code, rng)),
        ("reorder", lambda: reorder_statements(code, rng)),
        ("unparse", lambda: ast.unparse(ast.parse(code))),
        ("comments-docstrings", lambda: with_comments_and_docstrings(code, rng)),
        ("leading-strings", lambda: with_leading_strings(code)),
    ]
    for kind, make in makers:
        hyp = make()
        if hyp is not None and hyp != code:
            yield kind, hyp


def make_pairs(count: int) -> list[dict[str, object]]:
    rng = random.Random(SEED)
    solutions = load_solutions()
    tasks = draw_tasks(solutions, max(12, count // 6), rng)
    pairs: list[dict[str, object]] = []
    for n, (task_id, code) in enumerate(tasks):
        task_pairs = [("identical", code)] if n % 3 == 0 else []
        task_pairs += list(variants(task_id, code, rng))
        other_id, other = tasks[(n * 7 + 3) % len(tasks)]
        if other_id != task_id:
            task_pairs.append(("other-task", other))
        for kind, hyp in task_pairs:
            pairs.append({"id": f"{task_id}#{kind}", "kind": kind, "ref": code, "hyp": hyp})
        if n % 5 == 0 and len(task_pairs) >= 2:
            # Two references of the same task: the original and its reformatting.
            pairs.append(
                {
                    "id": f"{task_id}#two-references",
                    "kind": "two-references",
                    "ref": [code, ast.unparse(ast.parse(code))],
                    "hyp": task_pairs[-1][1],
                }
            )
        # The perturbed copy as the reference, the original as the hypothesis.
        kind, hyp = task_pairs[len(task_pairs) // 2]
        pairs.append(
            {
                "id": f"{task_id}#{kind}-reversed",
                "kind": f"{kind}-reversed",
                "ref": hyp,
                "hyp": code,
            }
        )
    rng.shuffle(pairs)
    while len(pairs) < count:
        pairs += copy.deepcopy(pairs[: count - len(pairs)])
    return pairs[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=360, help="number of pairs (default 360)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    pairs = make_pairs(args.count)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        for pair in pairs:
            f.write(json.dumps(pair, ensure_ascii=False) + "\n")
    print(f"wrote {len(pairs)} pairs to {args.out}")


if __name__ == "__main__":
    main()
