"""Charts, the scaling sweep, slider formatting and the page helpers of explorer.study.present."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import pytest

from explorer.engine.analysis import analyse
from explorer.engine.sweep import sweep, sweep_values, traffic_parameter
from explorer.render import charts
from explorer.study import present
from explorer.units import compact, format_quantity, log_options
from tests import patterns


@pytest.fixture(scope="module", params=patterns.IDS)
def rp(request):
    return patterns.load(request.param)


def test_every_chart_builds_for_every_pattern(rp):
    report = analyse(rp)
    for fig in (charts.latency_waterfall(report), charts.utilization_chart(report), charts.cost_breakdown(report)):
        assert isinstance(fig, go.Figure)
        fig.to_json()
    param = traffic_parameter(rp)
    if param:
        sw = sweep(rp, rp.defaults(), "provisioned", param, points=8)
        fig = charts.scaling_chart(sw, rp.defaults()[param])
        fig.to_json()
        assert fig.layout.xaxis.type == ("log" if sw.scale == "log" else "linear")


def test_sweep_is_log_spaced_and_finds_the_knee():
    rp = patterns.load("two_stage_recommender")
    sw = sweep(rp, rp.defaults(), "provisioned", "peak_qps")
    xs = [p.x for p in sw.points]
    assert len(xs) == 24 and xs[0] == 100 and xs[-1] == 2_000_000
    ratios = [b / a for a, b in zip(xs, xs[1:], strict=False)]
    assert max(ratios) / min(ratios) < 1.05  # evenly spaced on a log scale (integers round a little)
    assert sw.knee_x is not None and sw.knee_components
    below = analyse(rp, {"peak_qps": round(sw.knee_x * 0.995)})
    at = analyse(rp, {"peak_qps": sw.knee_x})
    assert not any(c.saturated for c in below.components.values())
    assert any(c.saturated for c in at.components.values())
    costs = [p.cost_usd_month for p in sw.points]
    assert costs == sorted(costs)


def test_autosize_sweep_never_saturates_on_the_request_path():
    rp = patterns.load("two_stage_recommender")
    sw = sweep(rp, rp.defaults(), "autosize", "peak_qps", points=6)
    assert all(p.p99_ms is not None for p in sw.points)


def test_waterfall_says_percentiles_do_not_add():
    rp = patterns.load("two_stage_recommender")
    fig = charts.latency_waterfall(analyse(rp))
    assert "percentiles don't" in fig.layout.title.text
    assert any("composed" in a.text for a in fig.layout.annotations)
    sat = charts.latency_waterfall(analyse(rp, {"peak_qps": 200000}))
    assert "SATURATED" in sat.layout.title.text


def test_cost_breakdown_adds_up_to_the_total():
    rp = patterns.load("two_stage_recommender")
    report = analyse(rp)
    fig = charts.cost_breakdown(report)
    bars = [t for t in fig.data if isinstance(t, go.Bar)]
    total = sum(sum(t.x) for t in bars)
    assert math.isclose(total, report.totals.cost_usd_month, rel_tol=1e-9)


def test_sweep_values_respect_the_range_and_integers():
    rp = patterns.load("two_stage_recommender")
    q = next(q for q in rp.pattern.parameters if q.name == "target_utilization")
    xs = sweep_values(q, 5)
    assert xs[0] == q.min and xs[-1] == q.max and len(xs) == 5


@pytest.mark.parametrize("value, text", [(1000, "1k"), (10_000, "10k"), (1e6, "1M"), (1e10, "10B"), (1500, "1.5k"),
                                         (999_999, "1M"), (0.6, "0.6"), (250, "250")])
def test_format_quantity(value, text):
    assert format_quantity(value) == text
    assert format_quantity(value, "req/s") == f"{text} req/s"
    assert compact(-value) == "-" + text


def test_log_options_include_the_ends_default_and_current():
    opts = log_options(100, 2e6, [20000, 33333], integer=True)
    assert opts[0] == 100 and opts[-1] == 2_000_000 and 20000 in opts and 33333 in opts
    assert opts == sorted(set(opts))


def test_present_helpers(rp):
    report = analyse(rp)
    rows = present.capacity_rows(report)
    assert [r["id"] for r in rows] == list(report.components)
    assert set(present.TABLE_COLUMNS) <= set(rows[0])
    for m in present.headline(report):
        assert m.value and present.explain_refs(report, m.refs), m
    for cid in report.components:
        assert present.component_trace(report, cid)
    state = present.read_query(rp, {"pattern": rp.id})
    assert state.values == rp.defaults() and not state.notices
    query = present.write_query(rp, state)
    again = present.read_query(rp, query)
    assert again.values == state.values and not again.notices
