"""The day's fluid model against seeded discrete-event simulations.

Steady state: every station on every built-in pattern's request path, at constant traffic (the pattern's peak,
its provisioned replicas), is simulated as a FCFS queue of ``c`` servers (Poisson arrivals, Gamma service with
the station's mean and cv). Its mean and p99 response must agree with what the fluid model reports for that
minute (the M/M/c or G/G/c station of :mod:`explorer.engine.queueing`) within 3 %, with the engine evaluated at
the run's realised arrival rate and mean service (as in ``test_queueing_simulation``).

The simulation of a FCFS pool with a constant number of servers is event-driven in arrival order: each arrival
takes the server that frees first (a heap of the servers' free times, the Kiefer–Wolfowitz recursion), which is
the same sequence of events a SimPy run produces, at a fraction of its cost; 200,000 customers per station.

Spike: a ×5 spike on a GPU ranker whose scale-up takes 8 minutes, simulated with SimPy minute by minute
(Poisson arrivals at each minute's rate, the server count the fluid model's autoscaler gives each minute): the
queue builds while capacity lags and drains once the replicas arrive, as the fluid backlog does.
"""

from __future__ import annotations

import heapq
import zlib
from collections import deque

import numpy as np
import pytest
import simpy

from explorer.engine import queueing
from explorer.engine.analysis import analyse
from explorer.engine.day import MINUTES, day_options, simulate
from explorer.model.day import Spike
from explorer.model.loader import ARCHITECTURES_DIR, builtin_paths, load_pattern

pytestmark = pytest.mark.slow  # seeded discrete-event simulations: about 30 s in all

CUSTOMERS = 200_000
WARMUP = 0.02
TOLERANCE = 0.03
PATTERNS = [p.stem for p in builtin_paths() if load_pattern(p).pattern.request is not None]
# Allen–Cunneen's G/G/c tail (the engine's model when the service cv is not 1) is an approximation: with two
# servers and near-constant service (cv 0.3) at ρ ≈ 0.4–0.46 the engine's p99 is 3.3–4.4 % above the simulated
# one (measured over 4 seeds × 10⁶ customers; on the safe side), so these two stations are held to 6 % and that
# side. With four servers or more the same service is within 1 %.
KNOWN_APPROXIMATION = {("harmful_content_detection", "classifier"), ("safe_rollout", "model_canary")}


def fcfs_pool(arrivals_ms: np.ndarray, services_ms: np.ndarray, servers: int) -> np.ndarray:
    """Response times of a FCFS queue with ``servers`` servers: each arrival, in order, starts on the server
    that frees first (or at once if one is free)."""
    free = [0.0] * min(servers, len(arrivals_ms))
    heapq.heapify(free)
    out = np.empty(len(arrivals_ms))
    pop_push = heapq.heapreplace
    for i, (t, s) in enumerate(zip(arrivals_ms.tolist(), services_ms.tolist(), strict=True)):
        start = free[0] if free[0] > t else t
        done = start + s
        pop_push(free, done)
        out[i] = done - t
    return out


def gamma_services(rng: np.random.Generator, mean_ms: float, cv: float, n: int) -> np.ndarray:
    if cv == 1.0:
        return rng.exponential(mean_ms, n)
    k = 1.0 / (cv * cv)
    return rng.gamma(k, mean_ms / k, n)


def request_path_stations(pid: str):
    """(component, λ per shard, mean service, servers, cv, the fluid model's mean and p99) of each request-path
    station, at the day's trough minute of a flat day (every batch job running, as in the static analysis)."""
    rp = load_pattern(ARCHITECTURES_DIR / f"{pid}.yaml")
    day = simulate(rp, options=day_options(rp, peak_to_trough=1.0, mode="provisioned"))
    t = int(((day.options.peak_hour + 12) % 24) * 60)
    report = analyse(rp)
    out = []
    for cid, c in day.components.items():
        r = report.components[cid]
        if not c.on_request_path or r.calls_per_s == 0 or r.saturated:
            continue
        cv = queueing_cv(r)
        out.append((cid, r.arrival_per_shard_per_s, r.service_ms, r.servers_per_shard, cv,
                    float(c.mean_ms[t]), float(c.p99_ms[t])))
    return out


def queueing_cv(r) -> float:
    """The cv the station's queue sees (the figure says when calls of different sizes share it)."""
    f = r.figures.get("service_cv")
    return float(f.value) if f is not None else r.service_cv


