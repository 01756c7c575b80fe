"""Mermaid flowcharts of a pattern at a scenario (GitHub, Obsidian, Notion, GitLab).

The output is plain text that real Mermaid parses: every label is quoted
(``id["…"]``) with quotes, ``#``, ``%``, braces, backticks and pipes as Mermaid
entity codes and ``< > &`` HTML-escaped (so a label can never hold a ``%%{init}%%``
directive or a ``%%`` comment, which Mermaid reads before it parses the diagram); node ids are sanitised to ``[A-Za-z0-9_]`` and never
a Mermaid keyword. Tiers become subgraphs (the clusters of the DOT diagram), statuses become ``classDef``
styles and the critical path a ``linkStyle``; a ``Legend`` subgraph explains the colours, every status
(infeasible included) and the line styles. The one directive, on the first line, is ours: it reserves
room under each subgraph's title (``subGraphTitleMargin``), without which Mermaid lays an edge label that
leaves a tier across the tier's title. Output is deterministic for a given input.

Examples
--------
>>> mermaid_text('say "hi" <b>#1</b> | `x`')
'say #quot;hi#quot; &lt;b&gt;#35;1&lt;/b&gt; #124; #96;x#96;'
>>> mermaid_text("%%{init: {'theme':'dark'}}%%")
"#37;#37;#123;init: #123;'theme':'dark'#125;#125;#37;#37;"
>>> mermaid_id("end"), mermaid_id("Graph"), mermaid_id("9lives"), mermaid_id("a-b")
('end_', 'Graph_', 'n_9lives', 'a_b')
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from explorer.errors import ExportError
from explorer.render.diagram import MAX_DETAILED_NODES, group_key, metrics_text, size_text, views
from explorer.render.styles import (
    NODE_FONT,
    PLAIN_FILL,
    SELECTED_BORDER,
    STATUS_STYLES,
    TIERS,
    UTIL_SCALE,
    DrawOptions,
    node_look,
    status_style,
    theme_colors,
    top_bottleneck,
    utilization_fill,
    worst,
)
from explorer.units import compact, format_percent, format_rate

if TYPE_CHECKING:  # pragma: no cover
    from explorer.engine.report import Report
    from explorer.model.loader import ResolvedPattern

MERMAID_KEYWORDS = frozenset({
    "end", "graph", "flowchart", "subgraph", "style", "class", "classdef", "click", "linkstyle",
    "direction", "call", "href", "default", "interpolate", "callback", "link", "td", "tb", "bt", "rl", "lr",
    "accdescr", "acctitle", "title", "node", "edge", "_blank", "_self", "_parent", "_top",
})
"""Words that must never be a node id (compared case-insensitively)."""

INIT = '%%{init: {"flowchart": {"subGraphTitleMargin": {"top": 4, "bottom": 22}}}}%%'
"""The first line: room under every subgraph title, so no edge label is laid across a tier's title."""
LEGEND_ID = "legend"
"""The legend subgraph's id (reserved: no component gets it)."""

CRITICAL_WIDTH = "2.8px"
ASYNC_DASH = "6 4"
BATCH_DASH = "2 4"

_ARROWS = {"sync": "-->", "async": "-.->", "batch": "-.->"}
_ID_BAD = re.compile(r"[^A-Za-z0-9_]")
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_ENTITIES = {"#": "#35;", "%": "#37;", '"': "#quot;", "`": "#96;", "|": "#124;", "{": "#123;", "}": "#125;",
             "&": "&amp;", "<": "&lt;", ">": "&gt;", "\n": "<br/>", "\t": " "}
"""Characters Mermaid reads inside a quoted label, as the codes that show them as typed."""


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

    ``#`` becomes ``#35;`` so that text which looks like an entity code shows as typed; ``%``, ``{`` and
    ``}`` become codes too, so no label can carry a ``%%{init: …}%%`` directive or a ``%%`` comment.
    Control and format characters (zero-width spaces, bidi controls) are dropped.
    """
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > max_len:
        text = text[: max_len - 1] + "…"
    out: list[str] = []
    for ch in text:
        code = _ENTITIES.get(ch)
        if code is not None:
            out.append(code)
        elif unicodedata.category(ch) not in _INVISIBLE:
            out.append(ch)
    return "".join(out).strip() or " "


def view_ids(rp: ResolvedPattern) -> list[str]:
    """The pattern's view ids, as the diagram offers them (overview first)."""
    return [v.id for v in views(rp)]


def view_title(rp: ResolvedPattern, view: str) -> str:
    """The title of a view (its id when unknown)."""
    return next((v.title for v in views(rp) if v.id == view), view)


