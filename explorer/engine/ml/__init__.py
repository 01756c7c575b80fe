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
