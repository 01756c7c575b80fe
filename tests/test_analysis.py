"""The capacity analysis over every pattern file, plus properties over the slider ranges."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.engine import queueing
from explorer.engine.analysis import analyse
from explorer.errors import ScenarioError
from explorer.model.loader import ARCHITECTURES_DIR, load_pattern, load_pattern_text
from tests import patterns
from tests.generated import generated_pattern

PATHS, IDS = patterns.PATHS, patterns.IDS
TWO_STAGE = load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml")


def _finite_or_none(x):
    return x is None or (isinstance(x, (int, float)) and math.isfinite(x))


def _traffic_param(rp):
    return next((q for q in rp.pattern.parameters if q.role == "traffic"), None)


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_every_pattern_analyses_with_traces(path: Path):
    rp = load_pattern(path)
    for mode in ("provisioned", "autosize"):
        r = analyse(rp, mode=mode)
        data = r.to_dict()
        json.dumps(data, allow_nan=False)  # no NaN or inf anywhere
        for c in r.components.values():
            assert _finite_or_none(c.p99_ms) and _finite_or_none(c.mean_ms)
            assert math.isfinite(c.cost_usd_month) and c.cost_usd_month >= 0
            if c.status != "external":
                for key in ("calls_per_s", "service_ms", "utilization", "p99_ms", "replicas", "cost_usd_month"):
                    fig = c.figures[key]
                    assert fig.formula, (c.id, key)
                    assert fig.explain().startswith(fig.label)
                assert c.figures["utilization"].inputs, c.id
            if c.saturated:
                assert c.p99_ms is None and c.status == "saturated"
        if r.end_to_end is not None and not r.end_to_end.saturated:
            e = r.end_to_end
            assert e.p50_ms <= e.p99_ms and e.mean_ms > 0
            assert e.critical_path[0] == rp.pattern.request.entry
            assert e.figures["p99_ms"].inputs


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_pushing_traffic_saturates_and_reports_it(path: Path):
    rp = load_pattern(path)
    q = _traffic_param(rp)
    if q is None:
        pytest.skip(f"{rp.id} declares no traffic parameter")  # offline patterns are covered by the library test
    r = analyse(rp, {q.name: q.max})
    statuses = {c.status for c in r.components.values()}
    assert statuses & {"hot", "saturated"}, f"{rp.id}: nothing hot at {q.name}={q.max}"
    if "saturated" in statuses:
        assert r.bottlenecks and r.bottlenecks[0].status == "saturated"
        if r.end_to_end is not None and any(c.saturated and c.on_request_path for c in r.components.values()):
            assert r.end_to_end.saturated and r.end_to_end.p99_ms is None
            assert not r.end_to_end.meets_target


def test_two_stage_defaults_are_healthy():
    r = analyse(TWO_STAGE)
    assert r.healthy, [(c.id, c.status) for c in r.components.values()]
    assert r.end_to_end.meets_target
    assert r.totals.gpu_replicas == 96  # one server per GPU: the two model instances share it (defect 1)


def test_traffic_propagates_through_fanout():
    r = analyse(TWO_STAGE, {"peak_qps": 1000, "candidates": 800})
    assert r.components["api"].calls_per_s == pytest.approx(1000)
    assert r.components["ranker"].items_per_call == pytest.approx(800)
    ranker = r.components["ranker"]
    assert ranker.service_ms == pytest.approx(1.0 + 0.0027 * 800)
    # impressions logged asynchronously: one call per request carrying `results` items
    assert r.components["event_log"].items_per_s == pytest.approx(1000 * 25)


def test_fractional_calls_scale_traffic():
    rp = load_pattern(ARCHITECTURES_DIR / "batch_vs_online_prediction.yaml")
    r = analyse(rp, {"peak_qps": 10000, "miss_rate": 0.2})
    assert r.components["online_model"].calls_per_s == pytest.approx(2000)
    lo = analyse(rp, {"miss_rate": 0.0}).end_to_end
    hi = analyse(rp, {"miss_rate": 1.0}).end_to_end
    assert hi.mean_ms > lo.mean_ms and hi.p99_ms > lo.p99_ms


def test_data_size_moves_shards_latency_and_cost():
    small = analyse(TWO_STAGE, {"num_items": 1e8})
    big = analyse(TWO_STAGE, {"num_items": 1e10})
    assert big.components["ann"].shards > small.components["ann"].shards > 0
    assert big.totals.cost_usd_month > small.totals.cost_usd_month
    assert big.end_to_end.p99_ms > small.end_to_end.p99_ms  # wider scatter-gather → longer tail
    assert big.components["ann"].figures["shards"].inputs[0].value == pytest.approx(
        1e10 * (128 * 4 + 64) / 1e9)


def test_autosize_meets_targets_with_fewer_or_equal_gpus():
    r = analyse(TWO_STAGE, {"peak_qps": 200000}, mode="autosize")
    assert r.end_to_end is not None and not r.end_to_end.saturated
    assert all(c.status in ("ok", "external", "idle") for c in r.components.values())
    assert r.end_to_end.meets_target
    for c in r.components.values():
        if c.status == "ok":
            assert c.utilization <= r.target_utilization + 1e-9


def test_autosize_infeasible_when_budget_below_service_time():
    r = analyse(TWO_STAGE, {"latency_target_ms": 20, "candidates": 5000}, mode="autosize")
    assert any(c.status == "infeasible" for c in r.components.values())
    assert any(b.status == "infeasible" for b in r.bottlenecks)


def test_end_to_end_matches_a_hand_composition():
    """A chain api → model with one step: e2e = S_api ⊕ rtt ⊕ T_model, compared with an independent Monte Carlo."""
    text = """
