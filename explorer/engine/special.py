"""Incomplete gamma functions, their inverses and ``1F1(1; b; z)``, with numpy and math only.

The queueing engine needs a handful of special functions; importing ``scipy.special``
for them costs more than the rest of the command-line start-up together, so they
are written here (``shared/reference/queueing.md`` names where they are used).

Functions
---------
* :func:`gammainc` ``P(a, x)`` and :func:`gammaincc` ``Q(a, x) = 1 - P(a, x)``, the
  regularised lower and upper incomplete gamma functions, scalar or vectorised.
* :func:`gammaincinv` and :func:`gammainccinv`: ``x`` with ``P(a, x) = p`` (resp.
  ``Q(a, x) = q``), scalar.
* :func:`hyp1f1_1` ``1F1(1; b; z)`` for real ``z`` of either sign, scalar or vectorised.

Method
------
Everything is built on the prefactor ``x**a e**-x / Gamma(a + 1)``, kept in log space
and, above ``a = 15``, in the saddle-point form ``-stirlerr(a) - bd0(a, x) -
ln(2 pi a) / 2`` (Loader 2000), which keeps full relative accuracy for large shapes::

    P(a, x) = pref * sum_n x**n / ((a + 1) ... (a + n))              (x < a + 1, series)
    Q(a, x) = pref * a / (x + 1 - a - 1 (1 - a) / (x + 3 - a - ...))  (x >= a + 1, Lentz)

The other of the pair is ``1 - `` the computed one, which is at least about 0.1 on
that side of ``x = a + 1`` for ``a >= 0.01`` (no harmful cancellation). The series
above *is* ``1F1(1; a + 1; x)``, so for ``z > 0``::

    1F1(1; b; z) = series                        (z < b)
    1F1(1; b; z) = P(b - 1, z) / pref(b - 1, z)   (z >= b)

and for ``z = -x < 0`` (Kummer's transformation, then positive terms only)::

    1F1(1; b; -x) = e**-x 1F1(b - 1; b; x) = sum_n Poisson(n; x) (b - 1) / (b - 1 + n)
    1F1(1; b; -x) ~ ((b - 1) / x) sum_n (2 - b)_n / x**n      (x >= 2 b + 50, asymptotic)

The inverses run Halley's method on ``P`` or ``Q`` (the one that is small at the
answer) from the Wilson–Hilferty or the small-``x`` starting value, inside a bracket
that is bisected whenever a step leaves it. Accuracy against ``scipy.special`` is
checked in ``tests/test_special.py`` (relative error at most ``1e-12`` for shapes
``0.1 <= a <= 1000``; against exact sums where ``scipy.special`` itself drifts).

Shapes above ``1e6`` (service cv below 0.001), and ``1F1(1; b; -x)`` where Kummer's sum
would need more than ``2e4`` terms, are handed to ``scipy.special``, imported on first
use only: the native series would need too many terms there, and no catalog entry
comes near (a start-up cost decision, see :func:`_scipy_special`).
"""

from __future__ import annotations

import importlib
import math
from types import ModuleType

import numpy as np

__all__ = ["gammainc", "gammaincc", "gammainc_pq", "gammaincinv", "gammainccinv", "hyp1f1_1", "stirling_error", "deviance"]

_EPS = 2.0**-53
_FPMIN = 1e-300
_MAX_ITER = 100_000
_SCIPY_SHAPE = 1e6
"""Shapes above this (service cv below 0.001) are handed to ``scipy.special``: the series and
the continued fraction need about ``9 sqrt(a)`` terms there, and a uniform asymptotic
expansion is not worth its tables for shapes no catalog entry comes near."""
_SCIPY_KUMMER_X = 2e4
"""Kummer's sum for ``1F1(1; b; -x)`` needs about ``x`` terms; beyond this ``x`` (reached only
with shapes above ``x / 2``) the value is handed to ``scipy.special``."""
_LN_2PI_HALF = 0.5 * math.log(2.0 * math.pi)
_SADDLE_FROM = 15.0
"""Shapes above this use the saddle-point prefactor (Stirling error + deviance)."""
_BLOCK = 8
"""Vectorised loops test convergence (and drop converged elements) every this many terms."""
_SCALE_EXP = 512
"""Positive-term sums are rescaled by ``2**-512`` (exact) whenever a term passes ``2**512``."""


