"""ML figures outside the browser: their text on the pages (``present``), the cost-vs-staleness chart, the
CLI text and the Markdown study note — every figure with its trace, no ``None``/``nan`` anywhere."""

from __future__ import annotations

import math
import re

import plotly.graph_objects as go
import pytest

from explorer.engine.analysis import analyse
from explorer.engine.report import Figure
from explorer.export import md_inline, study_note_markdown
from explorer.model.loader import builtin_paths, load_pattern
from explorer.render import charts
from explorer.render.text import report_text
from explorer.study import present

BAD_TEXT = re.compile(r"\b(None|nan|NaN|inf)\b")
REPORTS = {p.stem: (load_pattern(p), analyse(load_pattern(p))) for p in builtin_paths()}
ML_IDS = sorted(pid for pid, (_, r) in REPORTS.items() if r.ml)


def _fig(key: str, value, unit: str = "") -> Figure:
    return Figure(key=key, label=key, value=value, unit=unit, formula="given")


@pytest.mark.parametrize(("figure", "text"), [
    (_fig("coverage", 0.95), "95%"),
    (_fig("cost_usd_month", 1596.27, "USD/month"), "$1.6k/month"),
    (_fig("cost_usd", 2.19, "USD"), "$2.19"),
    (_fig("total_gb", 768.0, "GB"), "768 GB"),
    (_fig("latency_ms", 1.49, "ms"), "1.5 ms"),
    (_fig("gpus_needed", 167, "GPUs"), "167 GPUs"),
    (_fig("staleness_mean_hours", 12.1356, "h"), "12.1 h"),
    (_fig("fits", True), "yes"),
    (_fig("p99_ms", None, "ms"), "saturated"),
    (_fig("x", math.nan, "ms"), "∞"),
])
def test_figure_text(figure, text):
    assert present.figure_text(figure) == text


@pytest.mark.parametrize("pid", ML_IDS)
def test_every_ml_figure_has_a_row_that_opens_its_trace(pid):
    _, r = REPORTS[pid]
    views = present.ml_views(r)
    assert [v.key for v in views] == [s.key for s in r.ml]
    for v, s in zip(views, r.ml, strict=True):
        assert len(v.rows) == len(s.figures)
        for row in v.rows:
            assert present.explain_refs(r, [row.ref]) == [r.figure(row.ref).explain()]
            assert row.value and not BAD_TEXT.search(row.value), (row.ref, row.value)
        assert present.ml_section_trace(r, s.key) == [f.explain() for f in s.figures.values()]
    for m in present.ml_headline(r):
        assert len(present.explain_refs(r, m.refs)) == len(m.refs) >= 1, m.label
        assert not BAD_TEXT.search(f"{m.value} {m.delta or ''}")


def test_ml_headlines_of_the_demonstration_patterns():
    labels = {pid: [m.label for m in present.ml_headline(REPORTS[pid][1])] for pid in ML_IDS}
    assert any(x.startswith("GPUs") for x in labels["gpu_model_serving"])
    assert any(x.startswith("Index") for x in labels["ann_index_sharding"])
    assert "Staleness (batch)" in labels["batch_vs_online_prediction"]
    assert "Training per month" in labels["continual_learning"]
    gpu = next(m for m in present.ml_headline(REPORTS["gpu_model_serving"][1]) if m.label.startswith("GPUs"))
    assert gpu.value == present.figure_text(REPORTS["gpu_model_serving"][1].figure("ml.gpu:gpu_ranker.gpus_needed"))
    assert "fits one GPU" in gpu.delta


def test_peak_qps_headline_opens_the_dau_trace():
    qps = next(m for m in present.headline(REPORTS["news_feed"][1]) if m.key == "qps")
    assert any("DAU" in line for line in present.explain_refs(REPORTS["news_feed"][1], qps.refs))


def test_no_ml_no_ml_headline():
    plain = [pid for pid, (_, r) in REPORTS.items() if not r.ml]
    for pid in plain:
        assert present.ml_headline(REPORTS[pid][1]) == [] and present.ml_views(REPORTS[pid][1]) == []


def test_staleness_chart_marks_the_current_interval():
    rp, r = REPORTS["batch_vs_online_prediction"]
    fig = charts.staleness_chart(r)
    assert isinstance(fig, go.Figure)
    curve, now = fig.data
    assert list(curve.y) == [p.cost_usd_month for p in r.staleness_curve]
    assert list(curve.x) == [p.staleness_mean_hours for p in r.staleness_curve]
    assert now.x[0] == r.figure("ml.precompute.staleness_mean_hours").value
    assert now.y[0] == r.figure("ml.precompute.cost_usd_month").value
    # the current 24 h interval lies on the curve
    assert any(math.isclose(p.staleness_mean_hours, now.x[0]) for p in r.staleness_curve)
    assert charts.staleness_chart(REPORTS["gpu_model_serving"][1]) is None


def test_staleness_chart_at_another_interval():
    rp, _ = REPORTS["batch_vs_online_prediction"]
    r = analyse(rp, {**rp.defaults(), "refresh_hours": 6})
    now = charts.staleness_chart(r).data[1]
    assert math.isclose(now.x[0], r.figure("ml.precompute.staleness_mean_hours").value)
    assert now.x[0] < REPORTS["batch_vs_online_prediction"][1].figure("ml.precompute.staleness_mean_hours").value


@pytest.mark.parametrize("pid", ML_IDS)
def test_cli_text_prints_every_ml_figure(pid):
    _, r = REPORTS[pid]
    text = report_text(r)
    assert "ML figures:" in text
    for s in r.ml:
        assert s.title in text
        for f in s.figures.values():
            assert f.label in text
    assert ("Cost vs staleness" in text) == bool(r.staleness_curve)
    assert not BAD_TEXT.search(text.split("ML figures:")[1])


@pytest.mark.parametrize("pid", ML_IDS)
def test_markdown_note_has_the_ml_section_with_every_trace(pid):
    rp, r = REPORTS[pid]
    md = study_note_markdown(rp, r)
    assert "## ML figures" in md
    ml = md.split("## ML figures")[1].split("## Study notes")[0]
    for s in r.ml:
        assert s.title.split(" — ")[0] in ml
        for f in s.figures.values():
            assert f.label in ml
            assert md_inline(f.explain()) in ml
    assert ("Cost against staleness" in ml) == bool(r.staleness_curve)
    assert not BAD_TEXT.search(ml)


def test_markdown_note_without_ml_has_no_ml_section():
    plain = [pid for pid, (_, r) in REPORTS.items() if not r.ml]
    for pid in plain[:2]:
        rp, r = REPORTS[pid]
        assert "## ML figures" not in study_note_markdown(rp, r)
