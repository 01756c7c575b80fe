"""Pass 2, sizing: data → shards, replicas recommended and used, and each station's queueing figures.

Every component becomes a :class:`Sized`: how its calls split over shards, how
many replicas meet the utilisation target and (on the request path) its p99
budget, how many it runs in this mode, and what its queue then looks like.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from explorer.engine import queueing
from explorer.engine.constants import USABLE_MEMORY_FRACTION, Deadline
from explorer.engine.report import Figure, Input, Status
from explorer.engine.traffic import Spec, Term, Traffic
from explorer.model.loader import ResolvedPattern
from explorer.units import fmt


@dataclass(frozen=True, slots=True)
class Sized:
    """One component after sizing (clients: ``status == "external"``, no station).

    Holds the numbers; :func:`sizing_figures` turns them into traced figures when someone asks.
    """

    id: str
    category: str
    data_in: str
    shard_access: str
    spec: Spec
    terms: tuple[Term, ...]
    status: Status
    on_request_path: bool
    calls_per_s: float
    items_per_s: float
    items_per_call: float
    service_ms: float
    service_cv: float
    """cv of the component type (the request class's own service variability)."""
    queue_cv: float
    """cv of everything arriving (differs from the type's when calls of different sizes share the queue)."""
    request_service_ms: float | None
    shards: int
    shard_terms: tuple[Term, ...]
    """The incoming streams as calls to single shards (a k-key read over S shards becomes one call to each shard
    it touches, carrying k ÷ touched keys); the same as ``terms`` unless a multi-key call spreads over shards."""
    shards_per_call: float
    items_per_shard_call: float
    """Items (keys) per call to one shard: items per call ÷ shards touched when a call spreads over shards."""
    """Shards a request-path call touches: all of them (``shard_access: all``), S·(1 − (1 − 1/S)^k) for k keys
    over S shards, else 1."""
    arrival_per_shard_per_s: float
    replicas: int
    replicas_provisioned: int
    replicas_recommended: int | None
    servers_per_shard: int
    budget_ms: float | None
    sized: queueing.Sizing | None
    station: queueing.StationFigures | None
    mode: str
    target_utilization: float

    @property
    def scatters(self) -> bool:
        """True when a call's keys spread over more than one shard of a key-sharded store."""
        return self.shard_access == "one" and self.shards > 1 and self.shards_per_call > 1 + 1e-9

    @property
    def sizing_reason(self) -> str:
        return self.sized.reason if self.sized is not None else ""

    @property
    def saturated(self) -> bool:
        return self.station is not None and self.station.saturated

    @property
    def utilization(self) -> float:
        return self.station.utilization if self.station is not None else 0.0

    @property
    def mean_ms(self) -> float | None:
        return self.station.mean_ms if self.station is not None else None

    @property
    def p99_ms(self) -> float | None:
        return self.station.p99_ms if self.station is not None else None


def sizing(rp: ResolvedPattern, tr: Traffic, budgets: Mapping[str, float], on_path: frozenset[str] | set[str],
           mode: str, deadline: Deadline) -> dict[str, Sized]:
    """The sizing pass over every component (checks the deadline between components)."""
    out: dict[str, Sized] = {}
    for c in rp.pattern.components:
        deadline.check()
        out[c.id] = size_component(rp, c.id, tr, budgets.get(c.id), c.id in on_path, mode)
    return out


def size_component(rp: ResolvedPattern, cid: str, tr: Traffic, budget: float | None, on_path: bool,
                   mode: str) -> Sized:
    """Shards, replicas and the station of one component.

    A call of k keys to a store sharded by key (``shard_access: one``) over S shards touches
    S·(1 − (1 − 1/S)^k) shards on average; each touched shard serves one call of k ÷ touched keys, and the
    caller waits for the slowest of them (the latency pass takes the maximum of that many copies).
    """
    t = rp.types[cid]
    s = tr.specs[cid]
    u_target = tr.request.target_utilization
    lam = tr.calls_per_s.get(cid, 0.0)
    items_s = tr.items_per_s.get(cid, 0.0)
    terms = tr.terms.get(cid, ())
    ipc = items_s / lam if lam > 0 else tr.first_items.get(cid, 1.0)
    shards = 1 if t.category == "client" else _shards(s, t.data_in)
    shard_terms, lam_sub, ipc_sub, fan = terms, lam, ipc, float(shards) if t.shard_access == "all" else 1.0
    if t.shard_access == "one" and shards > 1 and (ipc > 1 or any(x.items_per_call > 1 for x in terms)):
        shard_terms = tuple(replace(x, rate=x.rate * touched_shards(shards, x.items_per_call),
                                    items_per_call=x.items_per_call / touched_shards(shards, x.items_per_call))
                            for x in terms)
        lam_sub = sum(x.rate for x in shard_terms)
        ipc_sub = items_s / lam_sub if lam_sub > 0 else ipc / touched_shards(shards, ipc)
        fan = _request_fanout(shards, terms, ipc)
    service = s.service_ms + s.per_item_ms * ipc_sub
    cv, request_service = service_mix(s, shard_terms, service)
    common = dict(id=cid, category=t.category, data_in=t.data_in, shard_access=t.shard_access, spec=s, terms=terms,
                  on_request_path=on_path, calls_per_s=lam, items_per_s=items_s, items_per_call=ipc,
                  service_ms=service, service_cv=s.cv, queue_cv=cv, mode=mode, target_utilization=u_target,
                  shard_terms=shard_terms, shards_per_call=fan, items_per_shard_call=ipc_sub)
    if t.category == "client":
        return Sized(**common, status=Status.EXTERNAL, request_service_ms=None, shards=1, arrival_per_shard_per_s=lam,
                     replicas=0, replicas_provisioned=0, replicas_recommended=None, servers_per_shard=0,
                     budget_ms=None, sized=None, station=None)
    lam_shard = lam if t.shard_access == "all" else lam_sub / shards
    sized, recommended, provisioned, used = _replicas(s, lam_shard, service, cv, u_target,
                                                      budget if on_path and budget is not None and lam_shard > 0
                                                      else None, mode)
    st = queueing.station(lam_shard, service, used * s.concurrency, service_cv=cv)
    return Sized(**common, status=_status(lam, st, mode, recommended, u_target), request_service_ms=request_service,
                 shards=shards, arrival_per_shard_per_s=lam_shard, replicas=used, replicas_provisioned=provisioned,
                 replicas_recommended=recommended, servers_per_shard=used * s.concurrency, budget_ms=budget,
                 sized=sized, station=st)


def touched_shards(shards: int, keys: float) -> float:
    """Mean number of distinct shards that ``keys`` keys, each on a uniformly random one of ``shards``, fall on.

    S·(1 − (1 − 1/S)^k): each shard is missed by all k keys with probability (1 − 1/S)^k. One key (or fewer)
    touches one shard.

    Examples
    --------
    >>> touched_shards(4, 1)
    1.0
    >>> round(touched_shards(257, 500), 1)
    220.4
    >>> touched_shards(1, 500)
    1.0
    """
    if shards <= 1 or keys <= 1:
        return 1.0
    return shards * -math.expm1(keys * math.log1p(-1.0 / shards))


def _request_fanout(shards: int, terms: tuple[Term, ...], ipc: float) -> float:
    """Shards touched per call, averaged over request-path calls (all calls when none is on the request path)."""
    weighted = [x for x in terms if x.request and x.rate > 0] or [x for x in terms if x.rate > 0]
    total = sum(x.rate for x in weighted)
    if total <= 0:
        return touched_shards(shards, ipc)
    return sum(x.rate * touched_shards(shards, x.items_per_call) for x in weighted) / total


def settle(sized: Mapping[str, Sized], end_to_end_meets: bool) -> dict[str, Sized]:
    """Stages that missed only their share of the budget, once the end-to-end result is known.

    A share is a heuristic split of the target (in proportion to mean service time); the composed end-to-end
    percentile is what the target is about. In auto-size a stage whose share lies below its own service-time
    p99 runs the utilisation-sized count; if the end-to-end target is met with that count, the stage is not
    infeasible: it is recommended at that count, and its reason says its share was too tight. A stage past the
    sizing search's cap stays infeasible (its count is a lower bound, not a searched one).
    """
    if not end_to_end_meets:
        return dict(sized)
    return {cid: _settled(z) if z.status == Status.INFEASIBLE and z.mode == "autosize" and z.sized is not None
            and z.sized.lower_bound_servers is None else z for cid, z in sized.items()}


def _settled(z: Sized) -> Sized:
    share = z.sized.reason.rstrip(".") if z.sized is not None else ""
    reason = (f"{z.servers_per_shard} servers: the utilization target {fmt(z.target_utilization)} binds; its share "
              f"of the budget is too tight on its own ({share[:1].lower() + share[1:]}), but the end-to-end "
              "percentile meets the target with this count.")
    sized = queueing.Sizing(z.servers_per_shard, False, reason, "utilization")
    return replace(z, sized=sized, replicas_recommended=z.replicas,
                   status=_status(z.calls_per_s, z.station, z.mode, z.replicas, z.target_utilization))


def sizing_figures(z: Sized) -> dict[str, Figure]:
    """Traffic, sizing and queueing figures of one component, in the order they are shown
    (the status figure is not among them unless the component is a client: it comes last)."""
    F = _traffic_figures(z.spec, z.calls_per_s, z.items_per_s, z.items_per_call, z.service_ms, z.terms,
                         z.items_per_shard_call if z.scatters else None)
    if z.station is None:
        F["status"] = Figure("status", "Status", Status.EXTERNAL, "", "clients are the source of traffic, not a queue")
        return F
    s = z.spec
    F["shards"] = _shards_figure(s, z.data_in, z.shards)
    if z.scatters:
        F["shards_per_call"] = Figure(
            "shards_per_call", "Shards touched per call", z.shards_per_call, "shards",
            "S·(1 − (1 − 1/S)^k): k keys, each on one of S shards at random (averaged over request-path calls)",
            (Input("S (shards)", z.shards, ""),) + (
                tuple(Input(f"k from {x.source}", x.items_per_call, "keys") for x in z.terms[:12] if x.request)
                or (Input("k (keys per call)", z.items_per_call, "keys"),)),
            note="the call waits for the slowest of the shards it touches; keys are assumed spread uniformly")
        F["arrival_per_shard_per_s"] = Figure(
            "arrival_per_shard_per_s", "Arrival rate per shard", z.arrival_per_shard_per_s, "calls/s",
            "Σ over incoming streams of calls/s × shards touched per call ÷ shards (a multi-key read visits "
            "every shard holding one of its keys)",
            tuple(Input(f"from {x.source}", x.rate, f"calls/s × {fmt(y.rate / x.rate if x.rate else 1.0)} shards")
                  for x, y in zip(z.terms[:12], z.shard_terms[:12], strict=True)) + (Input("shards", z.shards, ""),))
    else:
        F["arrival_per_shard_per_s"] = Figure(
            "arrival_per_shard_per_s", "Arrival rate per shard", z.arrival_per_shard_per_s, "calls/s",
            "every shard sees every call (scatter-gather)" if z.shard_access == "all"
            else "λ ÷ shards (a call hits one shard)",
            (Input("λ", z.calls_per_s, "calls/s"), Input("shards", z.shards, "")))
    _replica_figures(F, s, z.arrival_per_shard_per_s, z.service_ms, z.target_utilization, z.budget_ms, z.sized,
                     z.replicas_recommended, z.replicas_provisioned, z.replicas, z.servers_per_shard, z.mode)
    _queue_figures(F, s, z.station, z.arrival_per_shard_per_s, z.service_ms, z.servers_per_shard, z.queue_cv,
                   z.request_service_ms, z.shard_terms)
    if z.budget_ms is not None:
        F["budget_ms"] = Figure("budget_ms", "Latency budget", z.budget_ms, "ms",
                                "explicit in the pattern" if s.budget_ms is not None else
                                "target × this stage's service time ÷ the service time of the longest request path "
                                "through it (each callee counted as often as it runs per call of its caller: p for a "
                                "call made with probability p, k for k sequential calls)",
                                (Input("target", z.budget_ms, "ms"),))
    return F


def status_figure(z: Sized) -> Figure:
    """Why the component has its status."""
    return Figure("status", "Status", z.status, "",
                  "saturated if λ ≥ c·μ; hot if ρ > target; infeasible if no replica count meets the budget",
                  (Input("ρ", z.station.utilization, ""), Input("target ρ", z.target_utilization, "")))


def _traffic_figures(s: Spec, lam: float, items_s: float, ipc: float, service: float,
                     terms: tuple[Term, ...], ipc_shard: float | None = None) -> dict[str, Figure]:
    """Arrival, items per call and service time; ``ipc_shard`` when a multi-key call spreads over shards
    (the service time is then that of one shard's part of the call)."""
    sources = "Sources: " + "; ".join(f"{k}: {v}" for k, v in s.sources.items() if k in ("service_ms", "per_item_ms"))
    if ipc_shard is None:
        service_f = Figure("service_ms", "Mean service time", service, "ms", "S = base + per-item × items per call",
                           (Input("base", s.service_ms, "ms"), Input("per-item", s.per_item_ms, "ms"),
                            Input("items per call", ipc, "items")), note=sources)
    else:
        service_f = Figure("service_ms", "Mean service time", service, "ms",
                           "S = base + per-item × keys per shard call (items/s ÷ calls to single shards/s)",
                           (Input("base", s.service_ms, "ms"), Input("per-item", s.per_item_ms, "ms"),
                            Input("keys per shard call", ipc_shard, "items")), note=sources)
    return {
        "calls_per_s": Figure("calls_per_s", "Arrival rate", lam, "calls/s",
                              "λ = Σ over incoming connections of (upstream calls/s × calls per upstream call)",
                              tuple(Input(f"from {t.source}", t.source_rate, f"calls/s × {fmt(t.calls)}")
                                    for t in terms[:12])),
        "items_per_call": Figure("items_per_call", "Items per call", ipc, "items",
                                 "items/s ÷ calls/s (weighted over incoming connections)",
                                 (Input("items/s", items_s, "items/s"), Input("λ", lam, "calls/s"))),
        "service_ms": service_f,
    }


def _shards(s: Spec, data_in: str) -> int:
    """data → memory → shards (in-memory data split so each node's usable memory holds its part)."""
    if s.fixed_shards is not None:
        return s.fixed_shards
    usable = s.memory_gb * USABLE_MEMORY_FRACTION
    if s.data_gb > 0 and data_in == "memory" and usable > 0:
        return max(1, math.ceil(s.data_gb / usable - 1e-9))
    return 1


def _shards_figure(s: Spec, data_in: str, shards: int) -> Figure:
    if s.fixed_shards is not None and s.ml is not None and s.ml.index_shards is not None:
        f = s.ml.index_shards.figures["shards"]
        return Figure("shards", "Shards", shards, "", f.formula, f.inputs,
                      note=f"the {s.ml.index.index_type} index's memory by type (ML section), not data. {f.note}".strip())
    if s.data_gb > 0 and data_in == "memory" and s.memory_gb * USABLE_MEMORY_FRACTION > 0:
        return Figure("shards", "Shards", shards, "", "shards = ⌈data ÷ (memory per node × usable fraction)⌉",
                      (Input("data", s.data_gb, "GB"), Input("memory per node", s.memory_gb, "GB"),
                       Input("usable fraction", USABLE_MEMORY_FRACTION, "")),
                      note=f"memory per node: {s.sources.get('memory_gb', '')}; usable fraction is an assumption")
    return Figure("shards", "Shards", 1, "", "no in-memory data to split" if s.data_gb == 0
                  else "data lives on disk; one logical shard")


def _replicas(s: Spec, lam_shard: float, service: float, cv: float, u_target: float, p99_budget: float | None,
              mode: str) -> tuple[queueing.Sizing, int | None, int, int]:
    """The fewest servers meeting the utilisation target and (on the request path) the p99 budget,
    as replicas: (sizing, recommended, provisioned, used in this mode)."""
    sized = queueing.size_servers(lam_shard, service, target_utilization=u_target, p99_target_ms=p99_budget,
                                  service_cv=cv)
    u_only = sized if not sized.infeasible else queueing.size_servers(
        lam_shard, service, target_utilization=u_target, service_cv=cv)
    if u_only.lower_bound_servers is not None and sized.lower_bound_servers is None:
        sized = replace(sized, reason=f"{sized.reason} {u_only.reason}",
                        lower_bound_servers=u_only.lower_bound_servers)
    recommended = None
    if not sized.infeasible and sized.min_servers is not None:
        recommended = max(s.replication, math.ceil(sized.min_servers / s.concurrency))
    provisioned = max(s.replicas, s.replication) if s.replicas > 0 else 0
    if mode == "autosize":
        # past the search's cap there is no count that is known to meet every target, but there is a count
        # the load needs at least: run (and bill) that, not one replica
        servers = u_only.min_servers or u_only.lower_bound_servers or sized.lower_bound_servers or 1
        fallback = max(s.replication, math.ceil(servers / s.concurrency))
        used = recommended if recommended is not None else fallback
    else:
        used = provisioned
    return sized, recommended, provisioned, used


def _replica_figures(F: dict[str, Figure], s: Spec, lam_shard: float, service: float, u_target: float,
                     budget: float | None, sized: queueing.Sizing, recommended: int | None, provisioned: int,
                     used: int, servers: int, mode: str) -> None:
    F["replicas_recommended"] = Figure(
        "replicas_recommended", "Recommended replicas per shard", recommended, "",
        "fewest replicas r with ρ = λ·S/(r·k) ≤ target and p99 ≤ budget (p99 falls as r grows)",
        (Input("λ per shard", lam_shard, "calls/s"), Input("S", service, "ms"), Input("k (concurrency)", s.concurrency, ""),
         Input("target ρ", u_target, ""), Input("p99 budget", budget, "ms"),
         Input("replication floor", s.replication, "")), note=sized.reason)
    if sized.lower_bound_servers is not None:
        F["replicas_needed"] = Figure(
            "replicas_needed", "Replicas needed (lower bound)", math.ceil(sized.lower_bound_servers / s.concurrency),
            "", "⌈max(⌊a⌋ + 1, ⌈a ÷ target ρ⌉) ÷ k⌉ with a = λ·S (Erlangs): past the sizing search's cap, the fewest "
            "replicas the load needs at least (a p99 budget may need more)",
            (Input("λ per shard", lam_shard, "calls/s"), Input("S", service, "ms"),
             Input("a", lam_shard * service / 1000.0, "Erlangs"), Input("target ρ", u_target, ""),
             Input("k (concurrency)", s.concurrency, "")), note=sized.reason)
    F["replicas"] = Figure("replicas", "Replicas per shard", used, "",
                           ("set in the scenario (auto-size this component)" if s.sources.get("replicas")
                            == "set in the scenario" else "provisioned in the pattern") if mode == "provisioned" else
                           "auto-size: the recommended count" if recommended is not None else
                           "auto-size: no count meets every target; the utilisation-sized count (a lower bound "
                           "past the search's cap)",
                           (Input("provisioned", provisioned, ""), Input("recommended", recommended, "")))
    F["servers"] = Figure("servers", "Servers per shard (c)", servers, "", "c = replicas × concurrency per replica",
                          (Input("replicas", used, ""), Input("concurrency", s.concurrency, "calls")),
                          note=f"concurrency: {s.sources.get('concurrency', '')}")


def _queue_figures(F: dict[str, Figure], s: Spec, st: queueing.StationFigures, lam_shard: float, service: float,
                   servers: int, cv: float, request_service: float | None, terms: tuple[Term, ...]) -> None:
    F["utilization"] = Figure("utilization", "Utilisation", st.utilization if math.isfinite(st.utilization) else None,
                              "", "ρ = λ·S / c", (Input("λ", lam_shard, "calls/s"), Input("S", service, "ms"),
                                                  Input("c", servers, "servers")),
                              note="saturated: arrivals reach or exceed capacity" if st.saturated else "")
    model = "M/M/c (exact)" if cv == 1 else f"M/G/c, Allen–Cunneen correction with service cv = {fmt(cv)}"
    q_inputs = (Input("λ", lam_shard, "calls/s"), Input("S", service, "ms"), Input("c", servers, "servers"),
                Input("cv", cv, ""))
    if cv != s.cv:
        F["service_cv"] = Figure(
            "service_cv", "Service-time variability (cv)", cv, "",
            "calls of different sizes share one queue: cv² = E[S²]/E[S]² − 1 with E[S²] = Σ wᵢ·Sᵢ²·(1 + cv_type²)",
            tuple(Input(f"from {t.source}", s.service_ms + s.per_item_ms * t.items_per_call, f"ms × {fmt(t.rate)} calls/s")
                  for t in terms[:12]) + (Input("cv of the type", s.cv, ""),),
            note="mixing small request calls with large batch calls lengthens everyone's wait (head-of-line blocking)")
    if request_service is not None and not st.saturated:
        law = queueing.class_response_time(st, request_service, s.cv)
        F["request_p99_ms"] = Figure(
            "request_p99_ms", "p99 of request-path calls", law.quantile_ms(0.99), "ms",
            "wait in the shared queue (all calls) + this call's own service time",
            (Input("P(wait)", st.p_wait, ""), Input("mean wait if waiting", (st.mean_wait_ms or 0) / st.p_wait
                                                       if st.p_wait else 0.0, "ms"),
             Input("own service", request_service, "ms"), Input("cv of the type", s.cv, "")))
    F["p_wait"] = Figure("p_wait", "P(wait)", st.p_wait, "", "Erlang C: C = B / (1 − ρ(1 − B)), B by the stable Erlang-B recursion",
                         q_inputs, note=model)
    F["mean_ms"] = Figure("mean_ms", "Mean response", st.mean_ms, "ms", "W = C / (cμ − λ) · (ca² + cs²)/2 + S",
                          q_inputs, note=model)
    F["p50_ms"] = Figure("p50_ms", "p50 response", st.p50_ms, "ms", "solve P(T > t) = 0.5 on the response-time tail",
                         q_inputs, note=model)
    F["p99_ms"] = Figure("p99_ms", "p99 response", st.p99_ms, "ms",
                         "solve P(T > t) = 0.01, P(T>t) = (1−C)·P(S>t) + C·P(Wq+S>t)", q_inputs, note=model)


def _status(lam: float, st: queueing.StationFigures, mode: str, recommended: int | None, u_target: float) -> Status:
    if lam == 0:
        return Status.IDLE
    if st.saturated:
        return Status.SATURATED
    if mode == "autosize" and recommended is None:
        return Status.INFEASIBLE
    if st.utilization > u_target + 1e-9:
        return Status.HOT
    return Status.OK


def service_mix(s: Spec, terms: tuple[Term, ...], mean_service: float) -> tuple[float, float | None]:
    """Service-time cv of everything arriving, and the mean service of request-path calls.

    Returns the type's cv and ``None`` when all calls are alike; otherwise the cv of the
    mixture (E[S²] = Σ wᵢ·Sᵢ²·(1 + cv²)) and the request calls' own mean service time.
    """
    total = sum(t.rate for t in terms)
    if total <= 0:
        return s.cv, None
    sizes = [(t.rate, s.service_ms + s.per_item_ms * t.items_per_call, t.request) for t in terms]
    if max(x for _, x, _ in sizes) - min(x for _, x, _ in sizes) <= 1e-9 * mean_service:
        return s.cv, None
    second = sum(r * x * x for r, x, _ in sizes) / total * (1 + s.cv * s.cv)
    cv = math.sqrt(max(second / (mean_service * mean_service) - 1.0, 0.0))
    req_rate = sum(r for r, _, q in sizes if q)
    request = sum(r * x for r, x, q in sizes if q) / req_rate if req_rate > 0 else None
    return cv, request
