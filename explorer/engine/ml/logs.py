"""Logging, labels and monitoring: event storage, label delay, and the cost of drift checks.

Named ``logs`` so that it never shadows the standard library's ``logging``.

Examples
--------
4B events a day of 200 bytes kept 90 days: 800 GB a day, 72 TB at steady state.

>>> e = event_logging(events_per_day=4e9, bytes_per_event=200, retention_days=90)
>>> e.gb_per_day, e.steady_state_gb, round(e.growth_gb_per_month), round(e.storage_cost_usd_month)
(800.0, 72000.0, 24333, 1440)
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.engine.ml._common import DAYS_PER_MONTH, SECONDS_PER_DAY, figure, inp, non_negative, positive
from explorer.engine.report import Figure

__all__ = [
    "BLOB_PRICE_PER_GB_MONTH",
    "CPU_PRICE_PER_HOUR",
    "EventLogging",
    "event_logging",
    "LabelDelay",
    "label_delay",
    "DriftMonitoring",
    "drift_monitoring",
]

BLOB_PRICE_PER_GB_MONTH = 0.02
"""Blob storage (S3/GCS class): napkin-math's $0.02 per GB-month (ml-systems-facts.md §4)."""

CPU_PRICE_PER_HOUR = 0.048
"""One vCPU-hour: m5.xlarge $0.192/h ÷ 4 vCPU (ml-systems-facts.md §4)."""


@dataclass(frozen=True, slots=True)
class EventLogging:
    """Storage of logged events."""

    events_per_s: float
    gb_per_day: float
    growth_gb_per_month: float
    """Added per month until the retention window is full."""
    steady_state_gb: float
    """GB/day × retention: what is stored once old events expire as fast as new ones arrive."""
    storage_cost_usd_month: float
    """Steady-state storage × price."""
    figures: dict[str, Figure]


def event_logging(events_per_day: float, bytes_per_event: float, retention_days: float,
                  storage_price_per_gb_month: float = BLOB_PRICE_PER_GB_MONTH) -> EventLogging:
    """GB per day, monthly growth and steady-state storage of an event log.

    Parameters
    ----------
    events_per_day : float
        Logged events per day (≥ 0).
    bytes_per_event : float
        Stored bytes per event (≥ 0).
    retention_days : float
        Days kept (≥ 0).
    storage_price_per_gb_month : float, default :data:`BLOB_PRICE_PER_GB_MONTH`

    Returns
    -------
    EventLogging

    Examples
    --------
    >>> event_logging(86_400, 1000, 30).events_per_s
    1.0
    """
    per_day = non_negative("events_per_day", events_per_day)
    size = non_negative("bytes_per_event", bytes_per_event)
    days = non_negative("retention_days", retention_days)
    price = non_negative("storage_price_per_gb_month", storage_price_per_gb_month)
    rate = per_day / SECONDS_PER_DAY
    gb_day = per_day * size / 1e9
    growth = gb_day * DAYS_PER_MONTH
    steady = gb_day * days
    cost = steady * price
    figures = {
        "gb_per_day": figure(key="gb_per_day", label="Logs per day", value=gb_day, unit="GB/day",
                             formula="GB/day = events/day × bytes/event ÷ 1e9",
                             inputs=(inp("events/day", per_day), inp("bytes/event", size, "B"))),
        "growth_gb_per_month": figure(key="growth_gb_per_month", label="Log growth", value=growth, unit="GB/month",
                                      formula="growth = GB/day × 30.4 days/month",
                                      inputs=(inp("GB/day", gb_day, "GB/day"), inp("days/month", DAYS_PER_MONTH, "days")),
                                      note="Until the retention window is full; then storage is flat."),
        "steady_state_gb": figure(key="steady_state_gb", label="Log storage", value=steady, unit="GB",
                                  formula="storage = GB/day × retention",
                                  inputs=(inp("GB/day", gb_day, "GB/day"), inp("retention", days, "days"))),
        "storage_cost_usd_month": figure(
            key="storage_cost_usd_month", label="Log storage cost", value=cost, unit="USD/month",
            formula="cost = storage × price", inputs=(inp("storage", steady, "GB"), inp("price", price, "USD/GB-month")),
            note="Default $0.02/GB-month: napkin-math blob storage (ml-systems-facts.md §4)."),
    }
    return EventLogging(events_per_s=rate, gb_per_day=gb_day, growth_gb_per_month=growth, steady_state_gb=steady,
                        storage_cost_usd_month=cost, figures=figures)


@dataclass(frozen=True, slots=True)
class LabelDelay:
    """How long an event waits before it is a labelled training example."""

    mean_hours: float
    max_hours: float
    pending_gb: float
    """Events held while they wait for their label (at the maximum delay)."""
    figures: dict[str, Figure]


