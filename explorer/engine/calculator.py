"""Back-of-the-envelope calculator: one queueing station, and a chain of stages with fan-out.

Same engine as the rest of the product: :mod:`explorer.engine.queueing` for a station,
:mod:`explorer.engine.distributions` for composing stages. Every result is a
:class:`~explorer.engine.report.Figure` with its formula and inputs.

The chain shows why percentiles do not add. Each stage sends the request to ``k``
branches in parallel (``k = 1`` is a plain call) and waits for all of them; stages run
one after another. Two popular shortcuts are compared with the p99 of the composed
distribution:

* **sum of stage p99s** — adding percentiles along a chain: too pessimistic, because
  the stages are rarely slow on the same request;
* **max of branch p99s** — taking the slowest branch's p99 for a fan-out: too
  optimistic, because with ``k`` branches the request waits for the slowest of ``k``
  draws, whose p99 is a branch's ``0.99^(1/k)`` quantile (p99.99 of a branch for k = 100).

Examples
--------
>>> r = station_figures(50.0, 10.0, 1)                 # M/M/1: mu = 100/s, lambda = 50/s
>>> round(r.figures["p99_ms"].value, 3)                # ln(100) / (mu - lambda) in ms
92.103
>>> chain = chain_figures(200.0, [StageSpec("a", 5.0, 2), StageSpec("b", 5.0, 2)])
>>> chain.figures["sum_stage_p99_ms"].value > chain.figures["true_p99_ms"].value
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from explorer.engine import distributions as dist
from explorer.engine import queueing
from explorer.engine.report import Figure, Input
from explorer.errors import ExplorerError, ScenarioError
from explorer.units import fmt

LATTICE_POINTS = 4096
"""Points of the time lattice the chain is composed on (as in the capacity analysis)."""
MAX_FANOUT = 10_000
MAX_STAGES = 8
MAX_SERVERS = 1_000_000


# --------------------------------------------------------------------------- one station

@dataclass(frozen=True)
class StationResult:
    """Figures of one station, keyed ``offered_load``, ``utilization``, ``capacity_per_s``, ``p_wait``,
    ``mean_wait_ms``, ``mean_ms``, ``p50_ms``, ``p99_ms``, ``pq_ms`` (an extra percentile) and, with a
    target, ``min_servers`` and ``p99_at_min_ms``. M/M/1 adds ``p99_closed_form_ms``."""

    arrival_per_s: float
    service_ms: float
    servers: int
    service_cv: float
    saturated: bool
    model: str
    figures: dict[str, Figure] = field(default_factory=dict)


def _check_station(arrival_per_s: float, service_ms: float, servers: int, service_cv: float) -> None:
    if not (isinstance(arrival_per_s, (int, float)) and math.isfinite(arrival_per_s) and arrival_per_s >= 0):
        raise ScenarioError(f"the arrival rate must be a number of 0 or more calls/s (got {arrival_per_s!r})")
    if not (isinstance(service_ms, (int, float)) and math.isfinite(service_ms) and service_ms > 0):
        raise ScenarioError(f"the service time must be more than 0 ms (got {service_ms!r})")
    if isinstance(servers, bool) or not isinstance(servers, int) or not 1 <= servers <= MAX_SERVERS:
        raise ScenarioError(f"servers must be a whole number from 1 to {MAX_SERVERS:,} (got {servers!r})")
    if not (isinstance(service_cv, (int, float)) and math.isfinite(service_cv) and 0 <= service_cv <= 10):
        raise ScenarioError(f"the service-time variability (cv) must be between 0 and 10 (got {service_cv!r})")


def station_figures(arrival_per_s: float, service_ms: float, servers: int, service_cv: float = 1.0, *,
                    p99_target_ms: float | None = None, target_utilization: float | None = None,
                    percentile: float = 99.9) -> StationResult:
    """Utilisation, P(wait), mean/p50/p99 and the fewest servers for a p99 target, for one station.

    Parameters
    ----------
    arrival_per_s : float
        Arrival rate λ in calls per second.
    service_ms : float
        Mean service time S of one call in milliseconds (μ = 1000 / S per second).
    servers : int
        Servers c sharing one queue.
    service_cv : float, default 1
        Coefficient of variation of the service time: 1 is exponential (M/M/c, exact);
        other values use the Allen–Cunneen approximation (G/G/c).
    p99_target_ms, target_utilization : float, optional
        Targets for sizing: the fewest servers meeting both.
    percentile : float, default 99.9
        An extra percentile to report (``pq_ms``).
    """
    _check_station(arrival_per_s, service_ms, servers, service_cv)
    if not 50 <= percentile < 100:
        raise ScenarioError(f"the extra percentile must be between 50 and 100 (got {percentile!r})")
    st = queueing.station(float(arrival_per_s), float(service_ms), servers, service_cv=float(service_cv))
    lam, s, c, cv = st.arrival_rate_per_s, st.service_ms, st.servers, st.service_cv
    mu = 1000.0 / s
    model = "M/M/c (exact)" if cv == 1 else f"G/G/c by Allen–Cunneen (service cv = {fmt(cv)})"
    base = (Input("λ", lam, "calls/s"), Input("S", s, "ms"), Input("c", c, "servers"))
    q_inputs = base + (Input("cv", cv, ""),)
    F: dict[str, Figure] = {}
    F["offered_load"] = Figure("offered_load", "Offered load", st.offered_load, "Erlangs", "a = λ·S",
                               base[:2], note="busy servers needed on average")
    F["utilization"] = Figure("utilization", "Utilisation", st.utilization, "", "ρ = λ·S / c", base,
                              note="saturated: arrivals reach or exceed capacity, the queue grows without bound"
                              if st.saturated else "")
    F["capacity_per_s"] = Figure("capacity_per_s", "Capacity", c * mu, "calls/s", "c·μ = c × 1000 / S",
                                 (Input("c", c, "servers"), Input("S", s, "ms")))
    F["p_wait"] = Figure("p_wait", "P(wait)", st.p_wait, "",
                         "Erlang C: C = B / (1 − ρ(1 − B)), B by the Erlang-B recursion", q_inputs, note=model)
    F["mean_wait_ms"] = Figure("mean_wait_ms", "Mean wait in queue", st.mean_wait_ms, "ms",
                               "Wq = C / (cμ − λ) × (ca² + cs²)/2", q_inputs, note=model)
    F["mean_ms"] = Figure("mean_ms", "Mean response", st.mean_ms, "ms", "W = Wq + S", q_inputs, note=model)
    F["p50_ms"] = Figure("p50_ms", "p50 response", st.p50_ms, "ms", "solve P(T > t) = 0.5", q_inputs, note=model)
    F["p99_ms"] = Figure("p99_ms", "p99 response", st.p99_ms, "ms",
                         "solve P(T > t) = 0.01 with P(T > t) = (1 − C)·P(S > t) + C·P(Wq + S > t)", q_inputs,
                         note=model)
    pq = None if st.saturated else queueing.response_quantile(st, percentile / 100.0)
    F["pq_ms"] = Figure("pq_ms", f"p{fmt(percentile)} response", pq, "ms",
                        f"solve P(T > t) = {fmt(1 - percentile / 100.0)}", q_inputs, note=model)
    if c == 1 and cv == 1:
        closed = None if st.saturated else math.log(100.0) / (mu - lam) * 1000.0
        F["p99_closed_form_ms"] = Figure(
            "p99_closed_form_ms", "M/M/1 p99 (closed form)", closed, "ms", "ln(100) / (μ − λ)",
            (Input("μ", mu, "calls/s"), Input("λ", lam, "calls/s")),
            note="for one server the response time is exponential with rate μ − λ")
    if p99_target_ms is not None or target_utilization is not None:
        if p99_target_ms is not None and not (math.isfinite(p99_target_ms) and p99_target_ms > 0):
            raise ScenarioError(f"the p99 target must be more than 0 ms (got {p99_target_ms!r})")
        if target_utilization is not None and not 0 < target_utilization <= 1:
            raise ScenarioError(f"the target utilisation must be in (0, 1] (got {target_utilization!r})")
        sizing = queueing.size_servers(lam, s, target_utilization=target_utilization, p99_target_ms=p99_target_ms,
                                       service_cv=cv)
        targets = (Input("λ", lam, "calls/s"), Input("S", s, "ms"), Input("cv", cv, ""),
                   Input("p99 target", p99_target_ms, "ms"), Input("target ρ", target_utilization, ""))
        F["min_servers"] = Figure("min_servers", "Fewest servers for the targets", sizing.min_servers, "servers",
                                  "smallest c with λ < cμ, ρ ≤ target and P(T > target) ≤ 1% (P falls as c grows)",
                                  targets, note=sizing.reason)
        if sizing.min_servers is not None:
            at = queueing.station(lam, s, sizing.min_servers, service_cv=cv)
            F["p99_at_min_ms"] = Figure("p99_at_min_ms", "p99 with that many servers", at.p99_ms, "ms",
                                        "p99 of the station with c = fewest servers",
                                        (Input("c", sizing.min_servers, "servers"),) + q_inputs[:2], note=model)
    return StationResult(lam, s, c, cv, st.saturated, model, F)


# --------------------------------------------------------------------------- chain with fan-out

@dataclass(frozen=True)
class StageSpec:
    """One stage of a chain: ``fanout`` identical branches called in parallel, each a station of
    ``servers`` servers that sees every request (like the shards of a scatter-gather index)."""

    name: str
    service_ms: float
    servers: int = 1
    fanout: int = 1
    service_cv: float = 1.0


@dataclass(frozen=True)
class StageResult:
    """One stage's figures: ``branch_p99_ms`` (one branch), ``stage_p99_ms`` (the slowest of k),
    ``stage_mean_ms`` and the branch station's ``utilization``."""

    spec: StageSpec
    station: StationResult
    figures: dict[str, Figure]


