"""Queueing figures for one station: M/M/c exactly, G/G/c by Allen–Cunneen.

A *station* is ``c`` identical servers fed by one FCFS queue. Given the arrival
rate, the mean service time and the two coefficients of variation, this module
reports utilisation, Erlang C, the mean response time and response-time
quantiles, and sizes the number of servers for a utilisation and/or a p99 target.

Method (``shared/reference/queueing.md``):

* Erlang B by the stable recursion up to 200 servers, by the incomplete-gamma
  form above; Erlang C from Erlang B.
* Response time ``T = Wq + S``. ``Wq`` is 0 with probability ``1 - C`` and
  exponential with rate ``theta`` with probability ``C``; ``S`` is independent of
  ``Wq``. For M/M/c (both coefficients of variation 1) ``theta = c*mu - lambda``
  and ``S`` is exponential: this is exact. Otherwise (G/G/c, Allen–Cunneen)
  ``theta = 2 (c*mu - lambda) / (ca**2 + cs**2)`` and ``S`` is Gamma with shape
  ``1 / cs**2`` (a point mass when ``cs == 0``).
* Quantiles by a bracketing root finder (Brent's method, :func:`_brentq`) on the
  survival function ``P(T > t)``, which is evaluated in closed form.
* A station is stable only if ``lambda < c*mu``; otherwise it is *saturated* and
  carries no latency figures (``None``), never NaN.

Closed forms used for ``P(E + G > t)``, ``E ~ Exp(theta)``, ``G ~ Gamma(k, s)``::

    P(E + G > t) = Gsf(t) + K(t),   K(t) = E[exp(-theta (t - G)); G <= t]
    K(t) = exp(-theta t) (1 - theta s)**(-k) P(k, t (1 - theta s) / s)    (theta s < 1)
    K(t) = exp(-x) x**k / Gamma(k + 1) * 1F1(1; k + 1; -(theta s - 1) x)    (any theta s, x = t / s)

``P(k, .)`` is the regularised lower incomplete gamma function. Both forms
consist of positive terms only (no cancellation in the tail). The stop-loss
transforms used to discretise a station on a lattice follow from the same pieces::

    E[(E + G - t)+] = E[(G - t)+] + P(E + G > t) / theta
    E[(t - E - G)+] = E[(t - G)+] - P(E + G <= t) / theta
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, replace

import numpy as np

from explorer.engine import special
from explorer.engine.special import deviance, stirling_error
from explorer.errors import ExplorerError

__all__ = [
    "QueueingError",
    "StationFigures",
    "Sizing",
    "erlang_b",
    "erlang_c",
    "station",
    "ResponseTime",
    "response_time",
    "response_cdf",
    "response_sf",
    "response_quantile",
    "response_quantile_bounds",
    "response_excess_ms",
    "response_shortfall_ms",
    "service_quantile_ms",
    "size_servers",
]

#: Above this many servers Erlang B is computed in O(1) from the incomplete gamma function.
GAMMA_FORM_ABOVE = 200
#: Incomplete-gamma values below this are re-derived in log space (or by a series) to avoid underflow.
_TINY = 1e-280


class QueueingError(ExplorerError, ValueError):
    """An input to a queueing function is out of range (also a :class:`ValueError`)."""


# --------------------------------------------------------------------------- checks


def _servers(servers: object) -> int:
    if isinstance(servers, bool):
        raise QueueingError(f"servers must be a whole number of servers, got {servers!r}.")
    try:
        c = operator.index(servers)  # type: ignore[arg-type]
    except TypeError:
        if isinstance(servers, float) and servers.is_integer():
            c = int(servers)
        else:
            raise QueueingError(
                f"servers must be a whole number of servers, got {servers!r}."
            ) from None
    if c < 0:
        raise QueueingError(f"servers must be 0 or more, got {c}.")
    return c


def _nonneg(name: str, value: object) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise QueueingError(f"{name} must be a number, got {value!r}.") from None
    if not math.isfinite(x) or x < 0.0:
        raise QueueingError(f"{name} must be a finite number of 0 or more, got {value!r}.")
    return x


def _positive(name: str, value: object) -> float:
    x = _nonneg(name, value)
    if x <= 0.0:
        raise QueueingError(f"{name} must be greater than 0, got {value!r}.")
    return x


def _probability(q: object) -> float:
    try:
        x = float(q)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise QueueingError(f"q must be a number strictly between 0 and 1, got {q!r}.") from None
    if not 0.0 < x < 1.0:
        raise QueueingError(f"q must lie strictly between 0 and 1, got {q!r}.")
    return x


# --------------------------------------------------------------------------- Erlang


def _erlang_b_recursion(c: int, a: float) -> float:
    b = 1.0
    for k in range(1, c + 1):
        ab = a * b
        b = ab / (k + ab)
    return b


def _erlang_b_series(c: int, a: float) -> float:
    """1/B = sum_j c!/((c-j)! a**j): used when c is far below a (Poisson CDF underflows)."""
    total = 1.0
    prod = 1.0
    j = 0
    chunk = 4096
    while j < c:
        idx = np.arange(j, min(j + chunk, c), dtype=float)
        terms = prod * np.cumprod((c - idx) / a)
        total += float(terms.sum())
        prod = float(terms[-1])
        j += len(idx)
        if prod < 1e-18 * total:
            break
    return 1.0 / total


def _log_poisson_pmf(c: int, a: float) -> float:
    """ln(a**c e**-a / c!), in the saddle-point form above 15 (full relative accuracy)."""
    if c <= 15:
        return c * math.log(a) - a - math.lgamma(c + 1.0)
    return -stirling_error(float(c)) - deviance(float(c), a) - 0.5 * math.log(2.0 * math.pi * c)


def _erlang_b_gamma(c: int, a: float) -> float:
    """B = Poisson_pmf(c; a) / Poisson_cdf(c; a), the CDF as ``gammaincc(c + 1, a)``."""
    cdf = float(special.gammaincc(c + 1.0, a))
    if cdf > _TINY:
        log_b = _log_poisson_pmf(c, a) - math.log(cdf)
        return math.exp(min(log_b, 0.0))
    return _erlang_b_series(c, a)


def erlang_b(servers: int, offered_load: float) -> float:
    """Erlang B: probability that all ``servers`` are busy in M/M/c/c (loss system).

    Parameters
    ----------
    servers : int
        Number of servers ``c`` (0 or more).
    offered_load : float
        Offered load ``a = lambda / mu`` in Erlangs (0 or more).

    Returns
    -------
    float
        Blocking probability in [0, 1]. The stable recursion
        ``B(k) = a B(k-1) / (k + a B(k-1))`` is used up to 200 servers and the
        incomplete-gamma form above (O(1) for any ``c``); neither overflows.

    Examples
    --------
    >>> round(erlang_b(2, 1.0), 6)
    0.2
    """
    c = _servers(servers)
    a = _nonneg("offered_load", offered_load)
    if a == 0.0:
        return 1.0 if c == 0 else 0.0
    if c <= GAMMA_FORM_ABOVE:
        return _erlang_b_recursion(c, a)
    return _erlang_b_gamma(c, a)


def _erlang_c_unchecked(c: int, a: float) -> float:
    if a == 0.0:
        return 0.0
    b = _erlang_b_recursion(c, a) if c <= GAMMA_FORM_ABOVE else _erlang_b_gamma(c, a)
    # C = B / (1 - rho (1 - B)) = c B / ((c - a) + a B), with c - a formed directly.
    return min(1.0, c * b / ((c - a) + a * b))


def erlang_c(servers: int, offered_load: float) -> float:
    """Erlang C: probability that an arrival waits in M/M/c.

    Parameters
    ----------
    servers : int
        Number of servers ``c``.
    offered_load : float
        Offered load ``a`` in Erlangs; must be below ``servers``.

    Returns
    -------
    float
        ``C = B / (1 - rho (1 - B))``. Underflows to 0 for many servers at low
        load, which is correct (nobody waits).

    Raises
    ------
    QueueingError
        If ``offered_load >= servers`` (the queue is unstable).

    Examples
    --------
    >>> round(erlang_c(2, 1.0), 12)
    0.333333333333
    """
    c = _servers(servers)
    a = _nonneg("offered_load", offered_load)
    if not a < c:
        raise QueueingError(
            f"Erlang C needs an offered load below the number of servers (a stable queue); "
            f"got {a:g} Erlangs for {c} servers."
        )
    return _erlang_c_unchecked(c, a)


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class StationFigures:
    """Queueing figures of one station (``c`` servers, one FCFS queue).

    All times are in milliseconds, rates per second. Latency figures are
    ``None`` when the station is saturated; no field is ever NaN.

    Attributes
    ----------
    arrival_rate_per_s : float
        Arrival rate ``lambda``.
    service_ms : float
        Mean service time ``S = 1 / mu`` of one call.
    servers : int
        Number of parallel servers ``c`` in the station.
    service_cv : float
        Coefficient of variation of the service time (1 = exponential, 0 = constant).
    arrival_cv : float
        Coefficient of variation of the inter-arrival times (1 = Poisson).
    offered_load : float
        ``a = lambda * S`` in Erlangs.
    utilization : float
        ``rho = a / c``; may be 1 or more when saturated, ``inf`` when ``c == 0``
        with traffic, 0 when ``c == 0`` without traffic.
    saturated : bool
        ``lambda >= c * mu`` (including ``rho == 1`` and ``c == 0``): no steady state.
    p_wait : float or None
        Erlang C, the M/M/c probability that an arrival waits (Allen–Cunneen keeps it
        for G/G/c; with ``ca == cs == 0`` the mean wait is 0 all the same).
    mean_wait_ms : float or None
        Mean time in queue ``Wq``.
    mean_ms : float or None
        Mean response time ``Wq + S``.
    p50_ms, p99_ms : float or None
        Median and 99th percentile of the response time.
    service_rate_per_s : float
        ``mu`` of one server.
    spare_rate_per_s : float
        ``a' = c * mu - lambda`` (0 or negative when saturated).
    wait_tail_rate_per_s : float or None
        Decay rate ``theta`` of the wait tail ``P(Wq > t) = C exp(-theta t)``;
        ``None`` when saturated or when nobody can wait (``ca == cs == 0``).
    method : str
        ``"M/M/c exact"``, ``"G/G/c Allen-Cunneen"`` or ``"saturated"``.
    """

    arrival_rate_per_s: float
    service_ms: float
    servers: int
    service_cv: float
    arrival_cv: float
    offered_load: float
    utilization: float
    saturated: bool
    p_wait: float | None
    mean_wait_ms: float | None
    mean_ms: float | None
    p50_ms: float | None
    p99_ms: float | None
    service_rate_per_s: float = 0.0
    spare_rate_per_s: float = 0.0
    wait_tail_rate_per_s: float | None = None
    method: str = ""


@dataclass(frozen=True)
class ResponseTime:
    """The response-time law ``T = Wq + S`` of a stable station, times in ms.

    Built by :func:`response_time`; evaluating it repeatedly avoids re-deriving the
    parameters from a :class:`StationFigures`. ``Wq`` is 0 with probability
    ``1 - c_wait`` and exponential with rate ``theta_per_ms`` otherwise; ``S`` is
    exponential (``kind == "exp"``), constant (``"det"``) or Gamma (``"gamma"``,
    shape ``shape``, scale ``scale_ms``) with mean ``mean_ms``.
    """

    kind: str
    mean_ms: float  # mean service time
    c_wait: float  # probability of a (non-zero) wait; 0 when nobody waits
    theta_per_ms: float  # decay rate of the wait (inf when nobody waits)
    shape: float  # gamma shape k (1 for exp, inf for det)
    scale_ms: float  # gamma scale (S / k)
    lgk1: float  # lgamma(k + 1)

    def sf(self, t_ms: np.ndarray | float) -> np.ndarray:
        """``P(T > t)`` (vectorised; accurate in the far tail)."""
        t = _as_times(t_ms)
        tc = np.maximum(t, 0.0)
        sf, _, _, _ = _service_parts(self, tc)
        if self.c_wait > 0.0:
            sf = sf + self.c_wait * _term(self, tc)
        return np.where(t < 0.0, 1.0, np.minimum(sf, 1.0))

    def cdf(self, t_ms: np.ndarray | float) -> np.ndarray:
        """``P(T <= t)`` (vectorised)."""
        t = _as_times(t_ms)
        tc = np.maximum(t, 0.0)
        _, cdf, _, _ = _service_parts(self, tc)
        if self.c_wait > 0.0:
            cdf = cdf - self.c_wait * _term(self, tc)
        return np.where(t < 0.0, 0.0, np.clip(cdf, 0.0, 1.0))

    def excess_ms(self, t_ms: np.ndarray | float) -> np.ndarray:
        """Stop-loss transform ``E[(T - t)+]`` (vectorised); at ``t = 0`` the mean.

        ``E[(S - t)+] + (C / theta) P(E + S > t)``.
        """
        t = _as_times(t_ms)
        tc = np.maximum(t, 0.0)
        sf, _, excess, _ = _service_parts(self, tc)
        if self.c_wait > 0.0:
            excess = excess + (self.c_wait / self.theta_per_ms) * (sf + _term(self, tc))
        return excess + (tc - t)

    def shortfall_ms(self, t_ms: np.ndarray | float) -> np.ndarray:
        """``E[(t - T)+] = integral_0^t P(T <= u) du`` (vectorised).

        ``E[(t - S)+] - (C / theta) P(E + S <= t)``; accurate where the CDF is small.
        """
        t = _as_times(t_ms)
        tc = np.maximum(t, 0.0)
        _, cdf, _, shortfall = _service_parts(self, tc)
        if self.c_wait > 0.0:
            shortfall = shortfall - (self.c_wait / self.theta_per_ms) * (cdf - _term(self, tc))
        return np.maximum(shortfall, 0.0)

    def stop_loss_ms(self, t_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(E[(t - T)+], E[(T - t)+], P(T > t))`` in one pass, for times ``t >= 0``.

        Used to put the law on a lattice; no input checks (``t_ms`` must be a
        non-negative float array).
        """
        sf, cdf, excess, shortfall = _service_parts(self, t_ms)
        if self.c_wait > 0.0:
            term = _term(self, t_ms)
            w = self.c_wait / self.theta_per_ms
            excess = excess + w * (sf + term)
            shortfall = np.maximum(shortfall - w * (cdf - term), 0.0)
            sf = np.minimum(sf + self.c_wait * term, 1.0)
        return shortfall, excess, sf

    def quantile_ms(self, q: float) -> float:
        """The q-quantile (bracketing root finder on ``P(T > t) = 1 - q``)."""
        return _quantile(self, _probability(q))

    def bounds_ms(self, q: float) -> tuple[float, float]:
        """A cheap bracket of the q-quantile; see :func:`response_quantile_bounds`."""
        return _bounds(self, _probability(q))

    @property
    def mean_response_ms(self) -> float:
        """``E[T] = C / theta + S``."""
        return self.mean_ms + (self.c_wait / self.theta_per_ms if self.c_wait > 0.0 else 0.0)


