"""Compare and Study in a real browser: open a ready-made comparison and see both diagrams; answer a
quiz question and see the verdict with its formula.

Runs ``streamlit run app.py`` and Debian's Chromium through Playwright (fixtures in conftest.py).
Skips without Chromium (saying how to enable it); fails instead when ``CI=true``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from conftest import wait_for_app

from explorer.model.library import load
from explorer.study import compare
from explorer.study import practice as study

PRESET = "candidates_500_vs_2000"
PATTERN = "two_stage_recommender"


def query_of(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(url).query).items()}


def open_page(page, app_url: str, path: str) -> None:
    """Open a page by its link (tests/test_deep_links_browser.py covers links on a fresh server)."""
    page.goto(app_url + path)


def graphviz_node_counts(page) -> list[int]:
    return page.evaluate("""() => Array.from(document.querySelectorAll('[data-testid="aeDiagram"]'))
                              .map(c => c.querySelectorAll('svg g.node').length)""")


def test_compare_preset_shows_two_diagrams(app_url, page):
    preset = compare.find_preset(PRESET)
    open_page(page, app_url, f"/compare?preset={PRESET}")
    wait_for_app(page, diagram=True)
    page.get_by_role("heading", name="Compare").wait_for()
    # the app's navigation (not the classic pages/ list) is in the sidebar
    page.locator('[data-testid="stSidebarNav"]', has_text="Your patterns").wait_for()
    page.wait_for_function("""() => {
        const charts = document.querySelectorAll('[data-testid="aeDiagram"]');
        return charts.length === 2 && Array.from(charts).every(c => c.querySelectorAll('svg g.node').length > 0);
    }""")
    counts = graphviz_node_counts(page)
    components = len(load(PATTERN).pattern.components)
    assert len(counts) == 2 and all(n >= components for n in counts), counts
    # both sides' ranker boxes are drawn, and the preset's question is on the page
    assert page.locator('[data-testid="aeDiagram"] svg g#node_ranker').count() == 2
    page.get_by_text(preset.question).wait_for()
    q = query_of(page.url)
    assert q["preset"] == PRESET and q["a.candidates"] == "500" and q["b.candidates"] == "2000"


def test_study_quiz_answer_gets_a_verdict(app_url, page):
    seed = 3
    questions = study.generate_questions(load(PATTERN), seed, 5)
    first = questions[0]
    open_page(page, app_url, f"/study?pattern={PATTERN}&quiz={seed}&puzzle=0")
    wait_for_app(page)
    page.get_by_role("tab", name="Back-of-the-envelope").click()
    form = page.locator('[data-testid="stForm"]').first
    form.wait_for()
    box = form.locator("input")
    box.fill(f"{first.answer:.6g}")
    form.get_by_role("button", name="Check").click()
    verdict = page.locator('[data-testid="stAlert"]', has_text="Right: the engine says")
    verdict.wait_for()
    wait_for_app(page)
    # the formula behind the number is shown with the verdict
    page.get_by_text(first.figure.formula, exact=False).first.wait_for()
    # and a wrong answer to the next question is told so
    second = page.locator('[data-testid="stForm"]').nth(1)
    second.locator("input").fill(f"{questions[1].answer * 3 + 7:.6g}")
    second.get_by_role("button", name="Check").click()
    page.locator('[data-testid="stAlert"]', has_text="Not quite").wait_for()
    wait_for_app(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert "Answered" in sidebar.inner_text()
    answered = sidebar.locator('[data-testid="stMetric"]', has_text="Answered").inner_text()
    assert answered.strip().endswith("2"), answered
