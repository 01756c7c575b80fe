"""Closed-form and property tests of explorer.engine.queueing (see shared/reference/queueing.md)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, stats

from explorer.engine import queueing as q
from explorer.engine.queueing import (
    QueueingError,
    erlang_b,
    erlang_c,
    response_cdf,
    response_excess_ms,
    response_quantile,
    response_sf,
    response_shortfall_ms,
    service_quantile_ms,
    size_servers,
    station,
)
from explorer.errors import ExplorerError

LN100 = math.log(100.0)


# --------------------------------------------------------------------------- Erlang


@pytest.mark.parametrize("c", [1, 2, 5, 17, 50, 171, 200, 201, 333, 1000, 2500, 10_000])
@pytest.mark.parametrize("rho", [0.1, 0.5, 0.9, 0.99, 1.0, 1.5, 3.0])
def test_erlang_b_recursion_and_gamma_form_agree(c: int, rho: float) -> None:
    a = rho * c
    rec = q._erlang_b_recursion(c, a)
    gam = q._erlang_b_gamma(c, a)
    assert 0.0 <= rec <= 1.0
    if rec > 1e-290:  # both are then normal numbers: compare relatively
        assert gam == pytest.approx(rec, rel=1e-11, abs=0.0)
    else:
        assert gam < 1e-280


@pytest.mark.parametrize("c", [171, 1000, 100_000])
def test_erlang_b_does_not_overflow(c: int) -> None:
    for rho in (0.5, 0.95, 1.0, 1.2):
        b = erlang_b(c, rho * c)
        assert math.isfinite(b) and 0.0 <= b <= 1.0
    # near rho = 1 the blocking is O(1/sqrt(c)), far from 0 and 1
    b1 = erlang_b(c, float(c))
    assert 0.1 / math.sqrt(c) < b1 < 2.0 / math.sqrt(c)
    if c == 100_000:  # the O(c) recursion still agrees at 1e5 servers
        assert b1 == pytest.approx(q._erlang_b_recursion(c, float(c)), rel=1e-11)


def test_erlang_b_far_overloaded_uses_a_stable_series() -> None:
    # c far below a: the Poisson CDF underflows; B -> 1 - c/a
    b = erlang_b(300, 1e5)
    assert b == pytest.approx(q._erlang_b_recursion(300, 1e5), rel=1e-12)
    assert b == pytest.approx(1 - 300 / 1e5, rel=1e-4)


def test_erlang_b_known_values_and_edges() -> None:
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(5, 0.0) == 0.0
    with pytest.raises(ValueError, match="0 or more"):
        erlang_b(-1, 1.0)
    with pytest.raises(ValueError, match="finite"):
        erlang_b(3, -1.0)


def test_erlang_c_known_values() -> None:
    assert erlang_c(2, 1.0) == pytest.approx(1.0 / 3.0, rel=1e-14)
    for rho in (0.01, 0.3, 0.5, 0.9, 0.999999):
        assert erlang_c(1, rho) == pytest.approx(rho, rel=1e-12)  # M/M/1: C = rho
    # textbook: c = 3, a = 2 -> C = 4/9
    assert erlang_c(3, 2.0) == pytest.approx(4.0 / 9.0, rel=1e-12)
    # large c at low load underflows to 0 (trap 2), which is correct
    assert erlang_c(100_000, 10_000.0) == 0.0
    assert erlang_c(4, 0.0) == 0.0


@pytest.mark.parametrize("a", [1.0, 1.2, 5.0])
def test_erlang_c_refuses_unstable_load(a: float) -> None:
    with pytest.raises(ValueError, match="below the number of servers"):
        erlang_c(1, a)


# --------------------------------------------------------------------------- M/M/c exact


@pytest.mark.parametrize("lam", [1.0, 50.0, 90.0, 99.0, 99.9])
def test_mm1_closed_forms(lam: float) -> None:
    mu = 100.0  # per s: S = 10 ms
    fig = station(lam, 10.0, 1)
    rate_per_ms = (mu - lam) / 1000.0
    assert fig.p99_ms == pytest.approx(LN100 / rate_per_ms, rel=1e-6)
    assert fig.p50_ms == pytest.approx(math.log(2.0) / rate_per_ms, rel=1e-6)
    assert fig.mean_ms == pytest.approx(1.0 / rate_per_ms, rel=1e-12)
    assert fig.p_wait == pytest.approx(lam / mu, rel=1e-12)
    t = np.linspace(0.0, 5.0 / rate_per_ms, 50)
    np.testing.assert_allclose(response_sf(fig, t), np.exp(-rate_per_ms * t), rtol=1e-10)


def _textbook_mmc_sf(c_wait: float, mu: float, ap: float, t: np.ndarray) -> np.ndarray:
    """P(T > t) = (1 - C) e^{-mu t} + C (a' e^{-mu t} - mu e^{-a' t}) / (a' - mu), a' != mu."""
    return (1 - c_wait) * np.exp(-mu * t) + c_wait * (ap * np.exp(-mu * t) - mu * np.exp(-ap * t)) / (ap - mu)


@pytest.mark.parametrize(("lam", "c"), [(900.0, 12), (150.0, 2), (50.0, 4), (790.0, 8)])
def test_mmc_tail_matches_textbook_formula(lam: float, c: int) -> None:
    fig = station(lam, 10.0, c)
    mu, ap = 0.1, (c * 100.0 - lam) / 1000.0  # per ms
    assert abs(ap - mu) > 1e-3
    t = np.linspace(0.0, 200.0, 101)
    np.testing.assert_allclose(response_sf(fig, t), _textbook_mmc_sf(fig.p_wait, mu, ap, t), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(response_cdf(fig, t), 1 - _textbook_mmc_sf(fig.p_wait, mu, ap, t), atol=1e-12)
    # the quantile solves the tail equation
    assert float(response_sf(fig, fig.p99_ms)) == pytest.approx(0.01, rel=1e-9)
    assert float(response_cdf(fig, fig.p50_ms)) == pytest.approx(0.5, rel=1e-9)


def test_a_prime_equal_to_mu_is_finite_and_continuous() -> None:
    # c = 2, lambda = mu  ->  a' = 2 mu - mu = mu: 0/0 in the textbook tail (trap 4)
    fig = station(100.0, 10.0, 2)
    assert fig.spare_rate_per_s == pytest.approx(fig.service_rate_per_s)
    for value in (fig.p_wait, fig.mean_ms, fig.p50_ms, fig.p99_ms):
        assert value is not None and math.isfinite(value)
    # limit form: C-term -> (1 + mu t) e^{-mu t}
    mu, t = 0.1, np.array([0.0, 1.0, 10.0, 46.0, 200.0])
    expected = (1 - fig.p_wait) * np.exp(-mu * t) + fig.p_wait * (1 + mu * t) * np.exp(-mu * t)
    np.testing.assert_allclose(response_sf(fig, t), expected, rtol=1e-12)
    for eps in (1e-9, 1e-6, 1e-4):
        below, above = station(100.0 * (1 - eps), 10.0, 2), station(100.0 * (1 + eps), 10.0, 2)
        assert below.p99_ms < fig.p99_ms < above.p99_ms
        assert above.p99_ms - below.p99_ms < 50 * eps * fig.p99_ms
        assert below.mean_ms < fig.mean_ms < above.mean_ms


def test_no_traffic_response_is_the_service_time() -> None:
    fig = station(0.0, 10.0, 3)
    assert not fig.saturated
    assert fig.utilization == 0.0 and fig.p_wait == 0.0 and fig.mean_wait_ms == 0.0
    assert fig.mean_ms == 10.0
    assert fig.p99_ms == pytest.approx(10.0 * LN100, rel=1e-12)
    assert fig.p50_ms == pytest.approx(10.0 * math.log(2.0), rel=1e-12)
    gamma = station(0.0, 10.0, 1, service_cv=0.5)
    assert gamma.p99_ms == pytest.approx(stats.gamma.ppf(0.99, 4.0, scale=2.5), rel=1e-9)
    const = station(0.0, 10.0, 1, service_cv=0.0)
    assert const.p50_ms == const.p99_ms == 10.0


def test_c_underflow_gives_service_time() -> None:
    fig = station(1e6, 10.0, 100_000)  # a = 10,000 Erlangs on 100,000 servers
    assert fig.p_wait == 0.0
    assert fig.p99_ms == pytest.approx(10.0 * LN100, rel=1e-12)


@pytest.mark.parametrize(
    ("lam", "s_ms", "c"),
    [(100.0, 10.0, 1), (200.0, 10.0, 2), (1200.0, 10.0, 12), (120.0, 10.0, 1), (1.0, 10.0, 0), (0.0, 10.0, 0)],
)
def test_saturated_stations_have_no_latency(lam: float, s_ms: float, c: int) -> None:
    fig = station(lam, s_ms, c)
    assert fig.saturated
    assert fig.p_wait is None and fig.mean_wait_ms is None and fig.mean_ms is None
    assert fig.p50_ms is None and fig.p99_ms is None
    assert not math.isnan(fig.utilization)
    if c > 0:
        assert fig.utilization >= 1.0
    elif lam > 0:
        assert fig.utilization == math.inf
    assert response_quantile(fig, 0.99) is None
    with pytest.raises(ValueError, match="saturated"):
        response_cdf(fig, np.array([1.0]))


def test_near_saturation_uses_the_spare_rate_directly() -> None:
    lam = 100.0 * (1 - 1e-12)
    fig = station(lam, 10.0, 1)
    assert not fig.saturated
    assert fig.spare_rate_per_s == pytest.approx(100.0 - lam, rel=1e-3)
    assert fig.p99_ms == pytest.approx(LN100 / (fig.spare_rate_per_s / 1000), rel=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"arrival_rate_per_s": -1.0, "service_ms": 10.0, "servers": 1},
        {"arrival_rate_per_s": 1.0, "service_ms": 0.0, "servers": 1},
        {"arrival_rate_per_s": 1.0, "service_ms": -5.0, "servers": 1},
        {"arrival_rate_per_s": 1.0, "service_ms": 10.0, "servers": -1},
        {"arrival_rate_per_s": 1.0, "service_ms": 10.0, "servers": 1.5},
        {"arrival_rate_per_s": math.nan, "service_ms": 10.0, "servers": 1},
        {"arrival_rate_per_s": 1.0, "service_ms": math.inf, "servers": 1},
        {"arrival_rate_per_s": 1.0, "service_ms": 10.0, "servers": 1, "service_cv": -0.1},
    ],
)
def test_invalid_inputs_raise_value_error_with_a_sentence(kwargs: dict) -> None:
    with pytest.raises(QueueingError) as info:  # an ExplorerError that is also a ValueError
        station(**kwargs)
    assert isinstance(info.value, ValueError) and isinstance(info.value, ExplorerError)
    msg = str(info.value)
    assert msg.endswith(".") and " must " in msg


def test_response_quantile_rejects_bad_q() -> None:
    fig = station(10.0, 10.0, 1)
    for bad in (0.0, 1.0, -0.5, 2.0):
        with pytest.raises(ValueError, match="between 0 and 1"):
            response_quantile(fig, bad)


# --------------------------------------------------------------------------- G/G/c


def test_allen_cunneen_mean_wait() -> None:
    mm = station(900.0, 10.0, 12)
    for cs, ca in ((0.0, 1.0), (0.5, 1.0), (2.0, 0.7), (1.0, 1.5)):
        gg = station(900.0, 10.0, 12, service_cv=cs, arrival_cv=ca)
        assert gg.p_wait == mm.p_wait
        assert gg.mean_wait_ms == pytest.approx(mm.mean_wait_ms * (ca**2 + cs**2) / 2, rel=1e-12)
        assert gg.wait_tail_rate_per_s == pytest.approx(2 * mm.spare_rate_per_s / (ca**2 + cs**2), rel=1e-12)
    # Pollaczek–Khinchine for c = 1
    rho, cs = 0.8, 0.5
    pk = station(80.0, 10.0, 1, service_cv=cs)
    assert pk.mean_wait_ms == pytest.approx(rho * (1 + cs**2) / (2 * 0.1 * (1 - rho)), rel=1e-12)


def _quad_sf(fig, t: float) -> float:
    """P(T > t) by direct quadrature of the Exp(theta) * Gamma(k, scale) convolution."""
    k = 1.0 / fig.service_cv**2
    scale = fig.service_ms / k
    theta = fig.wait_tail_rate_per_s / 1000.0
    g = stats.gamma(k, scale=scale)
    term, _ = integrate.quad(lambda s: g.pdf(s) * math.exp(-theta * (t - s)), 0.0, t,
                             points=[min(t, fig.service_ms)], limit=400, epsabs=0.0, epsrel=1e-11)
    return float(g.sf(t)) + fig.p_wait * term


@pytest.mark.parametrize(
    ("lam", "c", "cs", "ca"),
    [
        (900.0, 12, 0.5, 1.0),  # theta*scale = 1.2 (>= 1 branch)
        (150.0, 4, 0.5, 1.0),  # theta*scale = 1 exactly
        (150.0000001, 4, 0.5, 1.0),  # just below 1
        (350.0, 4, 0.5, 1.0),  # theta*scale = 0.2 (< 1 branch)
        (390.0, 4, 0.05, 1.0),  # k = 400: narrow service distribution
        (900.0, 12, 3.0, 1.0),  # k < 1: heavy service variability
        (700.0, 8, 0.3, 2.0),  # bursty arrivals
    ],
)
def test_gamma_plus_exponential_tail_matches_quadrature(lam: float, c: int, cs: float, ca: float) -> None:
    fig = station(lam, 10.0, c, service_cv=cs, arrival_cv=ca)
    assert fig.p_wait > 1e-6
    for t in (0.5, 5.0, 10.0, fig.p50_ms, 20.0, fig.p99_ms, 3 * fig.p99_ms):
        got = float(response_sf(fig, t))
        want = _quad_sf(fig, t)
        assert got == pytest.approx(want, rel=1e-7, abs=1e-13), t
    assert float(response_sf(fig, fig.p99_ms)) == pytest.approx(0.01, rel=1e-8)


@pytest.mark.parametrize(("lam", "c", "cs"), [(900.0, 12, 0.5), (350.0, 4, 0.5), (900.0, 12, 0.0), (900.0, 12, 2.0)])
def test_gg_response_cdf_matches_monte_carlo(lam: float, c: int, cs: float) -> None:
    fig = station(lam, 10.0, c, service_cv=cs)
    rng = np.random.default_rng(20240601)
    n = 400_000
    if cs == 0.0:
        service = np.full(n, 10.0)
    else:
        k = 1 / cs**2
        service = rng.gamma(k, 10.0 / k, n)
    waits = rng.random(n) < fig.p_wait
    wait = np.where(waits, rng.exponential(1000.0 / fig.wait_tail_rate_per_s, n), 0.0)
    total = np.sort(service + wait)
    t = np.quantile(total, [0.05, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999]) * 1.0001
    empirical = np.searchsorted(total, t, side="right") / n
    tol = 5 * np.sqrt(empirical * (1 - empirical) / n) + 1e-5
    assert np.all(np.abs(response_cdf(fig, t) - empirical) <= tol)
    assert fig.p99_ms == pytest.approx(np.quantile(total, 0.99), rel=0.01)
    assert fig.mean_ms == pytest.approx(total.mean(), rel=0.005)


def test_constant_service_has_an_atom_and_closed_form_quantiles() -> None:
    fig = station(900.0, 10.0, 12, service_cv=0.0)
    theta = fig.wait_tail_rate_per_s / 1000.0
    assert fig.p99_ms == pytest.approx(10.0 + math.log(fig.p_wait / 0.01) / theta, rel=1e-12)
    assert fig.p50_ms == 10.0  # 1 - C > 0.5: the median sits on the atom
    cdf = response_cdf(fig, np.array([9.999, 10.0, 10.5]))
    assert cdf[0] == 0.0
    assert cdf[1] == pytest.approx(1 - fig.p_wait)
    assert cdf[2] == pytest.approx(1 - fig.p_wait * math.exp(-theta * 0.5))
    # deterministic arrivals and service: nobody waits
    dd = station(900.0, 10.0, 12, service_cv=0.0, arrival_cv=0.0)
    assert dd.mean_wait_ms == 0.0 and dd.p99_ms == 10.0 and dd.wait_tail_rate_per_s is None


@pytest.mark.parametrize(("cs", "ca"), [(1.0, 1.0), (0.5, 1.0), (0.0, 1.0), (2.0, 1.3)])
def test_stop_loss_transforms_are_consistent(cs: float, ca: float) -> None:
    fig = station(900.0, 10.0, 12, service_cv=cs, arrival_cv=ca)
    t = np.array([0.0, 3.0, 10.0, 25.0, 80.0])
    ex, sh = response_excess_ms(fig, t), response_shortfall_ms(fig, t)
    assert ex[0] == pytest.approx(fig.mean_ms, rel=1e-12)
    np.testing.assert_allclose(sh - ex, t - fig.mean_ms, atol=1e-9)  # E[(t-T)+] - E[(T-t)+] = t - E[T]
    for ti, e in zip(t, ex, strict=True):  # E[(T - t)+] = integral of the survival function
        want, _ = integrate.quad(lambda u: float(response_sf(fig, u)), ti, np.inf, limit=400, points=None)
        assert e == pytest.approx(want, rel=1e-6, abs=1e-9)


# --------------------------------------------------------------------------- properties

rates = st.floats(0.0, 1e5, allow_nan=False)
service = st.floats(0.01, 1e4, allow_nan=False)
servers = st.integers(0, 3000)
cvs = st.floats(0.0, 3.0, allow_nan=False)


def _check_no_nan(fig) -> None:
    for name, value in vars(fig).items():
        if isinstance(value, float):
            assert not math.isnan(value), name
    if fig.saturated:
        assert fig.p99_ms is None and fig.mean_ms is None
    else:
        for v in (fig.p_wait, fig.mean_wait_ms, fig.mean_ms, fig.p50_ms, fig.p99_ms):
            assert v is not None and math.isfinite(v)
        assert 0.0 <= fig.p_wait <= 1.0
        assert fig.utilization < 1.0
        assert fig.p50_ms <= fig.p99_ms * (1 + 1e-12)
        assert fig.mean_ms >= fig.service_ms
        bare = service_quantile_ms(fig.service_ms, fig.service_cv, 0.99)
        assert fig.p99_ms >= bare * (1 - 1e-9)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(rates, service, servers, cvs, cvs)
def test_never_nan(lam: float, s_ms: float, c: int, cs: float, ca: float) -> None:
    _check_no_nan(station(lam, s_ms, c, service_cv=cs, arrival_cv=ca))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.floats(0.01, 0.999), st.floats(0.1, 100.0), st.integers(1, 500), cvs, st.floats(0.3, 2.0))
def test_never_nan_near_saturation(rho: float, s_ms: float, c: int, cs: float, ca: float) -> None:
    lam = rho * c * 1000.0 / s_ms
    fig = station(lam, s_ms, c, service_cv=cs, arrival_cv=ca)
    _check_no_nan(fig)
    assert not fig.saturated


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.floats(0.0, 0.98), st.floats(0.1, 100.0), st.integers(1, 400), cvs, st.floats(0.3, 2.0))
def test_more_servers_never_raise_p99(rho: float, s_ms: float, c: int, cs: float, ca: float) -> None:
    lam = rho * c * 1000.0 / s_ms
    a, b = station(lam, s_ms, c, cs, ca), station(lam, s_ms, c + 1, cs, ca)
    assert b.p99_ms <= a.p99_ms * (1 + 1e-9)
    assert b.mean_ms <= a.mean_ms * (1 + 1e-12)
    assert b.p_wait <= a.p_wait * (1 + 1e-12)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.floats(0.0, 0.97), st.floats(0.0, 0.02), st.floats(0.1, 100.0), st.integers(1, 400), cvs, st.floats(0.3, 2.0))
def test_more_traffic_never_lowers_utilization_or_p99(rho: float, d: float, s_ms: float, c: int,
                                                      cs: float, ca: float) -> None:
    lam = rho * c * 1000.0 / s_ms
    more = (rho + d) * c * 1000.0 / s_ms
    a, b = station(lam, s_ms, c, cs, ca), station(more, s_ms, c, cs, ca)
    assert b.utilization >= a.utilization
    assert b.p99_ms >= a.p99_ms * (1 - 1e-9)
    assert b.p50_ms >= a.p50_ms * (1 - 1e-9)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.floats(0.05, 0.95), st.integers(1, 64), cvs)
def test_cdf_is_monotone_and_bounded(rho: float, c: int, cs: float) -> None:
    fig = station(rho * c * 100.0, 10.0, c, service_cv=cs)
    t = np.linspace(-1.0, 5 * fig.p99_ms, 400)
    cdf = response_cdf(fig, t)
    assert np.all((cdf >= 0) & (cdf <= 1))
    assert np.all(np.diff(cdf) >= -1e-12)
    np.testing.assert_allclose(cdf + response_sf(fig, t), 1.0, atol=1e-12)


# --------------------------------------------------------------------------- sizing


def _meets(lam: float, s_ms: float, c: int, u: float | None, target: float | None, cs: float, ca: float) -> bool:
    fig = station(lam, s_ms, c, service_cv=cs, arrival_cv=ca)
    if fig.saturated:
        return False
    if u is not None and fig.utilization > u:
        return False
    return target is None or fig.p99_ms <= target * (1 + 1e-9)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.floats(0.0, 2e5), st.floats(0.1, 200.0), st.one_of(st.none(), st.floats(0.05, 1.0)),
       st.one_of(st.none(), st.floats(1.0, 30.0)), st.floats(0.0, 2.0), st.floats(0.3, 2.0))
def test_size_servers_is_minimal(lam: float, s_ms: float, u: float | None, factor: float | None,
                                 cs: float, ca: float) -> None:
    target = None if factor is None else factor * s_ms * (1 + cs)
    sizing = size_servers(lam, s_ms, target_utilization=u, p99_target_ms=target, service_cv=cs, arrival_cv=ca)
    bare = service_quantile_ms(s_ms, cs, 0.99)
    if target is not None and target <= bare * (1 + 1e-12):  # ties to rounding count as infeasible
        assert sizing.infeasible and sizing.min_servers is None
        assert "no number of servers" in sizing.reason
        return
    assert not sizing.infeasible and sizing.min_servers is not None and sizing.min_servers >= 1
    c = sizing.min_servers
    assert _meets(lam, s_ms, c, u, target, cs, ca), sizing.reason
    if c > 1:
        fig = station(lam, s_ms, c - 1, service_cv=cs, arrival_cv=ca)
        strict = (fig.saturated or (u is not None and fig.utilization > u)
                  or (target is not None and fig.p99_ms > target * (1 - 1e-9)))
        assert strict, sizing.reason
    assert sizing.reason.endswith(".")


def test_size_servers_known_case_and_reasons() -> None:
    s = size_servers(900.0, 10.0, p99_target_ms=60.0)
    assert s.min_servers == 11 and s.binding == "p99" and "p99 target" in s.reason
    s = size_servers(900.0, 10.0, target_utilization=0.7)
    assert s.min_servers == 13 and s.binding == "utilization"  # 9 / 13 = 0.69
    s = size_servers(900.0, 10.0)
    assert s.min_servers == 10 and s.binding == "stability"
    s = size_servers(1000.0, 10.0, target_utilization=1.0)  # a = 10 exactly: 10 servers would be saturated
    assert s.min_servers == 11


def test_size_servers_infeasible_when_target_at_or_below_bare_service_p99() -> None:
    for target in (10.0 * LN100, 30.0):
        s = size_servers(900.0, 10.0, p99_target_ms=target)
        assert s.infeasible and s.min_servers is None
        assert "at or below the service time's own p99 46.05 ms" in s.reason
        assert "no number of servers can meet it" in s.reason
    # gamma service: the bare p99 is the Gamma quantile
    bare = stats.gamma.ppf(0.99, 4.0, scale=2.5)
    assert size_servers(900.0, 10.0, p99_target_ms=bare * 0.999, service_cv=0.5).infeasible
    assert not size_servers(900.0, 10.0, p99_target_ms=bare * 1.2, service_cv=0.5).infeasible
    # no traffic: one server, still checked against the bare service p99
    assert size_servers(0.0, 10.0, p99_target_ms=50.0).min_servers == 1
    assert size_servers(0.0, 10.0, p99_target_ms=40.0).infeasible


def test_size_servers_respects_max_servers() -> None:
    s = size_servers(1e6, 10.0, max_servers=5000)
    assert s.infeasible and "max_servers" in s.reason


def test_size_servers_is_fast_for_50000_erlangs() -> None:
    lam, s_ms = 5e6, 10.0  # a = 50,000 Erlangs
    for target in (46.2, 50.0, 60.0):
        size_servers(lam, s_ms, p99_target_ms=target)  # warm up
        t0 = time.perf_counter()
        s = size_servers(lam, s_ms, target_utilization=0.999, p99_target_ms=target)
        elapsed = time.perf_counter() - t0
        assert elapsed < 0.02, elapsed  # typically ~0.1 ms
        assert _meets(lam, s_ms, s.min_servers, 0.999, target, 1.0, 1.0)
        assert not _meets(lam, s_ms, s.min_servers - 1, 0.999, target, 1.0, 1.0)


def test_p99_by_brentq_is_accurate_against_a_dense_root() -> None:
    fig = station(790.0, 10.0, 8, service_cv=0.7, arrival_cv=1.2)
    root = optimize.brentq(lambda t: float(response_sf(fig, t)) - 0.01, 1.0, 1e4, xtol=1e-14, rtol=1e-15)
    assert fig.p99_ms == pytest.approx(root, rel=1e-10)