def _scipy_special() -> ModuleType:
    """``scipy.special``, imported on first use only.

    Start-up cost decision: importing it takes longer than the rest of the command-line
    start together, and only the extreme shapes above (never a catalog default) need it.
    """
    return importlib.import_module("scipy.special")


# --------------------------------------------------------------------------- prefactor


def stirling_error(a: float) -> float:
    """lgamma(a + 1) - (a + 1/2) ln a + a - ln(2 pi)/2, by its asymptotic series (a > 15)."""
    a2 = a * a
    return (1.0 / 12 - (1.0 / 360 - (1.0 / 1260 - (1.0 / 1680 - 1.0 / (1188 * a2)) / a2) / a2) / a2) / a


def deviance(a: float, x: float) -> float:
    """a ln(a/x) + x - a without cancellation when x is close to a (Loader 2000)."""
    if abs(a - x) < 0.1 * (a + x):
        v = (a - x) / (a + x)
        s = (a - x) * v
        ej = 2.0 * a * v
        v2 = v * v
        j = 1
        while True:
            ej *= v2
            s1 = s + ej / (2 * j + 1)
            if s1 == s:
                return s1
            s = s1
            j += 1
    return a * math.log(a / x) + x - a


def _log_pref(a: float, x: float) -> float:
    """ln(x**a e**-x / Gamma(a + 1)) for a > 0, x > 0."""
    if a <= _SADDLE_FROM:
        return a * math.log(x) - x - math.lgamma(a + 1.0)
    return -stirling_error(a) - deviance(a, x) - _LN_2PI_HALF - 0.5 * math.log(a)


def _log_pref_v(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Vectorised :func:`_log_pref` (same two forms, elementwise)."""
    out = np.empty_like(x)
    small = a <= _SADDLE_FROM
    if np.any(small):
        asm = a[small]
        uniq, inv = np.unique(asm, return_inverse=True)
        lg = np.array([math.lgamma(v + 1.0) for v in uniq])[inv]
        out[small] = asm * np.log(x[small]) - x[small] - lg
    big = ~small
    if np.any(big):
        ab, xb = a[big], x[big]
        ab2 = ab * ab
        stirl = (1.0 / 12 - (1.0 / 360 - (1.0 / 1260 - (1.0 / 1680 - 1.0 / (1188 * ab2)) / ab2) / ab2)
                 / ab2) / ab
        with np.errstate(divide="ignore", invalid="ignore"):
            near = np.abs(ab - xb) < 0.1 * (ab + xb)
            v = (ab - xb) / (ab + xb)
            # a ln(a/x) + x - a = (a - x) v + 2 a sum_j v**(2j+1) / (2j+1) for |v| < 0.1
            v2 = v * v
            ej = 2.0 * ab * v
            series = (ab - xb) * v
            for j in range(1, 40):  # |v| < 0.1: 0.01**j / (2j + 1) is far below eps by j = 9
                ej = ej * v2
                series = series + ej / (2 * j + 1)
            direct = ab * np.log(ab / xb) + xb - ab
        bd0 = np.where(near, series, direct)
        out[big] = -stirl - bd0 - _LN_2PI_HALF - 0.5 * np.log(ab)
    return out


# --------------------------------------------------------------------------- scalar P, Q


def _series_sum(a: float, x: float) -> float:
    """sum_n x**n / ((a + 1) ... (a + n)) = 1F1(1; a + 1; x), for 0 <= x < a + 1."""
    term = 1.0
    total = 1.0
    ap = a
    for _ in range(_MAX_ITER):
        ap += 1.0
        term *= x / ap
        total += term
        if term < total * _EPS:
            return total
    raise ArithmeticError(f"Incomplete gamma series did not converge (a={a!r}, x={x!r}).")


def _cf_value(a: float, x: float) -> float:
    """1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - ...)) by the modified Lentz method, x >= a + 1."""
    b = x + 1.0 - a
    c = 1.0 / _FPMIN
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITER):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < _FPMIN:
            d = _FPMIN
        c = b + an / c
        if abs(c) < _FPMIN:
            c = _FPMIN
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) <= _EPS:
            return h
    raise ArithmeticError(f"Incomplete gamma continued fraction did not converge (a={a!r}, x={x!r}).")


def _pq_scalar(a: float, x: float) -> tuple[float, float]:
    """(P(a, x), Q(a, x)) for scalars, NaN outside a >= 0, x >= 0."""
    if math.isnan(a) or math.isnan(x) or a < 0.0 or x < 0.0:
        return math.nan, math.nan
    if a == 0.0:
        return (math.nan, math.nan) if x == 0.0 else (1.0, 0.0)
    if x == 0.0:
        return 0.0, 1.0
    if math.isinf(x):
        return 1.0, 0.0
    if math.isinf(a):
        return 0.0, 1.0
    if a > _SCIPY_SHAPE:
        sp = _scipy_special()
        return float(sp.gammainc(a, x)), float(sp.gammaincc(a, x))
    lp = _log_pref(a, x)
    if x < a + 1.0:
        p = math.exp(lp + math.log(_series_sum(a, x)))
        return p, 1.0 - p
    q = math.exp(lp + math.log(a * _cf_value(a, x)))
    return 1.0 - q, q


# --------------------------------------------------------------------------- vectorised P, Q


def _series_sum_v(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Vectorised :func:`_series_sum`; converged elements leave the loop every few terms."""
    term = np.ones_like(x)
    total = np.ones_like(x)
    ap = a.copy()
    xi = x.copy()
    idx = np.arange(x.size)
    out = np.empty_like(x)
    for _ in range(0, _MAX_ITER, _BLOCK):
        for _ in range(_BLOCK):  # terms below eps * total no longer change it
            ap += 1.0
            term *= xi / ap
            total += term
        done = term < total * _EPS
        if done.any():
            out[idx[done]] = total[done]
            keep = ~done
            idx, term, total, ap, xi = idx[keep], term[keep], total[keep], ap[keep], xi[keep]
            if idx.size == 0:
                return out
    raise ArithmeticError("Incomplete gamma series did not converge.")


