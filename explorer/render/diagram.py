"""The pattern as a Graphviz diagram (DOT), coloured by the analysis.

Builds a :class:`graphviz.Digraph` only; nothing here lays out, renders or
writes files (no system Graphviz is needed: the browser renders the DOT).

What the diagram shows
----------------------
- one node per component (node id = component id), grouped in clusters by tier:
  online (the request path), nearline (fed by events), offline (batch);
- node fill = utilisation on a light sequential scale (dark text stays readable
  in both themes); saturated components are red with a thick dark-red border
  and the word SATURATED; the top bottleneck carries ⚠ and a thicker border;
- edges carry their traffic (calls/s and items per call, ``20k/s × 500``);
  sync edges are solid, async dashed, batch dotted; critical-path edges are bold;
- a legend table (the graph's label, bottom right) explains the colours and line styles;
- ``selected`` outlines one component in blue;
- a view of more than :data:`MAX_DETAILED_NODES` components is drawn collapsed: one node per
  tier and category (count, worst status) and one arrow per pair of groups and kind.

Colours, status words and drawing options come from :mod:`explorer.render.styles`.

Layout stability
----------------
The structure (clusters, node order, edge order, attributes present, number of
label lines) depends only on the pattern, the view, ``colored`` and whether a
report is given, never on the numbers, so Graphviz keeps the same layout while
a slider moves: only label text and colours change. ``rankdir`` is fixed.

Examples
--------
>>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
>>> from explorer.engine.analysis import analyse
>>> rp = load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml")
>>> dot = to_dot(rp, analyse(rp))
>>> dot.startswith("digraph two_stage_recommender {")
True
>>> "cluster_online" in dot and "ranker" in dot
True
"""

from __future__ import annotations

import hashlib
import html
import re
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import graphviz
import networkx as nx

from explorer.render.styles import (
    FAILED_BORDER,
    FAILED_FILL,
    FALLBACK_EDGE,
    HARDWARE_TEXT,
    NODE_FONT,
    PLAIN_FILL,
    SELECTED_BORDER,
    STATUS_STYLES,
    SUBTITLE_FONT,
    TIERS,
    UTIL_SCALE,
    DrawOptions,
    node_look,
    status_style,
    theme_colors,
    top_bottleneck,
    worst,
)
from explorer.units import compact, format_ms, format_percent, format_rate

if TYPE_CHECKING:  # pragma: no cover
    from explorer.engine.report import ComponentReport, EdgeReport, Report
    from explorer.model.loader import ResolvedPattern

FONT = "Helvetica,Arial,sans-serif"
# Streamlit's chart CSS draws every SVG text at ~9.6 px whatever the DOT says, so all text is sized
# 10 here: Graphviz then reserves enough room and nothing overlaps on the page or in exports.
WRAP_CHARS = 18
"""Preferred characters per line of a node title or an edge label (two lines at most)."""
WRAP_MAX_CHARS = 30
"""Widest line before a title or label is cut with "…"."""
RANKDIR = "TB"
"""Fixed direction: requests flow top to bottom, so wide pages fit more of the diagram at a readable size."""

SHAPES = {
    "client": "box", "edge": "box", "service": "box", "retrieval": "box", "ranking": "box",
    "features": "cylinder", "storage": "cylinder", "stream": "box", "batch": "box3d", "monitoring": "box",
}

_TIER_RANK = {"online": 0, "nearline": 1, "offline": 2}

_EDGE_STYLE = {"sync": "solid", "async": "dashed", "batch": "dotted"}

MAX_DETAILED_NODES = 150
"""Largest view drawn one node per component. Graphviz lays out 150 components in about a second and
300 in about six (1,000 never finish: "trouble in init_rank"), in the browser too; a bigger view is
drawn collapsed, one node per tier and category with counts (:func:`group_key`)."""

# --------------------------------------------------------------------------- views

@dataclass(frozen=True)
class ViewSpec:
    """A view of a pattern: an id, a title and the component ids it shows (in file order)."""

    id: str
    title: str
    components: tuple[str, ...]


