"""The ML blocks wired through the whole engine: closed forms at the report, traces, JSON, no NaN/inf."""

from __future__ import annotations

import json
import math

import pytest

from explorer.cli import main
from explorer.engine.analysis import analyse
from explorer.model.loader import load_pattern_text

GPU_COMMAND = ["estimate", "gpu_model_serving", "--mode", "autosize", "--set", "peak_qps=10000",
               "--set", "items_per_request=500", "--set", "gpu_us_per_item=20", "--set", "latency_target_ms=500",
               "--set", "target_utilization=0.6", "--json"]


def test_gpu_instances_share_the_gpu_cli(capsys):
    """Defect 1: 10,000 req/s × 500 items × 20 µs = 100 GPU-s/s (+ 0.05 ms launch per call) → ≈ 167 GPUs at 60 %."""
    assert main(GPU_COMMAND) == 0
    report = json.loads(capsys.readouterr().out)
    gpus = report["totals"]["gpu_replicas"]
    assert abs(gpus - 167) <= 2, gpus
    ranker = report["components"]["gpu_ranker"]
    assert ranker["servers_per_shard"] == ranker["replicas"], "two instances per GPU must not double its servers"
    section = next(s for s in report["ml"] if s["key"] == "gpu:gpu_ranker")
    assert section["figures"]["work_gpu_s_per_s"]["value"] == pytest.approx(100.0 + 10_000 * 0.05e-3, rel=1e-9)


_BASE = """
id: wired
title: Wired
parameters:
  - {name: dau, label: DAU, default: 2000000, min: 1000, max: 1e9, scale: log, source: "assumption: test"}
  - {name: vectors, label: Vectors, default: 1e9, min: 1e6, max: 1e10, scale: log, source: "assumption: test"}
request:
  entry: api
  users: {dau: dau, requests_per_user_per_day: 20, peak_to_average: 3}
  latency_target_ms: 200
components:
  - {id: api, type: api_service, replicas: 4}
  - id: ann
    type: ann_index_cpu
    replicas: 2
    index: {type: flat, vectors: vectors, dim: 128, k: 10}
  - id: ranker
    type: gpu_model_server
    replicas: 4
    gpu: {kind: a10g, launch_ms: 0.1}
    model: {parameters: 2e10, precision: fp16}
connections:
  - {from: api, to: ann}
  - {from: api, to: ranker, items: 100, bytes_per_item: 400}
"""


def _wired(extra: str = ""):
    return load_pattern_text(_BASE + extra, "wired.yaml")


def test_peak_qps_from_daily_users():
    r = analyse(_wired())
    qps = 2e6 * 20 / 86_400 * 3
    assert r.components["api"].calls_per_s == pytest.approx(qps, rel=1e-12)
    assert r.figure("ml.traffic.peak_qps").value == pytest.approx(qps, rel=1e-12)
    assert r.ml[0].key == "traffic" and r.ml[0].component is None


def test_flat_index_memory_drives_shards_and_service():
    r = analyse(_wired())
    # flat: 1e9 × 128 × 4 B = 512 GB; a 128 GB node at 70 % usable → ⌈512 / 89.6⌉ = 6 shards
    assert r.figure("ml.index:ann.total_gb").value == pytest.approx(512.0, rel=1e-9)
    assert r.components["ann"].shards == r.figure("ml.index:ann.shards").value == math.ceil(512 / (128 * 0.7)) == 6
    assert r.components["ann"].service_ms == pytest.approx(r.figure("ml.index:ann.time_ms_per_shard").value)
    assert r.components["ann"].figures["shards"].note.startswith("the flat index")
    scan = r.figure("ml.index:ann.brute_force_time_ms_per_shard").value
    assert scan > 0


def test_model_parallel_multiplies_nodes_and_gpu_price_from_catalog():
    r = analyse(_wired())
    # 2e10 × 2 B = 40 GB on a 24 GB A10G at 90 % usable → ⌈40 / 21.6⌉ = 2 GPUs per replica
    assert r.figure("ml.model:ranker.shards").value == 2
    ranker = r.components["ranker"]
    assert ranker.nodes == ranker.shards * ranker.replicas * 2
    assert ranker.figures["cost_usd_month"].inputs[1].value == pytest.approx(1.006)
    assert "GPU catalog a10g" in ranker.figures["cost_usd_month"].note


