"""The interactive diagram: the DOT laid out by Graphviz in the browser (WebAssembly, vendored in
``pages/static/vendor/viz/``), or on the server by pygraphviz as a fallback, shown through a Streamlit custom
component (v2: inline JavaScript and CSS mounted in the page, no iframe, no build step, nothing fetched
from outside the app's own server).

In the browser (``pages/static/diagram_widget.js``): wheel or pinch to zoom, drag to pan, Fit and 1:1
buttons, a hover card with each node's and edge's key figures, click (or Tab then Enter) on a component to
select it, ``+``/``-``/``0`` and arrow keys on the focused diagram. Python side (here):

- the page sends the DOT source (a few kB); the browser lays it out with Graphviz compiled to WebAssembly,
  loaded once from the app's own server (``/component/<vendor>/viz.js``, see :data:`VIZ_URL_PATH`), and
  turns it into page-ready SVG the way :func:`explorer.render.diagram_data.page_svg` does on the server;
- fallback: when the browser cannot lay it out (the WebAssembly fails to load, or Graphviz refuses the
  DOT), it says so (trigger ``layout_failed``, its reason kept in ``<key>:server_layout``) and from then on
  this session is sent the SVG laid out on the server (:func:`_svg`, once per DOT source, shared by every session); ``ARCH_EXPLORER_DIAGRAM_LAYOUT=server``
  in the environment makes that the default (both paths draw the same node and edge ids);
- the source (DOT or SVG) is sent only when this browser tab does not hold it yet: the tab keeps the last
  few it was sent, laid out, by content hash, and the page remembers which hashes it sent (``<key>:sent``
  in the session). A tab that lacks one asks for it (trigger ``missing``) and the next run sends it;
- a click on a component sets ``st.session_state[select_key]`` (trigger ``select``) before the rerun, the
  same state the capacity table and the URL's ``selected`` use;
- the DOT drawn last is kept in ``st.session_state[drawn_key(key)]`` (what the page shows, readable by checks).

If the server is asked for the layout and it fails there too (pygraphviz missing or a Graphviz error),
the DOT is drawn by ``st.graphviz_chart`` instead, with a caption saying why.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import streamlit as st

from explorer.errors import ExplorerError
from explorer.export import render_dot
from explorer.render.diagram_data import hotspots, page_svg, svg_key
from explorer.study import present
from pages import ui

STATIC = Path(__file__).resolve().parent / "static"
JS = (STATIC / "diagram_widget.js").read_text(encoding="utf-8")
CSS = (STATIC / "diagram_widget.css").read_text(encoding="utf-8")

VENDOR = STATIC / "vendor" / "viz"
"""The vendored Graphviz for the browser (``viz.js``: @viz-js/viz, WebAssembly inlined; see its README)."""
LAYOUT_ENV = "ARCH_EXPLORER_DIAGRAM_LAYOUT"
"""Environment variable: ``server`` lays every diagram out on the server; anything else (default) in the browser."""

_component = st.components.v2.component("arch_explorer_diagram", js=JS, css=CSS, isolate_styles=False)
# A components-v1 declaration serves the vendored folder from the app's own server (never rendered itself):
# the browser imports ``viz.js`` from there, once, and its HTTP cache keeps it.
_vendor = st.components.v1.declare_component("viz_vendor", path=str(VENDOR))
VIZ_URL_PATH = f"component/{_vendor.name}/viz.js"
"""Path of the vendored ``viz.js`` under the server's base URL."""


@st.cache_resource(show_spinner=False, max_entries=256)
def _svg(dot: str) -> tuple[str, str]:
    """The DOT laid out and drawn as page-ready SVG text, and its content key (cached per DOT source)."""
    text = page_svg(render_dot(dot, "svg"))
    return text, svg_key(text)


def _sent_key(key: str) -> str:
    return f"{key}:sent"


def drawn_key(key: str) -> str:
    """Session-state key of the DOT source the widget ``key`` drew last (what the page shows, for checks)."""
    return f"{key}:dot"


def _trigger(key: str, name: str) -> object:
    """The value of trigger ``name`` of the component at ``key`` (inside its callback), or None."""
    state = st.session_state.get(key)
    if isinstance(state, Mapping):
        return state.get(name)
    return getattr(state, name, None)


def _on_select(key: str, select_key: str) -> None:
    picked = _trigger(key, "select")
    if isinstance(picked, str) and picked:
        st.session_state[select_key] = picked


