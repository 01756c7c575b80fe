"""Failures, fallbacks and availability: what-if analyses, the composition of availability along the request
path, single points of failure, retry amplification, the ``--fail`` CLI and the schema rules."""

from __future__ import annotations

import json
import math

import pytest

from explorer.cli import main
from explorer.engine.analysis import analyse
from explorer.engine.availability import availability, component_availability, nines
from explorer.engine.failures import what_if
from explorer.errors import PatternError, ScenarioError
from explorer.export import export
from explorer.model.loader import ARCHITECTURES_DIR, load_pattern, load_pattern_text
from explorer.model.whatif import Failure, from_query, parse_failure, parse_failures, to_query

TINY = """\
id: tiny
title: Tiny
parameters:
  - {name: qps, label: QPS, default: 100, min: 1, max: 1000, source: "test value"}
  - {name: hit, label: Hit rate, default: 0.6, min: 0.1, max: 0.99, source: "test value"}
request: {entry: api, peak_qps: qps, latency_target_ms: 200}
components:
  - {id: client, type: client}
  - {id: api, type: api_service, replicas: 3}
  - {id: cache, type: cache, replicas: 1, hit_rate: hit}
  - {id: model, type: cpu_model_server, replicas: 2, zones: 1}
  - {id: popular, type: kv_store, replicas: 2}
connections:
  - {from: client, to: api}
  - {from: api, to: cache, step: 0}
  - {from: api, to: model, step: 1, calls: "1 - hit"}
  - {from: api, to: popular, step: 2}
fallbacks:
  - {component: model, to: popular, quality: "popular items instead of a personal score"}
"""


@pytest.fixture(scope="module")
def video():
    return load_pattern(ARCHITECTURES_DIR / "video_recommendation.yaml")


@pytest.fixture(scope="module")
def tiny():
    return load_pattern_text(TINY, "tiny.yaml")


# --------------------------------------------------------------------------- the journey

def test_knocking_out_the_ranker_sends_the_traffic_to_popular_items(video):
    base = analyse(video)
    w = what_if(video, None, "provisioned", [Failure(component="scorer")], baseline=base)
    assert w.out == ("scorer",)
    assert w.fallback_share == pytest.approx(1.0)
    assert w.failed_share == pytest.approx(0.0)
    assert w.served_share == pytest.approx(0.0)
    assert [u.to for u in w.fallbacks] == ["lists"] and "popular" in w.fallbacks[0].quality
    assert ("api", "lists", "popular videos (scorer out)") in w.fallback_edges
    # the popular lists take the scorer's calls on top of their own; the scorer and what it calls go quiet
    qps = base.components["api"].calls_per_s
    assert w.report.components["lists"].calls_per_s == pytest.approx(base.components["lists"].calls_per_s + qps)
    assert w.report.components["scorer"].calls_per_s == 0
    edge = next(i for i, cn in enumerate(video.pattern.connections) if (cn.source, cn.target) == ("scorer", "video_features"))
    assert w.report.edges[edge].calls_per_s == 0
    assert w.p99_ms is not None and w.p99_ms < base.end_to_end.p99_ms  # no scoring: faster, worse
    a = availability(video, base)
    assert a.nines is not None and 3 < a.nines < 5
    assert a.components["scorer"].effective > a.components["scorer"].availability


def test_a_request_path_without_a_fallback_fails_when_its_stage_is_down(video):
    w = what_if(video, None, "provisioned", [Failure(component="reranker")])
    assert w.failed_share == pytest.approx(1.0) and w.nines == pytest.approx(0.0)
    w = what_if(video, None, "provisioned", [Failure(component="api")])
    assert w.failed_share == 1.0 and w.p99_ms is None


def test_a_default_values_fallback_answers_without_a_call(video):
    w = what_if(video, None, "provisioned", [Failure(component="user_features")])
    assert w.failed_share == 0 and w.fallback_share == pytest.approx(1.0)
    assert w.fallbacks[0].to is None and w.fallback_edges == ()


def test_a_cold_cache_sends_its_misses_to_what_sits_behind_it(tiny):
    base = analyse(tiny)
    w = what_if(tiny, None, "provisioned", [Failure(component="cache", kind="cold")], baseline=base)
    qps, hit = 100.0, 0.6
    before = base.components["model"].calls_per_s
    after = w.report.components["model"].calls_per_s
    assert before == pytest.approx(qps * (1 - hit))
    assert after == pytest.approx(qps)
    assert after - before == pytest.approx(qps * hit)  # the hits that now miss
    change = next(c for c in w.load_changes if c.component == "model")
    assert change.calls_per_s_after - change.calls_per_s_before == pytest.approx(qps * hit)
    assert w.report.components["model"].utilization > base.components["model"].utilization
    assert w.figures["cache.cold"].value == 0.0


