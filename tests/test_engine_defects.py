"""Engine numbers that were wrong: each test names the defect and failed before its fix.

* multi-key reads over a key-sharded store touch S·(1 − (1 − 1/S)^k) shards and wait for the slowest;
* latency budgets weigh each stage by how often it runs per request; a stage that only missed its share
  while the end-to-end target is met is not infeasible;
* past the sizing search's cap, auto-size reports what the load needs (a lower bound) and its cost;
* batch-only pools are billed for the windows of the jobs that run through them;
* advice for a stage made slow by k sequential calls says to batch them or run them in parallel.
"""

from __future__ import annotations

import math

import pytest

from explorer.engine import queueing
from explorer.engine.analysis import analyse
from explorer.engine.report import Status
from explorer.engine.sizing import touched_shards
from explorer.model.loader import ARCHITECTURES_DIR, load_pattern, load_pattern_text
from explorer.units import fmt


def _load(pattern_id: str):
    return load_pattern(ARCHITECTURES_DIR / f"{pattern_id}.yaml")


# --- multi-key reads over shards ---------------------------------------------------------------

@pytest.mark.parametrize(("shards", "keys", "expected"), [
    (1, 500, 1.0), (10, 1, 1.0), (2, 2, 1.5), (4, 2, 1.75), (257, 500, 257 * (1 - (256 / 257) ** 500)),
])
def test_touched_shards_closed_form(shards, keys, expected):
    assert touched_shards(shards, keys) == pytest.approx(expected, rel=1e-12)


def test_touched_shards_rises_with_keys_and_never_passes_the_shard_count():
    values = [touched_shards(64, k) for k in (1, 2, 5, 50, 500, 5000)]
    assert values == sorted(values) and values[-1] <= 64 and values[0] == 1.0


def test_a_500_key_read_spreads_over_the_shards_it_touches():
    r = analyse(_load("two_stage_recommender"), {"num_items": 1e10}, "autosize")
    c = r.components["item_features"]
    S = c.shards
    touched = S * (1 - (1 - 1 / S) ** 500)
    f = c.figures["shards_per_call"]
    assert f.value == pytest.approx(touched, rel=1e-9)
    # every request call lands on `touched` shards (batch calls of 1,000 keys on theirs), not on one shard
    req = 20000 * touched / S
    assert c.arrival_per_shard_per_s > req
    assert c.arrival_per_shard_per_s == pytest.approx(req + 20000 / 28.8 * touched_shards(S, 1000) / S, rel=1e-9)
    assert 15_000 < c.arrival_per_shard_per_s < 20_000          # was 81 calls/s per shard
    assert c.service_ms == pytest.approx(1.0 + 0.01 * 500 * 20000 / (20000 * touched + 694.444 * touched_shards(S, 1000))
                                         + 0.01 * 1000 * 694.444 / (20000 * touched + 694.444 * touched_shards(S, 1000)),
                                         rel=1e-4)
    assert c.replicas >= 4                                        # was 2
    stage = next(s for s in r.end_to_end.stages if s.component == "item_features")
    assert stage.fanout == pytest.approx(touched, rel=1e-9)
    assert "max of" in r.end_to_end.figures["p99_ms"].formula


def test_the_slowest_of_the_touched_shards_sets_the_stage_latency():
    r = analyse(_load("two_stage_recommender"), {"num_items": 1e10}, "autosize")
    c = r.components["item_features"]
    stage = next(s for s in r.end_to_end.stages if s.component == "item_features")
    assert stage.p99_ms > c.p99_ms                                # max over ~220 shards, not one station


def test_single_key_reads_still_hit_one_shard():
    r = analyse(_load("two_stage_recommender"), {"num_items": 1e10}, "autosize")
    u = r.components["user_features"]
    assert u.shards > 1 and "shards_per_call" not in u.figures
    assert u.arrival_per_shard_per_s == pytest.approx(u.calls_per_s / u.shards, rel=1e-12)


