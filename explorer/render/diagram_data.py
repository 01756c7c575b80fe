"""What the interactive diagram needs besides the picture: the SVG made fit for a page, and the key
figures of every node and edge as plain JSON-ready data.

The picture is the Graphviz diagram of :mod:`explorer.render.diagram`, laid out in the browser (Graphviz
compiled to WebAssembly) or, as a fallback, in-process (the caller renders the DOT to SVG); Graphviz keeps the DOT ``id`` of every node (``node_<component id>``, or
``node_group__<tier>__<category>`` when collapsed) and edge (``edge_<index>``, ``bundle_<n>``) on its SVG
group, so the browser finds the figures of what is under the pointer by that id.

- :func:`page_svg` strips the XML prolog and comments and turns native tooltips off (every ``<title>``
  becomes a ``<desc>``, ``xlink:title`` goes): the page shows its own hover card instead. The browser
  does the same to the SVG it lays out (``pageSvg`` in ``pages/static/diagram_widget.js``, same patterns).
- :func:`hotspots` gives, per SVG id, a title and a few lines of figures (status, utilisation, p99,
  replicas, traffic, cost for a node; kind, calls/s, items per call, critical path for an edge).
- :func:`svg_key` names an SVG (or a DOT) by its content, so the page sends it only when the browser lacks it.

Nothing here knows of Streamlit; the numbers are the report's, formatted by :mod:`explorer.units`.

Examples
--------
>>> page_svg(b'<?xml version="1.0"?>\\n<!-- x -->\\n<svg><g id="node_a"><title>a</title>'
...          b'<a xlink:title="tip"><text>A</text></a></g></svg>')
'<svg><g id="node_a"><desc>a</desc><a><text>A</text></a></g></svg>'
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from explorer.render.diagram import MAX_DETAILED_NODES, edge_traffic, group_key, metrics_text, size_text, view_spec
from explorer.render.styles import status_style
from explorer.units import compact, format_ms, format_percent, format_rate, format_usd

if TYPE_CHECKING:  # pragma: no cover
    from explorer.engine.report import ComponentReport, Report
    from explorer.model.loader import ResolvedPattern

KIND_TEXT = {"sync": "synchronous call", "async": "asynchronous event", "batch": "batch transfer"}
"""How an edge's kind reads in its hover card."""

_PROLOG = re.compile(r"\A\s*(?:<\?xml[^>]*\?>\s*)?(?:<!DOCTYPE[^>]*>\s*)?(?:<!--.*?-->\s*)*", re.S)
_COMMENT = re.compile(r"<!--.*?-->\s*", re.S)
_XLINK_TITLE = re.compile(r'\s+xlink:title="[^"]*"')


def page_svg(svg: bytes | str) -> str:
    """Graphviz SVG ready to sit inside a page: no prolog or comments, no native tooltips.

    ``<title>`` elements become ``<desc>`` (same text, read by screen readers, no hover bubble) and
    ``xlink:title`` attributes (the DOT ``tooltip``) are dropped; ids, classes and drawing stay.
    """
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    text = _PROLOG.sub("", text, count=1)
    text = _COMMENT.sub("", text)
    text = _XLINK_TITLE.sub("", text)
    return text.replace("<title>", "<desc>").replace("</title>", "</desc>").strip()


def svg_key(svg: str) -> str:
    """A short content hash of an SVG text (16 hex digits).

    >>> svg_key("<svg/>") == svg_key("<svg/>") != svg_key("<svg></svg>")
    True
    """
    return hashlib.sha1(svg.encode("utf-8")).hexdigest()[:16]


def node_lines(c: ComponentReport, target_utilization: float) -> list[str]:
    """The hover-card lines of one component: status and utilisation against the target, p99 against
    its budget, size, traffic and cost.

    Examples
    --------
    >>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
    >>> from explorer.engine.analysis import analyse
    >>> r = analyse(load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml"))
    >>> node_lines(r.components["ranker"], r.target_utilization)[0].startswith("Status:")
    True
    """
    look = status_style(c.status)
    if c.status == "external":
        return [f"Status: {look.label}", f"Sends {format_rate(c.calls_per_s)} requests"]
    lines = [f"Status: {look.label}",
             f"Utilisation ρ {format_percent(c.utilization)} (target {format_percent(target_utilization)})"]
    if c.status != "idle":
        p99 = "∞ (saturated)" if c.saturated else format_ms(c.p99_ms)
        budget = f" (budget {format_ms(c.budget_ms)})" if c.budget_ms is not None else ""
        lines.append(f"p99 {p99}{budget}")
    lines.append(f"Size: {size_text(c)}")
    if c.replicas_recommended is not None and c.replicas_recommended != c.replicas:
        lines.append(f"Recommended: {compact(c.replicas_recommended)} replicas per shard")
    traffic = f"Traffic: {format_rate(c.calls_per_s)} calls"
    if c.items_per_call != 1:
        traffic += f" × {compact(c.items_per_call)} items"
    lines.append(traffic)
    lines.append(f"Service time {format_ms(c.service_ms)} · cost {format_usd(c.cost_usd_month)}/month")
    return lines


