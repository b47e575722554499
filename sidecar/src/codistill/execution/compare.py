"""Serialized forms of return values (made in the child) and their comparison (in the parent).

The child turns whatever the sample returned into plain JSON data with `canon`; only exact
built-in types are trusted, so an object whose ``__eq__`` always returns True becomes a tagged
repr that equals nothing. The parent then compares plain data with `values_equal`.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_REPR = 200
FLOAT_TOL = 1e-6


def canon(value: Any, depth: int = 0) -> Any:
    """Plain JSON-able data for a return value: tuples become lists, sets sorted lists."""
    if depth > 100:
        return {"__repr__": "<too deep>"}
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        if math.isnan(value):
            return {"__float__": "nan"}
        if math.isinf(value):
            return {"__float__": "inf" if value > 0 else "-inf"}
        return value
    if kind in (list, tuple):
        return [canon(item, depth + 1) for item in value]
    if kind in (set, frozenset):
        items = [canon(item, depth + 1) for item in value]
        return {"__set__": sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
    if kind is dict:
        if all(type(k) is str for k in value):
            return {"__dict__": {k: canon(v, depth + 1) for k, v in value.items()}}
        pairs = [[canon(k, depth + 1), canon(v, depth + 1)] for k, v in value.items()]
        return {"__pairs__": sorted(pairs, key=lambda x: json.dumps(x, sort_keys=True))}
    module = getattr(kind, "__module__", "")
    if module == "numpy" and hasattr(value, "tolist"):
        try:
            return canon(value.tolist(), depth + 1)
        except Exception:  # noqa: BLE001 - anything a hostile tolist does
            pass
    try:
        text = object.__repr__(value)
    except Exception:  # noqa: BLE001
        text = "?"
    return {"__repr__": f"{module}.{kind.__qualname__}:{text[:MAX_REPR]}"}


def from_json(value: Any) -> Any:
    """Expected outputs read from Task JSON (NaN / Infinity already floats) in canon form."""
    return canon(value)


def _as_float(value: int | float | str) -> float:
    # An int too large for a float compares as infinity against floats (EvalPlus has such inputs).
    try:
        return float(value)
    except OverflowError:
        return math.inf if int(value) > 0 else -math.inf


def _number(value: Any) -> float | None:
    if type(value) in (int, float, bool):
        return _as_float(value)
    if isinstance(value, dict) and set(value) == {"__float__"}:
        return float(value["__float__"])
    return None


def values_equal(got: Any, expected: Any, atol: float = 0.0) -> bool:
    """Compare two canon forms; floats within max(atol, 1e-6) (EvalPlus's default for floats)."""
    a, b = _number(got), _number(expected)
    if a is not None and b is not None:
        if (
            type(got) is float
            or type(expected) is float
            or isinstance(got, dict)
            or isinstance(expected, dict)
        ):
            if math.isnan(a) or math.isnan(b):
                return math.isnan(a) and math.isnan(b)
            if math.isinf(a) or math.isinf(b):
                return a == b
            return abs(a - b) <= max(atol, FLOAT_TOL) or math.isclose(a, b, rel_tol=1e-9)
        return got == expected
    if type(got) is not type(expected):
        return False
    if isinstance(got, list):
        return len(got) == len(expected) and all(
            values_equal(x, y, atol) for x, y in zip(got, expected, strict=False)
        )
    if isinstance(got, dict):
        if set(got) != set(expected):
            return False
        return all(values_equal(got[k], expected[k], atol) for k in got)
    return got == expected


def call_output_matches(got: Any, expected: Any, atol: float, wrapped: bool) -> bool:
    """`wrapped`: TACO/APPS call outputs, where the expected value may sit inside a 1-list."""
    if values_equal(got, expected, atol):
        return True
    if wrapped and isinstance(expected, list) and len(expected) >= 1:
        return values_equal(got, expected[0], atol)
    return False


_SPACE = re.compile(r"\s+")


def _lines(text: str) -> list[list[str]]:
    return [line.split() for line in text.strip().splitlines() if line.strip()]


def _float_token_equal(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    if math.isnan(x) or math.isnan(y):
        return False
    return abs(x - y) <= FLOAT_TOL * max(1.0, abs(y))


def stdout_matches(got: str, expected: str, judge: str | None) -> bool:
    """Whitespace-normalized comparison: same non-empty lines, same tokens on each line."""
    if judge == "case-insensitive":
        got, expected = got.lower(), expected.lower()
    g, e = _lines(got), _lines(expected)
    if judge == "float-tolerance":
        if len(g) != len(e):
            # Some judges accept the numbers in any line layout: compare the token streams.
            g, e = [sum(g, [])], [sum(e, [])]
        return all(
            len(x) == len(y) and all(_float_token_equal(a, b) for a, b in zip(x, y, strict=False))
            for x, y in zip(g, e, strict=False)
        ) and len(g) == len(e)
    return g == e
