"""Features on the request path: the payload a ranker pulls, and how fresh streaming features are.

Examples
--------
Scoring 500 candidates × 200 float features is 400 kB per request; at 10,000
requests/s that is 4,000 MB/s, more than one 10 Gbit/s link carries.

>>> f = ranker_feature_payload(candidates=500, features_per_candidate=200, bytes_per_feature=4,
...                            qps=10_000, bandwidth_gbit_s=10)
>>> f.bytes_per_request, f.mb_per_s, f.transfer_ms_per_request, f.link_utilization, f.saturated
(400000.0, 4000.0, 0.32, 3.2, True)
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.engine.ml._common import figure, inp, non_negative, positive, whole
from explorer.engine.report import Figure

__all__ = [
    "BYTES_PER_FEATURE",
    "BANDWIDTH_GBIT_S",
    "FeaturePayload",
    "ranker_feature_payload",
    "Freshness",
    "streaming_freshness",
]

BYTES_PER_FEATURE = 4
"""One float32 feature value. Assumption: dense numeric features; ids and strings cost more."""

BANDWIDTH_GBIT_S = 10.0
"""Network link of one ranker host. Assumption: a 10 Gbit/s NIC ("up to 10 Gigabit" on m5.xlarge-class
hosts); napkin-math's same-zone 10 GiB/s is an aggregate, not one host's link."""


@dataclass(frozen=True, slots=True)
class FeaturePayload:
    """Feature bytes moved into the ranker."""

    bytes_per_request: float
    mb_per_s: float
    """Into the whole ranker tier."""
    transfer_ms_per_request: float
    """Serialisation time of one request's features on one link (no protocol overhead)."""
    link_utilization: float
    """MB/s per host ÷ link capacity; 1 or more means the links are saturated."""
    saturated: bool
    figures: dict[str, Figure]


def ranker_feature_payload(candidates: float, features_per_candidate: float,
                           bytes_per_feature: float = BYTES_PER_FEATURE, qps: float = 0.0,
                           bandwidth_gbit_s: float = BANDWIDTH_GBIT_S, ranker_hosts: int = 1) -> FeaturePayload:
    """Bytes per request, MB/s into the ranker and transfer time per request.

    ::

        bytes/request = candidates × features × bytes/feature
        MB/s          = bytes/request × QPS ÷ 1e6
        transfer ms   = bytes/request × 8 ÷ (Gbit/s × 1e9) × 1,000
        link use      = MB/s × 8 ÷ 1,000 ÷ hosts ÷ Gbit/s

    Parameters
    ----------
    candidates : float
        Candidates scored per request (≥ 0).
    features_per_candidate : float
        Feature values fetched per candidate (≥ 0).
    bytes_per_feature : float, default :data:`BYTES_PER_FEATURE`
    qps : float, default 0
        Requests per second into the ranker tier (≥ 0).
    bandwidth_gbit_s : float, default :data:`BANDWIDTH_GBIT_S`
        Link of one ranker host, Gbit/s (> 0).
    ranker_hosts : int, default 1
        Hosts sharing the traffic.

    Returns
    -------
    FeaturePayload

    Examples
    --------
    >>> ranker_feature_payload(500, 200, 4, 10_000, 10, ranker_hosts=4).link_utilization
    0.8
    """
    cands = non_negative("candidates", candidates)
    feats = non_negative("features_per_candidate", features_per_candidate)
    size = non_negative("bytes_per_feature", bytes_per_feature)
    rate = non_negative("qps", qps)
    bw = positive("bandwidth_gbit_s", bandwidth_gbit_s)
    hosts = whole("ranker_hosts", ranker_hosts)
    per_request = cands * feats * size
    mb_s = per_request * rate / 1e6
    transfer = per_request * 8 / (bw * 1e9) * 1e3
    use = mb_s * 8 / 1e3 / hosts / bw
    saturated = use >= 1.0
    figures = {
        "bytes_per_request": figure(
            key="bytes_per_request", label="Feature bytes per request", value=per_request, unit="B",
            formula="bytes = candidates × features × bytes/feature",
            inputs=(inp("candidates", cands), inp("features", feats), inp("bytes/feature", size, "B")),
            note="Default 4 B per feature (float32) is an assumption."),
        "mb_per_s": figure(
            key="mb_per_s", label="Feature traffic into ranker", value=mb_s, unit="MB/s",
            formula="MB/s = bytes/request × QPS ÷ 1e6",
            inputs=(inp("bytes/request", per_request, "B"), inp("QPS", rate, "requests/s"))),
        "transfer_ms_per_request": figure(
            key="transfer_ms_per_request", label="Feature transfer per request", value=transfer, unit="ms",
            formula="transfer = bytes × 8 ÷ link Gbit/s",
            inputs=(inp("bytes/request", per_request, "B"), inp("link", bw, "Gbit/s")),
            note="Wire time only; serialisation and protocol overhead not included."),
        "link_utilization": figure(
            key="link_utilization", label="Ranker link utilisation", value=use, unit="",
            formula="use = MB/s × 8 ÷ 1,000 ÷ hosts ÷ link Gbit/s",
            inputs=(inp("MB/s", mb_s, "MB/s"), inp("hosts", hosts), inp("link", bw, "Gbit/s")),
            note=("Saturated: fetch fewer features, compress, or add ranker hosts." if saturated
                  else "Default 10 Gbit/s link is an assumption.")),
    }
    return FeaturePayload(bytes_per_request=per_request, mb_per_s=mb_s, transfer_ms_per_request=transfer,
                          link_utilization=use, saturated=saturated, figures=figures)


@dataclass(frozen=True, slots=True)
class Freshness:
    """Age of a windowed streaming feature when it is read."""

    mean_age_s: float
    max_age_s: float
    figures: dict[str, Figure]


def streaming_freshness(window_s: float, pipeline_lag_s: float) -> Freshness:
    """Mean and maximum age of a tumbling-window streaming feature at read time.

    The value read is the last window published: it closed at ``t_e`` and was
    written ``pipeline lag`` later, and is replaced one window later. The age of
    its newest event, ``t − t_e``, is uniform over ``[lag, lag + window]``::

        mean age = window ÷ 2 + lag,   max age = window + lag

    (The window's average event is another ``window ÷ 2`` older.)

    Parameters
    ----------
    window_s : float
        Aggregation window, s (≥ 0).
    pipeline_lag_s : float
        From window close to the value in the online store, s (≥ 0).

    Returns
    -------
    Freshness

    Examples
    --------
    >>> f = streaming_freshness(window_s=60, pipeline_lag_s=5)
    >>> f.mean_age_s, f.max_age_s
    (35.0, 65.0)
    """
    window = non_negative("window_s", window_s)
    lag = non_negative("pipeline_lag_s", pipeline_lag_s)
    mean = window / 2 + lag
    worst = window + lag
    inputs = (inp("window", window, "s"), inp("lag", lag, "s"))
    figures = {
        "mean_age_s": figure(key="mean_age_s", label="Mean feature age", value=mean, unit="s",
                             formula="age = window ÷ 2 + lag", inputs=inputs),
        "max_age_s": figure(key="max_age_s", label="Max feature age", value=worst, unit="s",
                            formula="age max = window + lag", inputs=inputs),
    }
    return Freshness(mean_age_s=mean, max_age_s=worst, figures=figures)
