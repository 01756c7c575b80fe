"""Quantities: numbers, parameter names, or small arithmetic over parameter names.

Evaluated by walking a whitelisted Python AST; nothing is ever passed to
``eval``. Allowed: numbers, parameter names, ``+ - * / // % **``, unary
minus, parentheses and the functions ``min max ceil floor sqrt log2 log10``.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Union

from explorer.errors import ExpressionError

Quantity = Union[float, int, str]
"""A number, a parameter name, or an expression such as ``candidates / 10``."""

MAX_EXPRESSION_CHARS = 200

_BINOPS: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_FUNCS: dict[str, Callable[..., float]] = {
    "min": min, "max": max, "ceil": math.ceil, "floor": math.floor,
    "sqrt": math.sqrt, "log2": math.log2, "log10": math.log10,
}
_ARITY: dict[str, tuple[int, int | None]] = {
    "min": (2, None), "max": (2, None), "ceil": (1, 1), "floor": (1, 1), "sqrt": (1, 1), "log2": (1, 1),
    "log10": (1, 1),
}
"""Fewest and most arguments of each function (None: no most)."""
MAX_INT_BITS = 1100
"""Largest whole number an expression may reach exactly (beyond ~1e308 a float cannot hold it anyway)."""


@lru_cache(maxsize=4096)
def _parse(text: str) -> ast.Expression:
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise ExpressionError(f"cannot parse {text!r} as arithmetic (use numbers, parameter "
                              "names, + - * / ** and parentheses)") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Load, ast.USub, ast.UAdd)):
            continue
        if isinstance(node, tuple(_BINOPS)):
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            continue
        if isinstance(node, ast.Name):
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in _FUNCS and not node.keywords:
            least, most = _ARITY[node.func.id]
            n = len(node.args)
            if n < least or (most is not None and n > most) or any(isinstance(a, ast.Starred) for a in node.args):
                wants = f"exactly {least}" if least == most else f"at least {least}"
                raise ExpressionError(f"{text!r}: {node.func.id}() takes {wants} argument"
                                      f"{'' if least == 1 else 's'}, got {n}")
            continue
        what = type(node).__name__
        if isinstance(node, ast.Call):
            what = "function call (allowed: " + ", ".join(sorted(_FUNCS)) + ")"
        elif isinstance(node, ast.Constant):
            what = f"constant {node.value!r}"
        raise ExpressionError(f"{text!r} uses {what}, which is not allowed in a quantity")
    return tree


def names_in(quantity: Quantity) -> set[str]:
    """Parameter names a quantity refers to.

    Examples
    --------
    >>> sorted(names_in("items * embedding_dim * 4"))
    ['embedding_dim', 'items']
    >>> names_in(12.5)
    set()
    """
    if isinstance(quantity, (int, float)):
        return set()
    tree = _parse(str(quantity))
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - (called & set(_FUNCS))


def evaluate(quantity: Quantity, values: Mapping[str, float]) -> float:
    """Value of a quantity given parameter values.

    Raises
    ------
    ExpressionError
        Unknown names, forbidden syntax, division by zero, non-finite results.

    Examples
    --------
    >>> evaluate("candidates / 10", {"candidates": 500})
    50.0
    """
    if isinstance(quantity, bool):
        raise ExpressionError("a quantity must be a number or an expression, not true/false")
    if isinstance(quantity, (int, float)):
        value = float(quantity)
    else:
        tree = _parse(str(quantity))
        try:
            result = _eval(tree.body, values, str(quantity))
            if isinstance(result, complex):
                raise ExpressionError(f"{quantity!r} is not a real number (a negative number to a fractional power)")
            value = float(result)
        except ZeroDivisionError:
            raise ExpressionError(f"{quantity!r} divides by zero") from None
        except (OverflowError, ValueError) as exc:
            raise ExpressionError(f"{quantity!r} cannot be computed ({exc})") from None
    if not math.isfinite(value):
        raise ExpressionError(f"{quantity!r} is not a finite number")
    return value


def _eval(node: ast.AST, values: Mapping[str, float], text: str) -> float:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in values:
            known = ", ".join(sorted(values)) or "none"
            raise ExpressionError(f"{text!r} names unknown parameter {node.id!r} (known: {known})")
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, values, text)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        left = _eval(node.left, values, text)
        right = _eval(node.right, values, text)
        if isinstance(left, complex) or isinstance(right, complex):
            raise ExpressionError(f"{text!r} is not a real number (a negative number to a fractional power)")
        if isinstance(node.op, ast.Pow) and abs(right) > 64:
            raise ExpressionError(f"{text!r}: exponent {right} is too large")
        if isinstance(node.op, ast.Pow) and isinstance(left, int) and isinstance(right, int) \
                and left.bit_length() * abs(right) > MAX_INT_BITS:
            raise ExpressionError(f"{text!r} is too large to compute")
        result = _BINOPS[type(node.op)](left, right)
        if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
            raise ExpressionError(f"{text!r} is too large to compute")
        return result
    if isinstance(node, ast.Call):
        args = [_eval(a, values, text) for a in node.args]
        if any(isinstance(a, complex) for a in args):
            raise ExpressionError(f"{text!r} is not a real number (a negative number to a fractional power)")
        return float(_FUNCS[node.func.id](*args))
    raise ExpressionError(f"{text!r} cannot be evaluated")  # unreachable after _parse


def check(quantity: Quantity, known: set[str]) -> None:
    """Raise ExpressionError if the quantity cannot parse or names unknown parameters."""
    unknown = names_in(quantity) - known
    if unknown:
        raise ExpressionError(
            f"{quantity!r} names unknown parameter{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(u) for u in sorted(unknown))} (known: {', '.join(sorted(known)) or 'none'})")
