"""The ML figures on the pages: Explore shows an ML section (tables, traces, headline metrics) for every
pattern whose report carries ML figures, the cost-vs-staleness chart for precomputed predictions, and no
``None``/``nan`` text anywhere; the Method page explains each ML model with the engine's constants."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.engine.analysis import analyse
from explorer.engine.ml import ann, batch_online, gpu, traffic
from explorer.model.loader import builtin_paths, load_pattern
from explorer.study import present
from explorer.units import fmt
from pages import ui
from tests.apptest import APP, TIMEOUT, run_app

ROOT = Path(__file__).resolve().parent.parent
ML_PATTERNS = [p for p in builtin_paths() if analyse(load_pattern(p)).ml]
BAD_TEXT = re.compile(r"\b(None|nan|NaN|inf)\b")


run = run_app


def open_traces(at: AppTest, rp, report) -> AppTest:
    """Open every "How is this computed?" popover of the headline, the ML headline and the ML sections
    (traces are drawn only when opened), then rerun."""
    ns = f"explore:{rp.id}:"
    for m in present.headline(report):
        at.session_state[f"{ns}how_{m.key}"] = True
    for m in present.ml_headline(report):
        at.session_state[f"{ns}how_mlhead_{m.key}"] = True
    for s in report.ml:
        at.session_state[f"{ns}how_ml_{s.key}"] = True
    return at.run()


def page_text(at: AppTest) -> str:
    """Every piece of text the page shows: markdown, metrics (label, value, delta), tables, expanders."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [f"{m.label} {m.value} {m.proto.delta}" for m in at.metric]
    parts += [e.label for e in at.expander]
    for t in at.table:
        parts.append(t.value.to_string())
    return "\n".join(parts)


def test_the_library_has_ml_patterns():
    assert {"gpu_model_serving", "batch_vs_online_prediction"} <= {p.stem for p in ML_PATTERNS}


@pytest.mark.parametrize("path", ML_PATTERNS, ids=[p.stem for p in ML_PATTERNS])
def test_every_ml_pattern_shows_its_ml_section_and_traces(path):
    rp = load_pattern(path)
    report = analyse(rp)
    at = run({"pattern": rp.id})
    assert not at.error, [e.value for e in at.error]
    assert any(e.label.startswith("ML figures") for e in at.expander)
    at = open_traces(at, rp, report)
    assert not at.error, [e.value for e in at.error]
    text = page_text(at)
    for s in report.ml:
        assert s.title in text, s.title
        for f in s.figures.values():  # every figure's trace is on the page (in its section's popover)
            assert ui.md_safe(f.explain()) in text, (s.key, f.key)
    for m in present.ml_headline(report):
        assert any(x.label == m.label and x.value == m.value for x in at.metric), m.label
    assert not BAD_TEXT.search(text), BAD_TEXT.search(text)
    assert len(at.table) == len(report.ml)


def test_gpu_headline_shows_gpus_and_model_fit():
    at = run({"pattern": "gpu_model_serving"})
    gpus = next(m for m in at.metric if m.label.startswith("GPUs"))
    assert gpus.value.endswith("GPUs") and "fits one GPU" in gpus.proto.delta
    rp = load_pattern(ROOT / "architectures" / "gpu_model_serving.yaml")
    text = page_text(open_traces(at, rp, analyse(rp)))
    assert "GPUs needed =" in text and "work ÷ target utilisation" in text


def test_the_staleness_chart_is_there_for_precompute_and_follows_the_interval():
    at = run({"pattern": "batch_vs_online_prediction"})
    charts = [c for c in at.get("plotly_chart") if "staleness" in c.proto.spec]
    assert len(charts) == 1
    staleness = next(m for m in at.metric if m.label.startswith("Staleness"))
    assert staleness.value == "12.1 h"
    at2 = run({"pattern": "batch_vs_online_prediction", "refresh_hours": "6"})
    assert next(m for m in at2.metric if m.label.startswith("Staleness")).value != staleness.value


def test_no_staleness_chart_without_precompute():
    at = run({"pattern": "gpu_model_serving"})
    assert not [c for c in at.get("plotly_chart") if "staleness" in c.proto.spec]


def test_patterns_without_ml_show_no_ml_section():
    plain = [p for p in builtin_paths() if p not in ML_PATTERNS]
    if not plain:
        pytest.skip("every built-in pattern declares ML figures")
    at = run({"pattern": plain[0].stem})
    assert not any(e.label.startswith("ML figures") for e in at.expander)


def test_dau_traffic_opens_from_the_peak_qps_metric():
    at = run({"pattern": "news_feed"})
    rp = load_pattern(ROOT / "architectures" / "news_feed.yaml")
    text = page_text(open_traces(at, rp, analyse(rp)))
    assert "Peak QPS = " in text and "DAU × requests/user/day" in text


def test_method_page_explains_each_ml_model_with_engine_constants():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/method.py").run()
    assert not at.exception
    text = " ".join(" ".join([m.value for m in at.markdown] + [h.value for h in at.subheader]).split())
    for phrase in ("dynamic batching", "Model memory", "ANN index memory", "Daily users to peak QPS",
                   "Training cost and model age", "Batch or online", "Feature payload", "Label delay", "Drift"):
        assert phrase in text, phrase
    assert "86,400" in text and f"{fmt(traffic.PEAK_TO_AVERAGE)}×" in text
    assert f"{fmt(ann.USABLE_NODE_FRACTION)})" in text
    assert f"GPU memory × {fmt(gpu.USABLE_MEMORY_FRACTION)}" in text
    assert f"${fmt(batch_online.KV_PRICE_PER_GB_MONTH)} per GB-month" in text
    assert not BAD_TEXT.search(text)
