"""Pass 1, traffic: evaluate every quantity, then push the load over the graph.

Requests enter at the request entry and flow over sync and async connections;
streams do the same from their own entries; batch jobs push their items over
batch connections during their window. The result says how many calls and items
reach each component, from where, and which components only batch jobs use.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx

from explorer.engine.constants import DEFAULT_UTILIZATION
from explorer.engine.ml import (
    GPUS,
    brute_force_scan,
    index_memory,
    model_memory,
    query_cost,
    ranker_feature_payload,
    shards_for,
    traffic_from_users,
)
from explorer.engine.ml.ann import IndexMemory, QueryCost, ScanCost, Shards
from explorer.engine.ml.features import FeaturePayload
from explorer.engine.ml.gpu import GpuSpec, ModelMemory
from explorer.engine.ml.traffic import Traffic as UserTraffic
from explorer.errors import ExpressionError, ScenarioError
from explorer.model.expressions import evaluate
from explorer.model.graph import propagation_order
from explorer.model.loader import ResolvedPattern
from explorer.model.pattern import Connection


@dataclass(frozen=True, slots=True)
class Term:
    """One stream of calls arriving at a component."""

    source: str
    source_rate: float
    calls: float
    rate: float
    items_per_call: float
    request: bool
    """True for calls on the synchronous request path (they wait in the shared queue, then take their own service)."""


@dataclass(frozen=True, slots=True)
class GpuServing:
    """A GPU component's evaluated ``gpu`` block."""

    kind: str
    gpu: GpuSpec
    launch_ms: float
    max_batch_items: int
    max_wait_ms: float
    instances_per_gpu: int


@dataclass(frozen=True, slots=True)
class ComponentML:
    """What the ML calculators said about one component (its ``gpu``, ``model`` and ``index`` blocks)."""

    gpu: GpuServing | None = None
    model: ModelMemory | None = None
    index: IndexMemory | None = None
    index_shards: Shards | None = None
    query: QueryCost | None = None
    scan: ScanCost | None = None


@dataclass(frozen=True, slots=True)
class Spec:
    """Evaluated numbers of one component."""

    service_ms: float
    per_item_ms: float
    concurrency: int
    cv: float
    memory_gb: float
    cost_usd_per_hour: float
    storage_usd_per_gb_month: float
    data_gb: float
    replication: int
    replicas: int
    budget_ms: float | None
    sources: Mapping[str, str]
    gpus_per_replica: int = 1
    """GPUs one replica spans (model-parallel shards when the model does not fit one GPU)."""
    fixed_shards: int | None = None
    """Shards set by an ML block (an ANN index's memory) instead of ``data``."""
    ml: ComponentML | None = None
    """The component's ML blocks, evaluated (None without ``gpu``, ``model`` or ``index``)."""


@dataclass(frozen=True, slots=True)
class JobRate:
    """A batch job's evaluated numbers."""

    items: float
    batch_items: float
    window_hours: float
    every_hours: float
    items_per_s: float


@dataclass(frozen=True, slots=True)
class Request:
    """Request-level numbers (no request section: no traffic, no target)."""

    qps: float
    target_ms: float
    target_utilization: float
    rtt_ms: float
    rtt_source: str
    users: UserTraffic | None = None
    """Peak QPS from daily active users (``request.users``), with its figures; None when QPS is declared."""


@dataclass(frozen=True, slots=True)
class Traffic:
    """What the traffic pass returns: load per component and per connection."""

    request: Request
    specs: Mapping[str, Spec]
    calls_per_s: Mapping[str, float]
    items_per_s: Mapping[str, float]
    terms: Mapping[str, tuple[Term, ...]]
    """Incoming streams of calls of each component, in the order they were pushed."""
    edge_rate: tuple[float, ...]
    """Calls per second on each connection (by index)."""
    edge_calls: tuple[float, ...]
    edge_items: tuple[float, ...]
    first_items: Mapping[str, float]
    """Items per call of a component's first incoming connection (used when it gets no calls)."""
    always_on: frozenset[str]
    """Components that requests or streams reach (billed all month)."""
    duty: Mapping[str, tuple[tuple[str, float], ...]]
    """For components only batch jobs reach: (job, share of the month it runs)."""
    job_rates: Mapping[str, JobRate]
    job_reach: Mapping[str, tuple[str, ...]]
    """Components each batch job reaches over batch connections, in propagation order."""
    job_load: Mapping[str, Mapping[str, tuple[float, float]]]
    """(calls/s, items/s) each batch job sends to each component it reaches, during its window."""
    network: Mapping[str, tuple[tuple[str, float, float], ...]]
    """Incoming (source, calls/s, bytes per call) of each component; bytes per call = envelope + items × bytes
    per item."""
    features: FeaturePayload | None = None
    """Feature bytes sent to the ranker per request (``ml.ranker_features``); also in the ranker's network in."""


