"""Compare: two scenarios side by side — two patterns, or one pattern with two sets of values.

Both diagrams, the headline numbers with their differences, a delta table per shared component
and the scaling curves overlaid. Ready-made comparisons are offered as presets. The state lives
in the URL (``a``, ``b``, ``a_mode``, ``a.<param>`` …), so a copied link reopens the comparison.
Thin by design: the differences come from :mod:`explorer.study.compare`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.errors import ExplorerError
from explorer.model.scenario import check_values
from explorer.render import diagram
from explorer.render.styles import DrawOptions
from explorer.study import compare, present
from explorer.study.diagram_focus import changed_components
from pages import model_panel, ui
from pages.diagram_widget import diagram_widget

NS = "compare"
PRESET_KEY = f"{NS}:preset"
LAST_QUERY_KEY = f"{NS}:last_query"
NOTICES_KEY = f"{NS}:notices"
NONE = "—"
SIDE_TITLES = {"a": "A", "b": "B"}


def _pattern_key(side: str) -> str:
    return f"{NS}:{side}:pattern"


def _prefix(side: str, pattern_id: str) -> str:
    return f"{NS}:{side}:{pattern_id}:"


@st.cache_data(show_spinner=False, max_entries=4)
def _available(stamp: tuple) -> list[str]:
    return [p.id for p in compare.available_presets(ui.load)]


def available_presets() -> list[compare.Preset]:
    ids = _available(present.directory_stamp(present.library_paths()))
    return [p for p in compare.PRESETS if p.id in ids]


# --------------------------------------------------------------------------- state

def _seed_side(side: str, s: compare.Side) -> None:
    """Widget state of one side from a Side (pattern, mode and every slider)."""
    rp = ui.load(s.pattern)
    st.session_state[_pattern_key(side)] = s.pattern
    prefix = _prefix(side, s.pattern)
    ui.seed_values(prefix, rp, check_values(rp, s.values))
    model_panel.seed(prefix, rp, s.models)
    st.session_state[prefix + "mode"] = s.mode


def _apply_preset() -> None:
    """Callback of the preset picker: both sides take the preset's scenarios."""
    preset = compare.find_preset(st.session_state.get(PRESET_KEY) or "")
    if preset is None:
        return
    _seed_side("a", preset.a)
    _seed_side("b", preset.b)
    st.session_state[NOTICES_KEY] = []


def _take_link(presets: list[compare.Preset]) -> None:
    """A URL we did not write ourselves (first load, a shared link) sets the state; else keep the widgets."""
    query = ui.query_dict()
    fresh = _pattern_key("a") not in st.session_state
    if (query and query != st.session_state.get(LAST_QUERY_KEY)) or fresh:
        default = (presets[0].a, presets[0].b) if presets else None
        if default is None:
            first = present.default_pattern(ui.entries())
            default = (compare.Side(first), compare.Side(first, {}, "autosize"))
        if not query:
            query = {"preset": presets[0].id} if presets else {}
        try:
            a, b, notices = compare.sides_from_query(query, ui.load, default)
        except ExplorerError as exc:
            a, b, notices = default[0], default[1], [str(exc)]
        _seed_side("a", a)
        _seed_side("b", b)
        preset = query.get("preset")
        st.session_state[PRESET_KEY] = preset if preset in {p.id for p in presets} else NONE
        st.session_state[NOTICES_KEY] = notices


# --------------------------------------------------------------------------- widgets

def _side_controls(side: str, where) -> tuple[compare.Side, object] | None:
    with where:
        st.subheader(f"Scenario {SIDE_TITLES[side]}")
        pid = ui.pattern_picker(where, _pattern_key(side), search_key=f"{NS}:{side}:search",
                                label=f"Pattern {SIDE_TITLES[side]}")
        if pid is None:
            st.error("No pattern loads.")
            return None
        try:
            rp = ui.load(pid)
        except ExplorerError as exc:
            ui.show_error(exc)
            return None
        prefix = _prefix(side, pid)
        if prefix + "mode" not in st.session_state:
            ui.seed_values(prefix, rp, rp.defaults())
            st.session_state[prefix + "mode"] = "provisioned"
        mode = st.radio("Replicas", list(present.MODE_LABELS), key=prefix + "mode", horizontal=True,
                        format_func=present.MODE_LABELS.get)
        with st.expander("Parameters", expanded=False):
            values = ui.parameter_sliders(rp, st, prefix)
        model_panel.draw(rp, st, prefix)
    return compare.Side(pid, values, mode, models=model_panel.current(rp, prefix)), model_panel.applied(rp, prefix)


