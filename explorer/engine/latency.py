"""Pass 3, latency: budgets per stage, the end-to-end distribution and the critical path.

Each request-path stage gets a share of the target in proportion to its mean
service time (used by sizing). After sizing, the stations' response-time laws
are composed on one lattice: sequential calls convolve, parallel calls multiply
CDFs, k-way fan-out takes F^k.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import networkx as nx

from explorer.engine import distributions as dist
from explorer.engine import queueing
from explorer.engine.constants import LATTICE_POINTS, Deadline
from explorer.engine.report import EndToEnd, Figure, Input, Stage
from explorer.engine.sizing import Sized
from explorer.engine.traffic import Traffic
from explorer.model.loader import ResolvedPattern
from explorer.model.pattern import Connection
from explorer.units import fmt

Steps = Mapping[str, list[list[tuple[int, Connection]]]]


@dataclass(frozen=True, slots=True)
class Latency:
    """What the latency pass returns."""

    end_to_end: EndToEnd
    critical_edges: frozenset[int]
    """Indexes of the connections on the critical path."""


@dataclass(frozen=True, slots=True)
class _Composed:
    """The composed end-to-end distribution and each node's own and total distributions."""

    lattice: dist.Lattice
    total: dist.Dist
    means: Mapping[str, float]
    """Mean of each node's total distribution (its own response and everything it calls)."""
    own: Mapping[str, dist.Dist]
    q: float | None
    q99: float | None


def budgets(rp: ResolvedPattern, rpath: nx.DiGraph, tr: Traffic) -> dict[str, float]:
    """Each request-path stage's share of the target, in proportion to its mean service time, over the
    longest path through it with every downstream stage weighted by how often it runs per call of its caller.

    A callee reached with probability p < 1 (``calls: 0.05``) adds p × its time to its callers' paths, so a
    fallback that rarely (or never) runs does not squeeze everyone else's share; k sequential calls add k
    times. The stage's own share is taken given that it runs (a rare stage still gets a share of the whole).
    """
    weight = {}
    for n in rpath.nodes:
        s = tr.specs[n]
        calls = tr.calls_per_s.get(n, 0.0)
        ipc = tr.items_per_s.get(n, 0.0) / calls if calls > 0 else 1.0
        weight[n] = s.service_ms + s.per_item_ms * ipc + tr.request.rtt_ms
        if rp.types[n].category == "client":
            weight[n] = 0.0
    runs = call_weights(rp, rpath, tr)
    order = list(nx.topological_sort(rpath))
    to = {}
    for n in order:
        to[n] = weight[n] + max((to[u] for u in rpath.predecessors(n)), default=0.0)
    frm = {}
    for n in reversed(order):
        frm[n] = weight[n] + max((runs[n, v] * frm[v] for v in rpath.successors(n)), default=0.0)
    out = {}
    for n in order:
        if tr.specs[n].budget_ms is not None:
            out[n] = tr.specs[n].budget_ms
            continue
        repeat = max((max(1.0, runs[u, n]) for u in rpath.predecessors(n)), default=1.0)
        through = to[n] - weight[n] + repeat * frm[n]
        if through > 0 and weight[n] > 0:
            out[n] = tr.request.target_ms * weight[n] / through
    return out


def call_weights(rp: ResolvedPattern, rpath: nx.DiGraph, tr: Traffic) -> dict[tuple[str, str], float]:
    """How many times a callee's time counts on its caller's path, per call of the caller:
    k for k sequential calls, min(k, 1) for parallel ones (k < 1 is the probability of the call)."""
    runs: dict[tuple[str, str], float] = defaultdict(float)
    for i, cn in enumerate(rp.pattern.connections):
        if cn.kind == "sync" and rpath.has_edge(cn.source, cn.target):
            k = tr.edge_calls[i]
            runs[cn.source, cn.target] = max(runs[cn.source, cn.target], k if cn.fanout == "sequential" else min(k, 1.0))
    return runs


