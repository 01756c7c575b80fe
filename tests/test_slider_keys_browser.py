"""Home and End on the log-scale sliders (QPS, latency target) in a real browser: End goes to the maximum,
Home to the minimum, each time, from the defaults and from a link whose values are off the slider's steps.

Runs ``streamlit run app.py`` and Debian's Chromium through Playwright (fixtures in conftest.py).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from conftest import wait_for_app

from explorer.model.library import load
from explorer.study.present import slider_spec

PATTERN = "ad_click_prediction"


def query_of(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(url).query).items()}


def press(page, label: str, param: str, key: str) -> float:
    """Focus the slider's thumb, press ``key``, wait for the rerun and return the parameter from the URL."""
    before = query_of(page.url).get(param)
    page.get_by_role("slider", name=label).focus()
    page.keyboard.press(key)
    try:
        page.wait_for_function(
            "([param, before]) => new URLSearchParams(location.search).get(param) !== before",
            arg=[param, before], timeout=10_000)
    except Exception:  # the value may legitimately stay (Home at the minimum); the rerun still settles
        pass
    wait_for_app(page)
    return float(query_of(page.url)[param])


@pytest.mark.parametrize("start", ["", "&peak_qps=12345&latency_target_ms=33"], ids=["defaults", "off-grid link"])
def test_home_and_end_reach_the_ends_of_the_log_sliders(app_url, page, start):
    rp = load(PATTERN)
    params = {q.name: q for q in rp.pattern.parameters}
    page.goto(app_url + f"/?pattern={PATTERN}{start}")
    wait_for_app(page, diagram=True)
    for param in ("peak_qps", "latency_target_ms"):
        q = params[param]
        for key, want in (("End", q.max), ("Home", q.min), ("End", q.max), ("ArrowLeft", None), ("End", q.max),
                          ("Home", q.min), ("Home", q.min)):
            got = press(page, q.label, param, key)
            if want is not None:
                assert got == pytest.approx(want), f"{key} on {q.label} gave {got}, expected {want}"
            shown = page.get_by_role("slider", name=q.label).get_attribute("aria-valuetext")
            assert shown == slider_spec(q, got).fmt(got), "the thumb shows the value the page analysed"


def test_theme_menu_switches_to_dark_and_back(app_url, page):
    """Light and dark are one click away in the ⋮ menu (the config sets no fixed theme)."""
    page.goto(app_url + f"/?pattern={PATTERN}&peak_qps=100")
    wait_for_app(page, diagram=True)

    def background() -> str:
        return page.evaluate("getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor")

    def dark(rgb: str) -> bool:
        r, g, b = (int(x) for x in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3])
        return r + g + b < 3 * 80

    for choice, want_dark in (("Dark", True), ("Light", False)):
        page.get_by_test_id("stMainMenu").first.click()
        page.get_by_test_id(f"stMainMenuItem-theme-{choice}").click()
        page.wait_for_function(
            """(wantDark) => {
                const c = getComputedStyle(document.querySelector('[data-testid="stApp"]')).backgroundColor;
                const [r, g, b] = c.match(/\\d+/g).map(Number);
                return (r + g + b < 240) === wantDark;
            }""", arg=want_dark)
        assert dark(background()) == want_dark
        page.keyboard.press("Escape")
    legend = page.get_by_label("Colour legend")
    assert "INFEASIBLE" in legend.inner_text() and "SATURATED" in legend.inner_text()
