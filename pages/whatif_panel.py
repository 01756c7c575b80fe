"""The Explore page's "What if" panel: knock out, slow down, lose a zone of, or cool one component, and see
the fallback routes lit, what the failure overloads downstream, the shares of requests served and failed,
and the request path's availability in nines. The failure rides in the URL (``fail=scorer:down``).

Thin: widgets and the URL in, :func:`explorer.engine.failures.what_if` out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import streamlit as st

from explorer.engine.availability import availability
from explorer.engine.failures import WhatIf, what_if
from explorer.engine.report import Report
from explorer.model.loader import ResolvedPattern
from explorer.model.whatif import KINDS, Failure, from_query, parse_failures, to_query
from explorer.render import diagram
from explorer.render.styles import DrawOptions
from explorer.study import present
from explorer.study.resilience import availability_line, nines_text, whatif_lines
from explorer.units import fmt
from pages import ui
from pages.diagram_widget import diagram_widget

NS = "explore:whatif"
QUERY_KEY = "fail"
"""The URL parameter: ``fail=scorer:down`` (comma-separated for several)."""
KIND_LABELS = {"down": "Down", "slow": "Slow (service time × K)", "zone": "Lose one zone", "cold": "Cold cache"}
NONE = "— nothing fails —"


def _key(pattern_id: str, name: str) -> str:
    return f"{NS}:{pattern_id}:{name}"


def _seed(rp: ResolvedPattern) -> None:
    """First time this pattern is shown in the session: the widgets take the URL's ``fail`` value."""
    seeded = _key(rp.id, "seeded")
    if st.session_state.get(seeded):
        return
    st.session_state[seeded] = True
    query = ui.query_dict()
    if query.get("pattern", rp.id) != rp.id:
        return
    failures, notices = from_query(rp, query.get(QUERY_KEY))
    if notices:
        st.session_state[_key(rp.id, "notices")] = [f"Link value ignored — {n}" for n in notices]
    if failures:
        f = failures[0]
        st.session_state[_key(rp.id, "component")] = f.component
        st.session_state[_key(rp.id, "kind")] = f.kind
        if f.kind == "slow":
            st.session_state[_key(rp.id, "factor")] = float(min(max(f.factor, 1.5), 20.0))


def current(rp: ResolvedPattern) -> tuple[Failure, ...]:
    """The failure the widgets describe (empty when nothing fails)."""
    comp = st.session_state.get(_key(rp.id, "component"))
    if comp in (None, NONE) or comp not in {c.id for c in rp.pattern.components}:
        return ()
    kind = st.session_state.get(_key(rp.id, "kind"), "down")
    spec = f"slow:{st.session_state.get(_key(rp.id, 'factor'), 3.0):g}" if kind == "slow" else kind
    try:
        return parse_failures(rp, [f"{comp}={spec}"])
    except Exception:  # a kind the component cannot take (cold without a hit rate): nothing fails
        return ()


def whatif_query(rp: ResolvedPattern) -> dict[str, str]:
    """The URL entry for the current failure (empty when nothing fails), to merge into the page's query."""
    text = to_query(current(rp))
    return {QUERY_KEY: text} if text else {}


@st.cache_resource(show_spinner=False, max_entries=128)
def _what_if(key: str, values: tuple, mode: str, texts: tuple[str, ...], _rp: ResolvedPattern,
             _report: Report) -> WhatIf:
    return what_if(_rp, dict(values), mode, parse_failures(_rp, texts), baseline=_report,
                   deadline_s=ui.live_budget_s())


def _kinds(rp: ResolvedPattern, comp: str | None) -> list[str]:
    has_cache = comp is not None and any(c.id == comp and c.hit_rate for c in rp.pattern.components)
    return [k for k in KINDS if k != "cold" or has_cache]


def render_availability_headline(rp: ResolvedPattern, report: Report, *, key: str = NS) -> None:
    """One line under the headline metrics: the request path's success rate in nines beside the p99, its
    single points of failure, and the trace behind it."""
    avail = availability(rp, report)
    if avail is None:
        return
    e2e = report.end_to_end
    p99 = "saturated" if e2e is None or e2e.p99_ms is None else f"{fmt(e2e.p99_ms)} ms"
    left, right = st.columns([4, 1])
    spofs = ", ".join(f"`{n}`" for n in avail.spofs) or "none"
    left.markdown(f"**Availability** {avail.success:.4%} ({nines_text(avail.nines)}) beside p99 {p99} · "
                  f"single points of failure: {spofs}")
    how = right.popover("How?", width="stretch", key=f"{key}:avail_how", on_change="rerun")
    if how.open:
        with how:
            lines = [f.explain() for f in avail.figures.values()]
            lines += [f.explain() for c in avail.components.values() for f in c.figures.values()]
            ui.show_trace(lines)


