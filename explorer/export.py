"""Exports for study notes: SVG, PNG, PDF, DOT, Mermaid, a Markdown note, JSON and a study pack.

Everything here returns bytes or text; nothing writes to disk (the CLI and the
page do that). Diagrams are rendered in-process by pygraphviz's bundled
Graphviz (no ``dot`` binary); Graphviz's C library is not thread-safe, so every
render holds :data:`RENDER_LOCK` (the Streamlit server runs sessions in threads).

Examples
--------
>>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
>>> rp = load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml")
>>> filename(rp, {"peak_qps": 60000}, "svg")
'two_stage_recommender-edc530.svg'
>>> filename(rp, {"peak_qps": 60000}, "png") == filename(rp, {"peak_qps": 60000.0, "results": 25}, "png")
True
>>> filename(rp, {}, "png") != filename(rp, {}, "png", mode="autosize")
True
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import threading
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from xml.parsers import expat

from explorer.engine.analysis import analyse
from explorer.engine.availability import availability
from explorer.engine.failures import WhatIf, what_if
from explorer.errors import ExplorerError, ExportError
from explorer.model.choice import describe
from explorer.model.loader import builtin_paths, load_pattern
from explorer.model.whatif import Failure
from explorer.render.diagram import MAX_DETAILED_NODES, build_digraph, view_spec
from explorer.render.mermaid import to_mermaid, view_ids, view_nodes, view_title
from explorer.render.styles import NODE_FONT, PLAIN_FILL, STATUS_STYLES, UTIL_SCALE, DrawOptions, theme_colors
from explorer.render.text import (
    MARKDOWN,
    batch_job_line,
    critical_path_line,
    end_to_end_line,
    ms_text,
    totals_line,
    verdict,
)
from explorer.study.anki import deck_bytes
from explorer.study.present import figure_text, headline
from explorer.study.resilience import whatif_markdown
from explorer.units import compact, fmt, format_percent, number_text

if TYPE_CHECKING:  # pragma: no cover
    from explorer.engine.report import Figure, Report
    from explorer.model.loader import ResolvedPattern
    from explorer.model.pattern import Pattern

__all__ = ["FORMATS", "RENDER_LOCK", "render_dot", "render_svg", "render_png", "render_pdf",
           "to_dot", "to_mermaid", "study_note_markdown", "analysis_json", "study_pack", "filename", "export",
           "scenario_hash", "Caption", "caption", "view_ids", "view_nodes", "DPI_CHOICES", "DEFAULT_DPI",
           "DrawOptions"]



@dataclass(frozen=True)
class Format:
    """One export format."""

    name: str
    ext: str
    mime: str
    binary: bool
    """Bytes that are not text (never written to a terminal)."""
    title: str


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("svg", "svg", "image/svg+xml", False, "SVG diagram"),
    Format("png", "png", "image/png", True, "PNG diagram"),
    Format("pdf", "pdf", "application/pdf", True, "PDF diagram"),
    Format("dot", "dot", "text/vnd.graphviz", False, "Graphviz DOT"),
    Format("mermaid", "mmd", "text/plain", False, "Mermaid flowchart"),
    Format("md", "md", "text/markdown", False, "Markdown study note"),
    Format("json", "json", "application/json", False, "analysis JSON"),
    Format("pack", "zip", "application/zip", True, "study pack (zip)"),
    Format("anki", "apkg", "application/apkg", True, "Anki deck"),
)}
"""Export formats by name (the CLI's ``--format`` choices)."""

DPI_CHOICES = (96, 150, 192, 300)
"""PNG resolutions the page offers: screen (1×), 150, retina (2×), print."""
DEFAULT_DPI = 192
"""Two PNG pixels per CSS pixel (2×, retina): sharp when pasted into a note. 96 dpi is the SVG's size at 100%."""
SVG_DPI = 96
"""The resolution at which the SVG's nominal size (its points × 96/72) is counted in CSS pixels."""
MIN_DPI, MAX_DPI = 36, 600

RENDER_LOCK = threading.Lock()
"""Held around every call into Graphviz's C library (parse, layout, render)."""

_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"
_FORBIDDEN_SVG = {"script", "foreignobject", "iframe", "object", "embed", "handler", "listener"}
_BAD_HREF = ("javascript:", "vbscript:", "data:")

Progress = Callable[[int, int, str], None]


# --------------------------------------------------------------------------- diagrams

def to_dot(rp: ResolvedPattern, report: Report | None = None, options: DrawOptions = DrawOptions()) -> str:
    """DOT source of the exported diagram: the diagram as shown, under a caption that makes it stand alone.

    The caption (:func:`caption`, drawn as the graph's label at the top) gives the pattern's title, the
    scenario (every parameter that differs from the defaults, with its label and unit, and the mode), the
    headline numbers and a legend of every status. Byte-for-byte stable for the same inputs.

    Raises
    ------
    ExportError
        For an unknown view, naming the valid ones.

    Examples
    --------
    >>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
    >>> from explorer.engine.analysis import analyse
    >>> rp = load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml")
    >>> dot = to_dot(rp, analyse(rp, {"peak_qps": 60000}))
    >>> "Two-stage" in dot and "Peak QPS = 60,000 req/s" in dot and "INFEASIBLE" in dot
    True
    """
    view_nodes(rp, options.view)
    g = build_digraph(rp, report, options)
    th = theme_colors(options.theme)
    if th["background"] == "transparent":  # the page's dark card shows through on screen; a file has no card
        g.attr("graph", bgcolor=th["legend_fill"])
    g.attr("graph", labelloc="t", labeljust="l",
           label=caption_label(caption(rp, report, options), th, options.colored and report is not None, report,
                               collapsed=len(view_spec(rp, options.view).components) > MAX_DETAILED_NODES))
    return g.source


# --------------------------------------------------------------------------- caption

MODE_TEXT = {"provisioned": "provisioned: replicas as in the pattern",
             "autosize": "auto-size: the fewest replicas that meet the targets"}
"""How a caption and a note name the mode."""


@dataclass(frozen=True)
class Caption:
    """What an exported image says about itself (plain text; the label escapes it).

    Attributes
    ----------
    title : str
        The pattern's title.
    about : str
        Pattern id, mode and view in one line.
    scenario : tuple of str
        Every parameter that differs from the pattern's defaults (``label = value unit``); empty at the defaults.
    headline : tuple of (label, value, note)
        The page's headline numbers: end-to-end p99 against the target, peak QPS, nodes (CPU · GPU),
        memory, cost per month. Empty without an analysis.
    """

    title: str
    about: str
    scenario: tuple[str, ...]
    headline: tuple[tuple[str, str, str], ...]


def _value_text(value: float, unit: str) -> str:
    shown = fmt(value) if abs(value) < 1e6 else compact(value)
    return f"{shown} {unit}" if unit else shown


def changed_parameters(rp: ResolvedPattern, values: Mapping[str, float]) -> list[str]:
    """``label = value unit`` for every parameter whose value differs from the pattern's default, in file order.

    Examples
    --------
    >>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
    >>> rp = load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml")
    >>> changed_parameters(rp, {**rp.defaults(), "peak_qps": 60000, "num_items": 2e9})
    ['Peak QPS = 60,000 req/s', 'Items in the catalog = 2B items']
    """
    return [f"{q.label} = {_value_text(values[q.name], q.unit)}" for q in rp.pattern.parameters
            if q.name in values and values[q.name] != q.default]


def caption(rp: ResolvedPattern, report: Report | None, options: DrawOptions = DrawOptions()) -> Caption:
    """The caption of an exported diagram: title, pattern/mode/view, changed parameters, headline numbers."""
    p = rp.pattern
    about = [f"Pattern {p.id}"]
    if report is not None:
        about.append(f"mode: {MODE_TEXT.get(report.mode, report.mode)}")
    about.append(f"view: {view_title(rp, options.view)}")
    if report is None:
        return Caption(p.title, " · ".join(about), (), ())
    heads = tuple((m.label, m.value, m.delta or "") for m in headline(report))
    return Caption(p.title, " · ".join(about), tuple(changed_parameters(rp, report.values)), heads)


def _h(text: object) -> str:
    return html.escape(" ".join(str(text).split()), quote=True)


def _chunks(items: tuple[str, ...] | list[str], size: int) -> list[list[str]]:
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def legend_rows(th: dict[str, str], colored: bool, report: Report | None) -> list[list[tuple[str, str, str]]]:
    """The legend as rows of cells ``(text, fill, border)`` (fill "" for plain text): the utilisation scale,
    every status the engine reports (infeasible included), the marks and the line styles."""
    rows: list[list[tuple[str, str, str]]] = []
    if colored and report is not None:
        rows.append([("Utilisation ρ:", "", "")] + [(text, fill, th["node_border"]) for _, fill, text in UTIL_SCALE])
        statuses: list[tuple[str, str, str]] = [("Status:", "", "")]
        for style in STATUS_STYLES.values():
            fill = style.fill or (UTIL_SCALE[3][1] if style.status == "hot" else PLAIN_FILL)
            statuses.append((style.label, fill, style.border_color(th)))
        rows.append(statuses)
        target = format_percent(report.target_utilization)
        rows.append([(f"HOT: ρ above the {target} target · SATURATED: ρ ≥ 100%, no finite latency · INFEASIBLE: "
                      "no replica count meets the stage's latency budget · ⚠ #1: top bottleneck · "
                      "blue outline: selected", "", "")])
    styles = "──── sync call · ─ ─ ─ async event · · · · · batch"
    if report is not None:
        styles += " · edge text: calls/s × items per call"
        if colored and report.end_to_end is not None:
            styles += " · bold arrows: critical path"
    rows.append([(styles, "", "")])
    return rows


def caption_label(cap: Caption, th: dict[str, str], colored: bool, report: Report | None, *,
                  collapsed: bool = False) -> str:
    """The caption and the legend as one HTML-like Graphviz label (all text escaped)."""
    font, muted = th["font"], th["muted"]

    def text_row(text: str, size: int = 10, bold: bool = False, color: str = font) -> str:
        body = f"<B>{_h(text)}</B>" if bold else _h(text)
        return f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="{size}" COLOR="{color}">{body}</FONT></TD></TR>'

    def table(cells: list[str]) -> str:
        return ('<TR><TD ALIGN="LEFT"><TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="3"><TR>'
                + "".join(cells) + "</TR></TABLE></TD></TR>")

    rows = [text_row(cap.title, 16, bold=True), text_row(cap.about, 10, color=muted)]
    if report is not None:
        if cap.scenario:
            for i, chunk in enumerate(_chunks(cap.scenario, 3)):
                rows.append(text_row(("Scenario: " if i == 0 else "") + " · ".join(chunk)))
        else:
            rows.append(text_row("Scenario: every parameter at the pattern's default"))
    if cap.headline:
        cells = []
        for label, value, note in cap.headline:
            extra = f'<BR/><FONT POINT-SIZE="9" COLOR="{muted}">{_h(note)}</FONT>' if note else ""
            cells.append(f'<TD ALIGN="LEFT" BALIGN="LEFT" BGCOLOR="{th["cluster_fill"]}" BORDER="1" '
                         f'COLOR="{th["cluster_border"]}"><FONT POINT-SIZE="9" COLOR="{muted}">{_h(label)}</FONT>'
                         f'<BR/><FONT POINT-SIZE="13" COLOR="{font}"><B>{_h(value)}</B></FONT>{extra}</TD>')
        rows.append(table(cells))
    for legend in legend_rows(th, colored, report):
        cells = []
        for text, fill, border in legend:
            if fill:
                cells.append(f'<TD BGCOLOR="{fill}" BORDER="1" COLOR="{border}"><FONT POINT-SIZE="9" '
                             f'COLOR="{NODE_FONT}">{_h(text)}</FONT></TD>')
            else:
                cells.append(f'<TD ALIGN="LEFT"><FONT POINT-SIZE="9" COLOR="{font}">{_h(text)}</FONT></TD>')
        rows.append(table(cells))
    if collapsed:
        rows.append(text_row(f"More than {MAX_DETAILED_NODES} components: each box is every component of one "
                             "category in one tier (worst status shown); arrows sum the connections between them",
                             9, color=muted))
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="2">' + "".join(rows) + "</TABLE>>")


def render_dot(dot: str, fmt: str, dpi: float | None = None) -> bytes:
    """Render DOT source in-process with pygraphviz: ``svg``, ``png`` or ``pdf`` bytes.

    Raises
    ------
    ExportError
        When the source does not parse or Graphviz cannot lay it out or render it.

    Examples
    --------
    >>> render_dot('digraph { a -> b }', "svg").startswith(b"<?xml")
    True
    >>> render_dot('digraph { a -> b }', "png", dpi=96)[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    if fmt not in ("svg", "png", "pdf"):
        raise ExportError(f"cannot render {fmt!r} (choose svg, png or pdf)")
    if dpi is not None:
        _check_dpi(dpi)
    try:
        import pygraphviz
    except ImportError as exc:  # pragma: no cover - a runtime requirement
        raise ExportError(f"pygraphviz is not installed ({exc}); pip install pygraphviz") from None
    with RENDER_LOCK:
        graph = None
        try:
            graph = pygraphviz.AGraph(string=dot)
            if dpi is not None and fmt == "png":
                graph.graph_attr["dpi"] = f"{dpi:g}"
            data = graph.draw(format=fmt, prog="dot")
        except Exception as exc:  # DotError, ValueError, MemoryError from the C library…
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ExportError(f"could not render the diagram as {fmt.upper()}: {reason}") from None
        finally:
            if graph is not None:  # free the C graph while still holding the lock
                graph.close()
    if not data:
        raise ExportError(f"could not render the diagram as {fmt.upper()}: Graphviz returned nothing")
    if fmt == "svg":
        data = safe_svg(data)
    return bytes(data)


def _check_dpi(dpi: float) -> None:
    try:
        ok = MIN_DPI <= float(dpi) <= MAX_DPI
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ExportError(f"dpi must be between {MIN_DPI} and {MAX_DPI} (got {dpi!r})")


def _clean_svg(data: bytes) -> bool:
    """True when the SVG is well-formed and has nothing active: one streaming pass, no tree built.

    Graphviz output is clean almost always, so this is the common path; anything else goes
    through :func:`safe_svg`'s tree walk, which removes what it finds (or says why it cannot).
    """
    found: list[str] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if name.rsplit(" ", 1)[-1].lower() in _FORBIDDEN_SVG:
            found.append(name)
        for key, value in attrs.items():
            local = key.rsplit(" ", 1)[-1].lower()
            if local.startswith("on") or (local == "href" and value.strip().lower().startswith(_BAD_HREF)):
                found.append(key)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    try:
        parser.Parse(data, True)
    except expat.ExpatError:
        return False
    return not found


def safe_svg(data: bytes) -> bytes:
    """Check the SVG is well-formed XML and holds nothing active (scripts, event handlers, ``javascript:`` links).

    Graphviz escapes label text, so user text never becomes markup; anything
    active that still appears is removed. Unchanged bytes are returned when clean.
    """
    if _clean_svg(data):
        return data
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ExportError(f"the rendered SVG is not well-formed XML ({exc})") from None
    parents = {child: parent for parent in root.iter() for child in parent}
    doomed = []
    dirty = False
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1].lower() if isinstance(el.tag, str) else ""
        if tag in _FORBIDDEN_SVG:
            doomed.append(el)
            continue
        for key in list(el.attrib):
            name = key.rsplit("}", 1)[-1].lower()
            value = el.attrib[key].strip().lower()
            if name.startswith("on") or (name == "href" and value.startswith(_BAD_HREF)):
                del el.attrib[key]
                dirty = True
    if not doomed and not dirty:
        return data
    for el in doomed:
        if el in parents:
            parents[el].remove(el)
    ET.register_namespace("", _SVG_NS)
    ET.register_namespace("xlink", _XLINK_NS)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def render_svg(rp: ResolvedPattern, report: Report | None = None, options: DrawOptions = DrawOptions()) -> bytes:
    """The diagram as shown, as SVG bytes (well-formed XML, no script)."""
    return render_dot(to_dot(rp, report, options), "svg")


def render_png(rp: ResolvedPattern, report: Report | None = None, options: DrawOptions = DrawOptions(), *,
               dpi: float = DEFAULT_DPI) -> bytes:
    """The diagram as shown, as PNG bytes at ``dpi`` dots per inch."""
    _check_dpi(dpi)
    return render_dot(to_dot(rp, report, options), "png", dpi=dpi)


def render_pdf(rp: ResolvedPattern, report: Report | None = None, options: DrawOptions = DrawOptions()) -> bytes:
    """The diagram as shown, as PDF bytes (vector)."""
    return render_dot(to_dot(rp, report, options), "pdf")


# --------------------------------------------------------------------------- JSON

def analysis_json(report: Report) -> str:
    """The analysis as JSON: the CLI's ``estimate --json`` (``report.to_dict()``)."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([\\`*\[\]~$])")
_LONE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_HEADING = re.compile(r"^( {0,3})(#{1,6})(?=\s|$)")
_BAD_LINK = re.compile(r"\]\(\s*(?:javascript|vbscript|data):", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def md_inline(text: object) -> str:
    """Escape any text for one line of Markdown: shows as typed, never markup.

    Examples
    --------
    >>> md_inline("a *b* `c` <script>x</script> user_features _x_")
    'a \\\\*b\\\\* \\\\`c\\\\` &lt;script>x&lt;/script> user_features \\\\_x\\\\_'
    """
    s = _INVISIBLE.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n"))
    s = " ".join(s.split())
    s = _MD_SPECIAL.sub(r"\\\1", s)
    s = _LONE_UNDERSCORE.sub(r"\\_", s)
    s = _ENTITY.sub("&amp;", s)
    s = _TAG_START.sub("&lt;", s)
    if s[:1] in ("#", ">", "+", "-", "=") or re.match(r"\d+[.)]", s):
        s = "\\" + s
    return s


def md_cell(text: object) -> str:
    """Escape any text for a Markdown table cell (pipes, newlines and backticks included)."""
    return md_inline(text).replace("|", "\\|") or " "


def md_block(text: str, heading_floor: int = 4) -> str:
    """Author Markdown (the pattern's notes) made safe to embed.

    Raw HTML is shown as text (``<`` escaped outside code), an unclosed code
    fence is closed, headings are pushed below ``heading_floor`` and
    ``javascript:`` links are disarmed, so a note cannot swallow or break the
    rest of the document.
    """
    text = _INVISIBLE.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n")).strip("\n")
    out: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        m = _FENCE.match(line)
        if fence is not None:
            out.append(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line.strip()[len(m.group(1)):].strip():
                fence = None
            continue
        if m:
            fence = m.group(1)
            out.append(line)
            continue
        h = _HEADING.match(line)
        if h:
            level = min(6, max(heading_floor, len(h.group(2))))
            line = h.group(1) + "#" * level + line[h.end():]
        out.append(_escape_outside_code(_BAD_LINK.sub("](#", line)))
    if fence is not None:
        out.append(fence[0] * len(fence))
    return "\n".join(out)


def _escape_outside_code(line: str) -> str:
    parts = []
    pos = 0
    for m in _CODE_SPAN.finditer(line):
        parts.append(_TAG_START.sub("&lt;", line[pos:m.start()]))
        parts.append(m.group(0))
        pos = m.end()
    parts.append(_TAG_START.sub("&lt;", line[pos:]))
    return "".join(parts)


NOTE_SECTIONS = (("requirements", "1. Clarify the requirements"), ("framing", "2. Frame the problem as an ML task"),
                 ("data", "3. Data preparation"), ("model", "4. Model development"),
                 ("evaluation", "5. Evaluation"), ("serving", "6. Deployment and serving"),
                 ("monitoring", "7. Monitoring and infrastructure"))
"""The 7 steps of the framework, in order, with their headings in the note."""


def key_figures(report: Report, top: int = 3) -> list[tuple[str, Figure]]:
    """The figures whose traces a note shows: end-to-end p99, the busiest components'
    utilisation, p99 and replicas, and the total cost."""
    out: list[tuple[str, Figure]] = []
    e = report.end_to_end
    if e is not None and "p99_ms" in e.figures:
        out.append(("End to end", e.figures["p99_ms"]))
    busy = sorted((c for c in report.components.values() if c.status not in ("external", "idle")),
                  key=lambda c: (-c.utilization, c.id))[:top]
    for c in busy:
        for key in ("utilization", "p99_ms", "replicas"):
            if key in c.figures:
                out.append((c.label, c.figures[key]))
    if "cost_usd_month" in report.totals.figures:
        out.append(("Totals", report.totals.figures["cost_usd_month"]))
    return out


def study_note_markdown(rp: ResolvedPattern, report: Report, options: DrawOptions = DrawOptions(), *,
                        image: str | None = None, what_if: WhatIf | None = None) -> str:
    """A Markdown study note of the pattern at the report's scenario.

    Title and summary, the Mermaid diagram, the scenario with units, headline
    numbers, the capacity table, bottlenecks with advice, the traces of the key
    figures, and the pattern's 7-step notes and talking points. Every piece of
    user text is escaped, so the note renders the same in GitHub, Obsidian or
    Notion and reads well as plain text. ``image`` adds a link to a diagram file
    (the study pack's SVG). ``options`` are the diagram's (view, selection, theme, colours). ``what_if`` adds
    a section on the failures injected (shares served, by fallbacks and failed; availability).
    """
    p, r = rp.pattern, report
    L = _note_header(rp, r, options.view)
    L += _note_diagram(rp, r, options, image)
    L += _note_scenario(rp, r)
    L += ["## Headline numbers", ""]
    L += [f"- {line}" for line in _headlines(r)]
    L.append("")
    if what_if is not None:
        L += whatif_markdown(what_if, availability(rp, r), md_inline, md_cell)
    L += _note_capacity(r)
    L += _note_bottlenecks(r)
    L += _ml_markdown(r)
    L += _note_study(p)
    if r.warnings:
        L += ["## Warnings", ""] + [f"- {md_inline(w)}" for w in r.warnings] + [""]
    L += ["---", "", "Made with Architecture Explorer: `python -m explorer export "
          f"{p.id} --format md{_sets_text(rp, r)}`", ""]
    return "\n".join(L)


def _note_header(rp: ResolvedPattern, r: Report, view: str) -> list[str]:
    """Title, what the pattern is (id, chapter, mode, view), summary and tags."""
    p = rp.pattern
    L = [f"# {md_inline(p.title)}", ""]
    meta = [f"Pattern `{p.id}`", f"mode: {r.mode}", f"view: {md_inline(view_title(rp, view))}"]
    if p.kind == "case_study" and p.chapter:
        meta.insert(1, f"case study, chapter {p.chapter}")
    L += [" · ".join(meta), ""]
    if p.summary.strip():
        L += [md_inline(p.summary), ""]
    if p.tags:
        L += ["Tags: " + ", ".join(md_inline(t) for t in p.tags), ""]
    return L


def _note_diagram(rp: ResolvedPattern, r: Report, options: DrawOptions, image: str | None) -> list[str]:
    """The Mermaid diagram (and a link to an image file), with how to read its colours."""
    p = rp.pattern
    L: list[str] = ["## Diagram", ""]
    if image:
        L += [f"![Diagram of {md_inline(p.title)}]({image})", ""]
    L += ["```mermaid", to_mermaid(rp, r, options).rstrip("\n"),
          "```", ""]
    if options.colored:
        L += [f"Fill shows utilisation (pale yellow below 20% to orange at 80–100%); red is saturated; an orange "
              f"border is hot (above the {r.target_utilization:.0%} target); ⚠ marks the top bottleneck. Bold arrows "
              "are the critical path of a request; dashed arrows are async, dotted ones batch.", ""]
    return L


def _note_scenario(rp: ResolvedPattern, r: Report) -> list[str]:
    """Every parameter's value with its unit, the model choice and the mode."""
    p = rp.pattern
    L: list[str] = ["## Scenario", "", "| Parameter | Value | Unit |", "| --- | ---: | --- |"]
    params = {q.name: q for q in p.parameters}
    for name, value in r.values.items():
        q = params.get(name)
        label = f"{md_cell(q.label)} (`{name}`)" if q else f"`{name}`"
        L.append(f"| {label} | {fmt(value)} | {md_cell(r.units.get(name, '')) if r.units.get(name) else ' '} |")
    if not r.values:
        L.append("| (no parameters) | | |")
    if r.models:
        L += ["", "Model choice: " + "; ".join(md_inline(line) for line in describe(rp)) + "."]
    L += ["", f"Mode: **{r.mode}** ({'replicas as provisioned in the pattern' if r.mode == 'provisioned' else 'the fewest replicas that meet the targets'}); "
          f"target utilisation {r.target_utilization:.0%}.", ""]
    return L


def _note_capacity(r: Report) -> list[str]:
    """The capacity table, and the batch jobs against their windows."""
    L: list[str] = ["## Capacity", "",
                     "| Component | Tier | Status | Calls/s | Service ms | Shards | Replicas | Utilisation | p99 ms | Memory GB | Cost $/month |",
                     "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for c in r.components.values():
        if c.status == "external":
            util = p99 = "–"
        else:
            util = f"{c.utilization:.0%}"
            p99 = "saturated" if c.p99_ms is None else fmt(c.p99_ms)
        rec = "" if c.replicas_recommended is None or c.replicas_recommended == c.replicas else \
            f" (rec. {c.replicas_recommended})"
        L.append(f"| {md_cell(c.label)} (`{c.id}`) | {c.tier} | {c.status} | {fmt(c.calls_per_s)} | "
                 f"{fmt(c.service_ms)} | {c.shards} | {c.replicas}{rec} | {util} | {p99} | "
                 f"{fmt(c.memory_gb)} | {fmt(round(c.cost_usd_month))} |")
    L.append("")
    if r.batch_jobs:
        L += ["| Batch job | Items per run | Items/s needed | Window | Fits |", "| --- | ---: | ---: | ---: | --- |"]
        for j in r.batch_jobs:
            L.append(f"| {md_cell(j.label)} (`{j.id}`) | {fmt(j.items_per_run)} | {fmt(j.items_per_s)} | "
                     f"{fmt(j.window_hours)} h every {fmt(j.every_hours)} h | {'yes' if j.fits_window else '**no**'} |")
        L.append("")
    return L


def _note_bottlenecks(r: Report) -> list[str]:
    """Bottlenecks with advice, and the traces of the key figures."""
    L: list[str] = ["## Bottlenecks", ""]
    if r.bottlenecks:
        for b in r.bottlenecks:
            L.append(f"{b.rank}. **{md_inline(b.status)}** — {md_inline(b.reason)}  ")
            L.append(f"   Advice: {md_inline(b.advice)}")
    else:
        L.append("None: every component is within its target utilisation and the latency target is met.")
    L.append("")

    L += ["## How the key numbers are computed", ""]
    for owner, f in key_figures(r):
        L.append(f"- **{md_inline(owner)}** — {md_inline(f.explain())}")
    L.append("")
    return L


def _note_study(p: Pattern) -> list[str]:
    """The pattern's 7-step notes and talking points."""
    L: list[str] = ["## Study notes", ""]
    for key, heading in NOTE_SECTIONS:
        L += [f"### {heading}", ""]
        body = getattr(p.notes, key).strip()
        L += [md_block(body) if body else "_(no notes yet)_", ""]
    L += ["### Talking points", ""]
    if p.notes.talking_points:
        L += [f"- {md_inline(t)}" for t in p.notes.talking_points]
    else:
        L.append("_(none yet)_")
    L.append("")
    return L


def _ml_markdown(r: Report) -> list[str]:
    """The "ML figures" section: per ML block a table of its figures, then every figure's trace, and the
    cost-vs-staleness curve when the pattern precomputes predictions. Empty when the report has none."""
    if not r.ml:
        return []
    L = ["## ML figures", ""]
    for s in r.ml:
        about = f" (`{s.component}`)" if s.component else ""
        L += [f"### {md_inline(s.title)}{about}", "", "| Figure | Value |", "| --- | ---: |"]
        for f in s.figures.values():
            L.append(f"| {md_cell(f.label)} | {md_cell(figure_text(f))} |")
        L += ["", "How they are computed:", ""]
        L += [f"- {md_inline(f.explain())}" for f in s.figures.values()]
        L.append("")
    if r.staleness_curve:
        L += ["### Cost against staleness (batch path)", "",
              "| Refresh every | Mean staleness | Max staleness | Cost $/month | Job fits its interval |",
              "| ---: | ---: | ---: | ---: | --- |"]
        for p in r.staleness_curve:
            L.append(f"| {fmt(p.refresh_hours)} h | {fmt(p.staleness_mean_hours)} h | "
                     f"{fmt(p.staleness_max_hours)} h | {fmt(round(p.cost_usd_month))} | "
                     f"{'yes' if p.fits_interval else '**no**'} |")
        L.append("")
    return L


def _sets_text(rp: ResolvedPattern, r: Report) -> str:
    defaults = rp.defaults()
    sets = "".join(f" --set {k}={number_text(v)}" for k, v in r.values.items() if defaults.get(k) != v)
    sets += "".join(f" --model {cid}={fid}" for cid, fid in rp.models)
    return sets + (f" --mode {r.mode}" if r.mode != "provisioned" else "")


def _headlines(r: Report) -> list[str]:
    """The note's headline bullets: the CLI summary's lines in Markdown, plus a count of statuses."""
    out = []
    e = r.end_to_end
    if e is not None:
        out.append(end_to_end_line(e, MARKDOWN))
        out.append(critical_path_line(e, MARKDOWN))
    counts: dict[str, int] = {}
    for c in r.components.values():
        counts[c.status] = counts.get(c.status, 0) + 1
    out.append("Components: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    out.append(totals_line(r.totals))
    out.extend(batch_job_line(j, MARKDOWN) for j in r.batch_jobs)
    return out


# --------------------------------------------------------------------------- file names

def scenario_hash(rp: ResolvedPattern, values: Mapping[str, float] | None, *, mode: str = "provisioned",
                  view: str = "overview", length: int = 6) -> str:
    """A short hash of a scenario: the pattern id, every parameter's value (defaults filled in), the model
    choices, the mode and the view. Deterministic across runs and machines; the same scenario given two ways hashes the same.

    Examples
    --------
    >>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
    >>> rp = load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml")
    >>> scenario_hash(rp, {}) == scenario_hash(rp, rp.defaults()), len(scenario_hash(rp, {}))
    (True, 6)
    """
    vals = {**rp.defaults(), **dict(values or {})}
    models = [f"model.{cid}={fid}" for cid, fid in rp.models]  # a model choice is part of the scenario
    text = "\n".join([rp.id, mode, view] + [f"{k}={number_text(float(vals[k]))}" for k in sorted(vals)] + models)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def filename(rp: ResolvedPattern, values: Mapping[str, float] | None, fmt: str, *,
             mode: str = "provisioned", view: str = "overview") -> str:
    """``<pattern>-<scenario hash>.<ext>``: two scenarios (values, mode or view) never share a name, and one
    scenario always gets the same name (:func:`scenario_hash`). The Anki deck does not depend on the
    scenario (``<pattern>-anki.apkg``); the study pack ends ``-study-pack.zip``. Only ``[A-Za-z0-9._-]``.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (choose {', '.join(FORMATS)})")
    pid = re.sub(r"[^A-Za-z0-9._-]+", "_", rp.id).strip("._-")[:100] or "export"
    if fmt == "anki":
        return f"{pid}-anki.{FORMATS[fmt].ext}"
    stem = f"{pid}-{scenario_hash(rp, values, mode=mode, view=view)}"
    if fmt == "pack":
        stem += "-study-pack"
    return f"{stem}.{FORMATS[fmt].ext}"


# --------------------------------------------------------------------------- one entry point

def export(rp: ResolvedPattern, values: Mapping[str, float] | None = None, mode: str = "provisioned",
           fmt: str = "svg", options: DrawOptions = DrawOptions(), *, dpi: float = DEFAULT_DPI,
           report: Report | None = None, progress: Progress | None = None,
           failures: Sequence[Failure] = (), image: str | None = None) -> bytes:
    """Any format as bytes (text formats UTF-8): what the CLI writes and the page downloads.

    Parameters
    ----------
    rp, values, mode
        The pattern and the scenario (``report`` may give its analysis already made).
    fmt : str
        A key of :data:`FORMATS`.
    options : DrawOptions
        View, selected component, theme and colours of the diagram (every format that draws one).
    dpi : float
        PNG resolution.
    progress : callable, optional
        ``progress(done, total, label)`` while a study pack is built.
    failures : sequence of Failure
        What-if failures the study note reports on (``md`` only).
    image : str, optional
        For ``md``: a relative link to the diagram's image file, shown above the Mermaid block
        (the CLI writes the SVG beside the note when exporting into a folder).

    Raises
    ------
    ExportError
        Unknown format or view, bad dpi, or a render failure.
    ScenarioError
        Unknown parameter or value out of range.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (choose {', '.join(FORMATS)})")
    view_nodes(rp, options.view)
    if fmt == "png":
        _check_dpi(dpi)
    if fmt == "pack":
        return study_pack(rp, values, mode, options, progress=progress)
    if fmt == "anki":
        return deck_bytes(rp)
    if report is None:
        report = analyse(rp, values, mode)
    if fmt == "svg":
        return render_svg(rp, report, options)
    if fmt == "png":
        return render_png(rp, report, options, dpi=dpi)
    if fmt == "pdf":
        return render_pdf(rp, report, options)
    if fmt == "dot":
        return to_dot(rp, report, options).encode("utf-8")
    if fmt == "mermaid":
        return to_mermaid(rp, report, options).encode("utf-8")
    if fmt == "md":
        w = what_if(rp, values, mode, failures, baseline=report) if failures else None
        return study_note_markdown(rp, report, options, what_if=w, image=image).encode("utf-8")
    return analysis_json(report).encode("utf-8")


# --------------------------------------------------------------------------- study pack

PACK_ROOT = "architecture-explorer-study-pack"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def study_pack(current: ResolvedPattern | None = None, values: Mapping[str, float] | None = None,
               mode: str = "provisioned", options: DrawOptions = DrawOptions(), *, paths: list[Path] | None = None,
               progress: Progress | None = None) -> bytes:
    """One zip of study notes: a Markdown note, an SVG and a Mermaid file per pattern, and an index.

    Every built-in pattern (or ``paths``) is analysed at its defaults and drawn in its overview;
    ``current`` (built-in or the user's own) at ``values``/``mode`` and in ``options.view``. Every
    diagram takes ``options``' theme and colours; no component is selected. The zip is
    deterministic: sorted entries, fixed timestamps and permissions.
    ``progress(done, total, label)`` is called as each pattern is finished.

    Examples
    --------
    >>> import zipfile, io
    >>> names = zipfile.ZipFile(io.BytesIO(study_pack())).namelist()
    >>> f"{PACK_ROOT}/README.md" in names and f"{PACK_ROOT}/two_stage_recommender/two_stage_recommender.mmd" in names
    True
    """
    items: list[tuple[str, Path | ResolvedPattern]] = [(p.stem, p) for p in (paths if paths is not None else builtin_paths())]
    if current is not None:
        items = [(pid, src) for pid, src in items if pid != current.id] + [(current.id, current)]
        view_nodes(current, options.view)
    items.sort(key=lambda item: item[0])
    total = len(items) + 1
    files: dict[str, bytes] = {}
    index: list[tuple[str, str, str, str]] = []  # id, title, line, status
    problems: list[str] = []
    if progress:
        progress(0, total, "starting")
    for done, (pid, src) in enumerate(items, start=1):
        is_current = current is not None and src is current
        try:
            rp = src if is_current else load_pattern(src)  # type: ignore[arg-type]
            v = values if is_current else None
            m = mode if is_current else "provisioned"
            drawn = DrawOptions(view=options.view if is_current else "overview", theme=options.theme,
                                colored=options.colored)
            r = analyse(rp, v, m)
            base = f"{PACK_ROOT}/{rp.id}/{rp.id}"
            files[f"{base}.svg"] = render_svg(rp, r, drawn)
            files[f"{base}.mmd"] = to_mermaid(rp, r, drawn).encode("utf-8")
            files[f"{base}.md"] = study_note_markdown(rp, r, drawn, image=f"{rp.id}.svg").encode("utf-8")
            index.append((rp.id, rp.pattern.title, _index_line(rp, r, is_current), rp.pattern.kind))
        except ExplorerError as exc:
            if is_current:
                raise
            problems.append(f"`{pid}`: {md_inline(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)}")
        if progress:
            progress(done, total, pid)
    files[f"{PACK_ROOT}/README.md"] = _pack_index(index, problems, current).encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, files[name])
    if progress:
        progress(total, total, "done")
    return buf.getvalue()


def _index_line(rp: ResolvedPattern, r: Report, is_current: bool) -> str:
    e = r.end_to_end
    bits = []
    if e is not None:
        bits.append("saturated" if e.saturated else f"p99 {ms_text(e.p99_ms)} ({verdict(e)} {fmt(e.target_ms)} ms)")
    bits.append(f"${fmt(round(r.totals.cost_usd_month))}/month")
    if r.bottlenecks:
        bits.append(f"{len(r.bottlenecks)} bottleneck{'s' if len(r.bottlenecks) != 1 else ''}")
    scen = "your scenario" if is_current else "defaults"
    return f"{', '.join(bits)} — at {scen}"


def _pack_index(index, problems: list[str], current) -> str:
    L = ["# Architecture Explorer — study pack", "",
         "One note per pattern, each with its Mermaid diagram inline, an SVG of the diagram, the scenario, "
         "the capacity table, the bottlenecks, the traces of the key numbers and the 7-step study notes.", ""]
    if current is not None:
        L += [f"`{current.id}` is at the scenario you exported; every other pattern is at its defaults.", ""]
    groups = (("case_study", "Case studies"), ("building_block", "Building blocks"))
    for kind, heading in groups:
        rows = [row for row in index if row[3] == kind]
        if not rows:
            continue
        L += [f"## {heading}", ""]
        for pid, title, line, _ in rows:
            L.append(f"- [{md_inline(title)}]({pid}/{pid}.md) — {md_inline(line)} · "
                     f"[SVG]({pid}/{pid}.svg) · [Mermaid]({pid}/{pid}.mmd)")
        L.append("")
    if problems:
        L += ["## Not exported", ""] + [f"- {p}" for p in problems] + [""]
    return "\n".join(L)
