"""Study: walk through a pattern in the 7 steps of the framework, find the bottleneck, and practise
back-of-the-envelope numbers — each answer checked against the engine and explained by its trace.

Progress (answered, right) is kept for the browser session. The pattern, the step and the
seeds of the puzzles live in the URL, so a link reopens the same questions.
Thin by design: walk-through, puzzles, questions and checks come from :mod:`explorer.study.practice`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.errors import ExplorerError
from explorer.render import diagram
from explorer.render.styles import DrawOptions
from explorer.study import diagram_focus as focus
from explorer.study import practice as study
from explorer.study import present
from explorer.units import number_text
from pages import ui
from pages.diagram_widget import diagram_widget

NS = "study"
PATTERN_KEY = f"{NS}:pattern"
STEP_KEY = f"{NS}:step"
QUIZ_SEED_KEY = f"{NS}:quiz_seed"
PUZZLE_SEED_KEY = f"{NS}:puzzle_seed"
BREAKS_SEED_KEY = f"{NS}:breaks_seed"
BREAKS_ANSWERS_KEY = f"{NS}:breaks_answers"
PROGRESS_KEY = f"{NS}:progress"  # not a widget key: progress survives page switches
ANSWERS_KEY = f"{NS}:answers"
PUZZLE_ANSWERS_KEY = f"{NS}:puzzle_answers"
LAST_QUERY_KEY = f"{NS}:last_query"
NOTICES_KEY = f"{NS}:notices"
QUESTIONS = 5


def _int(text: str | None, default: int, lo: int = 0, hi: int = 10**6) -> int:
    try:
        v = int(str(text))
    except (TypeError, ValueError):
        return default
    return v if lo <= v <= hi else default


# --------------------------------------------------------------------------- cached engine calls

@st.cache_data(show_spinner=False, max_entries=64)
def _walkthrough(key: str, _rp) -> list[study.StudyStep]:
    return study.walkthrough(_rp, ui.analysis(_rp, _rp.defaults()))


@st.cache_data(show_spinner="Finding a scenario that stresses one component…", max_entries=64)
def _puzzle(key: str, seed: int, _rp) -> study.BottleneckPuzzle | None:
    return study.bottleneck_puzzle(_rp, seed)


@st.cache_resource(show_spinner="Trying failures until one overloads a component…", max_entries=64)
def _breaks(key: str, seed: int, _rp) -> study.BreaksFirstPuzzle | None:
    return study.breaks_first_puzzle(_rp, seed)


@st.cache_data(show_spinner=False, max_entries=64)
def _questions(key: str, seed: int, n: int, _rp) -> list[study.Question]:
    return study.generate_questions(_rp, seed, n)


# --------------------------------------------------------------------------- state

def _take_link(all_entries) -> None:
    query = ui.query_dict()
    if query and query != st.session_state.get(LAST_QUERY_KEY):
        pid, notices = present.choose_pattern(query, all_entries)
        st.session_state[PATTERN_KEY] = pid
        st.session_state[STEP_KEY] = _int(query.get("step"), 1, 1, len(study.STEPS) + 1)
        st.session_state[QUIZ_SEED_KEY] = _int(query.get("quiz"), 1)
        st.session_state[PUZZLE_SEED_KEY] = _int(query.get("puzzle"), 0)
        st.session_state[BREAKS_SEED_KEY] = _int(query.get("breaks"), 0)
        st.session_state[NOTICES_KEY] = notices
    st.session_state.setdefault(PATTERN_KEY, present.default_pattern(all_entries))
    st.session_state.setdefault(STEP_KEY, 1)
    st.session_state.setdefault(QUIZ_SEED_KEY, 1)
    st.session_state.setdefault(PUZZLE_SEED_KEY, 0)
    st.session_state.setdefault(BREAKS_SEED_KEY, 0)
    st.session_state.setdefault(BREAKS_ANSWERS_KEY, {})
    st.session_state.setdefault(PROGRESS_KEY, study.new_progress())
    st.session_state.setdefault(ANSWERS_KEY, {})
    st.session_state.setdefault(PUZZLE_ANSWERS_KEY, {})


def _move(key: str, delta: int, lo: int, hi: int) -> None:
    st.session_state[key] = min(hi, max(lo, int(st.session_state.get(key, lo)) + delta))


# --------------------------------------------------------------------------- walk-through

def _walk(rp) -> None:
    steps = _walkthrough(ui.pattern_key(rp), rp)
    last = len(steps)
    if not 1 <= st.session_state[STEP_KEY] <= last:
        st.session_state[STEP_KEY] = 1
    titles = {s.number: (f"{s.number}. {s.title}" if s.number <= len(study.STEPS) else s.title) for s in steps}
    st.radio("Step", list(titles), key=STEP_KEY, horizontal=True, format_func=titles.get,
             label_visibility="collapsed")
    step = steps[st.session_state[STEP_KEY] - 1]
    st.subheader(titles[step.number])
    st.markdown(f"*Ask yourself:* {step.prompt}")
    _walk_diagram(rp, step.key)
    if step.key == "talking_points":
        if step.talking_points:
            st.markdown("\n".join(f"{i}. {ui.md_safe(p)}" for i, p in enumerate(step.talking_points, 1)))
        else:
            st.info("This pattern's notes have no talking points yet.")
    elif step.text:
        st.markdown(step.text)
    else:
        st.info("This pattern's notes say nothing for this step yet; answer the question above in your own words.")
    if step.facts:
        with st.expander("What the engine says at the default scenario", expanded=step.key in ("serving",)):
            ui.show_trace(list(step.facts))
    c1, c2, _ = st.columns([1, 1, 4])
    c1.button("← Previous", key=f"{NS}:prev", disabled=step.number == 1, on_click=_move,
              args=(STEP_KEY, -1, 1, last), width="stretch")
    c2.button("Next →", key=f"{NS}:next", disabled=step.number == last, on_click=_move,
              args=(STEP_KEY, 1, 1, last), width="stretch")


def _walk_diagram(rp, step_key: str) -> None:
    """The pattern at its defaults, the step's components outlined and the rest faded."""
    values = rp.defaults()
    try:
        report = ui.analysis(rp, values)
    except ExplorerError as exc:
        ui.show_error(exc)
        return
    options = DrawOptions(theme=ui.theme())
    marked = focus.step_components(rp, report, step_key)
    diagram_widget(rp, report, ui.dot(rp, values, "provisioned", options), key=f"{NS}:walk_diagram",
                   view=options.view, highlight=marked, dim=True,
                   highlight_note=f"outlined: {focus.STEP_NOTES.get(step_key, 'this step')}")


