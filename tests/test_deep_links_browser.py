"""A link to any page works on a freshly started server (before anyone has opened '/')."""

import pytest

from tests.conftest import ROOT, free_port, start_streamlit, stop, wait_for_app, wait_for_health


@pytest.mark.parametrize("path, heading", [("study", "Study"), ("calculator", "Calculator")])
def test_deep_link_on_a_fresh_server(browser_available, browser, tmp_path, path, heading):
    port = free_port()
    log = tmp_path / "streamlit.log"
    proc = start_streamlit(ROOT / "app.py", port, log, env={"ARCH_EXPLORER_USER_DIR": str(tmp_path / "user")})
    try:
        wait_for_health(port, proc, log)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/{path}")
        wait_for_app(page)
        page.get_by_role("heading", name=heading).first.wait_for()
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        # the app's navigation, not one entry per file in pages/
        assert "Explore" in nav and "Method" in nav
        assert "ui" not in nav.split() and "export panel" not in nav.lower()
        context.close()
    finally:
        stop(proc)