@dataclass(frozen=True, slots=True)
class Evaluator:
    """Evaluates a pattern's quantities at scenario values; errors name the file and the path."""

    file: str
    values: Mapping[str, float]

    def __call__(self, quantity, where: str) -> float:
        try:
            return evaluate(quantity, self.values)
        except ExpressionError as exc:
            raise ScenarioError(f"{self.file}: {where}: {exc}") from None


@dataclass(slots=True)
class _Push:
    """What one push of traffic adds, as the additions themselves, in order: replaying them into running
    totals gives the same sums, bit for bit, as adding in place."""

    order: list[str]
    adds: list[tuple[str, float, float]]
    """(component, calls/s, items/s) added."""
    terms: list[tuple[str, Term]]
    edge_adds: list[tuple[int, float]]


def traffic(rp: ResolvedPattern, values: Mapping[str, float]) -> Traffic:
    """The traffic pass: evaluated specs, calls and items per component and per connection."""
    p = rp.pattern
    ev = Evaluator(rp.file, values)
    request = _request(rp, ev, values)
    specs = {c.id: _spec(rp, c, ev) for c in p.components}
    evaluated = [(ev(cn.calls, f"connections[{i}].calls"), ev(cn.items, f"connections[{i}].items"))
                 for i, cn in enumerate(p.connections)]
    edge_calls = tuple(k for k, _ in evaluated)
    edge_items = tuple(n for _, n in evaluated)
    first_items: dict[str, float] = {}
    for i, cn in enumerate(p.connections):
        first_items.setdefault(cn.target, edge_items[i])
    out_by_node: dict[str, list[tuple[int, Connection]]] = defaultdict(list)
    for i, cn in enumerate(p.connections):
        out_by_node[cn.source].append((i, cn))

    def push(sources: dict[str, tuple[float, float]], kinds: tuple[str, ...], label: str) -> _Push:
        return _push(rp.graph, out_by_node, edge_calls, edge_items, sources, kinds, label)

    pushes: list[_Push] = []
    always_on: set[str] = set()
    if p.request is not None:
        pushes.append(push({p.request.entry: (request.qps, 1.0)}, ("sync", "async"), "requests"))
        always_on |= set(pushes[-1].order)
        pushes.append(_clients(rp, request.qps))
    for j, stream in enumerate(p.streams):
        rate = ev(stream.rate_per_s, f"streams[{j}].rate_per_s")
        ipc = ev(stream.items, f"streams[{j}].items")
        pushes.append(push({stream.entry: (rate, ipc)}, ("sync", "async"), f"stream {stream.id}"))
        always_on |= set(pushes[-1].order)
    duty: dict[str, list[tuple[str, float]]] = defaultdict(list)
    job_rates: dict[str, JobRate] = {}
    job_reach: dict[str, tuple[str, ...]] = {}
    job_load: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
    for j, job in enumerate(p.batch_jobs):
        rates = _job_rate(ev, job, j)
        job_rates[job.id] = rates
        pushes.append(push({job.entry: (rates.items_per_s / rates.batch_items, rates.batch_items)}, ("batch",),
                           f"job {job.id}"))
        job_reach[job.id] = tuple(pushes[-1].order)
        for cid, k, n in pushes[-1].adds:
            was = job_load[job.id].get(cid, (0.0, 0.0))
            job_load[job.id][cid] = (was[0] + k, was[1] + n)
        for cid in pushes[-1].order:
            duty[cid].append((job.id, min(1.0, rates.window_hours / rates.every_hours)))

    calls, items, terms, edge_rate = _merge(pushes, len(p.connections))
    network: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    for i, cn in enumerate(p.connections):
        if edge_rate[i] > 0:
            network[cn.target].append((cn.source, edge_rate[i], _bytes_per_call(ev, cn, i, edge_items[i])))
    features = _ranker_features(rp, ev, request.qps)
    if features is not None:
        network[p.ml.ranker_features.ranker].append(("ranker features", request.qps, features.bytes_per_request))
    return Traffic(
        request=request, specs=specs, calls_per_s=calls, items_per_s=items, terms=terms,
        edge_rate=tuple(edge_rate), edge_calls=edge_calls, edge_items=edge_items, first_items=first_items,
        always_on=frozenset(always_on),
        duty={c: tuple(d) for c, d in duty.items() if c not in always_on},
        job_rates=job_rates, job_reach=job_reach, job_load=dict(job_load), network={c: tuple(n) for c, n in network.items()},
        features=features)