def test_network_counts_bytes_per_item():
    r = analyse(_wired())
    lam = r.components["ranker"].calls_per_s
    assert r.components["ranker"].network_mb_s == pytest.approx(lam * (1000 + 100 * 400) / 1e6, rel=1e-12)


def test_ml_blocks_add_their_costs_to_the_totals():
    extra = """
ml:
  training: {events_per_day: 1e9, bytes_per_event: 500, retention_days: 30, per_example_ms: 0.001, gpus: 8,
             every_hours: 24}
  logging: {events_per_day: 1e9}
  drift: {features: 200}
  precompute: {users: dau, predictions_per_user: 100, per_prediction_ms: 1, workers: 20, refresh_hours: 24}
  streaming_features: {window_s: 60}
  ranker_features: {ranker: ranker, candidates: 100, features_per_candidate: 200}
"""
    r = analyse(_wired(extra))
    keys = [s.key for s in r.ml]
    assert keys[0] == "traffic" and keys[-6:] == ["training", "precompute", "ranker_features", "streaming_features",
                                                  "logging", "drift"]
    ml_costs = r.totals.figures["ml_cost_usd_month"].inputs
    assert {i.name for i in ml_costs} == {"ml: training", "ml: precompute", "ml: logging", "ml: drift"}
    assert r.totals.ml_cost_usd_month == pytest.approx(sum(i.value for i in ml_costs), rel=1e-12)
    # beside the total, not in it: the total sums the components only (a job drawn as a component too
    # would otherwise be billed twice)
    components = sum(c.cost_usd_month for c in r.components.values())
    assert r.totals.cost_usd_month == pytest.approx(components, rel=1e-12)
    assert not any(i.name.startswith("ml: ") for i in r.totals.figures["cost_usd_month"].inputs)
    # 30 days × 1e9 events × 1 µs GPU each = 30,000 GPU-s ≈ 8.33 GPU-h per run
    assert r.figure("ml.training.gpu_hours").value == pytest.approx(30e9 * 0.001e-3 / 3600, rel=1e-9)
    assert r.staleness_curve and all(p.cost_usd_month > 0 for p in r.staleness_curve)
    # ranker features reach the ranker's network in: 100 × 200 × 4 B per request
    net = r.components["ranker"].figures["network_mb_s"]
    assert any(i.name == "from ranker features" and "80,000 B" in i.unit for i in net.inputs), net.inputs
    data = r.to_dict()
    assert [s["key"] for s in data["ml"]] == keys
    assert data["staleness_curve"][0]["refresh_hours"] == r.staleness_curve[0].refresh_hours
    _all_finite(data)


