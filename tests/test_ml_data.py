"""Traffic, training, batch-vs-online, features and logging calculators: closed forms and properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.engine.ml import batch_online, features, logs, traffic, training

HOURS = st.floats(min_value=0.01, max_value=10_000.0, allow_nan=False)
NONNEG_HOURS = st.floats(min_value=0.0, max_value=10_000.0, allow_nan=False)


# --------------------------------------------------------------------------- traffic


def test_news_feed_dau_to_qps():
    t = traffic.traffic_from_users(dau=2e9, requests_per_user_per_day=2, peak_to_average=3)
    assert t.requests_per_day == 4e9
    assert t.average_qps == pytest.approx(46_296.3, rel=1e-5)
    assert t.peak_qps == pytest.approx(3 * 46_296.3, rel=1e-5)
    assert traffic.traffic_from_users(2e9, 2).peak_qps == pytest.approx(t.peak_qps)  # 3× is the default


@settings(max_examples=200, deadline=None)
@given(dau=st.floats(min_value=0, max_value=1e10), more=st.floats(min_value=0, max_value=1e10),
       per_user=st.floats(min_value=0, max_value=1e3), ratio=st.floats(min_value=1, max_value=20))
def test_more_users_never_less_traffic(dau, more, per_user, ratio):
    a = traffic.traffic_from_users(dau, per_user, ratio)
    b = traffic.traffic_from_users(dau + more, per_user, ratio)
    assert b.peak_qps >= a.peak_qps >= a.average_qps >= 0


# --------------------------------------------------------------------------- training


def test_dataset_size_closed_form():
    d = training.dataset_size(4e9, 500, 30)
    assert (d.gb_per_day, d.total_gb, d.examples) == (2000.0, 60000.0, 1.2e11)


def test_training_run_by_flops_and_by_measured_time():
    t = training.training_run(1e9, 1, flops_per_example=6e9, gpu_flops=312e12, mfu=0.4, gpus=8,
                              gpu_price_per_hour=4.10)
    gpu_s = 1e9 * 6e9 / (312e12 * 0.4)
    assert t.gpu_hours == pytest.approx(gpu_s / 3600)
    assert t.wall_clock_hours == pytest.approx(gpu_s / 3600 / 8)
    assert t.cost_usd == pytest.approx(gpu_s / 3600 * 4.10)
    m = training.training_run(3.6e9, 2, per_example_ms=0.5, gpus=4, gpu_price_per_hour=1.0)
    assert m.gpu_hours == pytest.approx(3.6e9 * 2 * 0.5 / 1e3 / 3600) == pytest.approx(1000.0)
    assert m.wall_clock_hours == pytest.approx(250.0) and m.cost_usd == pytest.approx(1000.0)


def test_retraining_model_age_and_cost():
    r = training.retraining(cadence_hours=24, run_hours=3, deploy_hours=1, cost_per_run_usd=120, label_delay_hours=2)
    assert r.model_age_mean_hours == 12 + 3 + 1 + 2
    assert r.model_age_max_hours == 24 + 3 + 1 + 2
    assert r.runs_per_month == pytest.approx(730 / 24)
    assert r.cost_usd_month == pytest.approx(730 / 24 * 120)
    assert not r.overlapping and training.retraining(2, 3, 0, 1).overlapping


@settings(max_examples=200, deadline=None)
@given(cadence=HOURS, longer=st.floats(min_value=0, max_value=1e4), run=NONNEG_HOURS, deploy=NONNEG_HOURS,
       cost=st.floats(min_value=0, max_value=1e6), delay=NONNEG_HOURS)
def test_longer_cadence_older_model_and_no_higher_cost(cadence, longer, run, deploy, cost, delay):
    a = training.retraining(cadence, run, deploy, cost, delay)
    b = training.retraining(cadence + longer, run, deploy, cost, delay)
    assert b.model_age_mean_hours >= a.model_age_mean_hours
    assert b.model_age_max_hours >= a.model_age_max_hours >= a.model_age_mean_hours
    assert b.cost_usd_month <= a.cost_usd_month * (1 + 1e-12)


@settings(max_examples=200, deadline=None)
@given(examples=st.floats(min_value=0, max_value=1e12), more=st.floats(min_value=0, max_value=1e12),
       epochs=st.floats(min_value=0.1, max_value=100), flops=st.floats(min_value=1, max_value=1e12),
       gpus=st.integers(1, 4096))
def test_more_examples_never_cheaper_and_more_gpus_never_slower(examples, more, epochs, flops, gpus):
    a = training.training_run(examples, epochs, flops_per_example=flops, gpus=gpus)
    b = training.training_run(examples + more, epochs, flops_per_example=flops, gpus=gpus)
    c = training.training_run(examples, epochs, flops_per_example=flops, gpus=gpus * 2)
    assert b.cost_usd >= a.cost_usd and b.gpu_hours >= a.gpu_hours
    assert c.wall_clock_hours <= a.wall_clock_hours and c.cost_usd == pytest.approx(a.cost_usd)


# --------------------------------------------------------------------------- batch vs online


def test_precompute_closed_form():
    p = batch_online.precompute(users=300e6, predictions_per_user=100, per_prediction_ms=2, workers=200,
                                concurrency_per_worker=8, bytes_per_prediction=16, refresh_hours=24,
                                feature_delay_hours=1, active_share=0.3, traffic_share_in_set=0.95,
                                worker_price_per_hour=0.192, kv_price_per_gb_month=2.0)
    throughput = 200 * 8 * 1000 / 2
    job = 3e10 / throughput / 3600
    assert p.throughput_per_s == throughput
    assert p.job_hours == pytest.approx(job)
    assert p.kv_storage_gb == pytest.approx(480.0)
    assert p.staleness_mean_hours == pytest.approx(12 + job + 1)
    assert p.staleness_max_hours == pytest.approx(24 + job + 1)
    assert p.coverage == 0.95 and p.online_share == pytest.approx(0.05)
    assert p.wasted_share == pytest.approx(0.7)
    assert p.compute_cost_usd_month == pytest.approx(730 / 24 * job * 200 * 0.192)
    assert p.cost_usd_month == pytest.approx(p.compute_cost_usd_month + 480 * 2.0)


def test_a_job_longer_than_the_refresh_runs_back_to_back():
    p = batch_online.precompute(1e6, 10, 1, 1, 1, 8, refresh_hours=1)
    assert not p.fits_interval
    assert p.interval_hours == pytest.approx(p.job_hours)
    assert p.staleness_max_hours == pytest.approx(2 * p.job_hours)


def test_cost_vs_staleness_points_follow_the_refresh_grid():
    pts = batch_online.cost_vs_staleness(300e6, 100, 2, 200, 8, 16)
    assert [p.refresh_hours for p in pts] == list(batch_online.DEFAULT_REFRESH_HOURS)
    single = batch_online.precompute(300e6, 100, 2, 200, 8, 16, 24)
    day = next(p for p in pts if p.refresh_hours == 24)
    assert day.cost_usd_month == single.cost_usd_month
    assert day.staleness_max_hours == single.staleness_max_hours


@settings(max_examples=200, deadline=None)
@given(users=st.floats(min_value=1, max_value=1e10), per_user=st.floats(min_value=1, max_value=1e3),
       ms=st.floats(min_value=0.01, max_value=1e3), workers=st.integers(1, 10_000), conc=st.integers(1, 64),
       size=st.floats(min_value=0, max_value=1e4), delay=NONNEG_HOURS,
       refresh=st.lists(HOURS, min_size=2, max_size=8))
def test_longer_refresh_no_less_staleness_and_no_more_cost(users, per_user, ms, workers, conc, size, delay, refresh):
    pts = batch_online.cost_vs_staleness(users, per_user, ms, workers, conc, size, sorted(refresh),
                                         feature_delay_hours=delay)
    for a, b in zip(pts, pts[1:], strict=False):
        assert b.staleness_max_hours >= a.staleness_max_hours * (1 - 1e-12)
        assert b.staleness_mean_hours >= a.staleness_mean_hours * (1 - 1e-12)
        assert b.cost_usd_month <= a.cost_usd_month * (1 + 1e-9)
    for p in pts:
        assert math.isfinite(p.cost_usd_month) and math.isfinite(p.staleness_max_hours)


# --------------------------------------------------------------------------- features


def test_ranker_payload_closed_form():
    f = features.ranker_feature_payload(500, 200, 4, 10_000, 10)
    assert f.bytes_per_request == 400_000
    assert f.mb_per_s == 4000
    assert f.transfer_ms_per_request == pytest.approx(0.32)
    assert f.link_utilization == pytest.approx(3.2) and f.saturated
    assert not features.ranker_feature_payload(500, 200, 4, 10_000, 10, ranker_hosts=4).saturated


def test_streaming_freshness_closed_form():
    f = features.streaming_freshness(60, 5)
    assert (f.mean_age_s, f.max_age_s) == (35.0, 65.0)
    assert features.streaming_freshness(0, 0).max_age_s == 0


@settings(max_examples=200, deadline=None)
@given(c=st.floats(min_value=0, max_value=1e5), more=st.floats(min_value=0, max_value=1e5),
       f=st.floats(min_value=0, max_value=1e4), qps=st.floats(min_value=0, max_value=1e6),
       window=NONNEG_HOURS, lag=NONNEG_HOURS)
def test_more_candidates_more_bytes_and_longer_windows_older_features(c, more, f, qps, window, lag):
    a = features.ranker_feature_payload(c, f, 4, qps)
    b = features.ranker_feature_payload(c + more, f, 4, qps)
    assert b.bytes_per_request >= a.bytes_per_request and b.transfer_ms_per_request >= a.transfer_ms_per_request
    assert b.saturated >= a.saturated
    x = features.streaming_freshness(window, lag)
    y = features.streaming_freshness(window * 2, lag)
    assert y.max_age_s >= x.max_age_s >= x.mean_age_s >= lag


# --------------------------------------------------------------------------- logs


def test_event_logging_closed_form():
    e = logs.event_logging(4e9, 200, 90)
    assert e.gb_per_day == 800 and e.steady_state_gb == 72_000
    assert e.growth_gb_per_month == pytest.approx(800 * 730 / 24)
    assert e.storage_cost_usd_month == pytest.approx(72_000 * 0.02)
    assert e.events_per_s == pytest.approx(4e9 / 86_400)


def test_label_delay_and_drift_closed_forms():
    d = logs.label_delay(0.5, 1, 0.25, 4.8e9, 200)
    assert (d.mean_hours, d.max_hours) == (1.25, 1.75)
    assert d.pending_gb == pytest.approx(4.8e9 / 24 * 1.75 * 200 / 1e9)
    m = logs.drift_monitoring(1000, 24, 3, 500, cpu_price_per_hour=0.048)
    assert m.checks_per_day == 72_000 and m.cpu_hours_per_day == pytest.approx(10.0)
    assert m.cost_usd_month == pytest.approx(10 * 730 / 24 * 0.048)


@settings(max_examples=200, deadline=None)
@given(events=st.floats(min_value=0, max_value=1e12), size=st.floats(min_value=0, max_value=1e5),
       days=st.floats(min_value=0, max_value=3650), longer=st.floats(min_value=0, max_value=3650))
def test_longer_retention_never_stores_less(events, size, days, longer):
    a = logs.event_logging(events, size, days)
    b = logs.event_logging(events, size, days + longer)
    assert b.steady_state_gb >= a.steady_state_gb and b.storage_cost_usd_month >= a.storage_cost_usd_month
    assert b.growth_gb_per_month == a.growth_gb_per_month