# --------------------------------------------------------------------------- find the bottleneck

def _check_puzzle(pid: str, seed: int, choice_key: str) -> None:
    choice = st.session_state.get(choice_key)
    if choice is not None:
        st.session_state[PUZZLE_ANSWERS_KEY] = {**st.session_state[PUZZLE_ANSWERS_KEY], f"{pid}:{seed}": choice}
        st.session_state[PROGRESS_KEY] = study.record(st.session_state[PROGRESS_KEY], f"bottleneck:{pid}:{seed}",
                                                      _puzzle_correct(pid, seed, choice))


def _puzzle_correct(pid: str, seed: int, choice: str) -> bool:
    rp = ui.load(pid)
    pz = _puzzle(ui.pattern_key(rp), seed, rp)
    return pz is not None and study.check_bottleneck(pz, choice).correct


def _bottleneck(rp) -> None:
    seed = int(st.session_state[PUZZLE_SEED_KEY])
    pz = _puzzle(ui.pattern_key(rp), seed, rp)
    if pz is None:
        st.info("This pattern has no traffic parameter to push, so there is no bottleneck puzzle for it.")
        return
    st.markdown(f"**Scenario:** {ui.md_safe(pz.parameter_label)} = "
                f"**{ui.md_safe(number_text(pz.value))} {ui.md_safe(pz.unit)}**. {ui.md_safe(pz.how)}")
    st.caption("The diagram shows replicas and traffic but no colours or utilisation: work out which component "
               "runs out of capacity first (ρ = λ·S / c per shard).")
    diagram_widget(rp, None, diagram.to_dot(rp, pz.report, DrawOptions(theme=ui.theme(), colored=False)),
                   key=f"{NS}:bn_diagram")
    with st.expander("Clues: arrival rate, service time and servers per shard"):
        st.dataframe(pd.DataFrame(pz.clues()), hide_index=True, width="stretch")
    labels = dict(pz.options)
    choice_key = f"{NS}:bn:{rp.id}:{seed}"
    st.radio("Which component is the bottleneck?", [cid for cid, _ in pz.options], index=None, key=choice_key,
             format_func=lambda c: f"{labels[c]} ({c})", horizontal=True)
    c1, c2, _ = st.columns([1, 1, 4])
    c1.button("Check", key=f"{NS}:bn_check", type="primary", on_click=_check_puzzle, args=(rp.id, seed, choice_key),
              disabled=st.session_state.get(choice_key) is None, width="stretch")
    c2.button("Another puzzle", key=f"{NS}:bn_next", on_click=_move, args=(PUZZLE_SEED_KEY, 1, 0, 10**6),
              width="stretch")
    answered = st.session_state[PUZZLE_ANSWERS_KEY].get(f"{rp.id}:{seed}")
    if answered is not None:
        v = study.check_bottleneck(pz, answered)
        (st.success if v.correct else st.error)(v.message, icon=":material/check_circle:" if v.correct else ":material/cancel:")
        st.markdown("**The trace that proves it**")
        ui.show_trace(list(v.proof))
        with st.expander("The same scenario with colours", expanded=not v.correct):
            diagram_widget(rp, pz.report, diagram.to_dot(rp, pz.report, DrawOptions(selected=pz.answer, theme=ui.theme())),
                           key=f"{NS}:bn_answer_diagram")


