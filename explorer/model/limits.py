"""Sane bounds on every quantity of a pattern, in one place, with the reason for each.

Validation (:mod:`explorer.model.loader`) evaluates every quantity at the default scenario and with
each parameter at its min and at its max (the scenarios the sliders, URLs and ``estimate`` reach) and
refuses a value outside its bound, e.g.
``p.yaml:40: components[2].replicas: value 1e+308 is outside 0 … 1e+06 (…) at the default scenario``.

The bounds are far above anything a real system needs (the built-in patterns stay at least
50× below each one) and far below where a float loses meaning: products of a few bounded figures
along a request path (rate × fan-out × items × bytes) stay finite, so a figure the engine derives
cannot overflow to infinity from one absurd number.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bound:
    """The largest value a kind of quantity may take, and why."""

    high: float
    """Inclusive upper bound, in ``unit``."""
    unit: str
    """Unit shown in messages ("" for counts)."""
    why: str
    """One phrase that makes the bound plausible to the reader of a message."""


RATE_PER_S = Bound(1e9, "per second", "a billion per second, far above any single service")
PER_CALL = Bound(1e9, "", "a billion per call")
RECORDS = Bound(1e15, "", "a million billion records, ~50× the largest built-in dataset")
REPLICAS = Bound(1e6, "", "a million, about the servers of the largest data centre fleets")
REPLICATION = Bound(1e3, "", "a thousand copies")
TIME_MS = Bound(1e7, "ms", "about 2.8 hours")
HOURS = Bound(1e5, "hours", "about 11 years")
BYTES_PER_ITEM = Bound(1e12, "bytes", "a terabyte per record or call")
DATA_BYTES = Bound(1e21, "bytes", "a zettabyte (items × bytes per item × replication), 1000× the largest built-in store")
MEMORY_GB = Bound(1e5, "GB", "100 TB of memory per node")
COST_USD_PER_HOUR = Bound(1e6, "USD/hour", "a million dollars per replica-hour")
SERVICE_CV = Bound(1e2, "", "a hundred times the mean")
PARAMETER = Bound(1e18, "", "parameter values, defaults and ranges stay within ±1e18")

ANY = Bound(1e18, "", "any other quantity")

BOUNDS: dict[str, Bound] = {
    "request.peak_qps": RATE_PER_S,
    "request.latency_target_ms": TIME_MS,
    "request.target_utilization": Bound(1.0, "", "a fraction of capacity"),
    "components.replicas": REPLICAS,
    "components.latency_budget_ms": TIME_MS,
    "components.overrides.service_ms": TIME_MS,
    "components.overrides.per_item_ms": TIME_MS,
    "components.overrides.concurrency": REPLICAS,
    "components.overrides.service_cv": SERVICE_CV,
    "components.overrides.memory_gb": MEMORY_GB,
    "components.overrides.cost_usd_per_hour": COST_USD_PER_HOUR,
    "components.data.items": RECORDS,
    "components.data.bytes_per_item": BYTES_PER_ITEM,
    "components.data.replication": REPLICATION,
    "connections.calls": PER_CALL,
    "connections.items": PER_CALL,
    "connections.payload_bytes": BYTES_PER_ITEM,
    "connections.bytes_per_item": BYTES_PER_ITEM,
    "batch_jobs.items": RECORDS,
    "batch_jobs.batch_items": PER_CALL,
    "batch_jobs.every_hours": HOURS,
    "batch_jobs.window_hours": HOURS,
    "streams.rate_per_s": RATE_PER_S,
    "streams.items": PER_CALL,
}
"""The bound of each quantity, by its path in the file without list indexes (``components.data.items``);
a quantity not listed here is held to :data:`ANY`."""


def bound_for(path: tuple) -> Bound:
    """The bound of the quantity at ``path`` (a path as the loader gives it).

    Examples
    --------
    >>> bound_for(("components", 3, "overrides", "service_ms", "value")) is TIME_MS
    True
    >>> bound_for(("ml", "training", "epochs")) is ANY
    True
    """
    key = ".".join(str(part) for part in path if not isinstance(part, int) and part != "value")
    return BOUNDS.get(key, ANY)


def describe(bound: Bound, low: float = 0.0) -> str:
    """``0 … 1e+06 (a million, …)`` for messages.

    Examples
    --------
    >>> describe(REPLICATION)
    '0 … 1000 (a thousand copies)'
    """
    unit = f" {bound.unit}" if bound.unit else ""
    return f"{low:g} … {bound.high:g}{unit} ({bound.why})"
