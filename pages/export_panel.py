"""Export panel of the Explore page: one download button per format, and the study pack.

Not a page of its own: the Explore page calls :func:`render_export_panel`
where the exports belong. No arithmetic here; :mod:`explorer.export` makes
every file. A render failure becomes ``st.error`` and the other buttons keep working.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from explorer import export as ex
from explorer.errors import ExplorerError
from explorer.render.styles import DrawOptions


@st.cache_data(max_entries=64, show_spinner=False)
def _render(dot: str, fmt: str, dpi: float | None) -> bytes:
    """Rendered bytes of DOT source (cached: the same diagram renders once)."""
    return ex.render_dot(dot, fmt, dpi=dpi)


def _failure(what: str, exc: BaseException) -> None:
    if isinstance(exc, ExplorerError):
        st.error(f"Could not export {what}: {exc}")
    else:  # a bug or a library failure: say so plainly, never crash the page
        st.error(f"Could not export {what}: {type(exc).__name__}: {exc}")


def render_export_panel(rp: Any, report: Any, values: Mapping[str, float], mode: str,
                        options: DrawOptions = DrawOptions(), *, key: str = "export") -> None:
    """Download buttons for the pattern, scenario and view on screen.

    Parameters
    ----------
    rp : ResolvedPattern
        The pattern shown.
    report : Report
        Its analysis at ``values`` and ``mode`` (what the page already computed).
    values : mapping
        The scenario's parameter values (for file names and the pack).
    mode : {"provisioned", "autosize"}
    options : DrawOptions
        As passed to the diagram (view, selection, theme, colours), so exports look like the screen.
    key : str
        Prefix of the widget keys (change it to draw two panels on one page).
    """
    values = dict(values or {})
    view = options.view

    def name(fmt: str) -> str:
        return ex.filename(rp, values, fmt, mode=mode, view=view)

    dot = svg = None
    try:
        dot = ex.to_dot(rp, report, options)
        svg = _render(dot, "svg", None)
    except Exception as exc:  # noqa: BLE001 - shown, not raised
        _failure("the diagram", exc)

    texts: dict[str, str | None] = {}
    for fmt, make in (
        ("mermaid", lambda: ex.to_mermaid(rp, report, options)),
        ("md", lambda: ex.study_note_markdown(rp, report, options)),
        ("json", lambda: ex.analysis_json(report)),
    ):
        try:
            texts[fmt] = make()
        except Exception as exc:  # noqa: BLE001
            texts[fmt] = None
            _failure(ex.FORMATS[fmt].title, exc)

    st.caption("Exports show this pattern, scenario and view, coloured as on screen.")
    row1 = st.columns(4)
    with row1[0]:
        st.download_button("SVG", data=svg or b"", file_name=name("svg"), mime=ex.FORMATS["svg"].mime,
                           key=f"{key}_svg", disabled=svg is None, icon=":material/image:",
                           help="Vector diagram for notes, slides and the web", on_click="ignore",
                           width="stretch")
    with row1[1]:
        st.download_button("PDF", data=_deferred(dot, "pdf", None), file_name=name("pdf"),
                           mime=ex.FORMATS["pdf"].mime, key=f"{key}_pdf", disabled=svg is None,
                           icon=":material/picture_as_pdf:", help="Vector diagram for print", on_click="ignore",
                           width="stretch")
    with row1[2]:
        st.download_button("DOT", data=dot or "", file_name=name("dot"), mime=ex.FORMATS["dot"].mime,
                           key=f"{key}_dot", disabled=dot is None, icon=":material/code:",
                           help="Graphviz source of the diagram", on_click="ignore", width="stretch")
    row2 = st.columns(4)
    for col, fmt, label, icon, help_text in (
        (row1[3], "mermaid", "Mermaid", ":material/account_tree:", "Flowchart for GitHub, Obsidian, Notion"),
        (row2[0], "md", "Markdown note", ":material/description:",
         "Study note: diagram, scenario, capacity table, bottlenecks, traces, the 7 steps"),
        (row2[1], "json", "JSON", ":material/data_object:", "The whole analysis (as `estimate --json`)"),
    ):
        with col:
            st.download_button(label, data=texts[fmt] or "", file_name=name(fmt), mime=ex.FORMATS[fmt].mime,
                               key=f"{key}_{fmt}", disabled=texts[fmt] is None, icon=icon, help=help_text,
                               on_click="ignore", width="stretch")
    with row2[3]:
        dpi = st.selectbox("PNG resolution", ex.DPI_CHOICES, index=ex.DPI_CHOICES.index(ex.DEFAULT_DPI),
                           format_func=_dpi_label, key=f"{key}_dpi", label_visibility="collapsed",
                           help="PNG resolution")
    with row2[2]:
        st.download_button(f"PNG ({dpi} dpi)", data=_deferred(dot, "png", dpi), file_name=name("png"),
                           mime=ex.FORMATS["png"].mime, key=f"{key}_png", disabled=svg is None,
                           icon=":material/photo:", help="Bitmap diagram at the resolution picked beside it",
                           on_click="ignore", width="stretch")
    _pack(rp, values, mode, options, key, name("pack"))


def _dpi_label(dpi: int) -> str:
    return {96: "96 dpi (screen)", 192: "192 dpi (retina 2×)", 300: "300 dpi (print)"}.get(dpi, f"{dpi} dpi")


def _deferred(dot: str | None, fmt: str, dpi: float | None):
    """Render on click (PNG and PDF cost more than SVG; most reruns never download them)."""
    if dot is None:
        return b""

    def make() -> bytes:
        return _render(dot, fmt, dpi)

    return make


def _pack(rp, values: dict, mode: str, options: DrawOptions, key: str, file_name: str) -> None:
    """Build on request (a few seconds, with progress), then offer the zip until the scenario changes."""
    signature = (rp.id, tuple(sorted(values.items())), mode, options.view, options.theme, options.colored)
    state_key = f"{key}_pack_data"
    slot = st.empty()  # the build button, then the progress bar, then the download button
    held = st.session_state.get(state_key)
    if held is None or held[0] != signature:
        if not slot.button("Build study pack", key=f"{key}_pack_build", icon=":material/folder_zip:",
                           help="Every pattern at its defaults, this one at this scenario: a note, an SVG and a "
                                "Mermaid file each, with an index"):
            return
        bar = slot.progress(0.0, text="Building the study pack…")

        def progress(done: int, total: int, label: str) -> None:
            bar.progress(min(1.0, done / max(total, 1)), text=f"Study pack: {done}/{total} {label}")

        try:
            data = ex.study_pack(rp, values, mode, options, progress=progress)
        except Exception as exc:  # noqa: BLE001
            slot.empty()
            _failure("the study pack", exc)
            return
        held = (signature, data)
        st.session_state[state_key] = held
    slot.download_button("Study pack (zip)", data=held[1], file_name=file_name, mime=ex.FORMATS["pack"].mime,
                         key=f"{key}_pack", icon=":material/folder_zip:", on_click="ignore",
                         help="A note, an SVG and a Mermaid file per pattern, with an index")
