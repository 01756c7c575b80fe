"""In a real browser: open the Explore page at a scenario, open the export panel and download
the SVG, the PNG, the Markdown note and the study pack; check the files and their names.

Runs the app with ``streamlit run`` on a free port and drives Debian's Chromium with
Playwright. Skips (saying how to enable) without Chromium or Playwright; fails instead
when ``CI=true``.
"""

from __future__ import annotations

import io
import re
import threading
import xml.etree.ElementTree as ET
import zipfile

import pytest

from tests.conftest import (
    CHROMIUM_ARGS,
    ROOT,
    browser_unavailable,
    chromium_path,
    free_port,
    skip_or_fail,
    start_streamlit,
    stop,
    wait_for_health,
)

URL_QUERY = "?pattern=two_stage_recommender&peak_qps=60000"
STEM = "two_stage_recommender-peak_qps-60000"


@pytest.fixture(scope="module")
def export_app(tmp_path_factory):
    """The app on a free port (its own user-pattern folder), stopped at the end of the module."""
    reason = browser_unavailable()
    if reason:
        skip_or_fail(reason)
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    proc = start_streamlit(ROOT / "app.py", port, log,
                           env={"ARCH_EXPLORER_USER_DIR": str(tmp_path_factory.mktemp("user_patterns"))})
    try:
        wait_for_health(port, proc, log)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop(proc)


def _in_thread(fn):
    """Run Playwright's sync API on its own thread (never inside another event loop)."""
    box: dict = {}

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            box["error"] = exc

    t = threading.Thread(target=work, name="export-browser")
    t.start()
    t.join(timeout=300)
    if t.is_alive():
        pytest.fail("the browser journey did not finish within 300 s")
    if "error" in box:
        raise box["error"]
    return box["value"]


@pytest.fixture(scope="module")
def downloads(export_app, tmp_path_factory):
    """Open the page, open the export panel, download four files; returns {label: (file name, bytes)}."""
    folder = tmp_path_factory.mktemp("downloads")

    def journey() -> dict[str, tuple[str, bytes]]:
        from playwright.sync_api import expect, sync_playwright
        got: dict[str, tuple[str, bytes]] = {}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
                page.set_default_timeout(60_000)
                page.goto(export_app + URL_QUERY)
                summary = page.get_by_text(re.compile(r"^Export: SVG"))
                expect(summary).to_be_visible()
                summary.click()
                for label, pattern in (("SVG", r"SVG$"), ("Markdown note", r"Markdown note$"),
                                       ("PNG", r"PNG \(\d+ dpi\)$")):
                    button = page.get_by_role("button", name=re.compile(pattern))
                    expect(button).to_be_enabled()
                    with page.expect_download() as info:
                        button.click()
                    d = info.value
                    path = folder / d.suggested_filename
                    d.save_as(path)
                    got[label] = (d.suggested_filename, path.read_bytes())
                page.get_by_role("button", name=re.compile(r"Build study pack$")).click()
                pack = page.get_by_role("button", name=re.compile(r"Study pack \(zip\)$"))
                expect(pack).to_be_enabled(timeout=120_000)
                with page.expect_download() as info:
                    pack.click()
                d = info.value
                path = folder / d.suggested_filename
                d.save_as(path)
                got["pack"] = (d.suggested_filename, path.read_bytes())
                crashes = page.locator("[data-testid='stException']")
                assert crashes.count() == 0, crashes.all_inner_texts()
                panel = page.locator("[data-testid='stExpander']").filter(has_text="Export: SVG")
                errors = panel.locator("[data-testid='stAlertContentError']")
                assert errors.count() == 0, errors.all_inner_texts()
            finally:
                browser.close()
        return got

    return _in_thread(journey)


def test_svg_download(downloads):
    name, data = downloads["SVG"]
    assert name == f"{STEM}.svg"
    root = ET.fromstring(data)
    text = " ".join("".join(root.itertext()).split())
    assert "Recommendation API" in text and "Ranker (GPU)" in text and "60k" in text


def test_markdown_download(downloads):
    name, data = downloads["Markdown note"]
    assert name == f"{STEM}.md"
    md = data.decode("utf-8")
    assert md.startswith("# Two-stage recommender")
    assert "```mermaid\nflowchart LR" in md and "| 60,000 |" in md and "### 7. Monitoring and infrastructure" in md


def test_png_download_rendered_on_click(downloads):
    name, data = downloads["PNG"]
    assert name == f"{STEM}.png" and data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_study_pack_download(downloads):
    name, data = downloads["pack"]
    assert name == f"{STEM}-study-pack.zip"
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert zf.testzip() is None
    note = zf.read("architecture-explorer-study-pack/two_stage_recommender/two_stage_recommender.md").decode()
    assert "| 60,000 |" in note