id: chain
title: Chain
parameters:
  - {name: qps, label: QPS, default: 500, min: 1, max: 5000, source: "assumption: test"}
request: {entry: a, peak_qps: qps, latency_target_ms: 100}
components:
  - {id: a, type: api_service, replicas: 1}
  - {id: b, type: cpu_model_server, replicas: 1}
connections:
  - {from: a, to: b, items: 10}
"""
    rp = load_pattern_text(text, "chain.yaml")
    r = analyse(rp)
    a, b = r.components["a"], r.components["b"]
    sa = queueing.station(a.calls_per_s, a.service_ms, a.servers_per_shard)
    sb = queueing.station(b.calls_per_s, b.service_ms, b.servers_per_shard)
    rng = np.random.default_rng(1)
    n = 400_000

    def sample(fig):
        # exact M/M/c response: wait ~ C·Exp(cμ−λ), service ~ Exp(μ)
        mu = 1000 / fig.service_ms
        wait = rng.random(n) < fig.p_wait
        rate = fig.servers * mu - fig.arrival_rate_per_s
        return np.where(wait, rng.exponential(1000 / rate, n), 0.0) + rng.exponential(fig.service_ms, n)

    total = sample(sa) + sample(sb) + 0.5
    assert r.end_to_end.mean_ms == pytest.approx(total.mean(), rel=0.02)
    assert r.end_to_end.p99_ms == pytest.approx(np.quantile(total, 0.99), rel=0.03)
    # the popular shortcut (sum of p99s) overestimates
    assert a.p99_ms + b.p99_ms + 0.5 > r.end_to_end.p99_ms


def test_unknown_mode_and_values_raise_scenario_errors():
    with pytest.raises(ScenarioError, match="mode 'fast'"):
        analyse(TWO_STAGE, mode="fast")
    with pytest.raises(ScenarioError, match="outside its range"):
        analyse(TWO_STAGE, {"peak_qps": 1e12})


def test_feedback_loops_do_not_amplify_traffic():
    rp = generated_pattern(300, seed=3)
    r = analyse(rp)
    assert all(math.isfinite(c.calls_per_s) for c in r.components.values())
    assert r.components["c0"].calls_per_s == pytest.approx(1000)


def test_generated_large_pattern_analyses():
    rp = generated_pattern(2000)
    r = analyse(rp)
    assert len(r.components) == 2000
    assert r.end_to_end is not None


def test_output_is_deterministic():
    a = json.dumps(analyse(TWO_STAGE, {"peak_qps": 33333}).to_dict(), sort_keys=True)
    b = json.dumps(analyse(TWO_STAGE, {"peak_qps": 33333}).to_dict(), sort_keys=True)
    assert a == b


def _log_values(q, n):
    return [q.min * (q.max / q.min) ** (i / (n - 1)) for i in range(n)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(IDS), st.floats(0, 1), st.floats(0, 1))
def test_more_traffic_never_means_fewer_replicas_or_lower_utilisation(pattern_id, x, y):
    rp = load_pattern(ARCHITECTURES_DIR / f"{pattern_id}.yaml")
    q = _traffic_param(rp)
    if q is None:
        return
    lo_x, hi_x = sorted((x, y))
    span = (lambda t: q.min * (q.max / q.min) ** t) if q.scale == "log" else (lambda t: q.min + (q.max - q.min) * t)
    lo, hi = span(lo_x), span(hi_x)
    if q.integer:  # an integer parameter takes whole numbers only
        lo, hi = round(lo), round(hi)
    r_lo = analyse(rp, {q.name: lo}, mode="autosize")
    r_hi = analyse(rp, {q.name: hi}, mode="autosize")
    p_lo = analyse(rp, {q.name: lo})
    p_hi = analyse(rp, {q.name: hi})
    for cid, c_lo in r_lo.components.items():
        c_hi = r_hi.components[cid]
        if c_lo.replicas_recommended is not None and c_hi.replicas_recommended is not None:
            assert c_hi.replicas_recommended >= c_lo.replicas_recommended, cid
        assert p_hi.components[cid].utilization >= p_lo.components[cid].utilization - 1e-12, cid
    json.dumps(p_hi.to_dict(), allow_nan=False)
    if p_lo.end_to_end and p_hi.end_to_end and p_hi.end_to_end.p99_ms is not None and p_lo.end_to_end.p99_ms:
        assert p_hi.end_to_end.p99_ms >= p_lo.end_to_end.p99_ms * 0.995


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(IDS), st.data())
def test_any_scenario_in_range_analyses_without_nan(pattern_id, data):
    rp = load_pattern(ARCHITECTURES_DIR / f"{pattern_id}.yaml")
    values = {}
    for q in rp.pattern.parameters:
        t = data.draw(st.floats(0, 1))
        v = q.min * (q.max / q.min) ** t if q.scale == "log" else q.min + (q.max - q.min) * t
        v = min(max(v, q.min), q.max)
        values[q.name] = min(max(round(v), q.min), q.max) if q.integer else v
    mode = data.draw(st.sampled_from(["provisioned", "autosize"]))
    r = analyse(rp, values, mode)
    json.dumps(r.to_dict(), allow_nan=False)


def test_components_only_batch_jobs_use_are_billed_for_their_window():
    r = analyse(TWO_STAGE)
    c = r.components["training_data"]  # reached only by the daily 4-hour rebuild
    fig = c.figures["cost_usd_month"]
    hours = next(i.value for i in fig.inputs if i.name == "hours billed")
    assert hours == pytest.approx(730 * 4 / 24)
    assert c.cost_usd_month == pytest.approx(c.nodes * 0.768 * hours)
    assert next(i.value for i in r.components["ranker"].figures["cost_usd_month"].inputs
                if i.name == "hours billed") == 730


def test_a_request_path_deeper_than_the_recursion_limit():
    from explorer.model.loader import resolve
    from explorer.model.yamlio import Located
    n = 1500
    data = {
        "id": "deep", "title": "Deep chain",
        "parameters": [{"name": "qps", "label": "QPS", "default": 10, "min": 1, "max": 100, "source": "assumption: test"}],
        "request": {"entry": "c0", "peak_qps": "qps", "latency_target_ms": 1e6},
        "components": [{"id": f"c{i}", "type": "cpu_model_server", "replicas": 1} for i in range(n)],
        "connections": [{"from": f"c{i}", "to": f"c{i + 1}"} for i in range(n - 1)],
    }
    r = analyse(resolve(Located(data, "deep.yaml", {})))
    e = r.end_to_end
    assert len(e.critical_path) == n
    # sum of n near-identical stations: the mean adds up exactly
    expected = sum(c.mean_ms for c in r.components.values()) + 0.5 * (n - 1)
    assert e.mean_ms == pytest.approx(expected, rel=0.01)


def test_traffic_streams_are_independent_of_the_request_rate():
    rp = load_pattern(ARCHITECTURES_DIR / "news_feed.yaml")
    a = analyse(rp, {"dau": 700_000_000})
    b = analyse(rp, {"dau": 3_000_000_000})
    posts = rp.defaults()["posts_per_day"] / 86400 * 3
    assert a.components["fanout"].calls_per_s == pytest.approx(posts)
    assert b.components["fanout"].calls_per_s == pytest.approx(posts)
    assert rp.graph.nodes["fanout"]["tier"] == "nearline"


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_lattice_resolution_does_not_move_the_answer(path, monkeypatch):
    import explorer.engine.analysis as A
    rp = load_pattern(path)
    base = analyse(rp).end_to_end
    if base is None or base.saturated:
        return
    monkeypatch.setattr(A, "LATTICE_POINTS", 8192)
    fine = analyse(rp).end_to_end
    assert base.p99_ms == pytest.approx(fine.p99_ms, rel=1e-3)
    assert base.mean_ms == pytest.approx(fine.mean_ms, rel=1e-3)


def test_simultaneous_calls_to_one_pool_are_flagged():
    text = """
id: burst
title: Burst
parameters:
  - {name: qps, label: QPS, default: 100, min: 1, max: 1000, source: "assumption: test"}
request: {entry: a, peak_qps: qps, latency_target_ms: 100}
components:
  - {id: a, type: api_service, replicas: 2}
  - {id: b, type: kv_store, replicas: 2}
connections:
  - {from: a, to: b, calls: 20}
"""
    r = analyse(load_pattern_text(text, "burst.yaml"))
    assert any("20 calls at once" in w and "lower bound" in w for w in r.warnings)
    assert r.components["b"].calls_per_s == pytest.approx(2000)
