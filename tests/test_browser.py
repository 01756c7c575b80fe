"""The main journey in a real browser: open the app, choose a pattern, drag the QPS slider with the
keyboard until a component saturates, see the diagram's highlight move, copy the URL, reload it and
find the same state.

Runs ``streamlit run app.py`` and Debian's Chromium through Playwright (fixtures in conftest.py).
Skips without Chromium (saying how to enable it); fails instead when ``CI=true``.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from conftest import diagram_nodes, skip_or_fail, wait_for_app

from explorer.model.loader import load_pattern
from explorer.render import styles
from explorer.units import format_rate

ROOT = Path(__file__).resolve().parent.parent

PATTERN = "batch_vs_online_prediction"
TITLE = "Batch vs online prediction"


def query_of(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(url).query).items()}


def choose_pattern(page, title: str) -> None:
    picker = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
    picker.click()
    page.keyboard.type(title)
    page.get_by_role("option", name=re.compile(re.escape(title))).first.click()
    page.wait_for_function(f"() => location.search.includes('pattern={PATTERN}')")
    wait_for_app(page, diagram=True)
    page.get_by_role("heading", name=title).wait_for()
    page.wait_for_selector('[data-testid="aeDiagram"] svg g#node_online_model')


def press_and_wait(page, slider, key: str) -> str:
    """Press a key on the slider thumb; wait for the rerun, the URL and the redrawn diagram."""
    before = query_of(page.url).get("peak_qps")
    slider.focus()
    page.keyboard.press(key)
    page.wait_for_function(
        "(before) => new URLSearchParams(location.search).get('peak_qps') !== before", arg=before)
    wait_for_app(page)
    qps = float(query_of(page.url)["peak_qps"])
    edge = format_rate(qps)  # the client → entry edge shows the request rate
    page.wait_for_function(
        """(edge) => {
            const svg = document.querySelector('[data-testid="aeDiagram"] svg');
            return svg && svg.textContent.includes(edge);
        }""", arg=edge)
    return query_of(page.url)["peak_qps"]


def saturated(nodes: dict) -> set[str]:
    return {cid for cid, n in nodes.items() if "status-saturated" in n["cls"]}


def bottleneck(nodes: dict) -> set[str]:
    return {cid for cid, n in nodes.items() if "bottleneck" in n["cls"].split()}


def test_drag_qps_until_saturated_then_reload_the_link(app_url, page):
    page.goto(app_url + "/")
    wait_for_app(page, diagram=True)
    assert query_of(page.url)["pattern"] == "two_stage_recommender"

    choose_pattern(page, TITLE)
    before = diagram_nodes(page)
    assert before, "the diagram is drawn"
    assert not saturated(before)
    assert "api" in before and "online_model" in before

    slider = page.get_by_role("slider", name="Peak QPS")
    values = []
    for _ in range(30):
        values.append(press_and_wait(page, slider, "ArrowRight"))
        if saturated(diagram_nodes(page)):
            break
    else:
        press_and_wait(page, slider, "End")
    after = diagram_nodes(page)
    assert [float(v) for v in values] == sorted(float(v) for v in values), values

    hot = saturated(after)
    assert hot, "a component turned saturated"
    for cid in hot:
        assert after[cid]["fill"] == styles.SATURATED_FILL
        assert "SATURATED" in after[cid]["text"]
        assert after[cid]["fill"] != before[cid]["fill"], "its fill changed in the rendered SVG"
    top = bottleneck(after)
    assert len(top) == 1 and "⚠" in after[next(iter(top))]["text"]
    assert top != bottleneck(before)
    assert page.get_by_text("SATURATED", exact=True).first.is_visible()  # the headline metric

    # copy the URL, open it in a fresh page: the same state comes back
    link = page.url
    query = query_of(link)
    assert query["pattern"] == PATTERN and query["peak_qps"] == values[-1]
    other = page.context.new_page()
    other.goto(link)
    wait_for_app(other, diagram=True)
    other.get_by_role("heading", name=TITLE).wait_for()
    assert query_of(other.url) == query
    assert diagram_nodes(other) == after
    assert other.get_by_role("slider", name="Peak QPS").get_attribute("aria-valuetext") == \
        slider.get_attribute("aria-valuetext")
    other.close()


def _selected(page) -> list[str]:
    return [cid for cid, n in diagram_nodes(page).items() if "selected" in n["cls"].split()]


def test_selecting_a_table_row_then_a_component_outlines_it(app_url, page):
    page.goto(app_url + f"/?pattern={PATTERN}")
    wait_for_app(page, diagram=True)
    assert not _selected(page)

    # a click on the row's selection box in the capacity table (a canvas grid: rows by position)
    ids = list(load_pattern(ROOT / "architectures" / f"{PATTERN}.yaml").graph.nodes)
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    row_height = 35
    row = ids.index("online_model")
    page.mouse.click(box["x"] + 14, box["y"] + row_height * (row + 1) + row_height / 2)
    page.wait_for_function("() => location.search.includes('selected=online_model')")
    wait_for_app(page, diagram=True)
    page.wait_for_function(
        """() => {
            const g = document.querySelector('[data-testid="aeDiagram"] svg g.node.selected');
            return g && g.querySelector('title, desc').textContent === 'online_model';
        }""")
    assert _selected(page) == ["online_model"]
    assert diagram_nodes(page)["online_model"]["stroke"] == styles.SELECTED_BORDER
    assert page.get_by_text(re.compile(r"^Utilisation = ")).first.is_visible()

    # the trace picker selects another component
    page.get_by_role("combobox", name=re.compile("Trace of a component")).click()
    page.keyboard.type("(features)")
    page.keyboard.press("Enter")
    page.wait_for_function("() => location.search.includes('selected=features')")
    wait_for_app(page, diagram=True)
    page.wait_for_function(
        """() => {
            const g = document.querySelector('[data-testid="aeDiagram"] svg g.node.selected');
            return g && g.querySelector('title, desc').textContent === 'features';
        }""")
    assert _selected(page) == ["features"]


def test_bad_link_shows_a_notice_not_a_traceback(app_url, page):
    page.goto(app_url + "/?pattern=nope&peak_qps=abc")
    wait_for_app(page, diagram=True)
    assert page.get_by_text("Some values in the link were not used").is_visible()
    assert not page.locator('[data-testid="stException"]').count()
    assert query_of(page.url)["pattern"] == "two_stage_recommender"


def test_missing_browser_skips_locally_and_fails_in_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        skip_or_fail("chromium is not installed; install Chromium (apt-get install chromium)")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        skip_or_fail("chromium is not installed")
