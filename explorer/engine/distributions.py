"""End-to-end latency by composing *distributions* on a common time lattice.

Percentiles do not add: the p99 of a path is not the sum of its stages' p99s, and
the p99 of a fan-out is not the largest branch p99. This module composes whole
distributions instead (``shared/reference/queueing.md``, "Method"):

* sequential stages → convolution (FFT, or direct for short supports);
* parallel branches → product of CDFs; ``k`` identical branches → ``F**k``.

Representation
--------------
A :class:`Lattice` is the grid ``0, dt, 2 dt, ..., n dt``. A :class:`Dist` holds the
probability mass at each grid point (``pmf``, length ``n + 1``) plus ``overflow``,
the mass beyond the horizon ``n dt``. Every operation keeps mass exactly: a sum of
lattice variables is a lattice variable, so convolution needs no re-binning and the
mean of a sum is the sum of the means (up to the overflow).

A continuous time ``T`` is put on the lattice by *mean-preserving linear rounding*:
the mass of ``T`` in ``[t_i, t_{i+1}]`` is split between the two end points so
that its conditional mean is kept. Equivalently the mass at point ``j`` is
``E[hat_j(T)]`` (a triangle of half-width ``dt`` centred on ``t_j``), computed
exactly from the stop-loss transforms ``E[(T - t)+]`` and ``E[(t - T)+]``. The
cumulative mass up to point ``j`` is then the average of the CDF over
``[t_j, t_{j+1}]``, so quantiles are read by linear interpolation through the
points ``(t_j + dt/2, cumulative mass up to j)``.

Supports are kept short so that operations stay fast: points at either end of a
support holding less than ``DUST / length`` each (at most ``DUST = 1e-14`` per end in
all) are folded into the nearest kept point. Convolutions are direct for short
supports and by real FFT otherwise, always at a size that avoids wrap-around.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from explorer.engine.queueing import QueueingError, ResponseTime, StationFigures, response_time

__all__ = [
    "Lattice",
    "Dist",
    "point_mass",
    "from_station",
    "from_cdf",
    "convolve",
    "convolve_all",
    "maximum",
    "max_of_k",
    "sum_of_k",
    "mixture",
    "horizon_for",
]

#: Mass at the far ends of a support below which it is folded into the nearest kept point.
DUST = 1e-14
#: Below this many multiply-adds a convolution is done directly instead of by FFT.
_DIRECT_MAX_WORK = 200_000
#: Probability left out when sizing a station's support (its far tail is dust).
_SUPPORT_TAIL = 1e-16


class DistributionError(QueueingError):
    """A lattice or distribution input is invalid (also a :class:`ValueError`)."""


# --------------------------------------------------------------------------- lattice


@dataclass(frozen=True)
class Lattice:
    """The time grid ``0, dt, 2 dt, ..., n dt`` (``n + 1`` points).

    Attributes
    ----------
    dt_ms : float
        Grid step in milliseconds (> 0).
    n : int
        Number of steps (>= 1); the horizon is ``n * dt_ms``.
    """

    dt_ms: float
    n: int

    def __post_init__(self) -> None:
        if not (isinstance(self.dt_ms, (int, float)) and math.isfinite(self.dt_ms)
                and self.dt_ms > 0):
            raise DistributionError(f"dt_ms must be a finite number above 0, got {self.dt_ms!r}.")
        if isinstance(self.n, bool) or not isinstance(self.n, (int, np.integer)) or self.n < 1:
            raise DistributionError(f"n must be a whole number of 1 or more, got {self.n!r}.")
        object.__setattr__(self, "dt_ms", float(self.dt_ms))
        object.__setattr__(self, "n", int(self.n))

    @classmethod
    def spanning(cls, horizon_ms: float, n: int = 4096) -> Lattice:
        """The lattice of ``n`` steps whose horizon is ``horizon_ms``.

        Examples
        --------
        >>> Lattice.spanning(1000.0, 4000).dt_ms
        0.25
        """
        if not (isinstance(horizon_ms, (int, float)) and math.isfinite(horizon_ms)
                and horizon_ms > 0):
            raise DistributionError(
                f"horizon_ms must be a finite number above 0, got {horizon_ms!r}."
            )
        return cls(float(horizon_ms) / n, n)

    @property
    def horizon_ms(self) -> float:
        """The last grid point ``n * dt_ms``."""
        return self.n * self.dt_ms

    @property
    def size(self) -> int:
        """Number of grid points, ``n + 1``."""
        return self.n + 1


# --------------------------------------------------------------------------- Dist


@dataclass(frozen=True, eq=False)
class Dist:
    """Distribution of a non-negative time on a :class:`Lattice`.

    Attributes
    ----------
    lattice : Lattice
        The grid.
    pmf : numpy.ndarray
        Probability mass at each grid point (length ``lattice.n + 1``, read-only).
    overflow : float
        Probability mass beyond the horizon ``lattice.horizon_ms``.
    """

    lattice: Lattice
    pmf: np.ndarray
    overflow: float = 0.0
    _lo: int = field(init=False, repr=False, default=0)
    _hi: int = field(init=False, repr=False, default=0)

    def __post_init__(self) -> None:
        if not isinstance(self.lattice, Lattice):
            raise DistributionError("lattice must be a Lattice.")
        pmf = np.array(self.pmf, dtype=float, copy=True)
        if pmf.shape != (self.lattice.size,):
            raise DistributionError(
                f"pmf must have {self.lattice.size} entries (one per lattice point), "
                f"got shape {pmf.shape}."
            )
        if not np.all(np.isfinite(pmf)) or np.any(pmf < 0.0):
            raise DistributionError("pmf must hold finite masses of 0 or more.")
        ovf = float(self.overflow)
        if not (math.isfinite(ovf) and 0.0 <= ovf <= 1.0):
            raise DistributionError(f"overflow must be a probability, got {self.overflow!r}.")
        total = float(pmf.sum()) + ovf
        if abs(total - 1.0) > 1e-6:
            raise DistributionError(f"pmf and overflow must add up to 1, they add up to {total:.9g}.")
        pmf.setflags(write=False)
        nz = np.flatnonzero(pmf)
        object.__setattr__(self, "pmf", pmf)
        object.__setattr__(self, "overflow", ovf)
        object.__setattr__(self, "_lo", int(nz[0]) if nz.size else 0)
        object.__setattr__(self, "_hi", int(nz[-1]) + 1 if nz.size else 0)

    @classmethod
    def _raw(cls, lattice: Lattice, pmf: np.ndarray, overflow: float, lo: int, hi: int) -> Dist:
        """Build without checks (internal: ``pmf`` is zero outside ``[lo, hi)``)."""
        d = object.__new__(cls)
        pmf.setflags(write=False)
        object.__setattr__(d, "lattice", lattice)
        object.__setattr__(d, "pmf", pmf)
        object.__setattr__(d, "overflow", float(min(max(overflow, 0.0), 1.0)))
        object.__setattr__(d, "_lo", lo)
        object.__setattr__(d, "_hi", hi)
        return d

    @property
    def support(self) -> tuple[int, int]:
        """``(lo, hi)``: ``pmf`` is zero outside the index range ``[lo, hi)``."""
        return self._lo, self._hi

    def mean_ms(self) -> float:
        """Mean in ms, counting the overflow mass at the horizon.

        Exact when ``overflow == 0``; a lower bound otherwise.
        """
        lo, hi = self._lo, self._hi
        idx = np.arange(lo, hi, dtype=float)
        inside = float(np.dot(idx, self.pmf[lo:hi])) * self.lattice.dt_ms
        return inside + self.overflow * self.lattice.horizon_ms

    def cdf(self) -> np.ndarray:
        """``P(X <= t_j)`` at every grid point (length ``n + 1``)."""
        return np.cumsum(self.pmf)

    def sf(self) -> np.ndarray:
        """``P(X > t_j)`` at every grid point, summed from the right (accurate in the tail)."""
        return _survival(self)

    def quantile_ms(self, q: float) -> float | None:
        """The q-quantile in ms, or ``None`` if it lies beyond the horizon (in the overflow).

        Linear interpolation of the cumulative mass through the points
        ``(t_j + dt/2, P(X <= t_j))``, which matches the mean-preserving rounding.
        """
        if not (isinstance(q, (int, float)) and 0.0 < q < 1.0):
            raise DistributionError(f"q must lie strictly between 0 and 1, got {q!r}.")
        lo, hi = self._lo, self._hi
        if hi == lo or q > 1.0 - self.overflow:
            return None
        cum = np.cumsum(self.pmf[lo:hi])
        if q > cum[-1]:
            return None
        i = int(np.searchsorted(cum, q, side="left"))
        below = cum[i - 1] if i > 0 else 0.0
        step = cum[i] - below
        frac = (q - below) / step if step > 0 else 1.0
        x = (lo + i - 0.5 + frac) * self.lattice.dt_ms
        return max(0.0, float(x))

    def __repr__(self) -> str:
        return (f"Dist(lattice={self.lattice!r}, support=[{self._lo}, {self._hi}), "
                f"overflow={self.overflow:.3g}, mean_ms={self.mean_ms():.6g})")


# --------------------------------------------------------------------------- helpers


def _survival(d: Dist) -> np.ndarray:
    """P(X > t_j) for every j, as overflow + masses to the right of j."""
    rev = np.cumsum(d.pmf[::-1])[::-1]  # sum_{i >= j}
    out = np.empty_like(rev)
    out[:-1] = rev[1:]
    out[-1] = 0.0
    return out + d.overflow


def _finish(lattice: Lattice, vals: np.ndarray, offset: int, overflow: float) -> Dist:
    """Place ``vals`` at ``offset``, fold end dust, renormalise to ``1 - overflow``.

    Points at either end below ``DUST / len(vals)`` are dust: together they hold at
    most ``DUST`` per end. Their mass moves to the nearest kept point.
    """
    size = lattice.size
    overflow = min(max(overflow, 0.0), 1.0)
    vals = np.maximum(vals, 0.0)
    total = float(vals.sum())
    pmf = np.zeros(size)
    if total <= 0.0 or overflow >= 1.0:
        return Dist._raw(lattice, pmf, 1.0 if total <= 0.0 else overflow, 0, 0)
    vals *= (1.0 - overflow) / total
    big = vals > (DUST / len(vals))
    if not big.any():  # everything is dust-sized: keep the largest point
        k = int(np.argmax(vals))
        pmf[offset + k] = 1.0 - overflow
        return Dist._raw(lattice, pmf, overflow, offset + k, offset + k + 1)
    i0 = int(big.argmax())
    i1 = len(vals) - int(big[::-1].argmax())  # exclusive end
    pmf[offset + i0: offset + i1] = vals[i0:i1]
    if i0 > 0:
        pmf[offset + i0] += float(vals[:i0].sum())
    if i1 < len(vals):
        pmf[offset + i1 - 1] += float(vals[i1:].sum())
    return Dist._raw(lattice, pmf, overflow, offset + i0, offset + i1)


def _same_lattice(dists: Sequence[Dist]) -> Lattice:
    if not dists:
        raise DistributionError("at least one distribution is needed.")
    lat = dists[0].lattice
    for d in dists:
        if not isinstance(d, Dist):
            raise DistributionError(f"expected a Dist, got {type(d).__name__}.")
        if d.lattice != lat:
            raise DistributionError(
                f"all distributions must share one lattice; got {lat} and {d.lattice}."
            )
    return lat


def _linconv(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Full linear convolution, direct for small work, real FFT otherwise."""
    nx, ny = len(x), len(y)
    if nx * ny <= _DIRECT_MAX_WORK or min(nx, ny) <= 8:
        return np.convolve(x, y)
    m = nx + ny - 1
    size = _next_fast_len(m)
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(y, size), size)[:m]


