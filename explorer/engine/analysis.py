"""Capacity analysis: traffic → sizing → latency → cost → bottlenecks.

Pure functions over a resolved pattern and a scenario; every figure carries
its trace (:class:`explorer.engine.report.Figure`). Saturation is a state, not an
error: saturated stations report utilisation but no latency. Each pass is a
function from the previous passes' frozen results to its own:

* :mod:`~explorer.engine.traffic` — quantities evaluated, calls and items pushed over sync/async/batch edges,
  streams, batch-job duty;
* :mod:`~explorer.engine.sizing` — data → shards, replicas recommended and used, station figures
  (after :func:`~explorer.engine.latency.budgets` gave each request-path stage its share of the target);
* :mod:`~explorer.engine.latency` — end-to-end composition and the critical path;
* :mod:`~explorer.engine.cost` — memory, storage, network, cost, the component reports and the totals;
* :mod:`~explorer.engine.bottlenecks` — batch jobs, ranked problems with advice, warnings;
* :mod:`~explorer.engine.mlpass` — the ML blocks' figures (``Report.ml``), the staleness curve, and their
  monthly costs added to the totals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

import networkx as nx

from explorer.engine.bottlenecks import batch_jobs, bottlenecks, warnings
from explorer.engine.constants import (
    DEFAULT_UTILIZATION,
    HOURS_PER_MONTH,
    LATTICE_POINTS,
    USABLE_MEMORY_FRACTION,
    Deadline,
)
from explorer.engine.cost import cost, totals
from explorer.engine.families import family_sections, with_family_notes
from explorer.engine.latency import budgets, latency
from explorer.engine.mlpass import ml_pass, with_ml_costs
from explorer.engine.report import EdgeReport, Report, gc_paused
from explorer.engine.sizing import settle, sizing
from explorer.engine.traffic import Traffic, traffic
from explorer.errors import ScenarioError
from explorer.model.choice import chosen
from explorer.model.graph import request_path
from explorer.model.loader import ResolvedPattern
from explorer.model.scenario import MODES, check_values

__all__ = ["analyse", "HOURS_PER_MONTH", "USABLE_MEMORY_FRACTION", "DEFAULT_UTILIZATION", "LATTICE_POINTS"]


def analyse(rp: ResolvedPattern, values: Mapping[str, float] | None = None,
            mode: str = "provisioned", *, deadline_s: float | None = None,
            replicas: Mapping[str, int] | None = None) -> Report:
    """Analyse a pattern at a scenario.

    Parameters
    ----------
    rp : ResolvedPattern
        From :func:`explorer.model.loader.load_pattern`.
    values : mapping, optional
        Parameter values; missing ones take their defaults. Out-of-range values raise ScenarioError.
    mode : {"provisioned", "autosize"}
        Use the pattern's replicas, or the fewest that meet the targets.
    deadline_s : float, optional
        Stop with :class:`~explorer.errors.AnalysisTooLarge` once this many seconds have passed (checked
        between components and inside the end-to-end composition). None: no limit.
    replicas : mapping, optional
        Provisioned replicas per shard for some components (component id → count ≥ 1), in place of the
        pattern's: "auto-size this component" sets one to its recommended count. Auto-size ignores them.

    Examples
    --------
    >>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
    >>> rp = load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml")
    >>> r = analyse(rp, {"peak_qps": 20000})
    >>> r.end_to_end.meets_target
    True
    """
    if mode not in MODES:
        raise ScenarioError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    deadline = Deadline.after(deadline_s, components=len(rp.pattern.components))
    with gc_paused():
        return _analyse(rp, check_values(rp, values), mode, deadline, check_replicas(rp, replicas or {}))


def analyse_adjusted(rp: ResolvedPattern, vals: Mapping[str, float], mode: str,
                     adjust: Callable[[Traffic], Traffic], *, deadline_s: float | None = None,
                     replicas: Mapping[str, int] | None = None) -> Report:
    """Analyse with values already checked (not range-checked again: a what-if may set a hit rate to 0),
    passing the traffic pass's result through ``adjust`` before sizing (a what-if's slower stages or lost
    replicas, see :mod:`explorer.engine.failures`); ``replicas`` as for :func:`analyse`."""
    if mode not in MODES:
        raise ScenarioError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    deadline = Deadline.after(deadline_s, components=len(rp.pattern.components))
    with gc_paused():
        return _analyse(rp, dict(vals), mode, deadline, check_replicas(rp, replicas or {}), adjust)


def check_replicas(rp: ResolvedPattern, replicas: Mapping[str, int]) -> dict[str, int]:
    """Replica overrides checked against the pattern: known, non-client components and whole counts ≥ 1."""
    known = [c.id for c in rp.pattern.components if rp.types[c.id].category != "client"]
    out = {}
    for cid, n in replicas.items():
        if cid not in known:
            raise ScenarioError(f"replicas for {cid!r}: {rp.id} has no such server component (known: "
                                f"{', '.join(known)})")
        if isinstance(n, bool) or not float(n).is_integer() or int(n) < 1:
            raise ScenarioError(f"replicas for {cid!r} must be a whole number of at least 1 (got {n!r})")
        out[cid] = int(n)
    return out


def _with_replicas(tr: Traffic, replicas: Mapping[str, int]) -> Traffic:
    """The traffic pass's specs with the scenario's replica counts in place of the pattern's."""
    if not replicas:
        return tr
    specs = dict(tr.specs)
    for cid, n in replicas.items():
        specs[cid] = replace(specs[cid], replicas=n, sources={**specs[cid].sources, "replicas": "set in the scenario"})
    return replace(tr, specs=specs)