def _bytes_per_call(ev: Evaluator, cn: Connection, i: int, items: float) -> float:
    """Envelope bytes + items × bytes per item (the envelope alone when the connection gives no size per item)."""
    envelope = ev(cn.payload_bytes, f"connections[{i}].payload_bytes")
    if cn.bytes_per_item is None:
        return envelope
    return envelope + items * ev(cn.bytes_per_item, f"connections[{i}].bytes_per_item")


def _ranker_features(rp: ResolvedPattern, ev: Evaluator, qps: float) -> FeaturePayload | None:
    """``ml.ranker_features``: candidates × features × bytes per request into the ranker."""
    ml = rp.pattern.ml
    if ml is None or ml.ranker_features is None:
        return None
    f = ml.ranker_features
    return ranker_feature_payload(ev(f.candidates, "ml.ranker_features.candidates"),
                                  ev(f.features_per_candidate, "ml.ranker_features.features_per_candidate"),
                                  ev(f.bytes_per_feature, "ml.ranker_features.bytes_per_feature"), qps=qps)


def _request(rp: ResolvedPattern, ev: Evaluator, values: Mapping[str, float]) -> Request:
    r = rp.pattern.request
    if r is not None:
        users = None
        if r.users is not None:
            users = traffic_from_users(ev(r.users.dau, "request.users.dau"),
                                       ev(r.users.requests_per_user_per_day, "request.users.requests_per_user_per_day"),
                                       ev(r.users.peak_to_average, "request.users.peak_to_average"))
            qps = users.peak_qps
        elif r.peak_qps is not None:
            qps = ev(r.peak_qps, "request.peak_qps")
        else:
            raise ScenarioError(f"{rp.file}: request: declare request.peak_qps or request.users")
        req = Request(qps=qps, target_ms=ev(r.latency_target_ms, "request.latency_target_ms"),
                      target_utilization=ev(r.target_utilization, "request.target_utilization"),
                      rtt_ms=r.network_rtt_ms.value, rtt_source=r.network_rtt_ms.source, users=users)
    else:
        req = Request(qps=0.0, target_ms=math.inf, rtt_ms=0.0, rtt_source="",
                      target_utilization=values.get("target_utilization", DEFAULT_UTILIZATION))
    if not 0 < req.target_utilization < 1:
        raise ScenarioError(f"target utilisation {req.target_utilization:g} must be between 0 and 1")
    return req


def _job_rate(ev: Evaluator, job, j: int) -> JobRate:
    n = ev(job.items, f"batch_jobs[{j}].items")
    window = ev(job.window_hours, f"batch_jobs[{j}].window_hours")
    return JobRate(items=n, batch_items=ev(job.batch_items, f"batch_jobs[{j}].batch_items"), window_hours=window,
                   every_hours=ev(job.every_hours, f"batch_jobs[{j}].every_hours"),
                   items_per_s=n / (window * 3600.0))


def _push(G: nx.MultiDiGraph, out_by_node, edge_calls, edge_items, sources: dict[str, tuple[float, float]],
          kinds: tuple[str, ...], label: str) -> _Push:
    """Calls and items that ``sources`` send downstream over connections of ``kinds`` (back edges skipped)."""
    order, back = propagation_order(G, list(sources), kinds)
    rate: dict[str, float] = defaultdict(float)
    out = _Push(order, [], [], [])
    for s, (r, ipc) in sources.items():
        rate[s] += r
        out.adds.append((s, r, r * ipc))
        out.terms.append((s, Term(label, r, 1.0, r, ipc, label == "requests")))
    for u in order:
        if rate[u] == 0:
            continue
        for i, cn in out_by_node[u]:
            if cn.kind not in kinds or (u, cn.target, i) in back:
                continue
            r = rate[u] * edge_calls[i]
            rate[cn.target] += r
            out.adds.append((cn.target, r, r * edge_items[i]))
            out.edge_adds.append((i, r))
            out.terms.append((cn.target, Term(u, rate[u], edge_calls[i], r, edge_items[i], cn.kind == "sync")))
    return out


