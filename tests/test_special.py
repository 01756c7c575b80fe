"""explorer.engine.special against scipy.special and, where scipy itself drifts, exact sums.

Relative error at most 1e-12 wherever the reference value is at least 1e-300, over
dense grids of shapes (0.1 to 1000, the catalog's 1 to 11 densely) and arguments
(including the lattice ranges the queueing engine feeds them).
"""

from __future__ import annotations

import math
import subprocess
import sys
from decimal import Decimal, getcontext
from pathlib import Path

import numpy as np
import pytest
from scipy import special as sp

from explorer.engine import special

TOL = 1e-12
SHAPES = np.unique(np.concatenate([
    np.geomspace(0.1, 1000.0, 61),
    np.linspace(1.0, 11.2, 35),  # k = 1/cv**2 for the catalog's cv 0.3..1, and k + 1
    [1.0, 2.0, 15.0, 15.000001, 16.0, 1.0 / 0.3**2, 1.0 / 0.3**2 + 1.0],
]))
ARGS = np.unique(np.concatenate([
    [0.0], np.geomspace(1e-8, 5000.0, 500), np.linspace(0.0, 60.0, 2049),
]))


def _rel_err(mine: np.ndarray, ref: np.ndarray) -> np.ndarray:
    mine, ref = np.broadcast_arrays(np.asarray(mine, float), np.asarray(ref, float))
    judged = np.isfinite(ref) & (np.abs(ref) >= 1e-300)
    assert np.all(np.isfinite(mine[judged])), "non-finite value where the reference is finite"
    # where the reference overflows, the value must be at least near overflow too
    assert np.all(~np.isinf(ref) | (np.abs(mine) > 1e300)), "an infinite reference value was not matched"
    with np.errstate(all="ignore"):
        err = np.abs(mine - ref) / np.abs(ref)
    return np.where(judged, err, 0.0)


def _worst(err: np.ndarray, a: np.ndarray, x: np.ndarray) -> str:
    i = np.unravel_index(np.argmax(err), err.shape)
    return f"max rel err {err[i]:.3g} at a={a[i]!r}, x={x[i]!r}"


# scipy's own prefactor x**a e**-x / Gamma(a) loses digits for large shapes (about
# 1e-12 by a = 500, checked below against exact sums); ours uses the saddle-point form.
SCIPY_TRUSTED_SHAPE = 300.0


@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
def test_incomplete_gamma_matches_scipy(name: str) -> None:
    a, x = np.meshgrid(SHAPES[SHAPES <= SCIPY_TRUSTED_SHAPE], ARGS)
    err = _rel_err(getattr(special, name)(a, x), getattr(sp, name)(a, x))
    assert err.max() <= TOL, _worst(err, a, x)


def test_pair_equals_the_two_functions() -> None:
    a, x = np.meshgrid(SHAPES[::5], ARGS[::7])
    p, q = special.gammainc_pq(a, x)
    assert np.array_equal(p, special.gammainc(a, x))
    assert np.array_equal(q, special.gammaincc(a, x))


def test_scalar_path_equals_vector_path() -> None:
    a, x = np.meshgrid(SHAPES[::3], ARGS[::23])
    vec_p, vec_q = special.gammainc_pq(a, x)
    for ai, xi, pv, qv in zip(a.ravel(), x.ravel(), vec_p.ravel(), vec_q.ravel(), strict=True):
        ps, qs = special.gammainc_pq(float(ai), float(xi))
        assert isinstance(ps, float)
        assert abs(ps - pv) <= 1e-14 * max(abs(pv), 1e-300)
        assert abs(qs - qv) <= 1e-14 * max(abs(qv), 1e-300)
    b, z = np.meshgrid(SHAPES[::3] + 1.0, np.concatenate([-ARGS[::23], ARGS[::23]]))
    vec_h = special.hyp1f1_1(b, z)
    for bi, zi, hv in zip(b.ravel(), z.ravel(), vec_h.ravel(), strict=True):
        hs = special.hyp1f1_1(float(bi), float(zi))
        assert hs == hv or abs(hs - hv) <= 1e-14 * abs(hv), (bi, zi, hs, hv)


