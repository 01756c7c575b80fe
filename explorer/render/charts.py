"""Plotly figures of a report: latency waterfall, utilisation, scaling curves, cost breakdown, and the
cost of precomputed predictions against their staleness.

Pure functions: each takes engine objects and returns a ``plotly.graph_objects.Figure``
(no rendering, no files). Colours come from :mod:`explorer.render.styles`, so a component
looks the same in the diagram and in the charts.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.render.styles import SATURATED_BORDER, SATURATED_FILL, SELECTED_BORDER, THEMES, node_look
from explorer.units import compact, format_ms, format_percent, format_quantity, format_usd

if TYPE_CHECKING:  # pragma: no cover
    from explorer.engine.report import Report
    from explorer.engine.sweep import Sweep

HARDWARE_COLORS = {"cpu": "#4c78a8", "gpu": "#e45756", "managed": "#72b7b2", "none": "#bab0ac"}
STORAGE_COLOR = "#b279a2"
MEAN_COLOR = "#4c78a8"
P99_COLOR = "#f58518"
BUDGET_COLOR = "#54a24b"
TARGET_COLOR = "#d62728"
HOT_BORDER = THEMES["light"]["hot_border"]
UTIL_DISPLAY_CAP = 1.5
"""Bars above 150% are drawn at 150% (the label keeps the real value)."""

_LAYOUT = dict(margin=dict(l=10, r=10, t=50, b=70), height=380, hovermode="closest",
               legend=dict(orientation="h", yref="container", yanchor="bottom", y=0.0, xanchor="left", x=0))
"""Shared layout: the legend sits at the bottom of the figure (below the axis title), never over the title,
which on a phone wraps to two or three lines."""


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, **{**_LAYOUT, "height": 220})
    fig.add_annotation(text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _hline(y: float, color: str, dash: str) -> dict:
    return dict(type="line", xref="paper", x0=0, x1=1, yref="y", y0=y, y1=y, line=dict(color=color, dash=dash, width=2))


def _vline(x: float, color: str, dash: str) -> dict:
    return dict(type="line", yref="paper", y0=0, y1=1, xref="x", x0=x, x1=x, line=dict(color=color, dash=dash, width=2))


def _label_at_y(y: float, text: str, color: str, side: str) -> dict:
    return dict(xref="paper", x=0 if side == "left" else 1, xanchor=side, yref="y", y=y, yanchor="bottom",
                text=text, showarrow=False, font=dict(color=color, size=11))


def _label_at_x(x: float, text: str, color: str, y: float, log: bool) -> dict:
    return dict(xref="x", x=math.log10(x) if log else x, xanchor="left", yref="paper", y=y, yanchor="top",
                text=text, showarrow=False, font=dict(color=color, size=11), bgcolor="rgba(255,255,255,0.7)")


# --------------------------------------------------------------------------- waterfall

def latency_waterfall(report: Report) -> go.Figure:
    """Mean latency stage by stage along the critical path, with each stage's p99 and budget.

    Means add along a path, so the bars stack as a waterfall. Percentiles do not
    add: the end-to-end p99 line comes from the composed distribution, not from the
    sum of the stage p99 markers.
    """
    e = report.end_to_end
    if e is None or not e.stages:
        return _empty("Latency along the critical path", "This pattern has no synchronous request path.")
    names = [f"{s.label}" for s in e.stages]
    means = [s.mean_ms if s.mean_ms is not None else 0.0 for s in e.stages]
    fig = go.Figure()
    fig.add_trace(go.Waterfall(
        name="stage mean (adds up)", x=names, y=means, measure=["relative"] * len(means),
        text=[format_ms(s.mean_ms) if s.mean_ms is not None else "saturated" for s in e.stages],
        textposition="outside", connector=dict(line=dict(color="#999999", dash="dot")),
        increasing=dict(marker=dict(color=MEAN_COLOR)), hovertemplate="%{x}: mean %{text}<extra></extra>"))
    p99 = [s.p99_ms for s in e.stages]
    fig.add_trace(go.Scatter(
        name="stage p99 (own station, max over fan-out)", x=names, y=[v if v is not None else None for v in p99],
        mode="markers", marker=dict(symbol="diamond", size=11, color=P99_COLOR, line=dict(width=1, color="#333")),
        hovertemplate="%{x}: p99 %{y:.3g} ms<extra></extra>"))
    budgets = [s.budget_ms for s in e.stages]
    if any(b is not None for b in budgets):
        fig.add_trace(go.Scatter(
            name="stage budget", x=names, y=budgets, mode="markers",
            marker=dict(symbol="line-ew", size=28, color=BUDGET_COLOR, line=dict(width=3, color=BUDGET_COLOR)),
            hovertemplate="%{x}: budget %{y:.3g} ms<extra></extra>"))
    shapes = [_hline(e.target_ms, TARGET_COLOR, "dash")]
    notes = [_label_at_y(e.target_ms, f"target p{compact(e.percentile)} {format_ms(e.target_ms)}", TARGET_COLOR, "left")]
    if e.saturated:
        title = f"Latency along the critical path — SATURATED at {', '.join(e.saturated_components)}"
    else:
        shapes.append(_hline(e.p99_ms, P99_COLOR, "solid"))
        notes.append(_label_at_y(e.p99_ms, f"end-to-end p99 {format_ms(e.p99_ms)} (composed)", P99_COLOR, "right"))
        title = "Latency along the critical path"
    subtitle = "Means add along the path; percentiles don't: the end-to-end p99 comes from the composed distribution."
    fig.update_layout(title=dict(text=f"{title}<br><sup>{subtitle}</sup>"), yaxis_title="ms", showlegend=True,
                      shapes=shapes, annotations=notes, **{**_LAYOUT, "margin": dict(l=10, r=10, t=80, b=70)})
    return fig


# --------------------------------------------------------------------------- utilisation

def utilization_chart(report: Report) -> go.Figure:
    """Utilisation per component (horizontal bars, diagram colours) with the target and 100% lines."""
    comps = [c for c in report.components.values() if c.status != "external"]
    if not comps:
        return _empty("Utilisation", "No component to show.")
    labels = [c.label for c in comps]
    shown = [min(c.utilization, UTIL_DISPLAY_CAP) if math.isfinite(c.utilization) else UTIL_DISPLAY_CAP for c in comps]
    looks = [node_look(c.status, c.utilization, c.saturated, THEMES["light"]) for c in comps]
    colors = [fill for fill, _, _ in looks]
    borders = [border for _, border, _ in looks]
    text = [("SATURATED " if c.saturated else "") + format_percent(c.utilization) for c in comps]
    fig = go.Figure(go.Bar(
        x=shown, y=labels, orientation="h", marker=dict(color=colors, line=dict(color=borders, width=1.5)),
        text=text, textposition="outside", customdata=[c.status for c in comps], cliponaxis=False,
        hovertemplate="%{y}: %{text} (%{customdata})<extra></extra>"))
    shapes = [_vline(report.target_utilization, HOT_BORDER, "dash"), _vline(1.0, TARGET_COLOR, "solid")]
    notes = [dict(xref="x", x=report.target_utilization, yref="paper", y=1, yanchor="bottom", showarrow=False,
                  text=f"target {format_percent(report.target_utilization)}", font=dict(color=HOT_BORDER, size=11)),
             dict(xref="x", x=1.0, yref="paper", y=1, yanchor="bottom", showarrow=False, text="100% = saturated",
                  font=dict(color=TARGET_COLOR, size=11))]
    fig.update_layout(title="Utilisation per component", showlegend=False, shapes=shapes, annotations=notes,
                      **{**_LAYOUT, "height": max(260, 70 + 28 * len(comps))})
    fig.update_xaxes(tickformat=".0%", range=[0, UTIL_DISPLAY_CAP * 1.12])
    fig.update_yaxes(autorange="reversed")
    return fig


# --------------------------------------------------------------------------- scaling

def scaling_chart(sw: Sweep, current: float | None = None) -> go.Figure:
    """p99 and cost per month against the swept parameter, the current value and the saturation knee marked."""

    pts = [p for p in sw.points if p.error is None]
    if not pts:
        return _empty("Scaling", "The analysis failed over this range.")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06)
    xs = [p.x for p in pts]
    log = sw.scale == "log"
    has_latency = any(p.target_ms is not None for p in pts)
    if has_latency:
        fig.add_trace(go.Scatter(x=xs, y=[p.p99_ms for p in pts], name="end-to-end p99", mode="lines+markers",
                                 line=dict(color=P99_COLOR), connectgaps=False,
                                 hovertemplate="%{x:.3s}: p99 %{y:.3g} ms<extra></extra>"), row=1, col=1)
        sat_x = [p.x for p in pts if p.p99_ms is None and p.saturated]
        if sat_x:
            top = max([p.p99_ms for p in pts if p.p99_ms is not None] + [p.target_ms or 0 for p in pts])
            fig.add_trace(go.Scatter(x=sat_x, y=[top] * len(sat_x), name="saturated (no finite p99)",
                                     mode="markers", marker=dict(symbol="x", color=SATURATED_BORDER, size=8),
                                     hovertemplate="%{x:.3s}: saturated<extra></extra>"), row=1, col=1)
        fig.add_trace(go.Scatter(x=xs, y=[p.target_ms for p in pts], name="latency target", mode="lines",
                                 line=dict(color=TARGET_COLOR, dash="dash"),
                                 hovertemplate="target %{y:.3g} ms<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=xs, y=[p.cost_usd_month for p in pts], name="cost / month", mode="lines+markers",
                             line=dict(color=MEAN_COLOR), hovertemplate="%{x:.3s}: $%{y:,.0f}/month<extra></extra>"),
                  row=2, col=1)
    shapes, notes = [], []
    if sw.knee_x is not None:
        who = ", ".join(sw.knee_components[:3]) + ("…" if len(sw.knee_components) > 3 else "")
        if xs[-1] > sw.knee_x:
            shapes.append(dict(type="rect", xref="x", x0=sw.knee_x, x1=xs[-1], yref="paper", y0=0, y1=1,
                               fillcolor=SATURATED_FILL, opacity=0.10, line=dict(width=0), layer="below"))
        shapes.append(_vline(sw.knee_x, SATURATED_BORDER, "dot"))
        notes.append(_label_at_x(sw.knee_x, f"saturates at {format_quantity(sw.knee_x, sw.unit)} ({who})",
                                 SATURATED_BORDER, 0.42, log))
    if current is not None:
        shapes.append(_vline(current, SELECTED_BORDER, "solid"))
        notes.append(_label_at_x(current, f"now {format_quantity(current, sw.unit)}", SELECTED_BORDER, 1.0, log))
    fig.update_xaxes(type="log" if log else "linear")
    fig.update_xaxes(title_text=f"{sw.label}" + (f" ({sw.unit})" if sw.unit else ""), row=2, col=1)
    fig.update_yaxes(title_text="p99 (ms)", row=1, col=1, rangemode="tozero")
    fig.update_yaxes(title_text="USD / month", row=2, col=1, rangemode="tozero")
    mode = "auto-size" if sw.mode == "autosize" else "provisioned"
    fig.update_layout(title=f"Scaling with {sw.label} ({mode})", shapes=shapes, annotations=notes,
                      **{**_LAYOUT, "height": 520, "margin": dict(l=10, r=10, t=80, b=10)})
    return fig


# --------------------------------------------------------------------------- cost

def cost_breakdown(report: Report) -> go.Figure:
    """Cost per month by component: compute (coloured by hardware) and storage, largest first."""
    comps = [c for c in report.components.values() if c.cost_usd_month > 0]
    if not comps:
        return _empty("Cost per month", "Nothing in this pattern costs money at this scenario.")
    comps.sort(key=lambda c: (-c.cost_usd_month, c.id))
    storage = []
    for c in comps:
        f = c.figures.get("cost_usd_month")
        ins = {i.name: i.value for i in f.inputs} if f is not None else {}
        gb, price = ins.get("storage") or 0.0, ins.get("storage price") or 0.0
        storage.append(min(c.cost_usd_month, gb * price))
    compute = [c.cost_usd_month - s for c, s in zip(comps, storage, strict=True)]
    labels = [c.label for c in comps]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=compute, y=labels, orientation="h", name="compute",
                         marker=dict(color=[HARDWARE_COLORS.get(c.hardware, "#999999") for c in comps]),
                         customdata=[[c.hardware.upper(), c.nodes] for c in comps],
                         hovertemplate="%{y}: $%{x:,.0f}/month compute (%{customdata[1]} %{customdata[0]} nodes)"
                                       "<extra></extra>"))
    if any(s > 0 for s in storage):
        fig.add_trace(go.Bar(x=storage, y=labels, orientation="h", name="storage", marker=dict(color=STORAGE_COLOR),
                             hovertemplate="%{y}: $%{x:,.0f}/month storage<extra></extra>"))
    fig.add_trace(go.Scatter(x=[c.cost_usd_month for c in comps], y=labels, mode="text", showlegend=False,
                             text=[format_usd(c.cost_usd_month) for c in comps], textposition="middle right",
                             hoverinfo="skip"))
    total = format_usd(report.totals.cost_usd_month)
    fig.update_layout(barmode="stack", title=f"Cost per month by component (total {total}; colour = hardware: "
                                             "blue CPU, red GPU, teal managed)",
                      **{**_LAYOUT, "height": max(260, 60 + 28 * len(comps))})
    fig.update_xaxes(title_text="USD / month", range=[0, max(c.cost_usd_month for c in comps) * 1.2])
    fig.update_yaxes(autorange="reversed")
    return fig


# --------------------------------------------------------------------------- batch vs online

NOW_COLOR = "#1565c0"


def staleness_chart(report: Report) -> go.Figure | None:
    """Monthly cost of the batch path against the mean staleness of its predictions, one point per refresh
    interval (``Report.staleness_curve``), the pattern's current interval marked. None without a curve.

    A refresh interval whose job takes longer than the interval is drawn hollow: jobs run back to back there.
    """
    curve = report.staleness_curve
    if not curve:
        return None
    fig = go.Figure()
    fits = [p.fits_interval for p in curve]
    fig.add_trace(go.Scatter(
        x=[p.staleness_mean_hours for p in curve], y=[p.cost_usd_month for p in curve], mode="lines+markers+text",
        name="refresh interval (label)", line=dict(color=MEAN_COLOR),
        marker=dict(size=9, color=[MEAN_COLOR if f else "white" for f in fits], line=dict(color=MEAN_COLOR, width=2)),
        text=[f"{compact(p.refresh_hours)} h" for p in curve], textposition="top right",
        customdata=[[p.refresh_hours, p.staleness_max_hours, "fits" if p.fits_interval else "longer than"]
                    for p in curve],
        hovertemplate="refresh every %{customdata[0]:.3g} h: mean staleness %{x:.3g} h (max %{customdata[1]:.3g} h)"
                      ", $%{y:,.0f}/month; the job %{customdata[2]} its interval<extra></extra>"))
    now = next((s for s in report.ml if s.key == "precompute"), None)
    title = "Batch predictions: cost against staleness across refresh intervals"
    if now is not None and {"staleness_mean_hours", "cost_usd_month"} <= set(now.figures):
        x, y = now.figures["staleness_mean_hours"].value, now.figures["cost_usd_month"].value
        fig.add_trace(go.Scatter(x=[x], y=[y], mode="markers", name="this scenario",
                                 marker=dict(symbol="star", size=16, color=NOW_COLOR),
                                 hovertemplate="this scenario: mean staleness %{x:.3g} h, $%{y:,.0f}/month"
                                               "<extra></extra>"))
        title += f" (now {compact(x)} h, {format_usd(y)}/month)"
    log_x = min(p.staleness_mean_hours for p in curve) > 0
    log_y = min(p.cost_usd_month for p in curve) > 0
    fig.update_xaxes(type="log" if log_x else "linear", title_text="mean staleness (hours)")
    fig.update_yaxes(type="log" if log_y else "linear", title_text="batch path USD / month")
    fig.update_layout(title=title, **{**_LAYOUT, "margin": dict(l=10, r=10, t=80, b=70)})
    return fig


def percentile_shortcuts(figures: dict) -> go.Figure:
    """The calculator's chain: the true composed p99 against the two popular shortcuts.

    ``figures`` holds ``max_branch_p99_ms``, ``true_p99_ms`` and ``sum_stage_p99_ms`` (Figures).
    """
    keys = ("max_branch_p99_ms", "true_p99_ms", "sum_stage_p99_ms")
    labels = [figures[keys[0]].label, "True p99", "Sum of stage p99s"]
    values = [figures[k].value for k in keys]
    fig = go.Figure(go.Bar(x=labels, y=values, marker_color=["#72b7b2", "#4c78a8", "#e45756"],
                           text=[format_ms(v) for v in values], textposition="outside"))
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10}, yaxis_title="ms",
                      title="Two shortcuts and the true p99")
    return fig