def views(rp: ResolvedPattern) -> list[ViewSpec]:
    """The pattern's views: the declared ones (overview first), or overview / serving / offline derived from tiers.

    Examples
    --------
    >>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
    >>> [v.id for v in views(load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml"))]
    ['overview', 'serving', 'offline']
    """
    G = rp.graph
    order = list(G.nodes)
    out: list[ViewSpec] = []
    for v in rp.pattern.views:
        ids = order if v.components == "all" else [n for n in order if n in set(v.components)]
        out.append(ViewSpec(v.id, v.title, tuple(ids)))
    if not any(v.id == "overview" for v in out):
        out.insert(0, ViewSpec("overview", "Overview", tuple(order)))
    if len(out) == 1:  # nothing declared: derive from tiers
        online = tuple(n for n in order if G.nodes[n]["tier"] == "online")
        rest = tuple(n for n in order if G.nodes[n]["tier"] != "online")
        if online and rest:
            out.append(ViewSpec("serving", "Serving path", online))
            out.append(ViewSpec("offline", "Offline and nearline", rest))
    return out


def view_spec(rp: ResolvedPattern, view: str | None) -> ViewSpec:
    """The named view, or the overview when ``view`` is unknown or None."""
    specs = views(rp)
    for v in specs:
        if v.id == view:
            return v
    return specs[0]


# --------------------------------------------------------------------------- text helpers

def _text(value: object, limit: int = 60) -> str:
    """One line of user text: whitespace (newlines included) collapsed, length limited."""
    s = re.sub(r"\s+", " ", str(value)).strip()
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return s


def _h(value: object, limit: int = 60) -> str:
    """User text made safe inside an HTML-like Graphviz label."""
    return html.escape(_text(value, limit), quote=True)


def _greedy(words: list[str], width: int) -> list[str]:
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
            continue
        while len(word) > width:  # a word longer than a line starts its own line and is cut
            lines.append(word[:width])
            word = word[width:]
        lines.append(word)
    return [line for line in lines if line] or [""]


def _wrap(value: object, width: int = WRAP_CHARS, max_lines: int = 2, max_width: int = WRAP_MAX_CHARS) -> list[str]:
    """One line of user text wrapped at word boundaries into at most ``max_lines`` lines.

    The narrowest width from ``width`` to ``max_width`` characters that fits is used, so short
    labels stay narrow (wide fan-outs stay legible once scaled to the page) and long ones are
    not cut; text that does not fit even at ``max_width`` ends with "…".

    Examples
    --------
    >>> _wrap("Video ANN (IVF-PQ, GPU shards)")
    ['Video ANN (IVF-PQ,', 'GPU shards)']
    >>> _wrap("Re-ranking (diversity, frequency)")
    ['Re-ranking (diversity,', 'frequency)']
    >>> _wrap("a" * 70)
    ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaa…']
    >>> _wrap('Hostile "label" <script>alert(1)</script>')
    ['Hostile "label"', '<script>alert(1)</script>']
    """
    words = _text(value, 200).split(" ")
    for w in range(width, max_width + 1):
        lines = _greedy(words, w)
        if len(lines) <= max_lines:
            return lines
    lines = _greedy(words, max_width)[:max_lines]
    lines[-1] = lines[-1][: max_width - 1].rstrip() + "…"
    return lines


def _plain(value: str) -> graphviz.quoting.NoHtml:
    """A plain (non-HTML) label: backslashes literal, never read as HTML even if it looks like <…>."""
    return graphviz.nohtml(value)


def _esc(value: object, limit: int = 60) -> str:
    """User text inside a plain label: one line, backslashes disabled."""
    return _text(value, limit).replace("\\", "\\\\")


# --------------------------------------------------------------------------- labels

def size_text(c: ComponentReport) -> str:
    """A node's size line: shards × replicas and hardware (``4 shards × 3 · GPU``), or what a source does."""
    hw = HARDWARE_TEXT.get(c.hardware, "")
    if c.status == "external":
        return "sends the requests"
    if c.shards > 1:
        text = f"{compact(c.shards)} shards × {compact(c.replicas)}"
    else:
        text = f"{compact(c.replicas)} replica{'s' if c.replicas != 1 else ''}"
    return f"{text} · {hw}" if hw else text


