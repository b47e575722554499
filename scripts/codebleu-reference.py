"""The reference CodeBLEU (the `codebleu` package on PyPI) over a pairs JSONL file.

Each input line is {"ref": str | [str, ...], "hyp": str, ...}. For each pair this prints one JSON
line with calc_codebleu(lang="python")'s five scores and, unless --scores-only, what its syntax
and data-flow matches saw: the code after remove_comments_and_docstrings (None where it raised and
the code stayed as it was) and the s-expression of its tree, for the references and the hypothesis.
The TypeScript parity test (test/unit/codebleu.parity.test.ts) and the bench read it.

--time prints one more line, {"timing": {"seconds": s, "pairs": n}}: the scoring loop alone,
timed with perf_counter after the imports and the reading of the file.

The reference merges data-flow sources through Python sets, so its numbers depend on the hash
seed: the script re-runs itself with PYTHONHASHSEED=0 unless that is already set.

Usage:
  .venv/bin/python scripts/codebleu-reference.py pairs.jsonl [--time] [--scores-only]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time

KEYS = [
    "ngram_match_score",
    "weighted_ngram_match_score",
    "syntax_match_score",
    "dataflow_match_score",
    "codebleu",
]


def ensure_hash_seed() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])


def read_pairs(path: str) -> list[tuple[list[str], str]]:
    pairs = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                ref, hyp = record["ref"], record["hyp"]
            except (ValueError, KeyError, TypeError) as err:
                raise SystemExit(f"{path}:{number}: not a {{'ref', 'hyp'}} object: {err}") from err
            pairs.append(([ref] if isinstance(ref, str) else list(ref), hyp))
    return pairs


def score_all(pairs: list[tuple[list[str], str]]) -> list[dict[str, float]]:
    from codebleu import calc_codebleu

    return [calc_codebleu([refs], [hyp], lang="python") for refs, hyp in pairs]


def seen_by_structure(code: str, parser) -> dict[str, str | None]:
    """What corpus_syntax_match parses for one piece of code (after calc_codebleu's strip())."""
    from codebleu.parser import remove_comments_and_docstrings

    try:
        stripped = remove_comments_and_docstrings(code, "python")
    except Exception:
        stripped = None
    text = code if stripped is None else stripped
    return {"stripped": stripped, "sexp": str(parser.parse(bytes(text, "utf8")).root_node)}


def main() -> None:
    ensure_hash_seed()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs")
    parser.add_argument("--time", action="store_true", help="also print the scoring loop's time")
    parser.add_argument(
        "--scores-only", action="store_true", help="leave out the stripped code and s-expressions"
    )
    args = parser.parse_args()

    # The package warns (issue #20) through logging; the warning is not part of the result.
    logging.disable(logging.WARNING)
    from codebleu.utils import get_tree_sitter_language
    from tree_sitter import Parser

    pairs = read_pairs(args.pairs)
    score_all(pairs[:1])  # first-call setup (grammar, keyword file) is not part of the timing
    started = time.perf_counter()
    results = score_all(pairs)
    seconds = time.perf_counter() - started

    ts_parser = Parser()
    ts_parser.language = get_tree_sitter_language("python")
    out = sys.stdout
    for (refs, hyp), scores in zip(pairs, results, strict=True):
        record: dict[str, object] = {key: scores[key] for key in KEYS}
        if not args.scores_only:
            record["refs"] = [seen_by_structure(ref.strip(), ts_parser) for ref in refs]
            record["hyp"] = seen_by_structure(hyp.strip(), ts_parser)
        out.write(json.dumps(record) + "\n")
    if args.time:
        out.write(json.dumps({"timing": {"seconds": seconds, "pairs": len(pairs)}}) + "\n")


if __name__ == "__main__":
    main()