def _model_from(
    service_ms: float, servers: int, lam_per_s: float, cs: float, ca: float, c_wait: float
) -> ResponseTime:
    spare_per_ms = (servers * (1000.0 / service_ms) - lam_per_s) / 1000.0
    v = 0.5 * (ca * ca + cs * cs)
    theta = spare_per_ms / v if v > 0.0 else math.inf
    if not math.isfinite(theta) or c_wait <= 0.0:
        theta, c_wait = math.inf, 0.0
    if cs == 0.0:
        return ResponseTime("det", service_ms, c_wait, theta, math.inf, 0.0, 0.0)
    if cs == 1.0:
        return ResponseTime("exp", service_ms, c_wait, theta, 1.0, service_ms, 0.0)
    if cs < 1e-6:  # shape above 1e12: a constant to double precision
        return ResponseTime("det", service_ms, c_wait, theta, math.inf, 0.0, 0.0)
    k = 1.0 / (cs * cs)
    return ResponseTime("gamma", service_ms, c_wait, theta, k, service_ms / k, math.lgamma(k + 1.0))


def response_time(fig: StationFigures) -> ResponseTime:
    """The response-time law of a stable station (see :class:`ResponseTime`).

    Raises
    ------
    QueueingError
        If the station is saturated.
    """
    if fig.saturated:
        raise QueueingError(
            f"the station is saturated (utilization {fig.utilization:.4g}); "
            "it has no response-time distribution."
        )
    return _model_from(
        fig.service_ms, fig.servers, fig.arrival_rate_per_s, fig.service_cv,
        fig.arrival_cv, fig.p_wait or 0.0,
    )


