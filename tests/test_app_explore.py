"""AppTest for the Explore and Method pages: every pattern loads, sliders move the numbers in the
right direction, selecting a component shows its trace, the URL round-trips, bad links give notices."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.engine.analysis import analyse
from explorer.model.loader import builtin_paths, load_pattern
from explorer.render import diagram, styles
from explorer.study import present
from pages.diagram_widget import drawn_key

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PATTERNS = builtin_paths()
IDS = [p.stem for p in PATTERNS]
TIMEOUT = 120
TABS_KEY = "explore:tabs"
CHARTS_KEY = "explore:charts"
CHART_TABS = ["Latency waterfall", "Utilisation", "Scaling curves", "Cost breakdown"]


@pytest.fixture(autouse=True)
def _empty_user_dir(tmp_path, monkeypatch):
    """Tests never see the developer's own patterns."""
    monkeypatch.setenv("ARCH_EXPLORER_USER_DIR", str(tmp_path / "user_patterns"))


def run(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def dot_of(at: AppTest) -> str:
    """The DOT source of the page's one diagram (the interactive widget keeps what it drew)."""
    assert len(at.get("bidi_component")) == 1
    return at.session_state[drawn_key(f"explore:{at.query_params['pattern']}:diagram")]


def metric(at: AppTest, label_start: str) -> str:
    for m in at.metric:
        if m.label.startswith(label_start):
            return m.value
    raise AssertionError(f"no metric {label_start!r} in {[m.label for m in at.metric]}")


def p99_value(at: AppTest) -> float:
    text = metric(at, "End-to-end p")
    if text == "SATURATED":
        return math.inf
    number, unit = text.split()
    return float(number) * (1000 if unit == "s" else 1)


def table(at: AppTest):
    return at.dataframe[0].value


def link_notices(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning if "link were not used" in w.value)


def no_errors(at: AppTest) -> None:
    assert not at.exception
    messages = [e.value for e in at.error]
    assert not [m for m in messages if "Unexpected error" in m], messages


def heat(dot: str) -> int:
    order = [f for _, f, _ in styles.UTIL_SCALE] + [styles.SATURATED_FILL]
    return sum(order.index(f) for f in __import__("re").findall(r'fillcolor="(#[0-9a-f]{6})"', dot) if f in order)


# --------------------------------------------------------------------------- every pattern, every tab and view

@pytest.mark.parametrize("path", PATTERNS, ids=IDS)
def test_every_pattern_loads_with_every_chart_and_view(path):
    rp = load_pattern(path)
    at = run({"pattern": rp.id})
    no_errors(at)
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == rp.pattern.title
    dot = dot_of(at)
    assert dot.startswith("digraph")
    for cid in rp.graph.nodes:
        assert f"id=node_{cid}" in dot
    assert len(at.metric) >= 3
    assert len(table(at)) == len(rp.pattern.components)
    assert at.query_params["pattern"] == rp.id
    shown = [c.key for c in at.get("plotly_chart")]
    assert shown in ([], ["explore:staleness"]), "charts are drawn only once their section is opened " \
        "(the cost-vs-staleness chart of a precompute pattern belongs to the open ML section)"
    at.session_state[CHARTS_KEY] = True
    for tab in CHART_TABS:
        at.session_state[TABS_KEY] = tab
        at.run()
        no_errors(at)
        assert len(at.get("plotly_chart")) + len(at.info) >= 1, tab
    for view in diagram.views(rp):
        at.session_state[f"explore:{rp.id}:view"] = view.id
        at.run()
        no_errors(at)
        dot = dot_of(at)
        for cid in rp.graph.nodes:
            assert (f"id=node_{cid}" in dot) == (cid in view.components), (view.id, cid)
        assert at.query_params["view"] == view.id
    at.session_state[f"explore:{rp.id}:mode"] = "autosize"
    at.run()
    no_errors(at)
    assert at.query_params["mode"] == "autosize"


def test_a_users_hostile_pattern_loads(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "hostile" / "hostile_labels.yaml", folder / "hostile_labels.yaml")
    monkeypatch.setenv("ARCH_EXPLORER_USER_DIR", str(folder))
    at = run({"pattern": "hostile_labels", "peak_qps": "100000", "selected": "style"})
    no_errors(at)
    dot = dot_of(at)
    assert "&lt;script&gt;" in dot and "SATURATED" in dot
    assert any("backslash" in m.value for m in at.markdown)


def test_method_page():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/method.py").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    for phrase in ("Allen–Cunneen", "Poisson", "Independence between stations", "understates the tail",
                   "Retries", "Autoscaling lag", "shards"):
        assert phrase in text, phrase