def latency(rp: ResolvedPattern, rpath: nx.DiGraph, sized: Mapping[str, Sized], tr: Traffic,
            budget_of: Mapping[str, float], deadline: Deadline) -> Latency:
    """The end-to-end pass: composed distribution, critical path and stages (or the saturated stations)."""
    p = rp.pattern
    entry = p.request.entry
    pct = p.request.percentile
    steps = _steps(p, rpath)
    sat = [n for n in rpath.nodes if sized[n].saturated]
    if sat:
        return _saturated(rp, sized, steps, tr, budget_of, sat)
    composed = _compose(rp, rpath, sized, steps, tr, deadline)
    means = composed.means
    crit, crit_edges = _critical_walk(steps, tr.edge_calls, entry,
                                      lambda e: means.get(e[1].target, 0.0) * min(tr.edge_calls[e[0]], 1.0))
    stages = []
    for n in crit:
        d = composed.own.get(n)
        c = sized[n]
        stages.append(Stage(component=n, label=_label(rp, n), mean_ms=d.mean_ms() if d else c.mean_ms,
                            p99_ms=d.quantile_ms(0.99) if d else c.p99_ms, budget_ms=budget_of.get(n),
                            fanout=c.shards_per_call))
    q, target_ms = composed.q, tr.request.target_ms
    meets = q is not None and q <= target_ms
    margin = target_ms - q if q is not None else None
    mean, p50 = composed.total.mean_ms(), composed.total.quantile_ms(0.5)
    F = _figures(rp, sized, steps, tr, crit, composed, mean, p50, meets, margin)
    if not meets:
        fix = _sequential_fix(rp, rpath, sized, steps, tr, crit_edges, composed, deadline)
        if fix is not None:
            F["if_parallel_ms"] = fix
    e2e = EndToEnd(entry=entry, percentile=pct, target_ms=target_ms, saturated=False, saturated_components=[],
                   mean_ms=mean, p50_ms=p50, p99_ms=composed.q99, target_percentile_ms=q, meets_target=meets,
                   margin_ms=margin, critical_path=crit, stages=stages, figures=F)
    return Latency(end_to_end=e2e, critical_edges=frozenset(crit_edges))


def _sequential_fix(rp, rpath: nx.DiGraph, sized: Mapping[str, Sized], steps: Steps, tr: Traffic,
                    crit_edges: list[int], composed: _Composed, deadline: Deadline) -> Figure | None:
    """When the critical path makes k > 1 sequential calls, the end-to-end percentile if the heaviest such
    connection ran its k calls in parallel (composed again with that one change), or None."""
    seq = [i for i in crit_edges if rp.pattern.connections[i].fanout == "sequential" and tr.edge_calls[i] > 1]
    if not seq:
        return None
    i = max(seq, key=lambda j: tr.edge_calls[j] * (composed.means.get(rp.pattern.connections[j].target, 0.0)
                                                   + tr.request.rtt_ms))
    cn = rp.pattern.connections[i]
    parallel = cn.model_copy(update={"fanout": "parallel"})
    steps2 = {n: [[(j, parallel if j == i else c) for j, c in group] for group in groups]
              for n, groups in steps.items()}
    again = _compose(rp, rpath, sized, steps2, tr, deadline)
    pct = rp.pattern.request.percentile
    k = tr.edge_calls[i]
    return Figure("if_parallel_ms", f"End-to-end p{fmt(pct)} if the {fmt(k)} calls ran in parallel", again.q, "ms",
                  f"the composition again with connections[{i}] ({cn.source} → {cn.target}) as max×{fmt(k)} "
                  f"instead of sum×{fmt(k)}",
                  (Input(f"p{fmt(pct)} now", composed.q, "ms"), Input("calls per request", k, "calls"),
                   Input(f"mean per call of {cn.target}", composed.means.get(cn.target, 0.0), "ms"),
                   Input("network round trip per call", tr.request.rtt_ms, "ms")),
                  note=f"connections[{i}]: {cn.source} calls {cn.target} {fmt(k)} times one after another; a multi-get "
                       "(one call carrying the keys) or parallel calls remove the sum. Parallel calls are assumed "
                       "independent, as everywhere in the composition.")