def _clients(rp: ResolvedPattern, qps: float) -> _Push:
    """The clients in front of the entry send the requests (drawn, not queued)."""
    p = rp.pattern
    front = [i for i, cn in enumerate(p.connections)
             if cn.target == p.request.entry and cn.kind == "sync" and rp.types[cn.source].category == "client"]
    out = _Push([], [], [], [])
    for i in front:
        out.edge_adds.append((i, qps / len(front)))
        out.adds.append((p.connections[i].source, qps / len(front), qps / len(front)))
    return out


def _merge(pushes: list[_Push], n_edges: int):
    """Replay the pushes' additions in order into running totals."""
    calls: dict[str, float] = defaultdict(float)
    items: dict[str, float] = defaultdict(float)
    terms: dict[str, list[Term]] = defaultdict(list)
    edge_rate = [0.0] * n_edges
    for ps in pushes:
        for c, k, n in ps.adds:
            calls[c] += k
            items[c] += n
        for c, term in ps.terms:
            terms[c].append(term)
        for i, r in ps.edge_adds:
            edge_rate[i] += r
    return calls, items, {c: tuple(v) for c, v in terms.items()}, edge_rate


def _spec(rp: ResolvedPattern, c, ev: Evaluator) -> Spec:
    t = rp.types[c.id]
    sources: dict[str, str] = {}
    picked = {name: _pick(rp, c, t, ev, name, default, sources)
              for name, default in (("service_ms", 1.0), ("per_item_ms", 0.0), ("concurrency", 1.0),
                                    ("service_cv", 1.0), ("memory_gb", 0.0), ("cost_usd_per_hour", 0.0))}
    storage_price = t.storage_usd_per_gb_month.value if t.storage_usd_per_gb_month else 0.0
    if t.storage_usd_per_gb_month:
        sources["storage_usd_per_gb_month"] = f"catalog {t.id}: {t.storage_usd_per_gb_month.source}"
    data_gb, replication = 0.0, 1
    if c.data is not None:
        data_gb = ev(c.data.items, f"components.{c.id}.data.items") * \
            ev(c.data.bytes_per_item, f"components.{c.id}.data.bytes_per_item") / 1e9
        replication = max(1, int(math.ceil(ev(c.data.replication, f"components.{c.id}.data.replication"))))
    replicas = int(math.ceil(ev(c.replicas, f"components.{c.id}.replicas") - 1e-9))
    budget = ev(c.latency_budget_ms, f"components.{c.id}.latency_budget_ms") if c.latency_budget_ms is not None else None
    concurrency = max(1, int(round(picked["concurrency"])))
    if t.hardware == "gpu" and picked["per_item_ms"] > 0:
        sources["concurrency"] = (f"one server per GPU: its rate is per item (per_item_ms), and the {concurrency} "
                                  f"model instance(s) of {sources['concurrency']} share it, they do not add to it")
        concurrency = 1
    gpus_per_replica, fixed_shards, ml = 1, None, None
    if c.gpu is not None or c.model is not None or c.index is not None:
        ml = _component_ml(rp, c, ev, picked, sources)
        if ml.model is not None and t.hardware == "gpu":
            gpus_per_replica = ml.model.shards
        if ml.index is not None:
            data_gb, fixed_shards = ml.index.total_gb, ml.index_shards.shards
    if picked["service_ms"] <= 0:
        raise ScenarioError(f"{rp.file}: components.{c.id}: service time must be > 0 (got {picked['service_ms']:g} ms)")
    return Spec(service_ms=picked["service_ms"], per_item_ms=picked["per_item_ms"],
                concurrency=concurrency, cv=picked["service_cv"],
                memory_gb=picked["memory_gb"], cost_usd_per_hour=picked["cost_usd_per_hour"],
                storage_usd_per_gb_month=storage_price, data_gb=data_gb, replication=replication,
                replicas=replicas, budget_ms=budget, sources=sources, gpus_per_replica=gpus_per_replica,
                fixed_shards=fixed_shards, ml=ml)


