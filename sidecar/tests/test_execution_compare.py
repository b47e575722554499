"""How answers are serialized (canon) and compared, and EvalPlus's per-task special cases, as
plain functions; test_execution_benchmarks.py checks the same on the real tasks end to end."""

from __future__ import annotations

import collections
import json
import math
import re

import pytest

from codistill.execution.compare import call_output_matches, canon, from_json, values_equal
from codistill.execution.evalplus import convert_input, oracle_verdict, transform_output


def same(got: object, expected: object, atol: float = 0.0, stored: bool = False) -> bool:
    """Compare as the worker does: both sides through JSON, as they travel."""
    wire = json.loads(json.dumps(canon(got)))
    want = json.loads(json.dumps(from_json(expected) if stored else canon(expected)))
    return call_output_matches(wire, want, atol, wrapped=False, stored=stored)


def test_tuples_differ_from_lists_unless_the_expected_value_was_json() -> None:
    assert same((1, 2), (1, 2)) and same([(1, "a")], [(1, "a")])
    assert not same([1, 2], (1, 2)) and not same((1, 2), [1, 2])
    assert not same([[1, 2]], [(1, 2)])
    # Outputs stored in a task file are JSON lists: a tuple answer matches them.
    assert same((1, 2), [1, 2], stored=True) and same([(1, 2)], [[1, 2]], stored=True)


def test_numbers_compare_as_python_does_with_a_float_tolerance() -> None:
    assert same(1, 1.0) and same(True, 1) and same(2.0000000001, 2.0)
    assert not same(2.001, 2.0) and same(2.001, 2.0, atol=0.01)
    assert same(float("nan"), float("nan")) and not same(float("inf"), 1e308)
    assert same(3 + 0j, 3) and same(1 + 2j, 1 + 2.0000000001j) and not same(1 + 2j, 1 - 2j)


def test_huge_ints_travel_as_hex_and_still_compare_with_floats() -> None:
    big = 7**20000
    assert canon(big) == {"__int__": hex(big)}
    assert same(big, big) and not same(big, big + 1)
    # Beyond any float, as in Python: no float equals it, not even an infinity.
    assert not same(10**5000, math.inf) and not same(10**5000, 1.7e308)
    assert not values_equal({"__int__": hex(10**400)}, {"__float__": "inf"})
    assert same(2**60, float(2**60))


def test_dict_subclasses_equal_plain_dicts() -> None:
    counted = collections.Counter("abracadabra")
    assert same(dict(counted), counted) and same(counted, dict(counted))
    assert same(collections.OrderedDict(b=1, a=2), {"a": 2, "b": 1})
    assert not same({"a": 5}, counted)
    assert same({1: "x", (2, 3): "y"}, {(2, 3): "y", 1: "x"})


def test_values_that_could_lie_about_equality_equal_nothing() -> None:
    class Liar:
        def __eq__(self, other: object) -> bool:
            return True

    assert not same(Liar(), Liar())
    assert not same(re.search("a", "cat"), re.search("a", "cat"))
    # A dict that looks like a canon tag is wrapped, so it cannot pose as one.
    assert not same({"__int__": hex(10**2000)}, 10**2000)


def test_mbppplus_inputs_are_converted_like_evalplus() -> None:
    def convert(task: int, args: list) -> object:
        return convert_input({"dataset": "mbpp", "task": task, "entry_point": "f"}, args)

    assert convert(106, [[5, 6], [9, 10]]) == [[5, 6], (9, 10)]
    assert convert(124, ["0", "1j"]) == (0.0, 1j)
    assert convert(252, ["(1+2j)"]) == [1 + 2j]
    assert convert(580, [[4, [7, 6, [2, 4]], 6]]) == ((4, (7, 6, (2, 4)), 6),)
    assert convert(115, [[[1, 2], [], [3]]]) == [[{1, 2}, {}, {3}]]
    assert convert(722, [{"a": [1, 2]}, 3, 4]) == [{"a": (1, 2)}, 3, 4]
    assert convert(259, [[[1, 2], [3, 4]], [[5, 6]]]) == [((1, 2), (3, 4)), ((5, 6),)]
    assert convert(2, [[1, 2], [3]]) == [(1, 2), (3,)]
    assert convert(3, [[1, 2]]) == [[1, 2]]  # tasks not in EvalPlus's list stay as stored
    humaneval = {"dataset": "humaneval", "task": 106, "entry_point": "f"}
    assert convert_input(humaneval, [[1], [2]]) == [[1], [2]]


def test_set_and_not_none_answers() -> None:
    plan = {"dataset": "mbpp", "task": 2, "entry_point": "similar_elements"}
    assert transform_output(plan, (3, 1, 2), record=False) == {1, 2, 3}
    with pytest.raises(TypeError):
        transform_output(plan, None, record=False)  # EvalPlus's set(None) fails the sample too
    plan = {"dataset": "mbpp", "task": 794, "entry_point": "text_starta_endb"}
    found = re.search("a.*?b$", "aab")
    # The reference's answer becomes "is it not None", even a bool; a sample's bool is kept.
    assert transform_output(plan, found, record=True) is True
    assert transform_output(plan, False, record=True) is True
    assert transform_output(plan, False, record=False) is False
    assert transform_output(plan, "text", record=False) is True
    assert transform_output(plan, None, record=False) is False


@pytest.mark.parametrize(
    "entry_point,got,args,verdict",
    [
        ("are_equivalent", "anything", [1, 2], True),
        ("sum_div", 0, [12], True),
        ("sum_div", 5, [12], None),
        ("surface_Area", 35, [3, 4], True),
        ("surface_Area", 36, [3, 4], None),
        ("digit_distance_nums", 7, [123, 256], True),
        ("digit_distance_nums", 8, [123, 256], None),
        ("digit_distance_nums", "x", [123, 256], None),
        ("similar_elements", [1], [[1], [1]], None),
    ],
)
def test_mbppplus_oracles(entry_point: str, got: object, args: list, verdict: bool | None) -> None:
    plan = {"dataset": "mbpp", "task": 0, "entry_point": entry_point}
    assert oracle_verdict(plan, canon(got), args, atol=0.0) is verdict


def test_find_zero_takes_any_root_and_only_roots() -> None:
    plan = {"dataset": "humaneval", "task": 32, "entry_point": "find_zero"}
    xs = [-2, -1, 1]  # (x + 1)(x - 2)
    assert oracle_verdict(plan, 2.0, [xs], atol=1e-4) is True
    assert oracle_verdict(plan, -1.0, [xs], atol=1e-4) is True
    assert oracle_verdict(plan, 0.5, [xs], atol=1e-4) is False
    assert oracle_verdict(plan, "2.0", [xs], atol=1e-4) is False
    assert oracle_verdict(plan, canon(1e300), [xs], atol=1e-4) is False  # overflows: no root
    other = {"dataset": "humaneval", "task": 0, "entry_point": "has_close_elements"}
    assert oracle_verdict(other, True, [[1.0], 0.5], atol=0.0) is None
