"""Pattern blocks for the ML-aware capacity model: how a pattern declares what its ML quantities turn on.

Every field is a :data:`~explorer.model.pattern.Quantity` (a number, a parameter name or arithmetic over
parameter names) so sliders move them; units are in the field names. The engine evaluates each block at a
scenario and calls the calculators of :mod:`explorer.engine.ml`, which trace every figure to its formula.

On the request (traffic from users instead of a fixed QPS)::

    request:
      users: {dau: dau, requests_per_user_per_day: 2, peak_to_average: 3}

On a GPU component (model memory, dynamic batching, instances sharing one GPU)::

    gpu: {kind: a10g, launch_ms: 0.05, max_batch_items: 512, max_wait_ms: 5, instances_per_gpu: 1}
    model: {parameters: 50e6, precision: fp16, activation_mb_per_item: 0.05}

On an ANN component (index memory by type → shards; query cost → service time per shard)::

    index: {type: hnsw, vectors: num_items, dim: embedding_dim, k: top_k, hnsw_m: 32, ef_search: 64}

On the pattern (training, precomputed predictions, features, logs, drift)::

    ml:
      training: {events_per_day: …, bytes_per_event: …, retention_days: …, epochs: 1, per_example_ms: 0.01,
                 gpus: 8, every_hours: retrain_every_hours}
      precompute: {users: dau, predictions_per_user: 100, per_prediction_ms: 2, workers: 8,
                   refresh_hours: refresh_hours}
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from explorer.model.quantities import Identifier, Quantity

_STRICT = ConfigDict(extra="forbid", frozen=True)

GpuKind = Literal["a10g", "a100_40gb", "h100"]
Precision = Literal["fp32", "fp16", "bf16", "int8"]
IndexType = Literal["flat", "ivf_pq", "hnsw"]


class UserTraffic(BaseModel):
    """Peak traffic derived from daily active users: DAU × requests per user per day ÷ 86,400 × peak factor."""

    model_config = _STRICT
    dau: Quantity
    """Daily active users."""
    requests_per_user_per_day: Quantity
    """Requests (page loads, feed refreshes, searches) one active user makes per day."""
    peak_to_average: Quantity = 3
    """Peak-hour traffic ÷ the day's average (assumption: 3×, see the reference notes)."""


class GpuServing(BaseModel):
    """How a GPU component serves: the GPU, dynamic batching, and model instances sharing each GPU."""

    model_config = _STRICT
    kind: GpuKind = "a10g"
    """GPU model (memory, dense FLOP/s and price from :data:`explorer.engine.ml.gpu.GPUS`)."""
    launch_ms: Quantity = 0.05
    """Fixed GPU time per batch (kernel launches, transfers), in ms."""
    max_batch_items: Quantity = 512
    """Largest batch the server forms, in items."""
    max_wait_ms: Quantity = 2
    """Longest a request waits for its batch to fill, in ms."""
    instances_per_gpu: Quantity = 1
    """Model instances sharing one GPU: they share its throughput, they do not add to it."""


class ModelSize(BaseModel):
    """A model's size in memory: parameters × bytes per parameter, plus activations of one batch."""

    model_config = _STRICT
    parameters: Quantity
    """Trainable parameters (weights and embedding rows)."""
    precision: Precision = "fp16"
    """Numeric format of the served weights (fp32 4 bytes, fp16/bf16 2, int8 1)."""
    activation_mb_per_item: Quantity = 0.0
    """Activation memory per item in a batch, in MB."""


class AnnIndex(BaseModel):
    """An embedding index: its memory by type drives shards, its query cost drives service time per shard."""

    model_config = _STRICT
    type: IndexType = "hnsw"
    """``flat`` (exact scan), ``ivf_pq`` (inverted lists of product-quantised codes) or ``hnsw`` (graph)."""
    vectors: Quantity
    """Vectors indexed (N)."""
    dim: Quantity
    """Dimensions per vector (d)."""
    k: Quantity = 10
    """Neighbours returned per query."""
    pq_code_bytes: Quantity = 16
    """IVF-PQ: bytes per compressed vector."""
    nprobe: Quantity = 16
    """IVF-PQ: inverted lists visited per query."""
    hnsw_m: Quantity = 32
    """HNSW: links per vector (M)."""
    ef_search: Quantity = 16
    """HNSW: candidate list size during search (efSearch, at least k)."""


