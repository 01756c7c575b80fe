"""Readable numbers for sliders, diagram labels and charts: ``1k``, ``10k``, ``1.5M``, ``10B``.

Pure functions, no UI. :func:`compact` shortens a number, :func:`format_quantity`
adds a unit, :func:`log_options` gives the "nice" values a log-scale slider
steps through (1, 1.5, 2, 3, 5, 7 × 10ⁿ, plus the range ends and the default).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))
NICE_MANTISSAS = (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)
"""Steps inside a decade for log-scale sliders (about six per decade: small moves stay readable)."""


def _trim(x: float, digits: int) -> str:
    """``x`` with at most ``digits`` significant digits and no trailing zeros."""
    if x == 0:
        return "0"
    if abs(x) >= 10 ** digits * (1 - 0.5 * 10 ** -digits):  # 999.96 at 3 digits: "1000", never "1e3"
        return f"{x:.0f}"
    if abs(x) < 0.001:
        return _plain_small(x)
    text = f"{x:.{digits}g}"
    if "e" in text:  # tiny numbers: keep scientific notation but tidy
        mant, _, exp = text.partition("e")
        return f"{mant}e{int(exp)}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def compact(value: float | int | None, digits: int = 3) -> str:
    """A short, stable rendering of a number.

    Examples
    --------
    >>> [compact(v) for v in (0, 0.05, 0.6, 12.5, 999, 1000, 1500, 20000, 999_999, 1.5e6, 1e10, 2.5e12)]
    ['0', '0.05', '0.6', '12.5', '999', '1k', '1.5k', '20k', '1M', '1.5M', '10B', '2.5T']
    >>> compact(None), compact(float("inf")), compact(-2500), compact(2.31e-5)
    ('–', '∞', '-2.5k', '0.0000231')
    """
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    x = float(value)
    if math.isnan(x):
        return "–"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    sign = "-" if x < 0 else ""
    a = abs(x)
    for i, (size, suffix) in enumerate(_SUFFIXES):
        if a >= size * (1 - 0.5 * 10 ** -digits):
            mant = float(f"{a / size:.{digits}g}")
            if mant >= 1000 and i > 0:  # 999.9k rounds to 1000k → 1M
                size, suffix = _SUFFIXES[i - 1]
                mant = float(f"{a / size:.{digits}g}")
            return sign + _trim(mant, digits) + suffix
    if a >= 100:
        return sign + str(int(round(a)))
    if a < 0.001:  # no exponent: 0.0000231 reads better than 2.31e-5 next to other numbers
        return sign + _plain_small(a)
    return sign + _trim(a, digits)


def format_quantity(value: float | int | None, unit: str = "") -> str:
    """A number with its unit, shortened for a slider or a label.

    Examples
    --------
    >>> format_quantity(1000), format_quantity(10_000), format_quantity(1e6), format_quantity(1e10)
    ('1k', '10k', '1M', '10B')
    >>> format_quantity(20000, "req/s"), format_quantity(200, "ms"), format_quantity(0.6, "")
    ('20k req/s', '200 ms', '0.6')
    """
    text = compact(value)
    unit = (unit or "").strip()
    return f"{text} {unit}" if unit and value is not None else text


RATE_UNITS = ((1.0, "s"), (1 / 60, "min"), (1 / 3600, "h"), (1 / 86400, "day"))
"""Time units a rate is shown in, largest first: the first whose count is at least 1 is used."""


def format_rate(per_s: float | None, what: str = "") -> str:
    """A rate per second in the unit that gives a readable count: ``/s``, ``/min``, ``/h`` or ``/day``.

    ``what`` names the thing counted (``calls``, ``items``) and goes before the unit. A rate below one a
    day stays per day with two digits (``0.086/day``); below 0.01 a day it reads ``< 0.01/day``.

    Examples
    --------
    >>> format_rate(20000), format_rate(0.5), format_rate(0.0002), format_rate(0)
    ('20k/s', '30/min', '17.3/day', '0/s')
    >>> format_rate(2.31e-5), format_rate(1e-6), format_rate(1e-9), format_rate(3.5, "calls")
    ('2/day', '0.086/day', '< 0.01/day', '3.5 calls/s')
    >>> format_rate(None), format_rate(float("nan")), format_rate(float("inf"))
    ('–', '–', '∞/s')
    """
    if per_s is None or (isinstance(per_s, float) and math.isnan(per_s)):
        return "–"
    sep = f" {what}/" if what else "/"
    if math.isinf(per_s):
        return f"∞{sep}s"
    if per_s == 0:
        return f"0{sep}s"
    for size, unit in RATE_UNITS:
        count = per_s / size
        if abs(count) >= 1 or unit == "day":
            if abs(count) < 0.01:
                return f"< 0.01{sep}{unit}"
            return f"{compact(count, 3 if abs(count) >= 1 else 2)}{sep}{unit}"
    raise AssertionError("unreachable: the last unit always answers")


def format_ms(ms: float | None) -> str:
    """Milliseconds, readable: ``0.42 ms``, ``35 ms``, ``1.2 s``; None → ``saturated``.

    Examples
    --------
    >>> format_ms(0.42), format_ms(35.04), format_ms(1234), format_ms(None)
    ('0.42 ms', '35 ms', '1.23 s', 'saturated')
    """
    if ms is None:
        return "saturated"
    if not math.isfinite(ms):
        return "∞"
    if abs(ms) >= 1000:
        return f"{_trim(ms / 1000, 3)} s"
    if abs(ms) >= 10:
        return f"{ms:.0f} ms"
    return f"{_trim(ms, 2)} ms"


def format_usd(usd: float | None) -> str:
    """Money per month, compact: ``$1.2k``, ``$36M``.

    Examples
    --------
    >>> format_usd(1234.5), format_usd(36_000_000), format_usd(12)
    ('$1.23k', '$36M', '$12')
    """
    if usd is None:
        return "–"
    return ("-$" if usd < 0 else "$") + compact(abs(usd))


def format_gb(gb: float | None) -> str:
    """Memory or storage: ``512 GB``, ``1.5 TB``, ``3.2 PB``.

    Examples
    --------
    >>> format_gb(512), format_gb(1536), format_gb(3.2e6), format_gb(0.25), format_gb(999_999_000)
    ('512 GB', '1.54 TB', '3.2 PB', '0.25 GB', '1000 PB')
    """
    if gb is None:
        return "–"
    for size, unit in ((1e9, "EB"), (1e6, "PB"), (1e3, "TB")):
        if abs(gb) >= size:
            return f"{_trim(gb / size, 3)} {unit}"
    return f"{_trim(gb, 3) if gb < 100 else int(round(gb))} GB"


def format_percent(fraction: float | None) -> str:
    """``0.726`` → ``73%``; above 10× → ``>999%``.

    Examples
    --------
    >>> format_percent(0.726), format_percent(1.3), format_percent(None)
    ('73%', '130%', '–')
    """
    if fraction is None or not math.isfinite(fraction):
        return "–"
    if fraction > 9.99:
        return ">999%"
    return f"{fraction * 100:.0f}%"


def log_options(lo: float, hi: float, extra: Iterable[float] = (), *, integer: bool = False,
                mantissas: tuple[float, ...] = NICE_MANTISSAS) -> list[float]:
    """Nice log-spaced values from ``lo`` to ``hi`` (both included), plus ``extra`` values in range.

    Examples
    --------
    >>> log_options(20, 1000)
    [20.0, 30.0, 50.0, 70.0, 100.0, 150.0, 200.0, 300.0, 500.0, 700.0, 1000.0]
    >>> log_options(1, 10, integer=True)
    [1, 2, 3, 5, 7, 10]
    >>> log_options(100, 1000, extra=[333])
    [100.0, 150.0, 200.0, 300.0, 333.0, 500.0, 700.0, 1000.0]
    """
    if not (lo > 0 and hi >= lo and math.isfinite(hi)):
        raise ValueError(f"log_options needs 0 < lo <= hi (got {lo!r}, {hi!r})")
    values = {lo, hi}
    for exp in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in mantissas:
            v = float(f"{m * 10.0 ** exp:.12g}")
            if lo <= v <= hi:
                values.add(v)
    values.update(float(v) for v in extra if v is not None and lo <= v <= hi)
    if integer:
        return sorted({int(round(v)) for v in values})
    return sorted(float(v) for v in values)


def linear_step(lo: float, hi: float, integer: bool = False) -> float | int:
    """A slider step of about 1/100 of the range, rounded to 1, 2 or 5 × 10ⁿ (1 for small integer ranges).

    Examples
    --------
    >>> linear_step(0.3, 0.9), linear_step(0, 1), linear_step(5, 100, integer=True), linear_step(0, 10000, True)
    (0.01, 0.01, 1, 100)
    """
    span = hi - lo
    if span <= 0:
        return 1 if integer else 0.01
    raw = span / 100
    exp = math.floor(math.log10(raw))
    step = 10.0 ** exp
    for m in (1, 2, 5, 10):
        if m * 10.0 ** exp >= raw * 0.999:
            step = m * 10.0 ** exp
            break
    step = float(f"{step:.12g}")
    if integer:
        return max(1, int(round(step)))
    return step


def log_space(lo: float, hi: float, points: int) -> list[float]:
    """``points`` values evenly spaced on a log scale from ``lo`` to ``hi`` (both included).

    Examples
    --------
    >>> log_space(100, 10000, 3)
    [100.0, 1000.0, 10000.0]
    """
    if points < 2 or hi <= lo:
        return [float(lo)]
    a, b = math.log10(lo), math.log10(hi)
    return [float(f"{10 ** (a + (b - a) * i / (points - 1)):.12g}") for i in range(points)]


def fmt(value: Any) -> str:
    """Compact, stable number formatting for traces and labels; a missing value reads ``none``, never ``None``.

    Examples
    --------
    >>> fmt(1234.5), fmt(0.5), fmt(2.31e-05), fmt(None), fmt(True)
    ('1,234', '0.5', '0.0000231', 'none', 'True')
    """
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
        return _plain_small(value)
    return str(value)


def _plain_small(value: float) -> str:
    """A number below 1 with three significant digits and no exponent (``0.0000231``); below 10⁻⁹ → ``≈0``.

    Examples
    --------
    >>> _plain_small(2.31e-05), _plain_small(0.5), _plain_small(-0.000123456), _plain_small(1e-12)
    ('0.0000231', '0.5', '-0.000123', '≈0')
    """
    if value == 0:
        return "0"
    if abs(value) < 1e-9:
        return "≈0"
    decimals = 2 - math.floor(math.log10(abs(value)))
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".")


def number_text(value: float, integer: bool = False) -> str:
    """A number as exact, short text for a URL, a ``--set`` option or a file name.

    Whole numbers have no decimal point; other numbers are written so that reading
    the text back gives the same float (``repr``). The one number→text rule for
    links, CLI commands and file names.

    Examples
    --------
    >>> number_text(20000.0, True), number_text(0.6), number_text(1e10, True), number_text(0.1 + 0.2)
    ('20000', '0.6', '10000000000', '0.30000000000000004')
    >>> number_text(2.5e20)
    '2.5e+20'
    """
    value = float(value)
    if integer or (value.is_integer() and abs(value) < 1e15):
        return str(int(round(value)))
    return repr(value)
