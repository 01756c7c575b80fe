"""Compare: presets, URL state, headline deltas and the per-component delta table."""

from __future__ import annotations

import pytest

from explorer.engine.analysis import analyse
from explorer.errors import ExplorerError
from explorer.model.library import load
from explorer.study import compare


def test_delta_table_per_shared_component() -> None:
    a = compare.Side("two_stage_recommender", {"candidates": 500})
    b = compare.Side("two_stage_recommender", {"candidates": 2000})
    cmp = compare.compare_sides(a, b, load)
    ra, rb = cmp.report_a, cmp.report_b
    assert [r.id for r in cmp.rows] == [c for c in ra.components if ra.components[c].status != "external"]
    ranker = cmp.row("ranker")
    assert ranker.a["utilization"] == pytest.approx(ra.components["ranker"].utilization)
    assert ranker.b["utilization"] == pytest.approx(rb.components["ranker"].utilization)
    assert ranker.delta["utilization"] == pytest.approx(ranker.b["utilization"] - ranker.a["utilization"])
    assert ranker.delta["utilization"] > 0
    assert ranker.figures["utilization"].formula == "B − A"
    assert cmp.row("api").delta["calls_per_s"] == 0
    table = cmp.table()
    assert table[0]["component"] == cmp.rows[0].id and "Δ utilisation" in table[0]
    assert cmp.changed_values == [("candidates", 500, 2000, "items")]
    assert not cmp.only_a and not cmp.only_b


def test_headline_metrics_and_deltas() -> None:
    a = compare.Side("two_stage_recommender", {"peak_qps": 60_000}, "provisioned")
    b = compare.Side("two_stage_recommender", {"peak_qps": 60_000}, "autosize")
    cmp = compare.compare_sides(a, b, load)
    cost = cmp.metric("cost_usd_month")
    assert cost.a.value == pytest.approx(cmp.report_a.totals.cost_usd_month)
    assert cost.delta.value == pytest.approx(cmp.report_b.totals.cost_usd_month - cmp.report_a.totals.cost_usd_month)
    assert cost.delta.explain().startswith("Δ Cost per month")
    p99 = cmp.metric("p99_ms")
    # provisioned at 3× traffic saturates: no finite p99, so no finite delta either
    assert cmp.report_a.end_to_end.saturated
    assert p99.a.value is None and p99.delta.value is None and "saturated" in p99.delta.note
    assert p99.b.value is not None
    assert cmp.metric("hot_components").verdict() == "better"


def test_two_patterns_share_only_some_components() -> None:
    a = compare.Side("two_stage_recommender")
    b = compare.Side("batch_vs_online_prediction")
    cmp = compare.compare_sides(a, b, load)
    shared = {r.id for r in cmp.rows}
    assert "api" in shared and "ranker" not in shared
    assert "ranker" in cmp.only_a and "predictions" in cmp.only_b


def test_delta_figure_handles_missing_values() -> None:
    from explorer.engine.report import Figure
    f = compare.delta_figure("x", "X", "ms", Figure("x", "X", None, "ms", "…"), Figure("x", "X", 3.0, "ms", "…"))
    assert f.value is None and "A" in f.note


def test_presets_tolerate_missing_patterns() -> None:
    usable = compare.available_presets(load)
    ids = {p.id for p in usable}
    assert {"batch_vs_online", "candidates_500_vs_2000"} <= ids
    ghost = compare.Preset("ghost", "Ghost", "?", "?", compare.Side("no_such_pattern"), compare.Side("two_stage_recommender"))
    bad_param = compare.Preset("bad", "Bad", "?", "?", compare.Side("two_stage_recommender", {"nope": 1}),
                               compare.Side("two_stage_recommender"))
    assert compare.available_presets(load, [ghost, bad_param]) == []
    for p in usable:
        cmp = compare.compare_sides(p.a, p.b, load)
        assert cmp.metrics and (cmp.rows or cmp.only_a)


def test_query_round_trip() -> None:
    rp = load("two_stage_recommender")
    a = compare.Side("two_stage_recommender", {"candidates": 500.0, "peak_qps": 20000.0})
    b = compare.Side("two_stage_recommender", {"candidates": 2000.0}, "autosize")
    q = compare.to_query(a, b)
    assert q == {"a": "two_stage_recommender", "b": "two_stage_recommender", "b_mode": "autosize",
                 "a.candidates": "500", "a.peak_qps": "20000", "b.candidates": "2000"}
    assert rp.defaults()["candidates"] == 500
    a2, b2, notices = compare.sides_from_query(q, load)
    assert notices == []
    assert a2.values["candidates"] == 500 and b2.values["candidates"] == 2000 and b2.mode == "autosize"


def test_query_preset_and_bad_values() -> None:
    a, b, notices = compare.sides_from_query({"preset": "candidates_500_vs_2000"}, load)
    assert (a.values["candidates"], b.values["candidates"]) == (500, 2000)
    assert a.label == "500 candidates"
    a, b, notices = compare.sides_from_query({"preset": "candidates_500_vs_2000", "b.candidates": "9e9",
                                              "a_mode": "warp", "a.ghost": "1"}, load)
    assert b.values["candidates"] == 2000
    assert any("outside" in n for n in notices) and any("mode" in n for n in notices)
    assert any("ghost" in n for n in notices)
    a, b, notices = compare.sides_from_query({"preset": "candidates_500_vs_2000", "b.candidates": "1000"}, load)
    assert b.values["candidates"] == 1000 and b.label == "" and notices == []
    a, b, notices = compare.sides_from_query({"a": "nope", "b": "two_stage_recommender"}, load,
                                             default=(compare.Side("two_stage_recommender"),
                                                      compare.Side("two_stage_recommender")))
    assert a.pattern == "two_stage_recommender" and any("nope" in n for n in notices)
    with pytest.raises(ExplorerError):
        compare.sides_from_query({"a": "nope", "b": "nope"}, load)


def test_sweeps_overlay() -> None:
    rp = load("two_stage_recommender")
    a = compare.Side("two_stage_recommender", {"candidates": 500})
    b = compare.Side("two_stage_recommender", {"candidates": 2000})
    sa, sb = compare.sweep_pair(rp, a, rp, b, points=6)
    assert sa.param == sb.param == "peak_qps"
    assert sb.knee_x < sa.knee_x  # more candidates saturate sooner
    fig = compare.overlay_chart(sa, "A", sb, "B")
    names = [t.name for t in fig.data]
    assert "A" in names and "B" in names


def test_compare_reports_directly() -> None:
    rp = load("batch_vs_online_prediction")
    ra, rb = analyse(rp, {"miss_rate": 0.05}), analyse(rp, {"miss_rate": 1.0})
    cmp = compare.compare_reports(compare.Side(rp.id, {"miss_rate": 0.05}), compare.Side(rp.id, {"miss_rate": 1.0}),
                                  ra, rb)
    assert cmp.row("online_model").delta["calls_per_s"] > 0
