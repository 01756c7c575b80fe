"""Explore: one pattern at one scenario — the diagram, the capacity numbers, the ML figures, the bottlenecks,
every figure's trace and the charts. Page state lives in the URL, so a copied link reopens it.

Thin by design: widgets and query parameters in, ``explorer`` calls, results out.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.engine.sweep import traffic_parameter
from explorer.errors import ExplorerError
from explorer.render import charts, diagram
from explorer.render.styles import DrawOptions
from explorer.study import present
from pages import model_panel, ui, whatif_panel
from pages.day_panel import render_day_panel
from pages.diagram_widget import diagram_widget, selection_details
from pages.export_panel import render_export_toolbar
from pages.whatif_panel import render_availability_headline, render_whatif_panel, whatif_query

NS = "explore"
PATTERN_KEY = f"{NS}:pattern"
NOTICES_KEY = f"{NS}:notices"
LAST_QUERY_KEY = f"{NS}:last_query"
LINK_KEY = f"{NS}:link"
TABS_KEY = f"{NS}:tabs"
CHARTS_KEY = f"{NS}:charts"
CHART_TABS = ["Latency waterfall", "Utilisation", "Scaling curves", "Cost breakdown", "Day"]


def _prefix(pattern_id: str) -> str:
    return f"{NS}:{pattern_id}:"


# --------------------------------------------------------------------------- state from the URL

def _take_link(all_entries) -> None:
    """A URL we did not write ourselves (first load, a shared link, a link from another page) sets the state."""
    query = ui.query_dict()
    if query and query != st.session_state.get(LAST_QUERY_KEY):
        pattern_id, notices = present.choose_pattern(query, all_entries)
        st.session_state[PATTERN_KEY] = pattern_id
        st.session_state[NOTICES_KEY] = (pattern_id, notices)
        st.session_state[LINK_KEY] = query
    elif PATTERN_KEY not in st.session_state:
        st.session_state[PATTERN_KEY] = present.default_pattern(all_entries)


def _seed(rp) -> None:
    """Widget state for this pattern: from a pending link, else defaults when absent."""
    prefix = _prefix(rp.id)
    link = st.session_state.pop(LINK_KEY, None)
    if link is not None and link.get("pattern", rp.id) == rp.id:
        state = present.read_query(rp, link)
        ui.seed_values(prefix, rp, state.values)
        model_panel.seed(prefix, rp, state.models)
        st.session_state[prefix + "mode"] = state.mode
        st.session_state[prefix + "view"] = state.view
        st.session_state[prefix + "selected"] = state.selected
        st.session_state[prefix + "replicas"] = dict(state.replicas)
        _, earlier = st.session_state.get(NOTICES_KEY, (rp.id, []))
        st.session_state[NOTICES_KEY] = (rp.id, list(earlier) + state.notices)
    elif prefix + "mode" not in st.session_state:
        ui.seed_values(prefix, rp, rp.defaults())
        model_panel.seed(prefix, rp, {})
        st.session_state[prefix + "mode"] = "provisioned"
        st.session_state[prefix + "view"] = diagram.views(rp)[0].id
        st.session_state[prefix + "selected"] = None
        st.session_state[prefix + "replicas"] = {}


# --------------------------------------------------------------------------- sidebar

def _state(all_entries):
    """The page state from session state, read *before* any widget is drawn, so the diagram is the first
    thing the browser receives after a full rerun (the sidebar widgets follow it)."""
    usable = [e.id for e in all_entries if not e.error]
    if st.session_state.get(PATTERN_KEY) not in usable:
        st.session_state[PATTERN_KEY] = present.default_pattern(all_entries)
    pattern_id = st.session_state[PATTERN_KEY]
    if pattern_id is None:
        return None
    rp = ui.load(pattern_id)
    _seed(rp)
    prefix = _prefix(rp.id)
    ui.current_values(rp, prefix)  # seeds any slider state still missing
    specs = diagram.views(rp)
    if st.session_state.get(prefix + "view") not in {v.id for v in specs}:
        st.session_state[prefix + "view"] = specs[0].id
    if st.session_state.get(prefix + "mode") not in present.MODE_LABELS:
        st.session_state[prefix + "mode"] = "provisioned"
    return rp


def _sidebar(all_entries, rp) -> None:
    """The pattern and the way to look at it. Their values were read by :func:`_state`; drawing them keeps
    them in the session. The scenario sliders are not here: they sit in :func:`_body`'s fragment."""
    with st.sidebar:
        ui.pattern_picker(st.sidebar, PATTERN_KEY, all_entries, search_key=f"{NS}:search")
        if rp is None:
            return
        prefix = _prefix(rp.id)
        st.markdown("**Sizing and view**")
        st.radio("Replicas", list(present.MODE_LABELS), key=prefix + "mode", format_func=present.MODE_LABELS.get,
                 help="Provisioned: the pattern's replicas are fixed; push traffic and watch components saturate. "
                      "Auto-size: the engine picks the fewest replicas that meet the target utilisation and "
                      "each stage's share of the latency budget.")
        specs = diagram.views(rp)
        titles = {v.id: v.title for v in specs}
        st.selectbox("View", list(titles), key=prefix + "view", format_func=titles.get)
        st.button("Reset to defaults", key=f"{NS}:reset", width="stretch",
                  on_click=ui.reset_values,
                  args=(prefix, rp, {prefix + "mode": "provisioned", prefix + "view": specs[0].id,
                                     prefix + "selected": None, prefix + "replicas": {},
                                     NOTICES_KEY: (rp.id, []), **model_panel.defaults(prefix, rp)}))