def render_whatif_panel(rp: ResolvedPattern, report: Report, values: Mapping[str, float], mode: str,
                        options: DrawOptions, *, key: str = NS) -> None:
    """The panel, in an expander that opens by itself when a failure is set (from the URL or a choice)."""
    _seed(rp)
    failures = current(rp)
    avail = availability(rp, report)
    box = st.expander("What if: a component fails", expanded=bool(failures), icon=":material/bolt:")
    with box:
        for n in st.session_state.pop(_key(rp.id, "notices"), []):
            st.info(n)
        if avail is not None:
            st.caption(ui.md_safe(availability_line(avail)))
        ids = [c.id for c in rp.pattern.components if rp.types[c.id].category != "client"]
        labels = {c.id: f"{c.label or rp.types[c.id].label} ({c.id})" for c in rp.pattern.components}
        left, mid, right = st.columns([2, 2, 1])
        comp_key = _key(rp.id, "component")
        if st.session_state.get(comp_key) not in [NONE, *ids]:
            st.session_state[comp_key] = NONE
        comp = left.selectbox("Component", [NONE, *ids], key=comp_key,
                              format_func=lambda i: i if i == NONE else labels[i])
        comp = None if comp == NONE else comp
        kinds = _kinds(rp, comp)
        kind_key = _key(rp.id, "kind")
        if st.session_state.get(kind_key) not in kinds:
            st.session_state[kind_key] = "down"
        kind = mid.radio("Failure", kinds, key=kind_key, format_func=KIND_LABELS.get, horizontal=True,
                         disabled=comp is None)
        factor_key = _key(rp.id, "factor")
        if factor_key not in st.session_state:
            st.session_state[factor_key] = 3.0
        right.slider("K (slow)", 1.5, 20.0, step=0.5, key=factor_key, disabled=comp is None or kind != "slow")
        failures = current(rp)
        if not failures:
            st.caption("Choose a component and a failure: the engine reroutes its calls over the pattern's "
                       "fallbacks, recomputes every stage and says what share of requests still succeeds.")
            return
        try:
            w = _what_if(ui.pattern_key(rp), present.values_key(values), mode,
                         tuple(f.text for f in failures), rp, report)
        except Exception as exc:
            ui.show_error(exc)
            return
        _show(rp, w, options, key)


def _show(rp: ResolvedPattern, w: WhatIf, options: DrawOptions, key: str) -> None:
    cols = st.columns(5)
    cols[0].metric("Served normally", f"{w.served_share:.1%}")
    cols[1].metric("By fallbacks", f"{w.fallback_share:.1%}")
    cols[2].metric("Failed", f"{w.failed_share:.2%}")
    cols[3].metric("Success", "100%" if w.nines is None else nines_text(w.nines),  # short: the columns are narrow
                   help="No component left on the route can fail a request" if w.nines is None else
                   "Share of requests answered (normally or by a fallback), in nines")
    p99 = "saturated" if w.p99_ms is None else f"{fmt(w.p99_ms)} ms"
    delta = None if w.p99_ms is None or w.p99_before_ms is None else f"{fmt(w.p99_ms - w.p99_before_ms)} ms"
    cols[4].metric("p99 of what is served", p99, delta, delta_color="inverse")
    drawn = replace(options, failed=frozenset(w.out), fallback_edges=w.fallback_edges)
    diagram_widget(rp, w.report, diagram.to_dot(rp, w.report, drawn, render_key=True), key=f"{key}:diagram",
                   view=options.view, label=f"{rp.pattern.title}, what if")
    for u in w.fallbacks:
        route = f"to `{u.to}`" if u.to else "answered by the caller"
        st.warning(f"Fallback for `{u.component}` ({u.trigger}, {route}) serves {u.share:.1%} of requests: "
                   f"{ui.md_safe(u.quality)}", icon="↪️")
    if w.overloaded:
        st.error("Pushed hot or saturated: " + ", ".join(f"`{c}`" for c in w.overloaded), icon="🔥")
    for t in w.timeouts:
        st.warning(f"`{t.source}` → `{t.target}` is past its {fmt(t.deadline_ms)} ms deadline for "
                   f"{t.p_timeout:.1%} of calls; {t.retries} retr{'y' if t.retries == 1 else 'ies'} make "
                   f"{fmt(t.amplification)}× the calls on `{t.target}`.", icon="🔁")
    how = st.popover("How is this computed?", width="stretch", key=f"{key}:how", on_change="rerun")
    if how.open:
        with how:
            lines = [f.explain() for f in w.figures.values()]
            lines += [f.explain() for t in w.timeouts for f in t.figures.values()]
            ui.show_trace(lines)
            st.caption(ui.md_safe(" · ".join(whatif_lines(w)[1:3])))
