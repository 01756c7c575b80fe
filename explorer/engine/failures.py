"""What-if failures: knock out, slow down, lose a zone of, or cool a component, and analyse again.

A what-if is a change of the inputs, then the same passes (traffic → sizing → latency → cost):

* every component keeps the replicas the baseline runs (provisioned, or auto-size's pick: a failure is
  not hidden by sizing up);
* ``down``: calls to the component stop, batch ones too (its own callees lose that load); a fallback that covers ``down``
  sends the same calls from the same caller to its ``to`` (or the caller answers by itself);
* ``slow:K``: its service time (and per-item time) × K;
* ``zone``: it keeps ``r − ⌈r/z⌉`` of its r replicas (per shard) over z zones; none left is down;
* ``cold``: its hit-rate parameter is 0, so every lookup misses and the miss calls reach what is behind it;
* a request-path call now past its deadline (the callee's latency budget at the baseline, missed by more
  than the target percentile allows) times out with probability p; ``retries`` on the connection make
  ``1 + p + … + p^n`` calls per call (retry amplification, solved as a fixed point); the calls that still
  time out (p^(n+1)) take the callee's fallback if it covers ``timeout``, else fail.

The answer: the share of requests served normally, by fallbacks, and failed (in nines), the end-to-end
latency of what is served, the components pushed hot or saturated, and every figure traced.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import networkx as nx

from explorer.engine import queueing
from explorer.engine.analysis import analyse, analyse_adjusted
from explorer.engine.availability import fallback_of, nines, plain, reach, zones_of
from explorer.engine.report import Figure, Input, Report, Status
from explorer.engine.traffic import Traffic
from explorer.model.graph import build_graph, request_path
from explorer.model.loader import ResolvedPattern
from explorer.model.pattern import Connection
from explorer.model.scenario import check_values
from explorer.model.whatif import Failure
from explorer.units import fmt

MAX_ROUNDS = 8
"""Rounds of the retry fixed point (timeout share → extra calls → timeout share); it settles in a few."""
_RANK = {Status.OK: 0, Status.IDLE: 0, Status.EXTERNAL: 0, Status.SLOW: 1, Status.INFEASIBLE: 1, Status.HOT: 2,
         Status.SATURATED: 3}


@dataclass(frozen=True, slots=True)
class FallbackUse:
    """A fallback route taken under the what-if."""

    component: str
    to: str | None
    trigger: str
    """``down`` or ``timeout``."""
    share: float
    """Share of requests that take it."""
    quality: str


@dataclass(frozen=True, slots=True)
class Timeout:
    """A request-path call pushed past its deadline, and its retries."""

    connection: int
    source: str
    target: str
    deadline_ms: float
    p_timeout: float
    """Share of calls past the deadline (at the load the retries make)."""
    retries: int
    amplification: float
    """Calls made per original call: 1 + p + … + p^retries."""
    unanswered: float
    """Share of calls that time out on every try: p^(retries + 1)."""
    figures: dict[str, Figure] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LoadChange:
    """A component whose load or state the what-if changed."""

    component: str
    calls_per_s_before: float
    calls_per_s_after: float
    utilization_before: float
    utilization_after: float
    status_before: str
    status_after: str


@dataclass(frozen=True, slots=True)
class WhatIf:
    """The answer to a what-if: shares of requests, the failed analysis, and what it overloads."""

    failures: tuple[Failure, ...]
    report: Report
    """The analysis with the failures applied (on the pattern with its fallback routes added)."""
    served_share: float
    fallback_share: float
    failed_share: float
    success: float
    """served + fallback."""
    nines: float | None
    out: tuple[str, ...]
    """Components that answer nothing (down, or a zone loss that left no replica)."""
    fallbacks: tuple[FallbackUse, ...]
    fallback_edges: tuple[tuple[str, str, str], ...]
    """(caller, fallback target, label) of every fallback route carrying calls."""
    timeouts: tuple[Timeout, ...]
    overloaded: tuple[str, ...]
    """Components hot or saturated now that were not at the baseline."""
    load_changes: tuple[LoadChange, ...]
    p99_before_ms: float | None
    p99_ms: float | None
    """End-to-end p99 of what is served (None when saturated or nothing is served)."""
    figures: dict[str, Figure] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready dict; the failed analysis is summed up by its end-to-end figures and the load changes."""
        out = {f: plain(getattr(self, f)) for f in (
            "served_share", "fallback_share", "failed_share", "success", "nines", "out", "fallbacks",
            "fallback_edges", "timeouts", "overloaded", "load_changes", "p99_before_ms", "p99_ms", "figures")}
        out["failures"] = [f.text for f in self.failures]
        e2e = self.report.end_to_end
        out["end_to_end"] = plain(e2e) if e2e is not None else None
        return out