def metrics_text(c: ComponentReport) -> str:
    """A node's numbers line: utilisation and p99 (``ρ 62% · p99 14 ms``)."""
    if c.status == "external":
        return "outside the system"
    if c.status == "idle":
        return "ρ 0%"
    p99 = "∞" if c.saturated else format_ms(c.p99_ms)
    return f"ρ {format_percent(c.utilization)} · p99 {p99}"


def _node_label(title: str, subtitle: str, lines: list[tuple[str, bool]], font: str) -> str:
    """HTML-like label: bold title, small subtitle, then lines (text, bold). All text pre-escaped."""
    rows = [f'<TR><TD><B>{title}</B></TD></TR>']
    if subtitle:
        rows.append(f'<TR><TD><FONT COLOR="{font}">{subtitle}</FONT></TD></TR>')
    for text, bold in lines:
        rows.append(f"<TR><TD>{f'<B>{text}</B>' if bold else text}</TD></TR>")
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">' + "".join(rows) + "</TABLE>>"


def _legend_label(theme: dict, colored: bool, report: Report | None, note: str = "") -> str:
    """The legend: one row of utilisation swatches, one row of marks and line styles (an HTML-like table)."""
    font = theme["font"]
    border = theme["node_border"]

    def swatch(fill: str, text: str, edge: str = border) -> str:
        return f'<TD BGCOLOR="{fill}" BORDER="1" COLOR="{edge}"><FONT COLOR="{NODE_FONT}">{text}</FONT></TD>'

    def cell(text: str, span: int = 1) -> str:
        return f'<TD ALIGN="LEFT" COLSPAN="{span}"><FONT COLOR="{font}">{text}</FONT></TD>'

    rows = []
    if colored and report is not None:
        cells = [cell("<B>ρ</B>")] + [swatch(fill, html.escape(text)) for _, fill, text in UTIL_SCALE]
        seen = set()
        for style in STATUS_STYLES.values():  # the statuses with a colour of their own
            if style.legend and style.legend not in seen:
                seen.add(style.legend)
                text = f"<B>{html.escape(style.legend)}</B>" if style.bold else html.escape(style.legend)
                cells.append(swatch(style.fill or PLAIN_FILL, text, style.border_color(theme)))
        rows.append("".join(cells))
        target = format_percent(report.target_utilization)
        marks = f"▲ HOT: ρ &gt; {target} target · ⚠ #1 bottleneck · blue outline: selected"
        rows.append(cell(marks, len(cells)))
        span = len(cells)
    else:
        span = 1
    styles = "──── sync call · ─ ─ ─ async event · · · · · batch"
    if report is not None:
        styles += " · edge: calls/s × items per call"
        if colored and report.end_to_end is not None:
            styles += " · <B>bold</B>: critical path"
    rows.append(cell(styles, span))
    if note:
        rows.append(cell(html.escape(note), span))
    return (f'<<TABLE BORDER="1" COLOR="{theme["cluster_border"]}" STYLE="ROUNDED" CELLBORDER="0" CELLSPACING="2" '
            f'CELLPADDING="2">' + "".join(f"<TR>{r}</TR>" for r in rows) + "</TABLE>>")


# --------------------------------------------------------------------------- the diagram

