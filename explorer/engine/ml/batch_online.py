"""Batch (precomputed) vs online prediction: the job, its storage, staleness, coverage and cost.

A batch path scores every user of a set on a schedule and stores the results
in a key-value store; a request reads its user's row. Requests from users
outside the set (new users, users not worth precomputing) *miss* and go to the
online path. The batch path is cheap per prediction but stale, and its cost
falls as the refresh interval grows while staleness rises: :func:`cost_vs_staleness`
gives that curve for a chart.

Staleness of a prediction read at a random moment: the job that wrote it
started at ``s`` on features already ``feature delay`` old, finished
``job`` hours later, and its output is read until the next job finishes one
interval later::

    staleness mean = interval ÷ 2 + job + feature delay
    staleness max  = interval + job + feature delay
    interval       = max(refresh, job)        (a job longer than the refresh runs back to back)

Examples
--------
PYMK-style: 300M users × 100 suggestions at 2 ms each on 200 workers × 8 threads,
refreshed daily.

>>> p = precompute(users=300e6, predictions_per_user=100, per_prediction_ms=2, workers=200,
...                concurrency_per_worker=8, bytes_per_prediction=16, refresh_hours=24)
>>> round(p.job_hours, 2), p.kv_storage_gb, round(p.staleness_mean_hours, 2), round(p.staleness_max_hours, 2)
(10.42, 480.0, 22.42, 34.42)
>>> round(p.cost_usd_month)
13127
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from explorer.engine.ml._common import HOURS_PER_MONTH, figure, fraction, inp, non_negative, positive
from explorer.engine.report import Figure
from explorer.errors import ScenarioError

__all__ = [
    "WORKER_PRICE_PER_HOUR",
    "KV_PRICE_PER_GB_MONTH",
    "DEFAULT_REFRESH_HOURS",
    "Precompute",
    "precompute",
    "StalenessPoint",
    "cost_vs_staleness",
]

WORKER_PRICE_PER_HOUR = 0.192
"""Batch worker: m5.xlarge (4 vCPU, 16 GiB) on demand, $0.192/h (ml-systems-facts.md §4, AWS docs)."""

KV_PRICE_PER_GB_MONTH = 2.0
"""In-memory key-value storage: napkin-math's $2 per GB-month of RAM (ml-systems-facts.md §4)."""

DEFAULT_REFRESH_HOURS = (1.0, 2.0, 4.0, 6.0, 12.0, 24.0, 48.0, 168.0)
"""Refresh intervals of the cost-vs-staleness curve: hourly to weekly."""


@dataclass(frozen=True, slots=True)
class Precompute:
    """The batch prediction path at one refresh interval."""

    predictions_per_run: float
    throughput_per_s: float
    """Predictions per second of the whole worker pool."""
    job_hours: float
    fits_interval: bool
    """True when a job finishes within the refresh interval; otherwise jobs run back to back."""
    interval_hours: float
    """Effective time between refreshes: max(refresh, job)."""
    kv_storage_gb: float
    staleness_mean_hours: float
    staleness_max_hours: float
    coverage: float
    """Share of requests served from the precomputed store."""
    online_share: float
    """Share of requests that miss and go to the online path (1 − coverage)."""
    wasted_share: float
    """Share of precomputed predictions never read in an interval (users who do not come back)."""
    runs_per_month: float
    compute_cost_usd_month: float
    storage_cost_usd_month: float
    cost_usd_month: float
    figures: dict[str, Figure]


