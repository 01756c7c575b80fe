"""Pass 5, ML figures: what the pattern's ML blocks say, as ordered sections of traced figures.

The calculators of :mod:`explorer.engine.ml` answer each question; this pass feeds them the
pattern's evaluated blocks and the load the earlier passes found, and gathers their figures:

* ``traffic`` — peak QPS from daily users (``request.users``; the traffic pass already used it);
* ``gpu:<id>`` — dynamic batching and the GPUs the load needs (``components[].gpu``);
* ``model:<id>`` — model memory against the node's (GPU's) memory (``components[].model``);
* ``index:<id>`` — index memory by type, shards, query cost per shard and the brute-force scan beside it;
* ``training``, ``precompute``, ``ranker_features``, ``streaming_features``, ``logging``, ``drift`` —
  the pattern's ``ml`` blocks, in that order.

Monthly costs of training, the batch path, log storage and drift checks are summed beside the totals' cost
(``Totals.ml_cost_usd_month``), each as its own input of that figure's trace (:func:`with_ml_costs`): not
inside the total, which sums components, since patterns draw the same jobs as components too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from explorer.engine.ml import (
    GPUS,
    cost_vs_staleness,
    dataset_size,
    drift_monitoring,
    dynamic_batching,
    event_logging,
    gpus_needed,
    precompute,
    ranker_feature_payload,
    retraining,
    streaming_freshness,
    training_run,
)
from explorer.engine.report import ComponentReport, CurvePoint, Figure, Input, MLSection, Totals
from explorer.engine.traffic import Evaluator, Traffic
from explorer.model.loader import ResolvedPattern
from explorer.model.ml import MLBlocks

BATCHING_DELAY_NOTE = (
    "Not added to the end-to-end latency: the request path's station serves each call as its own batch "
    "(one launch per call), which over-counts GPU time at least as much as batching adds waiting; the delay is "
    "shown here so the trade-off (bigger batches, longer wait) is visible.")


@dataclass(frozen=True, slots=True)
class MLResult:
    """What the ML pass returns: the sections, the staleness curve, and the monthly costs to add to the totals."""

    sections: tuple[MLSection, ...]
    staleness_curve: tuple[CurvePoint, ...] | None
    costs_usd_month: Mapping[str, float]
    """Monthly cost by block (``training``, ``precompute``, ``logging``, ``drift``)."""
    warnings: tuple[str, ...] = ()
    """Plain sentences: a model split over GPUs, a retrain longer than its cadence, a batch job longer than its
    refresh interval."""


def ml_pass(rp: ResolvedPattern, tr: Traffic, comps: Mapping[str, ComponentReport],
            values: Mapping[str, float]) -> MLResult:
    """Every ML section of a pattern at a scenario (an empty result when it declares no ML block)."""
    sections: list[MLSection] = []
    notes: list[str] = []
    if tr.request.users is not None:
        sections.append(MLSection(key="traffic", title="Traffic from daily users", component=None,
                                  figures=dict(tr.request.users.figures)))
    for c in rp.pattern.components:
        ml = tr.specs[c.id].ml
        if ml is not None:
            sections.extend(_component_sections(tr, comps[c.id], ml))
            if ml.model is not None and not ml.model.fits:
                notes.append(f"{c.id}: the model ({ml.model.total_gb:.3g} GB) does not fit one node's usable "
                             f"memory ({ml.model.usable_gb:.3g} GB); each replica spans {ml.model.shards} of them "
                             "(model-parallel), or quantise it (fp16, int8)")
    curve, costs = None, {}
    if rp.pattern.ml is not None:
        blocks, curve, costs = _pattern_sections(rp.pattern.ml, Evaluator(rp.file, values), tr, comps, notes)
        sections.extend(blocks)
    return MLResult(sections=tuple(sections), staleness_curve=curve, costs_usd_month=costs, warnings=tuple(notes))


def _component_sections(tr: Traffic, cr: ComponentReport, ml) -> list[MLSection]:
    out: list[MLSection] = []
    s = tr.specs[cr.id]
    if ml.gpu is not None and cr.calls_per_s > 0 and cr.items_per_call > 0 and s.per_item_ms > 0:
        g = ml.gpu
        gpus = max(1, cr.shards * cr.replicas)
        batching = dynamic_batching(cr.calls_per_s, cr.items_per_call, g.max_batch_items, g.max_wait_ms,
                                    g.launch_ms, s.per_item_ms, gpus, g.instances_per_gpu)
        need = gpus_needed(cr.calls_per_s, cr.items_per_call, s.per_item_ms, g.launch_ms,
                           int(max(1, round(batching.batch_items))), tr.request.target_utilization,
                           g.instances_per_gpu)
        F = dict(batching.figures)
        F["batching_delay_ms"] = dataclasses.replace(F["batching_delay_ms"], note=(
            (F["batching_delay_ms"].note + " " if F["batching_delay_ms"].note else "") + BATCHING_DELAY_NOTE))
        F["work_gpu_s_per_s"] = need.figures["work_gpu_s_per_s"]
        F["gpus_needed"] = dataclasses.replace(need.figures["gpus"], key="gpus_needed")
        span = ml.model.shards if ml.model is not None else 1
        if span > 1:  # the work sizes replicas; each replica holds the model on `span` GPUs
            F["gpus_total"] = Figure(
                "gpus_total", "GPUs, model split over several", need.gpus * span, "GPUs",
                "replicas the work needs × GPUs one replica spans (the model does not fit one GPU's memory)",
                (Input("replicas the work needs", need.gpus, ""), Input("GPUs per replica", span, "GPUs")),
                note="Each replica runs a copy of the model split over its GPUs (model parallel); the per-item GPU "
                     "time is taken per replica, so a split model costs every GPU of its replica.")
        F["gpu_price_usd_per_hour"] = Figure(
            "gpu_price_usd_per_hour", "GPU price", g.gpu.price_usd_per_hour, "USD/h",
            f"GPU catalog: {g.kind} ({g.gpu.name})", (Input("memory", g.gpu.memory_gb, "GB"),),
            note=g.gpu.source)
        out.append(MLSection(key=f"gpu:{cr.id}", title=f"GPU serving — {cr.label}", component=cr.id, figures=F))
    if ml.model is not None:
        out.append(MLSection(key=f"model:{cr.id}", title=f"Model memory — {cr.label}", component=cr.id,
                             figures=dict(ml.model.figures)))
    if ml.index is not None:
        F = dict(ml.index.figures)
        F.update(ml.index_shards.figures)
        F.update(ml.query.figures)
        F.update({f"brute_force_{k}": dataclasses.replace(f, key=f"brute_force_{k}", label=f"Brute force: {f.label}")
                  for k, f in ml.scan.figures.items()})
        out.append(MLSection(key=f"index:{cr.id}", title=f"Embedding index — {cr.label}", component=cr.id,
                             figures=F))
    return out


def _pattern_sections(ml: MLBlocks, ev: Evaluator, tr: Traffic, comps: Mapping[str, ComponentReport],
                      notes: list[str]):
    sections: list[MLSection] = []
    costs: dict[str, float] = {}
    curve = None
    if ml.training is not None:
        t = ml.training
        where = "ml.training"
        data = dataset_size(ev(t.events_per_day, f"{where}.events_per_day"),
                            ev(t.bytes_per_event, f"{where}.bytes_per_event"),
                            ev(t.retention_days, f"{where}.retention_days"))
        gpu = GPUS[t.gpu]
        gpus = max(1, int(round(ev(t.gpus, f"{where}.gpus"))))
        cost_kw = ({"per_example_ms": ev(t.per_example_ms, f"{where}.per_example_ms")}
                   if t.per_example_ms is not None else
                   {"flops_per_example": ev(t.flops_per_example, f"{where}.flops_per_example")})
        run = training_run(data.examples, ev(t.epochs, f"{where}.epochs"), gpu_flops=gpu.dense_fp16_tflops * 1e12,
                           gpus=gpus, gpu_price_per_hour=gpu.price_usd_per_hour, **cost_kw)
        cadence = retraining(ev(t.every_hours, f"{where}.every_hours"), run.wall_clock_hours,
                             ev(t.deploy_hours, f"{where}.deploy_hours"), run.cost_usd,
                             ev(t.label_delay_hours, f"{where}.label_delay_hours"))
        F = {**data.figures, **run.figures, **cadence.figures}
        F["cost_usd"] = dataclasses.replace(F["cost_usd"], note=f"Price: GPU catalog {t.gpu}: {gpu.source}")
        sections.append(MLSection(key="training", title="Training and retraining", component=None, figures=F))
        costs["training"] = cadence.cost_usd_month
        if cadence.overlapping:
            notes.append(f"training: a run takes {run.wall_clock_hours:.3g} h, longer than the retraining cadence "
                         "of {:.3g} h; runs would overlap (more GPUs per run, or retrain less often)".format(
                             ev(t.every_hours, f"{where}.every_hours")))
    if ml.precompute is not None and ev(ml.precompute.users, "ml.precompute.users") == 0:
        notes.append("precompute: no key is precomputed in this scenario (users = 0): the batch path is off")
    elif ml.precompute is not None:
        p = ml.precompute
        where = "ml.precompute"
        args = dict(users=ev(p.users, f"{where}.users"),
                    predictions_per_user=ev(p.predictions_per_user, f"{where}.predictions_per_user"),
                    per_prediction_ms=ev(p.per_prediction_ms, f"{where}.per_prediction_ms"),
                    workers=ev(p.workers, f"{where}.workers"),
                    concurrency_per_worker=ev(p.concurrency_per_worker, f"{where}.concurrency_per_worker"),
                    bytes_per_prediction=ev(p.bytes_per_prediction, f"{where}.bytes_per_prediction"),
                    feature_delay_hours=ev(p.feature_delay_hours, f"{where}.feature_delay_hours"),
                    active_share=ev(p.active_share, f"{where}.active_share"),
                    traffic_share_in_set=ev(p.traffic_share_in_set, f"{where}.traffic_share_in_set"))
        batch = precompute(refresh_hours=ev(p.refresh_hours, f"{where}.refresh_hours"), **args)
        sections.append(MLSection(key="precompute", title="Precomputed (batch) predictions", component=None,
                                  figures=dict(batch.figures)))
        costs["precompute"] = batch.cost_usd_month
        if not batch.fits_interval:
            notes.append(f"precompute: the job takes {batch.job_hours:.3g} h, longer than its refresh interval; jobs "
                         "run back to back and staleness follows the job, not the interval (add workers)")
        curve = tuple(CurvePoint(refresh_hours=q.refresh_hours, staleness_mean_hours=q.staleness_mean_hours,
                                 staleness_max_hours=q.staleness_max_hours, cost_usd_month=q.cost_usd_month,
                                 fits_interval=q.fits_interval)
                      for q in cost_vs_staleness(**args))
    if ml.ranker_features is not None and tr.features is not None:
        f = ml.ranker_features
        ranker = comps.get(f.ranker)
        # the link load spreads over the ranker's hosts, known only once it is sized
        hosts = max(1, ranker.nodes) if ranker is not None else 1
        payload = ranker_feature_payload(ev(f.candidates, "ml.ranker_features.candidates"),
                                         ev(f.features_per_candidate, "ml.ranker_features.features_per_candidate"),
                                         ev(f.bytes_per_feature, "ml.ranker_features.bytes_per_feature"),
                                         qps=tr.request.qps, ranker_hosts=hosts)
        sections.append(MLSection(key="ranker_features", title="Features into the ranker",
                                  component=f.ranker, figures=dict(payload.figures)))
    if ml.streaming_features is not None:
        f = ml.streaming_features
        fresh = streaming_freshness(ev(f.window_s, "ml.streaming_features.window_s"),
                                    ev(f.pipeline_lag_s, "ml.streaming_features.pipeline_lag_s"))
        sections.append(MLSection(key="streaming_features", title="Streaming feature freshness", component=None,
                                  figures=dict(fresh.figures)))
    if ml.logging is not None:
        g = ml.logging
        logs = event_logging(ev(g.events_per_day, "ml.logging.events_per_day"),
                             ev(g.bytes_per_event, "ml.logging.bytes_per_event"),
                             ev(g.retention_days, "ml.logging.retention_days"))
        sections.append(MLSection(key="logging", title="Event logging", component=None, figures=dict(logs.figures)))
        costs["logging"] = logs.storage_cost_usd_month
    if ml.drift is not None:
        d = ml.drift
        drift = drift_monitoring(ev(d.features, "ml.drift.features"), ev(d.windows_per_day, "ml.drift.windows_per_day"),
                                 ev(d.checks_per_window, "ml.drift.checks_per_window"),
                                 ev(d.cost_ms_per_check, "ml.drift.cost_ms_per_check"))
        sections.append(MLSection(key="drift", title="Drift monitoring", component=None, figures=dict(drift.figures)))
        costs["drift"] = drift.cost_usd_month
    return sections, curve, costs


def with_ml_costs(totals: Totals, costs: Mapping[str, float]) -> Totals:
    """The totals with the ML blocks' monthly costs beside them (``ml_cost_usd_month``), not inside the
    components' total: the patterns draw their trainers and batch workers as components too, and adding both
    would bill the same job twice under two models of it. Each block's cost is an input of the figure's trace."""
    if not costs:
        return totals
    money = sum(costs.values())
    figure = Figure("ml_cost_usd_month", "ML blocks per month", money, "USD",
                    "Σ ML blocks' cost per month (training runs, batch path, log storage, drift checks)",
                    tuple(Input(f"ml: {name}", usd, "USD") for name, usd in costs.items()),
                    note="Shown beside the total, not added to it: the total sums the components, and a pattern "
                         "draws the same jobs as components (trainer, batch workers), so adding these would count "
                         "them twice. Compare the two: the ML block prices the work (GPU-hours, worker-hours, "
                         "GB-months); the component prices the provisioned pool.")
    return dataclasses.replace(totals, ml_cost_usd_month=money,
                               figures={**totals.figures, "ml_cost_usd_month": figure})