def _analyse(rp: ResolvedPattern, vals: dict[str, float], mode: str, deadline: Deadline,
             replicas: Mapping[str, int], adjust: Callable[[Traffic], Traffic] | None = None) -> Report:
    p = rp.pattern
    tr = _with_replicas(traffic(rp, vals), replicas)
    if adjust is not None:
        tr = adjust(tr)
    rpath = request_path(rp.graph, p.request.entry) if p.request is not None else nx.DiGraph()
    budget_of = budgets(rp, rpath, tr) if p.request is not None else {}
    sized = sizing(rp, tr, budget_of, rpath, mode, deadline)
    lat = latency(rp, rpath, sized, tr, budget_of, deadline) if p.request is not None else None
    if lat is not None:
        sized = settle(sized, lat.end_to_end.meets_target)
    deadline.check()
    comps = cost(rp, tr, sized)
    critical = lat.critical_edges if lat is not None else frozenset()
    edges = [EdgeReport(index=i, source=cn.source, target=cn.target, kind=cn.kind, calls_per_s=tr.edge_rate[i],
                        calls_per_upstream=tr.edge_calls[i], items_per_call=tr.edge_items[i], label=cn.label or "",
                        on_critical_path=i in critical)
             for i, cn in enumerate(p.connections)]
    e2e = lat.end_to_end if lat is not None else None
    u_target = tr.request.target_utilization
    ml = ml_pass(rp, tr, comps, vals)
    problems = bottlenecks(comps, e2e, u_target)
    jobs = batch_jobs(rp, comps, tr)
    notes = warnings(rp, comps, tr, rpath) + list(ml.warnings)
    comps, sections, e2e, total = with_family_notes(rp, comps, list(ml.sections) + family_sections(rp, tr), e2e,
                                                    with_ml_costs(totals(comps), ml.costs_usd_month))
    return Report(pattern_id=p.id, title=p.title, mode=mode, values=vals, units={q.name: q.unit for q in p.parameters},
                  target_utilization=u_target, components=comps, edges=edges, end_to_end=e2e,
                  batch_jobs=jobs, bottlenecks=problems, totals=total, warnings=notes, ml=sections,
                  staleness_curve=list(ml.staleness_curve) if ml.staleness_curve is not None else None,
                  models=chosen(rp))