def test_a_cold_query_cache_can_saturate_the_encoder():
    rp = load_pattern(ARCHITECTURES_DIR / "video_search.yaml")
    base = analyse(rp)
    w = what_if(rp, None, "provisioned", parse_failures(rp, ["query_cache=cold"]), baseline=base)
    h = base.values["query_cache_hit"]
    qps = base.components["api"].calls_per_s
    enc = next(c for c in w.load_changes if c.component == "text_encoder")
    assert enc.calls_per_s_before == pytest.approx(qps * (1 - h))
    assert enc.calls_per_s_after == pytest.approx(qps)
    assert "text_encoder" in w.overloaded


@pytest.mark.parametrize("replicas", [2, 3, 7, 40])
def test_losing_a_zone_keeps_replicas_times_one_minus_one_over_z(replicas):
    text = TINY.replace("{id: api, type: api_service, replicas: 3}", f"{{id: api, type: api_service, replicas: {replicas}}}")
    rp = load_pattern_text(text, "tiny.yaml")
    w = what_if(rp, None, "provisioned", [Failure(component="api", kind="zone")])
    z = 3
    assert w.report.components["api"].replicas == math.floor(replicas * (1 - 1 / z))
    assert w.figures["api.zone"].value == replicas - math.ceil(replicas / z)


def test_losing_the_only_zone_is_down(tiny):
    w = what_if(tiny, None, "provisioned", [Failure(component="model", kind="zone")])
    assert w.out == ("model",)
    assert w.fallback_share == pytest.approx(0.4)  # the miss share reaches the model, now served by popular
    assert w.failed_share == pytest.approx(0.0)


def test_a_slow_stage_past_its_deadline_retries_and_multiplies_its_load(video):
    base = analyse(video)
    w = what_if(video, None, "provisioned", [Failure(component="scorer", kind="slow", factor=3)], baseline=base)
    t = next(t for t in w.timeouts if t.target == "scorer")
    assert t.retries == 1
    assert t.amplification == pytest.approx(1 + t.p_timeout)
    edge = next(i for i, cn in enumerate(video.pattern.connections) if (cn.source, cn.target) == ("api", "scorer"))
    assert w.report.edges[edge].calls_per_s == pytest.approx(base.edges[edge].calls_per_s * t.amplification)
    assert "scorer" in w.overloaded
    assert w.fallback_share == pytest.approx(1.0)  # the calls that time out take the popular lists


def test_a_mild_slowdown_within_the_deadline_triggers_no_retries(video):
    w = what_if(video, None, "provisioned", [Failure(component="reranker", kind="slow", factor=1.2)])
    assert w.timeouts == () and w.failed_share == 0 and w.served_share == pytest.approx(1.0)
    assert w.p99_ms > w.p99_before_ms


def test_autosize_keeps_the_baseline_replicas(video):
    base = analyse(video, None, "autosize")
    w = what_if(video, None, "autosize", [Failure(component="ann", kind="zone")], baseline=base)
    r = base.components["ann"].replicas
    assert w.report.components["ann"].replicas == r - math.ceil(r / 3)
    assert w.report.components["api"].replicas == base.components["api"].replicas


# --------------------------------------------------------------------------- availability

def test_availability_composes_as_by_hand(tiny):
    a = availability(tiny, analyse(tiny))
    api = 0.9999  # 3 replicas over 3 zones: min(0.9999, 1 − 0.005³)
    cache = 0.995  # one replica: ElastiCache single-AZ
    model = 0.995  # two replicas in one zone count once
    popular = min(0.9999, 1 - 0.005 ** 2)
    model_eff = 1 - (1 - model) * (1 - popular)
    hit = 0.6
    expect = api * cache * (1 - (1 - hit) * (1 - model_eff)) * popular
    assert a.components["model"].reach == pytest.approx(1 - hit)
    assert a.components["model"].effective == pytest.approx(model_eff)
    assert a.success == pytest.approx(expect, rel=1e-12)
    assert a.full_quality == pytest.approx(api * cache * (1 - (1 - hit) * (1 - model)) * popular, rel=1e-12)
    assert a.nines == pytest.approx(-math.log10(1 - expect))
    assert a.figures["success"].formula.startswith("S = Π")


def test_single_points_of_failure_are_flagged(tiny, video):
    a = availability(tiny, analyse(tiny))
    assert a.spofs == ["cache"]
    assert a.components["cache"].spof_reason == "one replica, no fallback"
    assert not a.components["model"].spof  # one zone, but it has a fallback
    assert availability(video, analyse(video)).spofs == []
    one_zone = TINY.replace("{id: api, type: api_service, replicas: 3}", "{id: api, type: api_service, replicas: 3, zones: 1}")
    a = availability(load_pattern_text(one_zone, "tiny.yaml"), analyse(load_pattern_text(one_zone, "tiny.yaml")))
    assert "api" in a.spofs and a.components["api"].spof_reason == "one zone, no fallback"


def test_component_availability_and_nines():
    assert component_availability(0.995, 0.9999, 1) == 0.995
    assert component_availability(0.995, 0.9999, 2) == 0.9999
    assert component_availability(0.9, 0.99999, 3) == pytest.approx(0.999)
    assert nines(0.999) == pytest.approx(3) and nines(1.0) is None


