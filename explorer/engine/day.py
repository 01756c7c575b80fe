"""A day of traffic: a fluid model at one-minute resolution (1,440 points).

The pattern's peak QPS is laid on a diurnal curve (a raised cosine between the trough and the peak, with
optional spikes); requests and streams follow the curve (user events follow users), batch jobs push their
load only inside their windows. For every minute and component:

* arrival rate λ(t) = f(t) × (requests and streams at peak) + Σ over running jobs of their load;
* replicas r(t): the pattern's (``provisioned``) or an autoscaler's (``autoscale``): it wants
  r*(t) = ⌈a(t) ÷ (target ρ × concurrency)⌉ (a = λ·S, Erlangs per shard) between its min and max, keeps the
  highest count it wanted over the last ``scale_down_delay`` minutes, and new replicas serve
  ``scale_up_delay`` minutes after it asked for them;
* utilisation ρ = a ÷ c and the M/M/c / G/G/c station figures of :mod:`explorer.engine.queueing` at that
  minute's λ and c (exact at every distinct state when there are few; otherwise exact on a grid over
  (ln c, −ln(1 − ρ)) and interpolated in the log of the response time, see :func:`_station_series`);
* a backlog carried over minutes when arrivals exceed capacity (Lindley: B(t) = max(0, B(t−1) + (λ − cμ)·60 s)),
  so a spike builds a queue that then drains; a call arriving behind it waits B ÷ cμ more;
* cost = nodes × price per hour ÷ 60 (+ storage).

End to end, each distinct state of the request path is composed exactly with the latency pass
(:func:`explorer.engine.latency.latency`) when there are few of them; otherwise the composition runs at a few
anchor minutes and the ratio of the composed p99 to the critical path's summed station p99 is carried
between them (interpolated over the load factor); the longest backlog wait along the critical path adds on
top. Not their sum: each station's backlog is computed as if the whole arrival reached it, but a station
short of capacity passes on only what it serves, so the stations after it see less and a request waits
behind one backlog, not one per station (the sum overstated a ×5 spike's p99 about six-fold on
video_recommendation). The per-station backlogs after the first saturated one are upper bounds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import networkx as nx
import numpy as np
import orjson

from explorer.engine import queueing
from explorer.engine.constants import HOURS_PER_MONTH, Deadline
from explorer.engine.cost import component_costs
from explorer.engine.latency import budgets, latency
from explorer.engine.report import Figure, Input, Report, Status, gc_paused
from explorer.engine.sizing import Sized, sizing
from explorer.engine.traffic import Traffic, traffic
from explorer.errors import ScenarioError
from explorer.model.day import Autoscaling, DaySpec, Spike
from explorer.model.graph import request_path
from explorer.model.loader import ResolvedPattern
from explorer.model.scenario import check_values
from explorer.units import fmt

MINUTES = 1440
"""Points in a day (one a minute)."""
DEFAULT_PEAK_TO_TROUGH = 3.0
DEFAULT_PEAK_HOUR = 20.0
SHAPE_SOURCE = ("assumption: consumer traffic follows a daily cycle with its peak in the evening (local time) "
                "about three times its early-morning trough; give day.peak_to_trough and day.peak_hour from "
                "your own traffic when you have it")
SCALE_UP_DELAY_MINUTES = {"cpu": 3, "gpu": 8, "managed": 1, "none": 0}
"""Default minutes from a scale-up decision to serving replicas, by hardware."""
SCALE_UP_SOURCE = ("assumption: a CPU replica boots, pulls its image and passes readiness in about 3 minutes; a "
                   "GPU replica also loads its model onto the GPU (about 8); a managed service scales in about 1")
SCALE_DOWN_DELAY_MINUTES = 5
SCALE_DOWN_SOURCE = "assumption: a 5-minute stabilisation window before scaling down (a common autoscaler default)"
PEAK_PERIOD_FRACTION = 0.9
"""A minute is in the peak period when its diurnal traffic is at least this share of the peak."""
EXACT_STATES = 8
"""End to end: at most this many distinct request-path states are composed exactly; more use anchors."""
ANCHORS = 2
EXACT_STATIONS = 16
"""Per component: at most this many distinct (λ, S, c) are computed exactly; more use nodes + interpolation."""
MODES = ("autoscale", "provisioned")


# --------------------------------------------------------------------------- options


@dataclass(frozen=True, slots=True)
class SpikeAt:
    """A spike placed on the minute grid."""

    factor: float
    minutes: int
    start_minute: int


@dataclass(frozen=True, slots=True)
class Policy:
    """One component's resolved autoscaling policy, with where each number came from."""

    target_utilization: float
    scale_up_delay_minutes: int
    scale_down_delay_minutes: int
    min_replicas: int
    max_replicas: int | None
    sources: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DayOptions:
    """What shapes the day: the curve, the spikes, the batch windows, the policies and the mode."""

    peak_to_trough: float
    peak_hour: float
    spikes: tuple[SpikeAt, ...]
    mode: str
    batch_start_hours: Mapping[str, float]
    spec: DaySpec
    sources: Mapping[str, str] = field(default_factory=dict)