def _cf_value_v(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Vectorised :func:`_cf_value` (modified Lentz); converged elements leave every few steps."""
    out = np.empty_like(x)
    idx = np.arange(x.size)
    aa = a.copy()
    b = x + 1.0 - a
    c = np.full_like(x, 1.0 / _FPMIN)
    d = 1.0 / b
    h = d.copy()
    i = 0
    while i < _MAX_ITER:
        for _ in range(_BLOCK):  # once delta == 1 to eps, further steps leave h as it is
            i += 1
            an = -i * (i - aa)
            b += 2.0
            d = an * d + b
            d[np.abs(d) < _FPMIN] = _FPMIN
            c = b + an / c
            c[np.abs(c) < _FPMIN] = _FPMIN
            d = 1.0 / d
            delta = d * c
            h *= delta
        done = np.abs(delta - 1.0) <= _EPS
        if done.any():
            out[idx[done]] = h[done]
            keep = ~done
            idx, aa, b, c, d, h = idx[keep], aa[keep], b[keep], c[keep], d[keep], h[keep]
            if idx.size == 0:
                return out
    raise ArithmeticError("Incomplete gamma continued fraction did not converge.")


def _pq_array(a: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P, Q) elementwise over broadcast arrays, with the special cases of :func:`_pq_scalar`."""
    a, x = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(x, dtype=float))
    shape = a.shape
    a = a.ravel()
    x = x.ravel()
    p = np.full(a.shape, np.nan)
    q = np.full(a.shape, np.nan)
    ok = (a >= 0.0) & (x >= 0.0)  # False for NaN
    zero_a = ok & (a == 0.0) & (x > 0.0)
    p[zero_a], q[zero_a] = 1.0, 0.0
    ok &= a > 0.0
    at0 = ok & (x == 0.0)
    p[at0], q[at0] = 0.0, 1.0
    at_inf = ok & np.isinf(x) & np.isfinite(a)
    p[at_inf], q[at_inf] = 1.0, 0.0
    a_inf = ok & np.isinf(a) & np.isfinite(x)
    p[a_inf], q[a_inf] = 0.0, 1.0
    live = ok & (x > 0.0) & np.isfinite(x) & np.isfinite(a)
    huge = live & (a > _SCIPY_SHAPE)
    if huge.any():
        sp = _scipy_special()
        p[huge], q[huge] = sp.gammainc(a[huge], x[huge]), sp.gammaincc(a[huge], x[huge])
        live &= ~huge
    ser = live & (x < a + 1.0)
    if ser.any():
        av, xv = a[ser], x[ser]
        pv = np.exp(_log_pref_v(av, xv) + np.log(_series_sum_v(av, xv)))
        p[ser], q[ser] = pv, 1.0 - pv
    cf = live & ~ser
    if cf.any():
        av, xv = a[cf], x[cf]
        qv = np.exp(_log_pref_v(av, xv) + np.log(av * _cf_value_v(av, xv)))
        p[cf], q[cf] = 1.0 - qv, qv
    return p.reshape(shape), q.reshape(shape)