# --- latency budgets by how often a stage runs ------------------------------------------------

def test_a_fallback_that_never_runs_does_not_make_the_api_infeasible():
    r = analyse(_load("batch_vs_online_prediction"), {"miss_rate": 0.0}, "autosize")
    assert r.end_to_end.meets_target
    assert r.components["api"].status == Status.OK
    assert r.components["api"].budget_ms > 40                    # was 8.3 ms: the unused fallback took a share
    assert not [b for b in r.bottlenecks if b.status == Status.INFEASIBLE]


def test_a_rare_stage_leaves_its_callers_most_of_the_budget():
    rp = _load("batch_vs_online_prediction")
    rare = analyse(rp, {"miss_rate": 0.05}, "autosize").components["api"].budget_ms
    always = analyse(rp, {"miss_rate": 1.0}, "autosize").components["api"].budget_ms
    assert rare > 30 and rare > always * 1.5                      # was 8.3 ms whatever the miss rate


# every pattern × parameter extreme where a stage was marked infeasible while end to end met the target
SHARE_ONLY = [
    ("batch_vs_online_prediction", {"miss_rate": 0.0}),
    ("batch_vs_online_prediction", {"peak_qps": 100.0}),
    ("batch_vs_online_prediction", {"users": 3e9}),
    ("batch_vs_online_prediction", {"features_per_request": 1000.0}),
    ("news_feed", {"candidates": 5000.0}),
    ("safe_rollout", {"candidates": 5000.0}),
    ("streaming_features", {"write_batch": 10000.0}),
]


@pytest.mark.parametrize(("pattern_id", "values"), SHARE_ONLY, ids=[f"{p}-{v}" for p, v in SHARE_ONLY])
def test_no_stage_is_infeasible_when_end_to_end_meets_the_target(pattern_id, values):
    r = analyse(_load(pattern_id), values, "autosize")
    assert r.end_to_end.meets_target
    bad = [c.id for c in r.components.values() if c.status == Status.INFEASIBLE]
    assert not bad
    for c in r.components.values():
        if c.on_request_path and c.calls_per_s > 0 and c.category != "client":
            assert c.replicas_recommended is not None and c.replicas_recommended >= 1


def test_a_stage_infeasible_when_the_target_is_missed_stays_infeasible():
    r = analyse(_load("batch_vs_online_prediction"), {"latency_target_ms": 5.0}, "autosize")
    assert not r.end_to_end.meets_target
    assert any(c.status == Status.INFEASIBLE for c in r.components.values())


def test_no_reason_or_advice_ends_in_two_full_stops():
    r = analyse(_load("batch_vs_online_prediction"), {"latency_target_ms": 5.0}, "autosize")
    for b in r.bottlenecks:
        assert ".." not in b.reason and not b.reason.endswith(".")
        assert ".." not in b.advice


# --- past the sizing search's cap --------------------------------------------------------------

HUGE = {"peak_qps": 1_000_000, "items_per_request": 10_000, "gpu_us_per_item": 100}


def test_size_servers_gives_a_lower_bound_past_its_cap():
    s = queueing.size_servers(1e6, 1001.0, target_utilization=0.6)
    assert s.infeasible and s.min_servers is None and s.binding == "cap"
    assert s.lower_bound_servers == math.ceil(1e6 * 1.001 / 0.6)
    assert "at least" in s.reason and "more than max_servers" in s.reason


def test_autosize_past_the_cap_runs_and_bills_what_the_load_needs():
    r = analyse(_load("gpu_model_serving"), HUGE, "autosize")
    c = r.components["gpu_ranker"]
    a = c.arrival_per_shard_per_s * c.service_ms / 1000.0
    need = math.ceil(math.ceil(a / 0.6 - 1e-9) / c.concurrency)
    assert c.status == Status.INFEASIBLE
    assert c.replicas == need > 100_000                           # was 1 replica
    assert c.figures["replicas_needed"].value == need
    assert c.cost_usd_month == pytest.approx(need * c.figures["cost_usd_month"].inputs[1].value * 730, rel=1e-9)
    assert c.cost_usd_month > 1e8                                 # was $734/month
    b = next(b for b in r.bottlenecks if b.component == "gpu_ranker")
    assert "at least" in b.reason and "max_servers" in b.reason


