"""Users → traffic: daily active users and requests per user to average and peak QPS.

Examples
--------
The news-feed check of the book (ch. 10): 2B daily users loading the feed twice
a day is about 46k requests per second on average.

>>> t = traffic_from_users(dau=2e9, requests_per_user_per_day=2, peak_to_average=3)
>>> round(t.average_qps), round(t.peak_qps)
(46296, 138889)
>>> t.figures["average_qps"].formula
'average = DAU × requests/user/day ÷ 86,400 s/day'
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.engine.ml._common import SECONDS_PER_DAY, at_least, figure, inp, non_negative
from explorer.engine.report import Figure

__all__ = ["PEAK_TO_AVERAGE", "Traffic", "traffic_from_users"]

PEAK_TO_AVERAGE = 3.0
"""Peak-hour QPS over the daily average. Assumption [A] of shared/reference/ml-systems-facts.md §4
("Peak-to-average traffic ratio 3×"): diurnal consumer traffic, no measured curve at hand."""


@dataclass(frozen=True, slots=True)
class Traffic:
    """Request rates derived from a user count."""

    dau: float
    """Daily active users."""
    requests_per_day: float
    """DAU × requests per user per day."""
    average_qps: float
    """Requests per second averaged over the day."""
    peak_qps: float
    """Average × peak-to-average ratio: what capacity is sized for."""
    figures: dict[str, Figure]


def traffic_from_users(dau: float, requests_per_user_per_day: float,
                       peak_to_average: float = PEAK_TO_AVERAGE) -> Traffic:
    """Average and peak request rate from daily active users.

    Parameters
    ----------
    dau : float
        Daily active users (≥ 0).
    requests_per_user_per_day : float
        Requests each active user makes per day (≥ 0).
    peak_to_average : float, default :data:`PEAK_TO_AVERAGE`
        Peak QPS ÷ average QPS (≥ 1).

    Returns
    -------
    Traffic
        ``average_qps = dau × requests_per_user_per_day ÷ 86,400`` and
        ``peak_qps = average_qps × peak_to_average``, each with its figure.

    Examples
    --------
    >>> traffic_from_users(300e6, 1).average_qps > 3000
    True
    >>> traffic_from_users(1e6, 5, peak_to_average=0.5)
    Traceback (most recent call last):
    ...
    explorer.errors.ScenarioError: peak_to_average must be a number at or above 1, got 0.5.
    """
    dau = non_negative("dau", dau)
    per_user = non_negative("requests_per_user_per_day", requests_per_user_per_day)
    ratio = at_least("peak_to_average", peak_to_average, 1.0)
    per_day = dau * per_user
    average = per_day / SECONDS_PER_DAY
    peak = average * ratio
    figures = {
        "requests_per_day": figure(
            key="requests_per_day", label="Requests per day", value=per_day, unit="requests/day",
            formula="requests/day = DAU × requests/user/day",
            inputs=(inp("DAU", dau, "users"), inp("requests/user/day", per_user, "requests"))),
        "average_qps": figure(
            key="average_qps", label="Average QPS", value=average, unit="requests/s",
            formula="average = DAU × requests/user/day ÷ 86,400 s/day",
            inputs=(inp("DAU", dau, "users"), inp("requests/user/day", per_user, "requests"),
                    inp("seconds/day", SECONDS_PER_DAY, "s"))),
        "peak_qps": figure(
            key="peak_qps", label="Peak QPS", value=peak, unit="requests/s",
            formula="peak = average × peak-to-average",
            inputs=(inp("average", average, "requests/s"), inp("peak-to-average", ratio, "×")),
            note="Default peak-to-average 3× is an assumption ([A], ml-systems-facts.md §4)."),
    }
    return Traffic(dau=dau, requests_per_day=per_day, average_qps=average, peak_qps=peak, figures=figures)