def _is_scalar(*values: object) -> bool:
    return all(np.ndim(v) == 0 for v in values)


def gammainc(a: float | np.ndarray, x: float | np.ndarray) -> float | np.ndarray:
    """Regularised lower incomplete gamma function ``P(a, x) = gamma(a, x) / Gamma(a)``.

    Parameters
    ----------
    a : float or array
        Shape, ``a >= 0``.
    x : float or array
        Argument, ``x >= 0`` (``inf`` allowed). Broadcast against ``a``.

    Returns
    -------
    float or ndarray
        ``P(a, x)``; a float when both inputs are scalars. NaN outside the domain.
    """
    if _is_scalar(a, x):
        return _pq_scalar(float(a), float(x))[0]
    return _pq_array(a, x)[0]


def gammaincc(a: float | np.ndarray, x: float | np.ndarray) -> float | np.ndarray:
    """Regularised upper incomplete gamma function ``Q(a, x) = 1 - P(a, x)``.

    Computed directly on the side ``x >= a + 1`` (continued fraction), so small tails
    keep full relative accuracy. Parameters and returns as :func:`gammainc`.
    """
    if _is_scalar(a, x):
        return _pq_scalar(float(a), float(x))[1]
    return _pq_array(a, x)[1]


def gammainc_pq(a: float | np.ndarray, x: float | np.ndarray) -> tuple[float | np.ndarray, float | np.ndarray]:
    """``(P(a, x), Q(a, x))`` from one evaluation (as :func:`gammainc` and :func:`gammaincc`).

    Each value is computed on its accurate side and the other as ``1 -`` it, so this is
    exactly what the two separate calls return, for half the work.
    """
    if _is_scalar(a, x):
        return _pq_scalar(float(a), float(x))
    return _pq_array(a, x)


# --------------------------------------------------------------------------- inverses


def _initial_guess(a: float, p: float, q: float) -> float:
    """Starting value for P(a, x) = p (Numerical Recipes 3rd ed. §6.2.1)."""
    if a > 1.0:
        pp = p if p < 0.5 else q
        t = math.sqrt(-2.0 * math.log(pp))
        z = (2.30753 + t * 0.27061) / (1.0 + t * (0.99229 + t * 0.04481)) - t
        if p < 0.5:
            z = -z
        return max(1e-3, a * (1.0 - 1.0 / (9.0 * a) - z / (3.0 * math.sqrt(a))) ** 3)
    t = 1.0 - a * (0.253 + a * 0.12)
    if p < t:
        return (p / t) ** (1.0 / a)
    return 1.0 - math.log(q / (1.0 - t))