def class_response_time(fig: StationFigures, service_ms: float, service_cv: float) -> ResponseTime:
    """Response time of one class of calls at a shared station: the station's wait, the class's own service.

    With calls of different sizes in one FCFS queue, every call waits as the whole
    mix dictates (P(wait) and the wait's decay rate come from ``fig``), then takes
    its own service time (mean ``service_ms``, coefficient of variation ``service_cv``).

    Raises
    ------
    QueueingError
        If the station is saturated or the service time is not positive.
    """
    agg = response_time(fig)
    own = _model_from(_positive("service_ms", service_ms), 1, 0.0, _nonneg("service_cv", service_cv), 1.0, 0.0)
    return replace(own, c_wait=agg.c_wait, theta_per_ms=agg.theta_per_ms)


def station(
    arrival_rate_per_s: float,
    service_ms: float,
    servers: int,
    service_cv: float = 1.0,
    arrival_cv: float = 1.0,
) -> StationFigures:
    """Figures of one station: utilisation, Erlang C, mean, p50 and p99 response time.

    Parameters
    ----------
    arrival_rate_per_s : float
        Arrival rate (0 or more). ``0`` is valid: the response time is the service time.
    service_ms : float
        Mean service time of one call, greater than 0.
    servers : int
        Number of parallel servers (0 or more; 0 with traffic is saturated).
    service_cv, arrival_cv : float, default 1.0
        Coefficients of variation of the service and inter-arrival times. With both
        equal to 1 the result is the exact M/M/c one, otherwise Allen–Cunneen.

    Returns
    -------
    StationFigures

    Raises
    ------
    QueueingError
        On a negative or non-finite input, a non-positive service time or a
        non-integer number of servers.

    Examples
    --------
    >>> fig = station(50.0, 10.0, 1)             # M/M/1 at rho = 0.5
    >>> round(fig.p99_ms, 3)                      # ln(100) / (mu - lambda)
    92.103
    """
    lam = _nonneg("arrival_rate_per_s", arrival_rate_per_s)
    s_ms = _positive("service_ms", service_ms)
    c = _servers(servers)
    cs = _nonneg("service_cv", service_cv)
    ca = _nonneg("arrival_cv", arrival_cv)

    mu_per_s = 1000.0 / s_ms
    a = lam * s_ms / 1000.0
    spare_per_s = c * mu_per_s - lam  # a' = c mu - lambda, formed directly (trap 5)
    if c == 0:
        utilization = math.inf if lam > 0.0 else 0.0
    else:
        utilization = a / c
    method = "M/M/c exact" if cs == 1.0 and ca == 1.0 else "G/G/c Allen-Cunneen"
    if c == 0 or not a < c or spare_per_s <= 0.0:
        return StationFigures(
            lam, s_ms, c, cs, ca, a, utilization, True, None, None, None, None, None,
            service_rate_per_s=mu_per_s, spare_rate_per_s=spare_per_s,
            wait_tail_rate_per_s=None, method="saturated",
        )
    c_wait = _erlang_c_unchecked(c, a)
    m = _model_from(s_ms, c, lam, cs, ca, c_wait)
    mean_wait_ms = m.c_wait / m.theta_per_ms if m.c_wait > 0.0 else 0.0
    v = 0.5 * (ca * ca + cs * cs)
    theta_per_s: float | None = spare_per_s / v if v > 0.0 else None
    if theta_per_s is not None and not math.isfinite(theta_per_s):
        theta_per_s = None
    return StationFigures(
        lam, s_ms, c, cs, ca, a, utilization, False, c_wait, mean_wait_ms,
        mean_wait_ms + s_ms, _quantile(m, 0.5), _quantile(m, 0.99),
        service_rate_per_s=mu_per_s, spare_rate_per_s=spare_per_s,
        wait_tail_rate_per_s=theta_per_s, method=method,
    )


