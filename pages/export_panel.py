"""The export toolbar of the Explore page: a row of download buttons right under the diagram.

Not a page of its own: the Explore page calls :func:`render_export_toolbar` once, beside the diagram.
No arithmetic here; :mod:`explorer.export` makes every file. Every file is made when its button is
clicked (Streamlit's deferred downloads), so moving a slider costs only the file names; a failure
while making a file is reported by the download itself, and the other buttons keep working.

The row: PNG (2×), SVG, PDF, Markdown note, Mermaid, Anki deck; "More" holds DOT, JSON, PNG at
other resolutions and the study pack (built on request, with progress).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from explorer import export as ex
from explorer.errors import ExplorerError
from explorer.render.styles import DrawOptions

PNG_OTHER_DPI = (96, 300)
"""PNG resolutions under "More" (the row's PNG is :data:`explorer.export.DEFAULT_DPI`)."""


@st.cache_data(max_entries=64, show_spinner=False)
def _render(dot: str, fmt: str, dpi: float | None) -> bytes:
    """Rendered bytes of DOT source (cached: the same diagram renders once)."""
    return ex.render_dot(dot, fmt, dpi=dpi)


def _failure(what: str, exc: BaseException) -> None:
    if isinstance(exc, ExplorerError):
        st.error(f"Could not export {what}: {exc}")
    else:  # a bug or a library failure: say so plainly, never crash the page
        st.error(f"Could not export {what}: {type(exc).__name__}: {exc}")


def _maker(rp: Any, report: Any, values: dict, mode: str, options: DrawOptions, fmt: str,
           dpi: float | None = None, failures: tuple = ()) -> Callable[[], bytes]:
    """Make a file on click: diagrams through the cached renderer, the rest through :func:`explorer.export.export`."""
    def make() -> bytes:
        if fmt in ("svg", "png", "pdf"):
            return _render(ex.to_dot(rp, report, options), fmt, dpi if fmt == "png" else None)
        if fmt == "anki":
            return ex.export(rp, fmt="anki")
        if fmt == "md":  # the study note reports on the page's what-if, if one is set
            return ex.export(rp, values, mode, fmt, options, report=report, failures=failures)
        return ex.export(rp, values, mode, fmt, options, report=report)
    return make


def render_export_toolbar(rp: Any, report: Any, values: Mapping[str, float], mode: str,
                          options: DrawOptions = DrawOptions(), *, key: str = "export",
                          failures: tuple = ()) -> None:
    """Download buttons for the pattern, scenario and view on screen, in one row.

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
        Prefix of the widget keys (change it to draw two toolbars on one page).
    failures : tuple of Failure
        The page's what-if: the Markdown study note gets its "What if" section.
    """
    values = dict(values or {})
    try:
        ex.view_nodes(rp, options.view)
    except ExplorerError as exc:
        _failure("the diagram", exc)
        return

    def name(fmt: str) -> str:
        return ex.filename(rp, values, fmt, mode=mode, view=options.view)

    def button(label: str, fmt: str, icon: str, help_text: str, dpi: float | None = None, width="content") -> None:
        st.download_button(label, data=_maker(rp, report, values, mode, options, fmt, dpi, failures), file_name=name(fmt),
                           mime=ex.FORMATS[fmt].mime, key=f"{key}_{fmt}{'' if dpi is None else int(dpi)}",
                           icon=icon, help=help_text, on_click="ignore", width=width, type="tertiary")

    with st.container(horizontal=True, gap="small", vertical_alignment="center", key=f"{key}_toolbar"):
        st.caption(":material/download: Export", width="content")
        button("PNG", "png", ":material/photo:",
               f"Bitmap at 2× ({ex.DEFAULT_DPI} dpi) with the title, scenario, headline numbers and legend: "
               "pastes alone into a note", dpi=ex.DEFAULT_DPI)
        button("SVG", "svg", ":material/image:", "Vector diagram with its caption and legend, for notes and slides")
        button("PDF", "pdf", ":material/picture_as_pdf:", "Vector diagram with its caption and legend, for print")
        button("Markdown", "md", ":material/description:",
               "Study note: the Mermaid diagram, scenario, headline numbers, capacity table, bottlenecks, traces, "
               "the 7 steps")
        button("Mermaid", "mermaid", ":material/account_tree:",
               "Flowchart with a legend for GitHub, Obsidian, Notion")
        button("Anki", "anki", ":material/style:",
               "Anki deck of this pattern: the 7-step notes and estimation questions with the engine's answers")
        more = st.popover("More", icon=":material/more_horiz:", type="tertiary", key=f"{key}_more",
                          on_change="rerun", help="DOT, JSON, PNG at other resolutions, the study pack")
        with more:
            if not more.open:  # filled only when open: slider moves stay light
                return
            for dpi in PNG_OTHER_DPI:
                button(f"PNG {dpi} dpi" + (" (screen)" if dpi == 96 else " (print)"), "png", ":material/photo:",
                       f"Bitmap at {dpi} dpi", dpi=dpi, width="stretch")
            button("DOT (Graphviz source)", "dot", ":material/code:", "Graphviz source of the exported diagram",
                   width="stretch")
            button("JSON (the analysis)", "json", ":material/data_object:",
                   "The whole analysis (as `estimate --json`)", width="stretch")
            _pack(rp, values, mode, options, key, name("pack"))
            st.caption(f"Files are named `{name('svg').rsplit('.', 1)[0]}.*`: the pattern and a hash of "
                       "this scenario (values, mode, view).")


render_export_panel = render_export_toolbar
"""The former name (the toolbar replaced the panel at the bottom of the page)."""


def _pack(rp, values: dict, mode: str, options: DrawOptions, key: str, file_name: str) -> None:
    """Build on request (a few seconds, with progress), then offer the zip until the scenario changes."""
    signature = (rp.id, tuple(sorted(values.items())), mode, options.view, options.theme, options.colored)
    state_key = f"{key}_pack_data"
    slot = st.empty()  # the build button, then the progress bar, then the download button
    held = st.session_state.get(state_key)
    if held is None or held[0] != signature:
        if not slot.button("Build study pack", key=f"{key}_pack_build", icon=":material/folder_zip:", width="stretch",
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
                         key=f"{key}_pack", icon=":material/folder_zip:", on_click="ignore", width="stretch",
                         help="A note, an SVG and a Mermaid file per pattern, with an index")