def _invert(a: float, target: float, upper: bool) -> float:
    """x with P(a, x) = target (upper=False) or Q(a, x) = target (upper=True), a > 0, 0 < target <= 1/2.

    Newton's method on ``ln P - ln target`` (resp. ``ln Q``), which stays well scaled for
    targets down to 1e-300, inside a bracket that is bisected whenever a step leaves it.
    """
    p, q = (1.0 - target, target) if upper else (target, 1.0 - target)
    if not upper:
        # P(a, x) = x**a / Gamma(a + 1) (1 - a x / (a + 1) + ...): exact to eps below 1e-17
        x_small = math.exp((math.log(p) + math.lgamma(a + 1.0)) / a)
        if x_small < 1e-17:
            return x_small
    x = _initial_guess(a, p, q)
    if not math.isfinite(x) or x <= 0.0:
        x = a
    log_target = math.log(target)
    lo, hi = 0.0, math.inf
    for _ in range(400):
        pv, qv = _pq_scalar(a, x)
        val = qv if upper else pv
        r = (math.log(val) if val > 0.0 else -math.inf) - log_target
        if r == 0.0:
            return x
        # P increases and Q decreases in x: keep the root bracketed
        if (r < 0.0) != upper:
            lo = x
        else:
            hi = x
        # d ln P / dx = x**(a-1) e**-x / (Gamma(a) P); d ln Q / dx = -x**(a-1) e**-x / (Gamma(a) Q)
        slope = math.exp(_log_pref(a, x) + math.log(a / x)) / val if val > 0.0 else math.inf
        if 0.0 < slope < math.inf:
            x_new = x - (r / slope if not upper else -r / slope)
        else:  # density underflowed (far from the root) or P, Q did: bisect or expand
            x_new = math.nan
        if not (lo < x_new < hi) or not math.isfinite(x_new):
            x_new = 0.5 * (lo + hi) if math.isfinite(hi) else 2.0 * x
        if x_new == 0.0:  # the root lies below the smallest positive double
            return 0.0
        if abs(x_new - x) <= 2.0 * _EPS * x_new or (math.isfinite(hi) and hi - lo <= 4.0 * _EPS * hi):
            return x_new
        x = x_new
    raise ArithmeticError(f"Incomplete gamma inverse did not converge (a={a!r}, target={target!r}).")


def gammaincinv(a: float, p: float) -> float:
    """Inverse of :func:`gammainc` in ``x``: the ``x`` with ``P(a, x) = p``.

    Parameters
    ----------
    a : float
        Shape, ``a > 0``.
    p : float
        Probability in ``[0, 1]``.

    Returns
    -------
    float
        ``0`` at ``p = 0``, ``inf`` at ``p = 1``, NaN outside the domain.
    """
    a, p = float(a), float(p)
    if not (a > 0.0 and 0.0 <= p <= 1.0):
        return math.nan
    if p == 0.0:
        return 0.0
    if p == 1.0:
        return math.inf
    if a > _SCIPY_SHAPE:
        return float(_scipy_special().gammaincinv(a, p))
    if p > 0.5:  # work on the small side for accuracy of the residual
        return _invert(a, 1.0 - p, upper=True) if 1.0 - p > 0.0 else math.inf
    return _invert(a, p, upper=False)


def gammainccinv(a: float, q: float) -> float:
    """Inverse of :func:`gammaincc` in ``x``: the ``x`` with ``Q(a, x) = q``.

    Parameters
    ----------
    a : float
        Shape, ``a > 0``.
    q : float
        Probability in ``[0, 1]``.

    Returns
    -------
    float
        ``inf`` at ``q = 0``, ``0`` at ``q = 1``, NaN outside the domain.
    """
    a, q = float(a), float(q)
    if not (a > 0.0 and 0.0 <= q <= 1.0):
        return math.nan
    if q == 0.0:
        return math.inf
    if q == 1.0:
        return 0.0
    if a > _SCIPY_SHAPE:
        return float(_scipy_special().gammainccinv(a, q))
    if q > 0.5:
        return _invert(a, 1.0 - q, upper=False)
    return _invert(a, q, upper=True)


# --------------------------------------------------------------------------- 1F1(1; b; z)


def _asymptotic_ok(k: float, x: float) -> bool:
    """Whether the asymptotic series for 1F1(1; k + 1; -x) reaches eps (see the module notes).

    Its terms shrink by ``|n - k| / x < 1`` down to about ``n = k + x``, far below eps once
    ``x >= k + 40``; the part it leaves out is ``Gamma(k) x**(1-k) e**-x`` relative to the
    value, required below ``e**-37``.
    """
    return x >= k + 40.0 and math.lgamma(k) + (1.0 - k) * math.log(x) - x < -37.0