def build_digraph(rp: ResolvedPattern, report: Report | None, options: DrawOptions = DrawOptions(), *,
                  render_key: bool = False) -> graphviz.Digraph:
    """The pattern as a Graphviz digraph, coloured by a report.

    Parameters
    ----------
    rp : ResolvedPattern
        The pattern (its graph gives nodes, edges and tiers).
    report : Report or None
        The analysis at the scenario shown. None draws the structure only (no numbers).
    options : DrawOptions
        The view (an unknown id falls back to the overview), the selected component (outlined),
        the theme (colours of text, edges and clusters; node fills stay light with dark text) and
        ``colored`` (False gives a neutral diagram: no utilisation colours, statuses, bottleneck
        mark, critical path or selection; edges keep their traffic when a report is given).
    render_key : bool
        For live pages: name the graph ``<pattern id>__<hash of its content>``. Streamlit draws
        DOT with d3-graphviz, which matches SVG elements to the previous render by the graph's
        name and then samples every matched path at 1 px to prepare shape tweens — about 1.4 s
        for a 17-component diagram in headless Chromium, on every slider move, although no
        transition is shown. A name that changes with the content makes every render fresh
        (about 20 ms). Still deterministic: the same inputs give the same bytes. Off for
        exports and golden files (the name stays the pattern id).

    Returns
    -------
    graphviz.Digraph
        Not rendered; ``str()`` or :func:`to_dot` gives the DOT source.
    """
    th = theme_colors(options.theme)
    spec = view_spec(rp, options.view)
    colored, selected = options.colored, options.selected
    shown = set(spec.components)
    G = rp.graph
    show_numbers = report is not None
    paint = colored and report is not None
    top = top_bottleneck(report) if paint else None

    collapsed = len(spec.components) > MAX_DETAILED_NODES
    note = (f"{len(spec.components)} components, more than {MAX_DETAILED_NODES} to draw one by one: each box is "
            "every component of one category in one tier (worst status shown); arrows sum the connections "
            "between them") if collapsed else ""

    g = graphviz.Digraph(name=rp.id, strict=False)
    g.attr("graph", rankdir=RANKDIR, bgcolor=th["background"], fontname=FONT, fontsize="10", fontcolor=th["font"],
           nodesep="0.22", ranksep="0.42", newrank="true", pad="0.15", outputorder="edgesfirst",
           labelloc="b", labeljust="r", label=_legend_label(th, colored, report, note))
    g.attr("node", shape="box", style="rounded,filled", fontname=FONT, fontsize="10", fontcolor=NODE_FONT,
           fillcolor="#ffffff", color=th["node_border"], penwidth="1.2", margin="0.07,0.03", width="1.3")
    g.attr("edge", fontname=FONT, fontsize="10", fontcolor=th["muted"], color=th["edge"], arrowsize="0.6",
           penwidth="1.2")

    if collapsed:
        _draw_groups(g, rp, report, spec, th, paint, selected)
        if render_key:
            g.name = f"{rp.id}__{hashlib.sha1(g.source.encode('utf-8')).hexdigest()[:10]}"
        return g

    for tier, title in TIERS:
        members = [n for n in G.nodes if n in shown and G.nodes[n]["tier"] == tier]
        if not members:
            continue
        with g.subgraph(name=f"cluster_{tier}") as c:
            c.attr(label=title, labeljust="l", labelloc="t", style="rounded,filled", fillcolor=th["cluster_fill"],
                   color=th["cluster_border"], fontcolor=th["muted"], fontsize="10", margin="8")
            for n in members:
                attrs = _node_attrs(rp, n, report, th, paint, show_numbers, top, selected, colored)
                c.node(n, **(_failed_attrs(attrs) if n in options.failed else attrs))

    edges_by_index = {e.index: e for e in report.edges} if report is not None else {}
    for u, v, k, data in sorted(G.edges(keys=True, data=True), key=lambda e: e[2]):  # file order
        if u not in shown or v not in shown:
            continue
        cn = data["connection"]
        kind = data["kind"]
        er = edges_by_index.get(k)
        rate = None if er is None or report is None else edge_traffic(rp, report, er)
        parts = []
        if cn.label:
            parts.extend(line.replace("\\", "\\\\") for line in _wrap(cn.label))
        if show_numbers and er is not None:
            traffic = format_rate(rate)
            if er.items_per_call != 1:
                traffic += f" × {compact(er.items_per_call)}"
            parts.append(traffic)
        attrs = {"style": _EDGE_STYLE.get(kind, "solid"), "id": f"edge_{k}"}
        if _TIER_RANK.get(G.nodes[v]["tier"], 0) < _TIER_RANK.get(G.nodes[u]["tier"], 0):
            attrs["constraint"] = "false"  # feedback into an earlier tier (index rebuilds) must not bend the request path
        if parts:
            attrs["label"] = _plain("\\n".join(parts))
        if paint and er is not None and er.on_critical_path:
            attrs.update(penwidth="2.8", color=th["critical"], fontcolor=th["font"])
        else:
            attrs.update(penwidth="1.2", color=th["edge"], fontcolor=th["muted"])
        g.edge(u, v, **attrs)

    for j, (u, v, label) in enumerate(options.fallback_edges):
        if u in shown and v in shown:
            g.edge(u, v, style="dashed", color=FALLBACK_EDGE, fontcolor=FALLBACK_EDGE, penwidth="2.6",
                   label=_plain("\\n".join(_wrap(label))), id=f"fallback_{j}", constraint="false")
    for u, v in _stacking_edges(rp, spec.components):
        g.edge(u, v, style="invis", id=f"stack_{u}_{v}")
    if render_key:
        g.name = f"{rp.id}__{hashlib.sha1(g.source.encode('utf-8')).hexdigest()[:10]}"
    return g