def _label(rp: ResolvedPattern, n: str) -> str:
    return rp.graph.nodes[n]["label"]


def _saturated(rp, sized: Mapping[str, Sized], steps: Steps, tr: Traffic, budget_of, sat: list[str]) -> Latency:
    p = rp.pattern
    entry, pct = p.request.entry, p.request.percentile
    crit, crit_edges = _critical_walk(steps, tr.edge_calls, entry,
                                      lambda e: (sized[e[1].target].saturated, sized[e[1].target].utilization))
    stages = [Stage(component=n, label=_label(rp, n), mean_ms=sized[n].mean_ms, p99_ms=sized[n].p99_ms,
                    budget_ms=budget_of.get(n), fanout=1.0) for n in crit]
    F = {"p99_ms": Figure("p99_ms", f"End-to-end p{fmt(pct)}", None, "ms",
                          "saturated: a station on the request path receives more calls than it can serve",
                          tuple(Input(n, sized[n].utilization, "ρ") for n in sat))}
    e2e = EndToEnd(entry=entry, percentile=pct, target_ms=tr.request.target_ms,
                   saturated=True, saturated_components=sat, mean_ms=None, p50_ms=None, p99_ms=None,
                   target_percentile_ms=None, meets_target=False, margin_ms=None, critical_path=crit, stages=stages,
                   figures=F)
    return Latency(end_to_end=e2e, critical_edges=frozenset(crit_edges))


def _compose(rp, rpath: nx.DiGraph, sized: Mapping[str, Sized], steps: Steps, tr: Traffic,
             deadline: Deadline) -> _Composed:
    """Horizon (an upper time that holds nearly all the mass), then every node composed on one lattice;
    the lattice grows ×4 (at most twice) while too much mass overflows it."""
    entry = rp.pattern.request.entry
    pct = rp.pattern.request.percentile
    rtt_ms = tr.request.rtt_ms
    children_first = list(reversed(list(nx.topological_sort(rpath))))  # iterative: paths may be thousands deep
    h0 = max(_horizons(rp, children_first, sized, steps, tr.edge_calls, rtt_ms)[entry], 1e-3) * 1.2
    callers = _callers(steps, tr.edge_calls)
    for _attempt in range(3):
        lattice = dist.Lattice.spanning(h0, LATTICE_POINTS)
        memo: dict[str, dist.Dist] = {}
        means: dict[str, float] = {}
        own: dict[str, dist.Dist] = {}
        waiting = dict(callers)
        for n in children_first:
            deadline.check()
            own[n] = _own_dist(rp, n, sized[n], lattice)
            memo[n] = _node_dist(n, own[n], steps, tr.edge_calls, lattice, rtt_ms, memo)
            means[n] = memo[n].mean_ms()
            for callee in _callees(n, steps, tr.edge_calls):  # a callee nobody else waits for is let go
                waiting[callee] -= 1
                if waiting[callee] == 0:
                    del memo[callee]
        total = memo[entry]
        q = total.quantile_ms(pct / 100.0)
        q99 = total.quantile_ms(0.99)
        if q is not None and q99 is not None and total.overflow < 1e-3:
            break
        h0 *= 4
    return _Composed(lattice=lattice, total=total, means=means, own=own, q=q, q99=q99)


def _callees(n: str, steps: Steps, edge_calls) -> list[str]:
    """Nodes whose distribution ``n``'s composition reads (once per calling connection)."""
    return [cn.target for group in steps[n] for i, cn in group if edge_calls[i] > 0]


def _callers(steps: Steps, edge_calls) -> dict[str, int]:
    """How many compositions read each node's distribution."""
    count: dict[str, int] = defaultdict(int)
    for n in steps:
        for callee in _callees(n, steps, edge_calls):
            count[callee] += 1
    return count


