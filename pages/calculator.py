"""Calculator: back-of-the-envelope queueing for one station, and a chain of stages with fan-out
that shows why percentiles don't add. Same engine as every other page; every number opens to its formula.

The inputs live in the URL (``lam``, ``s``, ``c``, ``cv``, ``p99``, ``u`` for the station; ``rate`` and
``chain`` for the chain), so a copied link reopens the calculation.
Thin by design: the numbers come from :mod:`explorer.engine.calculator`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.engine import calculator as calc
from explorer.errors import ExplorerError
from explorer.render import charts
from explorer.units import format_ms, format_percent, format_rate, number_text
from pages import ui

NS = "calc"
LAST_QUERY_KEY = f"{NS}:last_query"
NOTICES_KEY = f"{NS}:notices"
STATION_DEFAULTS = {"lam": 900.0, "s": 10.0, "c": 12, "cv": 1.0, "p99": 60.0, "u": 0.0}
FIRST_CHAIN = next(iter(calc.CHAIN_PRESETS))
MAX_UI_STAGES = 6


def _k(name: str) -> str:
    return f"{NS}:{name}"


def _stage_key(i: int, field: str) -> str:
    return f"{NS}:stage{i}:{field}"


# --------------------------------------------------------------------------- state

def _seed_chain(rate: float, stages: list[calc.StageSpec]) -> None:
    st.session_state[_k("rate")] = float(rate)
    st.session_state[_k("n")] = len(stages)
    for i, s in enumerate(stages):
        st.session_state[_stage_key(i, "name")] = s.name
        st.session_state[_stage_key(i, "s")] = float(s.service_ms)
        st.session_state[_stage_key(i, "c")] = int(s.servers)
        st.session_state[_stage_key(i, "k")] = int(s.fanout)
        st.session_state[_stage_key(i, "cv")] = float(s.service_cv)


def _apply_chain_preset() -> None:
    rate, stages = calc.CHAIN_PRESETS[st.session_state[_k("preset")]]
    _seed_chain(rate, list(stages))


def _number(text: str | None, default: float, lo: float, hi: float) -> tuple[float, str | None]:
    if text is None:
        return default, None
    try:
        v = float(text)
    except ValueError:
        return default, f"{text!r} is not a number"
    if not lo <= v <= hi:
        return default, f"{text} is outside {lo:g} to {hi:g}"
    return v, None


def _take_link() -> None:
    query = ui.query_dict()
    fresh = _k("lam") not in st.session_state and _k("rate") not in st.session_state
    if not ((query and query != st.session_state.get(LAST_QUERY_KEY)) or fresh):
        return
    notices = []
    limits = {"lam": (0, 1e9), "s": (1e-6, 1e7), "c": (1, calc.MAX_SERVERS), "cv": (0, 10), "p99": (0, 1e7),
              "u": (0, 1)}
    for name, default in STATION_DEFAULTS.items():
        v, problem = _number(query.get(name), default, *limits[name])
        if problem:
            notices.append(f"{name}: {problem}; using {default:g}.")
        st.session_state[_k(name)] = int(v) if name == "c" else float(v)
    rate, stages = calc.CHAIN_PRESETS[FIRST_CHAIN]
    stages = list(stages)
    if query.get("rate") is not None:
        rate, problem = _number(query.get("rate"), rate, 0, 1e9)
        if problem:
            notices.append(f"rate: {problem}; using {rate:g}.")
    if query.get("chain"):
        try:
            stages = calc.chain_from_text(query["chain"])[:MAX_UI_STAGES]
        except ExplorerError as exc:
            notices.append(f"chain: {exc}; using the first example.")
    st.session_state[_k("preset")] = FIRST_CHAIN
    _seed_chain(rate, stages)
    st.session_state[NOTICES_KEY] = notices


# --------------------------------------------------------------------------- one station

def _station() -> dict[str, str]:
    st.markdown("One pool of **c** servers behind one queue: calls arrive at **λ** per second and take **S** ms "
                "on average. Utilisation, the chance of waiting and the response-time percentiles follow "
                "(M/M/c exactly; Allen–Cunneen when the service time is more or less regular than exponential).")
    c1, c2, c3, c4 = st.columns(4)
    lam = c1.number_input("Arrival rate λ (calls/s)", min_value=0.0, step=50.0, key=_k("lam"))
    s_ms = c2.number_input("Mean service time S (ms)", min_value=0.001, step=1.0, format="%.3f", key=_k("s"))
    servers = c3.number_input("Servers c", min_value=1, max_value=calc.MAX_SERVERS, step=1, key=_k("c"))
    cv = c4.number_input("Service-time cv", min_value=0.0, max_value=10.0, step=0.1, key=_k("cv"),
                         help="Coefficient of variation of the service time: 1 = exponential (M/M/c), "
                              "0.3 = batched GPU inference, 0 = constant.")
    t1, t2, _ = st.columns([1, 1, 2])
    p99_target = t1.number_input("p99 target (ms, 0 = none)", min_value=0.0, step=5.0, key=_k("p99"))
    u_target = t2.number_input("Target utilisation (0 = none)", min_value=0.0, max_value=1.0, step=0.05,
                               key=_k("u"))
    try:
        r = calc.station_figures(float(lam), float(s_ms), int(servers), float(cv),
                                 p99_target_ms=p99_target or None, target_utilization=u_target or None)
    except ExplorerError as exc:
        ui.show_error(exc)
        return {}
    f = r.figures
    if r.saturated:
        st.error(f"Saturated: {format_percent(f['utilization'].value)} utilisation — calls arrive faster than "
                 f"{int(servers)} server(s) can serve them ({format_rate(f['capacity_per_s'].value, 'calls')} at most). "
                 "The queue grows without bound, so there is no finite latency.", icon=":material/error:")
    cols = st.columns(6)
    shown = [("utilization", format_percent(f["utilization"].value)),
             ("p_wait", "–" if f["p_wait"].value is None else format_percent(f["p_wait"].value)),
             ("mean_ms", format_ms(f["mean_ms"].value)), ("p50_ms", format_ms(f["p50_ms"].value)),
             ("p99_ms", format_ms(f["p99_ms"].value))]
    if "min_servers" in f:
        ms = f["min_servers"].value
        shown.append(("min_servers", "infeasible" if ms is None else str(ms)))
    short = {"min_servers": "Fewest servers", "p_wait": "P(wait)"}
    for col, (key, text) in zip(cols, shown, strict=False):
        with col:
            st.metric(short.get(key, f[key].label), text, help=f[key].label if key in short else None)
            with st.popover("Formula", width="stretch"):
                ui.show_trace([f[key].explain()])
    if "min_servers" in f and f["min_servers"].value is None:
        st.warning(f["min_servers"].note, icon=":material/warning:")
    with st.expander("Every number with its formula", expanded=False):
        ui.show_trace([fig.explain() for fig in f.values()])
    if "p99_closed_form_ms" in f:
        st.caption("One server, exponential service: the response time is exponential with rate μ − λ, so "
                   "p99 = ln(100)/(μ − λ) — the closed form above matches the engine's root finder.")
    return {"lam": number_text(lam), "s": number_text(s_ms), "c": str(int(servers)), "cv": number_text(cv),
            "p99": number_text(p99_target), "u": number_text(u_target)}


def _pct(v: float) -> str:
    v = round(v)
    return "same as true" if v == 0 else f"{v:+d}% vs true"


# --------------------------------------------------------------------------- chain

def _chain() -> dict[str, str]:
    st.markdown("A request goes through the stages **one after another**; at each stage it is sent to **k** "
                "branches **in parallel** (shards, replicas of a scatter-gather) and waits for all of them. "
                "Every branch is a station seeing every request. Compare the two shortcuts people use with "
                "the p99 of the composed distribution.")
    st.selectbox("Example", list(calc.CHAIN_PRESETS), key=_k("preset"), on_change=_apply_chain_preset)
    c1, c2, _ = st.columns([1, 1, 2])
    rate = c1.number_input("Requests per second", min_value=0.0, step=50.0, key=_k("rate"))
    n = c2.number_input("Stages", min_value=1, max_value=MAX_UI_STAGES, step=1, key=_k("n"))
    stages = []
    header = st.columns([2, 1, 1, 1, 1])
    for col, title in zip(header, ("Stage", "Service ms", "Servers per branch", "Fan-out k", "cv"), strict=True):
        col.caption(title)
    for i in range(int(n)):
        for field, default in (("name", f"stage {i + 1}"), ("s", 5.0), ("c", 4), ("k", 1), ("cv", 1.0)):
            st.session_state.setdefault(_stage_key(i, field), default)
        cols = st.columns([2, 1, 1, 1, 1])
        name = cols[0].text_input("Stage", key=_stage_key(i, "name"), label_visibility="collapsed")
        s_ms = cols[1].number_input("Service ms", min_value=0.001, step=1.0, key=_stage_key(i, "s"),
                                    label_visibility="collapsed")
        servers = cols[2].number_input("Servers", min_value=1, max_value=100_000, step=1, key=_stage_key(i, "c"),
                                       label_visibility="collapsed")
        k = cols[3].number_input("Fan-out", min_value=1, max_value=calc.MAX_FANOUT, step=1, key=_stage_key(i, "k"),
                                 label_visibility="collapsed")
        cv = cols[4].number_input("cv", min_value=0.0, max_value=10.0, step=0.1, key=_stage_key(i, "cv"),
                                  label_visibility="collapsed")
        stages.append(calc.parse_stage(name, float(s_ms), int(servers), int(k), float(cv)))
    try:
        r = calc.chain_figures(float(rate), stages)
    except ExplorerError as exc:
        ui.show_error(exc)
        return {}
    f = r.figures
    if r.saturated:
        st.error(f["true_p99_ms"].note + ". Add servers or lower the rate.", icon=":material/error:")
    else:
        m1, m2, m3 = st.columns(3)
        m1.metric("True p99 (composed)", format_ms(f["true_p99_ms"].value))
        m2.metric("Sum of stage p99s", format_ms(f["sum_stage_p99_ms"].value),
                  _pct(f["sum_error_pct"].value), delta_color="off")
        m3.metric(f["max_branch_p99_ms"].label, format_ms(f["max_branch_p99_ms"].value),
                  _pct(f["max_error_pct"].value), delta_color="off")
        fig = charts.percentile_shortcuts(f)
        st.plotly_chart(fig, width="stretch", config={"displaylogo": False}, key=f"{NS}:bars")
        st.caption("Adding p99s assumes every stage is slow on the same request (too high); taking one branch's "
                   "p99 forgets that a fan-out waits for the slowest of k (too low: with k = 100 the stage's p99 is "
                   "a branch's p99.99).")
    rows = [{"stage": s.spec.name, "fan-out k": s.spec.fanout,
             "utilisation": min(float(s.figures["utilization"].value), 9.99),
             "branch p99": format_ms(s.figures["branch_p99_ms"].value),
             "stage p99": format_ms(s.figures["stage_p99_ms"].value),
             "stage mean": format_ms(s.figures["stage_mean_ms"].value) if "stage_mean_ms" in s.figures
             else "— (chain saturated)"}
            for s in r.stages]  # text in its unit; a saturated stage reads "saturated", never None
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key=f"{NS}:stages",
                 column_config={"utilisation": st.column_config.ProgressColumn(format="percent", min_value=0.0,
                                                                               max_value=1.0)})
    with st.expander("Every number with its formula"):
        lines = [fig.explain() for s in r.stages for fig in s.figures.values()]
        ui.show_trace(lines + [fig.explain() for fig in f.values()])
    return {"rate": number_text(rate), "chain": calc.chain_to_text(stages)}


def main() -> None:
    st.title("Calculator")
    st.caption("Back-of-the-envelope queueing with the same engine as the rest of the app.")
    _take_link()
    ui.show_notices(st.session_state.get(NOTICES_KEY, []))
    one, chain = st.tabs(["One station", "Chain and fan-out"])
    wanted: dict[str, str] = {}
    with one:
        wanted.update(_station())
    with chain:
        wanted.update(_chain())
    if wanted:
        ui.sync_query(wanted)
        st.session_state[LAST_QUERY_KEY] = wanted


ui.use_app_navigation()
main()
