"""Availability of the request path, composed from each component's, with replicas, zones and fallbacks.

Each request-path component has an availability from its catalog type (a provider's published SLA or a
stated assumption): ``single`` for one replica or one zone, ``multi_zone`` for replicas spread over two or
more zones. Its replicas count as ``u = min(replicas, zones)`` independent units in parallel,
``1 − (1 − a_single)^u``, never above the multi-zone figure, which covers what fails together (the region,
the control plane, a bad deploy). A fallback adds a route in parallel: ``1 − (1 − A)(1 − A_to)``, or 1 when
the caller answers by itself (default values). A request touches a component with probability ``r`` (its
reach: 1 on the main path, the miss rate behind a cache), so the components compose in series as
``Π (1 − r·(1 − A_eff))``, failures assumed independent. The success rate is shown in nines,
``−log10(1 − S)``, beside the p99.

A component on the request path with one replica or one zone and no fallback is a single point of failure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass

import networkx as nx

from explorer.engine.constants import HOURS_PER_MONTH
from explorer.engine.report import Figure, Input, Report
from explorer.model.graph import request_path
from explorer.model.loader import ResolvedPattern
from explorer.model.pattern import Fallback
from explorer.units import fmt


@dataclass(frozen=True, slots=True)
class ComponentAvailability:
    """One request-path component's availability, alone and with its fallback."""

    component: str
    availability: float
    """A: share of time it answers (replicas and zones counted)."""
    effective: float
    """A with its fallback route in parallel (A when it has none)."""
    reach: float
    """Share of requests that call it."""
    replicas: int
    zones: int
    units: int
    """min(replicas, zones): replicas that fail independently."""
    fallback: str
    """``to <id>``, ``answered by the caller`` or ``none``."""
    spof: bool
    spof_reason: str = ""
    figures: dict[str, Figure] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PathAvailability:
    """The request path's success rate and its single points of failure."""

    success: float
    """Share of requests answered (fallbacks count as answered)."""
    nines: float | None
    """−log10(1 − success); None when nothing on the path can fail."""
    full_quality: float
    """Share answered by the normal route (no fallback taken)."""
    downtime_min_month: float
    """(1 − success) × minutes in a month."""
    components: dict[str, ComponentAvailability]
    spofs: list[str]
    figures: dict[str, Figure] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready dict (floats finite, rounded to 9 significant places)."""
        return plain(self)


def plain(obj: object) -> object:
    """A JSON value of nested frozen dataclasses, dicts, lists and numbers (non-finite floats → None)."""
    if isinstance(obj, float):
        return float(f"{obj:.9g}") if math.isfinite(obj) else None
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, frozenset, set)):
        return [plain(v) for v in (sorted(obj) if isinstance(obj, (set, frozenset)) else obj)]
    return str(obj)


def nines(success: float) -> float | None:
    """−log10(1 − success): 0.999 → 3.0; None for 1.

    Examples
    --------
    >>> round(nines(0.999), 6), nines(1.0)
    (3.0, None)
    """
    if success >= 1.0:
        return None
    return -math.log10(1.0 - success)


def component_availability(single: float, multi_zone: float, units: int) -> float:
    """``u`` independent replicas in parallel, capped by the multi-zone figure.

    Examples
    --------
    >>> component_availability(0.995, 0.9999, 1)
    0.995
    >>> component_availability(0.995, 0.9999, 3)
    0.9999
    >>> round(component_availability(0.9, 0.9999, 2), 6)
    0.99
    """
    if units <= 1:
        return single
    return min(multi_zone, 1.0 - (1.0 - single) ** units)


def reach(rp: ResolvedPattern, report: Report, calls: Mapping[int, float] | None = None) -> dict[str, float]:
    """Share of requests that call each request-path component: 1 at the entry, then
    ``r(v) = min(1, Σ r(u)·min(1, k))`` over sync calls u → v of k calls per call of u.

    ``calls`` overrides the calls per upstream call of some connections (by index), e.g. the calls a
    what-if removed.
    """
    p = rp.pattern
    if p.request is None:
        return {}
    rpath = request_path(rp.graph, p.request.entry)
    k_of = {e.index: e.calls_per_upstream for e in report.edges}
    k_of.update(calls or {})
    incoming: dict[str, list[tuple[str, float]]] = {}
    for i, cn in enumerate(p.connections):
        if cn.kind == "sync" and cn.source in rpath and cn.target in rpath:
            incoming.setdefault(cn.target, []).append((cn.source, k_of.get(i, 0.0)))
    out: dict[str, float] = {}
    for n in nx.topological_sort(rpath):
        if n == p.request.entry:
            out[n] = 1.0
            continue
        out[n] = min(1.0, sum(out.get(u, 0.0) * min(1.0, k) for u, k in incoming.get(n, [])))
    return out


def fallback_of(rp: ResolvedPattern, component: str) -> Fallback | None:
    """The pattern's fallback for ``component`` (None without one)."""
    return next((fb for fb in rp.pattern.fallbacks if fb.component == component), None)