def _horizons(rp, children_first: list[str], sized: Mapping[str, Sized], steps: Steps, edge_calls,
              rtt_ms: float) -> dict[str, float]:
    horizon: dict[str, float] = {}
    for n in children_first:
        c = sized[n]
        h = 0.0 if c.station is None else dist.horizon_for(c.station)
        if rp.types[n].shard_access == "all" and c.shards > 1:
            h *= 1 + math.log(c.shards) / math.log(1e4)
        elif c.scatters:
            h *= 1 + math.log(math.ceil(c.shards_per_call)) / math.log(1e4)
        for group in steps[n]:
            h += max(rtt_ms * max(1.0, _k_seq(edge_calls[i], cn)) + _fan_h(horizon[cn.target], edge_calls[i], cn)
                     for i, cn in group)
        horizon[n] = h
    return horizon


def _figures(rp, sized: Mapping[str, Sized], steps: Steps, tr: Traffic, crit: list[str], composed: _Composed,
             mean: float, p50: float | None, meets: bool, margin: float | None) -> dict[str, Figure]:
    entry, pct = rp.pattern.request.entry, rp.pattern.request.percentile
    q, target_ms, rtt_ms = composed.q, tr.request.target_ms, tr.request.rtt_ms
    comp_inputs = tuple(Input(f"{n} p99", sized[n].p99_ms, "ms") for n in crit) + (
        Input("network round trip per sync call", rtt_ms, "ms"),)
    expr = _expression(rp, entry, sized, steps, tr.edge_calls)
    note = (f"Composed on a {LATTICE_POINTS}-point lattice of {fmt(composed.lattice.dt_ms)} ms steps: sequential calls "
            "convolve, parallel calls multiply CDFs, k-way fan-out takes F^k. Independence between stations is assumed. "
            f"Network round trip source: {tr.request.rtt_source}")
    F = {
        "mean_ms": Figure("mean_ms", "End-to-end mean", mean, "ms", "mean of the composed distribution: " + expr,
                          comp_inputs, note=note),
        "p50_ms": Figure("p50_ms", "End-to-end p50", p50, "ms", "0.5-quantile of the composed distribution: " + expr,
                         comp_inputs, note=note),
        "p99_ms": Figure("p99_ms", "End-to-end p99", composed.q99, "ms",
                         "0.99-quantile of the composed distribution: " + expr, comp_inputs, note=note),
    }
    if pct != 99:
        F["target_percentile_ms"] = Figure("target_percentile_ms", f"End-to-end p{fmt(pct)}", q, "ms",
                                           f"{pct / 100:g}-quantile of the composed distribution", comp_inputs, note=note)
    F["meets_target"] = Figure("meets_target", "Meets target", meets, "", f"p{fmt(pct)} ≤ target",
                               (Input(f"p{fmt(pct)}", q, "ms"), Input("target", target_ms, "ms")))
    F["margin_ms"] = Figure("margin_ms", "Margin", margin, "ms", f"target − p{fmt(pct)}",
                            (Input("target", target_ms, "ms"), Input(f"p{fmt(pct)}", q, "ms")))
    return F


