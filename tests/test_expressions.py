"""The safe evaluator: arithmetic over parameters, nothing else."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.errors import ExpressionError
from explorer.model.expressions import check, evaluate, names_in


@pytest.mark.parametrize("text, values, expected", [
    ("candidates / 10", {"candidates": 500}, 50.0),
    ("items * embedding_dim * 4", {"items": 1e6, "embedding_dim": 128}, 512e6),
    ("max(1, ceil(x / 3))", {"x": 10}, 4.0),
    ("-x + 2 ** 3", {"x": 1}, 7.0),
    ("x // 3 + x % 3", {"x": 10}, 4.0),
    (12.5, {}, 12.5),
    ("sqrt(16) + log2(8) + log10(100) + floor(2.7) + min(3, 4)", {}, 14.0),
])
def test_evaluates(text, values, expected):
    assert evaluate(text, values) == pytest.approx(expected)


@pytest.mark.parametrize("text, message", [
    ("__import__('os')", "not allowed"),
    ("x.real", "Attribute"),
    ("open('f')", "function call"),
    ("[1, 2]", "List"),
    ("'a' * 3", "constant 'a'"),
    ("lambda: 1", "Lambda"),
    ("x if x else 1", "IfExp"),
    ("1 +", "cannot parse"),
    ("2 ** 1000", "too large"),
    ("1 / 0", "divides by zero"),
    ("sqrt(-1)", "cannot be computed"),
    ("x" * 201, "longer than"),
])
def test_refuses(text, message):
    with pytest.raises(ExpressionError, match=message):
        evaluate(text, {"x": 2})


def test_unknown_names_are_listed():
    with pytest.raises(ExpressionError, match=r"unknown parameter 'qps' \(known: candidates, peak_qps\)"):
        evaluate("qps * 2", {"peak_qps": 1, "candidates": 2})
    with pytest.raises(ExpressionError, match="unknown parameter 'nope'"):
        check("nope + 1", {"peak_qps"})


def test_names_in_skips_functions():
    assert names_in("max(a, ceil(b))") == {"a", "b"}


def test_booleans_are_not_quantities():
    with pytest.raises(ExpressionError):
        evaluate(True, {})


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.floats(min_value=0.001, max_value=1e6))
def test_arithmetic_matches_python(a, b):
    assert evaluate("(a + b) * a / b", {"a": a, "b": b}) == pytest.approx((a + b) * a / b, rel=1e-12, abs=1e-9)
    assert math.isfinite(evaluate("a - b", {"a": a, "b": b}))


@pytest.mark.parametrize("text, message", [
    ("min()", r"min\(\) takes at least 2 arguments, got 0"),
    ("max(1)", r"max\(\) takes at least 2 arguments, got 1"),
    ("sqrt(1, 2)", r"sqrt\(\) takes exactly 1 argument, got 2"),
    ("ceil()", r"ceil\(\) takes exactly 1 argument, got 0"),
    ("(-8)**0.5", "is not a real number"),
    ("sqrt((-8)**0.5)", "is not a real number"),
    ("((((10**64)**64)**64)**64)**64", "too large to compute"),
    ("*".join(["2**64"] * 18), "too large to compute"),
    ("floor(1e308 * 10)", "cannot be computed"),
])
def test_hostile_expressions_give_messages_not_tracebacks(text, message):
    with pytest.raises(ExpressionError, match=message):
        evaluate(text, {"x": 1.0})


def test_large_but_representable_numbers_still_compute():
    assert evaluate("9**64", {}) == float(9**64)
    assert evaluate("max(x, 2, 3)", {"x": 1.0}) == 3.0