# --------------------------------------------------------------------------- body

def _headline(cmp: compare.Comparison, label_a: str, label_b: str) -> None:
    keys = [k for k in ("p99_ms", "cost_usd_month", "gpu_replicas", "max_utilization")
            if any(m.key == k for m in cmp.metrics)]
    cols = st.columns(len(keys))
    for col, key in zip(cols, keys, strict=True):
        m = cmp.metric(key)
        with col:
            delta = None if not m.delta.value else m.shown("delta")
            st.metric(f"{m.label} (B)", m.shown("b"), delta, delta_color="inverse" if m.better == "lower" else "normal",
                      help=f"A: {m.shown('a')} · B: {m.shown('b')}")
            with st.popover("How is this computed?", width="stretch"):
                ui.show_trace([f"{name} — {f.explain() if f is not None else 'no value'}"
                               for name, f in (("A", m.a), ("B", m.b))] + [m.delta.explain()])
    rows = [{"": m.label, label_a: m.shown("a"), label_b: m.shown("b"), "B − A": m.shown("delta"),
             "B is": m.verdict()} for m in cmp.metrics]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key=f"{NS}:metrics")


def _diagrams(side_a, rp_a, cmp: compare.Comparison, side_b, rp_b, titles: tuple[str, str]) -> None:
    specs_a = {v.id: v.title for v in diagram.views(rp_a)}
    shared = [v.id for v in diagram.views(rp_b) if v.id in specs_a] or ["overview"]
    if st.session_state.get(f"{NS}:view") not in shared:
        st.session_state[f"{NS}:view"] = shared[0]
    view = st.radio("Diagram view", shared, key=f"{NS}:view", horizontal=True,
                    format_func=lambda v: specs_a.get(v, v))
    cols = st.columns(2)
    changed = changed_components(cmp)
    for col, name, side, rp, report, title, marked in (
            (cols[0], "a", side_a, rp_a, cmp.report_a, titles[0], changed[0]),
            (cols[1], "b", side_b, rp_b, cmp.report_b, titles[1], changed[1])):
        with col:
            st.markdown(f"**{title}**")
            st.caption(ui.md_safe(compare.describe_side(side, rp)))
            diagram_widget(rp, report, diagram.to_dot(rp, report, DrawOptions(view=view, theme=ui.theme())),
                           key=f"{NS}:diagram:{name}", view=view, highlight=marked,
                           highlight_note="outlined: changed from the other side (figures or status), or only here")
            for b in report.bottlenecks[:1]:
                st.warning(present.tidy(b.reason), icon=":material/warning:")


def _delta_table(cmp: compare.Comparison) -> None:
    st.subheader("Per component")
    if not cmp.rows:
        st.info("The two scenarios share no component ids, so there is nothing to compare row by row.")
    else:
        st.caption("A → B for each component both sides share, the most changed first.")
        st.dataframe(pd.DataFrame(cmp.text_table()), hide_index=True, width="stretch", key=f"{NS}:rows",
                     column_config={"Component": st.column_config.TextColumn(width="medium", pinned=True)})
    if cmp.only_a or cmp.only_b:
        names_a = {c.id: c.label for c in cmp.report_a.components.values()}
        names_b = {c.id: c.label for c in cmp.report_b.components.values()}
        st.caption(f"Only in A: {', '.join(names_a[c] for c in cmp.only_a) or 'none'} · "
                   f"only in B: {', '.join(names_b[c] for c in cmp.only_b) or 'none'}")
    with st.expander("Formulas behind the differences"):
        lines = [m.delta.explain() for m in cmp.metrics]
        for r in cmp.rows:
            lines += [f.explain() for f in r.figures.values() if f.value not in (None, 0, 0.0)]
        ui.show_trace(lines)