def _next_fast_len(n: int) -> int:
    """The smallest 5-smooth number (2^a 3^b 5^c) of at least ``n``: an FFT size without large prime factors.

    Examples
    --------
    >>> [_next_fast_len(n) for n in (1, 7, 97, 4097)]
    [1, 8, 100, 4320]
    """
    best = 1
    while best < n:
        best *= 2
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < n:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return best


# --------------------------------------------------------------------------- constructors


def point_mass(lattice: Lattice, t_ms: float) -> Dist:
    """A fixed time (e.g. a network delay), split between its two neighbouring points.

    The split keeps the mean exact. A time beyond the horizon is all overflow.
    """
    t = float(t_ms)
    if not (math.isfinite(t) and t >= 0.0):
        raise DistributionError(f"t_ms must be a finite time of 0 or more, got {t_ms!r}.")
    pos = t / lattice.dt_ms
    j = math.floor(pos)
    w = pos - j
    pmf = np.zeros(lattice.size)
    if j > lattice.n or (j == lattice.n and w > 0.0):
        return Dist._raw(lattice, pmf, 1.0, 0, 0)
    if w <= 0.0 or j == lattice.n:
        pmf[j] = 1.0
        return Dist._raw(lattice, pmf, 0.0, j, j + 1)
    pmf[j] = 1.0 - w
    pmf[j + 1] = w
    return Dist._raw(lattice, pmf, 0.0, j, j + 2)