# --------------------------------------------------------------------------- pieces


def _service_quantile(m: ResponseTime, q: float, tail: float | None = None) -> float:
    """q-quantile of S; ``tail = 1 - q`` may be given for accuracy near 1."""
    if tail is None:
        tail = 1.0 - q
    if m.kind == "det":
        return m.mean_ms
    if m.kind == "exp":
        return -m.mean_ms * math.log(tail)
    if tail < 0.5:
        return m.scale_ms * float(special.gammainccinv(m.shape, tail))
    return m.scale_ms * float(special.gammaincinv(m.shape, q))


def _wait_quantile(m: ResponseTime, tail: float) -> float:
    """Smallest t with P(Wq > t) <= tail."""
    if m.c_wait <= tail:
        return 0.0
    return math.log(m.c_wait / tail) / m.theta_per_ms


def _term_scalar(m: ResponseTime, t: float) -> float:
    """K(t) = E[exp(-theta (t - S)); S <= t] for a scalar t >= 0."""
    if t <= 0.0 or m.c_wait == 0.0:
        return 0.0
    th = m.theta_per_ms
    if m.kind == "exp":
        mu = 1.0 / m.mean_ms
        lo, delta = min(th, mu), abs(th - mu)
        if delta > 0.0:
            return mu * math.exp(-lo * t) * (-math.expm1(-delta * t)) / delta
        return mu * t * math.exp(-mu * t)
    if m.kind == "det":
        return math.exp(-th * (t - m.mean_ms)) if t >= m.mean_ms else 0.0
    k, sc = m.shape, m.scale_ms
    x = t / sc
    b = th * sc
    if b < 1.0:
        y = x * (1.0 - b)
        gi = float(special.gammainc(k, y))
        if gi > _TINY:
            log_gi = math.log(gi)
        else:
            log_gi = (k * math.log(y) - y - m.lgk1
                      + math.log(float(special.hyp1f1_1(k + 1.0, y))))
        return math.exp(min(0.0, -th * t - k * math.log1p(-b) + log_gi))
    h = float(special.hyp1f1_1(k + 1.0, -x * (b - 1.0)))
    return math.exp(min(0.0, -x + k * math.log(x) - m.lgk1)) * h