@dataclass(frozen=True)
class ChainResult:
    """A chain's stages and its figures: ``true_p99_ms``, ``true_p50_ms``, ``true_mean_ms``,
    ``sum_stage_p99_ms``, ``max_branch_p99_ms``, ``sum_error_pct`` and ``max_error_pct``."""

    arrival_per_s: float
    stages: list[StageResult]
    saturated: bool
    figures: dict[str, Figure]


def _check_stages(stages: Sequence[StageSpec]) -> None:
    if not 1 <= len(stages) <= MAX_STAGES:
        raise ScenarioError(f"a chain has 1 to {MAX_STAGES} stages (got {len(stages)})")
    for i, s in enumerate(stages):
        f = s.fanout
        if isinstance(f, bool) or not isinstance(f, int) or not 1 <= f <= MAX_FANOUT:
            raise ScenarioError(f"stage {i + 1} ({s.name}): the fan-out must be a whole number from 1 to "
                                f"{MAX_FANOUT:,} (got {f!r})")


def chain_figures(arrival_per_s: float, stages: Sequence[StageSpec], percentile: float = 99.0) -> ChainResult:
    """Compose a chain of fan-out stages and compare the percentile shortcuts with the true p99.

    Each branch is an independent station seeing every request (independence between
    stations is assumed, as in the capacity analysis). A stage's response time is the
    maximum over its ``k`` branches (CDF to the power ``k``); the chain's is the sum of its
    stages' (convolution on a lattice of 4,096 points).
    """
    _check_stages(stages)
    if not 50 < percentile < 100:
        raise ScenarioError(f"the percentile must be between 50 and 100 (got {percentile!r})")
    q = percentile / 100.0
    results: list[StageResult] = []
    for i, spec in enumerate(stages):
        try:
            st = station_figures(arrival_per_s, spec.service_ms, spec.servers, spec.service_cv)
        except ScenarioError as exc:
            raise ScenarioError(f"stage {i + 1} ({spec.name}): {exc}") from None
        results.append(StageResult(spec, st, {}))
    stage_q, branch_q = [], []
    for r in results:
        b, sq = _stage_quantiles(r, q, percentile)
        branch_q.append(b)
        stage_q.append(sq)
    if any(r.station.saturated for r in results):
        return ChainResult(float(arrival_per_s), results, True, _saturated_chain(results, percentile))
    lattice, total = _compose_chain(results, q)
    return ChainResult(float(arrival_per_s), results, False,
                       _chain_summary(results, lattice, total, q, percentile, stage_q, branch_q))