# --------------------------------------------------------------------------- what breaks first?

def _check_breaks(pid: str, seed: int, choice_key: str) -> None:
    choice = st.session_state.get(choice_key)
    if choice is None:
        return
    st.session_state[BREAKS_ANSWERS_KEY] = {**st.session_state[BREAKS_ANSWERS_KEY], f"{pid}:{seed}": choice}
    rp = ui.load(pid)
    pz = _breaks(ui.pattern_key(rp), seed, rp)
    st.session_state[PROGRESS_KEY] = study.record(st.session_state[PROGRESS_KEY], f"breaks:{pid}:{seed}",
                                                  pz is not None and study.check_breaks_first(pz, choice).correct)


def _breaks_first(rp) -> None:
    """A failure injected on the request path (a zone lost, a stage slowed, a cache gone cold, a stage down
    behind its fallback): which component runs out of headroom first? Answered by the engine's what-if."""
    seed = int(st.session_state[BREAKS_SEED_KEY])
    try:
        pz = _breaks(ui.pattern_key(rp), seed, rp)
    except ExplorerError as exc:
        ui.show_error(exc)
        return
    if pz is None:
        st.info("No failure tried on this pattern's request path overloads another component: it has headroom "
                "everywhere (try the bottleneck puzzle, or Explore's What-if panel).")
        return
    st.markdown(f"**{ui.md_safe(pz.question)}**")
    st.caption("The diagram shows the pattern at its defaults with the failure drawn in (no colours): work out "
               "where the load moves and which stage has the least headroom left (ρ = λ·S / c per shard).")
    w = pz.what_if
    drawn = DrawOptions(theme=ui.theme(), colored=False, failed=frozenset(w.out), fallback_edges=w.fallback_edges)
    diagram_widget(rp, None, diagram.to_dot(rp, w.report, drawn), key=f"{NS}:breaks_diagram")
    labels = dict(pz.options)
    choice_key = f"{NS}:breaks:{rp.id}:{seed}"
    st.radio("Which component breaks first?", [cid for cid, _ in pz.options], index=None, key=choice_key,
             format_func=lambda c: f"{labels[c]} ({c})", horizontal=True)
    c1, c2, _ = st.columns([1, 1, 4])
    c1.button("Check", key=f"{NS}:breaks_check", type="primary", on_click=_check_breaks,
              args=(rp.id, seed, choice_key), disabled=st.session_state.get(choice_key) is None, width="stretch")
    c2.button("Another failure", key=f"{NS}:breaks_next", on_click=_move, args=(BREAKS_SEED_KEY, 1, 0, 10**6),
              width="stretch")
    answered = st.session_state[BREAKS_ANSWERS_KEY].get(f"{rp.id}:{seed}")
    if answered is not None:
        v = study.check_breaks_first(pz, answered)
        (st.success if v.correct else st.error)(v.message, icon=":material/check_circle:" if v.correct
                                                else ":material/cancel:")
        st.markdown("**The trace that proves it**")
        ui.show_trace(list(v.proof))
        with st.expander("The same failure with colours", expanded=not v.correct):
            answer = DrawOptions(selected=pz.answer, theme=ui.theme(), failed=frozenset(w.out),
                                 fallback_edges=w.fallback_edges)
            diagram_widget(rp, w.report, diagram.to_dot(rp, w.report, answer), key=f"{NS}:breaks_answer_diagram")


# --------------------------------------------------------------------------- back-of-the-envelope