def hotspots(rp: ResolvedPattern, report: Report | None, view: str | None = None) -> dict[str, dict]:
    """Per SVG id of the diagram of ``view``, what its hover card shows and what a click selects.

    Returns
    -------
    dict
        ``{svg id: {"kind": "node" | "edge", "id": component id or None, "title": str, "lines": [str]}}``.
        ``id`` is the component a click selects (None for edges and collapsed groups). Without a
        report the cards carry names and kinds only (a puzzle's diagram must not give its answer away).

    Examples
    --------
    >>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
    >>> from explorer.engine.analysis import analyse
    >>> rp = load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml")
    >>> spots = hotspots(rp, analyse(rp))
    >>> spots["node_ranker"]["id"], spots["node_ranker"]["kind"]
    ('ranker', 'node')
    >>> any(s["kind"] == "edge" and "→" in s["title"] for s in spots.values())
    True
    """
    spec = view_spec(rp, view)
    G = rp.graph
    shown = set(spec.components)
    comps = report.components if report is not None else {}
    out: dict[str, dict] = {}
    if len(spec.components) > MAX_DETAILED_NODES:
        return _group_hotspots(rp, report, spec.components)
    for n in spec.components:
        node = G.nodes[n]
        t = rp.types[n]
        c = comps.get(n)
        lines = [f"{t.label} · {node['tier']} tier"]
        if c is not None:
            lines += node_lines(c, report.target_utilization)
        out[f"node_{n}"] = {"kind": "node", "id": n, "title": f"{node['label']} ({n})", "lines": lines}
    edges_by_index = {e.index: e for e in report.edges} if report is not None else {}
    for u, v, k, data in sorted(G.edges(keys=True, data=True), key=lambda e: e[2]):
        if u not in shown or v not in shown:
            continue
        cn = data["connection"]
        kind = data["kind"]
        lines = [KIND_TEXT.get(kind, kind)]
        if cn.label:
            lines.append(str(cn.label))
        er = edges_by_index.get(k)
        if er is not None and report is not None:
            rate = edge_traffic(rp, report, er)
            traffic = f"{format_rate(rate)} calls"
            if er.items_per_call != 1:
                traffic += f" × {compact(er.items_per_call)} items = {format_rate(rate * er.items_per_call)} items"
            lines.append(traffic)
            if er.calls_per_upstream not in (0, 1):
                lines.append(f"{compact(er.calls_per_upstream)} calls per call of {G.nodes[u]['label']}")
            if er.on_critical_path:
                lines.append("On the critical path")
        out[f"edge_{k}"] = {"kind": "edge", "id": None,
                            "title": f"{G.nodes[u]['label']} → {G.nodes[v]['label']}", "lines": lines}
    return out


def _group_hotspots(rp: ResolvedPattern, report: Report | None, components: tuple[str, ...]) -> dict[str, dict]:
    """Cards of a collapsed diagram: per group, its size, worst utilisation and the first members."""
    G = rp.graph
    members: dict[str, list[str]] = {}
    for n in components:
        members.setdefault(group_key(rp, n), []).append(n)
    comps = report.components if report is not None else {}
    out: dict[str, dict] = {}
    for key, ns in members.items():
        node = G.nodes[ns[0]]
        lines = [f"{len(ns)} components · {node['tier']} tier"]
        reports = [comps[n] for n in ns if n in comps]
        if reports:
            busiest = max(reports, key=lambda c: c.utilization)
            lines.append(f"Busiest: {busiest.label} — {metrics_text(busiest)}")
            lines.append(f"Cost {format_usd(sum(c.cost_usd_month for c in reports))}/month")
        lines.append(", ".join(ns[:8]) + (f" and {len(ns) - 8} more" if len(ns) > 8 else ""))
        out[f"node_{key}"] = {"kind": "node", "id": None,
                              "title": f"{node['category'].capitalize()} ×{len(ns)}", "lines": lines}
    return out