def what_if(rp: ResolvedPattern, values: Mapping[str, float] | None, mode: str, failures: Sequence[Failure], *,
            baseline: Report | None = None, deadline_s: float | None = None) -> WhatIf:
    """Analyse ``rp`` at a scenario with ``failures`` applied.

    Parameters
    ----------
    rp : ResolvedPattern
    values : mapping, optional
        Parameter values (checked as by :func:`~explorer.engine.analysis.analyse`).
    mode : {"provisioned", "autosize"}
        How the baseline picks replicas; the what-if keeps them.
    failures : sequence of Failure
        From :func:`explorer.model.whatif.parse_failures`.
    baseline : Report, optional
        The analysis without failures at the same values and mode, when already computed.

    Examples
    --------
    >>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
    >>> rp = load_pattern(ARCHITECTURES_DIR / "video_recommendation.yaml")
    >>> w = what_if(rp, None, "provisioned", [Failure(component="scorer")])
    >>> round(w.fallback_share, 3), round(w.failed_share, 3)
    (1.0, 0.0)
    """
    vals = check_values(rp, values)
    base = baseline if baseline is not None else analyse(rp, vals, mode, deadline_s=deadline_s)
    p = rp.pattern
    by_comp = {f.component: f for f in failures}
    run_vals = dict(vals)
    for f in failures:
        if f.kind == "cold":
            run_vals[_component(rp, f.component).hit_rate] = 0.0
    left = {f.component: _zone_left(base, rp, f.component) for f in failures if f.kind == "zone"}
    out = tuple(c.id for c in p.components if c.id in by_comp
                and (by_comp[c.id].kind == "down" or (by_comp[c.id].kind == "zone" and left[c.id] == 0)))
    entry_out = p.request is not None and p.request.entry in out

    def adjust(tr: Traffic) -> Traffic:
        specs = dict(tr.specs)
        for f in failures:
            s = specs[f.component]
            if f.kind == "slow":
                specs[f.component] = replace(s, service_ms=s.service_ms * f.factor, per_item_ms=s.per_item_ms * f.factor)
            elif f.kind == "zone" and left[f.component] > 0:
                specs[f.component] = replace(s, replicas=left[f.component],
                                             replication=min(s.replication, left[f.component]))
        return replace(tr, specs=specs)

    timeouts: dict[int, tuple[float, float, float]] = {}
    for round_ in range(MAX_ROUNDS):
        rp2, routes = _transformed(rp, base, out, entry_out, timeouts)
        rep = analyse_adjusted(rp2, run_vals, "provisioned", adjust, deadline_s=deadline_s)
        found = {} if entry_out else _timeouts(rp, base, rep, out)
        if found.keys() == timeouts.keys() and all(abs(found[i][1] - timeouts[i][1]) < 1e-4 for i in found):
            timeouts = found  # settled: the analysis ran with (almost) these retries
            break
        if round_ == MAX_ROUNDS - 1:
            break  # not settled: answer with the retries the last analysis ran with
        timeouts = found
    return _answer(rp, base, rep, failures, out, entry_out, timeouts, routes, left)


# --------------------------------------------------------------------------- the changed pattern

def _component(rp: ResolvedPattern, cid: str):
    return next(c for c in rp.pattern.components if c.id == cid)


def _zone_left(base: Report, rp: ResolvedPattern, cid: str) -> int:
    """Replicas (per shard) left after losing one of z zones: r − ⌈r/z⌉ (the largest zone's share)."""
    r = base.components[cid].replicas
    z = zones_of(rp, cid)
    return 0 if z <= 1 else r - math.ceil(r / z)


def _times(q, k: float):
    """A quantity × k (a number stays a number; an expression is wrapped)."""
    if isinstance(q, (int, float)):
        return q * k
    return f"({q}) * {k!r}"


def _step_of(p, i: int) -> int:
    """The step a sync connection runs in (its own, or its order among its caller's sync calls)."""
    cn = p.connections[i]
    if cn.step is not None:
        return cn.step
    return sum(1 for c in p.connections[:i] if c.kind == "sync" and c.source == cn.source)