def _raw_station(r: StageResult) -> queueing.StationFigures:
    return queueing.station(r.station.arrival_per_s, r.station.service_ms, r.station.servers,
                            service_cv=r.station.service_cv)


def _stage_quantiles(r: StageResult, q: float, percentile: float) -> tuple[float | None, float | None]:
    """One branch's and the whole stage's (slowest of k branches) q-quantiles; records their figures."""
    pct = fmt(percentile)
    k = r.spec.fanout
    raw = _raw_station(r)
    b = None if raw.saturated else queueing.response_quantile(raw, q)
    sq = None if raw.saturated else queueing.response_quantile(raw, q ** (1.0 / k))
    ins = (Input("λ", raw.arrival_rate_per_s, "calls/s"), Input("S", raw.service_ms, "ms"),
           Input("c", raw.servers, "servers"), Input("cv", raw.service_cv, ""))
    r.figures["utilization"] = r.station.figures["utilization"]
    r.figures["branch_p99_ms"] = Figure("branch_p99_ms", f"{r.spec.name}: p{pct} of one branch", b, "ms",
                                        f"solve P(T > t) = {fmt(1 - q)} for one branch station", ins,
                                        note=r.station.model)
    r.figures["stage_p99_ms"] = Figure(
        "stage_p99_ms", f"{r.spec.name}: p{pct} of the slowest of {k} branches" if k > 1 else
        f"{r.spec.name}: p{pct} of the stage", sq, "ms",
        f"F_max(t) = F(t)^k, so the stage's p{pct} is the branch's {fmt(q)}^(1/k) quantile",
        (Input("k", k, "branches"), Input("q^(1/k)", f"{q ** (1.0 / k):.6g}", "")) + ins,
        note="independent branches; k = 1 is a plain call")
    return b, sq


