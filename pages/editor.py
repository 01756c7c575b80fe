"""Your patterns: write a pattern in YAML, see its problems with line numbers and its diagram and
analysis live, download it, or save it to your folder so it appears in every page's pattern picker.

The draft lives in ``st.session_state`` under a key that is not a widget's, so an edit in progress
survives switching pages. Validation and every limit (file size, component count, alias expansion,
object-building tags) are the engine's; nothing in a pattern file is ever executed.
Thin by design: drafts, checks, uploads and saving come from :mod:`explorer.study.editor`.
"""

from __future__ import annotations

import streamlit as st

from explorer.engine.analysis import analyse
from explorer.errors import ExplorerError, PatternError
from explorer.model.library import user_dir
from explorer.model.yamlio import MAX_FILE_BYTES
from explorer.render import diagram
from explorer.render.styles import DrawOptions
from explorer.study import editor, present
from pages import ui

NS = "editor"
DRAFT_KEY = f"{NS}:draft"  # the draft text; not a widget key, so it survives page switches
AREA_KEY = f"{NS}:text"
SOURCE_KEY = f"{NS}:source"
UPLOAD_KEY = f"{NS}:upload"
MESSAGE_KEY = f"{NS}:message"  # (level, text) of the last load, upload or save, shown once
TEMPLATE = "__template__"


@st.cache_data(show_spinner=False, max_entries=32)
def _draft_analysis(text: str, mode: str, _rp):
    """The draft's analysis at its defaults, cached by the draft's text and the mode."""
    return analyse(_rp, _rp.defaults(), mode, deadline_s=ui.live_budget_s())


def _set_draft(text: str) -> None:
    st.session_state[DRAFT_KEY] = text
    st.session_state[AREA_KEY] = text


def _sync_draft() -> None:
    st.session_state[DRAFT_KEY] = st.session_state.get(AREA_KEY, "")


def _load_source() -> None:
    """Callback: replace the draft with the template, a built-in pattern or one of yours."""
    choice = st.session_state.get(SOURCE_KEY, TEMPLATE)
    try:
        if choice == TEMPLATE:
            text, what = editor.template_text(), "the template"
        else:
            e = next(e for e in ui.entries() if e.id == choice)
            if e.kind == "user":
                text, what = editor.user_draft(e.path), f"your pattern {e.id!r}"
            else:
                taken = {x.id for x in ui.entries()}
                text = editor.builtin_draft(e.id, taken)
                what = f"the built-in {e.id!r}, renamed to {editor.draft_id(text)!r} so it can be saved as yours"
    except (ExplorerError, OSError, StopIteration) as exc:
        st.session_state[MESSAGE_KEY] = ("error", f"Could not load {choice!r}: {exc}")
        return
    _set_draft(text)
    st.session_state[MESSAGE_KEY] = ("info", f"The draft now holds {what}.")


def _take_upload() -> None:
    """Callback of the uploader: a file within the limits replaces the draft; anything else is refused with a message."""
    up = st.session_state.get(UPLOAD_KEY)
    if up is None:
        return
    try:
        text = editor.read_upload(up.name, up.getvalue())
    except PatternError as exc:
        st.session_state[MESSAGE_KEY] = ("error", f"Upload refused: {exc}")
        return
    _set_draft(text)
    st.session_state[MESSAGE_KEY] = ("info", f"The draft now holds {up.name}; it is checked below like any edit.")


def _save(overwrite: bool) -> None:
    """Callback: save a valid draft atomically; an invalid one writes nothing."""
    text = st.session_state.get(DRAFT_KEY, "")
    try:
        path = editor.save_draft(text, overwrite=overwrite)
    except PatternError as exc:
        st.session_state[MESSAGE_KEY] = ("error", f"Not saved: {exc}")
        return
    except OSError as exc:
        st.session_state[MESSAGE_KEY] = ("error", f"Not saved: {exc.strerror or exc} ({user_dir()})")
        return
    ui.forget_stamps()  # every page sees the new file now, not after the fingerprints expire
    st.session_state[MESSAGE_KEY] = ("success", f"Saved to {path}. It now appears in the pattern picker of "
                                                f"every page (under “Yours”).")


def _sources() -> tuple[list[str], dict[str, str]]:
    items = [e for e in ui.entries() if not e.error or e.kind == "user"]
    labels = {TEMPLATE: "Starter template"}
    for e in items:
        labels[e.id] = ("Yours: " if e.kind == "user" else "Built-in: ") + e.title + f" ({e.id})"
    return [TEMPLATE] + [e.id for e in items], labels


def _problems(check: editor.DraftCheck, text: str) -> None:
    n = len(check.errors)
    st.error(f"{n} problem{'s' if n != 1 else ''} — fix {'them' if n != 1 else 'it'} and the diagram appears. "
             "Nothing is saved while the draft is invalid.", icon=":material/block:")
    for e in check.errors:
        where = f"**line {e.line}**" if e.line else "**the file**"
        path = f" · `{e.path}`" if e.path else ""
        st.markdown(f"{where}{path}: {ui.md_safe(e.message)}")
        if e.line:
            st.code(editor.excerpt(text, e.line), language=None)