def day_options(rp: ResolvedPattern, *, spikes: Sequence[Spike] | None = None, peak_to_trough: float | None = None,
                peak_hour: float | None = None, mode: str = "autoscale") -> DayOptions:
    """The pattern's ``day:`` block (or the defaults), with spikes and curve overrides given here on top.

    ``spikes`` are added to the pattern's own. A spike without an hour starts at the peak hour.

    Examples
    --------
    >>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
    >>> rp = load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml")
    >>> o = day_options(rp, spikes=[Spike(factor=5, minutes=10)])
    >>> o.peak_to_trough, o.peak_hour, o.spikes[0].start_minute
    (3.0, 20.0, 1200)
    """
    if mode not in MODES:
        raise ScenarioError(f"day mode {mode!r} is not one of {', '.join(MODES)}")
    spec = rp.pattern.day or DaySpec()
    sources = {}
    ratio = peak_to_trough if peak_to_trough is not None else spec.peak_to_trough
    hour = peak_hour if peak_hour is not None else spec.peak_hour
    sources["peak_to_trough"] = "given" if ratio is not None else SHAPE_SOURCE
    sources["peak_hour"] = "given" if hour is not None else SHAPE_SOURCE
    ratio = DEFAULT_PEAK_TO_TROUGH if ratio is None else float(ratio)
    hour = DEFAULT_PEAK_HOUR if hour is None else float(hour)
    if not 1 <= ratio <= 100:
        raise ScenarioError(f"peak-to-trough ratio {ratio:g} must be between 1 and 100")
    if not 0 <= hour < 24:
        raise ScenarioError(f"peak hour {hour:g} must be from 0 to 24 (exclusive)")
    placed = tuple(SpikeAt(factor=s.factor, minutes=s.minutes,
                           start_minute=round((s.at_hour if s.at_hour is not None else hour) * 60) % MINUTES)
                   for s in [*spec.spikes, *(spikes or ())])
    jobs = {j.id for j in rp.pattern.batch_jobs}
    for jid in spec.batch_start_hours:
        if jid not in jobs:
            raise ScenarioError(f"{rp.file}: day.batch_start_hours.{jid}: no batch job {jid!r} "
                                f"(known: {', '.join(sorted(jobs)) or 'none'})")
    comps = {c.id for c in rp.pattern.components}
    for cid in spec.components:
        if cid not in comps:
            raise ScenarioError(f"{rp.file}: day.components.{cid}: no component {cid!r} "
                                f"(known: {', '.join(sorted(comps))})")
    return DayOptions(peak_to_trough=ratio, peak_hour=hour, spikes=placed, mode=mode,
                      batch_start_hours=dict(spec.batch_start_hours), spec=spec, sources=sources)


def parse_spike(text: str) -> Spike:
    """``K:MINUTES[@HOUR]`` → a :class:`~explorer.model.day.Spike` (the CLI's ``--spike``).

    Examples
    --------
    >>> parse_spike("5:10@18.5")
    Spike(factor=5.0, minutes=10, at_hour=18.5)
    >>> parse_spike("5")
    Traceback (most recent call last):
    ...
    explorer.errors.ScenarioError: spike '5' is not K:MINUTES[@HOUR] (e.g. 5:10 or 5:10@18)
    """
    head, _, at = text.partition("@")
    k, sep, m = head.partition(":")
    bad = ScenarioError(f"spike {text!r} is not K:MINUTES[@HOUR] (e.g. 5:10 or 5:10@18)")
    if not sep:
        raise bad
    try:
        factor, minutes = float(k), float(m)
        hour = float(at) if at else None
    except ValueError:
        raise bad from None
    if not (math.isfinite(factor) and 0 < factor <= 1000):
        raise ScenarioError(f"spike factor {k} must be a number above 0 and at most 1000")
    if minutes != math.floor(minutes) or not 1 <= minutes <= MINUTES:
        raise ScenarioError(f"spike minutes {m} must be a whole number from 1 to {MINUTES}")
    if hour is not None and not (math.isfinite(hour) and 0 <= hour < 24):
        raise ScenarioError(f"spike hour {at} must be from 0 to 24 (exclusive)")
    return Spike(factor=factor, minutes=int(minutes), at_hour=hour)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class ComponentDay:
    """One component over the day (arrays of 1,440 minutes; p99 NaN where the component has no servers)."""

    id: str
    label: str
    hardware: str
    always_on: bool
    on_request_path: bool
    policy: Policy | None
    calls_per_s: np.ndarray
    replicas: np.ndarray
    utilization: np.ndarray
    p99_ms: np.ndarray
    mean_ms: np.ndarray
    backlog_calls: np.ndarray
    """Calls waiting per shard at the end of each minute (the fluid backlog)."""
    saturated: np.ndarray
    cost_usd: np.ndarray
    """Cost of each minute (nodes × price ÷ 60 + storage)."""
    replicas_peak: int
    """Replicas per shard when provisioned for the day's peak (held all day)."""
    cost_day_usd: float
    cost_day_peak_usd: float
    shards: int


@dataclass(frozen=True, slots=True)
class BatchWindow:
    """Where a batch job's windows fall in the day, and whether they meet the peak."""

    id: str
    start_hour: float
    every_hours: float
    window_hours: float
    active: np.ndarray
    shared_components: tuple[str, ...]
    """Components the job reaches that also serve requests or streams."""
    peak_overlap_minutes: int
    collides_with_peak: bool


