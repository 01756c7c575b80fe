"""Shared fixtures for browser tests: the app under ``streamlit run`` and a headless Chromium.

Use them from any test file::

    def test_something(app_url, page):
        page.goto(app_url + "/?pattern=two_stage_recommender")
        wait_for_app(page)

- ``app_url`` (session): ``streamlit run app.py`` on a free local port, headless, no telemetry,
  with its own empty user-pattern folder; stopped (by its pid) at the end of the session.
- ``browser`` (session): Playwright's Chromium driving Debian's ``/usr/bin/chromium``
  (or ``$CHROMIUM``), headless.
- ``page`` (per test): a fresh browser context and page (1400×1000), closed after the test.

Without Chromium or Playwright the tests skip with a message saying how to enable them;
when ``CI=true`` they fail instead. Helpers: :func:`wait_for_app`, :func:`diagram_nodes`,
:func:`start_streamlit`, :func:`free_port`, :func:`chromium_path`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DIAGRAM = '[data-testid="stGraphVizChart"], [data-testid="aeDiagram"]'
"""CSS selector of a drawn diagram: Streamlit's graphviz chart or the interactive one (pages/diagram_widget.py)."""
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
HOW_TO_ENABLE = ("install Chromium (apt-get install chromium) or set CHROMIUM=/path/to/chromium, "
                 "and the dev requirements (pip install -r requirements-dev.txt)")


# --------------------------------------------------------------------------- helpers (importable)

def chromium_path() -> str | None:
    """Debian's Chromium, or ``$CHROMIUM``; None when absent."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def browser_unavailable() -> str | None:
    """Why a browser test cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed; " + HOW_TO_ENABLE
    if chromium_path() is None:
        return "chromium is not installed; " + HOW_TO_ENABLE
    return None


def skip_or_fail(reason: str) -> None:
    """Skip with the reason, except under ``CI=true`` where a missing browser is a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and a browser test cannot run: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_streamlit(script: str | Path, port: int, log_path: Path, env: dict | None = None) -> subprocess.Popen:
    """``streamlit run script`` headless on ``127.0.0.1:port``, no telemetry, output to ``log_path``."""
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", "--server.runOnSave", "false"]
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})})
    proc._log = log  # type: ignore[attr-defined]
    return proc


def wait_for_health(port: int, proc: subprocess.Popen, log_path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/_stcore/health"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"streamlit did not answer on port {port} within {timeout:.0f} s")


def stop(proc: subprocess.Popen) -> None:
    """Stop a process we started (by its pid), then close its log."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    log = getattr(proc, "_log", None)
    if log is not None:
        log.close()


def wait_for_app(page, timeout_ms: float = 30_000, diagram: bool = False) -> None:
    """Wait until Streamlit has finished running the script and any diagram on the page is drawn;
    with ``diagram=True``, also wait until there is one."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms)
    page.wait_for_function(
        """([required, sel]) => {
            const chart = document.querySelector(sel);
            if (!chart) return !required;
            return chart.querySelectorAll('svg g.node').length > 0;
        }""", arg=[diagram, DIAGRAM], timeout=timeout_ms)


def diagram_nodes(page) -> dict[str, dict]:
    """Nodes of the rendered diagram SVG: component id → {class, fill, stroke, stroke_width, text}."""
    return page.evaluate(
        """(sel) => {
            const out = {};
            for (const g of document.querySelectorAll(sel.split(', ').map(s => s + ' svg g.node').join(', '))) {
                const title = g.querySelector('title, desc');
                const shape = g.querySelector('path, polygon, ellipse');
                if (!title || !shape) continue;
                out[title.textContent] = {
                    cls: g.getAttribute('class') || '',
                    fill: shape.getAttribute('fill'),
                    stroke: shape.getAttribute('stroke'),
                    stroke_width: shape.getAttribute('stroke-width'),
                    text: Array.from(g.querySelectorAll('text')).map(t => t.textContent).join(' | '),
                };
            }
            return out;
        }""", DIAGRAM)


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def browser_available() -> None:
    reason = browser_unavailable()
    if reason:
        skip_or_fail(reason)


@pytest.fixture(scope="session")
def app_url(browser_available, tmp_path_factory) -> str:
    """Base URL of the app under ``streamlit run`` (one server for the whole test session)."""
    port = free_port()
    folder = tmp_path_factory.mktemp("app_server")
    log_path = folder / "streamlit.log"
    proc = start_streamlit(ROOT / "app.py", port, log_path,
                           env={"ARCH_EXPLORER_USER_DIR": str(folder / "user_patterns")})
    try:
        wait_for_health(port, proc, log_path)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def browser(browser_available):
    """Headless Chromium through Playwright (one browser for the whole test session)."""
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
    except Exception as exc:  # a broken Chromium install is reported like a missing one
        pw.stop()
        skip_or_fail(f"chromium did not start ({exc}); " + HOW_TO_ENABLE)
    try:
        yield b
    finally:
        b.close()
        pw.stop()


@pytest.fixture
def page(browser):
    """A fresh context and page per test (no shared cookies or storage), closed afterwards."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    try:
        yield pg
    finally:
        context.close()


# --------------------------------------------------------------------------- every test

@pytest.fixture(autouse=True)
def _isolated_user_dir(tmp_path, monkeypatch):
    """Every test sees an empty user-pattern folder of its own, never the developer's
    ``~/.architecture-explorer/patterns`` (a test that needs a folder sets its own)."""
    monkeypatch.setenv("ARCH_EXPLORER_USER_DIR", str(tmp_path / "user_patterns"))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a seeded simulation or a long property run (deselect with -m 'not slow')")