def _live(check: editor.DraftCheck, text: str) -> None:
    rp = check.rp
    comps, conns = len(rp.pattern.components), len(rp.pattern.connections)
    st.success(f"Valid: **{ui.md_safe(rp.pattern.title)}** ({rp.id}) — {comps} components, {conns} connections.",
               icon=":material/check_circle:")
    for w in check.warnings:
        st.warning(w, icon=":material/warning:")
    mode = st.radio("Replicas", list(present.MODE_LABELS), key=f"{NS}:mode", horizontal=True,
                    format_func=present.MODE_LABELS.get)
    try:
        report = _draft_analysis(text, mode, rp)
    except Exception as exc:
        ui.show_error(exc)
        return
    metrics = present.headline(report)
    for start in range(0, len(metrics), 3):
        row = metrics[start:start + 3]
        for col, m in zip(st.columns(3), row, strict=False):
            col.metric(m.label, m.value, m.delta, delta_color=m.delta_color, help=m.help or None)
    st.graphviz_chart(diagram.to_dot(rp, report, DrawOptions(theme=ui.theme())), width="stretch")
    for b in report.bottlenecks[:3]:
        st.warning(f"{b.reason} → {b.advice}", icon=":material/warning:")
    if not report.bottlenecks:
        st.caption(present.healthy_message(report))
    st.caption("At the default value of every parameter; open it on the Explore page after saving to move the sliders.")


def main() -> None:
    st.title("Your patterns")
    st.caption(f"Saved patterns live in `{user_dir()}` (set `ARCH_EXPLORER_USER_DIR` to use another folder) "
               "and appear in the pattern picker of every page.")
    if DRAFT_KEY not in st.session_state:
        st.session_state[DRAFT_KEY] = editor.template_text()
    if AREA_KEY not in st.session_state:  # widget state is dropped when another page was shown
        st.session_state[AREA_KEY] = st.session_state[DRAFT_KEY]

    options, labels = _sources()
    if st.session_state.get(SOURCE_KEY) not in options:
        st.session_state[SOURCE_KEY] = TEMPLATE
    c1, c2, c3 = st.columns([3, 1, 3], vertical_alignment="bottom")
    c1.selectbox("Start from", options, key=SOURCE_KEY, format_func=lambda i: labels.get(i, i))
    c2.button("Load", key=f"{NS}:load", on_click=_load_source, width="stretch",
              help="Loads it into the editor, replacing the draft (download the draft first to keep it).")
    c3.file_uploader("…or upload a YAML file", type=["yaml", "yml"], key=UPLOAD_KEY, on_change=_take_upload,
                     help=editor.LIMITS_NOTE, max_upload_size=1)
    message = st.session_state.pop(MESSAGE_KEY, None)
    if message is not None:
        level, text = message
        {"error": st.error, "success": st.success}.get(level, st.info)(text)

    left, right = st.columns([1, 1], gap="large")
    with left:
        st.text_area("Pattern YAML", key=AREA_KEY, height=640, on_change=_sync_draft, max_chars=MAX_FILE_BYTES,
                     help="Checked on every change (click outside the box or press Ctrl+Enter to apply).")
    _sync_draft()
    text = st.session_state[DRAFT_KEY]
    check = editor.check_draft(text)
    with right:
        if check.ok:
            _live(check, text)
        else:
            _problems(check, text)

    st.subheader("Keep it")
    d1, d2, d3 = st.columns([1, 1, 2], vertical_alignment="bottom")
    d1.download_button("Download the draft", data=text.encode("utf-8"), file_name=editor.download_name(text),
                       mime="application/x-yaml", key=f"{NS}:download", width="stretch")
    overwrite = False
    if check.ok and editor.saved_path(check.pattern_id).exists():
        overwrite = d3.checkbox(f"Replace my saved {check.pattern_id}.yaml", key=f"{NS}:overwrite")
    blocked = (not check.ok) or check.save_blocker is not None
    d2.button("Save to my patterns", key=f"{NS}:save", type="primary", disabled=blocked, on_click=_save,
              args=(overwrite,), width="stretch")
    if check.save_blocker:
        st.warning(check.save_blocker, icon=":material/pan_tool:")
    elif not check.ok:
        st.caption("Saving is enabled once the draft is valid.")

    with st.expander("JSON Schema: autocompletion and checks in your own editor"):
        st.download_button("Download pattern.schema.json", data=editor.schema_text().encode("utf-8"),
                           file_name=editor.SCHEMA_FILE, mime="application/schema+json", key=f"{NS}:schema")
        st.markdown(editor.SCHEMA_NOTE)
        st.caption(editor.LIMITS_NOTE)

    mine = [e for e in ui.entries() if e.kind == "user"]
    with st.expander(f"Your saved patterns ({len(mine)})"):
        if not mine:
            st.caption("None yet.")
        for e in mine:
            st.markdown(f"- **{ui.md_safe(e.title)}** (`{e.id}`) — `{ui.md_safe(e.path)}`"
                        + (f"\n  - ⚠️ {ui.md_safe(e.error)}" if e.error else ""))
        if mine:
            st.caption("To change one, pick it under “Start from” and load it into the editor.")


ui.use_app_navigation()
main()