def _sf_scalar(m: ResponseTime, t: float) -> float:
    """P(T > t) for a scalar t."""
    if t < 0.0:
        return 1.0
    if m.kind == "exp":
        ssf = math.exp(-t / m.mean_ms)
    elif m.kind == "det":
        ssf = 1.0 if t < m.mean_ms else 0.0
    else:
        ssf = float(special.gammaincc(m.shape, t / m.scale_ms))
    return ssf + m.c_wait * _term_scalar(m, t)


def _bounds(m: ResponseTime, q: float) -> tuple[float, float]:
    tail = 1.0 - q
    lo = max(_service_quantile(m, q, tail), _wait_quantile(m, tail))
    hi = _service_quantile(m, 1.0 - 0.5 * tail, 0.5 * tail) + _wait_quantile(m, 0.5 * tail)
    return lo, max(lo, hi)


def _quantile(m: ResponseTime, q: float) -> float:
    tail = 1.0 - q
    if m.c_wait == 0.0:
        return _service_quantile(m, q, tail)
    if m.kind == "det":  # T has an atom of mass 1 - C at S; above it the tail is C e^{-theta (t - S)}
        return m.mean_ms + _wait_quantile(m, tail)
    lo, hi = _bounds(m, q)
    if m.kind == "exp":
        mu = 1.0 / m.mean_ms
        th, cw = m.theta_per_ms, m.c_wait
        small, delta = min(th, mu), abs(th - mu)
        exp, expm1 = math.exp, math.expm1

        def f(t: float) -> float:
            es = exp(-mu * t)
            if delta > 0.0:
                term = mu * exp(-small * t) * (-expm1(-delta * t)) / delta
            else:
                term = mu * t * es
            return es + cw * term - tail
    else:

        def f(t: float) -> float:
            return _sf_scalar(m, t) - tail

    f_lo = f(lo)
    if f_lo <= 0.0:
        return lo
    if hi <= lo or f(hi) >= 0.0:
        return hi
    return _brentq(f, lo, hi, xtol=1e-12 * hi, rtol=1e-12, maxiter=200)


def _brentq(f, xa: float, xb: float, *, xtol: float, rtol: float, maxiter: int) -> float:
    """A root of ``f`` in ``[xa, xb]`` (signs must differ at the ends), by Brent's method.

    The same steps as :func:`scipy.optimize.brentq` (inverse quadratic interpolation, secant,
    bisection when they stall), written here so that the engine does not import ``scipy.optimize``
    (over a second of start-up). After ``maxiter`` steps the current best point is returned: the
    bracket holds the root, so the search always ends.

    Examples
    --------
    >>> round(_brentq(lambda x: x * x - 2.0, 0.0, 2.0, xtol=1e-12, rtol=1e-12, maxiter=100), 12)
    1.414213562373
    """
    xpre, xcur = xa, xb
    xblk = fblk = spre = scur = 0.0
    fpre, fcur = f(xpre), f(xcur)
    if fpre == 0.0:
        return xpre
    if fcur == 0.0:
        return xcur
    if (fpre < 0.0) == (fcur < 0.0):
        raise QueueingError(f"the root finder needs a bracket: f({xa:g}) and f({xb:g}) have the same sign.")
    for _ in range(maxiter):
        if fpre != 0.0 and fcur != 0.0 and (fpre < 0.0) != (fcur < 0.0):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2.0
        sbis = (xblk - xcur) / 2.0
        if fcur == 0.0 or abs(sbis) < delta:
            return xcur
        spre, scur = _brent_step(xpre, xcur, xblk, fpre, fcur, fblk, spre, scur, sbis, delta)
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = f(xcur)
    return xcur


def _brent_step(xpre, xcur, xblk, fpre, fcur, fblk, spre, scur, sbis, delta) -> tuple[float, float]:
    """The next (previous step, step) of Brent's method: interpolate when it is short and safe, else bisect."""
    if abs(spre) > delta and abs(fcur) < abs(fpre):
        if xpre == xblk:  # interpolate
            stry = -fcur * (xcur - xpre) / (fcur - fpre)
        else:  # extrapolate
            dpre = (fpre - fcur) / (xpre - xcur)
            dblk = (fblk - fcur) / (xblk - xcur)
            stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
        if 2.0 * abs(stry) < min(abs(spre), 3.0 * abs(sbis) - delta):
            return scur, stry
    return sbis, sbis


# --------------------------------------------------------------------------- vectorised


