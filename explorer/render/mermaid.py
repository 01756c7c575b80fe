"""Mermaid flowcharts of a pattern at a scenario (GitHub, Obsidian, Notion, GitLab).

The output is plain text that real Mermaid parses: every label is quoted
(``id["…"]``) with quotes, ``#``, backticks and pipes as Mermaid entity codes
and ``< > &`` HTML-escaped; node ids are sanitised to ``[A-Za-z0-9_]`` and never
a Mermaid keyword. Tiers become subgraphs, statuses become ``classDef`` styles
and the critical path a ``linkStyle``. Output is deterministic for a given input.

Examples
--------
>>> mermaid_text('say "hi" <b>#1</b> | `x`')
'say #quot;hi#quot; &lt;b&gt;#35;1&lt;/b&gt; #124; #96;x#96;'
>>> mermaid_id("end"), mermaid_id("Graph"), mermaid_id("9lives"), mermaid_id("a-b")
('end_', 'Graph_', 'n_9lives', 'a_b')
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from explorer.errors import ExportError

if TYPE_CHECKING:  # pragma: no cover
    from explorer.engine.report import Report
    from explorer.model.loader import ResolvedPattern

MERMAID_KEYWORDS = frozenset({
    "end", "graph", "flowchart", "subgraph", "style", "class", "classdef", "click", "linkstyle",
    "direction", "call", "href", "default", "interpolate", "callback", "link", "td", "tb", "bt", "rl", "lr",
    "accdescr", "acctitle", "title", "node", "edge", "_blank", "_self", "_parent", "_top",
})
"""Words that must never be a node id (compared case-insensitively)."""

CRITICAL_WIDTH = "2.8px"
ASYNC_DASH = "6 4"
BATCH_DASH = "2 4"

_ARROWS = {"sync": "-->", "async": "-.->", "batch": "-.->"}
_ID_BAD = re.compile(r"[^A-Za-z0-9_]")
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_STATUS_TEXT = {"ok": "✓ ok", "hot": "▲ HOT", "saturated": "✖ SATURATED", "infeasible": "✖ INFEASIBLE",
                "idle": "idle — no traffic", "external": "external"}
_HARDWARE = {"cpu": "CPU", "gpu": "GPU", "managed": "managed", "none": ""}


def mermaid_id(raw: str) -> str:
    """A node id Mermaid accepts: ``[A-Za-z0-9_]``, starting with a letter, never a keyword."""
    out = _ID_BAD.sub("_", raw) or "n"
    if not out[0].isalpha():
        out = "n_" + out
    if out.lower() in MERMAID_KEYWORDS:
        out += "_"
    return out


def mermaid_text(text: str, max_len: int = 400) -> str:
    """Escape any text for a quoted Mermaid label (``"…"``); newlines become ``<br/>``.

    ``#`` becomes ``#35;`` so that text which looks like an entity code shows as typed.
    Control and format characters (zero-width spaces, bidi controls) are dropped.
    """
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > max_len:
        text = text[: max_len - 1] + "…"
    out: list[str] = []
    for ch in text:
        if ch == "#":
            out.append("#35;")
        elif ch == '"':
            out.append("#quot;")
        elif ch == "`":
            out.append("#96;")
        elif ch == "|":
            out.append("#124;")
        elif ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch == "\n":
            out.append("<br/>")
        elif ch == "\t":
            out.append(" ")
        elif unicodedata.category(ch) in _INVISIBLE:
            continue
        else:
            out.append(ch)
    return "".join(out).strip() or " "


def view_ids(rp: ResolvedPattern) -> list[str]:
    """The pattern's view ids, as the diagram offers them (overview first)."""
    from explorer.render.diagram import views
    return [v.id for v in views(rp)]


def view_title(rp: ResolvedPattern, view: str) -> str:
    """The title of a view (its id when unknown)."""
    from explorer.render.diagram import views
    return next((v.title for v in views(rp) if v.id == view), view)


def view_nodes(rp: ResolvedPattern, view: str = "overview") -> list[str]:
    """Component ids shown in a view, in file order (the diagram's views).

    Raises
    ------
    ExportError
        For an unknown view, naming the valid ones.
    """
    from explorer.render.diagram import views
    specs = views(rp)
    for v in specs:
        if v.id == view:
            return list(v.components)
    raise ExportError(f"{rp.id} has no view {view!r} (views: {', '.join(v.id for v in specs)})")