def _transformed(rp: ResolvedPattern, base: Report, out: tuple[str, ...], entry_out: bool,
                 timeouts: Mapping[int, tuple[float, float, float]]) -> tuple[ResolvedPattern, list[tuple[str, str, str]]]:
    """The pattern with replicas pinned, calls to what is out stopped, retries counted and fallback routes added."""
    p = rp.pattern
    entry = p.request.entry if p.request is not None else None
    comps = [c.model_copy(update={"replicas": base.components[c.id].replicas})
             if base.components[c.id].replicas > 0 else c for c in p.components]
    conns: list[Connection] = []
    for i, cn in enumerate(p.connections):
        stop = cn.target in out or (entry_out and cn.source == entry)
        if stop:
            conns.append(cn.model_copy(update={"calls": 0}))
        elif i in timeouts:
            conns.append(cn.model_copy(update={"calls": _times(cn.calls, timeouts[i][1])}))
        else:
            conns.append(cn)
    routes: list[tuple[str, str, str]] = []

    def route(i: int, share: float, trigger: str) -> None:
        cn = p.connections[i]
        fb = fallback_of(rp, cn.target)
        if fb is None or trigger not in fb.when or fb.to is None or fb.to in out or share <= 0:
            return
        label = fb.label or f"fallback for {cn.target}"
        conns.append(Connection.model_validate({
            "from": cn.source, "to": fb.to, "kind": "sync", "step": _step_of(p, i),
            "calls": _times(cn.calls, share) if share < 1 else cn.calls, "items": fb.items, "label": label}))
        if (cn.source, fb.to, label) not in routes:
            routes.append((cn.source, fb.to, label))

    if not entry_out:
        for i, cn in enumerate(p.connections):
            if cn.kind == "sync" and cn.target in out:
                route(i, 1.0, "down")
            elif i in timeouts:
                route(i, timeouts[i][2], "timeout")
    streams = [s.model_copy(update={"rate_per_s": 0}) if s.entry in out else s for s in p.streams]
    pattern = p.model_copy(update={"components": comps, "connections": conns, "streams": streams})
    rp2 = ResolvedPattern(pattern, rp.types, rp.file, rp.doc, rp.warnings, rp.user, rp.path)
    object.__setattr__(rp2, "graph", build_graph(rp2))
    return rp2, routes


# --------------------------------------------------------------------------- timeouts and retries

def p_past(c, deadline_ms: float) -> float:
    """Share of calls to a component slower than ``deadline_ms``: its station's response survival at the
    deadline, over all shards when a call visits every shard (1 when saturated)."""
    if c.saturated:
        return 1.0
    if c.servers_per_shard <= 0 or c.calls_per_s <= 0:
        return 0.0
    st = queueing.station(c.arrival_per_shard_per_s, c.service_ms, c.servers_per_shard, service_cv=c.service_cv)
    sf = float(queueing.response_sf(st, deadline_ms))
    if c.shard_access == "all" and c.shards > 1:
        sf = 1.0 - (1.0 - sf) ** c.shards
    return min(1.0, max(0.0, sf))


def _timeouts(rp: ResolvedPattern, base: Report, rep: Report, out: tuple[str, ...]) -> dict[int, tuple[float, float, float]]:
    """(p, amplification, unanswered share) of each request-path call the what-if pushed past its deadline."""
    p = rp.pattern
    if p.request is None:
        return {}
    allowed = 1.0 - p.request.percentile / 100.0
    found: dict[int, tuple[float, float, float]] = {}
    for i, cn in enumerate(p.connections):
        if cn.kind != "sync" or cn.target in out:
            continue
        b, c = base.components.get(cn.target), rep.components.get(cn.target)
        if b is None or c is None or b.budget_ms is None or not b.on_request_path or rep.edges[i].calls_per_s <= 0:
            continue
        before = p_past(b, b.budget_ms)
        now = p_past(c, b.budget_ms)
        if now <= allowed or before > allowed:
            continue
        amp = sum(now ** j for j in range(cn.retries + 1))
        found[i] = (now, amp, now ** (cn.retries + 1))
    return found


# --------------------------------------------------------------------------- the answer