def _service_parts(m: ResponseTime, t: np.ndarray) -> tuple[np.ndarray, ...]:
    """(sf, cdf, E[(S - t)+], E[(t - S)+]) of the service time at t >= 0."""
    if m.kind == "exp":
        mu = 1.0 / m.mean_ms
        sf = np.exp(-mu * t)
        cdf = -np.expm1(-mu * t)
        excess = sf * m.mean_ms
        shortfall = np.maximum(t - cdf * m.mean_ms, 0.0)
        return sf, cdf, excess, shortfall
    if m.kind == "det":
        d = m.mean_ms
        sf = (t < d).astype(float)
        return sf, 1.0 - sf, np.maximum(d - t, 0.0), np.maximum(t - d, 0.0)
    k, sc = m.shape, m.scale_ms
    x = t / sc
    cdf, sf = special.gammainc_pq(k, x)
    cdf1, sf1 = special.gammainc_pq(k + 1.0, x)
    excess = np.maximum(sc * (k * sf1 - x * sf), 0.0)
    shortfall = np.maximum(sc * (x * cdf - k * cdf1), 0.0)
    return sf, cdf, excess, shortfall


def _term(m: ResponseTime, t: np.ndarray) -> np.ndarray:
    """K(t) = E[exp(-theta (t - S)); S <= t], vectorised over t >= 0."""
    if m.c_wait == 0.0:
        return np.zeros_like(t)
    th = m.theta_per_ms
    if m.kind == "exp":  # mu e^{-min t} (1 - e^{-|theta - mu| t}) / |theta - mu|
        mu = 1.0 / m.mean_ms
        lo, delta = min(th, mu), abs(th - mu)
        if delta > 0.0:
            return mu * np.exp(-lo * t) * (-np.expm1(-delta * t)) / delta
        return mu * t * np.exp(-mu * t)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        if m.kind == "det":
            return np.where(t >= m.mean_ms, np.exp(-th * np.maximum(t - m.mean_ms, 0.0)), 0.0)
        k, sc = m.shape, m.scale_ms
        x = np.atleast_1d(t / sc)
        b = th * sc
        pos = x > 0.0
        xs = np.where(pos, x, 1.0)
        if b < 1.0:
            y = xs * (1.0 - b)
            gi = special.gammainc(k, y)
            log_gi = np.log(np.where(gi > _TINY, gi, 1.0))
            small = gi <= _TINY
            if np.any(small):
                ys = y[small]
                log_gi[small] = (k * np.log(ys) - ys - m.lgk1
                                 + np.log(special.hyp1f1_1(k + 1.0, ys)))
            val = np.exp(np.minimum(0.0, -th * xs * sc - k * math.log1p(-b) + log_gi))
        else:
            h = special.hyp1f1_1(k + 1.0, -xs * (b - 1.0))
            val = np.exp(np.minimum(0.0, -xs + k * np.log(xs) - m.lgk1)) * h
        return np.where(pos, val, 0.0).reshape(np.shape(t))


def _as_times(t_ms: np.ndarray | float) -> np.ndarray:
    t = np.asarray(t_ms, dtype=float)
    if np.isnan(t).any():
        raise QueueingError("t_ms must not contain NaN.")
    return t


def response_sf(fig: StationFigures, t_ms: np.ndarray | float) -> np.ndarray:
    """Survival function ``P(T > t)`` of the response time, vectorised.

    Accurate in the far tail (a sum of positive terms, no ``1 - CDF``).

    Raises
    ------
    QueueingError
        If the station is saturated.
    """
    return response_time(fig).sf(t_ms)


def response_cdf(fig: StationFigures, t_ms: np.ndarray | float) -> np.ndarray:
    """Cumulative distribution ``P(T <= t)`` of the response time, vectorised.

    Parameters
    ----------
    fig : StationFigures
        A stable station from :func:`station`.
    t_ms : array_like
        Times in milliseconds (negative times give 0).

    Returns
    -------
    numpy.ndarray
        Same shape as ``t_ms``.

    Raises
    ------
    QueueingError
        If the station is saturated.

    Examples
    --------
    >>> fig = station(50.0, 10.0, 1)            # M/M/1: T ~ Exp(rate 50/s)
    >>> float(response_cdf(fig, 20.0))          # 1 - exp(-1)
    0.6321205588285577
    """
    return response_time(fig).cdf(t_ms)


def response_excess_ms(fig: StationFigures, t_ms: np.ndarray | float) -> np.ndarray:
    """Stop-loss transform ``E[(T - t)+]`` in milliseconds (vectorised); see :class:`ResponseTime`."""
    return response_time(fig).excess_ms(t_ms)


def response_shortfall_ms(fig: StationFigures, t_ms: np.ndarray | float) -> np.ndarray:
    """``E[(t - T)+]`` in milliseconds (vectorised); see :class:`ResponseTime`."""
    return response_time(fig).shortfall_ms(t_ms)


def response_quantile(fig: StationFigures, q: float) -> float | None:
    """The q-quantile of the response time in ms, or ``None`` if the station is saturated.

    Solved by Brent's method (:func:`_brentq`) on ``P(T > t) = 1 - q`` inside the bracket
    of :func:`response_quantile_bounds` (closed form when the service time is constant).

    Examples
    --------
    >>> fig = station(0.0, 10.0, 1)               # no traffic: T = S ~ Exp(mean 10 ms)
    >>> round(response_quantile(fig, 0.99), 4)    # 10 ms * ln(100)
    46.0517
    """
    qq = _probability(q)
    if fig.saturated:
        return None
    return _quantile(response_time(fig), qq)