def label_delay(label_window_hours: float, join_every_hours: float = 0.0, pipeline_lag_hours: float = 0.0,
                events_per_day: float = 0.0, bytes_per_event: float = 0.0) -> LabelDelay:
    """Delay from an impression to its labelled training example, and the events held meanwhile.

    A label (e.g. "clicked within t") is final when the label window closes;
    labelled events are joined in batches every ``join_every_hours`` and land
    ``pipeline_lag_hours`` later::

        mean = window + join every ÷ 2 + lag,   max = window + join every + lag
        pending GB = events/day ÷ 24 × max × bytes/event ÷ 1e9

    Parameters
    ----------
    label_window_hours : float
        Time after the event before its label is final, h (≥ 0).
    join_every_hours : float, default 0
        Period of the label-join batch, h (≥ 0; 0 for a streaming join).
    pipeline_lag_hours : float, default 0
        From join to training table, h (≥ 0).
    events_per_day, bytes_per_event : float, default 0
        For the size of the events held while they wait (≥ 0).

    Returns
    -------
    LabelDelay

    Examples
    --------
    >>> d = label_delay(label_window_hours=0.5, join_every_hours=1, pipeline_lag_hours=0.25,
    ...                 events_per_day=4.8e9, bytes_per_event=200)
    >>> d.mean_hours, d.max_hours, d.pending_gb
    (1.25, 1.75, 70.0)
    """
    window = non_negative("label_window_hours", label_window_hours)
    every = non_negative("join_every_hours", join_every_hours)
    lag = non_negative("pipeline_lag_hours", pipeline_lag_hours)
    per_day = non_negative("events_per_day", events_per_day)
    size = non_negative("bytes_per_event", bytes_per_event)
    mean = window + every / 2 + lag
    worst = window + every + lag
    pending = per_day / 24 * worst * size / 1e9
    inputs = (inp("label window", window, "h"), inp("join every", every, "h"), inp("lag", lag, "h"))
    figures = {
        "mean_hours": figure(key="mean_hours", label="Mean label delay", value=mean, unit="h",
                             formula="delay = label window + join every ÷ 2 + lag", inputs=inputs),
        "max_hours": figure(key="max_hours", label="Max label delay", value=worst, unit="h",
                            formula="delay max = label window + join every + lag", inputs=inputs),
        "pending_gb": figure(key="pending_gb", label="Events awaiting labels", value=pending, unit="GB",
                             formula="pending = events/day ÷ 24 × max delay × bytes/event ÷ 1e9",
                             inputs=(inp("events/day", per_day), inp("max delay", worst, "h"), inp("bytes/event", size, "B"))),
    }
    return LabelDelay(mean_hours=mean, max_hours=worst, pending_gb=pending, figures=figures)


@dataclass(frozen=True, slots=True)
class DriftMonitoring:
    """Compute and cost of distribution-drift checks."""

    checks_per_day: float
    cpu_hours_per_day: float
    cost_usd_month: float
    figures: dict[str, Figure]


def drift_monitoring(features: float, windows_per_day: float, checks_per_window: float, cost_ms_per_check: float,
                     cpu_price_per_hour: float = CPU_PRICE_PER_HOUR) -> DriftMonitoring:
    """CPU per day and cost per month of drift checks over ``features`` monitored inputs/outputs.

    ::

        checks/day = features × windows/day × checks/window
        CPU-h/day  = checks/day × ms/check ÷ 3,600,000
        cost/month = CPU-h/day × 30.4 × price

    Parameters
    ----------
    features : float
        Monitored input features and outputs (≥ 0).
    windows_per_day : float
        Comparison windows per day, e.g. 24 for hourly (≥ 0).
    checks_per_window : float
        Tests per feature and window, e.g. PSI, KS, null rate (≥ 0).
    cost_ms_per_check : float
        CPU per test, ms (> 0).
    cpu_price_per_hour : float, default :data:`CPU_PRICE_PER_HOUR`

    Returns
    -------
    DriftMonitoring

    Examples
    --------
    >>> m = drift_monitoring(features=1000, windows_per_day=24, checks_per_window=3, cost_ms_per_check=500)
    >>> m.checks_per_day, m.cpu_hours_per_day, round(m.cost_usd_month, 2)
    (72000.0, 10.0, 14.6)
    """
    n = non_negative("features", features)
    windows = non_negative("windows_per_day", windows_per_day)
    per_window = non_negative("checks_per_window", checks_per_window)
    ms = positive("cost_ms_per_check", cost_ms_per_check)
    price = non_negative("cpu_price_per_hour", cpu_price_per_hour)
    checks = n * windows * per_window
    cpu_h = checks * ms / 3.6e6
    cost = cpu_h * DAYS_PER_MONTH * price
    figures = {
        "checks_per_day": figure(key="checks_per_day", label="Drift checks per day", value=checks, unit="checks/day",
                                 formula="checks = features × windows/day × checks/window",
                                 inputs=(inp("features", n), inp("windows/day", windows), inp("checks/window", per_window))),
        "cpu_hours_per_day": figure(key="cpu_hours_per_day", label="Drift CPU per day", value=cpu_h, unit="CPU-h/day",
                                    formula="CPU-h = checks × ms/check ÷ 3,600,000",
                                    inputs=(inp("checks", checks, "checks/day"), inp("ms/check", ms, "ms"))),
        "cost_usd_month": figure(key="cost_usd_month", label="Drift monitoring cost", value=cost, unit="USD/month",
                                 formula="cost = CPU-h/day × 30.4 days × price",
                                 inputs=(inp("CPU-h/day", cpu_h, "CPU-h"), inp("price", price, "USD/CPU-h")),
                                 note="Default $0.048/vCPU-h: m5.xlarge $0.192/h ÷ 4 (ml-systems-facts.md §4)."),
    }
    return DriftMonitoring(checks_per_day=checks, cpu_hours_per_day=cpu_h, cost_usd_month=cost, figures=figures)