def _steps(p, rpath: nx.DiGraph) -> dict[str, list[list[tuple[int, Connection]]]]:
    """Sync out-calls of each request-path node grouped into steps (parallel within, sequential across)."""
    out: dict[str, list[list[tuple[int, Connection]]]] = {n: [] for n in rpath.nodes}
    by_node: dict[str, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    counts: dict[str, int] = defaultdict(int)
    for i, cn in enumerate(p.connections):
        if cn.kind != "sync" or cn.source not in rpath:
            continue
        step = cn.step if cn.step is not None else counts[cn.source]
        counts[cn.source] += 1
        by_node[cn.source][step].append((i, cn))
    for n, groups in by_node.items():
        out[n] = [groups[k] for k in sorted(groups)]
    return out


def _k_seq(k: float, cn: Connection) -> float:
    return k if cn.fanout == "sequential" else 1.0


def _fan_h(h: float, k: float, cn: Connection) -> float:
    if k <= 1:
        return h
    if cn.fanout == "sequential":
        return h * math.ceil(k)
    return h * (1 + math.log(math.ceil(k)) / math.log(1e4))


def _own_dist(rp, n: str, c: Sized, lattice: dist.Lattice) -> dist.Dist:
    """Response distribution of ``n``'s own station (max over its shards when a call visits all of them, or
    over the shards a multi-key call touches: the nearest whole counts, mixed)."""
    if c.station is None:
        return dist.point_mass(lattice, 0.0)
    if c.request_service_ms is not None:
        d = dist.from_law(lattice, queueing.class_response_time(c.station, c.request_service_ms, c.service_cv))
    else:
        d = dist.from_station(lattice, c.station)
    if rp.types[n].shard_access == "all" and c.shards > 1:
        d = dist.max_of_k(d, c.shards)
    elif c.scatters:
        d = _repeat(d, c.shards_per_call, "parallel")
    return d


def _node_dist(n: str, own: dist.Dist, steps: Steps, edge_calls, lattice: dist.Lattice, rtt_ms: float,
               memo: Mapping[str, dist.Dist]) -> dist.Dist:
    """Response distribution of ``n`` including everything it calls (its callees must be in ``memo``)."""
    parts = [own]
    rtt = dist.point_mass(lattice, rtt_ms) if rtt_ms > 0 else None
    for group in steps[n]:
        branch = []
        for i, cn in group:
            k = edge_calls[i]
            if k <= 0:
                continue
            child = memo[cn.target]
            one = dist.convolve(rtt, child) if rtt is not None else child
            branch.append(_repeat(one, k, cn.fanout))
        if branch:
            parts.append(branch[0] if len(branch) == 1 else dist.maximum(branch))
    return dist.convolve_all(parts) if len(parts) > 1 else parts[0]


def _repeat(d: dist.Dist, k: float, fanout: str) -> dist.Dist:
    """k copies of a call: parallel → max, sequential → sum; fractional k mixes the two nearest counts
    (k < 1: the call happens with probability k)."""
    lo = math.floor(k + 1e-9)
    frac = k - lo
    op = dist.max_of_k if fanout == "parallel" else dist.sum_of_k

    def times(m: int) -> dist.Dist:
        if m == 0:
            return dist.point_mass(d.lattice, 0.0)
        return d if m == 1 else op(d, m)

    if frac < 1e-9:
        return times(lo)
    return dist.mixture([times(lo), times(lo + 1)], [1 - frac, frac])


def _expression(rp, n: str, sized: Mapping[str, Sized], steps: Steps, edge_calls, depth: int = 0) -> str:
    c = sized[n]
    text = n + (f"[max of {c.shards} shards]" if rp.types[n].shard_access == "all" and c.shards > 1 else
                f"[max of {fmt(c.shards_per_call)} of {c.shards} shards]" if c.scatters else "")
    if depth > 6:
        return text + " ⊕ …"
    for group in steps[n]:
        parts = []
        for i, cn in group:
            k = edge_calls[i]
            if k <= 0:
                continue
            sub = _expression(rp, cn.target, sized, steps, edge_calls, depth + 1)
            if k != 1:
                sub = (f"max×{fmt(k)}" if cn.fanout == "parallel" else f"sum×{fmt(k)}") + f"({sub})"
            parts.append(sub)
        if len(parts) == 1:
            text += f" ⊕ ({parts[0]})"
        elif parts:
            text += " ⊕ max(" + ", ".join(parts) + ")"
    return text


def _critical_walk(steps: Steps, edge_calls, entry: str, key: Callable) -> tuple[list[str], list[int]]:
    """From the entry, every step in order, following the member of each parallel step with the largest key."""
    nodes: list[str] = [entry]
    edges: list[int] = []
    stack = [iter(steps[entry])]
    while stack:
        group = next(stack[-1], None)
        if group is None:
            stack.pop()
            continue
        live = [e for e in group if edge_calls[e[0]] > 0]
        if live:
            best = max(live, key=key)
            edges.append(best[0])
            nodes.append(best[1].target)
            stack.append(iter(steps[best[1].target]))
    return nodes, edges