def from_station(lattice: Lattice, fig: StationFigures) -> Dist:
    """The response time of a stable station on ``lattice``, with its mean kept exactly.

    Mass at point ``j`` is ``E[hat_j(T)]``, from the closed-form stop-loss transforms
    of :mod:`explorer.engine.queueing`; mass beyond the horizon goes to ``overflow``.

    Raises
    ------
    QueueingError
        If the station is saturated.
    """
    if fig.saturated:
        raise DistributionError(
            f"the station is saturated (utilization {fig.utilization:.4g}); "
            "it has no response-time distribution to put on a lattice."
        )
    return from_law(lattice, response_time(fig))


def from_law(lattice: Lattice, law: ResponseTime) -> Dist:
    """A response-time law (e.g. one class of calls at a shared station) on ``lattice``, mean kept."""
    dt, n = lattice.dt_ms, lattice.n
    t_hi = law.bounds_ms(1.0 - _SUPPORT_TAIL)[1]
    m = int(min(n, math.ceil(t_hi / dt) + 2))
    mean = law.mean_response_ms
    s = int(min(max(round(mean / dt), 0), m - 1))  # left part below s, right part from s
    t = np.arange(m + 1, dtype=float) * dt
    short, excess, sf = law.stop_loss_ms(t)
    p = np.empty(m + 1)
    # bin averages of the CDF on the left (A_i, i < s) ...
    if s > 0:
        avg_cdf = (short[1: s + 1] - short[:s]) / dt
        p[0] = avg_cdf[0]
        p[1:s] = avg_cdf[1:] - avg_cdf[:-1]
        a_last = avg_cdf[-1]
    else:
        a_last = 0.0
    # ... and of the survival function on the right (D_i, s <= i < m)
    avg_sf = (excess[s:-1] - excess[s + 1:]) / dt
    p[s] = (1.0 - avg_sf[0]) - a_last
    p[s + 1: m] = avg_sf[:-1] - avg_sf[1:]
    tail = float(sf[m]) if m == n else 0.0
    p[m] = avg_sf[-1] - tail
    return _finish(lattice, p, 0, tail)