def _curves(side_a, rp_a, side_b, rp_b, labels: tuple[str, str]) -> None:
    st.subheader("Scaling curves")
    na, nb = compare.sweep_parameters(rp_a, rp_b)
    try:
        sw_a = ui.sweep(rp_a, side_a.values, side_a.mode, na, 16) if na else None
        sw_b = ui.sweep(rp_b, side_b.values, side_b.mode, nb, 16) if nb else None
    except ExplorerError as exc:
        ui.show_error(exc)
        return
    if sw_a is None and sw_b is None:
        st.info("Neither pattern declares a parameter to sweep.")
        return
    now = (side_a.values.get(na) if na else None, side_b.values.get(nb) if nb else None)
    tabs = st.tabs(["End-to-end p99", "Cost per month", "Highest utilisation"])
    for tab, metric in zip(tabs, ("p99_ms", "cost_usd_month", "max_utilization"), strict=True):
        with tab:
            st.plotly_chart(compare.overlay_chart(sw_a, labels[0], sw_b, labels[1], metric, now), width="stretch",
                            config={"displaylogo": False}, key=f"{NS}:curve:{metric}")
    st.caption("Solid: A · dashed: B · dotted lines: where each side first saturates · thin lines: the values "
               "shown above. Saturated points have no finite latency (gaps).")


def main() -> None:
    st.title("Compare")
    st.caption("Two scenarios side by side: two patterns, or one pattern with two sets of values.")
    presets = available_presets()
    _take_link(presets)
    ui.show_notices(st.session_state.get(NOTICES_KEY, []))

    options = [NONE] + [p.id for p in presets]
    if st.session_state.get(PRESET_KEY) not in options:
        st.session_state[PRESET_KEY] = NONE
    titles = {p.id: p.title for p in presets}
    st.selectbox("Ready-made comparison", options, key=PRESET_KEY, on_change=_apply_preset,
                 format_func=lambda i: "— your own —" if i == NONE else titles[i],
                 help="Comparisons worth studying; pick one to set both sides, then change anything.")
    preset = compare.find_preset(st.session_state[PRESET_KEY]) if st.session_state[PRESET_KEY] != NONE else None

    cols = st.columns(2, gap="large")
    got_a = _side_controls("a", cols[0])
    got_b = _side_controls("b", cols[1])
    if got_a is None or got_b is None:
        return
    (side_a, rp_a), (side_b, rp_b) = got_a, got_b
    on_preset = preset is not None and compare.matches_preset(preset, side_a, side_b, ui.load)
    labels = (f"A: {preset.a.label}", f"B: {preset.b.label}") if on_preset else ("A", "B")
    if preset is not None:
        if on_preset:
            st.info(f"**{preset.question}** {preset.look_at}", icon=":material/search:")
        else:
            st.caption(f"Changed from the preset “{preset.title}”.")

    try:
        report_a = ui.analysis(rp_a, side_a.values, side_a.mode)
        report_b = ui.analysis(rp_b, side_b.values, side_b.mode)
    except Exception as exc:
        ui.show_error(exc)
        return
    cmp = compare.compare_reports(side_a, side_b, report_a, report_b)
    differs = compare.value_changes(cmp, rp_a, rp_b) if rp_a.id == rp_b.id else []
    if side_a.mode != side_b.mode:
        differs.append(f"replicas: {present.MODE_LABELS[side_a.mode]} → {present.MODE_LABELS[side_b.mode]}")
    if rp_a.id == rp_b.id:
        differs += [f"model {cid}: {fid} → {side_b.models.get(cid)}" for cid, fid in side_a.models.items()
                    if side_b.models.get(cid) != fid]
    if rp_a.id != rp_b.id:
        differs.insert(0, f"pattern: {rp_a.pattern.title} → {rp_b.pattern.title}")
    st.markdown("**What differs:** " + (ui.md_safe("; ".join(differs)) if differs else "nothing yet — change a side."))

    _headline(cmp, *labels)
    _diagrams(side_a, rp_a, cmp, side_b, rp_b, labels)
    _delta_table(cmp)
    _curves(side_a, rp_a, side_b, rp_b, labels)

    wanted = compare.to_query(side_a, side_b, preset.id if on_preset else None)
    ui.sync_query(wanted)
    st.session_state[LAST_QUERY_KEY] = wanted


ui.use_app_navigation()
main()