def response_quantile_bounds(fig: StationFigures, q: float) -> tuple[float, float]:
    """Cheap bracket ``(lo, hi)`` of the q-quantile of the response time in ms.

    ``lo = max(q-quantile of S, q-quantile of Wq)`` because ``T >= S`` and ``T >= Wq``;
    ``hi`` = the ``(1 + q)/2`` quantiles of ``S`` and ``Wq`` added (union bound), so
    ``P(T > hi) <= 1 - q``. ``hi`` is a safe horizon for a lattice.

    Raises
    ------
    QueueingError
        If the station is saturated.
    """
    qq = _probability(q)
    return _bounds(response_time(fig), qq)


def service_quantile_ms(service_ms: float, service_cv: float, q: float) -> float:
    """The q-quantile of the service time alone (Gamma with mean ``service_ms``, CV ``service_cv``)."""
    s_ms = _positive("service_ms", service_ms)
    cs = _nonneg("service_cv", service_cv)
    qq = _probability(q)
    return _service_quantile(_model_from(s_ms, 1, 0.0, cs, 1.0, 0.0), qq)


# --------------------------------------------------------------------------- sizing


@dataclass(frozen=True)
class Sizing:
    """Result of :func:`size_servers`.

    Attributes
    ----------
    min_servers : int or None
        Fewest servers meeting every target; ``None`` when infeasible.
    infeasible : bool
        ``True`` when no number of servers (up to ``max_servers``) meets the targets.
    reason : str
        A plain sentence: which constraint binds, or why none can be met.
    binding : str
        ``"stability"``, ``"utilization"``, ``"p99"``, ``"no traffic"``, ``"infeasible"`` or ``"cap"``
        (the search stopped at ``max_servers``).
    lower_bound_servers : int or None
        When the search stops at ``max_servers``: the fewest servers the load needs at least (stable and
        at most at the utilisation target), ``max(⌊a⌋ + 1, ⌈a / U⌉)``; a p99 target may need more.
    """

    min_servers: int | None
    infeasible: bool
    reason: str
    binding: str = ""
    lower_bound_servers: int | None = None


def size_servers(
    arrival_rate_per_s: float,
    service_ms: float,
    *,
    target_utilization: float | None = None,
    p99_target_ms: float | None = None,
    service_cv: float = 1.0,
    arrival_cv: float = 1.0,
    max_servers: int = 1_000_000,
) -> Sizing:
    """Fewest servers ``c >= 1`` with ``utilization <= target`` and ``p99 <= target``.

    The station must also be stable. The p99 test is ``P(T > target) <= 0.01``
    evaluated in closed form (no root finding), which is monotone in ``c``; the
    search starts at ``max(floor(a) + 1, ceil(a / U))`` and proceeds by exponential
    then binary search, so it costs O(log c) closed-form evaluations.

    Parameters
    ----------
    arrival_rate_per_s, service_ms, service_cv, arrival_cv
        As in :func:`station`.
    target_utilization : float, optional
        Highest acceptable utilisation, in (0, 1].
    p99_target_ms : float, optional
        Highest acceptable p99 response time in ms (> 0).
    max_servers : int, default 1_000_000
        Give up (infeasible) above this many servers.

    Returns
    -------
    Sizing

    Examples
    --------
    >>> size_servers(900.0, 10.0, p99_target_ms=60.0).min_servers
    11
    >>> size_servers(900.0, 10.0, p99_target_ms=40.0).infeasible   # below ln(100) * 10 ms
    True
    """
    lam = _nonneg("arrival_rate_per_s", arrival_rate_per_s)
    s_ms = _positive("service_ms", service_ms)
    cs = _nonneg("service_cv", service_cv)
    ca = _nonneg("arrival_cv", arrival_cv)
    cap = _servers(max_servers)
    if cap < 1:
        raise QueueingError(f"max_servers must be 1 or more, got {max_servers!r}.")
    u_target = None
    if target_utilization is not None:
        u_target = _positive("target_utilization", target_utilization)
        if u_target > 1.0:
            raise QueueingError(
                f"target_utilization must lie in (0, 1], got {target_utilization!r}."
            )
    t_target = None if p99_target_ms is None else _positive("p99_target_ms", p99_target_ms)

    a = lam * s_ms / 1000.0
    if t_target is not None:
        bare = _service_quantile(_model_from(s_ms, 1, 0.0, cs, ca, 0.0), 0.99, 0.01)
        if t_target <= bare * (1.0 + 1e-12):  # a tie to rounding error is still infeasible
            return Sizing(
                None, True,
                f"The p99 target {t_target:g} ms is at or below the service time's own p99 "
                f"{bare:.4g} ms; no number of servers can meet it.",
                "infeasible",
            )
    if lam == 0.0:
        return Sizing(1, False, "There is no traffic, so one server is enough.", "no traffic")

    if not a < cap:  # every search below is bounded by cap; a load this large cannot fit under it
        need = _lower_bound(a, u_target)
        return Sizing(
            min_servers=None, infeasible=True,
            reason=(f"The load of {a:.4g} Erlangs needs at least {need:.4g} servers (a ÷ {u_target or 1:g}), more "
                    f"than max_servers = {cap} servers, where the search stops." if need is not None else
                    f"The load of {a:.4g} Erlangs needs more than max_servers = {cap} servers."),
            binding="cap", lower_bound_servers=need,
        )
    c0, binding = _fewest_for_utilization(lam, s_ms, a, u_target)
    if c0 > cap:
        return Sizing(
            min_servers=None, infeasible=True,
            reason=f"Meeting the {binding} constraint needs {c0} servers, more than max_servers = {cap} servers, "
                   "where the search stops.",
            binding="cap", lower_bound_servers=c0,
        )
    if t_target is not None and not _meets_p99(s_ms, c0, lam, a, cs, ca, t_target):
        return _size_for_p99(s_ms, c0, lam, a, cs, ca, t_target, cap)
    if binding == "utilization":
        reason = (f"{c0} servers: the utilization target {u_target:g} binds (a = {a:.6g} "
                  f"Erlangs, utilization {a / c0:.6g})")
        reason += "; the p99 target is met there." if t_target else "."
    else:
        reason = (f"{c0} servers: the fewest that keep the station stable "
                  f"(a = {a:.6g} Erlangs, utilization {a / c0:.6g})")
        reason += "; the other targets are met there." if (u_target or t_target) else "."
    return Sizing(c0, False, reason, binding)


