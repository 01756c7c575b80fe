"""Pass 5, bottlenecks: batch jobs against their windows, ranked problems with advice, warnings, and the
provisioning flags of a finished report (components with far more, or fewer, replicas than recommended)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx

from explorer.engine.report import (
    BatchJobReport,
    Bottleneck,
    ComponentReport,
    EndToEnd,
    Figure,
    Input,
    Report,
    Status,
)
from explorer.engine.traffic import Traffic
from explorer.model.loader import ResolvedPattern
from explorer.units import fmt


def batch_jobs(rp: ResolvedPattern, comps: Mapping[str, ComponentReport], tr: Traffic) -> list[BatchJobReport]:
    """Each scheduled job: its required throughput, and whether it fits its window."""
    out = []
    for job in rp.pattern.batch_jobs:
        r = tr.job_rates[job.id]
        order = tr.job_reach[job.id]
        blocked = [c for c in order if comps[c].saturated]
        fits = not blocked and r.window_hours <= r.every_hours
        F = {"items_per_s": Figure("items_per_s", "Required throughput", r.items_per_s, "items/s",
                                   "items per run ÷ (window hours × 3,600)",
                                   (Input("items per run", r.items, "items"), Input("window", r.window_hours, "h"))),
             "fits_window": Figure("fits_window", "Fits its window", fits, "",
                                   "no component on the job's path is saturated, and window ≤ schedule",
                                   tuple(Input(c, comps[c].utilization, "ρ") for c in order))}
        out.append(BatchJobReport(id=job.id, label=job.label or job.id, entry=job.entry, items_per_run=r.items,
                                  items_per_s=r.items_per_s, window_hours=r.window_hours, every_hours=r.every_hours,
                                  fits_window=fits, figures=F))
    return out


def bottlenecks(comps: Mapping[str, ComponentReport], e2e: EndToEnd | None, u_target: float) -> list[Bottleneck]:
    """Saturated, infeasible and hot components, and a missed end-to-end target, ranked by severity."""
    found = [_problem(c, u_target) for c in comps.values()
             if c.status in (Status.SATURATED, Status.HOT, Status.INFEASIBLE)]
    if e2e is not None and not e2e.saturated and not e2e.meets_target and "if_parallel_ms" in e2e.figures:
        found.append(_sequential(comps, e2e, found))
    elif e2e is not None and not e2e.saturated and not e2e.meets_target and e2e.stages:
        slow = max(e2e.stages, key=lambda s: s.p99_ms or 0.0)
        c = comps[slow.component]
        reason = (f"end-to-end p{fmt(e2e.percentile)} {fmt(e2e.target_percentile_ms)} ms misses the "
                  f"{fmt(e2e.target_ms)} ms target; {c.label} is the slowest stage (p99 {fmt(slow.p99_ms)} ms)")
        owner = c.id if not any(f[1] == c.id for f in found) else "end_to_end"
        found.append((4.0, owner, Status.SLOW, reason, _latency_advice(c)))
    found.sort(key=lambda f: (-f[0], f[1]))
    return [Bottleneck(rank=i + 1, component=cid, status=status, reason=reason, advice=advice, score=round(score, 6))
            for i, (score, cid, status, reason, advice) in enumerate(found)]


def _sequential(comps: Mapping[str, ComponentReport], e2e: EndToEnd,
                found: list) -> tuple[float, str, Status, str, str]:
    """A missed target made by k sequential calls: blame the calls, not the store they go to."""
    f = e2e.figures["if_parallel_ms"]
    _, k, mean, rtt = (i.value for i in f.inputs)
    c = next(c for cid, c in comps.items() if f.inputs[2].name == f"mean per call of {cid}")
    reason = (f"end-to-end p{fmt(e2e.percentile)} {fmt(e2e.target_percentile_ms)} ms misses the "
              f"{fmt(e2e.target_ms)} ms target; {fmt(k)} sequential calls to {c.label} add up "
              f"(about {fmt(k)} × {fmt(mean + rtt)} ms = {fmt(k * (mean + rtt))} ms on average)")
    advice = (f"batch the {fmt(k)} reads (multi-get) or run them in parallel: in parallel the end-to-end "
              f"p{fmt(e2e.percentile)} would be {fmt(f.value)} ms"
              + (" (meets the target)" if f.value is not None and f.value <= e2e.target_ms else " (still misses)"))
    owner = c.id if not any(x[1] == c.id for x in found) else "end_to_end"
    return 4.0, owner, Status.SLOW, reason, advice


def _problem(c: ComponentReport, u_target: float) -> tuple[float, str, Status, str, str]:
    cap = c.servers_per_shard * 1000.0 / c.service_ms
    load = (f"{fmt(c.arrival_per_shard_per_s)} calls/s × {fmt(c.service_ms)} ms over "
            f"{fmt(c.servers_per_shard)} servers{' per shard' if c.shards > 1 else ''}")
    if c.status == Status.SATURATED:
        reason = (f"{c.label} is saturated at {c.utilization:.0%} of capacity ({load}; capacity "
                  f"{fmt(cap)} calls/s)")
        score = 10 + c.utilization
    elif c.status == Status.INFEASIBLE and "replicas_needed" in c.figures:
        why = c.sizing_reason.rstrip(".")
        reason = (f"{c.label} needs at least {fmt(c.figures['replicas_needed'].value)} replicas"
                  f"{' per shard' if c.shards > 1 else ''} ({fmt(c.nodes)} nodes, ${fmt(c.cost_usd_month)}/month "
                  f"at that count), past where the sizing search stops: {why[:1].lower() + why[1:]}")
        score = 5.5
    elif c.status == Status.INFEASIBLE:
        why = c.sizing_reason.rstrip(".")
        reason = f"{c.label} cannot meet its latency share with any replica count: {why[:1].lower() + why[1:]}"
        score = 5.0
    else:
        reason = f"{c.label} runs hot at {c.utilization:.0%} utilisation, above the {u_target:.0%} target ({load})"
        score = 1 + c.utilization
    return score, c.id, c.status, reason, _advice(c)


def _advice(c: ComponentReport) -> str:
    need = c.replicas_recommended
    per = " per shard" if c.shards > 1 else ""
    add = f"add replicas (about {need}{per} meet the target)" if need else "add replicas"
    if need is None and "replicas_needed" in c.figures:
        add = f"add replicas (at least {fmt(c.figures['replicas_needed'].value)}{per} are needed)"
    base = c.figures["service_ms"].inputs[0].value
    per_item_share = 1 - base / c.service_ms if c.service_ms > 0 else 0.0
    if c.status == Status.INFEASIBLE:
        return _latency_advice(c)
    if c.shard_access == "all" and c.shards > 1:
        return (f"{add}; every query visits all {c.shards} shards, so compress the vectors (PQ) or use bigger "
                "nodes to need fewer shards")
    if c.category in ("ranking",) and per_item_share > 0.5:
        return (f"{add}, or cut the candidates scored per request (items per call {fmt(c.items_per_call)} drive "
                f"{per_item_share:.0%} of the service time)" + ("; batch more items per GPU call" if c.hardware == "gpu" else ""))
    if c.category in ("features", "storage") and c.items_per_call > 1:
        return f"{add}, or batch the lookups and cache hot keys"
    if c.tier == "online" and c.category in ("ranking", "retrieval"):
        return f"{add}, or precompute results offline and serve them from a key-value store"
    if c.category in ("batch",):
        return f"{add} or widen the batch window"
    if c.shards > 1 and c.shard_access == "one":
        return f"{add} or shard further to spread the keys"
    return add


def _latency_advice(c: ComponentReport) -> str:
    if c.shard_access == "all" and c.shards > 1:
        return f"cut the shard fan-out ({c.shards} shards): compress the index or use larger-memory nodes"
    if c.items_per_call > 1:
        return "cut the items per call or precompute this stage offline"
    return "give this stage more of the budget, or make its service faster (smaller model, caching)"


def warnings(rp: ResolvedPattern, comps: Mapping[str, ComponentReport], tr: Traffic, rpath: nx.DiGraph) -> list[str]:
    """The pattern's own warnings, components without traffic, and bursts modelled as independent arrivals."""
    out = list(rp.warnings)
    for c in comps.values():
        if c.calls_per_s == 0 and c.category != "client":
            out.append(f"{c.id} receives no traffic in this scenario")
    for i, cn in enumerate(rp.pattern.connections):
        k = tr.edge_calls[i]
        if cn.kind == "sync" and cn.fanout == "parallel" and k > 1 and cn.target in rpath:
            out.append(
                f"connections[{i}] ({cn.source} → {cn.target}) sends {fmt(k)} calls at once to one pool; "
                "they are modelled as independent arrivals, which understates the tail of a burst (batch arrivals). "
                "Read its p99 as a lower bound.")
    return out


# --------------------------------------------------------------------------- provisioning flags

OVER_PROVISIONED_SHARE = 0.5
"""A component with more replicas than recommended is over-provisioned when its utilisation is below this
share of the target utilisation (at a 60% target: under 30%). Assumption: half the target is "far under"; a
component just under the target is what sizing aims for, not waste."""


@dataclass(frozen=True)
class ProvisioningFlag:
    """A component whose provisioned replicas are far from the recommended count, and what that costs.

    Attributes
    ----------
    component, label : str
        The component's id and label.
    kind : {"over", "under"}
        ``over``: more replicas than recommended while running far under the target utilisation;
        ``under``: fewer replicas than the target utilisation or the stage's latency budget needs.
    replicas, recommended : int
        Replicas per shard now, and the recommended count per shard (for ``under`` without a recommended
        count: the lower bound the load needs).
    utilization, target_utilization : float
        ρ now and the target ρ.
    usd_month : float
        ``over``: the money per month spent on replicas beyond the recommended count; ``under``: what the
        missing replicas would add per month.
    figure : Figure
        ``usd_month`` with its formula and inputs.
    """

    component: str
    label: str
    kind: str
    replicas: int
    recommended: int
    utilization: float
    target_utilization: float
    usd_month: float
    figure: Figure


def provisioning_flags(report: Report) -> list[ProvisioningFlag]:
    """Over- and under-provisioned components of a provisioned report, the costliest first.

    Auto-size runs the recommended counts, so it has no flags. Clients, idle components and components
    without a recommended count (nor a lower bound) are skipped.

    Examples
    --------
    >>> from explorer.model.library import load
    >>> from explorer.engine.analysis import analyse
    >>> flags = provisioning_flags(analyse(load("ad_click_prediction"), {"peak_qps": 100}))
    >>> flags[0].kind, flags[0].usd_month > 10_000
    ('over', True)
    >>> provisioning_flags(analyse(load("ad_click_prediction"), {"peak_qps": 100}, "autosize"))
    []
    """
    if report.mode != "provisioned":
        return []
    u_target = report.target_utilization
    out = []
    for c in report.components.values():
        if c.replicas <= 0 or c.status in (Status.EXTERNAL, Status.IDLE) or "cost_usd_month" not in c.figures:
            continue
        need = c.replicas_recommended
        if need is None and "replicas_needed" in c.figures:
            need = int(c.figures["replicas_needed"].value)
        if need is None:
            continue
        if c.replicas > need and c.utilization < OVER_PROVISIONED_SHARE * u_target:
            kind = "over"
        elif c.replicas < need:
            kind = "under"
        else:
            continue
        figure = _replica_cost_figure(c, need, kind, u_target)
        out.append(ProvisioningFlag(component=c.id, label=c.label, kind=kind, replicas=c.replicas, recommended=need,
                                    utilization=c.utilization, target_utilization=u_target,
                                    usd_month=float(figure.value), figure=figure))
    out.sort(key=lambda f: (f.kind != "under", -f.usd_month, f.component))
    return out


def _replica_cost_figure(c: ComponentReport, need: int, kind: str, u_target: float) -> Figure:
    """The money per month of the replicas between ``c.replicas`` and ``need``, traced."""
    cost = c.figures["cost_usd_month"]
    given = {i.name: i.value for i in cost.inputs}
    price, hours = float(given["price"]), float(given["hours billed"])
    nodes_per_replica = c.nodes / c.replicas
    extra = abs(c.replicas - need)
    value = extra * nodes_per_replica * price * hours
    if kind == "over":
        key, label = "over_provisioned_usd_month", "Spent beyond the recommended replicas"
        formula = "(replicas − recommended) × nodes per replica × price per hour × hours billed"
        note = (f"utilisation {c.utilization:.2%} is under {OVER_PROVISIONED_SHARE:.0%} of the "
                f"{u_target:.0%} target")
    else:
        key, label = "under_provisioned_usd_month", "Added by the missing replicas"
        formula = "(recommended − replicas) × nodes per replica × price per hour × hours billed"
        note = "recommended: the fewest replicas that meet the target utilisation and the stage's p99 budget"
    return Figure(key=key, label=label, value=value, unit="USD/month", formula=formula,
                  inputs=(Input("replicas", c.replicas, "per shard"), Input("recommended", need, "per shard"),
                          Input("nodes per replica", nodes_per_replica, "shards × GPUs per replica"),
                          Input("price", price, "USD/h"), Input("hours billed", hours, "h/month")),
                  note=note + "; hours billed as now (a batch pool's duty share is kept)")