# --------------------------------------------------------------------------- body

def _follow_table_selection(prefix: str, ids: list[str]) -> None:
    """A new row selection in the capacity table selects that component (before the diagram is drawn)."""
    state = st.session_state.get(prefix + "table")
    try:
        rows = list(state["selection"]["rows"]) if state is not None else []
    except (KeyError, TypeError):
        rows = []
    last_key = prefix + "table_rows"
    if rows != st.session_state.get(last_key, []):
        st.session_state[last_key] = rows
        st.session_state[prefix + "selected"] = ids[rows[0]] if rows and 0 <= rows[0] < len(ids) else None


def _metric_row(report, metrics, columns: int, key_prefix: str) -> None:
    """Metrics side by side in ``columns`` equal columns, each with its trace in a popover drawn only when
    opened (a slider move sends no hidden traces). A delta shown with ``delta_color="off"`` is context (managed
    nodes, the model's fit), not a change: no arrow."""
    for col, m in zip(st.columns(columns), metrics, strict=False):
        with col:
            st.metric(m.label, m.value, m.delta, delta_color=m.delta_color, help=m.help or None,
                      delta_arrow="off" if m.delta_color == "off" else "auto")
            how = st.popover("How is this computed?", width="stretch", key=f"{key_prefix}{m.key}",
                             on_change="rerun")
            if how.open:
                with how:
                    ui.show_trace(present.explain_refs(report, m.refs))


def _metrics(report, prefix: str) -> None:
    """The headline row, then the ML figures the design turns on (GPUs, index, staleness, training) in a
    second row of the same column widths."""
    metrics = present.headline(report)
    ml = present.ml_headline(report)
    columns = max(len(metrics), len(ml))
    with st.container(key=f"{NS}-metrics"):  # a phone shows these two per row (ui.PAGE_CSS)
        _metric_row(report, metrics, columns, f"{prefix}how_")
        if ml:
            _metric_row(report, ml, columns, f"{prefix}how_mlhead_")


def _ml(report, prefix: str) -> None:
    """Every ML figure, a table per section; each section's trace opens below its table."""
    views = present.ml_views(report)
    if not views:
        return
    with st.expander(f"ML figures ({len(views)} section{'s' if len(views) != 1 else ''})", expanded=True,
                     icon=":material/model_training:"):
        for v in views:
            about = f" — `{v.component}`" if v.component else ""
            st.markdown(f"**{ui.md_safe(v.title)}**{about}")
            st.table(pd.DataFrame({"Value": [r.value for r in v.rows]},
                                  index=pd.Index([r.label for r in v.rows], name="Figure")))
            how = st.popover("How are these computed?", width="stretch", key=f"{prefix}how_ml_{v.key}",
                             on_change="rerun")
            if how.open:  # drawn only when asked for, like the headline traces
                with how:
                    ui.show_trace(present.ml_section_trace(report, v.key))
        fig = charts.staleness_chart(report)
        if fig is not None:
            st.plotly_chart(fig, width="stretch", config={"displaylogo": False}, key=f"{NS}:staleness")


def _autosize_component(prefix: str, cid: str, replicas: int) -> None:
    """Callback: this component runs its recommended replicas (kept in the URL as ``replicas.<id>``)."""
    st.session_state[prefix + "replicas"] = {**st.session_state.get(prefix + "replicas", {}), cid: replicas}


def _autosize_pattern(prefix: str) -> None:
    """Callback: every component runs its recommended replicas (auto-size mode); the page reruns whole so the
    sidebar's mode follows."""
    st.session_state[prefix + "mode"] = "autosize"
    st.session_state[prefix + "replicas"] = {}
    st.session_state[f"{NS}:rerun_app"] = True