# --------------------------------------------------------------------------- sliders move numbers the right way

def test_moving_qps_right_raises_p99_utilisation_and_colours():
    at = run()
    assert at.query_params["pattern"] == present.DEFAULT_PATTERN
    key = "explore:two_stage_recommender:peak_qps"
    slider = at.select_slider(key=key)
    assert slider.value == 20000
    rp = load_pattern(ROOT / "architectures" / "two_stage_recommender.yaml")
    options = list(present.slider_spec(next(q for q in rp.pattern.parameters if q.name == "peak_qps")).options)
    start = options.index(20000)

    p99s, utils, heats = [p99_value(at)], [table(at)["Utilisation"].fillna(0).tolist()], [heat(dot_of(at))]
    for value in options[start + 1:start + 4]:
        at.select_slider(key=key).set_value(value).run()
        no_errors(at)
        assert at.query_params["peak_qps"] == str(value)
        assert metric(at, "Peak QPS") == f"{present.compact(value)} req/s"
        p99s.append(p99_value(at))
        utils.append(table(at)["Utilisation"].fillna(0).tolist())
        heats.append(heat(dot_of(at)))
    assert p99s == sorted(p99s) and p99s[-1] > p99s[0], p99s
    assert heats == sorted(heats) and heats[-1] > heats[0], heats
    for before, after in zip(utils, utils[1:], strict=False):
        assert all(b <= a + 1e-12 for b, a in zip(before, after, strict=True))
        assert sum(after) > sum(before)
    assert metric(at, "End-to-end p") == "SATURATED"
    assert styles.SATURATED_FILL in dot_of(at)
    assert at.error, "a saturated component is called out as an error"
    assert any("saturated" in e.value for e in at.error)


def test_scenario_sliders_sit_in_the_page_and_keep_their_values_through_a_full_rerun():
    """The sliders are drawn by the body's fragment (a move reruns only it), so not in the sidebar; a sidebar
    change (mode: a whole-page rerun) keeps the value the fragment's rerun set, and the URL follows both."""
    at = run()
    key = "explore:two_stage_recommender:peak_qps"
    assert not [s for s in at.sidebar.select_slider if s.key == key]
    assert [s for s in at.main.select_slider if s.key == key]
    at.select_slider(key=key).set_value(50000).run()
    no_errors(at)
    assert at.query_params["peak_qps"] == "50000"
    at.radio(key="explore:two_stage_recommender:mode").set_value("autosize").run()
    no_errors(at)
    assert at.select_slider(key=key).value == 50000
    assert at.query_params["peak_qps"] == "50000" and at.query_params["mode"] == "autosize"
    assert metric(at, "Peak QPS") == f"{present.compact(50000)} req/s"


def test_reset_returns_to_defaults():
    at = run({"peak_qps": "50000", "mode": "autosize"})
    assert at.select_slider(key="explore:two_stage_recommender:peak_qps").value == 50000
    at.button(key="explore:reset").click().run()
    no_errors(at)
    assert at.select_slider(key="explore:two_stage_recommender:peak_qps").value == 20000
    assert at.radio(key="explore:two_stage_recommender:mode").value == "provisioned"
    assert at.query_params["peak_qps"] == "20000"


def test_autosize_meets_the_target_where_provisioned_saturates():
    at = run({"peak_qps": "100000"})
    assert metric(at, "End-to-end p") == "SATURATED"
    at.radio(key="explore:two_stage_recommender:mode").set_value("autosize").run()
    no_errors(at)
    assert metric(at, "End-to-end p") != "SATURATED"
    assert at.query_params["mode"] == "autosize"


