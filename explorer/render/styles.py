"""How a report looks, in one place: drawing options, themes, tiers and the status → style table.

The DOT diagram, the Mermaid export, the charts and the capacity table all take
their colours, status words and legend texts from here, so a component looks the
same everywhere. Nothing here draws; everything is data and small pure functions.

Examples
--------
>>> STATUS_STYLES["saturated"].fill, STATUS_STYLES["hot"].label, STATUS_STYLES["ok"].badge
('#ff4d4d', '▲ HOT', 'ok')
>>> DrawOptions().view, DrawOptions(theme="dark").colored
('overview', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

    from explorer.engine.report import ComponentReport, Report


@dataclass(frozen=True)
class DrawOptions:
    """What to draw and how: the same value goes to the diagram, the Mermaid text and every export.

    Attributes
    ----------
    view : str
        View id (``overview``, ``serving``, ``offline`` or the pattern's own).
    selected : str or None
        Component id outlined in blue (the row selected in the capacity table).
    theme : {"light", "dark"}
        Colours of text, edges and clusters; node fills stay light with dark text.
    colored : bool
        False gives a neutral drawing: no utilisation colours, statuses, bottleneck mark,
        critical path or selection.
    failed : frozenset of str
        Components a what-if knocked out: drawn grey with a dashed dark-red border.
    fallback_edges : tuple of (caller, target, label)
        Fallback routes a what-if sends calls over: drawn as bold dashed green arrows.
    """

    view: str = "overview"
    selected: str | None = None
    theme: str = "light"
    colored: bool = True
    failed: frozenset[str] = frozenset()
    fallback_edges: tuple[tuple[str, str, str], ...] = ()


TIERS = (
    ("online", "Online — request path"),
    ("nearline", "Nearline — events and streams"),
    ("offline", "Offline — batch pipelines"),
)
"""Tiers in drawing order, with the titles of their clusters (DOT) and subgraphs (Mermaid)."""

# Utilisation bins: (upper bound, fill, legend text). Light enough for dark text (contrast ≥ 6:1).
UTIL_SCALE = (
    (0.2, "#ffffe5", "< 20%"),
    (0.4, "#fff7bc", "20–40%"),
    (0.6, "#fee391", "40–60%"),
    (0.8, "#fec44f", "60–80%"),
    (1.0, "#fe9929", "80–100%"),
)
SATURATED_FILL = "#ff4d4d"
SATURATED_BORDER = "#8b0000"
INFEASIBLE_FILL = "#e4d4f4"
INFEASIBLE_BORDER = "#6a1b9a"
NEUTRAL_FILL = "#f0f0f0"
PLAIN_FILL = "#ffffff"
NODE_FONT = "#111111"
SUBTITLE_FONT = "#30363d"
SELECTED_BORDER = "#1565c0"
FAILED_FILL = "#d0d7de"
FAILED_BORDER = "#8b0000"
FALLBACK_EDGE = "#1a7f37"

THEMES = {
    "light": {
        "background": "#ffffff",  # a white card: stays legible even on a dark page (Streamlit reports the theme late)
        "font": "#1f2328", "muted": "#57606a", "edge": "#6e7781", "critical": "#1f2328",
        "cluster_fill": "#f6f8fa", "cluster_border": "#d0d7de", "node_border": "#57606a",
        "hot_border": "#b35900", "legend_fill": "#ffffff",
    },
    "dark": {
        "background": "transparent",
        "font": "#e6edf3", "muted": "#9da7b3", "edge": "#9da7b3", "critical": "#f0f6fc",
        "cluster_fill": "#161b22", "cluster_border": "#3d444d", "node_border": "#8c959f",
        "hot_border": "#ffa657", "legend_fill": "#0d1117",
    },
}

HARDWARE_TEXT = {"cpu": "CPU", "gpu": "GPU", "managed": "managed", "none": ""}
"""How a node's hardware is named on the diagram."""


def theme_colors(theme: str) -> dict[str, str]:
    """The colours of a theme by name (light when unknown)."""
    return THEMES.get(theme, THEMES["light"])


@dataclass(frozen=True)
class StatusStyle:
    """How one component status looks in every renderer.

    Attributes
    ----------
    status : str
        The engine's status word.
    label : str
        The status line on a diagram node.
    top_label : str
        The word after "⚠ #1" when this component is the top bottleneck.
    badge : str
        The status cell of the capacity table (plain text: the cell is coloured like the node, see
        :func:`status_cell_css`).
    fill : str or None
        Node fill; None means "by utilisation" (:func:`utilization_fill`).
    border : str
        Node border: a colour, or a key of the theme (``node_border``, ``hot_border``).
    pen : float
        Border width in points (DOT ``penwidth``, Mermaid ``stroke-width`` in px).
    bold : bool
        The status line is bold (a problem to look at).
    legend : str
        Legend swatch text; empty when the status has no swatch of its own.
    icon : str
        Streamlit Material icon for callouts and messages about this status (``:material/…:``; text, so it
        shows without an emoji font).
    """

    status: str
    label: str
    top_label: str
    badge: str
    fill: str | None
    border: str
    pen: float
    bold: bool
    legend: str = ""
    icon: str = ":material/info:"

    def border_color(self, theme: dict[str, str]) -> str:
        """The border colour under a theme's colours."""
        return theme.get(self.border, self.border)


STATUS_STYLES: dict[str, StatusStyle] = {s.status: s for s in (
    StatusStyle(status="ok", label="✓ ok", top_label="slowest stage", badge="ok", fill=None,
                border="node_border", pen=1.2, bold=False, icon=":material/check_circle:"),
    StatusStyle(status="hot", label="▲ HOT", top_label="HOT", badge="▲ HOT", fill=None,
                border="hot_border", pen=2.2, bold=True, icon=":material/local_fire_department:"),
    StatusStyle(status="saturated", label="✖ SATURATED", top_label="SATURATED", badge="✖ SATURATED",
                fill=SATURATED_FILL, border=SATURATED_BORDER, pen=4.0, bold=True, legend="SATURATED",
                icon=":material/error:"),
    StatusStyle(status="infeasible", label="✖ INFEASIBLE", top_label="INFEASIBLE", badge="✖ INFEASIBLE",
                fill=INFEASIBLE_FILL, border=INFEASIBLE_BORDER, pen=2.5, bold=True, legend="INFEASIBLE",
                icon=":material/block:"),
    StatusStyle(status="idle", label="idle — no traffic", top_label="idle", badge="idle", fill=NEUTRAL_FILL,
                border="node_border", pen=1.2, bold=False, legend="idle / source", icon=":material/pause_circle:"),
    StatusStyle(status="external", label="external", top_label="external", badge="external", fill=NEUTRAL_FILL,
                border="node_border", pen=1.2, bold=False, legend="idle / source", icon=":material/public:"),
)}
"""Every status the engine reports → its style (one table for DOT, Mermaid, charts and the table)."""


def status_style(status: str) -> StatusStyle:
    """The style of a status; an unknown status is drawn like ``ok`` but named as it is."""
    found = STATUS_STYLES.get(status)
    if found is not None:
        return found
    ok = STATUS_STYLES["ok"]
    return StatusStyle(status=status, label=status, top_label=status, badge=status, fill=ok.fill,
                       border=ok.border, pen=ok.pen, bold=False)


def utilization_fill(utilization: float | None, saturated: bool = False) -> str:
    """Fill colour for a utilisation (0–1); saturated → red.

    Examples
    --------
    >>> utilization_fill(0.1), utilization_fill(0.65), utilization_fill(0.99), utilization_fill(1.2, True)
    ('#ffffe5', '#fec44f', '#fe9929', '#ff4d4d')
    """
    if saturated or (utilization is not None and utilization >= 1.0):
        return SATURATED_FILL
    u = 0.0 if utilization is None else max(0.0, utilization)
    for upper, fill, _ in UTIL_SCALE:
        if u < upper:
            return fill
    return UTIL_SCALE[-1][1]


def node_fill(status: str, utilization: float | None, saturated: bool) -> str:
    """A component's fill: its status's own colour, else its utilisation bin.

    Examples
    --------
    >>> node_fill("idle", 0.0, False), node_fill("hot", 0.9, False), node_fill("infeasible", 0.5, False)
    ('#f0f0f0', '#fe9929', '#e4d4f4')
    """
    style = status_style(status)
    if style.fill is not None and status != "saturated":
        return style.fill
    return utilization_fill(utilization, saturated)


def top_bottleneck(report: Report | None) -> str | None:
    """The component id of the first-ranked bottleneck that is a component (None when there is none)."""
    if report is None:
        return None
    for b in report.bottlenecks:
        if b.component in report.components:
            return b.component
    return None


def node_look(status: str, utilization: float | None, saturated: bool, theme: dict[str, str]) -> tuple[str, str, float]:
    """(fill, border colour, border width) of a component node under a theme's colours.

    Idle, external and infeasible components have fixed looks; the others are filled by
    utilisation, with the border of their status (a saturated one always has the saturated border).

    Examples
    --------
    >>> node_look("hot", 0.85, False, THEMES["light"])
    ('#fe9929', '#b35900', 2.2)
    >>> node_look("saturated", 1.3, True, THEMES["dark"])
    ('#ff4d4d', '#8b0000', 4.0)
    """
    if status in ("external", "idle", "infeasible"):
        style = STATUS_STYLES[status]
        return style.fill or NEUTRAL_FILL, style.border_color(theme), style.pen
    style = status_style("saturated" if saturated else status)
    return utilization_fill(utilization, saturated), style.border_color(theme), style.pen


SEVERITY = ("external", "idle", "ok", "hot", "infeasible", "saturated")
"""Statuses from least to most severe (an unknown status ranks with ``ok``)."""


def status_cell_css(status: str, utilization: float | None, saturated: bool = False, theme: str = "light") -> str:
    """CSS for a table's status cell: the node's fill and border colour on the diagram, with dark text.

    The capacity table colours its status column with this, so a row reads like its node: yellow to
    orange by utilisation, red when saturated, purple when infeasible, grey when idle or external.

    Examples
    --------
    >>> status_cell_css("ok", 0.006)
    'background-color: #ffffe5; color: #111111; border-left: 4px solid #57606a'
    >>> status_cell_css("infeasible", None)
    'background-color: #e4d4f4; color: #111111; border-left: 4px solid #6a1b9a'
    """
    fill, border, _ = node_look(status, utilization, saturated, theme_colors(theme))
    return f"background-color: {fill}; color: {NODE_FONT}; border-left: 4px solid {border}"


LEGEND_ROWS: tuple[tuple[str, str, str], ...] = (
    *((fill, text, "") for _, fill, text in UTIL_SCALE),
    (UTIL_SCALE[-1][1], "▲ HOT", "hot_border"),
    (SATURATED_FILL, "SATURATED", SATURATED_BORDER),
    (INFEASIBLE_FILL, "INFEASIBLE", INFEASIBLE_BORDER),
    (NEUTRAL_FILL, "idle / source", ""),
)
"""Every colour a component can have, as (fill, text, border or theme key; "" = the theme's node border):
the utilisation bins, then each status with a look of its own. Pages show it beside the table."""


def worst(components: Iterable[ComponentReport]) -> ComponentReport:
    """The most severe component of a group (the busiest among equals): what a collapsed group shows."""
    return max(components, key=lambda c: (SEVERITY.index(c.status) if c.status in SEVERITY else 2, c.utilization))