def precompute(users: float, predictions_per_user: float, per_prediction_ms: float, workers: float,
               concurrency_per_worker: float, bytes_per_prediction: float, refresh_hours: float,
               feature_delay_hours: float = 0.0, active_share: float = 1.0, traffic_share_in_set: float = 1.0,
               worker_price_per_hour: float = WORKER_PRICE_PER_HOUR,
               kv_price_per_gb_month: float = KV_PRICE_PER_GB_MONTH) -> Precompute:
    """Job duration, storage, staleness, coverage and monthly cost of precomputed predictions.

    Parameters
    ----------
    users : float
        Users in the precomputed set (> 0).
    predictions_per_user : float
        Predictions stored per user (> 0), e.g. top-100 suggestions.
    per_prediction_ms : float
        Worker time per prediction, ms (> 0).
    workers, concurrency_per_worker : float
        Batch workers and predictions each computes at once (> 0).
    bytes_per_prediction : float
        Stored bytes per prediction (≥ 0).
    refresh_hours : float
        Time between job starts, h (> 0).
    feature_delay_hours : float, default 0
        Age of the job's input features when it starts, h (≥ 0).
    active_share : float, default 1
        Share of the set's users who make a request within an interval, in (0, 1]; the
        rest of the predictions are computed and never read.
    traffic_share_in_set : float, default 1
        Share of all requests that come from users in the set, in [0, 1]: the coverage.
    worker_price_per_hour : float, default :data:`WORKER_PRICE_PER_HOUR`
        Price of one worker-hour; workers are billed only while the job runs.
    kv_price_per_gb_month : float, default :data:`KV_PRICE_PER_GB_MONTH`

    Returns
    -------
    Precompute

    Examples
    --------
    >>> p = precompute(1e6, 10, 1, 1, 1, 8, refresh_hours=1)
    >>> round(p.job_hours, 3), p.fits_interval, round(p.interval_hours, 3)
    (2.778, False, 2.778)
    """
    n_users = positive("users", users)
    per_user = positive("predictions_per_user", predictions_per_user)
    ms = positive("per_prediction_ms", per_prediction_ms)
    n_workers = positive("workers", workers)
    conc = positive("concurrency_per_worker", concurrency_per_worker)
    size = non_negative("bytes_per_prediction", bytes_per_prediction)
    refresh = positive("refresh_hours", refresh_hours)
    delay = non_negative("feature_delay_hours", feature_delay_hours)
    active = fraction("active_share", active_share)
    share = non_negative("traffic_share_in_set", traffic_share_in_set)
    if share > 1:
        raise ScenarioError(f"traffic_share_in_set must be a fraction from 0 to 1, got {traffic_share_in_set!r}.")
    price = non_negative("worker_price_per_hour", worker_price_per_hour)
    kv_price = non_negative("kv_price_per_gb_month", kv_price_per_gb_month)

    predictions = n_users * per_user
    throughput = n_workers * conc * 1e3 / ms
    job = predictions / throughput / 3600
    fits = job <= refresh
    interval = max(refresh, job)
    storage = predictions * size / 1e9
    mean = interval / 2 + job + delay
    worst = interval + job + delay
    runs = HOURS_PER_MONTH / interval
    worker_hours = runs * job * n_workers
    compute = worker_hours * price
    kv = storage * kv_price
    total = compute + kv
    stale_inputs = (inp("interval", interval, "h"), inp("job", job, "h"), inp("feature delay", delay, "h"))
    figures = {
        "throughput_per_s": figure(
            key="throughput_per_s", label="Batch throughput", value=throughput, unit="predictions/s",
            formula="throughput = workers × concurrency × 1,000 ÷ ms/prediction",
            inputs=(inp("workers", n_workers), inp("concurrency", conc), inp("ms/prediction", ms, "ms"))),
        "job_hours": figure(
            key="job_hours", label="Batch job duration", value=job, unit="h",
            formula="job = users × predictions/user ÷ throughput ÷ 3,600",
            inputs=(inp("users", n_users), inp("predictions/user", per_user), inp("throughput", throughput, "predictions/s")),
            note="" if fits else "The job is longer than the refresh interval: jobs run back to back."),
        "kv_storage_gb": figure(
            key="kv_storage_gb", label="Precomputed storage", value=storage, unit="GB",
            formula="storage = users × predictions/user × bytes ÷ 1e9",
            inputs=(inp("users", n_users), inp("predictions/user", per_user), inp("bytes", size, "B"))),
        "staleness_mean_hours": figure(
            key="staleness_mean_hours", label="Mean staleness", value=mean, unit="h",
            formula="staleness = interval ÷ 2 + job + feature delay", inputs=stale_inputs),
        "staleness_max_hours": figure(
            key="staleness_max_hours", label="Max staleness", value=worst, unit="h",
            formula="staleness max = interval + job + feature delay", inputs=stale_inputs),
        "coverage": figure(
            key="coverage", label="Served precomputed", value=share, unit="",
            formula="coverage = share of requests from users in the set",
            inputs=(inp("traffic share in set", share),),
            note=f"The other {1 - share:.0%} of requests miss and go to the online path."),
        "wasted_share": figure(
            key="wasted_share", label="Predictions never read", value=1 - active, unit="",
            formula="wasted = 1 − active share", inputs=(inp("active share", active),)),
        "cost_usd_month": figure(
            key="cost_usd_month", label="Batch path cost", value=total, unit="USD/month",
            formula="cost = 730 h ÷ interval × job × workers × price + storage × KV price",
            inputs=(inp("interval", interval, "h"), inp("job", job, "h"), inp("workers", n_workers),
                    inp("price", price, "USD/h"), inp("storage", storage, "GB"), inp("KV price", kv_price, "USD/GB-month")),
            note=("Defaults: m5.xlarge $0.192/h and $2/GB-month of RAM (ml-systems-facts.md §4); "
                  "workers billed only while the job runs.")),
    }
    return Precompute(
        predictions_per_run=predictions, throughput_per_s=throughput, job_hours=job, fits_interval=fits,
        interval_hours=interval, kv_storage_gb=storage, staleness_mean_hours=mean, staleness_max_hours=worst,
        coverage=share, online_share=1 - share, wasted_share=1 - active, runs_per_month=runs,
        compute_cost_usd_month=compute, storage_cost_usd_month=kv, cost_usd_month=total, figures=figures)


