"""ML-aware capacity calculators: pure, traced functions over plain numbers.

Each module answers one question of ML system design with closed forms whose
every number is a :class:`~explorer.engine.report.Figure` (formula, inputs with
units, and a note naming the source of each default constant):

* :mod:`~explorer.engine.ml.traffic` — daily users → average and peak QPS.
* :mod:`~explorer.engine.ml.gpu` — model memory on a GPU, dynamic batching, GPUs needed, GPU catalog.
* :mod:`~explorer.engine.ml.ann` — embedding index memory, shards, ANN query cost, brute-force scan.
* :mod:`~explorer.engine.ml.training` — dataset size, one training run, retraining cadence and model age.
* :mod:`~explorer.engine.ml.batch_online` — precomputed (batch) predictions: job time, storage,
  staleness, coverage and cost, and the cost-vs-staleness curve.
* :mod:`~explorer.engine.ml.features` — ranker feature payloads and streaming-feature freshness.
* :mod:`~explorer.engine.ml.logs` — event logging storage, label delay, drift-monitoring cost.

Every calculator returns a frozen dataclass with typed fields and ``figures``;
invalid inputs raise :class:`~explorer.errors.ScenarioError`; no result is NaN
or infinite (an unbounded quantity is reported as a ``saturated`` or
``fits``/``feasible`` flag instead). This package sits on the *engine* floor:
it imports :mod:`explorer.engine.report`, :mod:`explorer.errors` and nothing above.
"""

from explorer.engine.ml.ann import brute_force_scan, index_memory, query_cost, shards_for
from explorer.engine.ml.batch_online import cost_vs_staleness, precompute
from explorer.engine.ml.features import ranker_feature_payload, streaming_freshness
from explorer.engine.ml.gpu import GPUS, dynamic_batching, gpus_needed, model_memory
from explorer.engine.ml.logs import drift_monitoring, event_logging, label_delay
from explorer.engine.ml.traffic import traffic_from_users
from explorer.engine.ml.training import dataset_size, retraining, training_run

__all__ = [
    "GPUS",
    "brute_force_scan",
    "cost_vs_staleness",
    "dataset_size",
    "drift_monitoring",
    "dynamic_batching",
    "event_logging",
    "gpus_needed",
    "index_memory",
    "label_delay",
    "model_memory",
    "precompute",
    "query_cost",
    "ranker_feature_payload",
    "retraining",
    "shards_for",
    "streaming_freshness",
    "traffic_from_users",
    "training_run",
]