def _lower_bound(a: float, u_target: float | None) -> int | None:
    """Fewest servers that keep ``a`` Erlangs stable and at most at the utilisation target (no search:
    used when ``a`` is past the search's cap); None when the load is not a finite number."""
    if not math.isfinite(a) or (u_target is not None and not math.isfinite(a / u_target)):
        return None
    c = math.floor(a) + 1
    if u_target is not None:
        c = max(c, math.ceil(a / u_target - 1e-9))
    return c


def _stable(c: int, lam: float, s_ms: float, a: float) -> bool:
    return a < c and c * (1000.0 / s_ms) - lam > 0.0


def _fewest_for_utilization(lam: float, s_ms: float, a: float, u_target: float | None) -> tuple[int, str]:
    """Fewest servers keeping the station stable and at most at the utilisation target, and which binds
    (``a`` below the server cap, so every loop here takes a few steps at most)."""
    c_stable = max(1, math.floor(a) + 1)
    while not _stable(c_stable, lam, s_ms, a):
        c_stable += 1
    c0, binding = c_stable, "stability"
    if u_target is not None:
        c_u = max(1, math.ceil(a / u_target))
        while c_u > 1 and a / (c_u - 1) <= u_target:
            c_u -= 1
        while a / c_u > u_target:
            c_u += 1
        if c_u > c0:
            c0, binding = c_u, "utilization"
    return c0, binding


def _meets_p99(s_ms: float, c: int, lam: float, a: float, cs: float, ca: float, t_target: float) -> bool:
    """``P(T > target) <= 0.01`` in closed form (monotone in ``c``)."""
    m = _model_from(s_ms, c, lam, cs, ca, _erlang_c_unchecked(c, a))
    return _sf_scalar(m, t_target) <= 0.01


def _size_for_p99(s_ms: float, c0: int, lam: float, a: float, cs: float, ca: float, t_target: float,
                  cap: int) -> Sizing:
    """Fewest servers from ``c0`` (which misses the p99 target) up to ``cap`` that meet it:
    exponential then binary search."""
    bad, step = c0, 1
    good = min(c0 + step, cap)
    while not _meets_p99(s_ms, good, lam, a, cs, ca, t_target):
        if good >= cap:
            return Sizing(
                None, True,
                f"Even max_servers = {cap} servers do not bring the p99 down to "
                f"{t_target:g} ms.",
                "cap", cap,
            )
        bad = good
        step *= 2
        good = min(c0 + step, cap)
    while good - bad > 1:
        mid = (bad + good) // 2
        if _meets_p99(s_ms, mid, lam, a, cs, ca, t_target):
            good = mid
        else:
            bad = mid
    p99_c = _quantile(_model_from(s_ms, good, lam, cs, ca, _erlang_c_unchecked(good, a)), 0.99)
    before = (f"{good - 1} would give "
              f"{_quantile(_model_from(s_ms, good - 1, lam, cs, ca, _erlang_c_unchecked(good - 1, a)), 0.99):.5g} ms"
              if _stable(good - 1, lam, s_ms, a) else f"{good - 1} would be saturated")
    return Sizing(
        good, False,
        f"{good} servers: the p99 target of {t_target:g} ms binds (p99 {p99_c:.5g} ms "
        f"at utilization {a / good:.6g}; {before}).",
        "p99",
    )


def mean_and_quantile(arrival_rate_per_s: float, service_ms: float, servers: int, q: float,
                      service_cv: float = 1.0) -> tuple[float, float] | None:
    """Mean response and its q-quantile of a station, without the other figures of :func:`station`
    (a day of traffic asks for thousands); None when the station is saturated.

    Examples
    --------
    >>> m, p99 = mean_and_quantile(50.0, 10.0, 1, 0.99)   # M/M/1 at rho = 0.5
    >>> round(m, 3), round(p99, 3)
    (20.0, 92.103)
    """
    lam = _nonneg("arrival_rate_per_s", arrival_rate_per_s)
    s_ms = _positive("service_ms", service_ms)
    c = _servers(servers)
    cs = _nonneg("service_cv", service_cv)
    a = lam * s_ms / 1000.0
    if c == 0 or not a < c or c * (1000.0 / s_ms) - lam <= 0.0:
        return None
    m = _model_from(s_ms, c, lam, cs, 1.0, _erlang_c_unchecked(c, a))
    wait = m.c_wait / m.theta_per_ms if m.c_wait > 0.0 else 0.0
    return wait + s_ms, _quantile(m, _probability(q))