def from_cdf(lattice: Lattice, cdf_fn: Callable[[np.ndarray], np.ndarray],
             mean_ms: float | None = None) -> Dist:
    """Any distribution given by its (vectorised) CDF in ms.

    The CDF's average over each bin is computed by Simpson's rule (points and
    midpoints); the mass at point ``j`` is the difference of consecutive bin averages
    (mean-preserving rounding). If ``mean_ms`` is given and nothing overflows, the
    small quadrature error in the mean is removed by a sub-bin shift.

    Parameters
    ----------
    lattice : Lattice
    cdf_fn : callable
        ``cdf_fn(t_ms_array) -> P(T <= t)`` for ``t >= 0``.
    mean_ms : float, optional
        The exact mean, if known.
    """
    dt, n = lattice.dt_ms, lattice.n
    t = np.arange(2 * n + 1, dtype=float) * (0.5 * dt)
    f = np.asarray(cdf_fn(t), dtype=float)
    if f.shape != t.shape or not np.all(np.isfinite(f)):
        raise DistributionError("cdf_fn must return one finite value per time given.")
    f = np.maximum.accumulate(np.clip(f, 0.0, 1.0))
    pts, mids = f[0::2], f[1::2]
    avg = (pts[:-1] + 4.0 * mids + pts[1:]) / 6.0
    p = np.diff(np.concatenate(([0.0], avg, [pts[-1]])))
    overflow = 1.0 - float(pts[-1])
    if mean_ms is not None and overflow <= 1e-12:
        p = np.maximum(p, 0.0)
        p = p / p.sum()
        got = float(np.dot(np.arange(n + 1), p)) * dt
        shift = (float(mean_ms) - got) / dt
        if 0.0 < abs(shift) <= 1.0:
            moved = abs(shift) * p
            if shift > 0.0:
                p = p - moved
                p[1:] += moved[:-1]
                overflow += float(moved[-1])
            else:
                p = p - moved
                p[:-1] += moved[1:]
                p[0] += moved[0]  # nothing moves below 0
    return _finish(lattice, p, 0, overflow)