def _all_finite(obj) -> None:
    if isinstance(obj, float):
        assert math.isfinite(obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            _all_finite(v)
    elif isinstance(obj, list):
        for v in obj:
            _all_finite(v)


@pytest.mark.parametrize("mode", ["provisioned", "autosize"])
@pytest.mark.parametrize("dau,vectors", [(1000, 1e6), (1e9, 1e10), (2e6, 1e9)])
def test_no_nan_or_inf_across_the_ranges(mode, dau, vectors):
    r = analyse(_wired(), {"dau": dau, "vectors": vectors}, mode)
    _all_finite(r.to_dict())


# --------------------------------------------------------------------------- the five demonstrations

def _builtin(name: str):
    from explorer.model.loader import ARCHITECTURES_DIR, load_pattern
    return load_pattern(ARCHITECTURES_DIR / f"{name}.yaml")


def test_news_feed_peak_qps_comes_from_dau():
    rp = _builtin("news_feed")
    assert "peak_qps" not in {q.name for q in rp.pattern.parameters}
    r = analyse(rp, {"dau": 1e9, "feed_loads_per_user": 4})
    assert r.components["api"].calls_per_s == pytest.approx(1e9 * 4 / 86_400 * 3, rel=1e-12)
    assert r.figure("ml.traffic.peak_qps").value == pytest.approx(138_888.888889, rel=1e-9)


def test_ann_index_memory_sets_shards_and_top_k_sets_service():
    rp = _builtin("ann_index_sharding")
    r = analyse(rp, {"num_vectors": 1e9, "embedding_dim": 128, "hnsw_m": 32})
    # HNSW: 128 × 4 + 2 × 32 × 4 = 768 B per vector → 768 GB over 128 GB × 0.7 nodes → ⌈8.57⌉ = 9 shards
    assert r.figure("ml.index:ann.total_gb").value == pytest.approx(768.0, rel=1e-9)
    assert r.components["ann"].shards == 9
    small, large = (analyse(rp, {"top_k": k}).components["ann"].service_ms for k in (10, 5000))
    assert large > 100 * small


def test_continual_learning_cadence_moves_model_age():
    rp = _builtin("continual_learning")
    fast, slow = (analyse(rp, {"retrain_every_hours": h}) for h in (0.25, 168))
    assert fast.figure("ml.training.model_age_mean_hours").value < 1
    assert slow.figure("ml.training.model_age_mean_hours").value > 84
    assert "ml: training" in {i.name for i in fast.totals.figures["ml_cost_usd_month"].inputs}


def test_batch_vs_online_refresh_moves_staleness_and_cost():
    rp = _builtin("batch_vs_online_prediction")
    hourly, weekly = (analyse(rp, {"refresh_hours": h}) for h in (1, 168))
    assert hourly.figure("ml.precompute.staleness_mean_hours").value < 1
    assert weekly.figure("ml.precompute.staleness_mean_hours").value > 84
    assert hourly.figure("ml.precompute.cost_usd_month").value > weekly.figure("ml.precompute.cost_usd_month").value
    assert [p.refresh_hours for p in hourly.staleness_curve] == sorted(p.refresh_hours for p in hourly.staleness_curve)
    assert hourly.figure("ml.precompute.coverage").value == pytest.approx(0.95)


def test_gpu_model_parameters_split_the_model_over_gpus():
    rp = _builtin("gpu_model_serving")
    small, huge = (analyse(rp, {"model_parameters": p}) for p in (1e6, 1e11))
    assert small.figure("ml.model:gpu_ranker.shards").value == 1
    # 1e11 × 2 B = 200 GB over 24 GB × 0.9 → ⌈9.26⌉ = 10 GPUs per replica
    assert huge.figure("ml.model:gpu_ranker.shards").value == 10
    assert huge.components["gpu_ranker"].nodes == 10 * small.components["gpu_ranker"].nodes


@pytest.mark.parametrize("pattern_id", ["news_feed", "ad_click_prediction", "video_recommendation"])
def test_ranker_feature_link_load_spreads_over_the_rankers_hosts(pattern_id):
    """The feature bytes into the ranker arrive over every ranker host's link, not one: the link utilisation
    uses the sized ranker's node count (it read 22 — 2,200% of one link — for the news feed before)."""
    r = analyse(_builtin(pattern_id))
    section = next(s for s in r.ml if s.key == "ranker_features")
    util = section.figures["link_utilization"]
    hosts = next(i.value for i in util.inputs if i.name == "hosts")
    assert hosts == r.components[section.component].nodes > 1
    assert 0 < util.value < 1


def test_a_model_split_over_gpus_counts_every_gpu_in_the_headline():
    """When the model spans several GPUs per replica, the GPU figure a user reads equals the GPU nodes
    (it showed the replica count, a tenth of the GPUs, for a model split over ten)."""
    from explorer.study import present

    r = analyse(_builtin("gpu_model_serving"), {"peak_qps": 1_000_000, "model_parameters": 1e11}, "autosize")
    section = next(s for s in r.ml if s.key == "gpu:gpu_ranker")
    span = r.figure("ml.model:gpu_ranker.shards").value
    assert span > 1
    assert section.figures["gpus_total"].value == section.figures["gpus_needed"].value * span
    assert section.figures["gpus_total"].value == r.components["gpu_ranker"].nodes == r.totals.gpu_replicas
    metric = next(m for m in present.ml_headline(r) if m.key == "ml_gpu:gpu_ranker")
    assert metric.value == present.figure_text(section.figures["gpus_total"])
