"""Shared Streamlit helpers for the pages: cached loading and analysis, the pattern picker,
sliders generated from declared parameters, query-parameter sync and error display.

Import from any page as ``from pages.ui import ...``. Nothing here does arithmetic:
numbers come from :mod:`explorer` (``explorer.study.present`` prepares what is shown).

Caching
-------
- the library index is cached on a fingerprint of the pattern files (name, mtime, size),
  so a new or edited pattern appears without a restart; fingerprints are taken at most
  once per :data:`STAMP_TTL_S` (a slider drag reruns many times a second and stats nothing);
- a loaded pattern (:func:`load`) is a shared resource (it holds a networkx graph and is
  never mutated), keyed by its file and fingerprint;
- an analysis (:func:`analysis`) and a sweep (:func:`sweep`) are ``st.cache_resource`` keyed by
  the pattern's key + the scenario values + the mode: nothing changes a report or a sweep once made, so every
  session may share the object, and a rerun does not pay to unpickle a copy (unpickling the
  largest pattern's report costs more than analysing it);
- the diagram's DOT source (:func:`dot`) is keyed the same way plus the drawing options: a slider moved
  back to a value seen before sends the diagram without rebuilding it.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import streamlit as st

from explorer.engine.analysis import analyse
from explorer.engine.report import Report
from explorer.engine.sweep import Sweep
from explorer.engine.sweep import sweep as run_sweep
from explorer.errors import ExplorerError, PatternError
from explorer.model import library
from explorer.model.library import Entry, user_dir
from explorer.model.loader import ResolvedPattern, load_pattern, load_pattern_text
from explorer.render.diagram import to_dot
from explorer.render.styles import LEGEND_ROWS, NODE_FONT, DrawOptions, theme_colors
from explorer.study import present
from explorer.units import format_percent, format_quantity

# --------------------------------------------------------------------------- cached engine calls


STAMP_TTL_S = 1.0
"""How long a file fingerprint is trusted: an edited or new pattern shows within this time."""

_stamps: dict[str, tuple[float, tuple]] = {}
_stamps_lock = threading.Lock()


def _recent(key: str, take) -> tuple:
    """``take()``, reused for :data:`STAMP_TTL_S` seconds (shared by sessions; a stat per file at most once)."""
    now = time.monotonic()
    with _stamps_lock:
        held = _stamps.get(key)
    if held is not None and now - held[0] < STAMP_TTL_S:
        return held[1]
    value = take()
    with _stamps_lock:
        _stamps[key] = (now, value)
    return value


def forget_stamps() -> None:
    """Drop every held fingerprint (after this process writes a pattern file)."""
    with _stamps_lock:
        _stamps.clear()


@st.cache_resource(show_spinner=False, max_entries=8)
def _entries(stamp: tuple) -> list[Entry]:
    return present.pattern_entries()


def _library_stamp() -> tuple:
    return _recent(f"library|{user_dir()}", lambda: present.directory_stamp(present.library_paths()))


def entries() -> list[Entry]:
    """Every pattern (built-in and the user's), grouped: case studies, building blocks, yours."""
    return _entries(_library_stamp())


def _stat(path: str) -> tuple[int, int]:
    try:
        s = Path(path).stat()
        return s.st_mtime_ns, s.st_size
    except OSError:
        return 0, 0


def _file_stamp(path: str) -> tuple[int, int]:
    return _recent("file|" + path, lambda: _stat(path))


@st.cache_resource(show_spinner=False, max_entries=64)
def _load(path: str, stamp: tuple[int, int], user: bool) -> ResolvedPattern:
    return load_pattern(path, user=user)


def load_path(path: str, user: bool = False) -> ResolvedPattern:
    """A pattern file, loaded once per version of the file (raises ExplorerError)."""
    return _load(str(path), _file_stamp(str(path)), user)


def load(pattern_id: str) -> ResolvedPattern:
    """A pattern by id (built-in or the user's) through the engine's one lookup, cached by file version;
    raises ExplorerError if unknown or invalid. Paths are refused: the id may come from a URL."""
    where = library.locate(pattern_id, ids_only=True)
    return load_path(str(where.path), user=where.user)


@st.cache_resource(show_spinner=False, max_entries=16)
def load_text(text: str, file: str = "draft.yaml") -> ResolvedPattern:
    """A pattern from YAML text (editor drafts), cached by its text; raises PatternError."""
    return load_pattern_text(text, file)


def pattern_key(rp: ResolvedPattern) -> str:
    """A cache key that changes when the pattern's content (or its model choice) changes."""
    if rp.path:
        mtime, size = _file_stamp(rp.path)
        return f"{rp.path}|{mtime}|{size}" + "".join(f"|{cid}={fid}" for cid, fid in rp.models)
    return "draft|" + hashlib.sha1(rp.pattern.model_dump_json(warnings=False).encode()).hexdigest()


def live_budget_s() -> float:
    """Seconds a page's live analysis may take before it says "too large to analyse live" instead of tying
    up the server (``ARCH_EXPLORER_LIVE_BUDGET_S``, default 2)."""
    try:
        return max(float(os.environ.get("ARCH_EXPLORER_LIVE_BUDGET_S", "2")), 0.0)
    except ValueError:
        return 2.0


@st.cache_resource(show_spinner=False, max_entries=512)
def _analysis(key: str, values: tuple, mode: str, _rp: ResolvedPattern, replicas: tuple = ()) -> Report:
    return analyse(_rp, dict(values), mode, deadline_s=live_budget_s(), replicas=dict(replicas))


def analysis(rp: ResolvedPattern, values: Mapping[str, float], mode: str = "provisioned",
             replicas: Mapping[str, int] | None = None) -> Report:
    """``explorer.engine.analysis.analyse`` cached by pattern + scenario values + mode + replica overrides
    (raises ExplorerError)."""
    return _analysis(pattern_key(rp), present.values_key(values), mode, rp, tuple(sorted((replicas or {}).items())))


@st.cache_resource(show_spinner=False, max_entries=512)
def _dot(key: str, values: tuple, mode: str, options: DrawOptions, _rp: ResolvedPattern, _report: Report,
         replicas: tuple = ()) -> str:
    return to_dot(_rp, _report, options, render_key=True)


def dot(rp: ResolvedPattern, values: Mapping[str, float], mode: str, options: DrawOptions,
        replicas: Mapping[str, int] | None = None) -> str:
    """The diagram of :func:`analysis`'s report as DOT, named by its content hash (``render_key``), cached by
    pattern + scenario values + mode + replica overrides + drawing options (raises ExplorerError)."""
    report = analysis(rp, values, mode, replicas)
    return _dot(pattern_key(rp), present.values_key(values), mode, options, rp, report,
                tuple(sorted((replicas or {}).items())))


@st.cache_resource(show_spinner=False, max_entries=64)
def _sweep(key: str, fixed: tuple, mode: str, param: str, points: int, _rp: ResolvedPattern) -> Sweep:
    return run_sweep(_rp, dict(fixed), mode, param, points)


def sweep(rp: ResolvedPattern, values: Mapping[str, float], mode: str, param: str, points: int = 24) -> Sweep:
    """Scaling sweep over ``param``, cached on the *other* values: moving ``param`` itself reuses it."""
    fixed = {k: v for k, v in values.items() if k != param}
    return _sweep(pattern_key(rp), present.values_key(fixed), mode, param, points, rp)


# --------------------------------------------------------------------------- errors and notices

def show_error(exc: BaseException, where: Any = None) -> None:
    """An engine error as a readable message (every problem on its own line), never a traceback."""
    target = where or st
    if isinstance(exc, PatternError) and len(exc.errors) > 1:
        target.error("This pattern has problems:\n\n" + "\n".join(f"- `{e.format()}`" for e in exc.errors))
    elif isinstance(exc, ExplorerError):
        target.error(str(exc))
    else:  # a bug: say so plainly, keep the details one click away
        target.error(f"Unexpected error in the engine ({type(exc).__name__}): {exc}")
        with target.expander("Details for a bug report"):
            st.code("".join(traceback.format_exception(exc)), language=None)


def show_notices(notices: list[str], where: Any = None) -> None:
    """Values from the link that were not used, shown once as a warning list."""
    if notices:
        (where or st).warning("Some values in the link were not used:\n\n" + "\n".join(f"- {n}" for n in notices),
                              icon=":material/link:")


def show_trace(lines: list[str], where: Any = None) -> None:
    """Figure.explain() lines as a list (formula and inputs behind each number)."""
    target = where or st
    if not lines:
        target.caption("No trace for this number.")
        return
    target.markdown("\n".join(f"- {_md_safe(line)}" for line in lines))


def _md_safe(text: str) -> str:
    """Plain text shown through Markdown: escape the characters Markdown would interpret."""
    out = []
    for ch in text:
        if ch in "\\`*_{}[]<>#|~$":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


md_safe = _md_safe


# --------------------------------------------------------------------------- pattern picker

def pattern_picker(where: Any, key: str, all_entries: list[Entry] | None = None, search_key: str | None = None,
                   label: str = "Pattern") -> str | None:
    """Grouped picker (case studies, building blocks, yours) with a search box over titles and tags.

    The selected id lives in ``st.session_state[key]``; seed it before calling to choose the initial pattern.
    """
    items = all_entries if all_entries is not None else entries()
    usable = [e for e in items if not e.error]
    if not usable:
        return None
    text = where.text_input("Search patterns", key=search_key or f"{key}_search", placeholder="e.g. video, ann, ranking",
                            help="Filters by title, id and tags; the list below also filters as you type.")
    shown = present.search_entries(usable, text)
    current = st.session_state.get(key)
    ids = [e.id for e in shown]
    if current in {e.id for e in usable} and current not in ids:
        ids.insert(0, current)
    if not ids:
        where.caption(f"No pattern matches {text!r}; showing all.")
        ids = [e.id for e in usable]
    if current not in ids:
        st.session_state[key] = ids[0]
    labels = {e.id: present.entry_label(e) for e in items}
    choice = where.selectbox(label, ids, key=key, format_func=lambda i: labels.get(i, i))
    broken = [e for e in items if e.error]
    if broken:
        with where.expander(f"{len(broken)} pattern file(s) do not load"):
            for e in broken:
                st.caption(f"**{e.id}** — {e.error}")
    return choice


# --------------------------------------------------------------------------- sliders

def seed_values(prefix: str, rp: ResolvedPattern, values: Mapping[str, float]) -> None:
    """Put parameter values into the widget state (before the sliders are drawn)."""
    for q in rp.pattern.parameters:
        spec = present.slider_spec(q, values.get(q.name))
        st.session_state[prefix + q.name] = present.slider_value(spec, values.get(q.name, q.default))


def current_values(rp: ResolvedPattern, prefix: str) -> dict[str, float]:
    """Parameter values held in the widget state (``prefix + name``), seeding defaults for missing ones.

    Lets a page compute and draw its results before the sliders themselves are drawn."""
    values: dict[str, float] = {}
    for q in rp.pattern.parameters:
        key = prefix + q.name
        if key not in st.session_state:
            spec = present.slider_spec(q)
            st.session_state[key] = present.slider_value(spec, q.default)
        values[q.name] = float(st.session_state[key])
    return values


def parameter_sliders(rp: ResolvedPattern, where: Any, prefix: str, columns: bool = False) -> dict[str, float]:
    """One slider per declared parameter, grouped by role; log-scale ones step through readable values
    (1k, 10k, 1M, 10B). Keys are ``prefix + name``; missing state starts at the default.

    With ``columns``, each group gets its own column of ``where`` (a row above a page's results, which
    stacks on a phone); otherwise the groups follow one another (a sidebar)."""
    values: dict[str, float] = {}
    groups = present.grouped_specs(rp)
    places = where.columns(len(groups)) if columns and groups else [where] * len(groups)
    for (title, params), place in zip(groups, places, strict=True):
        place.markdown(f"**{title}**")
        for q in params:
            key = prefix + q.name
            current = st.session_state.get(key)
            spec = present.slider_spec(q, current)
            if key not in st.session_state:
                st.session_state[key] = present.slider_value(spec, q.default)
            if spec.kind == "log":
                v = place.select_slider(spec.label, options=list(spec.options), key=key, help=spec.help or None,
                                        format_func=lambda x, s=spec: s.fmt(x))
            elif spec.max > spec.min:
                lo, hi = present.slider_value(spec, spec.min), present.slider_value(spec, spec.max)
                step = spec.step if not spec.integer else int(spec.step)
                v = place.slider(spec.label, min_value=lo, max_value=hi, step=step, key=key, help=spec.help or None,
                                 format=spec.format)
            else:
                place.caption(f"{spec.label}: fixed at {format_quantity(spec.min, spec.unit)}")
                v = spec.min
            values[q.name] = float(v)
    return values


def reset_values(prefix: str, rp: ResolvedPattern, extra: Mapping[str, Any] | None = None) -> None:
    """Callback: every slider back to its default, plus ``extra`` widget values (mode, view…)."""
    seed_values(prefix, rp, rp.defaults())
    for k, v in (extra or {}).items():
        st.session_state[k] = v


# --------------------------------------------------------------------------- query params

def query_dict() -> dict[str, str]:
    """The current URL query as a plain dict (last value wins for repeated keys)."""
    return {k: st.query_params.get(k) for k in st.query_params.keys()}


def sync_query(params: Mapping[str, str]) -> None:
    """Write the page state to the URL, only when it changed (keeps the browser history quiet)."""
    wanted = {k: str(v) for k, v in params.items()}
    if query_dict() != wanted:
        st.query_params.from_dict(wanted)


def theme() -> str:
    """``light`` or ``dark``, from the viewer's Streamlit theme.

    The browser reports its theme after the first run, so a dark page gets ``light`` once (the light
    diagram is drawn on a white card, so it stays legible) and ``dark`` from the next rerun on."""
    try:
        kind = st.context.theme.type
    except Exception:  # older runtimes / tests
        kind = None
    return "dark" if kind == "dark" else "light"


def status_legend(target_utilization: float | None = None, where: Any = None) -> None:
    """One line of colour chips: every colour a component can have on the diagram and in the table's status
    column (utilisation bins, hot, saturated, infeasible, idle), so no colour goes unexplained."""
    th = theme_colors(theme())
    chips = []
    for fill, text, border in LEGEND_ROWS:
        edge = th.get(border, border) if border else th["node_border"]
        label = text if text != "▲ HOT" or target_utilization is None else (
            f"▲ HOT (above the {format_percent(target_utilization)} target)")
        chips.append(f'<span style="background:{fill};color:{NODE_FONT};border:1px solid {edge};border-radius:4px;'
                     f'padding:0 6px;margin:0 4px 4px 0;display:inline-block;font-size:0.8rem">'
                     f"{md_safe(label)}</span>")
    (where or st).markdown('<div aria-label="Colour legend">' + "".join(chips) + "</div>", unsafe_allow_html=True)


PAGE_CSS = """
<style>
/* the page starts under the header, not ~100 px below it */
.block-container, [data-testid="stMainBlockContainer"] { padding-top: 2.5rem !important; }
/* a phone: headline metrics two per row instead of one long column */
@media (max-width: 640px) {
  [class*="-metrics"] [data-testid="stHorizontalBlock"] { flex-wrap: wrap !important; gap: 0.5rem !important; }
  [class*="-metrics"] [data-testid="stColumn"] {
    flex: 1 1 calc(50% - 0.5rem) !important; min-width: calc(50% - 0.5rem) !important;
    width: calc(50% - 0.5rem) !important; }
  [data-testid="stMetricValue"] { font-size: 1.4rem !important; }
}
/* headline values and deltas wrap instead of being cut with an ellipsis */
[data-testid="stMetricValue"] > div, [data-testid="stMetricDelta"] > div {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  overflow-wrap: anywhere; }
</style>
"""
"""Page chrome shared by every page (see :func:`page_style`)."""


def page_style() -> None:
    """The shared CSS: less blank space above titles, two metrics per row on a phone, metrics never cut."""
    st.html(PAGE_CSS)


def use_app_navigation() -> None:
    """Make a deep link work on a freshly started server.

    Streamlit decides at its first session whether the app is an old-style
    multipage app by looking for a ``pages/`` folder beside ``app.py``. Until
    ``app.py`` has run ``st.navigation`` once, a link such as ``/study`` runs
    the page file on its own (no layout, every file in the sidebar). Each page
    calls this first: it switches Streamlit to ``app.py``'s navigation and
    reruns, which then opens the same page properly.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