def edge_traffic(rp: ResolvedPattern, report: Report, er: EdgeReport) -> float:
    """Calls per second drawn on an edge: its own rate, except that a client's edge into the entry (which
    carries no modelled calls) shows the requests that enter there."""
    if er.calls_per_s == 0 and report.end_to_end is not None and er.target == report.end_to_end.entry \
            and rp.graph.nodes[er.source]["category"] == "client":
        return report.components[er.target].calls_per_s
    return er.calls_per_s


def group_key(rp: ResolvedPattern, n: str) -> str:
    """The node id of a component's group in a collapsed diagram: ``group__<tier>__<category>``.

    Examples
    --------
    >>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
    >>> group_key(load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml"), "ranker")
    'group__online__ranking'
    """
    node = rp.graph.nodes[n]
    return f"group__{node['tier']}__{node['category']}"


def _draw_groups(g: graphviz.Digraph, rp: ResolvedPattern, report: Report | None, spec: ViewSpec, th: dict,
                 paint: bool, selected: str | None) -> None:
    """A collapsed diagram: one node per (tier, category) with its count and worst status, and one
    edge per (group, group, kind) with the number of connections and their summed calls per second."""
    G = rp.graph
    shown = set(spec.components)
    members: dict[str, list[str]] = {}
    for n in spec.components:
        members.setdefault(group_key(rp, n), []).append(n)
    comps = report.components if report is not None else {}
    top = top_bottleneck(report) if paint else None
    for tier, title in TIERS:
        keys = [k for k, ns in members.items() if G.nodes[ns[0]]["tier"] == tier]
        if not keys:
            continue
        with g.subgraph(name=f"cluster_{tier}") as c:
            c.attr(label=title, labeljust="l", labelloc="t", style="rounded,filled", fillcolor=th["cluster_fill"],
                   color=th["cluster_border"], fontcolor=th["muted"], fontsize="10", margin="8")
            for key in keys:
                ns = members[key]
                category = G.nodes[ns[0]]["category"]
                lines: list[tuple[str, bool]] = [(f"{len(ns)} component{'s' if len(ns) != 1 else ''}", False)]
                attrs = {"shape": SHAPES.get(category, "box"), "id": f"node_{key}",
                         "class": f"group tier-{tier} category-{category}",
                         "tooltip": _plain(_esc(", ".join(ns[:12]) + (f" and {len(ns) - 12} more" if len(ns) > 12 else ""), 200))}
                if attrs["shape"] != "box":
                    attrs["style"] = "filled"
                reports = [comps[n] for n in ns if n in comps]
                if paint and reports:
                    worst_one = worst(reports)
                    counts = {st: sum(cr.status == st for cr in reports) for st in ("saturated", "infeasible", "hot")}
                    lines.append((html.escape(f"max ρ {format_percent(worst_one.utilization)}"), False))
                    problems = " · ".join(f"{k} {status_style(st).label}" for st, k in counts.items() if k)
                    if problems:
                        lines.append((html.escape(problems), True))
                    if top in ns:
                        lines.append((html.escape(f"⚠ #1 bottleneck: {_text(top, 30)}"), True))
                    fill, border, pen = node_look(worst_one.status, worst_one.utilization, worst_one.saturated, th)
                    attrs.update(fillcolor=fill, color=border, penwidth=f"{pen:g}")
                else:
                    attrs.update(fillcolor=PLAIN_FILL, color=th["node_border"], penwidth="1.2")
                if paint and selected in ns:
                    attrs.update(color=SELECTED_BORDER, penwidth="4.5")
                title = html.escape(f"{category.capitalize()} ×{len(ns)}", quote=True)
                attrs["label"] = _node_label(title, "", lines, SUBTITLE_FONT)
                c.node(key, **attrs)

    edges_by_index = {e.index: e for e in report.edges} if report is not None else {}
    bundles: dict[tuple[str, str, str], list] = {}
    for u, v, k, data in sorted(G.edges(keys=True, data=True), key=lambda e: e[2]):
        if u in shown and v in shown and group_key(rp, u) != group_key(rp, v):
            bundles.setdefault((group_key(rp, u), group_key(rp, v), data["kind"]), []).append(edges_by_index.get(k))
    for i, ((gu, gv, kind), found) in enumerate(bundles.items()):
        parts = [f"{len(found)} connection{'s' if len(found) != 1 else ''}"]
        known = [e for e in found if e is not None]
        rate = sum(e.calls_per_s for e in known)
        if rate > 0:
            parts.append(format_rate(rate))
        attrs = {"style": _EDGE_STYLE.get(kind, "solid"), "id": f"bundle_{i}", "label": _plain("\\n".join(parts))}
        if _TIER_RANK.get(gv.split("__")[1], 0) < _TIER_RANK.get(gu.split("__")[1], 0):
            attrs["constraint"] = "false"
        if paint and any(e.on_critical_path for e in known):
            attrs.update(penwidth="2.8", color=th["critical"], fontcolor=th["font"])
        g.edge(gu, gv, **attrs)


