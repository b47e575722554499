"""The unbiased pass@k estimator 1 - C(n-c, k) / C(n, k) and per-task / overall summaries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from math import comb
from typing import Any

KS = (1, 10, 100)


def pass_at_k(n: int, c: int, k: int) -> float:
    if k <= 0 or n < k:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if c < 0 or c > n:
        raise ValueError(f"correct count {c} outside 0..{n}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def summarize(statuses: Mapping[str, Sequence[str]], ks: Iterable[int] = KS) -> dict[str, Any]:
    """`statuses`: task id -> the status of each of its samples. pass@k for every k <= n."""
    ks = tuple(ks)
    per_task: dict[str, Any] = {}
    totals: dict[int, list[float]] = {k: [] for k in ks}
    for task_id, items in statuses.items():
        n = len(items)
        c = sum(1 for s in items if s == "passed")
        entry: dict[str, Any] = {"n": n, "c": c, "pass@k": {}}
        for k in ks:
            if n >= k:
                value = pass_at_k(n, c, k)
                entry["pass@k"][f"pass@{k}"] = value
                totals[k].append(value)
        per_task[task_id] = entry
    overall = {
        f"pass@{k}": sum(values) / len(values)
        for k, values in totals.items()
        # Overall pass@k only where every task has n >= k, as EvalPlus reports it.
        if values and len(values) == len(per_task)
    }
    return {"tasks": per_task, "overall": overall}