def _fix_buttons(c, prefix: str, i: int) -> None:
    """"Auto-size this component" and "auto-size the pattern" under a callout that has a recommended count."""
    left, right = st.columns(2)
    left.button(f"Auto-size this component ({c.replicas} replica{'s' if c.replicas != 1 else ''})",
                key=f"{prefix}fix_{i}_{c.component}", icon=":material/tune:", width="stretch",
                on_click=_autosize_component, args=(prefix, c.component, c.replicas))
    right.button("Auto-size the pattern", key=f"{prefix}fixall_{i}_{c.component}", icon=":material/auto_fix_high:",
                 width="stretch", on_click=_autosize_pattern, args=(prefix,))


def _callouts(report, prefix: str) -> None:
    """Bottlenecks first (errors, warnings), then the provisioning flags, each with its one-click fix."""
    found = present.callouts(report)
    problems = [c for c in found if c.level != "info"]
    flags = [c for c in found if c.level == "info"]
    if not problems:
        st.success(present.healthy_message(report), icon=":material/check_circle:")
    shown = problems[:3] + flags[:max(0, 3 - len(problems[:3]))] if problems else flags[:3]
    for i, c in enumerate(shown):
        show = {"error": st.error, "warning": st.warning}.get(c.level, st.info)
        show(c.text, icon=c.icon)
        if c.replicas is not None and report.mode == "provisioned":
            _fix_buttons(c, prefix, i)
    rest = [c for c in found if c not in shown]
    if rest:
        with st.expander(f"{len(rest)} more: " + ", ".join(
                f"{n} {w}" for n, w in ((sum(c.level != 'info' for c in rest), "problem(s)"),
                                       (sum(c.level == 'info' for c in rest), "over-provisioned")) if n)):
            for c in rest:
                st.markdown(f"- {c.text}")
    overrides = st.session_state.get(prefix + "replicas") or {}
    if overrides and report.mode == "provisioned":
        st.caption("Replicas set here (not the pattern's): " + ", ".join(
            f"{report.components[k].label if k in report.components else k} → {n}" for k, n in sorted(overrides.items())))
        st.button("Back to the pattern's replicas", key=f"{prefix}fix_reset", icon=":material/undo:",
                  on_click=lambda: st.session_state.__setitem__(prefix + "replicas", {}))


def _table(report, prefix: str) -> None:
    rows = present.capacity_rows(report)
    css = present.capacity_status_css(report, ui.theme())
    frame = pd.DataFrame(rows, columns=["id", *present.TABLE_COLUMNS])
    styled = frame.style.apply(lambda _: css, subset=["Status"])
    table_key = prefix + "table"
    st.dataframe(
        styled, key=table_key, hide_index=True, width="stretch",
        on_select="rerun", selection_mode="single-row",
        column_config={
            "id": None,
            "Component": st.column_config.TextColumn(width=210, pinned=True),
            "Status": st.column_config.TextColumn(width=120, help="Coloured like the node on the diagram"),
            "Utilisation": st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0,
                                                           width=100, color="gray"),
            "p99": st.column_config.TextColumn(width=80),
            "Replicas": st.column_config.TextColumn(width=80, help="Replicas per shard"),
            "Memory": st.column_config.TextColumn(width=85),
            "Cost / month": st.column_config.TextColumn(width=100),
            "Recommended": st.column_config.TextColumn(help="Fewest replicas per shard that meet the target "
                                                            "utilisation and the stage's latency budget"),
            "Sizing": st.column_config.TextColumn(help="Over-provisioned: far under the target utilisation with "
                                                       "more replicas than recommended (and the money the spare "
                                                       "replicas cost); under-provisioned: fewer than recommended"),
        },
    )
    ui.status_legend(report.target_utilization)


def _trace(report, prefix: str) -> None:
    key = prefix + "selected"
    ids = list(report.components)
    if st.session_state.get(key) not in ids:
        st.session_state[key] = None
    labels = {c.id: f"{c.label} ({c.id})" for c in report.components.values()}
    cid = st.selectbox("Trace of a component (or select a row in the table)", [None, *ids], key=key,
                       format_func=lambda i: "— none —" if i is None else labels[i])
    if cid is not None:
        st.markdown(ui.md_safe(present.component_summary(report, cid)))
        ui.show_trace(present.component_trace(report, cid))


def _scaling(rp, report, values, mode):
    param = traffic_parameter(rp)
    if param is None:
        st.info("This pattern declares no parameter to sweep.")
        return None
    return charts.scaling_chart(ui.sweep(rp, values, mode, param), values.get(param))


def _charts(rp, report, values, mode) -> None:
    tabs = st.tabs(CHART_TABS, key=TABS_KEY, on_change="rerun")
    makers = [lambda: charts.latency_waterfall(report), lambda: charts.utilization_chart(report),
              lambda: _scaling(rp, report, values, mode), lambda: charts.cost_breakdown(report),
              lambda: render_day_panel(rp, values, ui.theme())]
    for i, (tab, make) in enumerate(zip(tabs, makers, strict=True)):
        with tab:
            if tab.open is False:  # lazy: only the open tab is computed (None = no state, draw all)
                continue
            try:
                fig = make()
            except Exception as exc:  # an engine error in one chart never takes the page down
                ui.show_error(exc)
                continue
            if fig is not None:
                st.plotly_chart(fig, width="stretch", config={"displaylogo": False}, key=f"{NS}:chart{i}")