# --------------------------------------------------------------------------- selecting a component

def test_selecting_a_component_shows_its_trace_and_outlines_it():
    at = run()
    at.selectbox(key="explore:two_stage_recommender:selected").set_value("ranker").run()
    no_errors(at)
    text = "\n".join(m.value for m in at.markdown)
    assert "Ranker (GPU) (ranker" in text
    for line in ("Arrival rate =", "Utilisation =", "p99 response =", "Cost per month =", "Mean service time ="):
        assert line in text, line
    dot = dot_of(at)
    node = next(line for line in dot.splitlines() if line.strip().startswith("ranker ["))
    assert styles.SELECTED_BORDER in node and "selected" in node
    assert at.query_params["selected"] == "ranker"


def test_selecting_a_table_row_selects_the_component():
    at = run()
    ids = list(load_pattern(ROOT / "architectures" / "two_stage_recommender.yaml").graph.nodes)
    row = ids.index("ann")
    at.session_state["explore:two_stage_recommender:table"] = {"selection": {"rows": [row], "columns": [],
                                                                              "cells": []}}
    at.run()
    no_errors(at)
    assert at.selectbox(key="explore:two_stage_recommender:selected").value == "ann"
    assert "ANN retrieval (ann" in "\n".join(m.value for m in at.markdown)
    assert "selected" in next(x for x in dot_of(at).splitlines() if x.strip().startswith("ann ["))
    assert at.query_params["selected"] == "ann"


def test_headline_traces_are_there():
    at = run()
    text = "\n".join(m.value for m in at.markdown)
    assert "End-to-end p99 =" not in text, "a closed popover sends no trace"
    rp = load_pattern(ROOT / "architectures" / f"{present.DEFAULT_PATTERN}.yaml")
    for m in present.headline(analyse(rp)):  # open every "How is this computed?" popover
        at.session_state[f"explore:{rp.id}:how_{m.key}"] = True
    at.run()
    no_errors(at)
    text = "\n".join(m.value for m in at.markdown)
    assert "End-to-end p99 =" in text and "composed distribution" in text
    assert "Cost per month =" in text and "CPU nodes =" in text


# --------------------------------------------------------------------------- URL round trip

def test_query_params_round_trip():
    query = {"pattern": "batch_vs_online_prediction", "peak_qps": "50000", "miss_rate": "0.2",
             "mode": "autosize", "view": "serving", "selected": "online_model"}
    at = run(query)
    no_errors(at)
    assert not link_notices(at)
    p = "explore:batch_vs_online_prediction:"
    assert at.selectbox(key="explore:pattern").value == "batch_vs_online_prediction"
    assert at.select_slider(key=p + "peak_qps").value == 50000
    assert at.slider(key=p + "miss_rate").value == pytest.approx(0.2)
    assert at.radio(key=p + "mode").value == "autosize"
    assert at.selectbox(key=p + "view").value == "serving"
    assert at.selectbox(key=p + "selected").value == "online_model"
    for k, v in query.items():
        assert at.query_params[k] == v, k
    assert "id=node_batch_scoring" not in dot_of(at)  # the serving view
    # a widget change is written back
    at.slider(key=p + "miss_rate").set_value(0.5).run()
    assert at.query_params["miss_rate"] == "0.5"
    assert at.query_params["peak_qps"] == "50000"
    # and the written URL reopens the same state in a new session
    again = run(dict(at.query_params))
    assert again.slider(key=p + "miss_rate").value == pytest.approx(0.5)
    assert dot_of(again) == dot_of(at)


def test_values_off_the_slider_grid_are_kept():
    at = run({"peak_qps": "33333", "num_items": "2.5e8"})
    assert not link_notices(at)
    assert at.select_slider(key="explore:two_stage_recommender:peak_qps").value == 33333
    assert at.query_params["peak_qps"] == "33333"
    assert at.query_params["num_items"] == "250000000"
    assert metric(at, "Peak QPS") == "33.3k req/s"


