"""EvalPlus's per-task special cases, reproduced so that verdicts match ``evalplus.evaluate``.

MBPP+ stores some inputs in a JSON-friendly form (tuples as lists, sets as lists, complex numbers
as strings) and EvalPlus turns them back before calling (``evalplus/data/mbpp.py``,
``mbpp_deserialize_inputs``); a few MBPP+ tasks compare answers as sets or only as "not None";
some accept another answer computed by an oracle (``evalplus/eval/__init__.py``,
``unsafe_execute``, and ``evalplus/eval/_special_oracle.py``).

A plan (`plan_for`) is plain JSON that travels in the job: the sandbox child uses it to convert
inputs and transform return values, the worker to apply the oracles.
"""

from __future__ import annotations

import math
from typing import Any

from .compare import number

Plan = dict[str, Any]

# Sets of tasks by the shape of their inputs, as in mbpp_deserialize_inputs.
EACH_ARG_TUPLE = {2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596,
                  616, 630, 726, 740, 744, 809}  # fmt: skip
EACH_ARG_ITEMS_TUPLES = {63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780}
FIRST_ARG_ITEMS_TUPLES = {75, 413, 444, 753}
SECOND_ARG_TUPLE = {106, 750}
FIRST_ARG_TUPLE = {250, 405, 446, 617, 720, 763, 808}
EACH_ARG_TUPLE_OF_TUPLES = {259, 401, 445}
ALL_LISTS_TUPLES = {580, 615, 791}

# Entry points whose answers EvalPlus compares as sets, or only as "is it None" (the original
# MBPP tests assert a regex match object is truthy).
MBPP_OUTPUT_SET_EQ_TASKS = {
    "similar_elements",
    "find_char_long",
    "common_in_nested_lists",
    "extract_singly",
    "larg_nnum",
    "intersection_array",
    "find_dissimilar",
    "Diff",
}
MBPP_OUTPUT_NOT_NONE_TASKS = {"check_str", "text_match_three", "text_starta_endb"}


def plan_for(task: dict[str, Any]) -> Plan | None:
    """The special handling a task gets: EvalPlus tasks only, keyed as EvalPlus keys them."""
    source = task.get("source")
    tests = task.get("tests", {})
    if source not in ("mbpp+", "humaneval+") or tests.get("kind") != "call":
        return None
    try:
        number_ = int(str(task["id"]).rsplit("/", 1)[-1])
    except ValueError:
        number_ = -1
    return {
        "dataset": "mbpp" if source == "mbpp+" else "humaneval",
        "task": number_,
        "entry_point": tests.get("fnName"),
    }


# ----------------------------------------------------------------------------- child side


def _tuples(items: Any) -> list[tuple[Any, ...]]:
    return [tuple(item) for item in items]


def _deep_tuple(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_deep_tuple(item) for item in value)
    return value


def _set_or_empty_dict(item: Any) -> Any:
    # EvalPlus writes `{}` (an empty dict) for an empty set here; kept for identical verdicts.
    return set(item) if isinstance(item, list) and len(item) else {}


def convert_input(plan: Plan | None, args: list[Any]) -> Any:
    """One MBPP+ argument list as mbpp_deserialize_inputs leaves it."""
    if plan is None or plan["dataset"] != "mbpp":
        return args
    task = plan["task"]
    if task in EACH_ARG_TUPLE:
        return _tuples(args)
    if task in EACH_ARG_ITEMS_TUPLES:
        return [_tuples(arg) for arg in args]
    if task in FIRST_ARG_ITEMS_TUPLES:
        return [_tuples(args[0]), args[1]]
    if task in SECOND_ARG_TUPLE:
        return [args[0], tuple(args[1])]
    if task == 115:
        return [[_set_or_empty_dict(item) for item in args[0]]]
    if task == 124:
        return (float(args[0]), complex(args[1]))
    if task in FIRST_ARG_TUPLE:
        return [tuple(args[0]), args[1]]
    if task in EACH_ARG_TUPLE_OF_TUPLES:
        return [tuple(_tuples(arg)) for arg in args]
    if task == 278:
        return [tuple(tuple(item) if isinstance(item, list) else item for item in args[0])]
    if task == 307:
        return [tuple(args[0]), args[1], args[2]]
    if task == 722:
        return [{key: tuple(value) for key, value in args[0].items()}, *args[1:]]
    if task == 252:
        return [complex(args[0])]
    if task in ALL_LISTS_TUPLES:
        return _deep_tuple(args)
    return args


def transform_output(plan: Plan | None, value: Any, record: bool) -> Any:
    """A return value as EvalPlus compares it: a set, or for "not None" tasks a bool (the
    reference's answer always becomes `is not None`; a sample's bool answer is kept)."""
    if plan is None or plan["dataset"] != "mbpp":
        return value
    entry_point = plan["entry_point"]
    if entry_point in MBPP_OUTPUT_SET_EQ_TASKS:
        return set(value)
    if entry_point in MBPP_OUTPUT_NOT_NONE_TASKS:
        if not record and isinstance(value, bool):
            return value
        return value is not None
    return value


# ----------------------------------------------------------------------------- worker side


def _surface_area(base_edge: float, height: float) -> int:
    # Mbpp/581: "height" read as the perpendicular height of the pyramid.
    slant_height = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 2 * base_edge * slant_height)


def _digit_distance(a: int, b: int) -> int:
    # Mbpp/558: both numbers zero-padded to the same length.
    x, y = str(a), str(b)
    width = max(len(x), len(y))
    return sum(abs(int(p) - int(q)) for p, q in zip(x.zfill(width), y.zfill(width), strict=True))


def _poly(xs: list[Any], x: float) -> float:
    return sum(coefficient * math.pow(x, i) for i, coefficient in enumerate(xs))


def oracle_verdict(plan: Plan | None, got: Any, args: list[Any], atol: float) -> bool | None:
    """True where EvalPlus accepts `got` (canon form) besides the expected answer; False where
    the oracle alone decides and rejects it; None where the ordinary comparison decides."""
    if plan is None:
        return None
    entry_point = plan["entry_point"]
    value = number(got)
    if plan["dataset"] == "humaneval":
        return _is_root(value, args, atol) if entry_point == "find_zero" else None
    try:
        if entry_point == "are_equivalent":
            return True
        if entry_point == "sum_div" and value == 0:
            return True
        if entry_point == "surface_Area" and value is not None:
            return abs(value - _surface_area(*args)) <= atol or None
        if entry_point == "digit_distance_nums" and value == _digit_distance(*args):
            return True
    except (ArithmeticError, TypeError, ValueError):
        return None  # the oracle does not apply to these inputs: compare as usual
    return None


def _is_root(value: float | None, args: list[Any], atol: float) -> bool:
    # Any root will do: HumanEval/32 checks |poly(x)| <= atol, never the root itself.
    if value is None:
        return False
    try:
        return abs(_poly(args[0], value)) <= atol
    except (ArithmeticError, TypeError, ValueError):
        return False