def zones_of(rp: ResolvedPattern, component: str) -> int:
    """Zones the component's replicas span: the pattern's ``zones``, else the catalog's, else 1."""
    c = next(c for c in rp.pattern.components if c.id == component)
    if c.zones is not None:
        return c.zones
    a = rp.types[component].availability
    return a.zones if a is not None else 1


def availability(rp: ResolvedPattern, report: Report) -> PathAvailability | None:
    """The request path's availability at a report's replicas (None for patterns without a request path)."""
    p = rp.pattern
    if p.request is None:
        return None
    r_of = reach(rp, report)
    comps: dict[str, ComponentAvailability] = {}
    for n, r in r_of.items():
        t = rp.types[n]
        if t.availability is None or t.category == "client":
            continue
        comps[n] = _component(rp, report, n, r)
    for n, ca in comps.items():  # fallbacks to another component: that route in parallel
        fb = fallback_of(rp, n)
        if fb is not None and fb.to is not None and "down" in fb.when:
            a_to = comps[fb.to].availability if fb.to in comps else _alone(rp, report, fb.to)
            eff = 1.0 - (1.0 - ca.availability) * (1.0 - a_to)
            figs = dict(ca.figures)
            figs["effective"] = Figure(
                "effective", f"{n} with its fallback", eff, "", "A_eff = 1 − (1 − A)·(1 − A_to)",
                (Input("A", ca.availability), Input(f"A_to ({fb.to})", a_to)),
                note=f"fallback: {fb.quality}")
            comps[n] = _with(ca, effective=eff, figures=figs)
    success = math.prod(1.0 - c.reach * (1.0 - c.effective) for c in comps.values())
    full = math.prod(1.0 - c.reach * (1.0 - c.availability) for c in comps.values())
    minutes = HOURS_PER_MONTH * 60.0
    spofs = [n for n, c in comps.items() if c.spof]
    terms = tuple(Input(f"{n} (r = {fmt(c.reach)})", c.effective) for n, c in comps.items())
    F = {
        "success": Figure("success", "Requests answered", success, "",
                          "S = Π (1 − r·(1 − A_eff)) over the request path (independent failures)", terms),
        "nines": Figure("nines", "Success rate in nines", nines(success), "nines", "−log10(1 − S)",
                        (Input("S", success),)),
        "full_quality": Figure("full_quality", "Answered by the normal route", full, "",
                               "Π (1 − r·(1 − A)) without fallbacks",
                               tuple(Input(n, c.availability) for n, c in comps.items())),
        "downtime_min_month": Figure("downtime_min_month", "Expected failed minutes per month",
                                     (1.0 - success) * minutes, "min", "(1 − S) × minutes per month",
                                     (Input("S", success), Input("minutes per month", minutes, "min"))),
    }
    return PathAvailability(success=success, nines=nines(success), full_quality=full,
                            downtime_min_month=(1.0 - success) * minutes, components=comps, spofs=spofs, figures=F)


def _alone(rp: ResolvedPattern, report: Report, n: str) -> float:
    t = rp.types[n]
    if t.availability is None or n not in report.components:
        return 1.0
    return _component(rp, report, n, 1.0).availability


def _with(ca: ComponentAvailability, **changes) -> ComponentAvailability:
    values = {f.name: getattr(ca, f.name) for f in fields(ca)}
    values.update(changes)
    return ComponentAvailability(**values)


def _component(rp: ResolvedPattern, report: Report, n: str, r: float) -> ComponentAvailability:
    a = rp.types[n].availability
    c = report.components[n]
    zones = zones_of(rp, n)
    replicas = max(1, c.replicas)
    units = min(replicas, zones)
    avail = component_availability(a.single, a.multi_zone, units)
    fb = fallback_of(rp, n)
    covered = fb is not None and "down" in fb.when
    route = "none" if not covered else (f"to {fb.to}" if fb.to else "answered by the caller")
    eff = 1.0 if covered and fb.to is None else avail
    reasons = []
    if replicas == 1:
        reasons.append("one replica")
    if zones == 1:
        reasons.append("one zone")
    spof = bool(reasons) and not covered
    F = {
        "units": Figure("units", f"{n}: independent units", units, "", "u = min(replicas, zones)",
                        (Input("replicas", replicas), Input("zones", zones))),
        "availability": Figure(
            "availability", f"{n}: availability", avail, "",
            "A = a_single if u = 1, else min(a_multi_zone, 1 − (1 − a_single)^u)",
            (Input("a_single", a.single), Input("a_multi_zone", a.multi_zone), Input("u", units)),
            note=f"catalog {rp.types[n].id}: {a.source}"),
        "reach": Figure("reach", f"{n}: share of requests that call it", r, "",
                        "r = min(1, Σ r(caller)·min(1, calls per call))", ()),
    }
    if covered and fb.to is None:
        F["effective"] = Figure("effective", f"{n} with its fallback", 1.0, "",
                                "A_eff = 1: the caller answers by itself", (Input("A", avail),),
                                note=f"fallback: {fb.quality}")
    return ComponentAvailability(component=n, availability=avail, effective=eff, reach=r, replicas=replicas,
                                 zones=zones, units=units, fallback=route, spof=spof,
                                 spof_reason=" and ".join(reasons) + ", no fallback" if spof else "", figures=F)