def _saturated_chain(results: list[StageResult], percentile: float) -> dict[str, Figure]:
    pct = fmt(percentile)
    sat = [r.spec.name for r in results if r.station.saturated]
    ins = tuple(Input(f"{r.spec.name} ρ", r.station.figures["utilization"].value, "")
                for r in results if r.station.saturated)
    note = (f"saturated: {', '.join(sat)} "
            + ("receives more calls than it can serve" if len(sat) == 1 else "receive more calls than they can serve"))
    return {key: Figure(key, label, None, "ms", "no finite latency when a stage is saturated", ins, note=note)
            for key, label in (("true_p99_ms", f"True p{pct} of the chain"), ("true_p50_ms", "True p50"),
                               ("true_mean_ms", "True mean"), ("sum_stage_p99_ms", f"Sum of stage p{pct}s"),
                               ("max_branch_p99_ms", f"Max of branch p{pct}s, summed over stages"))}


def _compose_chain(results: list[StageResult], q: float) -> tuple[dist.Lattice, dist.Dist]:
    """Compose on one lattice, widening it (at most three times) if mass falls off the end."""
    horizon = 0.0
    for r in results:
        horizon += dist.horizon_for(_raw_station(r), 1.0 - 1e-4 / r.spec.fanout)
    horizon *= 1.2
    for _ in range(4):
        lattice = dist.Lattice.spanning(horizon, LATTICE_POINTS)
        parts = []
        for r in results:
            d = dist.from_station(lattice, _raw_station(r))
            parts.append(dist.max_of_k(d, r.spec.fanout) if r.spec.fanout > 1 else d)
            r.figures["stage_mean_ms"] = Figure("stage_mean_ms", f"{r.spec.name}: mean of the stage", parts[-1].mean_ms(),
                                                "ms", "mean of the stage's distribution (max of k branches)",
                                                (Input("k", r.spec.fanout, "branches"),))
        total = dist.convolve_all(parts) if len(parts) > 1 else parts[0]
        if total.overflow < 1e-4 and total.quantile_ms(q) is not None:
            break
        horizon *= 4
    return lattice, total


def _chain_summary(results: list[StageResult], lattice: dist.Lattice, total: dist.Dist, q: float, percentile: float,
                   stage_q: list[float | None], branch_q: list[float | None]) -> dict[str, Figure]:
    """The true figures of the composed chain next to the two shortcuts, and how far off each shortcut is."""
    pct = fmt(percentile)
    true_q = total.quantile_ms(q)
    stage_inputs = tuple(Input(f"{r.spec.name} (k = {r.spec.fanout}) p{pct}", sq, "ms")
                         for r, sq in zip(results, stage_q, strict=True))
    expr = " ⊕ ".join(f"max×{r.spec.fanout}({r.spec.name})" if r.spec.fanout > 1 else r.spec.name for r in results)
    note = (f"Composed on a {LATTICE_POINTS}-point lattice of {fmt(lattice.dt_ms)} ms steps: stages convolve, "
            "k parallel branches take F^k. Independence between stations is assumed.")
    F: dict[str, Figure] = {}
    F["true_p99_ms"] = Figure("true_p99_ms", f"True p{pct} of the chain", true_q, "ms",
                              f"{fmt(q)}-quantile of the composed distribution {expr}", stage_inputs, note=note)
    F["true_p50_ms"] = Figure("true_p50_ms", "True p50 of the chain", total.quantile_ms(0.5), "ms",
                              f"0.5-quantile of {expr}", (), note=note)
    F["true_mean_ms"] = Figure("true_mean_ms", "True mean of the chain", total.mean_ms(), "ms",
                               "Σ stage means (means do add)",
                               tuple(Input(r.spec.name, r.figures["stage_mean_ms"].value, "ms") for r in results),
                               note=note)
    sum_stage = sum(v for v in stage_q if v is not None)
    F["sum_stage_p99_ms"] = Figure("sum_stage_p99_ms", f"Sum of stage p{pct}s", sum_stage, "ms",
                                   f"Σ over stages of each stage's own p{pct} (the shortcut for a chain)", stage_inputs,
                                   note="too pessimistic: the stages are rarely all slow on the same request")
    max_branch = sum(v for v in branch_q if v is not None)
    F["max_branch_p99_ms"] = Figure(
        "max_branch_p99_ms", f"Max of branch p{pct}s" + (", summed over stages" if len(results) > 1 else ""),
        max_branch, "ms", f"Σ over stages of the largest branch p{pct} (the shortcut for a fan-out: k ignored)",
        tuple(Input(f"{r.spec.name} branch p{pct}", b, "ms") for r, b in zip(results, branch_q, strict=True)),
        note="too optimistic for a fan-out: the request waits for the slowest of k branches")
    for key, label, shortcut in (("sum_error_pct", f"Sum of stage p{pct}s vs true", sum_stage),
                                 ("max_error_pct", f"Max of branch p{pct}s vs true", max_branch)):
        err = (shortcut - true_q) / true_q * 100.0 if true_q else None
        F[key] = Figure(key, label, err, "%", "(shortcut − true) ÷ true × 100",
                        (Input("shortcut", shortcut, "ms"), Input("true", true_q, "ms")))
    return F