def _check_question(pid: str, seed: int, qid: str) -> None:
    text = st.session_state.get(f"{NS}:answer:{qid}", "")
    st.session_state[ANSWERS_KEY] = {**st.session_state[ANSWERS_KEY], qid: text}
    rp = ui.load(pid)
    q = next((q for q in _questions(ui.pattern_key(rp), seed, QUESTIONS, rp) if q.id == qid), None)
    if q is not None:
        result = study.check_answer(q, text)
        if result.given is not None:
            st.session_state[PROGRESS_KEY] = study.record(st.session_state[PROGRESS_KEY], qid, result.correct)


def _quiz(rp) -> None:
    seed = int(st.session_state[QUIZ_SEED_KEY])
    try:
        qs = _questions(ui.pattern_key(rp), seed, QUESTIONS, rp)
    except ExplorerError as exc:
        ui.show_error(exc)
        return
    if not qs:
        st.info("No numeric questions can be made from this pattern.")
        return
    values = qs[0].values
    changed = [f"{q.label} = {number_text(values[q.name], q.integer)}" + (f" {q.unit}" if q.unit else "")
               for q in rp.pattern.parameters if values.get(q.name) != q.default]
    st.markdown("Answer with a number; each is checked against the engine within its tolerance and explained "
                "by the formula behind it. "
                + (f"**Scenario:** {ui.md_safe('; '.join(changed))} (other parameters at their defaults)."
                   if changed else "**Scenario:** the pattern's defaults."))
    st.button("New questions", key=f"{NS}:quiz_next", on_click=_move, args=(QUIZ_SEED_KEY, 1, 0, 10**6))
    for i, q in enumerate(qs, 1):
        with st.container(border=True):
            st.markdown(f"**Q{i}.** {q.text}")
            st.markdown("\n".join(f"- {ui.md_safe(g)}" for g in q.givens))
            with st.form(key=f"{NS}:form:{q.id}", border=False):
                c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
                hint = "e.g. 0.45 or 45%" if q.percent else f"a number{(' in ' + q.unit) if q.unit else ''}, e.g. 12, 3.5k"
                c1.text_input(f"Your answer (tolerance {q.tolerance_text()})", key=f"{NS}:answer:{q.id}",
                              placeholder=hint)
                c2.form_submit_button("Check", on_click=_check_question, args=(rp.id, seed, q.id), width="stretch")
            given = st.session_state[ANSWERS_KEY].get(q.id)
            if given is not None:
                result = study.check_answer(q, given)
                (st.success if result.correct else st.error)(result.message, icon=":material/check_circle:" if result.correct else ":material/cancel:")
                if result.given is not None:
                    ui.show_trace(list(q.explanation))


def _progress() -> None:
    p = st.session_state[PROGRESS_KEY]
    st.sidebar.markdown("**Your progress**")
    c1, c2 = st.sidebar.columns(2)
    c1.metric("Answered", p["answered"])
    c2.metric("Right", p["right"])
    score = f"Score {p['right'] / p['answered']:.0%}. " if p["answered"] else ""
    st.sidebar.caption(score + "Each question counts once, at its first answer, for this browser session.")


def main() -> None:
    all_entries = ui.entries()
    _take_link(all_entries)
    with st.sidebar:
        pid = ui.pattern_picker(st.sidebar, PATTERN_KEY, all_entries, search_key=f"{NS}:search")
    _progress()
    st.title("Study")
    notices = st.session_state.get(NOTICES_KEY, [])
    ui.show_notices(notices)
    if pid is None:
        st.error("No pattern loads: check the files in architectures/.")
        return
    try:
        rp = ui.load(pid)
    except ExplorerError as exc:
        ui.show_error(exc)
        return
    st.caption(f"{rp.pattern.title} — the framework's 7 steps, a bottleneck to find, and numbers to estimate.")
    walk, bottleneck, breaks, quiz = st.tabs(["Walk-through", "Find the bottleneck", "What breaks first?",
                                              "Back-of-the-envelope"], key=f"{NS}:tabs", on_change="rerun")
    with walk:
        _walk(rp)
    with bottleneck:
        _bottleneck(rp)
    with breaks:
        if breaks.open is not False:  # lazy: a what-if search runs only when its tab is open
            _breaks_first(rp)
    with quiz:
        _quiz(rp)
    wanted = {"pattern": rp.id, "step": str(st.session_state[STEP_KEY]),
              "quiz": str(st.session_state[QUIZ_SEED_KEY]), "puzzle": str(st.session_state[PUZZLE_SEED_KEY]),
              "breaks": str(st.session_state[BREAKS_SEED_KEY])}
    ui.sync_query(wanted)
    st.session_state[LAST_QUERY_KEY] = wanted


ui.use_app_navigation()
main()