def _hyp_neg_scalar(k: float, x: float) -> float:
    """1F1(1; k + 1; -x) for k > 0, x > 0: alternating series, asymptotic or Kummer's sum."""
    if x <= 0.5 * (k + 1.0):
        # sum_n (-x)**n / ((k + 1) ... (k + n)): ratios below 1/2, at most a factor 4 lost
        term = 1.0
        total = 1.0
        kp = k
        while abs(term) >= _EPS * total:
            kp += 1.0
            term *= -x / kp
            total += term
        return total
    if _asymptotic_ok(k, x):
        term = 1.0
        total = 1.0
        n = 0
        while abs(term) >= _EPS * total:
            n += 1
            term *= (n - k) / x
            total += term
        return k / x * total
    if x > _SCIPY_KUMMER_X:
        return float(_scipy_special().hyp1f1(1.0, k + 1.0, -x))
    # sum_n Poisson(n; x) k / (k + n), the Poisson weights scaled by 2**(512 e)
    w = 1.0
    e = 0
    total = 1.0  # n = 0: weight 1, k / (k + 0) = 1
    for n in range(1, _MAX_ITER):
        w *= x / n
        if w > 2.0**_SCALE_EXP:
            w = math.ldexp(w, -_SCALE_EXP)
            total = math.ldexp(total, -_SCALE_EXP)
            e += 1
        t = w * k / (k + n)
        total += t
        if n > x and t < _EPS * total:
            return math.exp(math.log(total) - x + e * _SCALE_EXP * math.log(2.0))
    raise ArithmeticError(f"1F1(1; b; z) did not converge (b={k + 1.0!r}, z={-x!r}).")


def _hyp_scalar(b: float, z: float) -> float:
    if math.isnan(b) or math.isnan(z) or b <= 1.0:
        return math.nan
    k = b - 1.0
    if z == 0.0:
        return 1.0
    if z < 0.0:
        return 0.0 if math.isinf(z) else _hyp_neg_scalar(k, -z)
    if math.isinf(z):
        return math.inf
    if z < b:
        return _series_sum(k, z)
    p = _pq_scalar(k, z)[0]
    lv = math.log(p) - _log_pref(k, z)
    return math.exp(lv) if lv < 709.78 else math.inf