_STACKING: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Stacking edges by pattern graph and view: they depend on nothing else, and a slider move redraws the same view."""


def _stacking_edges(rp: ResolvedPattern, components: tuple[str, ...]) -> list[tuple[str, str]]:
    """:func:`_stack` for a pattern and a view, computed once per pattern graph (a list of pairs)."""
    held = _STACKING.setdefault(rp.graph, {})
    if components not in held:
        held[components] = _stack(rp, components)
    return held[components]


def _stack(rp: ResolvedPattern, components: tuple[str, ...]) -> list[tuple[str, str]]:
    """Invisible edges that put each tier's cluster below the one above (online, nearline, offline).

    Without them Graphviz places unconnected clusters side by side, which makes the diagram too wide
    to read once scaled to the page. From the deepest node of the tier above to every node of the
    tier below that has no caller inside its own tier. Depends only on the pattern and the view.
    """
    G = rp.graph
    shown = set(components)
    tier_of = {n: G.nodes[n]["tier"] for n in shown}
    H = nx.DiGraph()
    H.add_nodes_from(n for n in G.nodes if n in shown)
    for u, v, _k in sorted(G.edges(keys=True), key=lambda e: e[2]):
        if u in shown and v in shown and u != v and \
                _TIER_RANK.get(tier_of[v], 0) >= _TIER_RANK.get(tier_of[u], 0):
            H.add_edge(u, v)
    while True:  # feedback loops inside a tier: drop one edge per cycle, deterministically
        try:
            cycle = nx.find_cycle(H)
        except nx.NetworkXNoCycle:
            break
        H.remove_edge(*cycle[-1][:2])
    order = {n: i for i, n in enumerate(G.nodes)}
    out: list[tuple[str, str]] = []
    present = [t for t, _ in TIERS if any(tier_of[n] == t for n in shown)]
    for upper, lower in zip(present, present[1:], strict=False):
        depth: dict[str, int] = {}
        for n in nx.lexicographical_topological_sort(H, key=order.get):
            depth[n] = max((depth[p] + 1 for p in H.predecessors(n)), default=0)
        ups = [n for n in H.nodes if tier_of[n] == upper]
        anchor = max(ups, key=lambda n: (depth[n], -order[n]))
        for n in sorted((n for n in H.nodes if tier_of[n] == lower), key=order.get):
            if not any(tier_of[p] == lower for p in H.predecessors(n)):
                out.append((anchor, n))
                H.add_edge(anchor, n)
    return out


def _node_attrs(rp: ResolvedPattern, n: str, report: Report | None, th: dict, paint: bool, show_numbers: bool,
                top: str | None, selected: str | None, colored: bool) -> dict[str, str]:
    node = rp.graph.nodes[n]
    t = rp.types[n]
    title = "<BR/>".join(html.escape(line, quote=True) for line in _wrap(node["label"]))
    subtitle = "" if paint else _h(t.label, 40)  # the type is in the tooltip and the table when numbers show
    attrs: dict[str, str] = {"shape": SHAPES.get(node["category"], "box"), "id": f"node_{n}"}
    if attrs["shape"] != "box":
        attrs["style"] = "filled"
    tooltip = _text(f"{node['label']} ({n}): {t.label}", 200)
    classes = ["component", f"tier-{node['tier']}", f"category-{node['category']}"]
    lines: list[tuple[str, bool]] = []
    c = report.components.get(n) if report is not None else None
    if show_numbers and c is not None:
        lines.append((html.escape(size_text(c)), False))
        if paint:
            lines.append((html.escape(metrics_text(c)), False))
            look = status_style(c.status)
            status = look.label
            if n == top:
                status = "⚠ #1 " + look.top_label
            lines.append((html.escape(status), look.bold or n == top))
    attrs["label"] = _node_label(title, subtitle, lines, SUBTITLE_FONT)

    if paint and c is not None:
        classes.append(f"status-{c.status}")
        fill, border, pen_pt = node_look(c.status, c.utilization, c.saturated, th)
        pen = f"{pen_pt:g}"
        if n == top:
            classes.append("bottleneck")
            pen = str(max(float(pen), 3.5) + 0.5)
        attrs.update(fillcolor=fill, color=border, penwidth=pen)
        tooltip += f" — {c.status}, utilisation {format_percent(c.utilization)}"
    else:
        attrs.update(fillcolor=PLAIN_FILL, color=th["node_border"], penwidth="1.2")
    if colored and selected == n:
        classes.append("selected")
        attrs.update(color=SELECTED_BORDER, penwidth="4.5")
    attrs["tooltip"] = _plain(_esc(tooltip, 200))
    attrs["class"] = " ".join(classes)
    return attrs


def _failed_attrs(attrs: dict[str, str]) -> dict[str, str]:
    """A node a what-if knocked out: grey fill, dashed dark-red border, ``failed`` class and tooltip."""
    out = dict(attrs)
    label = str(out.get("label", ""))
    cut = label.rfind("<TR>") if "status-" in out.get("class", "") else label.rfind("</TABLE>")
    if cut >= 0:  # the status row (or the end of the table) says it is out
        out["label"] = label[:cut] + "<TR><TD><B>✕ OUT (what-if)</B></TD></TR></TABLE>>"
    style = "rounded,filled,dashed" if out.get("shape") == "box" else "filled,dashed"
    out.update(style=style, fillcolor=FAILED_FILL, color=FAILED_BORDER, penwidth="3")
    out["class"] = (out.get("class", "") + " failed").strip()
    out["tooltip"] = _plain(f"{out.get('tooltip', '')} — out (what-if)")
    return out


def to_dot(rp: ResolvedPattern, report: Report | None, options: DrawOptions = DrawOptions(), *,
           render_key: bool = False) -> str:
    """DOT source of :func:`build_digraph` (byte-for-byte stable for the same inputs)."""
    return build_digraph(rp, report, options, render_key=render_key).source
