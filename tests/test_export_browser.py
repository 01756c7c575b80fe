"""In a real browser: open the Explore page at a scenario and, from the toolbar under the diagram, download
the PNG, the SVG, the Markdown note, the Mermaid file, the Anki deck and (under "More") the study pack;
check the files and their names (the pattern and the scenario's hash), and that the toolbar sits right
under the diagram.

Runs the app with ``streamlit run`` on a free port and drives Debian's Chromium with
Playwright. Skips (saying how to enable) without Chromium or Playwright; fails instead
when ``CI=true``.
"""

from __future__ import annotations

import io
import re
import sqlite3
import struct
import threading
import xml.etree.ElementTree as ET
import zipfile

import pytest

from explorer import export as ex
from explorer.model.library import load
from tests.conftest import (
    CHROMIUM_ARGS,
    DIAGRAM,
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
STEM = ex.filename(load("two_stage_recommender"), {"peak_qps": 60000}, "svg").rsplit(".", 1)[0]


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
                toolbar = page.locator(".st-key-explore-export_toolbar, [class*='export_toolbar']").first
                expect(toolbar).to_be_visible()
                diagram = page.locator(DIAGRAM).first
                expect(diagram).to_be_visible()
                d_box, t_box = diagram.bounding_box(), toolbar.bounding_box()
                got["layout"] = (d_box, t_box)
                for label in ("PNG", "SVG", "Markdown", "Mermaid", "Anki"):
                    button = toolbar.get_by_role("button", name=re.compile(rf"{label}$"))
                    expect(button).to_be_enabled()
                    with page.expect_download() as info:
                        button.click()
                    d = info.value
                    path = folder / d.suggested_filename
                    d.save_as(path)
                    got[label] = (d.suggested_filename, path.read_bytes())
                toolbar.get_by_role("button", name=re.compile(r"More")).click()
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
                errors = page.locator("[data-testid='stAlertContentError']").filter(has_text="Could not export")
                assert errors.count() == 0, errors.all_inner_texts()
            finally:
                browser.close()
        return got

    return _in_thread(journey)


def test_toolbar_sits_right_under_the_diagram(downloads):
    diagram, toolbar = downloads["layout"]
    gap = toolbar["y"] - (diagram["y"] + diagram["height"])
    assert -2 <= gap <= 80, (diagram, toolbar)


def test_svg_download(downloads):
    name, data = downloads["SVG"]
    assert name == f"{STEM}.svg"
    root = ET.fromstring(data)
    text = " ".join("".join(root.itertext()).split())
    assert "Recommendation API" in text and "Ranker (GPU)" in text and "60k" in text
    assert "Two-stage recommender" in text and "Scenario: Peak QPS = 60,000 req/s" in text
    assert "Cost per month" in text and "INFEASIBLE" in text


def test_markdown_download(downloads):
    name, data = downloads["Markdown"]
    assert name == f"{STEM}.md"
    md = data.decode("utf-8")
    assert md.startswith("# Two-stage recommender")
    assert "\nflowchart LR" in md and "| 60,000 |" in md and "### 7. Monitoring and infrastructure" in md


def test_png_download_is_2x(downloads):
    name, data = downloads["PNG"]
    assert name == f"{STEM}.png" and data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    width, _ = struct.unpack(">II", data[16:24])
    root = ET.fromstring(downloads["SVG"][1])
    assert width >= 2 * float(root.attrib["width"].removesuffix("pt")) * 96 / 72 * 0.99


def test_mermaid_download(downloads):
    name, data = downloads["Mermaid"]
    assert name == f"{STEM}.mmd" and b'subgraph legend["Legend"]' in data


def test_anki_download(downloads, tmp_path):
    name, data = downloads["Anki"]
    assert name == "two_stage_recommender-anki.apkg"
    path = tmp_path / "collection.anki2"
    path.write_bytes(zipfile.ZipFile(io.BytesIO(data)).read("collection.anki2"))
    assert sqlite3.connect(path).execute("select count(*) from notes").fetchone()[0] >= 8


def test_study_pack_download(downloads):
    name, data = downloads["pack"]
    assert name == f"{STEM}-study-pack.zip"
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert zf.testzip() is None
    note = zf.read("architecture-explorer-study-pack/two_stage_recommender/two_stage_recommender.md").decode()
    assert "| 60,000 |" in note