def horizon_for(fig: StationFigures, q: float = 0.9999) -> float:
    """A safe upper time (ms) for a lattice holding this station: ``P(T > h) <= 1 - q``.

    For a path, the sum of the stations' horizons is a safe horizon for the sum.
    """
    return float(response_time(fig).bounds_ms(q)[1])


# --------------------------------------------------------------------------- algebra


def convolve(a: Dist, b: Dist) -> Dist:
    """Distribution of the sum of two independent times (sequential stages).

    Mass whose sum lands beyond the horizon goes to ``overflow``.
    """
    lat = _same_lattice([a, b])
    size = lat.size
    ovf = a.overflow + b.overflow - a.overflow * b.overflow
    la, ha, lb, hb = a._lo, a._hi, b._lo, b._hi
    lo = la + lb
    if ha == la or hb == lb or lo >= size:
        return Dist._raw(lat, np.zeros(size), 1.0, 0, 0)
    lin = _linconv(a.pmf[la:ha], b.pmf[lb:hb])
    keep = min(len(lin), size - lo)
    beyond = float(np.maximum(lin[keep:], 0.0).sum()) if keep < len(lin) else 0.0
    return _finish(lat, lin[:keep], lo, ovf + beyond)


def convolve_all(dists: Iterable[Dist]) -> Dist:
    """Distribution of the sum of independent times (a sequence of stages)."""
    items = list(dists)
    _same_lattice(items)
    acc = items[0]
    for d in items[1:]:
        acc = convolve(acc, d)
    return acc


def _max_from_log_cdf(lattice: Lattice, log_cdf: np.ndarray, lo: int, overflow: float) -> Dist:
    """The Dist whose log-CDF on the points ``lo, lo + 1, ...`` is ``log_cdf`` (0 below ``lo``)."""
    sf = np.clip(-np.expm1(log_cdf), 0.0, 1.0)  # P(max > t_j), accurate where it is small
    vals = np.concatenate(([1.0], sf[:-1])) - sf
    return _finish(lattice, vals, lo, overflow)