def _exact_q(n: int, x: float) -> float:
    """Q(n, x) = e**-x sum_{j<n} x**j / j! for integer n, to 60 digits."""
    getcontext().prec = 60
    xd = Decimal(x)
    term, total = Decimal(1), Decimal(0)
    for j in range(n):
        total += term
        term = term * xd / (j + 1)
    return float((-xd).exp() * total)


def _exact_hyp_pos(k: int, x: float) -> float:
    """1F1(1; k + 1; x) = k! x**-k (e**x - sum_{j<k} x**j / j!) for integer k, to 60 digits."""
    getcontext().prec = 60
    xd = Decimal(x)
    term, total = Decimal(1), Decimal(0)
    for j in range(k):
        total += term
        term = term * xd / (j + 1)
    return float(Decimal(math.factorial(k)) / xd**k * (xd.exp() - total))


def _exact_hyp_series(b: float, z: float) -> float:
    """1F1(1; b; z) = sum_n z**n / ((b) ... (b + n - 1)) for z > 0, to 50 digits."""
    getcontext().prec = 50
    bd, zd = Decimal(b), Decimal(z)
    term = total = Decimal(1)
    n = 0
    while term > Decimal(10) ** -40 * total:
        term = term * zd / (bd + n)
        total += term
        n += 1
    return float(total)


@pytest.mark.parametrize("n", [200, 350, 500, 800, 1000])
def test_incomplete_gamma_large_integer_shapes_match_exact_sums(n: int) -> None:
    for x in np.geomspace(n / 4.0, 4.0 * n, 41):
        ref = _exact_q(n, float(x))
        if ref < 1e-300:
            continue
        q = special.gammaincc(float(n), float(x))
        p = special.gammainc(float(n), float(x))
        assert abs(q - ref) <= TOL * ref, (n, x, q, ref)
        assert abs(p - (1.0 - ref)) <= TOL * max(1.0 - ref, 1e-300) or 1.0 - ref < 1e-3, (n, x, p)


def test_gammainc_large_shapes_lower_side_matches_scipy_loosely() -> None:
    # scipy drifts to ~2e-12 here (see the exact-sum test), so the bound is looser
    a, x = np.meshgrid(SHAPES[SHAPES > SCIPY_TRUSTED_SHAPE], ARGS)
    err = _rel_err(special.gammainc(a, x), sp.gammainc(a, x))
    assert err.max() <= 5e-12, _worst(err, a, x)


def test_hyp1f1_negative_matches_scipy() -> None:
    b, z = np.meshgrid(SHAPES + 1.0, -ARGS)
    err = _rel_err(special.hyp1f1_1(b, z), sp.hyp1f1(1.0, b, z))
    assert err.max() <= TOL, _worst(err, b, z)


def test_hyp1f1_negative_lattice_ranges() -> None:
    # K(t) feeds -(theta s - 1) t / s: long lattices, large arguments, the catalog's shapes
    z = -np.geomspace(1e-6, 2e4, 3000)
    for k in (1.0, 1.5625, 2.0, 4.0, 1.0 / 0.3**2, 11.0, 25.0, 120.0):
        err = _rel_err(special.hyp1f1_1(k + 1.0, z), sp.hyp1f1(1.0, k + 1.0, z))
        assert err.max() <= TOL, (k, _worst(err, np.full_like(z, k + 1.0), z))


def test_hyp1f1_positive_series_region_matches_scipy() -> None:
    # the engine calls it with z < b only (where P(k, z) underflows); all of z < b here
    b, z = np.meshgrid(SHAPES + 1.0, ARGS)
    mask = z < b
    err = _rel_err(special.hyp1f1_1(b[mask], z[mask]), sp.hyp1f1(1.0, b[mask], z[mask]))
    assert err.max() <= TOL, _worst(err, b[mask], z[mask])