def view_nodes(rp: ResolvedPattern, view: str = "overview") -> list[str]:
    """Component ids shown in a view, in file order (the diagram's views).

    Raises
    ------
    ExportError
        For an unknown view, naming the valid ones.
    """
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
    lines = [rp.graph.nodes[n]["label"]]
    if c is None:
        return lines[0]
    lines.append(size_text(c))
    if colored:
        status = status_style(c.status).label
        if top:
            status = "⚠ " + status + (" · top" if c.status in ("ok", "hot") else "")
        lines += [metrics_text(c), status]
    return "\n".join(lines)


def edge_text(rp: ResolvedPattern, report: Report | None, u: str, v: str, label: str, e) -> str:
    """An edge's label and its traffic (``20k/s × 500``), as the diagram shows them."""
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


def to_mermaid(rp: ResolvedPattern, report: Report | None = None, options: DrawOptions = DrawOptions(), *,
               direction: str = "LR") -> str:
    """A Mermaid ``flowchart`` of one view of a pattern, coloured like the diagram.

    Parameters
    ----------
    rp : ResolvedPattern
        The pattern (its graph gives components, tiers and connections).
    report : Report, optional
        The analysis at the scenario; without it the diagram has no numbers or colours.
    options : DrawOptions
        The view (an unknown one raises :class:`ExportError`), the component to highlight, the theme
        (colours of edges and tiers; node fills stay light with dark text, as in the diagram) and
        whether to colour components by utilisation and status and mark the critical path.
    direction : str
        Mermaid flow direction (``LR`` by default).

    Examples
    --------
    >>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
    >>> rp = load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml")
    >>> text = to_mermaid(rp)
    >>> text.splitlines()[1], 'api["Recommendation API"]' in text
    ('flowchart LR', True)
    """
    th = theme_colors(options.theme)
    colored, selected = options.colored, options.selected
    G = rp.graph
    nodes = view_nodes(rp, options.view)
    in_view = set(nodes)
    tiers = [(t, title) for t, title in TIERS if any(G.nodes[n]["tier"] == t for n in nodes)]
    sub_ids = {t: f"tier_{t}" for t, _ in tiers}
    ids = _unique_ids(list(G.nodes), set(sub_ids.values()) | {LEGEND_ID})
    comps = report.components if report is not None else {}
    edges_by_index = {e.index: e for e in report.edges} if report is not None else {}
    paint = colored and report is not None
    top = top_bottleneck(report) if paint else None
    if len(nodes) > MAX_DETAILED_NODES:
        return _collapsed(rp, report, nodes, tiers, sub_ids, th, paint, direction)

    lines = [INIT, f"flowchart {direction}"]
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
            add("plain", f"fill:{PLAIN_FILL},stroke:{th['node_border']},color:{NODE_FONT}", ids[n])
            continue
        if c.status in ("external", "idle"):
            look = STATUS_STYLES[c.status]
            add("neutral", f"fill:{look.fill},stroke:{look.border_color(th)},color:{NODE_FONT}", ids[n])
        elif c.status == "infeasible" or c.saturated:
            look = STATUS_STYLES["infeasible" if c.status == "infeasible" else "saturated"]
            add(look.status, f"fill:{look.fill},stroke:{look.border_color(th)},stroke-width:{look.pen:g}px,"
                f"color:{NODE_FONT}", ids[n])
        else:
            fill = utilization_fill(c.utilization, c.saturated)
            add(_fill_class(fill), f"fill:{fill},color:{NODE_FONT}", ids[n])
            look = status_style("hot" if c.status == "hot" else "ok")
            add(look.status, f"stroke:{look.border_color(th)},stroke-width:{look.pen:g}px", ids[n])
    if top in in_view:
        add("bottleneck", "stroke-width:4px", ids[top])
    if colored and selected in in_view:
        add("selected", f"stroke:{SELECTED_BORDER},stroke-width:4.5px", ids[selected])
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
    lines += legend_lines(report, th, paint, set(ids.values()), direction)
    return "\n".join(lines) + "\n"


def legend_entries(report: Report | None, th: dict[str, str], paint: bool) -> list[list[tuple[str, str]]]:
    """The legend as rows of ``(text, Mermaid style)``: utilisation bins, every status, the line styles.

    Examples
    --------
    >>> from explorer.render.styles import THEMES
    >>> rows = legend_entries(None, THEMES["light"], False)
    >>> len(rows), rows[0][0][0]
    (1, 'solid arrow: sync call')
    """
    rows: list[list[tuple[str, str]]] = []
    note = f"fill:{th['cluster_fill']},stroke:{th['cluster_border']},color:{th['font']}"
    if paint and report is not None:
        rows.append([(f"ρ {text}", f"fill:{fill},stroke:{th['node_border']},color:{NODE_FONT}")
                     for _, fill, text in UTIL_SCALE])
        statuses = []
        for style in STATUS_STYLES.values():
            fill = style.fill or (UTIL_SCALE[3][1] if style.status == "hot" else PLAIN_FILL)
            statuses.append((style.label, f"fill:{fill},stroke:{style.border_color(th)},stroke-width:{style.pen:g}px,"
                                          f"color:{NODE_FONT}"))
        rows.append(statuses)
        target = format_percent(report.target_utilization)
        rows.append([(text, note) for text in (
            f"HOT: ρ above the {target} target", "SATURATED: ρ ≥ 100%, no finite latency",
            "INFEASIBLE: no replica count meets its latency budget", "⚠ #1 bottleneck: thick border",
            "blue outline: selected")])
    lines = ["solid arrow: sync call", "dashed: async event", "dotted: batch"]
    if report is not None:
        lines.append("edge text: calls/s × items per call")
        if paint and report.end_to_end is not None:
            lines.append("bold arrow: critical path")
    rows.append([(text, note) for text in lines])
    return rows