class Training(BaseModel):
    """Training data and retraining: dataset size, compute per run, cadence → cost per month and model age."""

    model_config = _STRICT
    events_per_day: Quantity
    """Logged training examples (impressions, clicks…) per day."""
    bytes_per_event: Quantity = 500
    """Stored bytes per example (features and label)."""
    retention_days: Quantity = 30
    """Days of data a run trains on."""
    epochs: Quantity = 1
    """Passes over the data per run."""
    per_example_ms: Quantity | None = None
    """Measured GPU time per example (give this or ``flops_per_example``)."""
    flops_per_example: Quantity | None = None
    """Training FLOPs per example (forward + backward)."""
    gpu: GpuKind = "a100_40gb"
    """GPU the runs use."""
    gpus: Quantity = 8
    """GPUs per run (data parallel)."""
    every_hours: Quantity = 24
    """A new model every N hours (the retraining cadence)."""
    deploy_hours: Quantity = 1
    """Evaluation, hand-off and roll-out after a run, in hours."""
    label_delay_hours: Quantity = 0
    """How long after an event its label is known (clicks: minutes; conversions: days)."""

    @model_validator(mode="after")
    def _one_cost(self) -> Training:
        if (self.per_example_ms is None) == (self.flops_per_example is None):
            raise ValueError("give exactly one of per_example_ms or flops_per_example")
        return self


class Precompute(BaseModel):
    """Batch (precomputed) predictions: job time, KV storage, staleness, coverage and cost."""

    model_config = _STRICT
    users: Quantity
    """Users (or keys) in the precomputed set."""
    predictions_per_user: Quantity
    """Predictions stored per user (e.g. the top 100)."""
    per_prediction_ms: Quantity
    """Worker time per prediction, in ms."""
    workers: Quantity
    """Batch workers."""
    concurrency_per_worker: Quantity = 4
    """Predictions one worker computes at once (e.g. its cores)."""
    bytes_per_prediction: Quantity = 16
    """Stored bytes per prediction (an id and a score)."""
    refresh_hours: Quantity = 24
    """A job starts every N hours."""
    feature_delay_hours: Quantity = 0
    """Age of the features when the job reads them."""
    active_share: Quantity = 1
    """Share of the precomputed users who come back within an interval."""
    traffic_share_in_set: Quantity = 1
    """Share of requests that come from users in the precomputed set (the rest miss)."""


class RankerFeatures(BaseModel):
    """Feature bytes sent to a ranker with its candidates."""

    model_config = _STRICT
    ranker: Identifier
    """Component id of the ranker."""
    candidates: Quantity
    """Candidates scored per request."""
    features_per_candidate: Quantity
    """Features per candidate."""
    bytes_per_feature: Quantity = 4
    """Bytes per feature value (float32)."""


class StreamingFeatures(BaseModel):
    """Freshness of features computed by a streaming job (windowed counts)."""

    model_config = _STRICT
    window_s: Quantity
    """Aggregation window, in seconds."""
    pipeline_lag_s: Quantity = 5
    """Event → online store lag of the pipeline, in seconds."""


class EventLogs(BaseModel):
    """Logged events for training and analysis: storage growth."""

    model_config = _STRICT
    events_per_day: Quantity
    """Events logged per day."""
    bytes_per_event: Quantity = 500
    """Bytes per logged event."""
    retention_days: Quantity = 90
    """Days kept."""


class DriftChecks(BaseModel):
    """Drift monitoring: statistical checks over feature and prediction distributions."""

    model_config = _STRICT
    features: Quantity
    """Monitored features (and outputs)."""
    windows_per_day: Quantity = 24
    """Comparison windows per day."""
    checks_per_window: Quantity = 2
    """Tests per feature and window (e.g. PSI and a KS test)."""
    cost_ms_per_check: Quantity = 50
    """CPU time per check, in ms."""


class MLBlocks(BaseModel):
    """The pattern-level ML quantities; each block is optional and adds its figures to the report."""

    model_config = _STRICT
    training: Training | None = None
    """Dataset size, compute per retrain, cost per month, model age."""
    precompute: Precompute | None = None
    """Batch predictions: staleness, coverage, cost, and the cost-vs-staleness curve."""
    ranker_features: RankerFeatures | None = None
    """Feature bytes per request into the ranker."""
    streaming_features: StreamingFeatures | None = None
    """Freshness of streaming features."""
    logging: EventLogs | None = None
    """Logged events and storage growth."""
    drift: DriftChecks | None = None
    """Drift-monitoring compute and cost."""

    @model_validator(mode="after")
    def _not_empty(self) -> MLBlocks:
        if not any(getattr(self, name) is not None for name in type(self).model_fields):
            raise ValueError(f"declare at least one of {', '.join(type(self).model_fields)}")
        return self


__all__ = ["AnnIndex", "DriftChecks", "EventLogs", "GpuServing", "MLBlocks", "ModelSize", "Precompute",
           "RankerFeatures", "StreamingFeatures", "Training", "UserTraffic"]
