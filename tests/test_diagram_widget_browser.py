"""The interactive diagram in a real browser: zoom, pan, hover cards, click and keyboard selection, the
URL's ``selected``, a phone-size page, the outlines on Compare and Study, the layout done in the browser
(same ids as the server's, no request outside the app's origin) and the server's layout when it fails.

Runs ``streamlit run app.py`` and Debian's Chromium through Playwright (fixtures in conftest.py).
Skips without Chromium (saying how to enable it); fails instead when ``CI=true``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from conftest import wait_for_app

from explorer.engine.analysis import analyse
from explorer.model.loader import ARCHITECTURES_DIR, load_pattern
from explorer.render.diagram_data import hotspots

PATTERN = "two_stage_recommender"
LARGEST = "video_search"
WIDGET = '[data-testid="aeDiagram"]'


def query_of(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(url).query).items()}


def transform(page, nth: int = 0) -> str:
    return page.evaluate(f"(n) => document.querySelectorAll('{WIDGET} g.ae-viewport')[n].getAttribute('transform')",
                         nth)


def open_explore(page, app_url: str, query: str = f"pattern={PATTERN}") -> None:
    page.goto(f"{app_url}/?{query}")
    wait_for_app(page, diagram=True)
    page.locator(f"{WIDGET} svg g.node").first.wait_for()


def test_zoom_buttons_wheel_and_drag_change_the_transform(app_url, page):
    open_explore(page, app_url)
    start = transform(page)
    assert "scale(1.0000)" in start
    # a wheel over a diagram nobody is using scrolls the page and says how to zoom
    stage = page.locator(f"{WIDGET} .ae-stage")
    stage.scroll_into_view_if_needed()
    box = stage.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + min(box["height"] / 2, 200))
    page.mouse.wheel(0, -100)
    page.locator(f"{WIDGET} .ae-wheel-hint").wait_for(state="visible")
    assert transform(page) == start

    page.locator(f'{WIDGET} button[data-act="in"]').click()
    zoomed = transform(page)
    assert zoomed != start and "scale(1.2500)" in zoomed

    stage.scroll_into_view_if_needed()
    box = stage.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + min(box["height"] / 2, 200))
    page.mouse.wheel(0, -300)  # the zoom button took the focus: the wheel now zooms
    page.wait_for_function(f"() => parseFloat(document.querySelector('{WIDGET}').dataset.zoom) > 1.3")
    wheeled = transform(page)

    # a drag on the background pans: the translation moves, the scale stays
    x0, y0 = box["x"] + 8, box["y"] + 8
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 60, y0 + 40, steps=6)
    page.mouse.up()
    panned = transform(page)
    assert panned != wheeled
    assert re.search(r"scale\(([\d.]+)\)", panned).group(1) == re.search(r"scale\(([\d.]+)\)", wheeled).group(1)

    page.locator(f'{WIDGET} button[data-act="fit"]').click()
    assert transform(page) == start


def test_hover_shows_a_nodes_figures_and_a_click_on_an_edge_its_traffic(app_url, page):
    open_explore(page, app_url)
    page.locator(f"{WIDGET} g#node_ranker").hover()
    card = page.locator(f"{WIDGET} .ae-card")
    card.wait_for(state="visible")
    text = card.inner_text()
    assert "Ranker" in text and "Utilisation" in text and "p99" in text and "/month" in text

    edge = page.locator(f"{WIDGET} g.edge").first
    edge_id = edge.get_attribute("id")
    # click the edge's label text (a thin path is hard to hit)
    edge.locator("text").first.click()
    card.wait_for(state="visible")
    assert "→" in card.inner_text() and "calls" in card.inner_text(), (edge_id, card.inner_text())
    assert "selected=" not in page.url  # an edge selects nothing


def test_clicking_a_node_selects_it_shows_its_details_and_the_link_reopens_it(app_url, page, browser):
    open_explore(page, app_url)
    page.locator(f"{WIDGET} g#node_ranker").click()
    page.wait_for_function("() => location.search.includes('selected=ranker')")
    wait_for_app(page, diagram=True)
    page.wait_for_selector(f"{WIDGET} svg g#node_ranker.selected")
    details = page.locator('[class*="st-key-explore-two_stage_recommender-selected-details"]')
    details.wait_for()
    assert "Selected: Ranker" in details.inner_text()
    details.get_by_text(re.compile("Every figure of")).click()
    page.get_by_text(re.compile(r"^Utilisation = ")).first.wait_for()
    assert query_of(page.url)["selected"] == "ranker"

    other = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        other.goto(page.url)
        wait_for_app(other, diagram=True)
        other.wait_for_selector(f"{WIDGET} svg g#node_ranker.selected")
        other.locator('[class*="st-key-explore-two_stage_recommender-selected-details"]').wait_for()
    finally:
        other.close()


def test_keyboard_tab_to_a_node_enter_selects_and_plus_zooms(app_url, page):
    open_explore(page, app_url)
    page.locator(f"{WIDGET} .ae-stage").focus()
    page.keyboard.press("+")
    assert "scale(1.2500)" in transform(page)
    page.keyboard.press("-")
    assert "scale(1.0000)" in transform(page)
    for _ in range(40):  # Tab from the diagram reaches its nodes
        page.keyboard.press("Tab")
        focused = page.evaluate("() => { const a = document.activeElement; "
                                "return a && a.matches('g.node') ? a.id : null; }")
        if focused and focused != "node_client":
            break
    else:
        raise AssertionError("Tab never reached a component of the diagram")
    page.locator(f"{WIDGET} .ae-card").wait_for(state="visible")  # focus shows its card
    page.keyboard.press("Enter")
    cid = focused.removeprefix("node_")
    page.wait_for_function(f"() => location.search.includes('selected={cid}')")
    wait_for_app(page, diagram=True)
    page.wait_for_selector(f"{WIDGET} svg g#{focused}.selected")
    page.wait_for_function(f"() => document.activeElement && document.activeElement.id === '{focused}'")


def test_phone_width_has_no_horizontal_overflow_and_the_diagram_fits(app_url, browser):
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                             has_touch=True)
    try:
        open_explore(phone, app_url, f"pattern={LARGEST}")
        sizes = phone.evaluate(f"""() => {{
            const svg = document.querySelector('{WIDGET} svg').getBoundingClientRect();
            const stage = document.querySelector('{WIDGET} .ae-stage').getBoundingClientRect();
            const g = document.querySelector('{WIDGET} g.ae-viewport').getBoundingClientRect();
            return {{page: document.documentElement.scrollWidth, view: window.innerWidth,
                    svg: [svg.left, svg.right], stage: [stage.left, stage.right], drawn: [g.left, g.right]}};
        }}""")
        assert sizes["page"] <= sizes["view"], sizes
        assert sizes["stage"][0] >= 0 and sizes["stage"][1] <= sizes["view"], sizes
        assert sizes["drawn"][0] >= sizes["stage"][0] - 1 and sizes["drawn"][1] <= sizes["stage"][1] + 1, sizes
        # zoomed in, the text reads at its natural size or more, and the page still does not scroll sideways
        phone.locator(f'{WIDGET} button[data-act="actual"]').click()
        font_px = phone.evaluate(f"""() => {{
            const t = document.querySelector('{WIDGET} g.node text');
            return t.getBoundingClientRect().height;
        }}""")
        assert font_px >= 10, font_px
        assert phone.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        phone.close()


def test_compare_outlines_the_changed_components_on_both_diagrams(app_url, page):
    page.goto(f"{app_url}/compare?preset=candidates_500_vs_2000")
    wait_for_app(page, diagram=True)
    page.wait_for_function(f"() => document.querySelectorAll('{WIDGET} svg').length === 2")
    marked = page.evaluate(f"""() => Array.from(document.querySelectorAll('{WIDGET}')).map(
        w => Array.from(w.querySelectorAll('g.node.ae-highlight')).map(g => g.id))""")
    assert len(marked) == 2 and "node_ranker" in marked[0] and "node_ranker" in marked[1], marked


def test_study_walkthrough_outlines_each_steps_components(app_url, page):
    page.goto(f"{app_url}/study?pattern={PATTERN}&step=6")
    wait_for_app(page, diagram=True)
    page.locator(f"{WIDGET} svg g.node").first.wait_for()
    serving = page.evaluate(f"""() => Array.from(document.querySelectorAll('{WIDGET}')[0]
        .querySelectorAll('g.node.ae-highlight')).map(g => g.id)""")
    assert "node_ranker" in serving, serving
    assert page.locator(f"{WIDGET} .ae-note").first.inner_text().startswith("outlined: the critical path")


def _drawn_ids(page) -> set[str]:
    return set(page.evaluate(f"""() => Array.from(document.querySelector('{WIDGET}')
        .querySelectorAll('svg g.node, svg g.edge')).map(g => g.id)"""))


def test_the_browser_lays_the_diagram_out_with_the_servers_ids_and_asks_no_other_origin(app_url, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    try:
        open_explore(page, app_url, f"pattern={LARGEST}")
        assert page.locator(WIDGET).get_attribute("data-layout") == "browser"
        rp = load_pattern(ARCHITECTURES_DIR / f"{LARGEST}.yaml")
        assert _drawn_ids(page) == set(hotspots(rp, analyse(rp)))  # the server's SVG has exactly these ids
        svg = page.evaluate(f"() => document.querySelector('{WIDGET} svg').outerHTML")
        assert "<title>" not in svg and "xlink:title" not in svg and "<desc>" in svg  # page_svg, done in JS
        page.locator(f"{WIDGET} g.node").first.hover()
        page.locator(f"{WIDGET} .ae-card").wait_for(state="visible")
    finally:
        page.close()
    assert any(url.endswith("/viz.js") for url in requested), requested
    outside = [url for url in requested if not url.startswith((app_url + "/", "data:", "blob:"))]
    assert not outside, outside


def test_without_the_webassembly_the_server_lays_the_diagram_out(app_url, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.route("**/viz.js", lambda route: route.abort())
    try:
        open_explore(page, app_url)
        page.wait_for_selector(f'{WIDGET}[data-layout="server"] svg g#node_ranker')
        assert page.locator(WIDGET).get_attribute("data-layout-error")
        page.locator(f"{WIDGET} g#node_ranker").click()  # still selectable
        page.wait_for_function("() => location.search.includes('selected=ranker')")
        page.wait_for_selector(f"{WIDGET} svg g#node_ranker.selected")
    finally:
        page.close()