def _unique_ids(raw_ids: list[str], reserved: set[str]) -> dict[str, str]:
    """Sanitised, unique ids (sanitising may map two raw ids to one)."""
    taken = {r.lower() for r in reserved}
    out: dict[str, str] = {}
    for raw in raw_ids:
        base = mermaid_id(raw)
        cand, n = base, 2
        while cand.lower() in taken:
            cand, n = f"{base}_{n}", n + 1
        taken.add(cand.lower())
        out[raw] = cand
    return out


def node_text(rp: ResolvedPattern, n: str, c, colored: bool, top: bool = False) -> str:
    """A component's label as the diagram shows it: name, size, and (coloured) utilisation, p99 and status
    (⚠ on the top bottleneck)."""
    from explorer.units import compact, format_ms, format_percent
    lines = [rp.graph.nodes[n]["label"]]
    if c is None:
        return lines[0]
    if c.status == "external":
        lines.append("sends the requests")
    else:
        size = (f"{compact(c.shards)} shards × {compact(c.replicas)}" if c.shards > 1
                else f"{compact(c.replicas)} replica{'s' if c.replicas != 1 else ''}")
        hw = _HARDWARE.get(c.hardware, "")
        lines.append(f"{size} · {hw}" if hw else size)
    if colored:
        if c.status == "external":
            metrics = "outside the system"
        elif c.status == "idle":
            metrics = "ρ 0%"
        else:
            metrics = f"ρ {format_percent(c.utilization)} · p99 {'∞' if c.saturated else format_ms(c.p99_ms)}"
        status = _STATUS_TEXT.get(c.status, c.status)
        if top:
            status = "⚠ " + status + (" · top" if c.status in ("ok", "hot") else "")
        lines += [metrics, status]
    return "\n".join(lines)


def edge_text(rp: ResolvedPattern, report: Report | None, u: str, v: str, label: str, e) -> str:
    """An edge's label and its traffic (``20k/s × 500``), as the diagram shows them."""
    from explorer.units import compact, format_rate
    parts = [label] if label else []
    if e is not None and report is not None:
        rate = e.calls_per_s
        if rate == 0 and report.end_to_end is not None and v == report.end_to_end.entry \
                and rp.graph.nodes[u]["category"] == "client":
            rate = report.components[v].calls_per_s  # requests enter at the entry
        traffic = format_rate(rate)
        if e.items_per_call != 1:
            traffic += f" × {compact(e.items_per_call)}"
        parts.append(traffic)
    return "\n".join(parts)


def _fill_class(fill: str) -> str:
    return "fill_" + fill.lstrip("#").lower()