def _answer(rp: ResolvedPattern, base: Report, rep: Report, failures: Sequence[Failure], out: tuple[str, ...],
            entry_out: bool, timeouts: Mapping[int, tuple[float, float, float]], routes: list,
            left: Mapping[str, int]) -> WhatIf:
    p = rp.pattern
    F: dict[str, Figure] = {}
    for f in failures:
        F.update(_failure_figures(rp, base, rep, f, left))
    attempted = {i: (base.edges[i].calls_per_upstream if cn.target in out
                     else rep.edges[i].calls_per_upstream / timeouts[i][1])
                 for i, cn in enumerate(p.connections) if cn.target in out or i in timeouts}
    r_of = reach(rp, rep, attempted)
    tos = [_timeout(base, rep, i, p.connections[i], *timeouts[i]) for i in timeouts]
    uses, failed_parts, fallback_parts = _shares(rp, r_of, attempted, rep, out, entry_out, timeouts)
    failed = 1.0 - math.prod(1.0 - s for _, s in failed_parts)
    fallback = min(1.0 - failed, 1.0 - math.prod(1.0 - s for _, s in fallback_parts))
    served = max(0.0, 1.0 - failed - fallback)
    success = served + fallback
    F["failed_share"] = Figure("failed_share", "Requests that fail", failed, "",
                               "1 − Π (1 − share) over what fails with no route left",
                               tuple(Input(n, s) for n, s in failed_parts))
    F["fallback_share"] = Figure("fallback_share", "Requests served by a fallback", fallback, "",
                                 "1 − Π (1 − share) over fallback routes taken",
                                 tuple(Input(n, s) for n, s in fallback_parts))
    F["served_share"] = Figure("served_share", "Requests served normally", served, "",
                               "1 − failed − fallback", (Input("failed", failed), Input("fallback", fallback)))
    F["nines"] = Figure("nines", "Success rate in nines (under the what-if)", nines(success), "nines",
                        "−log10(1 − (served + fallback))", (Input("success", success),))
    e2e, e2e_base = rep.end_to_end, base.end_to_end
    p99 = None if entry_out or e2e is None else e2e.p99_ms
    p99_before = e2e_base.p99_ms if e2e_base is not None else None
    F["p99_ms"] = Figure("p99_ms", "End-to-end p99 of what is served", p99, "ms",
                         "composed over the changed request path (see the what-if analysis)",
                         (Input("p99 before", p99_before, "ms"),),
                         note="saturated or nothing served" if p99 is None else "")
    changes, overloaded = _changes(base, rep)
    return WhatIf(failures=tuple(failures), report=rep, served_share=served, fallback_share=fallback,
                  failed_share=failed, success=success, nines=nines(success), out=out, fallbacks=tuple(uses),
                  fallback_edges=tuple(routes), timeouts=tuple(tos), overloaded=overloaded, load_changes=changes,
                  p99_before_ms=p99_before, p99_ms=p99, figures=F)


def _shares(rp: ResolvedPattern, r_of: Mapping[str, float], attempted: Mapping[int, float], rep: Report,
            out: tuple[str, ...], entry_out: bool, timeouts: Mapping[int, tuple[float, float, float]]):
    """Who fails and who falls back. A call to v goes unanswered with probability
    ℓ(v) = 1 − (1 − t(v))·Π (1 − min(1, k)·ℓ'(c)) over v's callees c, where t(v) is 1 when v is out, else the
    share of calls to it that time out on every try; ℓ'(c) is 0 when c's fallback covers the failure (that
    share, r(c)·ℓ(c), is served by the fallback) and ℓ(c) otherwise. Requests that fail: ℓ(entry)."""
    p = rp.pattern
    if p.request is None:
        return [], [], []
    if entry_out:
        return [], [(f"{p.request.entry} (the entry) down", 1.0)], []
    rpath = request_path(rp.graph, p.request.entry)
    t: dict[str, float] = {}
    for i, (_, _, unanswered) in timeouts.items():
        tgt = p.connections[i].target
        t[tgt] = max(t.get(tgt, 0.0), unanswered)
    loss: dict[str, float] = {}
    passed: dict[str, float] = {}
    uses: list[FallbackUse] = []
    fallback_parts: list[tuple[str, float]] = []
    for v in reversed(list(nx.topological_sort(rpath))):
        if v in out:
            loss[v] = 1.0
        else:
            keep = 1.0 - t.get(v, 0.0)
            for i, cn in enumerate(p.connections):
                if cn.kind == "sync" and cn.source == v and cn.target in passed:
                    k = attempted.get(i, rep.edges[i].calls_per_upstream)
                    keep *= 1.0 - min(1.0, k) * passed[cn.target]
            loss[v] = 1.0 - keep
        trigger = "down" if v in out else "timeout"
        fb = fallback_of(rp, v)
        share = r_of.get(v, 0.0) * loss[v]
        if fb is not None and trigger in fb.when and fb.to not in out and v != p.request.entry:
            passed[v] = 0.0
            if share > 0:
                fallback_parts.append((f"{v} {'down' if v in out else 'past its deadline'} → fallback", share))
                uses.append(FallbackUse(component=v, to=fb.to, trigger=trigger, share=share, quality=fb.quality))
        else:
            passed[v] = loss[v]
    entry = p.request.entry
    failed_parts = [(f"unanswered at {entry} ({', '.join(sorted(set(out) | set(t))) or 'nothing'} failing)",
                     loss.get(entry, 0.0))] if loss.get(entry, 0.0) > 0 else []
    return uses, failed_parts, fallback_parts