def test_suffixes_in_links_are_understood():
    at = run({"peak_qps": "30k", "num_items": "1B"})
    assert not link_notices(at)
    assert at.select_slider(key="explore:two_stage_recommender:peak_qps").value == 30000
    assert at.query_params["num_items"] == "1000000000"


@pytest.mark.parametrize("query, expect", [
    ({"peak_qps": "abc"}, "peak_qps"),
    ({"peak_qps": "1e99"}, "outside"),
    ({"peak_qps": "-5"}, "outside"),
    ({"peak_qps": "nan"}, "peak_qps"),
    ({"pattern": "nope"}, "nope"),
    ({"pattern": "../../etc/passwd"}, "does not exist"),
    ({"mode": "turbo"}, "mode"),
    ({"view": "nope"}, "view"),
    ({"selected": "nope"}, "selected"),
    ({"pattern": "nope", "peak_qps": "abc", "view": "<script>"}, "nope"),
])
def test_bad_query_params_give_a_notice_and_defaults(query, expect):
    at = run(query)
    no_errors(at)
    assert not at.error
    notices = link_notices(at)
    assert expect in notices, notices
    assert at.selectbox(key="explore:pattern").value == present.DEFAULT_PATTERN
    assert at.select_slider(key="explore:two_stage_recommender:peak_qps").value == 20000
    assert at.query_params["pattern"] == present.DEFAULT_PATTERN
    assert at.query_params["peak_qps"] == "20000"
    # the notice stays until the user moves on, and goes once they reset
    at.run()
    assert expect in link_notices(at)
    at.button(key="explore:reset").click().run()
    assert not link_notices(at)


def test_switching_pattern_drops_the_old_parameters():
    at = run({"peak_qps": "50000"})
    at.selectbox(key="explore:pattern").set_value("batch_vs_online_prediction").run()
    no_errors(at)
    assert at.query_params["pattern"] == "batch_vs_online_prediction"
    assert "num_items" not in at.query_params
    assert at.query_params["peak_qps"] == "10000"  # the new pattern's default, not the old value


def test_search_filters_the_picker():
    at = run()
    at.text_input(key="explore:search").set_value("batch online").run()
    no_errors(at)
    options = at.selectbox(key="explore:pattern").options
    assert any("Batch vs online" in o for o in options)
    assert len(options) < len(IDS)


# --------------------------------------------------------------------------- errors are messages

def test_engine_errors_are_messages_not_tracebacks():
    def page():
        from explorer.errors import LocatedError, PatternError, ScenarioError
        from pages import ui

        ui.show_error(ScenarioError("peak_qps=5 is outside its range 10 to 100"))
        ui.show_error(PatternError([LocatedError("unknown component 'rankr'", file="x.yaml", line=3, path="to"),
                                    LocatedError("duplicate id 'a'", file="x.yaml", line=9)]))
        ui.show_error(RuntimeError("boom"))

    at = AppTest.from_function(page, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    texts = [e.value for e in at.error]
    assert "outside its range" in texts[0]
    assert "x.yaml:3: to: unknown component 'rankr'" in texts[1] and "x.yaml:9" in texts[1]
    assert "Unexpected error" in texts[2]


def test_every_registered_page_opens():
    """app.py registers the pages whose files exist; each opens without an exception."""
    pages = ["pages/explore.py", "pages/method.py"] + [
        p for p in ("pages/compare.py", "pages/study.py", "pages/calculator.py", "pages/editor.py")
        if (ROOT / p).exists()]
    for page in pages:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.run()
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert at.title, page


def test_an_analysis_over_the_live_budget_says_so_instead_of_tying_up_the_server(monkeypatch):
    """Pages analyse under a time budget: past it, a plain "too large to analyse live" message, no traceback.
    A budget of zero makes every pattern too large, which is what a huge user pattern meets at 2 s."""
    monkeypatch.setenv("ARCH_EXPLORER_LIVE_BUDGET_S", "0")
    at = run({"pattern": "video_recommendation", "peak_qps": "12345"})  # a scenario no other test cached
    messages = [e.value for e in at.error]
    assert any("too large to analyse live" in m for m in messages), messages
    assert not any("Unexpected error" in m for m in messages)