def to_mermaid(rp: ResolvedPattern, report: Report | None = None, view: str = "overview",
               selected: str | None = None, theme: str = "light", colored: bool = True,
               direction: str = "LR") -> str:
    """A Mermaid ``flowchart`` of one view of a pattern, coloured like the diagram.

    Parameters
    ----------
    rp : ResolvedPattern
        The pattern (its graph gives components, tiers and connections).
    report : Report, optional
        The analysis at the scenario; without it the diagram has no numbers or colours.
    view : str
        A view id of the pattern (``overview``, ``serving``, ``offline`` or the pattern's own).
    selected : str, optional
        A component id to highlight.
    theme : {"light", "dark"}
        Colours of edges and tiers (node fills stay light with dark text, as in the diagram).
    colored : bool
        Colour components by utilisation and status and mark the critical path.

    Examples
    --------
    >>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
    >>> rp = load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml")
    >>> text = to_mermaid(rp)
    >>> text.splitlines()[0], 'api["Recommendation API"]' in text
    ('flowchart LR', True)
    """
    from explorer.render import diagram as dg
    th = dg.THEMES.get(theme, dg.THEMES["light"])
    G = rp.graph
    nodes = view_nodes(rp, view)
    in_view = set(nodes)
    tiers = [(t, title) for t, title in dg.TIERS if any(G.nodes[n]["tier"] == t for n in nodes)]
    sub_ids = {t: f"tier_{t}" for t, _ in tiers}
    ids = _unique_ids(list(G.nodes), set(sub_ids.values()))
    comps = report.components if report is not None else {}
    edges_by_index = {e.index: e for e in report.edges} if report is not None else {}
    paint = colored and report is not None
    top = dg._top_bottleneck(report) if paint else None

    lines = [f"flowchart {direction}"]
    for tier, title in tiers:
        lines.append(f'  subgraph {sub_ids[tier]}["{mermaid_text(title)}"]')
        lines.append(f"    direction {direction}")
        for n in nodes:
            if G.nodes[n]["tier"] == tier:
                lines.append(f'    {ids[n]}["{mermaid_text(node_text(rp, n, comps.get(n), paint, n == top))}"]')
        lines.append("  end")

    link_styles: dict[str, list[int]] = {}
    link = 0
    for u, v, k, data in G.edges(keys=True, data=True):
        if u not in in_view or v not in in_view:
            continue
        e = edges_by_index.get(k)
        text = edge_text(rp, report, u, v, data["connection"].label or "", e)
        label = f'|"{mermaid_text(text)}"|' if text else ""
        lines.append(f"  {ids[u]} {_ARROWS.get(data['kind'], '-->')}{label} {ids[v]}")
        dash = {"async": f",stroke-dasharray:{ASYNC_DASH}", "batch": f",stroke-dasharray:{BATCH_DASH}"}.get(data["kind"], "")
        critical = paint and e is not None and e.on_critical_path
        style = (f"stroke:{th['critical']},stroke-width:{CRITICAL_WIDTH}" if critical
                 else f"stroke:{th['edge']},stroke-width:1.2px") + dash
        link_styles.setdefault(style, []).append(link)
        link += 1

    # classes: a fill per utilisation bin, then status borders, the top bottleneck, the selection
    classes: dict[str, tuple[str, list[str]]] = {}

    def add(name: str, style: str, node_id: str) -> None:
        classes.setdefault(name, (style, []))[1].append(node_id)

    for n in nodes:
        c = comps.get(n)
        if not paint or c is None:
            add("plain", f"fill:#ffffff,stroke:{th['node_border']},color:{dg.NODE_FONT}", ids[n])
            continue
        if c.status in ("external", "idle"):
            add("neutral", f"fill:{dg.NEUTRAL_FILL},stroke:{th['node_border']},color:{dg.NODE_FONT}", ids[n])
        elif c.status == "infeasible":
            add("infeasible", f"fill:{dg.INFEASIBLE_FILL},stroke:#6a1b9a,stroke-width:2.5px,color:{dg.NODE_FONT}", ids[n])
        elif c.saturated:
            add("saturated", f"fill:{dg.SATURATED_FILL},stroke:{dg.SATURATED_BORDER},stroke-width:4px,"
                f"color:{dg.NODE_FONT}", ids[n])
        else:
            fill = dg.utilization_fill(c.utilization, c.saturated)
            add(_fill_class(fill), f"fill:{fill},color:{dg.NODE_FONT}", ids[n])
            if c.status == "hot":
                add("hot", f"stroke:{th['hot_border']},stroke-width:2.2px", ids[n])
            else:
                add("ok", f"stroke:{th['node_border']},stroke-width:1.2px", ids[n])
    if top in in_view:
        add("bottleneck", "stroke-width:4px", ids[top])
    if colored and selected in in_view:
        add("selected", f"stroke:{dg.SELECTED_BORDER},stroke-width:4.5px", ids[selected])
    order = sorted(classes, key=lambda name: (
        ["plain", "neutral"].index(name) if name in ("plain", "neutral") else
        2 if name.startswith("fill_") else
        3 + ["ok", "hot", "infeasible", "saturated", "bottleneck", "selected"].index(name), name))
    for name in order:
        lines.append(f"  classDef {name} {classes[name][0]}")
    for name in order:
        lines.append(f"  class {','.join(classes[name][1])} {name}")
    for tier, _ in tiers:
        lines.append(f"  style {sub_ids[tier]} fill:{th['cluster_fill']},stroke:{th['cluster_border']},color:{th['muted']}")
    for style, links in link_styles.items():
        lines.append(f"  linkStyle {','.join(map(str, links))} {style}")
    return "\n".join(lines) + "\n"