def _scenario(rp, where) -> None:
    """The scenario sliders, a column per group, inside the fragment: moving one reruns only :func:`_body`
    (a fragment cannot draw into the sidebar, so they sit in the main area, above the diagram)."""
    with where.expander("Scenario: traffic, targets, data size, model", expanded=True, icon=":material/tune:"):
        ui.parameter_sliders(rp, st, _prefix(rp.id), columns=True)
        model_panel.draw(rp, st, _prefix(rp.id))


@st.fragment
def _body(pattern_id: str) -> None:
    """Everything under the title: the scenario sliders and what they drive. A slider move, a table
    selection or a tab switch reruns only this; the sidebar (pattern, mode, view) reruns the whole page."""
    prefix = _prefix(pattern_id)
    try:
        rp = model_panel.applied(ui.load(pattern_id), prefix)
    except Exception as exc:  # ExplorerError → a message; anything else → a message and details
        ui.show_error(exc)
        return
    values = ui.current_values(rp, prefix)
    mode, view = st.session_state[prefix + "mode"], st.session_state[prefix + "view"]
    replicas = st.session_state.setdefault(prefix + "replicas", {})
    if st.session_state.pop(f"{NS}:rerun_app", False):
        st.rerun()  # a callback changed the mode: redraw the sidebar too
    scenario = st.container()  # the sliders show above the diagram but are sent after it
    try:
        report = ui.analysis(rp, values, mode, replicas)
    except Exception as exc:
        _scenario(rp, scenario)  # the sliders stay, so the scenario can be moved back
        ui.show_error(exc)
        return
    _follow_table_selection(prefix, list(report.components))
    selected = st.session_state.get(prefix + "selected")
    if selected not in report.components:
        selected = None

    options = DrawOptions(view=view, selected=selected, theme=ui.theme())
    head = st.container()  # the headline metrics show above the diagram but are sent after it
    diagram_widget(rp, report, ui.dot(rp, values, mode, options, replicas), key=prefix + "diagram", view=view,
                   select_key=prefix + "selected")
    selection_details(report, selected, prefix + "selected")
    render_export_toolbar(rp, report, values, mode, options, key=f"{NS}:export",
                          failures=whatif_panel.current(rp))
    _scenario(rp, scenario)
    with head:
        _metrics(report, prefix)
        render_availability_headline(rp, report, key=f"{NS}:whatif")
    # a container each: however many callouts or ML sections there are, what follows keeps its place in the
    # page, so the browser updates the capacity table in place instead of mounting a new one
    with st.container():
        _callouts(report, prefix)
    with st.container():
        _ml(report, prefix)
    render_whatif_panel(rp, report, values, mode, options, key=f"{NS}:whatif")

    st.subheader("Capacity")
    _table(report, prefix)
    _trace(report, prefix)
    if report.warnings:
        with st.expander(f"Notes from the analysis ({len(report.warnings)})"):
            st.markdown("\n".join(f"- {ui.md_safe(w)}" for w in report.warnings))

    charts_box = st.expander("Charts: latency waterfall, utilisation, scaling curves, cost", key=CHARTS_KEY,
                             on_change="rerun", icon=":material/bar_chart:")
    with charts_box:
        if charts_box.open:  # drawn only when open (it stays open): a closed one keeps slider moves light
            _charts(rp, report, values, mode)


    state = present.PageState(pattern_id, values, mode, view, st.session_state.get(prefix + "selected"),
                              models=model_panel.current(rp, prefix), replicas=dict(replicas))
    wanted = present.write_query(rp, state) | whatif_query(rp)
    ui.sync_query(wanted)
    st.session_state[LAST_QUERY_KEY] = wanted


def main() -> None:
    all_entries = ui.entries()
    _take_link(all_entries)
    try:
        state = _state(all_entries)
    except ExplorerError as exc:  # the chosen file stopped loading: say why, keep the picker usable
        ui.show_error(exc)
        _sidebar(all_entries, None)
        return
    pid, notices = st.session_state.get(NOTICES_KEY, (None, []))
    if state is None:
        ui.show_notices(notices)
        st.error("No pattern loads: check the files in architectures/.")
        _sidebar(all_entries, None)
        return
    rp = state
    st.title(rp.pattern.title)
    if rp.pattern.summary:
        st.caption(rp.pattern.summary)
    if pid == rp.id or pid is None:
        ui.show_notices(notices)
    _body(rp.id)
    _sidebar(all_entries, rp)


ui.use_app_navigation()
main()