def maximum(dists: Iterable[Dist]) -> Dist:
    """Distribution of the maximum of independent times (parallel branches, fork-join).

    ``P(max <= t) = prod_i F_i(t)``. For branches that share their arrivals this
    independence assumption gives an upper bound on the quantiles.
    """
    items = list(dists)
    lat = _same_lattice(items)
    if len(items) == 1:
        return items[0]
    lo = max(d._lo for d in items)
    hi = max(d._hi for d in items)
    if any(d._hi == d._lo for d in items):
        return Dist._raw(lat, np.zeros(lat.size), 1.0, 0, 0)
    log_cdf = np.zeros(hi - lo)
    with np.errstate(divide="ignore"):
        for d in items:
            log_cdf += np.log1p(-np.minimum(_survival(d)[lo:hi], 1.0))
    overflow = -math.expm1(sum(math.log1p(-d.overflow) if d.overflow < 1.0 else -math.inf
                               for d in items))
    return _max_from_log_cdf(lat, log_cdf, lo, overflow)


def max_of_k(d: Dist, k: int) -> Dist:
    """Distribution of the maximum of ``k`` iid copies: ``F**k``, computed as ``exp(k log F)``.

    ``k`` may be large (thousands); the tail ``1 - F**k`` is formed with ``expm1``/``log1p``.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise DistributionError(f"k must be a whole number of 1 or more, got {k!r}.")
    if k == 1:
        return d
    lo, hi = d._lo, d._hi
    if hi == lo:
        return Dist._raw(d.lattice, np.zeros(d.lattice.size), 1.0, 0, 0)
    with np.errstate(divide="ignore"):
        log_cdf = k * np.log1p(-np.minimum(_survival(d)[lo:hi], 1.0))
    overflow = -math.expm1(k * math.log1p(-d.overflow)) if d.overflow < 1.0 else 1.0
    return _max_from_log_cdf(d.lattice, log_cdf, lo, overflow)


def sum_of_k(d: Dist, k: int) -> Dist:
    """Distribution of the sum of ``k`` iid copies (``k`` sequential calls), by repeated squaring."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise DistributionError(f"k must be a whole number of 0 or more, got {k!r}.")
    result: Dist | None = None
    power = d
    kk = int(k)
    if kk == 0:
        return point_mass(d.lattice, 0.0)
    while True:
        if kk & 1:
            result = power if result is None else convolve(result, power)
        kk >>= 1
        if not kk:
            break
        power = convolve(power, power)
    assert result is not None
    return result


def mixture(dists: Sequence[Dist], weights: Sequence[float]) -> Dist:
    """The mixture ``sum_i w_i D_i``: with probability ``w_i`` the time is drawn from ``D_i``.

    Weights must be non-negative and add up to 1 (within 1e-9); e.g. a call made
    with probability 0.3 is ``mixture([call, point_mass(lattice, 0)], [0.3, 0.7])``.
    """
    items = list(dists)
    lat = _same_lattice(items)
    w = np.asarray(weights, dtype=float)
    if w.shape != (len(items),) or not np.all(np.isfinite(w)) or np.any(w < 0.0):
        raise DistributionError("weights must be one finite non-negative number per distribution.")
    if abs(float(w.sum()) - 1.0) > 1e-9:
        raise DistributionError(f"weights must add up to 1, they add up to {float(w.sum()):.12g}.")
    w = w / w.sum()
    live = [(wi, d) for wi, d in zip(w, items, strict=True) if wi > 0.0 and d._hi > d._lo]
    overflow = float(sum(wi * d.overflow for wi, d in zip(w, items, strict=True)))
    if not live:
        return Dist._raw(lat, np.zeros(lat.size), 1.0, 0, 0)
    lo = min(d._lo for _, d in live)
    hi = max(d._hi for _, d in live)
    vals = np.zeros(hi - lo)
    for wi, d in live:
        vals[d._lo - lo: d._hi - lo] += wi * d.pmf[d._lo: d._hi]
    return _finish(lat, vals, lo, overflow)