def _layout_key(key: str) -> str:
    return f"{key}:server_layout"


def _on_layout_failed(key: str) -> None:
    reason = _trigger(key, "layout_failed")
    st.session_state[_layout_key(key)] = str(reason or "the browser could not lay the diagram out")


def _viz_url() -> str:
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/{VIZ_URL_PATH}" if base else f"/{VIZ_URL_PATH}"


def _on_missing(key: str) -> None:
    missing = _trigger(key, "missing")
    sent = st.session_state.get(_sent_key(key))
    if isinstance(sent, set):
        sent.discard(missing)


def diagram_widget(rp, report, dot: str, *, key: str, view: str | None = None, select_key: str | None = None,
                   highlight: Iterable[str] = (), highlight_note: str = "", dim: bool = False,
                   label: str = "") -> None:
    """Draw ``dot`` as the interactive diagram.

    Parameters
    ----------
    rp : ResolvedPattern
        The pattern drawn (names the hover cards).
    report : Report or None
        The analysis the DOT was drawn from: the hover cards' figures. None: names and kinds only.
    dot : str
        DOT source from :func:`explorer.render.diagram.to_dot` (or ``pages.ui.dot``) for ``view``.
    key : str
        The widget's key (one per diagram on a page).
    view : str or None
        The view the DOT shows; the zoom is kept while pattern and view stay the same.
    select_key : str or None
        Session-state key of the selected component id. Given: a click on a component selects it.
    highlight : iterable of str
        Component ids to outline (changed on Compare, the step's components on Study).
    highlight_note : str
        What the outline means, shown above the diagram (nothing when empty or nothing is outlined).
    dim : bool
        Fade the components that are not outlined.
    label : str
        Accessible name of the diagram (default: the pattern's title).
    """
    if os.environ.get(LAYOUT_ENV) == "server" or _layout_key(key) in st.session_state:
        try:
            source, source_id = _svg(dot)
        except ExplorerError as exc:  # no Graphviz here either: the chart lays the DOT out in the browser
            st.caption(f"Static diagram (zoom and selection need the diagram's own layout): {exc}")
            st.graphviz_chart(dot, width="stretch")
            return
        kind = "svg"
    else:
        source, source_id, kind = dot, f"dot-{svg_key(dot)}", "dot"
    sent = st.session_state.setdefault(_sent_key(key), set())
    marked = [f"node_{c}" for c in highlight]
    data = {
        "source": None if source_id in sent else source,
        "source_key": source_id,
        "source_kind": kind,
        "viz_url": _viz_url() if kind == "dot" else "",
        "layout": f"{rp.id}|{view or ''}",
        "spots": hotspots(rp, report, view),
        "selectable": select_key is not None,
        "highlight": marked,
        "highlight_note": highlight_note if marked else "",
        "dim": dim,
        "label": label or f"Diagram of {rp.pattern.title}",
    }
    sent.add(source_id)
    st.session_state[drawn_key(key)] = dot
    callbacks = {"on_missing_change": lambda: _on_missing(key),
                 "on_layout_failed_change": lambda: _on_layout_failed(key)}
    if select_key is not None:
        callbacks["on_select_change"] = lambda: _on_select(key, select_key)
    _component(key=key, data=data, width="stretch", height="content", **callbacks)


def _clear(select_key: str) -> None:
    st.session_state[select_key] = None


def selection_details(report, cid: str | None, select_key: str) -> None:
    """The selected component under the diagram: one sentence of figures, why it is a bottleneck (when it
    is one) and every figure with its formula and inputs; a button clears the selection."""
    if report is None or cid is None or cid not in report.components:
        return
    c = report.components[cid]
    with st.container(border=True, key=f"{select_key}:details"):
        st.markdown(f"**Selected: {ui.md_safe(c.label)}** · {ui.md_safe(present.component_summary(report, cid))}")
        for b in report.bottlenecks:
            if b.component == cid:
                st.markdown(f"**Bottleneck #{b.rank}:** {ui.md_safe(b.reason)} → {ui.md_safe(b.advice)}")
        how = st.expander(f"Every figure of {c.label}: formula and inputs", key=f"{select_key}:how",
                          on_change="rerun")
        if how.open:  # drawn only when opened: a slider move sends no hidden trace
            with how:
                ui.show_trace(present.component_trace(report, cid))
        st.button("Clear selection", key=f"{select_key}:clear", on_click=_clear, args=(select_key,),
                  icon=":material/close:")
