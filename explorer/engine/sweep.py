"""Scaling curves: the analysis repeated over one parameter's declared range.

:func:`sweep` analyses the pattern at ~24 log-spaced values of a parameter
(usually peak QPS) with every other value fixed, and finds the saturation
knee: the first value at which a component saturates, refined by bisection
between the last healthy and the first saturated point.

Examples
--------
>>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
>>> rp = load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml")
>>> s = sweep(rp, rp.defaults(), "provisioned", "peak_qps", points=8)
>>> len(s.points), s.points[0].x, s.points[-1].x
(8, 100.0, 2000000.0)
>>> s.knee_x is not None and s.points[0].x < s.knee_x <= s.points[-1].x
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from explorer.engine.analysis import analyse
from explorer.errors import ExplorerError
from explorer.model.loader import ResolvedPattern
from explorer.model.pattern import Parameter
from explorer.units import log_space

DEFAULT_POINTS = 24
KNEE_STEPS = 12
"""Bisection steps for the knee (the bracket shrinks to (hi/lo)^(1/4096) on a log scale)."""


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """The headline numbers at one value of the swept parameter."""

    x: float
    p99_ms: float | None
    """End-to-end p99 (None when saturated or when the pattern has no request path)."""
    mean_ms: float | None
    target_ms: float | None
    cost_usd_month: float
    saturated: bool
    """True when any component is saturated."""
    saturated_components: tuple[str, ...]
    max_utilization: float
    meets_target: bool | None
    error: str | None = None
    """Why the analysis failed at this value (the point is then left out of the curves)."""


@dataclass(frozen=True, slots=True)
class Sweep:
    """A parameter swept over its range, with the saturation knee."""

    param: str
    label: str
    unit: str
    scale: str
    mode: str
    points: tuple[SweepPoint, ...]
    knee_x: float | None
    """First value at which a component saturates (None if nothing saturates over the range)."""
    knee_components: tuple[str, ...] = ()
    """Components saturated at the knee."""
    fixed: dict[str, float] = field(default_factory=dict)
    """The other parameter values held fixed."""


def traffic_parameter(rp: ResolvedPattern) -> str | None:
    """The parameter the scaling curves sweep: the first with role ``traffic``, else the first log-scale one.

    Examples
    --------
    >>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
    >>> traffic_parameter(load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml"))
    'peak_qps'
    """
    params = rp.pattern.parameters
    for q in params:
        if q.role == "traffic":
            return q.name
    for q in params:
        if q.scale == "log":
            return q.name
    return params[0].name if params else None


def sweep_values(q: Parameter, points: int = DEFAULT_POINTS) -> list[float]:
    """``points`` values over the parameter's range: log-spaced for log parameters, else evenly spaced."""
    if q.max <= q.min:
        return [q.min]
    if q.scale == "log" and q.min > 0:
        xs = log_space(q.min, q.max, points)
    else:
        xs = [q.min + (q.max - q.min) * i / (points - 1) for i in range(points)]
    xs = [min(q.max, max(q.min, x)) for x in xs]
    if q.integer:
        xs = sorted({float(round(x)) for x in xs})
    return xs


def _point(rp: ResolvedPattern, values: Mapping[str, float], mode: str, param: str, x: float) -> SweepPoint:
    try:
        r = analyse(rp, {**values, param: x}, mode)
    except ExplorerError as exc:
        return SweepPoint(x, None, None, None, math.nan, False, (), math.nan, None, error=str(exc))
    sat = tuple(c.id for c in r.components.values() if c.saturated)
    utils = [c.utilization for c in r.components.values() if c.status not in ("external", "idle")]
    e = r.end_to_end
    return SweepPoint(
        x=x,
        p99_ms=None if e is None or e.saturated else e.p99_ms,
        mean_ms=None if e is None or e.saturated else e.mean_ms,
        target_ms=None if e is None else e.target_ms,
        cost_usd_month=r.totals.cost_usd_month,
        saturated=bool(sat),
        saturated_components=sat,
        max_utilization=max(utils, default=0.0),
        meets_target=None if e is None else e.meets_target,
    )


def sweep(rp: ResolvedPattern, values: Mapping[str, float] | None, mode: str, param: str,
          points: int = DEFAULT_POINTS) -> Sweep:
    """Analyse the pattern at ``points`` values of ``param`` over its declared range.

    Parameters
    ----------
    rp : ResolvedPattern
    values : mapping
        The other parameters (the swept one is overwritten at each point).
    mode : {"provisioned", "autosize"}
    param : str
        Parameter name; :func:`traffic_parameter` picks the usual one.
    points : int
        Number of values (about 24 reads as a smooth curve).

    Raises
    ------
    ExplorerError
        If ``param`` is not a parameter of the pattern.
    """
    params = {q.name: q for q in rp.pattern.parameters}
    if param not in params:
        raise ExplorerError(f"{rp.id} has no parameter {param!r} (known: {', '.join(params) or 'none'})")
    q = params[param]
    fixed = {k: v for k, v in (values or {}).items() if k != param and k in params}
    pts = [_point(rp, fixed, mode, param, x) for x in sweep_values(q, points)]

    knee_x, knee_comps = None, ()
    ok = [p for p in pts if p.error is None]
    for prev, cur in zip([None, *ok[:-1]], ok, strict=True):
        if not cur.saturated:
            continue
        if prev is None or prev.saturated:
            knee_x, knee_comps = cur.x, cur.saturated_components
        else:
            knee_x, knee_comps = _bisect(rp, fixed, mode, q, prev.x, cur)
        break
    return Sweep(param, q.label, q.unit, q.scale, mode, tuple(pts), knee_x, knee_comps, fixed)


def _bisect(rp: ResolvedPattern, fixed: Mapping[str, float], mode: str, q: Parameter, lo: float,
            hi_point: SweepPoint) -> tuple[float, tuple[str, ...]]:
    """Smallest value in (lo, hi] at which something saturates (to a fine relative precision)."""
    hi, comps = hi_point.x, hi_point.saturated_components
    for _ in range(KNEE_STEPS):
        mid = math.sqrt(lo * hi) if q.scale == "log" and lo > 0 else (lo + hi) / 2
        if q.integer:
            mid = float(round(mid))
            if mid <= lo or mid >= hi:
                break
        p = _point(rp, fixed, mode, q.name, mid)
        if p.error is None and p.saturated:
            hi, comps = mid, p.saturated_components
        else:
            lo = mid
    return hi, comps
