"""Shared pieces of the ML calculators: input checks, traced figures, calendar constants.

Every calculator in :mod:`explorer.engine.ml` checks its inputs with the
functions below (a bad value raises :class:`~explorer.errors.ScenarioError` with
a sentence naming the argument and the valid range) and reports its numbers as
:class:`~explorer.engine.report.Figure` values built by :func:`figure`, which
refuses a non-finite result: a calculator never returns NaN or infinity.

Examples
--------
>>> positive("gpus", 4)
4.0
>>> positive("gpus", 0)
Traceback (most recent call last):
...
explorer.errors.ScenarioError: gpus must be a number above 0, got 0.
>>> fraction("target_utilization", 1.5)
Traceback (most recent call last):
...
explorer.errors.ScenarioError: target_utilization must be a fraction above 0 and at most 1, got 1.5.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from numbers import Real

from explorer.engine.report import Figure, Input
from explorer.errors import ScenarioError

__all__ = [
    "HOURS_PER_MONTH",
    "DAYS_PER_MONTH",
    "SECONDS_PER_DAY",
    "positive",
    "non_negative",
    "fraction",
    "at_least",
    "whole",
    "choice",
    "figure",
    "inp",
]

SECONDS_PER_DAY = 86_400
"""Seconds in a day (24 × 3,600)."""

HOURS_PER_MONTH = 730.0
"""Hours in a billing month: the convention of AWS on-demand pricing (8,760 h a year ÷ 12)."""

DAYS_PER_MONTH = HOURS_PER_MONTH / 24.0
"""Days in a billing month (730 h ÷ 24 ≈ 30.4 days), consistent with :data:`HOURS_PER_MONTH`."""


def _number(name: str, value: object) -> float:
    """``value`` as a finite float, or a :class:`ScenarioError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ScenarioError(f"{name} must be a number, got {value!r}.")
    x = float(value)
    if not math.isfinite(x):
        raise ScenarioError(f"{name} must be a finite number, got {value!r}.")
    return x


def positive(name: str, value: object) -> float:
    """``value`` if it is a finite number above 0."""
    x = _number(name, value)
    if x <= 0:
        raise ScenarioError(f"{name} must be a number above 0, got {value!r}.")
    return x


def non_negative(name: str, value: object) -> float:
    """``value`` if it is a finite number at or above 0."""
    x = _number(name, value)
    if x < 0:
        raise ScenarioError(f"{name} must be a number at or above 0, got {value!r}.")
    return x


def fraction(name: str, value: object) -> float:
    """``value`` if it is in (0, 1]."""
    x = _number(name, value)
    if not 0 < x <= 1:
        raise ScenarioError(f"{name} must be a fraction above 0 and at most 1, got {value!r}.")
    return x


def at_least(name: str, value: object, low: float) -> float:
    """``value`` if it is a finite number at or above ``low``."""
    x = _number(name, value)
    if x < low:
        raise ScenarioError(f"{name} must be a number at or above {low:g}, got {value!r}.")
    return x


def whole(name: str, value: object, low: int = 1) -> int:
    """``value`` as an int if it is a whole number at or above ``low``."""
    x = _number(name, value)
    if x != math.floor(x) or x < low:
        raise ScenarioError(f"{name} must be a whole number at or above {low}, got {value!r}.")
    return int(x)


def choice(name: str, value: object, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ScenarioError(f"{name} must be one of {', '.join(choices)}, got {value!r}.")
    return str(value)


def inp(name: str, value: float | int | str | bool, unit: str = "") -> Input:
    """One formula input, built by keyword."""
    return Input(name=name, value=value, unit=unit)


def figure(*, key: str, label: str, value: float | int | bool | str, unit: str, formula: str,
           inputs: Iterable[Input], note: str = "") -> Figure:
    """A traced :class:`Figure`; a non-finite numeric result raises :class:`ScenarioError`.

    Examples
    --------
    >>> figure(key="x", label="X", value=2.0, unit="GB", formula="x = a·b",
    ...        inputs=(inp("a", 1.0, "GB"), inp("b", 2))).explain()
    'X = 2 GB — x = a·b with a = 1 GB, b = 2'
    >>> figure(key="x", label="X", value=float("inf"), unit="", formula="x = a·b", inputs=())
    Traceback (most recent call last):
    ...
    explorer.errors.ScenarioError: X is not finite (inf): the inputs are too large to compute x = a·b.
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise ScenarioError(f"{label} is not finite ({value}): the inputs are too large to compute {formula}.")
    return Figure(key=key, label=label, value=value, unit=unit, formula=formula, inputs=tuple(inputs), note=note)