@pytest.mark.parametrize("pid", PATTERNS)
def test_steady_state_agrees_with_the_fluid_model(pid):
    stations = request_path_stations(pid)
    assert stations
    failures = []
    for cid, lam, s_ms, c, cv, fluid_mean, fluid_p99 in stations:
        # the fluid model's minute is the engine's station at those rates (exactly, for a flat day)
        st = queueing.station(lam, s_ms, c, service_cv=cv)
        assert fluid_mean == pytest.approx(st.mean_ms, rel=1e-9) and fluid_p99 == pytest.approx(st.p99_ms, rel=1e-9)
        rng = np.random.default_rng(zlib.crc32(f"{pid}/{cid}".encode()))
        gaps = rng.exponential(1000.0 / lam, CUSTOMERS)
        services = gamma_services(rng, s_ms, cv, CUSTOMERS)
        arrivals = np.cumsum(gaps)
        response = fcfs_pool(arrivals, services, c)[int(WARMUP * CUSTOMERS):]
        realised = queueing.station((CUSTOMERS - 1) * 1000.0 / (arrivals[-1] - arrivals[0]), float(services.mean()),
                                    c, service_cv=cv)
        mean_err = float(response.mean()) / realised.mean_ms - 1
        p99_err = float(np.quantile(response, 0.99)) / realised.p99_ms - 1
        bad = abs(mean_err) > TOLERANCE or abs(p99_err) > TOLERANCE
        if (pid, cid) in KNOWN_APPROXIMATION:
            assert abs(mean_err) < TOLERANCE and -0.06 < p99_err < 0, (cid, mean_err, p99_err)
            continue
        if bad:
            failures.append(f"{cid}: c={c} ρ={lam * s_ms / 1000 / c:.2f} cv={cv:.2f} mean {mean_err:+.3f} "
                            f"p99 {p99_err:+.3f}")
    assert not failures, failures


# --------------------------------------------------------------------------- the spike


class TimeVaryingPool:
    """A FCFS queue whose number of servers is set each minute (a server busy when the count drops finishes its
    call and then leaves)."""

    def __init__(self, env: simpy.Environment, services_ms: list[float]) -> None:
        self.env = env
        self.capacity = 0
        self.busy = 0
        self.queue: deque[int] = deque()
        self.services = services_ms

    def set_servers(self, c: int) -> None:
        self.capacity = c
        self._fill()

    def arrive(self, event: simpy.events.Event) -> None:
        self.queue.append(event.value)
        self._fill()

    def _fill(self) -> None:
        while self.busy < self.capacity and self.queue:
            job = self.queue.popleft()
            self.busy += 1
            self.env.timeout(self.services[job]).callbacks.append(self._done)

    def _done(self, _event: simpy.events.Event) -> None:
        self.busy -= 1
        self._fill()


def simulate_minutes(rate_per_s: np.ndarray, servers: np.ndarray, mean_ms: float, cv: float,
                     seed: int) -> np.ndarray:
    """Calls waiting at the end of each minute, for per-minute arrival rates and server counts (SimPy)."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rate_per_s * 60.0)
    times = np.concatenate([np.sort(rng.uniform(m * 60_000.0, (m + 1) * 60_000.0, n)) for m, n in enumerate(counts)])
    services = gamma_services(rng, mean_ms, cv, len(times)).tolist()
    env = simpy.Environment()
    pool = TimeVaryingPool(env, services)
    waiting = np.zeros(len(rate_per_s))
    at = times.tolist()

    def fire(event: simpy.events.Event) -> None:  # one arrival schedules the next: few live events
        i = event.value
        pool.arrive(event)
        if i + 1 < len(at):
            env.timeout(at[i + 1] - at[i], i + 1).callbacks.append(fire)

    if at:
        env.timeout(at[0], 0).callbacks.append(fire)
    for m, c in enumerate(servers.tolist()):
        env.timeout(m * 60_000.0).callbacks.append(lambda _e, c=c: pool.set_servers(c))
        env.timeout((m + 1) * 60_000.0 - 1e-6).callbacks.append(
            lambda _e, m=m: waiting.__setitem__(m, len(pool.queue)))
    env.run()
    return waiting


def test_spike_builds_and_drains_in_the_fluid_model_and_the_simulation():
    rp = load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml")
    start = 14 * 60
    day = simulate(rp, {"peak_qps": 200}, day_options(rp, spikes=[Spike(factor=5, minutes=10, at_hour=14)]))
    ranker = day.components["ranker"]
    r = analyse(rp, day.values).components["ranker"]
    assert ranker.policy.scale_up_delay_minutes == 8 and r.shards == 1
    lo, hi = start - 10, start + 30
    rate = ranker.calls_per_s[lo:hi] * r.arrival_per_shard_per_s / r.calls_per_s
    servers = ranker.replicas[lo:hi] * r.concurrency
    fluid = ranker.backlog_calls[lo:hi]
    des = simulate_minutes(rate, servers, r.service_ms, queueing_cv(r), seed=14)
    spike = slice(10, 20)
    # before: no backlog in either
    assert fluid[:10].max() == 0 and des[:10].max() < 50
    # building: the queue grows every minute until the replicas arrive (8 minutes in)
    assert np.all(np.diff(fluid[10:18]) > 0) and np.all(np.diff(des[10:18]) > 0)
    peak_f, peak_d = fluid[spike].max(), des[spike].max()
    assert peak_f > 50_000 and peak_d == pytest.approx(peak_f, rel=0.05)
    # draining: both back to (almost) nothing within minutes of each other
    empty_f = 18 + int(np.argmax(fluid[18:] == 0))
    empty_d = 18 + int(np.argmax(des[18:] < 0.001 * peak_d))
    assert fluid[empty_f] == 0 and abs(empty_f - empty_d) <= 1
    assert fluid[-10:].max() == 0 and des[-10:].max() < 50
    assert len(ranker.backlog_calls) == MINUTES