def test_hyp1f1_positive_beyond_b() -> None:
    # scipy drifts up to ~1e-10 here for b in 15..130: exact sums for integer k judge instead
    for k in (1, 2, 5, 11, 16, 32, 50, 126, 300):
        for x in np.geomspace(k + 1.5, 700.0, 30):
            ref = _exact_hyp_pos(k, float(x))
            got = special.hyp1f1_1(k + 1.0, float(x))
            assert abs(got - ref) <= TOL * ref, (k, x, got, ref)
    # any b (scipy is off by 1e-12 already at b = 1.1, z = 2.2): the positive series to 50 digits
    for b in (1.1, 1.5, 2.0, 3.7, 1.0 / 0.3**2 + 1.0, 12.0, 40.5):
        zs = np.geomspace(b, 700.0, 25)
        got = special.hyp1f1_1(b, zs)
        for zi, gi in zip(zs, got, strict=True):
            ref = _exact_hyp_series(b, float(zi))
            assert abs(gi - ref) <= TOL * ref, (b, zi, gi, ref)


PROBS = np.concatenate([np.geomspace(1e-300, 0.5, 70), 1.0 - np.geomspace(1e-16, 0.5, 40)])


@pytest.mark.parametrize(("name", "forward"), [("gammaincinv", "gammainc"),
                                                ("gammainccinv", "gammaincc")])
def test_inverses_match_scipy(name: str, forward: str) -> None:
    worst = (0.0, None)
    for a in SHAPES[::2]:
        for prob in PROBS:
            ref = getattr(sp, name)(a, prob)
            got = getattr(special, name)(float(a), float(prob))
            assert isinstance(got, float)
            if ref >= 1e-300 and math.isfinite(ref):
                err = abs(got - ref) / ref
                if err > worst[0]:
                    worst = (err, (a, prob, got, ref))
    assert worst[0] <= TOL, worst


def test_inverse_round_trip_and_edges() -> None:
    for a in (0.5, 1.0, 11.11, 400.0):
        for prob in (1e-200, 1e-9, 0.01, 0.3, 0.5):
            x = special.gammainccinv(a, prob)
            assert abs(special.gammaincc(a, x) - prob) <= 1e-12 * prob
            x = special.gammaincinv(a, prob)
            if x == 0.0:  # the root lies below the smallest double: so says scipy too
                assert sp.gammaincinv(a, prob) == 0.0
                continue
            assert abs(special.gammainc(a, x) - prob) <= 1e-12 * prob
        assert special.gammaincinv(a, 0.0) == 0.0
        assert special.gammaincinv(a, 1.0) == math.inf
        assert special.gammainccinv(a, 0.0) == math.inf
        assert special.gammainccinv(a, 1.0) == 0.0
    assert math.isnan(special.gammaincinv(-1.0, 0.5))
    assert math.isnan(special.gammainccinv(2.0, 1.5))


def test_domain_edges_follow_scipy() -> None:
    a = np.array([0.0, 0.0, 1.0, 1.0, 2.0, -1.0, 1.0, np.nan, 3.0])
    x = np.array([0.0, 2.0, 0.0, np.inf, -1.0, 1.0, np.nan, 1.0, 1e-320])
    for name in ("gammainc", "gammaincc"):
        mine, ref = getattr(special, name)(a, x), getattr(sp, name)(a, x)
        np.testing.assert_array_equal(mine, ref)
        for ai, xi, r in zip(a, x, ref, strict=True):
            s = getattr(special, name)(float(ai), float(xi))
            assert s == r or (math.isnan(s) and math.isnan(r))
    b = np.array([2.0, 2.0, 2.0, 1.0, 0.5])
    z = np.array([0.0, -np.inf, 800.0, 1.0, 1.0])
    mine = special.hyp1f1_1(b, z)
    assert mine[0] == 1.0 and mine[1] == 0.0 and mine[2] == np.inf
    assert np.isnan(mine[3]) and np.isnan(mine[4])


def test_extreme_shapes_stay_finite() -> None:
    # beyond the native range (cv < 0.001) values come from scipy.special, loaded on demand
    a = 1e10
    assert 0.4 < special.gammainc(a, a) < 0.6
    x = special.gammainccinv(a, 1e-3)
    assert abs(special.gammaincc(a, x) - 1e-3) <= 1e-9
    assert math.isfinite(special.hyp1f1_1(a + 1.0, -a))


def test_cli_estimate_does_not_import_scipy() -> None:
    # scipy.special was most of the command-line start-up; it must stay out of it
    code = (
        "import sys, io, contextlib\n"
        "from explorer.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['estimate', 'two_stage_recommender', '--json'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))\n"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout
