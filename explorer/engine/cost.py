"""Pass 4, cost: memory, storage, network and money per component, the component reports, and totals.

A component's figures (about twenty traced numbers) are built when first read: a live page reads a
few, the JSON export reads them all, and both see the same figures.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from explorer.engine.constants import HOURS_PER_MONTH
from explorer.engine.report import ComponentReport, Figure, Input, LazyFigures, Totals
from explorer.engine.sizing import Sized, sizing_figures, status_figure
from explorer.engine.traffic import Traffic
from explorer.model.loader import ResolvedPattern
from explorer.units import fmt


@dataclass(frozen=True, slots=True)
class Costs:
    """Memory, storage, network and money of one component."""

    nodes: int
    memory_gb: float
    storage_gb: float
    network_mb_s: float
    network: tuple[tuple[str, float, float], ...]
    """Incoming (source, calls/s, payload bytes)."""
    hours: float
    """Hours billed per month."""
    duty: tuple[tuple[str, float, float], ...]
    """(job, share of the month its window covers, its share of the component's batch load) when only batch
    jobs use the component."""
    cost_usd_month: float


def cost(rp: ResolvedPattern, tr: Traffic, sized: Mapping[str, Sized]) -> dict[str, ComponentReport]:
    """The cost pass: every component's report, built once (clients cost nothing)."""
    return {c.id: component_report(rp, c.id, tr, sized[c.id]) for c in rp.pattern.components}


def component_costs(z: Sized, tr: Traffic) -> Costs:
    """nodes = shards × replicas; memory (in-memory data per replica) or storage (data × replication);
    network in; cost = nodes × price × hours billed + storage × price."""
    if z.station is None:
        return Costs(nodes=0, memory_gb=0.0, storage_gb=0.0, network_mb_s=0.0, network=(), hours=HOURS_PER_MONTH,
                     duty=(), cost_usd_month=0.0)
    s = z.spec
    nodes = z.shards * z.replicas * s.gpus_per_replica
    memory_gb = s.data_gb * z.replicas if z.data_in == "memory" else 0.0
    storage_gb = 0.0 if z.data_in == "memory" else s.data_gb * s.replication
    net_terms = tr.network.get(z.id, ())
    duty = batch_duty(z, tr, nodes)
    hours = HOURS_PER_MONTH
    if duty:
        hours = HOURS_PER_MONTH * min(1.0, sum(f * w for _, f, w in duty))
    compute = nodes * s.cost_usd_per_hour * hours
    storage_cost = storage_gb * s.storage_usd_per_gb_month
    return Costs(nodes=nodes, memory_gb=memory_gb, storage_gb=storage_gb,
                 network_mb_s=sum(r * b for _, r, b in net_terms) / 1e6, network=net_terms, hours=hours, duty=duty,
                 cost_usd_month=compute + storage_cost)


def batch_duty(z: Sized, tr: Traffic, nodes: int) -> tuple[tuple[str, float, float], ...]:
    """Each batch job using a batch-only component: (job, window ÷ schedule, share of the nodes it keeps up).

    The pool is sized for all its jobs at once; a job's window keeps up only the nodes its own work needs,
    ⌈nodes × its share of the load⌉ (one node at least when it sends any work), so a job that sends the pool
    little (a model push from a training job) adds one node's hours, not the whole pool's. Load = calls/s ×
    base service + items/s × per-item service (busy server-ms per second).
    """
    duty = tr.duty.get(z.id, ())
    if len(duty) < 2 or nodes < 1:
        return tuple((job, f, 1.0) for job, f in duty)
    s = z.spec
    load = {}
    for job, _ in duty:
        calls, items = tr.job_load.get(job, {}).get(z.id, (0.0, 0.0))
        load[job] = calls * s.service_ms + items * s.per_item_ms
    total = sum(load.values())
    if total <= 0:
        return tuple((job, f, 1.0) for job, f in duty)
    return tuple((job, f, max(1, math.ceil(nodes * load[job] / total - 1e-9)) / nodes if load[job] > 0 else 0.0)
                 for job, f in duty)


def component_report(rp: ResolvedPattern, cid: str, tr: Traffic, z: Sized) -> ComponentReport:
    """One component's report: its sizing, then memory, storage, network and cost."""
    t = rp.types[cid]
    node = rp.graph.nodes[cid]
    k = component_costs(z, tr)
    st = z.station
    return ComponentReport(
        id=cid, label=node["label"], type=t.id, category=t.category, hardware=t.hardware, tier=node["tier"],
        status=z.status, on_request_path=z.on_request_path, calls_per_s=z.calls_per_s, items_per_s=z.items_per_s,
        items_per_call=z.items_per_call, service_ms=z.service_ms, service_cv=z.service_cv,
        concurrency=z.spec.concurrency, shards=z.shards, shard_access=t.shard_access, replicas=z.replicas,
        replicas_provisioned=z.replicas_provisioned, replicas_recommended=z.replicas_recommended, nodes=k.nodes,
        servers_per_shard=z.servers_per_shard, arrival_per_shard_per_s=z.arrival_per_shard_per_s,
        utilization=st.utilization if st is not None else 0.0, saturated=z.saturated,
        p_wait=st.p_wait if st is not None else None, mean_ms=z.mean_ms,
        p50_ms=st.p50_ms if st is not None else None, p99_ms=z.p99_ms, budget_ms=z.budget_ms,
        memory_gb=k.memory_gb, storage_gb=k.storage_gb, network_mb_s=k.network_mb_s, cost_usd_month=k.cost_usd_month,
        sizing_reason=z.sizing_reason, figures=LazyFigures(component_figures, z, k),
        request_service_ms=z.request_service_ms)


def component_figures(z: Sized, k: Costs) -> dict[str, Figure]:
    """Every figure of one component, in the order they are shown."""
    F = sizing_figures(z)
    if z.station is None:
        return F
    s = z.spec
    if z.data_in == "memory":
        F["memory_gb"] = Figure("memory_gb", "Memory held", k.memory_gb, "GB",
                                "data × replicas per shard (each replica holds its shard)",
                                (Input("data", s.data_gb, "GB"), Input("replicas per shard", z.replicas, "")))
    else:
        F["storage_gb"] = Figure("storage_gb", "Storage", k.storage_gb, "GB", "data × replication",
                                 (Input("data", s.data_gb, "GB"), Input("replication", s.replication, "")))
    F["network_mb_s"] = Figure("network_mb_s", "Network in", k.network_mb_s, "MB/s",
                               "Σ incoming calls/s × bytes per call ÷ 10⁶, bytes per call = envelope + items × "
                               "bytes per item",
                               tuple(Input(f"from {src}", r, f"calls/s × {fmt(b)} B") for src, r, b in k.network[:12]),
                               note="envelope (payload_bytes) defaults to 1,000 B: assumption, a request and "
                                    "response with headers and ids; connections without bytes_per_item send the "
                                    "envelope alone")
    duty_note = ""
    if k.duty:
        share = min(1.0, sum(f * w for _, f, w in k.duty))
        duty_note = (f" Only batch jobs use it ({', '.join(j for j, _, _ in k.duty)}), so it is billed for "
                     f"{share:.0%} of the month (see hours billed).")
        F["hours_billed"] = Figure(
            "hours_billed", "Hours billed", k.hours, "h/month",
            "730 h × min(1, Σ over its batch jobs of window ÷ schedule × share of the nodes the job keeps up)",
            tuple(Input(f"{j}: window ÷ schedule", f, "") for j, f, _ in k.duty[:6]) +
            tuple(Input(f"{j}: share of the nodes", w, "") for j, _, w in k.duty[:6]),
            note="share of the nodes = ⌈nodes × the job's share of the load⌉ ÷ nodes (one node at least when the job "
                 "sends any work; load = calls/s × base service + items/s × per-item service); assumption: a job's "
                 "window keeps up only the nodes its own work needs")
    F["cost_usd_month"] = Figure("cost_usd_month", "Cost per month", k.cost_usd_month, "USD",
                                 "nodes × price per hour × hours billed + storage GB × price per GB-month",
                                 (Input("nodes", k.nodes, ""), Input("price", s.cost_usd_per_hour, "USD/h"),
                                  Input("hours billed", k.hours, "h/month"),
                                  Input("storage", k.storage_gb, "GB"),
                                  Input("storage price", s.storage_usd_per_gb_month, "USD/GB-month")),
                                 note=f"price: {s.sources.get('cost_usd_per_hour', '')}.{duty_note}")
    F["nodes"] = Figure("nodes", "Nodes", k.nodes, "", "shards × replicas per shard × GPUs per replica",
                        (Input("shards", z.shards, ""), Input("replicas", z.replicas, ""),
                         Input("GPUs per replica", s.gpus_per_replica, "")),
                        note="GPUs per replica > 1 when the model does not fit one GPU (model-parallel shards)")
    F["status"] = status_figure(z)
    return F


def totals(comps: Mapping[str, ComponentReport]) -> Totals:
    """Sums over all components: nodes by hardware, memory, storage and cost."""
    by_hw: dict[str, int] = defaultdict(int)
    for c in comps.values():
        by_hw[c.hardware] += c.nodes
    memory = sum(c.memory_gb for c in comps.values())
    storage = sum(c.storage_gb for c in comps.values())
    money = sum(c.cost_usd_month for c in comps.values())
    F = {
        "cpu_replicas": Figure("cpu_replicas", "CPU nodes", by_hw["cpu"], "", "Σ nodes of CPU components",
                               tuple(Input(c.id, c.nodes, "") for c in comps.values() if c.hardware == "cpu")),
        "gpu_replicas": Figure("gpu_replicas", "GPU nodes", by_hw["gpu"], "", "Σ nodes of GPU components",
                               tuple(Input(c.id, c.nodes, "") for c in comps.values() if c.hardware == "gpu")),
        "memory_gb": Figure("memory_gb", "Memory held", memory, "GB", "Σ memory held per component",
                            tuple(Input(c.id, c.memory_gb, "GB") for c in comps.values() if c.memory_gb)),
        "storage_gb": Figure("storage_gb", "Storage", storage, "GB", "Σ storage per component",
                             tuple(Input(c.id, c.storage_gb, "GB") for c in comps.values() if c.storage_gb)),
        "cost_usd_month": Figure("cost_usd_month", "Cost per month", money, "USD", "Σ component cost per month",
                                 tuple(Input(c.id, c.cost_usd_month, "USD") for c in comps.values() if c.cost_usd_month)),
    }
    return Totals(cpu_replicas=by_hw["cpu"], gpu_replicas=by_hw["gpu"], managed_replicas=by_hw["managed"],
                  memory_gb=memory, storage_gb=storage, cost_usd_month=money, figures=F)
