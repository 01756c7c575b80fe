"""Scenarios: parameter values from sliders, URLs and the CLI, checked against the pattern."""

from __future__ import annotations

import math
from collections.abc import Mapping

from explorer.errors import ScenarioError
from explorer.model.loader import ResolvedPattern
from explorer.units import fmt

MODES: tuple[str, ...] = ("provisioned", "autosize")


def parse_number(text: str) -> float:
    """Parse ``20000``, ``2e4``, ``20k``, ``1.5M``, ``10B`` (k, M, B/G, T suffixes).

    Examples
    --------
    >>> parse_number("1.5M"), parse_number("20k"), parse_number("2e3")
    (1500000.0, 20000.0, 2000.0)
    """
    s = str(text).strip().replace(",", "").replace("_", "")
    mult = 1.0
    suffixes = {"k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "b": 1e9, "B": 1e9, "G": 1e9, "g": 1e9, "T": 1e12, "t": 1e12}
    if s and s[-1] in suffixes:
        mult = suffixes[s[-1]]
        s = s[:-1]
    try:
        value = float(s) * mult
    except ValueError:
        raise ScenarioError(f"{text!r} is not a number (examples: 20000, 2e4, 20k, 1.5M)") from None
    if not math.isfinite(value):
        raise ScenarioError(f"{text!r} is not a finite number")
    return value


def check_values(rp: ResolvedPattern, values: Mapping[str, float] | None) -> dict[str, float]:
    """Defaults updated with ``values``; raises ScenarioError on unknown names, out-of-range values and
    fractions given to an integer parameter (never rounded silently)."""
    params = {q.name: q for q in rp.pattern.parameters}
    out = rp.defaults()
    for name, value in (values or {}).items():
        if name not in params:
            known = ", ".join(params) or "none"
            raise ScenarioError(f"{rp.id} has no parameter {name!r} (known: {known})")
        q = params[name]
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ScenarioError(f"{name}={value!r} is not a number") from None
        if not math.isfinite(v) or not q.min <= v <= q.max:
            raise ScenarioError(f"{name}={value!r} is outside its range {fmt(q.min)} to {fmt(q.max)}"
                                + (f" {q.unit}" if q.unit else ""))
        if q.integer and v != math.floor(v):
            raise ScenarioError(f"{name}={value!r} is not a whole number; {name} takes whole numbers "
                                f"from {fmt(q.min)} to {fmt(q.max)}")
        out[name] = round(v) if q.integer else v
    return out


def from_query(rp: ResolvedPattern, query: Mapping[str, str]) -> tuple[dict[str, float], list[str]]:
    """Lenient parse of URL query values: bad or out-of-range values fall back to defaults.

    Returns the values and one notice per value that was not used.
    """
    params = {q.name: q for q in rp.pattern.parameters}
    values = rp.defaults()
    notices: list[str] = []
    for name, raw in query.items():
        if name not in params:
            continue
        q = params[name]
        try:
            v = parse_number(raw)
        except ScenarioError as exc:
            notices.append(f"{name}: {exc}; using the default {fmt(q.default)}.")
            continue
        if not q.min <= v <= q.max:
            notices.append(f"{name}={raw} is outside {fmt(q.min)} to {fmt(q.max)}; using the default {fmt(q.default)}.")
            continue
        if q.integer and v != math.floor(v):
            notices.append(f"{name}={raw} is not a whole number; using the default {fmt(q.default)}.")
            continue
        values[name] = round(v) if q.integer else v
    return values, notices


def parse_sets(rp: ResolvedPattern, pairs: list[str]) -> dict[str, float]:
    """``["peak_qps=20k", "candidates=800"]`` → checked values (CLI ``--set``)."""
    raw: dict[str, float] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            raise ScenarioError(f"--set takes NAME=VALUE, got {pair!r}")
        raw[name.strip()] = parse_number(text)
    return check_values(rp, raw)