@dataclass(frozen=True, slots=True)
class StalenessPoint:
    """One point of the cost-vs-staleness curve."""

    refresh_hours: float
    staleness_mean_hours: float
    staleness_max_hours: float
    cost_usd_month: float
    fits_interval: bool


def cost_vs_staleness(users: float, predictions_per_user: float, per_prediction_ms: float, workers: float,
                      concurrency_per_worker: float, bytes_per_prediction: float,
                      refresh_hours_values: Sequence[float] = DEFAULT_REFRESH_HOURS,
                      feature_delay_hours: float = 0.0, active_share: float = 1.0,
                      traffic_share_in_set: float = 1.0, worker_price_per_hour: float = WORKER_PRICE_PER_HOUR,
                      kv_price_per_gb_month: float = KV_PRICE_PER_GB_MONTH) -> tuple[StalenessPoint, ...]:
    """:func:`precompute` across refresh intervals: (refresh, staleness, cost) points for a chart.

    Parameters
    ----------
    refresh_hours_values : sequence of float, default :data:`DEFAULT_REFRESH_HOURS`
        Refresh intervals to evaluate, h (each > 0; at least one).
    others
        As for :func:`precompute`.

    Returns
    -------
    tuple of StalenessPoint
        One point per refresh interval, in the order given.

    Examples
    --------
    >>> pts = cost_vs_staleness(300e6, 100, 2, 200, 8, 16, refresh_hours_values=(6, 24, 168))
    >>> [(p.refresh_hours, round(p.staleness_max_hours, 1), round(p.cost_usd_month)) for p in pts]
    [(6.0, 20.8, 28992), (24.0, 34.4, 13127), (168.0, 178.4, 2698)]
    """
    if not refresh_hours_values:
        raise ScenarioError("refresh_hours_values must hold at least one interval (hours above 0).")
    points = []
    for refresh in refresh_hours_values:
        p = precompute(users, predictions_per_user, per_prediction_ms, workers, concurrency_per_worker,
                       bytes_per_prediction, refresh, feature_delay_hours=feature_delay_hours,
                       active_share=active_share, traffic_share_in_set=traffic_share_in_set,
                       worker_price_per_hour=worker_price_per_hour, kv_price_per_gb_month=kv_price_per_gb_month)
        points.append(StalenessPoint(refresh_hours=float(refresh), staleness_mean_hours=p.staleness_mean_hours,
                                     staleness_max_hours=p.staleness_max_hours, cost_usd_month=p.cost_usd_month,
                                     fits_interval=p.fits_interval))
    return tuple(points)