def legend_lines(report: Report | None, th: dict[str, str], paint: bool, taken: set[str], direction: str) -> list[str]:
    """The ``Legend`` subgraph: one node per entry (ids that no component has), each row chained by invisible
    links so it reads across; only when there is an analysis to explain."""
    if report is None:
        return []
    lines = [f'  subgraph {LEGEND_ID}["Legend"]', f"    direction {direction}"]
    used = {t.lower() for t in taken}
    styles, chains = [], []
    n = 0
    for row in legend_entries(report, th, paint):
        row_ids = []
        for text, style in row:
            n += 1
            node_id = f"legend_{n}"
            while node_id.lower() in used:
                node_id += "_"
            used.add(node_id.lower())
            row_ids.append(node_id)
            lines.append(f'    {node_id}["{mermaid_text(text)}"]')
            styles.append(f"  style {node_id} {style}")
        if len(row_ids) > 1:
            chains.append("  " + " ~~~ ".join(row_ids))
    lines.append("  end")
    lines += chains + styles
    lines.append(f"  style {LEGEND_ID} fill:none,stroke:{th['cluster_border']},color:{th['muted']}")
    return lines


def _collapsed(rp: ResolvedPattern, report: Report | None, nodes: list[str], tiers: list[tuple[str, str]],
               sub_ids: dict[str, str], th: dict[str, str], paint: bool, direction: str) -> str:
    """A view too big to draw one by one (as the DOT diagram does): one node per tier and category with
    its count and worst status, one arrow per pair of groups and kind with the number of connections."""
    G = rp.graph
    in_view = set(nodes)
    members: dict[str, list[str]] = {}
    for n in nodes:
        members.setdefault(group_key(rp, n), []).append(n)
    ids = _unique_ids(list(members), set(sub_ids.values()) | {LEGEND_ID})
    comps = report.components if report is not None else {}
    lines = [INIT, f"flowchart {direction}"]
    styles: list[str] = []
    for tier, title in tiers:
        lines.append(f'  subgraph {sub_ids[tier]}["{mermaid_text(title)}"]')
        lines.append(f"    direction {direction}")
        for key, ns in members.items():
            if G.nodes[ns[0]]["tier"] != tier:
                continue
            text = [f"{G.nodes[ns[0]]['category'].capitalize()} ×{len(ns)}", f"{len(ns)} components"]
            reports = [comps[n] for n in ns if n in comps]
            fill, border, pen = PLAIN_FILL, th["node_border"], 1.2
            if paint and reports:
                worst_one = worst(reports)
                text.append(f"max ρ {format_percent(worst_one.utilization)} · worst {status_style(worst_one.status).label}")
                fill, border, pen = node_look(worst_one.status, worst_one.utilization, worst_one.saturated, th)
            lines.append(f'    {ids[key]}["{mermaid_text(chr(10).join(text))}"]')
            styles.append(f"  style {ids[key]} fill:{fill},stroke:{border},stroke-width:{pen:g}px,color:{NODE_FONT}")
        lines.append("  end")
    bundles: dict[tuple[str, str, str], int] = {}
    for u, v, _k, data in sorted(G.edges(keys=True, data=True), key=lambda e: e[2]):
        if u in in_view and v in in_view and group_key(rp, u) != group_key(rp, v):
            key = (group_key(rp, u), group_key(rp, v), data["kind"])
            bundles[key] = bundles.get(key, 0) + 1
    for (gu, gv, kind), count in bundles.items():
        text = f"{count} connection{'s' if count != 1 else ''}"
        lines.append(f'  {ids[gu]} {_ARROWS.get(kind, "-->")}|"{mermaid_text(text)}"| {ids[gv]}')
    lines += styles
    for tier, _ in tiers:
        lines.append(f"  style {sub_ids[tier]} fill:{th['cluster_fill']},stroke:{th['cluster_border']},color:{th['muted']}")
    lines += legend_lines(report, th, paint, set(ids.values()), direction)
    return "\n".join(lines) + "\n"