@dataclass(frozen=True, slots=True)
class DayReport:
    """A day of traffic over one pattern."""

    pattern_id: str
    title: str
    mode: str
    values: dict[str, float]
    options: DayOptions
    load_factor: np.ndarray
    """f(t): traffic ÷ the pattern's peak traffic (the diurnal curve times the spikes)."""
    qps: np.ndarray
    components: dict[str, ComponentDay]
    end_to_end_p99_ms: np.ndarray | None
    end_to_end_saturated: np.ndarray | None
    target_ms: float | None
    batch: list[BatchWindow]
    figures: dict[str, Figure]
    """Totals of the day and how each series is computed, traced."""
    target_utilization: float
    """The pattern's target utilisation (what a component's status is measured against without a policy)."""
    exact_states: bool
    """True when every minute's end-to-end figure was composed exactly (few distinct states)."""

    def totals(self) -> dict[str, float | int | bool | None]:
        """The day's totals as plain values (the figures' values)."""
        return {k: f.value for k, f in self.figures.items() if not k.startswith("series.")}

    def minute_report(self, base: Report, minute: int) -> Report:
        """``base`` (the provisioned analysis at the same scenario) with each component's replicas, utilisation,
        p99 and status at ``minute``: what the diagram colours."""
        t = int(minute) % MINUTES
        comps = {}
        for cid, c in base.components.items():
            d = self.components.get(cid)
            if d is None or c.status == Status.EXTERNAL:
                comps[cid] = c
                continue
            u = float(d.utilization[t])
            p99 = _num(d.p99_ms[t])
            status = (Status.IDLE if d.calls_per_s[t] == 0 else Status.SATURATED if d.saturated[t]
                      else Status.HOT if u > _target(d, self.target_utilization) + 1e-9 else Status.OK)
            comps[cid] = replace(c, replicas=int(d.replicas[t]), nodes=int(d.replicas[t]) * d.shards,
                                 utilization=u, p99_ms=p99, saturated=bool(d.saturated[t]), status=status,
                                 calls_per_s=float(d.calls_per_s[t]), figures=self.minute_figures(cid, t))
        return replace(base, components=comps)

    def minute_figures(self, cid: str, minute: int) -> dict[str, Figure]:
        """One component's figures at ``minute``, traced (what the diagram and its tooltips show at that minute)."""
        d, t = self.components[cid], int(minute) % MINUTES
        at = Input("minute", _hhmm(t), "")
        lam, r, u = float(d.calls_per_s[t]), int(d.replicas[t]), float(d.utilization[t])
        wait = Input("backlog", float(d.backlog_calls[t]), "calls per shard")
        return {
            "calls_per_s": Figure("calls_per_s", "Arrival rate", lam, "calls/s",
                                  "λ(t) = f(t) × (requests and streams at peak) + Σ running jobs' load",
                                  (at, Input("f(t)", float(self.load_factor[t]), ""))),
            "replicas": Figure("replicas", "Replicas per shard", r, "", self.figures["series.replicas"].formula,
                               (at, Input("wanted at the peak", d.replicas_peak, ""))),
            "utilization": Figure("utilization", "Utilisation", u if math.isfinite(u) else None, "", "ρ = λ·S / c",
                                  (at, Input("λ", lam, "calls/s"), Input("replicas", r, ""))),
            "p99_ms": Figure("p99_ms", "p99 response", _num(float(d.p99_ms[t])), "ms",
                             "station p99 at this minute's λ and c + backlog ÷ cμ", (at, wait),
                             note="saturated this minute: the service p99 plus the wait behind the backlog"
                             if d.saturated[t] else ""),
            "cost_usd": Figure("cost_usd", "Cost of this minute", float(d.cost_usd[t]), "USD",
                               "nodes × price per hour ÷ 60 + storage", (at, Input("nodes", r * d.shards, ""))),
        }

    def to_dict(self) -> dict:
        """JSON-ready: the options, 1,440 points (traffic, replicas, utilisation, p99 and cost per component and
        end to end), the batch windows and the totals with their traces."""
        with gc_paused():
            return _to_dict(self)

    def to_json(self) -> str:
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode()


def _target(d: ComponentDay, default: float) -> float:
    return d.policy.target_utilization if d.policy is not None else default