def _failure_figures(rp: ResolvedPattern, base: Report, rep: Report, f: Failure, left: Mapping[str, int]) -> dict[str, Figure]:
    n = f.component
    b = base.components[n]
    key = f"{n}.{f.kind}"
    if f.kind == "slow":
        return {key: Figure(key, f"{n}: service time", b.service_ms * f.factor, "ms", "S' = S × K",
                            (Input("S", b.service_ms, "ms"), Input("K", f.factor)))}
    if f.kind == "zone":
        z = zones_of(rp, n)
        return {key: Figure(key, f"{n}: replicas left after losing one zone", left[n], "replicas per shard",
                            "r' = r − ⌈r / z⌉ (the largest zone's share lost)",
                            (Input("r", b.replicas, "replicas"), Input("z", z, "zones")),
                            note="none left: down" if left[n] == 0 else "")}
    if f.kind == "cold":
        param = _component(rp, n).hit_rate
        return {key: Figure(key, f"{n}: hit rate", 0.0, "", "h' = 0 (cold: every lookup misses)",
                            (Input(param, base.values.get(param)),),
                            note="the misses go on to what sits behind the cache; see the load changes")}
    return {key: Figure(key, f"{n}: down", 0, "replicas answering", "no replica answers",
                        (Input("replicas", b.replicas),))}


def _timeout(base: Report, rep: Report, i: int, cn: Connection, pt: float, amp: float, unanswered: float) -> Timeout:
    deadline = base.components[cn.target].budget_ms
    before = base.edges[i].calls_per_s
    after = rep.edges[i].calls_per_s
    k = f"{cn.source}->{cn.target}"
    F = {
        "p_timeout": Figure("p_timeout", f"{k}: calls past the deadline", pt, "",
                            "p = P(response > deadline) at the callee's station (1 when saturated)",
                            (Input("deadline", deadline, "ms"),),
                            note="the deadline is the callee's latency budget at the baseline"),
        "amplification": Figure("amplification", f"{k}: calls per call with retries", amp, "×",
                                "1 + p + … + p^n", (Input("p", pt), Input("n (retries)", cn.retries))),
        "calls_per_s": Figure("calls_per_s", f"{k}: calls/s", after, "calls/s", "calls before × amplification",
                              (Input("calls before", before, "calls/s"), Input("amplification", amp, "×"))),
        "unanswered": Figure("unanswered", f"{k}: calls that time out on every try", unanswered, "",
                             "p^(n + 1)", (Input("p", pt), Input("n (retries)", cn.retries))),
    }
    return Timeout(connection=i, source=cn.source, target=cn.target, deadline_ms=deadline, p_timeout=pt,
                   retries=cn.retries, amplification=amp, unanswered=unanswered, figures=F)


def _changes(base: Report, rep: Report) -> tuple[tuple[LoadChange, ...], tuple[str, ...]]:
    changes: list[LoadChange] = []
    overloaded: list[str] = []
    for cid, b in base.components.items():
        c = rep.components[cid]
        moved = not math.isclose(b.calls_per_s, c.calls_per_s, rel_tol=1e-9, abs_tol=1e-12)
        if moved or b.status != c.status:
            changes.append(LoadChange(component=cid, calls_per_s_before=b.calls_per_s, calls_per_s_after=c.calls_per_s,
                                      utilization_before=b.utilization, utilization_after=c.utilization,
                                      status_before=str(b.status), status_after=str(c.status)))
        if _RANK.get(c.status, 0) >= 2 and _RANK.get(c.status, 0) > _RANK.get(b.status, 0):
            overloaded.append(cid)
    return tuple(changes), tuple(overloaded)


def summary(w: WhatIf) -> str:
    """One line: ``scorer is down: 100% served by fallbacks, 0% fail (success ≥ 9 nines), p99 150 ms``."""
    what = "; ".join(f.describe() for f in w.failures)
    nine = "no failures" if w.nines is None else f"{fmt(w.nines)} nines"
    p99 = "saturated" if w.p99_ms is None else f"{fmt(w.p99_ms)} ms"
    text = (f"{what}: {w.served_share:.1%} served normally, {w.fallback_share:.1%} by fallbacks, "
            f"{w.failed_share:.2%} fail ({nine}); p99 of what is served {p99}")
    if w.overloaded:
        text += f"; pushed hot or saturated: {', '.join(w.overloaded)}"
    return text
