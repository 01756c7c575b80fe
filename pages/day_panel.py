"""The Day tab of Explore: a day of traffic over the pattern at the current scenario.

Controls (autoscale or the pattern's replicas, the curve, one spike), the day's headlines, the five panels
over 24 hours, and a minute slider that recolours the diagram with that minute's replicas, utilisation and
statuses. The simulation is cached like the analysis; nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from explorer.engine.day import MINUTES, MODES, day_options, simulate
from explorer.model.day import Spike
from explorer.model.loader import ResolvedPattern
from explorer.render.day_charts import day_chart
from explorer.render.diagram import to_dot
from explorer.render.styles import DrawOptions
from explorer.study import present
from explorer.study.day_note import day_markdown, headlines
from pages import ui
from pages.diagram_widget import diagram_widget

NS = "explore:day"


@st.cache_resource(show_spinner=False, max_entries=32)
def _simulate(key: str, values: tuple, mode: str, ratio: float, hour: float, spike: tuple | None,
              _rp: ResolvedPattern):
    spikes = [Spike(factor=spike[0], minutes=spike[1], at_hour=spike[2])] if spike else []
    return simulate(_rp, dict(values), day_options(_rp, spikes=spikes, peak_to_trough=ratio, peak_hour=hour, mode=mode))


def _controls(rp: ResolvedPattern):
    spec = rp.pattern.day
    ratio0 = spec.peak_to_trough if spec and spec.peak_to_trough else 3.0
    hour0 = spec.peak_hour if spec and spec.peak_hour is not None else 20.0
    a, b, c = st.columns(3)
    mode = a.radio("Replicas", MODES, key=f"{NS}:mode", horizontal=True,
                   format_func=lambda m: "autoscaled" if m == "autoscale" else "the pattern's, all day")
    ratio = b.slider("Peak ÷ trough", 1.0, 10.0, float(ratio0), 0.5, key=f"{NS}:ratio")
    hour = c.slider("Peak hour", 0.0, 23.5, float(hour0), 0.5, key=f"{NS}:hour")
    d, e, f = st.columns(3)
    factor = d.slider("Spike ×", 1.0, 10.0, 1.0, 0.5, key=f"{NS}:spike", help="1 = no spike")
    minutes = e.slider("Spike minutes", 1, 120, 10, key=f"{NS}:spike_minutes")
    at = f.slider("Spike at hour", 0.0, 23.5, float(hour0), 0.5, key=f"{NS}:spike_hour")
    spike = (factor, minutes, at) if factor > 1 else None
    return mode, ratio, hour, spike


def render_day_panel(rp: ResolvedPattern, values: Mapping[str, float], theme: str = "light") -> None:
    """Draw the Day tab (returns nothing: it draws its own chart and diagram)."""
    mode, ratio, hour, spike = _controls(rp)
    day = _simulate(ui.pattern_key(rp), present.values_key(values), mode, ratio, hour, spike, rp)
    st.markdown("\n".join(f"- {ui.md_safe(h)}" for h in headlines(day)))
    minute = st.slider("Minute of the day", 0, MINUTES - 1, int(day.options.peak_hour * 60) % MINUTES,
                       key=f"{NS}:minute", help="recolours the diagram below with this minute's replicas and load")
    st.plotly_chart(day_chart(day, minute), width="stretch", config={"displaylogo": False}, key=f"{NS}:chart")
    hhmm = f"{minute // 60:02d}:{minute % 60:02d}"
    at = day.minute_report(ui.analysis(rp, values, "provisioned"), minute)
    e2e = day.end_to_end_p99_ms
    st.caption(f"At {hhmm}: {day.qps[minute]:,.0f} requests/s"
               + (f", end-to-end p99 {e2e[minute]:,.1f} ms" if e2e is not None else ""))
    diagram_widget(rp, at, to_dot(rp, at, DrawOptions(theme=theme)), key=f"{NS}:diagram",
                   label=f"{rp.pattern.title} at {hhmm}")
    with st.expander("How the day's figures are computed"):
        ui.show_trace([f.explain() for f in day.figures.values()])
        cid = st.selectbox(f"A component at {hhmm}", list(day.components), key=f"{NS}:component")
        ui.show_trace([f.explain() for f in day.minute_figures(cid, minute).values()])
    a, b = st.columns(2)
    a.download_button("Day as JSON (1,440 minutes)", day.to_json(), file_name=f"{rp.id}-day.json",
                      mime="application/json", key=f"{NS}:json")
    b.download_button("Day for the study note (Markdown)", day_markdown(day), file_name=f"{rp.id}-day.md",
                      mime="text/markdown", key=f"{NS}:md")