def test_provisioned_past_the_cap_says_how_many_replicas_are_needed():
    r = analyse(_load("gpu_model_serving"), HUGE, "provisioned")
    c = r.components["gpu_ranker"]
    assert c.status == Status.SATURATED
    b = next(b for b in r.bottlenecks if b.component == "gpu_ranker")
    assert f"at least {c.figures['replicas_needed'].value:,}" in b.advice


# --- batch-only pools billed for the windows of the jobs that run through them ----------------

@pytest.mark.parametrize(("pattern_id", "cid", "main_share", "push_share"), [
    ("people_you_may_know", "scorer", 6 / 24, 24 / 168),          # nightly scoring; weekly training deploys a model
    ("street_view_blurring", "detector", 8 / 24, 24 / 168),        # daily blurring; weekly retraining deploys a model
])
def test_a_model_push_does_not_bill_the_whole_pool_for_the_training_window(pattern_id, cid, main_share, push_share):
    c = analyse(_load(pattern_id)).components[cid]
    hours = c.figures["hours_billed"].value
    assert hours == pytest.approx(730 * (main_share + push_share / c.nodes), rel=1e-9)
    assert hours < 730 * (main_share + push_share) * 0.8          # was window ÷ schedule of both jobs (+43–57%)


def test_a_pool_one_job_uses_is_billed_for_that_job_s_window():
    c = analyse(_load("people_you_may_know")).components["trainer"]
    assert c.figures["hours_billed"].value == pytest.approx(730 * 24 / 168, rel=1e-12)


# --- advice for sequential fan-out --------------------------------------------------------------

SEQUENTIAL = """
id: sequential_reads
title: Sequential reads
parameters:
  - {name: peak_qps, label: QPS, default: 1000, min: 1, max: 100000, source: "assumption: test"}
  - {name: reads, label: Reads, default: 500, min: 1, max: 1000, source: "assumption: test"}
request: {entry: api, peak_qps: peak_qps, latency_target_ms: 50}
components:
  - {id: client, type: client}
  - {id: api, type: api_service, replicas: 4}
  - {id: redis, type: kv_store, replicas: 20}
connections:
  - {from: client, to: api}
  - {from: api, to: redis, calls: reads, fanout: "FANOUT", label: "GET one key"}
"""


def _sequential(fanout: str):
    return load_pattern_text(SEQUENTIAL.replace("FANOUT", fanout), "sequential_reads.yaml")


def test_advice_for_sequential_reads_says_batch_or_parallelise_with_the_figure():
    r = analyse(_sequential("sequential"))
    assert not r.end_to_end.meets_target
    b = next(b for b in r.bottlenecks if b.status == Status.SLOW)
    assert b.component == "redis"                                  # the calls, not the API (or the store's p99)
    assert "500 sequential calls" in b.reason
    assert "batch the 500 reads (multi-get) or run them in parallel" in b.advice
    f = r.end_to_end.figures["if_parallel_ms"]
    parallel = analyse(_sequential("parallel")).end_to_end.target_percentile_ms
    assert f.value == pytest.approx(parallel, rel=1e-9)           # the same composition with max×500
    assert f"{f.value:.3g}" in b.advice or fmt(f.value) in b.advice
    assert f.value < r.end_to_end.target_ms < r.end_to_end.target_percentile_ms


def test_no_sequential_advice_when_the_target_is_met():
    r = analyse(_sequential("sequential"), {"reads": 2})
    assert r.end_to_end.meets_target and "if_parallel_ms" not in r.end_to_end.figures