CHAIN_PRESETS: dict[str, tuple[float, tuple[StageSpec, ...]]] = {
    "Retrieval and ranking (fan-out to 10 shards)": (400.0, (
        StageSpec("api", 2.0, 8, 1), StageSpec("ann shards", 5.0, 4, 10), StageSpec("ranker", 15.0, 16, 1))),
    "Three services in a row (no fan-out)": (400.0, (
        StageSpec("api", 2.0, 8, 1), StageSpec("features", 3.0, 4, 1), StageSpec("model", 10.0, 8, 1))),
    "Scatter-gather to 100 shards": (200.0, (StageSpec("index shards", 5.0, 4, 100),)),
}
"""Chains worth trying: name → (arrival rate per second, stages)."""


def parse_stage(name: str, service_ms: float, servers: float, fanout: float, service_cv: float = 1.0) -> StageSpec:
    """A stage from widget values (numbers may arrive as floats); whole-number checks with plain messages."""
    try:
        c, k = int(servers), int(fanout)
    except (TypeError, ValueError, OverflowError):
        raise ScenarioError(f"{name}: servers and fan-out must be whole numbers") from None
    if c != servers or k != fanout:
        raise ScenarioError(f"{name}: servers and fan-out must be whole numbers (got {servers!r}, {fanout!r})")
    return StageSpec(name.strip() or "stage", float(service_ms), c, k, float(service_cv))


def chain_to_text(stages: Sequence[StageSpec]) -> str:
    """A chain as URL text: ``name:service_ms:servers:fanout:cv`` per stage, ``;`` between stages.

    Examples
    --------
    >>> chain_to_text([StageSpec("api", 2.0, 8), StageSpec("ann shards", 5.0, 4, 10, 0.5)])
    'api:2:8:1:1;ann shards:5:4:10:0.5'
    """
    def num(v: float) -> str:
        return f"{v:g}"

    return ";".join(":".join([s.name.replace(":", " ").replace(";", " "), num(s.service_ms), str(s.servers),
                              str(s.fanout), num(s.service_cv)]) for s in stages)


def chain_from_text(text: str) -> list[StageSpec]:
    """Parse :func:`chain_to_text` (lenient about a missing cv); raises ScenarioError with the stage named.

    Examples
    --------
    >>> chain_from_text("api:2:8:1;shards:5:4:10:0.5")[1]
    StageSpec(name='shards', service_ms=5.0, servers=4, fanout=10, service_cv=0.5)
    """
    out = []
    for i, part in enumerate(p for p in str(text).split(";") if p.strip()):
        fields = part.split(":")
        if len(fields) not in (4, 5):
            raise ScenarioError(f"stage {i + 1}: expected name:service_ms:servers:fanout[:cv], got {part!r}")
        try:
            nums = [float(f) for f in fields[1:]]
        except ValueError:
            raise ScenarioError(f"stage {i + 1}: {part!r} has a value that is not a number") from None
        out.append(parse_stage(fields[0], nums[0], nums[1], nums[2], nums[3] if len(nums) > 3 else 1.0))
    if not 1 <= len(out) <= MAX_STAGES:
        raise ScenarioError(f"a chain has 1 to {MAX_STAGES} stages (got {len(out)})")
    return out


__all__ = ["StationResult", "station_figures", "StageSpec", "StageResult", "ChainResult", "chain_figures",
           "CHAIN_PRESETS", "parse_stage", "chain_to_text", "chain_from_text", "ExplorerError"]
