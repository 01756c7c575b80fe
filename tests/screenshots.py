"""``make screenshots``: every page of the app at a desktop (1440×900) and a phone (390×844) size, for review.

Starts the app with ``streamlit run`` on a free port (its own empty user-pattern folder), opens each
page in Debian's Chromium with Playwright, waits until the script has finished and any diagram is
drawn, and saves a full-page PNG per page and size into ``screenshots/`` (git-ignored), then lists
the files it wrote. One server or browser at a time on the machine: run it under
``flock /tmp/browser.lock`` (the Makefile target does).

    python -m tests.screenshots [--out screenshots] [--only explore,study]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import (
    CHROMIUM_ARGS,
    ROOT,
    browser_unavailable,
    chromium_path,
    free_port,
    start_streamlit,
    stop,
    wait_for_app,
    wait_for_health,
)


@dataclass(frozen=True)
class Shot:
    """One page to capture: a file-name stem and the URL path (with its query)."""

    name: str
    path: str
    diagram: bool = False
    """Wait for a diagram to be drawn before the picture."""


SHOTS = (
    Shot("explore", "", diagram=True),
    Shot("explore-video-recommendation", "?pattern=video_recommendation", diagram=True),
    Shot("explore-ad-click-2M-autosize", "?pattern=ad_click_prediction&peak_qps=2000000&latency_target_ms=50"
                                         "&mode=autosize", diagram=True),
    Shot("compare", "compare"),
    Shot("study", "study"),
    Shot("calculator", "calculator"),
    Shot("your-patterns", "editor"),
    Shot("method", "method"),
)
"""Every page of the navigation, and Explore at two more scenarios (the largest pattern, a stressed one)."""

SIZES = (("desktop", 1440, 900), ("phone", 390, 844))
"""(name, width, height) in CSS pixels."""
MAX_HEIGHT_PX = 16_000
"""Longest picture taken of one page."""

_SETTLED = """() => document.querySelectorAll('[data-testid="stSkeleton"], [data-testid="stElementSkeleton"]').length === 0"""
"""No placeholder left: every element's code has loaded."""

_CONTENT_HEIGHT = """() => Math.max(document.documentElement.scrollHeight,
    ...Array.from(document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"], section.main'))
        .map(el => el.scrollHeight))"""


def capture(base_url: str, out: Path, shots: tuple[Shot, ...] = SHOTS) -> list[Path]:
    """Save a full-page screenshot of every shot at every size; returns the files written."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - a test dependency, loaded only here

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            for size, width, height in SIZES:
                context = browser.new_context(viewport={"width": width, "height": height},
                                              device_scale_factor=1, is_mobile=size == "phone",
                                              has_touch=size == "phone")
                page = context.new_page()
                page.set_default_timeout(60_000)
                for shot in shots:
                    page.goto(base_url + shot.path)
                    wait_for_app(page, timeout_ms=60_000, diagram=shot.diagram)
                    page.wait_for_load_state("networkidle")
                    page.wait_for_function(_SETTLED, timeout=60_000)
                    page.wait_for_timeout(800)  # fonts, icons and charts settle
                    path = out / f"{shot.name}-{size}-{width}x{height}.png"
                    # Streamlit scrolls inside its main container, not the document: grow the viewport to the
                    # content's height so the whole page is in the picture, then put it back
                    full = page.evaluate(_CONTENT_HEIGHT)
                    page.set_viewport_size({"width": width, "height": min(max(height, full), MAX_HEIGHT_PX)})
                    page.wait_for_timeout(500)
                    page.screenshot(path=str(path), full_page=True)
                    page.set_viewport_size({"width": width, "height": height})
                    written.append(path)
                    print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", flush=True)
                context.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.screenshots", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"), help="folder for the PNG files")
    parser.add_argument("--only", default="", help="comma-separated shot names (default: all)")
    args = parser.parse_args(argv)
    reason = browser_unavailable()
    if reason:
        print(f"cannot take screenshots: {reason}", file=sys.stderr)
        return 2
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    shots = tuple(s for s in SHOTS if not wanted or s.name in wanted)
    if not shots:
        print(f"--only matches no shot (shots: {', '.join(s.name for s in SHOTS)})", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        log = Path(tmp) / "streamlit.log"
        proc = start_streamlit(ROOT / "app.py", port, log, env={"ARCH_EXPLORER_USER_DIR": str(Path(tmp) / "user")})
        try:
            wait_for_health(port, proc, log)
            print(f"screenshots of {len(shots)} pages at {len(SIZES)} sizes:", flush=True)
            written = capture(f"http://127.0.0.1:{port}/", Path(args.out), shots)
        finally:
            stop(proc)
    print(f"wrote {len(written)} files into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
