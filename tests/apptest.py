"""Shared helpers for Streamlit AppTest tests of the pages (no browser).

``run_app(query)`` runs ``app.py`` (the navigation, so the default page is Explore) with URL query
parameters; ``run_page(name, query)`` runs one page file directly. Both assert that no exception reached
the page. Every test already runs with an empty user-pattern folder (see ``conftest.py``).
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 120
"""Seconds an AppTest run may take: generous, so a busy machine does not fail a correct page."""


def _run(at: AppTest, query: dict | None) -> AppTest:
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def run_app(query: dict | None = None) -> AppTest:
    """``app.py`` with these query parameters, run once."""
    return _run(AppTest.from_file(APP, default_timeout=TIMEOUT), query)


def run_page(name: str, query: dict | None = None) -> AppTest:
    """``pages/<name>.py`` with these query parameters, run once."""
    return _run(AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=TIMEOUT), query)


def no_errors(at: AppTest) -> None:
    """No exception and no unexpected-error box on the page."""
    assert not at.exception, [e.value for e in at.exception]
    messages = [e.value for e in at.error]
    assert not [m for m in messages if "Unexpected error" in m], messages


def texts(elements) -> list[str]:
    """The values of a list of AppTest elements."""
    return [e.value for e in elements]