def _component_ml(rp: ResolvedPattern, c, ev: Evaluator, picked: dict[str, float],
                  sources: dict[str, str]) -> ComponentML:
    """Evaluate a component's ``gpu``, ``model`` and ``index`` blocks; they replace the catalog's numbers they
    model (``picked`` and ``sources`` are updated in place, each replacement says so in its source)."""
    where = f"components.{c.id}"
    gpu = None
    if c.gpu is not None:
        g = c.gpu
        spec = GPUS[g.kind]
        gpu = GpuServing(kind=g.kind, gpu=spec, launch_ms=ev(g.launch_ms, f"{where}.gpu.launch_ms"),
                         max_batch_items=max(1, int(round(ev(g.max_batch_items, f"{where}.gpu.max_batch_items")))),
                         max_wait_ms=ev(g.max_wait_ms, f"{where}.gpu.max_wait_ms"),
                         instances_per_gpu=max(1, int(round(ev(g.instances_per_gpu,
                                                                f"{where}.gpu.instances_per_gpu")))))
        picked["service_ms"] = gpu.launch_ms
        sources["service_ms"] = f"gpu.launch_ms: fixed GPU time per batch (kernel launches, transfers) in {rp.id}"
        picked["memory_gb"] = spec.memory_gb
        sources["memory_gb"] = f"GPU catalog {g.kind}: {spec.source}"
        if c.overrides.cost_usd_per_hour is None:
            picked["cost_usd_per_hour"] = spec.price_usd_per_hour
            sources["cost_usd_per_hour"] = f"GPU catalog {g.kind}: {spec.source}"
        sources["concurrency"] = (f"one server per GPU: the {gpu.instances_per_gpu} model instance(s) of "
                                  "gpu.instances_per_gpu share the GPU's compute, they do not add to it")
    model = None
    if c.model is not None:
        m = c.model
        batch = gpu.max_batch_items if gpu is not None else 1
        if picked["memory_gb"] <= 0:
            raise ScenarioError(f"{rp.file}: {where}.model: type {c.type!r} declares no memory per node to hold "
                                "the model (give overrides.memory_gb)")
        model = model_memory(ev(m.parameters, f"{where}.model.parameters"), m.precision,
                             ev(m.activation_mb_per_item, f"{where}.model.activation_mb_per_item"), batch,
                             picked["memory_gb"], device="gpu" if gpu is not None else "cpu")
    index = shards = query = scan = None
    if c.index is not None:
        x = c.index
        n = ev(x.vectors, f"{where}.index.vectors")
        dim = int(round(ev(x.dim, f"{where}.index.dim")))
        knobs = dict(pq_code_bytes=int(round(ev(x.pq_code_bytes, f"{where}.index.pq_code_bytes"))),
                     hnsw_m=int(round(ev(x.hnsw_m, f"{where}.index.hnsw_m"))))
        index = index_memory(n, dim, x.type, **knobs)
        shards = shards_for(index.total_gb, picked["memory_gb"])
        query = query_cost(n, dim, x.type, k=int(round(ev(x.k, f"{where}.index.k"))),
                           nprobe=int(round(ev(x.nprobe, f"{where}.index.nprobe"))),
                           ef_search=int(round(ev(x.ef_search, f"{where}.index.ef_search"))),
                           shards=shards.shards, **knobs)
        scan = brute_force_scan(n, dim, shards=shards.shards)
        picked["service_ms"], picked["per_item_ms"] = query.time_ms_per_shard, 0.0
        sources["service_ms"] = (f"index: {x.type} query cost per shard ({query.figures['time_ms_per_shard'].formula}"
                                 "; calibration in the ML section)")
        sources["per_item_ms"] = "index: the query cost already counts k and the candidates visited"
    return ComponentML(gpu=gpu, model=model, index=index, index_shards=shards, query=query, scan=scan)


def _pick(rp: ResolvedPattern, c, t, ev: Evaluator, name: str, default: float, sources: dict[str, str]) -> float:
    """The pattern's override, else the catalog's number, else ``default``; records where it came from."""
    o = getattr(c.overrides, name)
    if o is not None:
        sources[name] = f"{rp.id}: {o.source}"
        return ev(o.value, f"components.{c.id}.overrides.{name}")
    base = getattr(t, name)
    if base is None:
        sources[name] = "default (none given in the catalog)"
        return default
    sources[name] = f"catalog {t.id}: {base.source}"
    return base.value
