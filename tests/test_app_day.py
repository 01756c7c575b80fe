"""AppTest of Explore's Day tab: the day's chart, the headlines, a spike, and the minute slider recolouring the
diagram."""

from __future__ import annotations

import re

from explorer.render.styles import SATURATED_FILL
from pages.diagram_widget import drawn_key
from tests.apptest import no_errors, run_app

CHARTS_KEY = "explore:charts"
TABS_KEY = "explore:tabs"


def _open_day(pattern: str):
    at = run_app({"pattern": pattern})
    at.session_state[CHARTS_KEY] = True
    at.session_state[TABS_KEY] = "Day"
    at.run()
    no_errors(at)
    assert not at.error, [e.value for e in at.error]
    return at


def _minute_dot(at) -> str:
    assert len(at.get("bidi_component")) == 2  # the page's diagram, then the Day tab's at the chosen minute
    return at.session_state[drawn_key("explore:day:diagram")]


def _saturated_nodes(dot: str) -> int:
    return len(re.findall(rf'fillcolor="{SATURATED_FILL}"', dot))


def _slider(at, label: str):
    return next(s for s in at.slider if s.label == label)


def test_day_tab_draws_the_day_and_the_diagram_at_a_minute():
    at = _open_day("video_recommendation")
    assert [c.key for c in at.get("plotly_chart")] == ["explore:day:chart"]
    text = " ".join(m.value for m in at.markdown)
    assert "Cost of the day (autoscale)" in text and "provisioned for the peak" in text
    dot = _minute_dot(at)
    assert dot.startswith("digraph") and "id=node_scorer" in dot
    assert any("At 20:00" in c.value for c in at.caption)
    assert [b.label for b in at.get("download_button")][-2:] == ["Day as JSON (1,440 minutes)",
                                                                 "Day for the study note (Markdown)"]


def test_a_spike_saturates_and_the_minute_slider_recolours_the_diagram():
    at = _open_day("video_recommendation")
    calm = _minute_dot(at)
    assert _saturated_nodes(calm) == 0
    _slider(at, "Spike ×").set_value(5.0)
    _slider(at, "Minute of the day").set_value(20 * 60 + 2)
    at.run()
    no_errors(at)
    spiked = _minute_dot(at)
    assert _saturated_nodes(spiked) >= 1, "the spike's minute shows saturated components"
    text = " ".join(m.value for m in at.markdown)
    assert re.search(r"\d+ minutes over the 200 ms target", text) and "saturated component" in text
    assert any("At 20:02" in c.value for c in at.caption)
    _slider(at, "Minute of the day").set_value(8 * 60)
    at.run()
    no_errors(at)
    assert _saturated_nodes(_minute_dot(at)) == 0


def test_provisioned_day_keeps_the_patterns_replicas():
    at = _open_day("two_stage_recommender")
    at.radio(key="explore:day:mode").set_value("provisioned")
    at.run()
    no_errors(at)
    text = " ".join(m.value for m in at.markdown)
    assert "Cost of the day (provisioned)" in text