def _num(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


# --------------------------------------------------------------------------- the curve


def diurnal(peak_to_trough: float, peak_hour: float) -> np.ndarray:
    """The raised cosine f(t) = r + (1 − r)·(1 + cos(2π(t − peak)/24 h))/2, r = 1 ÷ peak-to-trough, per minute.

    Examples
    --------
    >>> f = diurnal(3.0, 20.0)
    >>> round(float(f[1200]), 6), round(float(f[480]), 6), len(f)
    (1.0, 0.333333, 1440)
    """
    t = np.arange(MINUTES, dtype=float)
    trough = 1.0 / peak_to_trough
    return trough + (1.0 - trough) * 0.5 * (1.0 + np.cos(2.0 * np.pi * (t - peak_hour * 60.0) / MINUTES))


def load_factor(options: DayOptions) -> np.ndarray:
    """The diurnal curve times every spike (spikes past midnight wrap to the morning)."""
    f = diurnal(options.peak_to_trough, options.peak_hour)
    for s in options.spikes:
        idx = (s.start_minute + np.arange(s.minutes)) % MINUTES
        f[idx] *= s.factor
    return f


def _windows(rp: ResolvedPattern, tr: Traffic, options: DayOptions, curve: np.ndarray) -> list[BatchWindow]:
    """Each job's windows: from its start hour every ``every_hours`` for ``window_hours`` (a job that runs less
    often than daily is shown on a day it runs)."""
    trough_hour = (options.peak_hour + 12.0) % 24.0
    peak = curve >= PEAK_PERIOD_FRACTION * curve.max()
    t = np.arange(MINUTES, dtype=float)
    out = []
    for job in rp.pattern.batch_jobs:
        rate = tr.job_rates[job.id]
        start = options.batch_start_hours.get(job.id, (trough_hour - min(rate.window_hours, 24.0) / 2) % 24.0)
        every_min = rate.every_hours * 60.0
        window_min = min(rate.window_hours, rate.every_hours) * 60.0
        since = (t - start * 60.0) % MINUTES
        active = (since % every_min) < window_min if every_min < MINUTES else since < window_min
        shared = tuple(c for c in tr.job_reach.get(job.id, ()) if c in tr.always_on and rp.types[c].category != "client")
        overlap = int(np.count_nonzero(active & peak))
        out.append(BatchWindow(id=job.id, start_hour=float(start), every_hours=rate.every_hours,
                               window_hours=rate.window_hours, active=active, shared_components=shared,
                               peak_overlap_minutes=overlap, collides_with_peak=overlap > 0 and bool(shared)))
    return out


# --------------------------------------------------------------------------- the fluid model


def simulate(rp: ResolvedPattern, values: Mapping[str, float] | None = None,
             options: DayOptions | None = None) -> DayReport:
    """A day of traffic over ``rp`` at a scenario (values as for :func:`explorer.engine.analysis.analyse`).

    Examples
    --------
    >>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
    >>> rp = load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml")
    >>> day = simulate(rp)
    >>> len(day.qps), day.figures["cost_day_usd"].value <= day.figures["cost_day_peak_usd"].value
    (1440, True)
    """
    options = options or day_options(rp)
    vals = check_values(rp, values)
    with gc_paused():
        return _simulate(rp, vals, options)


def _simulate(rp: ResolvedPattern, vals: dict[str, float], options: DayOptions) -> DayReport:
    tr, rpath, budget_of, sized = _static(rp, vals)
    curve = diurnal(options.peak_to_trough, options.peak_hour)
    f = load_factor(options)
    windows = _windows(rp, tr, options, curve)
    active = {w.id: w.active for w in windows}
    comps: dict[str, ComponentDay] = {}
    parts: dict[str, _Series] = {}
    memo: dict = {}  # station nodes shared by components of the same cv
    for c in rp.pattern.components:
        z = sized[c.id]
        if z.station is None:
            continue
        s = _series(rp, tr, z, f, active, options, component_costs(z, tr).storage_gb, memo)
        parts[c.id] = s
        comps[c.id] = s.day
    e2e, e2e_sat, exact = (None, None, True)
    if rp.pattern.request is not None:
        e2e, e2e_sat, exact = _end_to_end(rp, rpath, tr, budget_of, sized, parts, f, active)
    figures = _figures(options, comps, f, e2e, e2e_sat, windows, exact, tr)
    return DayReport(pattern_id=rp.id, title=rp.pattern.title, mode=options.mode, values=vals, options=options,
                     load_factor=f, qps=f * tr.request.qps, components=comps, end_to_end_p99_ms=e2e,
                     end_to_end_saturated=e2e_sat, target_ms=tr.request.target_ms if rp.pattern.request else None,
                     batch=windows, figures=figures, target_utilization=tr.request.target_utilization,
                     exact_states=exact)


def _static(rp: ResolvedPattern, vals: dict[str, float]):
    """Traffic and sizing at the pattern's peak in provisioned mode (every batch job running): the state the day
    scales (the same passes :func:`~explorer.engine.analysis.analyse` runs first)."""
    deadline = Deadline.after(None, components=len(rp.pattern.components))
    p = rp.pattern
    tr = traffic(rp, vals)
    rpath = request_path(rp.graph, p.request.entry) if p.request is not None else nx.DiGraph()
    budget_of = budgets(rp, rpath, tr) if p.request is not None else {}
    sized = sizing(rp, tr, budget_of, rpath, "provisioned", deadline)  # provisioned: nothing to settle
    return tr, rpath, budget_of, sized


@dataclass(frozen=True, slots=True)
class _Series:
    day: ComponentDay
    z: Sized
    lam_shard: np.ndarray
    service_ms: np.ndarray
    servers: np.ndarray
    steady_p99_ms: np.ndarray
    steady_mean_ms: np.ndarray
    wait_backlog_ms: np.ndarray


def _policy(rp: ResolvedPattern, z: Sized, u_default: float, spec: DaySpec) -> Policy:
    own = spec.components.get(z.id, Autoscaling())
    dflt = spec.autoscaling
    hw = rp.types[z.id].hardware
    sources = {}

    def pick(name: str, fallback, source: str):
        for where, pol in ((f"day.components.{z.id}", own), ("day.autoscaling", dflt)):
            v = getattr(pol, name)
            if v is not None:
                sources[name] = where
                return v
        sources[name] = source
        return fallback

    u = pick("target_utilization", u_default, "the pattern's target utilisation")
    up = pick("scale_up_delay_minutes", SCALE_UP_DELAY_MINUTES.get(hw, 3), SCALE_UP_SOURCE)
    down = pick("scale_down_delay_minutes", SCALE_DOWN_DELAY_MINUTES, SCALE_DOWN_SOURCE)
    lo = max(pick("min_replicas", z.spec.replication, "the component's replication"), z.spec.replication, 1)
    hi = pick("max_replicas", None, "no cap")
    if hi is not None and hi < lo:
        raise ScenarioError(f"{rp.file}: day: {z.id}: max_replicas {hi} is below min_replicas {lo}")
    return Policy(target_utilization=u, scale_up_delay_minutes=int(up), scale_down_delay_minutes=int(down),
                  min_replicas=int(lo), max_replicas=hi, sources=sources)


def _series(rp: ResolvedPattern, tr: Traffic, z: Sized, f: np.ndarray, active: Mapping[str, np.ndarray],
            options: DayOptions, storage_gb: float, memo: dict | None = None) -> _Series:
    s = z.spec
    always_on = z.id in tr.always_on
    calls0, items0 = tr.calls_per_s.get(z.id, 0.0), tr.items_per_s.get(z.id, 0.0)
    on_calls, on_items = calls0, items0
    lam = np.zeros(MINUTES)
    items = np.zeros(MINUTES)
    for job, load in tr.job_load.items():
        k, n = load.get(z.id, (0.0, 0.0))
        if k or n:
            on_calls -= k
            on_items -= n
            lam += active[job] * k
            items += active[job] * n
    on_calls, on_items = max(on_calls, 0.0), max(on_items, 0.0)
    lam += f * on_calls
    items += f * on_items
    if calls0 > 0:
        per_call0 = s.service_ms + s.per_item_ms * items0 / calls0
        with np.errstate(invalid="ignore", divide="ignore"):
            per_call = np.where(lam > 0, s.service_ms + s.per_item_ms * items / np.where(lam > 0, lam, 1.0), per_call0)
        service = z.service_ms * per_call / per_call0
        lam_shard = z.arrival_per_shard_per_s * lam / calls0
    else:
        service = np.full(MINUTES, z.service_ms)
        lam_shard = np.zeros(MINUTES)
    k = s.concurrency
    policy = _policy(rp, z, tr.request.target_utilization, options.spec)
    a = lam_shard * service / 1000.0
    want = np.maximum(np.ceil(a / (policy.target_utilization * k) - 1e-9), 1.0)
    want = np.maximum(want, policy.min_replicas)
    if policy.max_replicas is not None:
        want = np.minimum(want, policy.max_replicas)
    if not always_on:
        want = np.where(lam > 0, want, 0.0)
    peak = int(want.max()) if want.size else 0
    if options.mode == "provisioned":
        replicas = np.full(MINUTES, float(z.replicas))
        if not always_on:
            replicas = np.where(lam > 0, replicas, 0.0)
    elif always_on:
        replicas = _autoscale(want, policy)
    else:  # a pool only batch jobs use is started by its job's schedule, ready when the window opens
        replicas = _autoscale(want, replace(policy, scale_up_delay_minutes=0))
    servers = replicas * k
    with np.errstate(invalid="ignore", divide="ignore"):
        capacity = np.where(servers > 0, servers * 1000.0 / service, 0.0)
        rho = np.where(servers > 0, a / np.where(servers > 0, servers, 1.0), np.where(lam_shard > 0, np.inf, 0.0))
    backlog = _lindley((lam_shard - capacity) * 60.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        wait_b = np.where(capacity > 0, backlog / np.where(capacity > 0, capacity, 1.0) * 1000.0,
                          np.where(backlog > 0, np.inf, 0.0))
    saturated = (lam_shard > 0) & ((servers == 0) | (lam_shard >= capacity))
    mean_st, p99_st = _station_series(lam_shard, service, servers.astype(int), z.queue_cv, memo)
    svc99 = service * queueing.service_quantile_ms(1.0, z.queue_cv, 0.99)  # the service law scales with S
    steady = np.where(saturated, svc99, p99_st)
    steady = np.where(servers > 0, steady, np.nan)
    p99 = steady + wait_b
    mean = np.where(saturated, service, mean_st) + wait_b
    mean = np.where(servers > 0, mean, np.nan)
    nodes_per_replica = z.shards * s.gpus_per_replica
    storage_min = storage_gb * s.storage_usd_per_gb_month / (HOURS_PER_MONTH * 60.0)
    cost = replicas * nodes_per_replica * s.cost_usd_per_hour / 60.0 + storage_min
    # a pool only batch jobs use runs (at its peak count) whenever the scaler's pool runs
    peak_replicas = np.where((want > 0) | (replicas > 0), peak, 0.0) if not always_on else np.full(MINUTES, float(peak))
    cost_peak = float(np.sum(peak_replicas * nodes_per_replica * s.cost_usd_per_hour / 60.0 + storage_min))
    day = ComponentDay(id=z.id, label=rp.graph.nodes[z.id]["label"], hardware=rp.types[z.id].hardware,
                       always_on=always_on, on_request_path=z.on_request_path, policy=policy, calls_per_s=lam,
                       replicas=replicas.astype(int), utilization=rho, p99_ms=p99, mean_ms=mean,
                       backlog_calls=backlog, saturated=saturated, cost_usd=cost, replicas_peak=peak,
                       cost_day_usd=float(cost.sum()), cost_day_peak_usd=cost_peak, shards=z.shards)
    return _Series(day=day, z=z, lam_shard=lam_shard, service_ms=service, servers=servers.astype(int),
                   steady_p99_ms=steady, steady_mean_ms=np.where(saturated, service, mean_st), wait_backlog_ms=wait_b)


def _autoscale(want: np.ndarray, policy: Policy) -> np.ndarray:
    """Replicas serving each minute: the highest count wanted over the last ``down`` minutes (stabilisation),
    and no more than was wanted ``up`` minutes ago (new replicas take that long). The day repeats, so the
    minutes before midnight are the end of the same day."""
    down, up = policy.scale_down_delay_minutes, policy.scale_up_delay_minutes
    stab = want
    if down > 0:
        ext = np.concatenate([want[-down:], want])
        stab = np.lib.stride_tricks.sliding_window_view(ext, down + 1).max(axis=1)
    return np.minimum(stab, np.roll(stab, up)) if up > 0 else stab


def _lindley(x: np.ndarray) -> np.ndarray:
    """B(t) = max(0, B(t−1) + x(t)), B(−1) = 0, in closed form: S(t) − min(0, min over s ≤ t of S(s)), S = cumsum(x).

    Examples
    --------
    >>> _lindley(np.array([1.0, 2.0, -1.0, -5.0, 1.0])).tolist()
    [1.0, 3.0, 2.0, 0.0, 1.0]
    """
    s = np.cumsum(x)
    return np.maximum(s - np.minimum(np.minimum.accumulate(s), 0.0), 0.0)


def _station_series(lam: np.ndarray, service: np.ndarray, servers: np.ndarray, cv: float,
                    memo: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and p99 response of every minute's station (NaN where saturated or without servers).

    At fixed servers c and utilisation ρ a station's times scale with its service time S (T = S·h(c, ρ)), so the
    state is (c, ρ). Distinct states are computed exactly with :func:`explorer.engine.queueing.station` when
    there are at most ``EXACT_STATIONS``; otherwise on a grid of nodes (every c up to ``SMALL_SERVERS``, then
    c-nodes at most ``C_NODE_RATIO`` apart; ρ-nodes evenly spaced in u = −ln(1 − ρ), at most ``U_NODE_STEP``
    apart; only the corners of the cells some minute falls in) and interpolated bilinearly over (ln c, u) in ln h, which is linear in u both where the service time
    dominates (h constant) and where the wait does (h ∝ 1 ÷ (1 − ρ); for M/M/1 ln h = ln ln 100 + u exactly).
    """
    mean = np.full(MINUTES, np.nan)
    p99 = np.full(MINUTES, np.nan)
    stable = (servers > 0) & (lam * service / 1000.0 < servers) & (servers * 1000.0 / service - lam > 0)
    if not stable.any():
        return mean, p99
    idx = np.flatnonzero(stable)
    c_all = servers[idx].astype(float)
    rho_all = lam[idx] * service[idx] / 1000.0 / c_all
    uniq, inverse = np.unique(np.stack([c_all, rho_all], axis=1), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    if len(uniq) <= EXACT_STATIONS:
        hm, hp = np.empty(len(uniq)), np.empty(len(uniq))
        for i, (c, rho) in enumerate(uniq):
            hm[i], hp[i] = _unit_station(int(c), float(rho), cv)
    else:
        hm, hp = _interpolated(uniq[:, 0], uniq[:, 1], cv, memo)
    mean[idx] = service[idx] * hm[inverse]
    p99[idx] = service[idx] * hp[inverse]
    return mean, p99


SMALL_SERVERS = 8
C_NODE_RATIO = 1.5
U_NODE_STEP = 0.2


def _unit_station(c: int, rho: float, cv: float) -> tuple[float, float]:
    """Mean and p99 response of a station with S = 1 ms, c servers at utilisation ρ (both in units of S)."""
    got = queueing.mean_and_quantile(rho * c * 1000.0, 1.0, c, 0.99, service_cv=cv)
    return got if got is not None else (math.inf, math.inf)


def _interpolated(c: np.ndarray, rho: np.ndarray, cv: float,
                  memo: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """ln h on a fixed grid (every c up to ``SMALL_SERVERS``, then round(SMALL_SERVERS × C_NODE_RATIO^k); u at
    multiples of ``U_NODE_STEP``), so stations of the same cv share their nodes through ``memo``."""
    memo = {} if memo is None else memo
    c_lo, c_hi = float(c.min()), float(c.max())
    geometric = [float(round(SMALL_SERVERS * C_NODE_RATIO ** k)) for k in range(1, 400)
                 if SMALL_SERVERS * C_NODE_RATIO ** (k - 1) < c_hi]
    below = [g for g in geometric if g <= c_lo]
    nodes = {float(x) for x in range(int(c_lo), SMALL_SERVERS + 1)} | {g for g in geometric if g > c_lo} | set(below[-1:])
    c_nodes = np.array(sorted(x for x in nodes if x >= 1), dtype=float)
    u = -np.log1p(-rho)
    k_lo = math.floor(float(u.min()) / U_NODE_STEP)
    k_hi = max(math.ceil(float(u.max()) / U_NODE_STEP), k_lo + 1)
    u_nodes = np.arange(k_lo, k_hi + 1) * U_NODE_STEP
    rho_nodes = -np.expm1(-u_nodes)
    lc, lcn = np.log(c), np.log(c_nodes)
    i, wx = _cell(lcn, lc)
    j, wy = _cell(u_nodes, u)
    i1, j1 = np.minimum(i + 1, len(c_nodes) - 1), np.minimum(j + 1, len(u_nodes) - 1)
    ym = np.full((len(c_nodes), len(u_nodes)), np.nan)
    yp = np.full_like(ym, np.nan)
    # only the corners of the cells the day's states fall in (an autoscaled day is a narrow band of (c, ρ))
    width = len(u_nodes)
    corners = np.unique(np.concatenate([i * width + j, i1 * width + j, i * width + j1, i1 * width + j1]))
    for a, b in zip((corners // width).tolist(), (corners % width).tolist(), strict=True):
        key = (int(c_nodes[a]), k_lo + b, cv)
        if key not in memo:
            m, q = _unit_station(int(c_nodes[a]), float(rho_nodes[b]), cv)
            memo[key] = (math.log(m), math.log(q))
        ym[a, b], yp[a, b] = memo[key]

    def lerp(t: np.ndarray) -> np.ndarray:
        return ((1 - wx) * (1 - wy) * t[i, j] + wx * (1 - wy) * t[i1, j] + (1 - wx) * wy * t[i, j1] + wx * wy * t[i1, j1])

    return np.exp(lerp(ym)), np.exp(lerp(yp))


def _cell(nodes: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the node interval each value falls in, and its weight towards the upper node (one node: 0)."""
    if len(nodes) == 1:
        return np.zeros(len(v), dtype=int), np.zeros(len(v))
    k = np.clip(np.searchsorted(nodes, v, side="right") - 1, 0, len(nodes) - 2)
    return k, np.clip((v - nodes[k]) / (nodes[k + 1] - nodes[k]), 0.0, 1.0)


# --------------------------------------------------------------------------- end to end


def _composer(rp, rpath, tr, budget_of, sized, parts: Mapping[str, _Series], deadline: Deadline):
    """minute → the latency pass's end-to-end result with every request-path station at that minute's state."""
    path = [n for n in rpath.nodes if n in parts]

    def composed(t: int):
        at = dict(sized)
        for n in path:
            p = parts[n]
            lam, s, c = float(p.lam_shard[t]), float(p.service_ms[t]), int(p.servers[t])
            st = queueing.station(lam, s, c, service_cv=p.z.queue_cv)
            at[n] = replace(p.z, arrival_per_shard_per_s=lam, service_ms=s, replicas=int(p.day.replicas[t]),
                            servers_per_shard=c, station=st)
        return latency(rp, rpath, at, tr, budget_of, deadline).end_to_end

    return composed


def composed_at(rp: ResolvedPattern, values: Mapping[str, float] | None, options: DayOptions,
                minutes: Sequence[int]) -> dict[int, float | None]:
    """The end-to-end p99 the latency pass composes at each of ``minutes`` (no backlog added; None when a
    request-path station is saturated then): what :func:`simulate` carries between its anchor minutes."""
    vals = check_values(rp, values)
    tr, rpath, budget_of, sized = _static(rp, vals)
    f = load_factor(options)
    active = {w.id: w.active for w in _windows(rp, tr, options, diurnal(options.peak_to_trough, options.peak_hour))}
    parts = {c.id: _series(rp, tr, sized[c.id], f, active, options, 0.0) for c in rp.pattern.components
             if sized[c.id].station is not None}
    composed = _composer(rp, rpath, tr, budget_of, sized, parts, Deadline.after(None, components=len(parts)))
    return {int(t): composed(int(t)).p99_ms for t in minutes}


def _end_to_end(rp, rpath, tr, budget_of, sized, parts: Mapping[str, _Series], f: np.ndarray,
                active: Mapping[str, np.ndarray]):
    """End-to-end p99 per minute: the latency pass at each distinct request-path state (few), or at anchor
    minutes with the composed ÷ proxy ratio carried over the load factor (many); plus the longest backlog wait
    along the critical path (the one the busiest composed minute takes): a saturated station throttles those
    after it, so a request waits behind one backlog, not the sum of the independently computed ones."""
    deadline = Deadline.after(None, components=len(rp.pattern.components))
    path = [n for n in rpath.nodes if n in parts]
    sat = np.zeros(MINUTES, dtype=bool)
    for n in path:
        sat |= parts[n].day.saturated
    state_cols = [f] + [active[j].astype(float) for j in active] + [parts[n].servers.astype(float) for n in path]
    states, first, inverse = np.unique(np.stack(state_cols, axis=1), axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)

    composed = _composer(rp, rpath, tr, budget_of, sized, parts, deadline)
    exact = len(states) <= EXACT_STATES
    if exact:
        minutes = [int(t) for t in first if not sat[t]]
    else:  # anchors at the load factor's quantiles, within each set of running batch jobs (they change the mix)
        on_path = set(path)
        touching = [j for j in active if on_path & set(tr.job_reach.get(j, ()))]  # jobs that load the request path
        jobs = np.stack([active[j] for j in touching], axis=1) if touching else np.zeros((MINUTES, 1), dtype=bool)
        group = np.unique(jobs, axis=0, return_inverse=True)[1].reshape(-1)
        minutes = []
        for g in np.unique(group):
            ok = np.flatnonzero(~sat & (group == g))
            order = ok[np.argsort(f[ok], kind="stable")]
            if ok.size:
                k = ANCHORS if f[order[-1]] - f[order[0]] > 0.05 else 1
                minutes += sorted({int(order[round(q * (len(order) - 1))]) for q in np.linspace(0, 1, k)})
    done = {t: composed(t) for t in minutes}
    busiest = max(done, key=lambda t: f[t], default=None)
    crit = [n for n in done[busiest].critical_path if n in parts] if busiest is not None else path
    means = np.zeros(MINUTES)
    spread = np.zeros(MINUTES)
    delay = np.zeros(MINUTES)
    for n in crit:
        m = np.nan_to_num(parts[n].steady_mean_ms)
        means += m
        spread += (np.nan_to_num(parts[n].steady_p99_ms) - m) ** 2
        delay = np.maximum(delay, parts[n].wait_backlog_ms)
    proxy = means + np.sqrt(spread)  # tails along a path add like spreads, not like percentiles
    if exact:
        steady = np.full(MINUTES, np.nan)
        for t, e2e in done.items():
            steady[inverse == inverse[t]] = e2e.p99_ms if e2e.p99_ms is not None else np.nan
        return np.where(np.isnan(steady), proxy, steady) + delay, sat, True
    ratio = np.ones(MINUTES)
    for g in np.unique(group):
        here = [t for t, e2e in done.items() if group[t] == g and e2e.p99_ms is not None and proxy[t] > 0]
        if not here:
            here = [t for t, e2e in done.items() if e2e.p99_ms is not None and proxy[t] > 0]
        if here:
            xs = np.array([f[t] for t in here])
            rs = np.array([done[t].p99_ms / proxy[t] for t in here])
            o = np.argsort(xs, kind="stable")
            ratio = np.where(group == g, np.interp(f, xs[o], rs[o]), ratio)
    return ratio * proxy + delay, sat, False


# --------------------------------------------------------------------------- figures


def _figures(options: DayOptions, comps: Mapping[str, ComponentDay], f: np.ndarray,
             e2e: np.ndarray | None, e2e_sat: np.ndarray | None, windows: list[BatchWindow], exact: bool,
             tr: Traffic) -> dict[str, Figure]:
    cost = sum(c.cost_day_usd for c in comps.values())
    cost_peak = sum(c.cost_day_peak_usd for c in comps.values())
    spikes = ", ".join(f"×{fmt(s.factor)} for {s.minutes} min at {_hhmm(s.start_minute)}" for s in options.spikes)
    curve_inputs = (Input("peak-to-trough", options.peak_to_trough, ""), Input("peak hour", options.peak_hour, "h"),
                    Input("peak QPS", tr.request.qps, "req/s"), Input("spikes", spikes or "none", ""))
    F = {
        "series.qps": Figure("series.qps", "Traffic", float(np.max(f) * tr.request.qps), "req/s",
                             "QPS(t) = peak QPS × (r + (1 − r)·(1 + cos(2π(t − peak hour)/24 h))/2) × spike factor, "
                             "r = 1 ÷ peak-to-trough", curve_inputs,
                             note=f"Source of the curve: {options.sources.get('peak_to_trough', '')}"),
        "series.replicas": Figure(
            "series.replicas", "Replicas", options.mode, "",
            "autoscale: r*(t) = clamp(⌈λ·S ÷ (target ρ × concurrency)⌉, min, max); r(t) = min(max of r* over the last "
            "scale-down delay, that max scale-up delay minutes earlier)" if options.mode == "autoscale"
            else "provisioned: the pattern's replicas all day (batch-only components only inside their windows)",
            tuple(Input(f"{c.id}: target ρ / up / down", f"{fmt(c.policy.target_utilization)} / "
                        f"{c.policy.scale_up_delay_minutes} min / {c.policy.scale_down_delay_minutes} min", "")
                  for c in list(comps.values())[:12] if c.policy is not None),
            note=f"{SCALE_UP_SOURCE}; {SCALE_DOWN_SOURCE}. A pool only batch jobs use is started by the job's "
                 "schedule: ready when its window opens (no scale-up delay), scaled down after it"),
        "series.p99_ms": Figure(
            "series.p99_ms", "p99 per minute", f"{MINUTES:,} minutes", "",
            "station p99 at that minute's λ and c (M/M/c exact, G/G/c Allen–Cunneen) + backlog ÷ cμ, "
            "backlog B(t) = max(0, B(t−1) + (λ − cμ)·60 s); end to end: the latency pass's composition "
            + ("at every distinct state" if exact else
               f"at {ANCHORS} anchor minutes, its ratio to the critical path's summed station p99 interpolated over "
               "the load factor") + " + the longest backlog wait along the critical path (a saturated station passes on "
            "only what it serves, so the stations after it do not queue the same calls again)",
            (Input("distinct states composed exactly", exact, ""),),
            note="Fluid model: within a minute the station is taken as steady at that minute's rates."),
        "cost_day_usd": Figure("cost_day_usd", f"Cost of the day ({options.mode})", cost, "USD",
                               "Σ over minutes and components of nodes × price per hour ÷ 60 + storage",
                               tuple(Input(c.id, c.cost_day_usd, "USD") for c in comps.values() if c.cost_day_usd)[:12]),
        "cost_day_peak_usd": Figure("cost_day_peak_usd", "Cost of the day, provisioned for the peak", cost_peak, "USD",
                                    "Σ over components of the replicas wanted at the day's busiest minute, held all "
                                    "day, × shards × price × 24 h + storage",
                                    tuple(Input(c.id, c.replicas_peak, "replicas") for c in comps.values())[:12]),
        "saving_fraction": Figure("saving_fraction", "Saving of autoscaling", 1 - cost / cost_peak if cost_peak else 0.0,
                                  "", "1 − cost ÷ cost provisioned for the peak",
                                  (Input("cost", cost, "USD"), Input("provisioned for the peak", cost_peak, "USD"))),
    }
    sat_minutes = {cid: int(np.count_nonzero(c.saturated)) for cid, c in comps.items()}
    F["minutes_saturated"] = Figure("minutes_saturated", "Minutes with a saturated component", int(
        np.count_nonzero(np.any([c.saturated for c in comps.values()], axis=0))) if comps else 0, "min",
        "minutes in which some component's arrivals reach its capacity (λ ≥ cμ)",
        tuple(Input(cid, m, "min") for cid, m in sat_minutes.items() if m)[:12])
    F["max_backlog_calls"] = Figure("max_backlog_calls", "Largest backlog", max(
        (float(c.backlog_calls.max() * c.shards) for c in comps.values()), default=0.0), "calls",
        "max over minutes and components of the calls waiting (per shard × shards)",
        tuple(Input(cid, float(c.backlog_calls.max()), "calls per shard") for cid, c in comps.items()
              if c.backlog_calls.max() > 0)[:12])
    if e2e is not None:
        target = tr.request.target_ms
        worst = int(np.nanargmax(e2e)) if np.isfinite(e2e).any() else 0
        F["p99_max_ms"] = Figure("p99_max_ms", "Worst end-to-end p99 of the day", _num(float(e2e[worst])), "ms",
                                 "max over minutes of the end-to-end p99", (Input("at", _hhmm(worst), ""),))
        F["minutes_over_target"] = Figure(
            "minutes_over_target", "Minutes over the latency target", int(np.count_nonzero(e2e > target)), "min",
            "minutes whose end-to-end p99 exceeds the target", (Input("target", target, "ms"),))
    for w in windows:
        F[f"batch.{w.id}"] = Figure(
            f"batch.{w.id}", f"{w.id} collides with the peak", w.collides_with_peak, "",
            f"a window overlaps the peak period (traffic ≥ {PEAK_PERIOD_FRACTION:.0%} of the peak) on a component that "
            "also serves requests or streams",
            (Input("starts", f"{fmt(w.start_hour)} h", ""), Input("window", w.window_hours, "h"),
             Input("every", w.every_hours, "h"), Input("minutes in the peak period", w.peak_overlap_minutes, "min"),
             Input("shared components", ", ".join(w.shared_components) or "none", "")),
            note="start hour: " + ("day.batch_start_hours" if w.id in options.batch_start_hours
                                   else "centred on the trough (default)"))
    return F


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _to_dict(d: DayReport) -> dict:
    comps = d.components
    arrays = {cid: (c.calls_per_s.tolist(), c.replicas.tolist(), c.utilization.tolist(), c.p99_ms.tolist(),
                    c.cost_usd.tolist(), c.backlog_calls.tolist(), c.saturated.tolist()) for cid, c in comps.items()}
    e2e = d.end_to_end_p99_ms.tolist() if d.end_to_end_p99_ms is not None else None
    e2e_sat = d.end_to_end_saturated.tolist() if d.end_to_end_saturated is not None else None
    cost_total = np.sum([c.cost_usd for c in comps.values()], axis=0).tolist() if comps else [0.0] * MINUTES
    qps, f = d.qps.tolist(), d.load_factor.tolist()
    points = []
    for t in range(MINUTES):
        point = {"minute": t, "time": _hhmm(t), "load_factor": _r(f[t]), "qps": _r(qps[t]),
                 "cost_usd": _r(cost_total[t])}
        if e2e is not None:
            point["end_to_end"] = {"p99_ms": _r(e2e[t]), "saturated": e2e_sat[t]}
        point["components"] = {cid: {"calls_per_s": _r(a[0][t]), "replicas": a[1][t], "utilization": _r(a[2][t]),
                                     "p99_ms": _r(a[3][t]), "cost_usd": _r(a[4][t]), "backlog_calls": _r(a[5][t]),
                                     "saturated": a[6][t]} for cid, a in arrays.items()}
        points.append(point)
    o = d.options
    return {
        "pattern_id": d.pattern_id, "title": d.title, "mode": d.mode, "values": d.values,
        "options": {"peak_to_trough": o.peak_to_trough, "peak_hour": o.peak_hour,
                    "spikes": [{"factor": s.factor, "minutes": s.minutes, "start": _hhmm(s.start_minute)}
                               for s in o.spikes]},
        "target_ms": d.target_ms,
        "totals": {k: _r(v) if isinstance(v, float) else v for k, v in d.totals().items()},
        "components": {cid: {"label": c.label, "hardware": c.hardware, "always_on": c.always_on,
                             "on_request_path": c.on_request_path, "replicas_peak": c.replicas_peak,
                             "cost_day_usd": _r(c.cost_day_usd), "cost_day_peak_usd": _r(c.cost_day_peak_usd),
                             "policy": None if c.policy is None else {
                                 "target_utilization": c.policy.target_utilization,
                                 "scale_up_delay_minutes": c.policy.scale_up_delay_minutes,
                                 "scale_down_delay_minutes": c.policy.scale_down_delay_minutes,
                                 "min_replicas": c.policy.min_replicas, "max_replicas": c.policy.max_replicas}}
                       for cid, c in comps.items()},
        "batch_jobs": [{"id": w.id, "start_hour": w.start_hour, "every_hours": w.every_hours,
                        "window_hours": w.window_hours, "active_minutes": int(np.count_nonzero(w.active)),
                        "shared_components": list(w.shared_components), "peak_overlap_minutes": w.peak_overlap_minutes,
                        "collides_with_peak": w.collides_with_peak} for w in d.batch],
        "exact_states": d.exact_states,
        "figures": {k: _fig(v) for k, v in d.figures.items()},
        "points": points,
    }


def _r(x):
    if x is None or isinstance(x, bool):
        return x
    if isinstance(x, int):
        return x
    return round(x, 6) if math.isfinite(x) else None


def _fig(fg: Figure) -> dict:
    v = fg.value
    return {"key": fg.key, "label": fg.label, "value": _r(v) if isinstance(v, float) else v, "unit": fg.unit,
            "formula": fg.formula,
            "inputs": [{"name": i.name, "value": _r(i.value) if isinstance(i.value, float) else i.value,
                        "unit": i.unit} for i in fg.inputs], "note": fg.note}
