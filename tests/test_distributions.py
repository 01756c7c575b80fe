"""Tests of explorer.engine.distributions: lattice composition against closed forms and Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from explorer.engine.distributions import (
    Dist,
    Lattice,
    convolve,
    convolve_all,
    from_cdf,
    from_station,
    horizon_for,
    max_of_k,
    maximum,
    mixture,
    point_mass,
    sum_of_k,
)
from explorer.engine.queueing import response_quantile, response_sf, station


def exponential(lattice: Lattice, mean_ms: float) -> Dist:
    """Exp(mean) as the response time of an idle station (T = S)."""
    return from_station(lattice, station(0.0, mean_ms, 1))


STATIONS = [
    (900.0, 10.0, 12, 1.0, 1.0),
    (50.0, 10.0, 1, 1.0, 1.0),
    (150.0, 10.0, 2, 1.0, 1.0),  # a' = mu
    (900.0, 10.0, 12, 0.5, 1.0),
    (900.0, 10.0, 12, 0.0, 1.0),  # constant service: an atom
    (900.0, 10.0, 12, 2.0, 1.0),
    (1900.0, 1.0, 2, 1.0, 1.5),
    (7000.0, 1.0, 8, 0.3, 0.8),
]


# --------------------------------------------------------------------------- lattice and Dist


def test_lattice_and_dist_validation() -> None:
    lat = Lattice.spanning(100.0, 100)
    assert lat.dt_ms == 1.0 and lat.size == 101 and lat.horizon_ms == 100.0
    for bad in ((0.0, 10), (1.0, 0), (math.nan, 10), (1.0, 2.5)):
        with pytest.raises(ValueError):
            Lattice(*bad)
    with pytest.raises(ValueError, match="add up to 1"):
        Dist(lat, np.full(101, 0.5))
    with pytest.raises(ValueError, match="entries"):
        Dist(lat, np.ones(5) / 5)
    d = Dist(lat, np.r_[np.zeros(100), 0.75], overflow=0.25)
    assert d.support == (100, 101)
    assert d.quantile_ms(0.5) is not None and d.quantile_ms(0.8) is None
    with pytest.raises(ValueError, match="one lattice"):
        convolve(exponential(lat, 5.0), exponential(Lattice.spanning(100.0, 200), 5.0))
    with pytest.raises(ValueError, match="saturated"):
        from_station(lat, station(200.0, 10.0, 1))
    with pytest.raises(ValueError):
        d.pmf[0] = 1.0  # read-only


def test_point_mass_is_exact_in_mean_and_quantiles() -> None:
    lat = Lattice.spanning(100.0, 64)  # dt = 1.5625 ms
    for t in (0.0, 1.0, 7.3, 50.0, 100.0):
        d = point_mass(lat, t)
        assert d.mean_ms() == pytest.approx(t, abs=1e-12)
        assert abs(d.quantile_ms(0.5) - t) <= lat.dt_ms
    beyond = point_mass(lat, 100.5)
    assert beyond.overflow == 1.0 and beyond.quantile_ms(0.5) is None
    # a fixed delay shifts a distribution by exactly its value
    e = exponential(Lattice.spanning(400.0, 4096), 10.0)
    shifted = convolve(e, point_mass(e.lattice, 25.0))
    assert shifted.mean_ms() == pytest.approx(e.mean_ms() + 25.0, rel=1e-12)
    assert shifted.quantile_ms(0.99) == pytest.approx(e.quantile_ms(0.99) + 25.0, rel=1e-3)


# --------------------------------------------------------------------------- stations


@pytest.mark.parametrize("args", STATIONS)
@pytest.mark.parametrize("n", [4096, 1024])
def test_station_dist_keeps_mean_and_quantiles(args: tuple, n: int) -> None:
    fig = station(*args)
    lat = Lattice.spanning(horizon_for(fig, 1 - 1e-9), n)
    d = from_station(lat, fig)
    assert d.overflow <= 1e-9
    assert d.mean_ms() == pytest.approx(fig.mean_ms, rel=1e-7)
    assert float(d.pmf.sum()) + d.overflow == pytest.approx(1.0, abs=1e-12)
    for qq in (0.5, 0.9, 0.99, 0.999):
        assert d.quantile_ms(qq) == pytest.approx(response_quantile(fig, qq), rel=0.01 if n == 1024 else 0.002)
    assert d.quantile_ms(0.99) == pytest.approx(fig.p99_ms, rel=2e-3)


def test_coarse_lattice_still_keeps_the_mean() -> None:
    fig = station(900.0, 10.0, 12)
    lat = Lattice(25.0, 64)  # dt far above the service time
    d = from_station(lat, fig)
    assert d.mean_ms() == pytest.approx(fig.mean_ms, rel=1e-9)


def test_horizon_for_is_an_upper_bound() -> None:
    for args in STATIONS:
        fig = station(*args)
        for qq in (0.99, 0.9999):
            h = horizon_for(fig, qq)
            assert response_quantile(fig, qq) <= h
            assert float(response_sf(fig, h)) <= 1 - qq


# --------------------------------------------------------------------------- algebra vs closed forms


def test_convolution_of_two_exponentials_is_hypoexponential() -> None:
    m1, m2 = 10.0, 25.0
    a, b = 1 / m1, 1 / m2
    lat = Lattice.spanning(600.0, 4096)
    d = convolve(exponential(lat, m1), from_cdf(lat, lambda t: -np.expm1(-t / m2), mean_ms=m2))

    def sf(t: float) -> float:  # P(X + Y > t), X ~ Exp(a), Y ~ Exp(b)
        return (a * math.exp(-b * t) - b * math.exp(-a * t)) / (a - b)

    for qq in (0.5, 0.99, 0.999):
        exact = optimize.brentq(lambda t, qq=qq: sf(t) - (1 - qq), 0.0, 1000.0, xtol=1e-12)
        assert d.quantile_ms(qq) == pytest.approx(exact, rel=2e-3)
    assert d.mean_ms() == pytest.approx(m1 + m2, rel=1e-6)


@pytest.mark.parametrize("k", [2, 10, 100, 1000])
def test_max_of_k_exponentials_matches_closed_form(k: int) -> None:
    mean = 10.0
    lat = Lattice.spanning(mean * (math.log(k) + 15), 4096)
    d = max_of_k(exponential(lat, mean), k)
    for qq in (0.5, 0.99):
        exact = -mean * math.log1p(-qq ** (1 / k))  # F^k(t) = q
        assert d.quantile_ms(qq) == pytest.approx(exact, rel=3e-3)
    harmonic = sum(1 / i for i in range(1, k + 1))  # E[max] = mean * H_k
    assert d.mean_ms() == pytest.approx(mean * harmonic, rel=3e-3)
    # maximum() of k copies agrees with max_of_k
    if k <= 10:
        same = maximum([exponential(lat, mean)] * k)
        np.testing.assert_allclose(same.pmf, d.pmf, atol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 7, 37, 100])
def test_sum_of_k_matches_erlang(k: int) -> None:
    mean = 10.0
    lat = Lattice.spanning(stats.gamma.ppf(1 - 1e-10, k, scale=mean) * 1.1, 4096)
    d = sum_of_k(exponential(lat, mean), k)
    for qq in (0.5, 0.99):
        assert d.quantile_ms(qq) == pytest.approx(stats.gamma.ppf(qq, k, scale=mean), rel=3e-3)
    assert d.mean_ms() == pytest.approx(k * mean, rel=1e-6)
    assert sum_of_k(d, 0).mean_ms() == 0.0


def test_means_add_under_convolution() -> None:
    figs = [station(*args) for args in STATIONS]
    lat = Lattice.spanning(sum(horizon_for(f, 0.999999) for f in figs), 4096)
    total = convolve_all(from_station(lat, f) for f in figs)
    assert total.overflow < 1e-9
    assert total.mean_ms() == pytest.approx(sum(f.mean_ms for f in figs), rel=1e-6)


def test_mixture() -> None:
    lat = Lattice.spanning(300.0, 1024)
    e = exponential(lat, 10.0)
    m = mixture([e, point_mass(lat, 0.0)], [0.3, 0.7])
    assert m.mean_ms() == pytest.approx(3.0, rel=1e-9)
    assert m.quantile_ms(0.5) < lat.dt_ms
    with pytest.raises(ValueError, match="add up to 1"):
        mixture([e, e], [0.5, 0.6])


# --------------------------------------------------------------------------- overflow


def test_overflow_when_the_horizon_is_too_short() -> None:
    fig = station(900.0, 10.0, 12)
    lat = Lattice.spanning(fig.p99_ms * 0.8, 1024)  # shorter than the p99
    d = from_station(lat, fig)
    assert d.overflow == pytest.approx(float(response_sf(fig, lat.horizon_ms)), rel=1e-9)
    assert d.quantile_ms(0.5) == pytest.approx(fig.p50_ms, rel=5e-3)
    assert d.quantile_ms(0.99) is None  # lies in the overflow
    # a sum overflows at least as much, and exactly as the closed form says
    mean = 10.0
    lat = Lattice.spanning(50.0, 2048)
    two = convolve(exponential(lat, mean), exponential(lat, mean))
    assert two.overflow == pytest.approx(stats.gamma.sf(50.0, 2, scale=mean), rel=2e-3)
    assert float(two.pmf.sum()) + two.overflow == pytest.approx(1.0, abs=1e-12)
    many = max_of_k(exponential(lat, mean), 50)
    assert many.overflow == pytest.approx(1 - (1 - math.exp(-5.0)) ** 50, rel=1e-6)
    # a time entirely beyond the horizon
    gone = convolve(point_mass(lat, 30.0), point_mass(lat, 30.0))
    assert gone.overflow == 1.0 and gone.quantile_ms(0.01) is None


# --------------------------------------------------------------------------- Monte Carlo


def _sample_station(fig, rng: np.random.Generator, n: int) -> np.ndarray:
    cs = fig.service_cv
    if cs == 0.0:
        s = np.full(n, fig.service_ms)
    elif cs == 1.0:
        s = rng.exponential(fig.service_ms, n)
    else:
        k = 1 / cs**2
        s = rng.gamma(k, fig.service_ms / k, n)
    waits = rng.random(n) < fig.p_wait
    return s + np.where(waits, rng.exponential(1000.0 / fig.wait_tail_rate_per_s, n), 0.0)


@pytest.mark.slow
def test_composed_path_matches_monte_carlo() -> None:
    """A path: 5 stations in sequence, then a 10-way fan-out, a constant delay, and a 2-branch fork."""
    seq = [station(*args) for args in STATIONS[:5]]
    fan = station(400.0, 5.0, 4, 0.7)
    left, right = station(300.0, 8.0, 3), station(600.0, 2.0, 2, 0.0)
    horizon = sum(horizon_for(f, 0.99999) for f in seq) + 2 * horizon_for(fan, 0.99999) + 40 + 100
    lat = Lattice.spanning(horizon, 4096)
    path = convolve_all(
        [from_station(lat, f) for f in seq]
        + [max_of_k(from_station(lat, fan), 10), point_mass(lat, 3.7),
           maximum([from_station(lat, left), from_station(lat, right)])]
    )
    rng = np.random.default_rng(7)
    n = 1_000_000
    total = sum(_sample_station(f, rng, n) for f in seq)
    total += np.max([_sample_station(fan, rng, n) for _ in range(10)], axis=0)
    total += 3.7 + np.maximum(_sample_station(left, rng, n), _sample_station(right, rng, n))
    assert path.overflow < 1e-6
    assert path.mean_ms() == pytest.approx(total.mean(), rel=0.005)
    for qq in (0.5, 0.9, 0.99, 0.999):
        assert path.quantile_ms(qq) == pytest.approx(np.quantile(total, qq), rel=0.01), qq


def test_thousand_station_path_is_exact_in_mean() -> None:
    """A 1,000-station path keeps its mean exactly (its speed is measured by ``make bench``'s long chains,
    not asserted here: a shared machine's load would make a timed test flaky)."""
    figs = [station(900.0 * (1 + 0.05 * (i % 7)), 10.0, 12 + i % 5, 1.0 if i % 3 else 0.5) for i in range(1000)]
    lat = Lattice.spanning(sum(f.mean_ms for f in figs) * 1.5, 4096)
    total = convolve_all(from_station(lat, f) for f in figs)
    assert total.mean_ms() == pytest.approx(sum(f.mean_ms for f in figs), rel=1e-9)
