"""Plotly figure of a day of traffic: traffic, replicas, utilisation, p99 and cost over 24 hours.

A pure function of a :class:`~explorer.engine.day.DayReport` (no rendering, no files). Components keep the
colours of the other charts (by hardware for the cost, a fixed palette for lines).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.render.charts import HARDWARE_COLORS, P99_COLOR, TARGET_COLOR

if TYPE_CHECKING:  # pragma: no cover
    from explorer.engine.day import DayReport

PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d",
           "#bab0ac"]
MAX_LINES = 8
"""Components drawn one line each (the busiest by peak utilisation); the others are left out of the lines."""
ROWS = ("Traffic (requests/s)", "Replicas (nodes)", "Utilisation", "p99 (ms)", "Cost (USD per hour)")


def _busiest(day: DayReport) -> list[str]:
    on = [c for c in day.components.values() if c.calls_per_s.max() > 0]
    on.sort(key=lambda c: (not c.on_request_path, -float(np.nanmax(np.minimum(c.utilization, 10.0)))))
    return [c.id for c in on[:MAX_LINES]]


def _clip(a: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(x) else float(x) for x in a]


def day_chart(day: DayReport, minute: int | None = None) -> go.Figure:
    """Five stacked panels over the day's 1,440 minutes; a dashed line marks ``minute`` when given.

    Examples
    --------
    >>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
    >>> from explorer.engine.day import simulate
    >>> fig = day_chart(simulate(load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml")), minute=600)
    >>> len(fig.layout.annotations) >= 5
    True
    """
    hours = np.arange(len(day.qps)) / 60.0
    fig = make_subplots(rows=5, cols=1, shared_xaxes=True, vertical_spacing=0.035, subplot_titles=ROWS)
    fig.add_trace(go.Scatter(x=hours, y=day.qps, name="requests/s", line=dict(color="#4c78a8"),
                             hovertemplate="%{y:,.0f} req/s<extra></extra>", showlegend=False), row=1, col=1)
    for i, cid in enumerate(_busiest(day)):
        c = day.components[cid]
        color = PALETTE[i % len(PALETTE)]
        common = dict(name=cid, legendgroup=cid, line=dict(color=color, width=1.5))
        fig.add_trace(go.Scatter(x=hours, y=c.replicas * c.shards, hovertemplate=f"{cid}: %{{y}} nodes<extra></extra>",
                                 **common), row=2, col=1)
        fig.add_trace(go.Scatter(x=hours, y=_clip(np.minimum(c.utilization, 1.5)), showlegend=False,
                                 hovertemplate=f"{cid}: ρ %{{y:.2f}}<extra></extra>", **common), row=3, col=1)
        fig.add_trace(go.Scatter(x=hours, y=_clip(c.p99_ms), showlegend=False,
                                 hovertemplate=f"{cid}: p99 %{{y:,.1f}} ms<extra></extra>", **common), row=4, col=1)
    if day.end_to_end_p99_ms is not None:
        fig.add_trace(go.Scatter(x=hours, y=_clip(day.end_to_end_p99_ms), name="end to end",
                                 line=dict(color=P99_COLOR, width=3),
                                 hovertemplate="end to end: p99 %{y:,.1f} ms<extra></extra>"), row=4, col=1)
        fig.add_hline(y=day.target_ms, line=dict(color=TARGET_COLOR, dash="dot"), row=4, col=1)
    fig.add_hline(y=day.target_utilization, line=dict(color=TARGET_COLOR, dash="dot"), row=3, col=1)
    by_hw: dict[str, np.ndarray] = {}
    for c in day.components.values():
        by_hw[c.hardware] = by_hw.get(c.hardware, 0) + c.cost_usd * 60.0
    for hw, usd in sorted(by_hw.items()):
        fig.add_trace(go.Scatter(x=hours, y=usd, name=f"{hw} cost", stackgroup="cost",
                                 line=dict(color=HARDWARE_COLORS.get(hw, "#bab0ac"), width=0.5),
                                 hovertemplate=f"{hw}: $%{{y:,.2f}}/h<extra></extra>"), row=5, col=1)
    fig.update_yaxes(type="log", row=4, col=1)
    fig.update_xaxes(range=[0, 24], dtick=3, ticksuffix=":00", row=5, col=1)
    if minute is not None:
        for row in range(1, 6):
            fig.add_vline(x=minute / 60.0, line=dict(color="#555", dash="dash", width=1), row=row, col=1)
    fig.update_layout(height=860, margin=dict(l=10, r=10, t=40, b=10), hovermode="x unified",
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
                      title=dict(text=f"A day of traffic ({day.mode})", font=dict(size=14)))
    return fig