def _alternating_v(k: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum_n (-x)**n / ((k + 1) ... (k + n)) elementwise, for x <= (k + 1) / 2."""
    term = np.ones_like(x)
    total = np.ones_like(x)
    kp = k.copy()
    xi = x.copy()
    idx = np.arange(x.size)
    out = np.empty_like(x)
    for _ in range(0, _MAX_ITER, _BLOCK):
        for _ in range(_BLOCK):
            kp += 1.0
            term *= -xi / kp
            total += term
        done = np.abs(term) < _EPS * total
        if done.any():
            out[idx[done]] = total[done]
            keep = ~done
            idx, term, total, kp, xi = idx[keep], term[keep], total[keep], kp[keep], xi[keep]
            if idx.size == 0:
                return out
    raise ArithmeticError("1F1(1; b; z) series did not converge.")


def _asymptotic_v(k: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(k / x) sum_n (1 - k)_n / x**n elementwise, where :func:`_asymptotic_ok` holds."""
    term = np.ones_like(x)
    total = np.ones_like(x)
    kk = k.copy()
    xi = x.copy()
    idx = np.arange(x.size)
    out = np.empty_like(x)
    n = 0
    while n < _MAX_ITER:
        for _ in range(_BLOCK):  # terms keep shrinking until n = k + x, far past eps
            n += 1
            term *= (n - kk) / xi
            total += term
        done = np.abs(term) < _EPS * total
        if done.any():
            out[idx[done]] = total[done] * kk[done] / xi[done]
            keep = ~done
            idx, term, total, kk, xi = idx[keep], term[keep], total[keep], kk[keep], xi[keep]
            if idx.size == 0:
                return out
    raise ArithmeticError("1F1(1; b; z) asymptotic series did not converge.")


def _kummer_v(k: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum_n Poisson(n; x) k / (k + n) elementwise, weights rescaled by 2**-512 when large."""
    w = np.ones_like(x)
    e = np.zeros_like(x)
    total = np.ones_like(x)
    kk = k.copy()
    xi = x.copy()
    idx = np.arange(x.size)
    out = np.empty_like(x)
    big = 2.0**_SCALE_EXP
    n = 0
    while n < _MAX_ITER:
        for _ in range(_BLOCK):
            n += 1
            w *= xi / n
            total += w * kk / (kk + n)
        over = w > big
        if over.any():  # w grows by at most x**8 per block: rescaling here keeps it finite
            w[over] /= big
            total[over] /= big
            e[over] += 1.0
        done = (n > xi) & (w * kk / (kk + n) < _EPS * total)
        if done.any():
            out[idx[done]] = np.exp(np.log(total[done]) - xi[done] + e[done] * (_SCALE_EXP * math.log(2.0)))
            keep = ~done
            idx, w, e, total, kk, xi = idx[keep], w[keep], e[keep], total[keep], kk[keep], xi[keep]
            if idx.size == 0:
                return out
    raise ArithmeticError("1F1(1; b; z) Kummer sum did not converge.")


def _hyp_neg_v(k: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Vectorised :func:`_hyp_neg_scalar` (same three regions)."""
    out = np.empty_like(x)
    alt = x <= 0.5 * (k + 1.0)
    uniq, inv = np.unique(k, return_inverse=True)
    lgk = np.array([math.lgamma(v) for v in uniq])[inv.ravel()]
    with np.errstate(divide="ignore"):
        asym = ~alt & (x >= k + 40.0) & (lgk + (1.0 - k) * np.log(x) - x < -37.0)
    huge = ~alt & ~asym & (x > _SCIPY_KUMMER_X)
    if huge.any():
        out[huge] = _scipy_special().hyp1f1(1.0, k[huge] + 1.0, -x[huge])
    kum = ~alt & ~asym & ~huge
    for region, fn in ((alt, _alternating_v), (asym, _asymptotic_v), (kum, _kummer_v)):
        if region.any():
            out[region] = fn(k[region], x[region])
    return out


def _hyp_array(b: np.ndarray, z: np.ndarray) -> np.ndarray:
    b, z = np.broadcast_arrays(np.asarray(b, dtype=float), np.asarray(z, dtype=float))
    shape = b.shape
    b = b.ravel()
    z = z.ravel()
    out = np.full(b.shape, np.nan)
    ok = b > 1.0  # False for NaN
    out[ok & (z == 0.0)] = 1.0
    out[ok & (z == -np.inf)] = 0.0
    out[ok & (z == np.inf)] = np.inf
    k = b - 1.0
    neg = ok & (z < 0.0) & np.isfinite(z)
    if neg.any():
        out[neg] = _hyp_neg_v(k[neg], -z[neg])
    ser = ok & (z > 0.0) & (z < b)
    if ser.any():
        out[ser] = _series_sum_v(k[ser], z[ser])
    far = ok & (z >= b) & np.isfinite(z)
    if far.any():
        kf, zf = k[far], z[far]
        p = _pq_array(kf, zf)[0]
        lv = np.log(p) - _log_pref_v(kf, zf)
        with np.errstate(over="ignore"):
            out[far] = np.exp(lv)
    return out.reshape(shape)


def hyp1f1_1(b: float | np.ndarray, z: float | np.ndarray) -> float | np.ndarray:
    """Kummer's confluent hypergeometric function ``1F1(1; b; z)`` for ``b > 1``.

    Parameters
    ----------
    b : float or array
        Lower parameter, ``b > 1`` (the engine passes ``b = k + 1`` for a Gamma shape ``k``).
    z : float or array
        Real argument of either sign. Broadcast against ``b``.

    Returns
    -------
    float or ndarray
        ``1F1(1; b; z)``; ``inf`` where it overflows (``z`` large and positive); a float
        when both inputs are scalars; NaN for ``b <= 1``.
    """
    if _is_scalar(b, z):
        return _hyp_scalar(float(b), float(z))
    return _hyp_array(b, z)