# --------------------------------------------------------------------------- parsing, URL, CLI, schema

def test_failure_text_round_trips(video):
    fs = parse_failures(video, ["scorer=slow:2.5", "ann:zone", "reranker"])
    assert [f.text for f in fs] == ["scorer=slow:2.5", "ann=zone", "reranker=down"]
    back, notices = from_query(video, to_query(fs))
    assert back == fs and notices == []
    back, notices = from_query(video, "scorer:down,nope:down,ann:melt")
    assert back == (Failure(component="scorer"),) and len(notices) == 2


@pytest.mark.parametrize("text, expect", [
    ("nope", "has no component 'nope' (known: client, api"),
    ("scorer=slow", "slow takes a factor"),
    ("scorer=slow:1", "above 1 and at most 1000"),
    ("scorer=explode", "unknown failure 'explode' (valid: down, slow:K, zone, cold)"),
    ("scorer=zone:2", "zone takes no factor"),
    ("lists=cold", "declares no hit_rate"),
    ("client", "is the user's client"),
])
def test_bad_failures_say_what_is_valid(video, text, expect):
    with pytest.raises(ScenarioError, match=None) as info:
        parse_failure(video, text)
    assert expect in str(info.value)


def test_one_failure_per_component(video):
    with pytest.raises(ScenarioError, match="already fails"):
        parse_failures(video, ["scorer", "scorer=zone"])


def test_cli_fail_adds_availability_and_the_what_if(capsys):
    code = main(["estimate", "video_recommendation", "--fail", "scorer", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["what_if"]["failures"] == ["scorer=down"]
    assert out["what_if"]["fallback_share"] == pytest.approx(1.0)
    assert out["availability"]["nines"] > 3
    assert out["end_to_end"]["p99_ms"] > 0  # the baseline estimate is still there
    code = main(["estimate", "video_recommendation", "--fail", "scorer=slow:3", "--fail", "ann=zone"])
    text = capsys.readouterr().out
    assert code == 0 and "What if: scorer is 3× slower; ann lost one zone" in text and "Availability" in text


def test_cli_json_without_fail_is_unchanged(capsys):
    main(["estimate", "two_stage_recommender", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert "what_if" not in out and "availability" not in out


@pytest.mark.parametrize("arg, expect", [
    ("rankr", "has no component 'rankr'"),
    ("scorer=slow:abc", "slow takes a factor"),
    ("scorer=warm", "unknown failure 'warm'"),
])
def test_cli_bad_fail_is_one_line_and_exit_2(capsys, arg, expect):
    code = main(["estimate", "video_recommendation", "--fail", arg])
    err = capsys.readouterr().err
    assert code == 2 and expect in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_study_note_reports_the_what_if(video):
    md = export(video, None, "provisioned", "md", failures=parse_failures(video, ["scorer"])).decode()
    assert "## What if" in md and "--fail scorer=down" in md and "served by fallbacks | 100.0%" in md
    assert "## What if" not in export(video, None, "provisioned", "md").decode()


@pytest.mark.parametrize("old, new, message", [
    ("{component: model, to", "{component: modl, to", "fallbacks[0].component: unknown component 'modl'"),
    ("{component: model, to", "{component: client, to", "'client' is called by no connection"),
    ("to: popular, quality", "to: model, quality", "cannot route to the component that failed"),
    ("to: popular, quality", "to: nowhere, quality", "fallbacks[0].to: unknown component 'nowhere'"),
    ("hit_rate: hit", "hit_rate: hits", "components[2].hit_rate: unknown parameter 'hits'"),
    ("quality: \"popular items", "when: [], quality: \"popular items", "fallbacks[0].when"),
])
def test_resilience_rules_name_the_place(old, new, message):
    with pytest.raises(PatternError) as info:
        load_pattern_text(TINY.replace(old, new), "tiny.yaml")
    assert "tiny.yaml:" in str(info.value) and message in str(info.value)


# --------------------------------------------------------------------------- study: what breaks first?

@pytest.mark.parametrize("pid", ["video_recommendation", "video_search", "two_stage_recommender"])
def test_what_breaks_first_is_answered_by_the_engine(pid):
    from explorer.study.practice import breaks_first_puzzle, check_breaks_first

    rp = load_pattern(ARCHITECTURES_DIR / f"{pid}.yaml")
    p = breaks_first_puzzle(rp, seed=2)
    assert p is not None and p.answer in p.what_if.overloaded
    assert p.answer in {cid for cid, _ in p.options}
    assert breaks_first_puzzle(rp, seed=2).failure == p.failure  # deterministic
    right = check_breaks_first(p, p.answer)
    assert right.correct and right.proof
    wrong = next(cid for cid, _ in p.options if cid not in p.accepted)
    verdict = check_breaks_first(p, wrong)
    assert not verdict.correct and p.what_if.report.components[p.answer].label in verdict.message
