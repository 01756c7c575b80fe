"""Browser benchmark (``make bench``): slider change → updated diagram and → settled page, in real Chromium.

For the largest pattern, the Explore page is compared with a bare Streamlit page that has one
slider and one graphviz chart showing the same diagram (tests/bench_bare_app.py), in the same run:
median over ≥ 20 keyboard changes each, and the ratios. Two moments per change: the diagram's SVG
shows the new numbers ("diagram"), and the whole page is settled — the script has stopped and
nothing in the page has changed for ``QUIET_MS`` (the time reported is the last change, so the quiet
wait is not counted). A third figure, "drawn", is the last change outside the data grid's off-screen
screen-reader mirror (which the grid refreshes 200 ms after its data changes, with nothing to see).
Also the time from starting ``streamlit run`` to the first painted diagram.
Targets: both ratios ≤ 1.2×, diagram ≤ 300 ms absolute.

``run()`` prints and returns the figures; ``python -m tests.bench_browser`` runs it alone.
``run_ab()`` (``python -m tests.bench_browser --ab``) compares where the interactive diagram is laid out:
in the browser (the default) and on the server (``ARCH_EXPLORER_DIAGRAM_LAYOUT=server``), each against the
bare page, the three servers up at once and measured in alternating rounds so load on the machine falls on
all of them alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from conftest import (  # noqa: E402
    CHROMIUM_ARGS,
    DIAGRAM,
    browser_unavailable,
    chromium_path,
    free_port,
    start_streamlit,
    stop,
    wait_for_app,
    wait_for_health,
)

from explorer.engine.analysis import analyse  # noqa: E402
from explorer.engine.sweep import traffic_parameter  # noqa: E402
from explorer.model.loader import builtin_paths, load_pattern  # noqa: E402
from explorer.render.diagram import to_dot  # noqa: E402
from explorer.study import present  # noqa: E402

CHANGES = 24
TARGET_RATIO = 1.2
TARGET_MS = 300.0
QUIET_MS = 400
LAYOUT_ENV = "ARCH_EXPLORER_DIAGRAM_LAYOUT"
"""pages.diagram_widget.LAYOUT_ENV (not imported: the page module needs a running app)."""
"""A page is settled once nothing in it has changed for this long (the time reported is the last change)."""

_ARM = """([expected, sel]) => {
    const app = document.querySelector('[data-testid="stApp"]');
    const chart = document.querySelector(sel);
    const before = chart.querySelector('svg').textContent;
    window.__bench = new Promise((resolve) => {
        const t0 = performance.now();
        let diagramMs = null, last = t0, lastShown = t0, sawRun = false;
        const timer = setTimeout(() => finish(diagramMs === null ? null : [diagramMs, null, sawRun, last - t0]), 15000);
        const obs = new MutationObserver((records) => {
            last = performance.now();
            // the data grid's screen-reader mirror (an off-screen table, refreshed 200 ms after the grid's
            // data changes) is not drawn: a change only there does not move ``lastShown``
            if (records.some((r) => {
                const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
                return !(el && el.closest('[data-testid="stDataFrame"] table[role="grid"]'));
            })) lastShown = last;
            if (app.getAttribute('data-test-script-state') === 'running') sawRun = true;
            if (diagramMs === null) {
                const svg = chart.querySelector('svg');
                if (svg && svg.textContent !== before && svg.querySelectorAll('g.node').length === expected) {
                    diagramMs = last - t0;
                }
            }
        });
        // settled: the diagram changed, the script ran and stopped, and nothing on the page changed for QUIET ms
        const poll = setInterval(() => {
            const idle = app.getAttribute('data-test-script-state') === 'notRunning';
            if (diagramMs !== null && idle && performance.now() - last >= QUIET) {
                finish([diagramMs, last - t0, sawRun, last - t0, lastShown - t0]);
            }
        }, 10);
        function finish(value) { obs.disconnect(); clearInterval(poll); clearTimeout(timer); resolve(value); }
        obs.observe(app, {subtree: true, childList: true, characterData: true, attributes: true});
    });
}""".replace("QUIET", str(QUIET_MS))


def largest_pattern():
    return max((load_pattern(p) for p in builtin_paths()), key=lambda rp: (len(rp.pattern.components), rp.id))


def _slider_plan(n_options: int, start: int, changes: int) -> list[str]:
    """Keys that move the slider ``changes`` times without hitting an end (right, then left, …)."""
    keys, pos, direction = [], start, 1
    span = max(1, min(10, n_options - 1))
    lo, hi = max(0, start - span // 2), min(n_options - 1, start + span - span // 2)
    if hi - lo < 1:
        raise RuntimeError("the slider has a single position")
    for _ in range(changes):
        if not lo <= pos + direction <= hi:
            direction = -direction
        pos += direction
        keys.append("ArrowRight" if direction > 0 else "ArrowLeft")
    return keys


def _measure(page, slider_name: str, keys: list[str]) -> list[tuple[float, float, float]]:
    """(slider → diagram updated, slider → page settled, slider → last change drawn) in ms, per key press.

    "Last change drawn" leaves out the data grid's off-screen screen-reader mirror, which the grid refreshes
    200 ms after its data changes (a debounce inside the grid): the table on screen changed with the rest."""
    slider = page.get_by_role("slider", name=slider_name)
    expected = page.evaluate("(sel) => document.querySelector(sel).querySelector('svg').querySelectorAll('g.node').length",
                             DIAGRAM)
    times = []
    for key in keys:
        wait_for_app(page)
        slider.focus()
        page.evaluate(_ARM, [expected, DIAGRAM])
        page.keyboard.press(key)
        ms = page.evaluate("() => window.__bench")
        if ms is None or ms[1] is None:
            detail = "the diagram did not change" if ms is None else f"still changing (last change at {ms[3]:.0f} ms)"
            raise RuntimeError(f"the page did not update and settle within 15 s after {key}: {detail}")
        times.append((ms[0], ms[1], ms[4]))
    wait_for_app(page)
    return times


def _first_paint(browser, script: Path, url_suffix: str, env: dict, log: Path) -> float:
    """Seconds from starting ``streamlit run`` to the diagram drawn in the browser."""
    port = free_port()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    t0 = time.perf_counter()
    proc = start_streamlit(script, port, log, env=env)
    try:
        url = f"http://127.0.0.1:{port}{url_suffix}"
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                page.goto(url, timeout=5000)
                break
            except Exception:  # connection refused while the server starts
                if time.perf_counter() - t0 > 120:
                    raise
                time.sleep(0.05)
        page.wait_for_selector(", ".join(f"{s} svg g.node" for s in DIAGRAM.split(", ")), timeout=120_000)
        return time.perf_counter() - t0
    finally:
        page.close()
        stop(proc)


def _scenario():
    """The largest pattern, its traffic slider, the slider's options and the start position."""
    rp = largest_pattern()
    param = traffic_parameter(rp)
    q = next(q for q in rp.pattern.parameters if q.name == param)
    spec = present.slider_spec(q)
    options = list(spec.options) if spec.kind == "log" else None
    if options is None:  # a linear traffic slider: one step per key press
        n = int(round((q.max - q.min) / spec.step)) + 1
        options = [q.min + i * spec.step for i in range(n)]
    start = min(range(len(options)), key=lambda i: abs(options[i] - q.default))
    return rp, param, q, options, start


def run_ab(rounds: int = 4, changes: int = 12, cold: bool = False) -> dict:
    """Browser layout vs server layout vs the bare page, alternating rounds of ``changes`` key presses.

    ``cold``: every round starts each variant's server and page afresh and moves the slider one way only,
    so every diagram is new to both server and browser (no cached layout); otherwise the three stay up and
    the slider goes back and forth over a few positions (what a user comparing values does: mostly cached).

    Returns the medians (ms) of slider → diagram updated and slider → page settled per variant, and the
    ratios of each app variant to the bare page."""
    reason = browser_unavailable()
    if reason:
        print(f"  skipped: {reason}")
        return {}
    from playwright.sync_api import sync_playwright

    rp, param, q, options, start = _scenario()
    if cold:
        changes = min(changes, len(options) - 1 - start)
        warm, keys = ["ArrowLeft", "ArrowRight"], ["ArrowRight"] * changes
    else:
        plan = _slider_plan(len(options), start, rounds * changes + 2)
        warm, keys = plan[:2], plan[2:]
    with tempfile.TemporaryDirectory(prefix="bench_browser_ab_") as tmp:
        tmpdir = Path(tmp)
        dots = [to_dot(rp, analyse(rp, {**rp.defaults(), param: v}), render_key=True) for v in options]
        dots_path = tmpdir / "dots.json"
        dots_path.write_text(json.dumps(dots), encoding="utf-8")
        user = {"ARCH_EXPLORER_USER_DIR": str(tmpdir / "user")}
        variants = {
            "browser": (ROOT / "app.py", {**user, LAYOUT_ENV: "browser"}, f"/?pattern={rp.id}", q.label),
            "server": (ROOT / "app.py", {**user, LAYOUT_ENV: "server"}, f"/?pattern={rp.id}", q.label),
            "bare": (ROOT / "tests" / "bench_bare_app.py", {"BENCH_DOTS": str(dots_path), "BENCH_START": str(start)},
                     "/", "Value"),
        }
        times: dict[str, list[tuple[float, float, float]]] = {name: [] for name in variants}
        per_round: dict[str, list[float]] = {name: [] for name in variants}
        layouts: dict[str, str] = {}
        servers: dict[str, object] = {}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)

            def open_variant(name: str):
                script, env, suffix, _ = variants[name]
                port = free_port()
                log = tmpdir / f"{name}.log"
                servers[name] = proc = start_streamlit(script, port, log, env=env)
                wait_for_health(port, proc, log)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"http://127.0.0.1:{port}{suffix}")
                wait_for_app(page, diagram=True)
                _measure(page, variants[name][3], warm)  # warm the page and the WebAssembly
                return page

            def close_variant(name: str, page) -> None:
                layouts[name] = page.evaluate(
                    "() => { const w = document.querySelector('[data-testid=\"aeDiagram\"]'); "
                    "return w ? w.dataset.layout : 'graphviz_chart'; }")
                page.close()
                stop(servers.pop(name))

            try:
                pages = {} if cold else {name: open_variant(name) for name in variants}
                for r in range(rounds):
                    order = list(variants) if r % 2 == 0 else list(reversed(variants))
                    for name in order:
                        page = open_variant(name) if cold else pages[name]
                        got = _measure(page, variants[name][3], keys if cold else keys[r * changes:(r + 1) * changes])
                        times[name] += got
                        per_round[name].append(statistics.median(t[0] for t in got))
                        if cold:
                            close_variant(name, page)
                for name, page in pages.items():
                    close_variant(name, page)
            finally:
                for proc in servers.values():
                    stop(proc)
                browser.close()
    out: dict[str, float] = {}
    for name in variants:
        out[f"diagram {name} median (ms)"] = statistics.median(t[0] for t in times[name])
        out[f"settled {name} median (ms)"] = statistics.median(t[1] for t in times[name])
    for name in ("browser", "server"):
        out[f"ratio diagram {name} / bare"] = out[f"diagram {name} median (ms)"] / out["diagram bare median (ms)"]
        out[f"ratio settled {name} / bare"] = out[f"settled {name} median (ms)"] / out["settled bare median (ms)"]
    print(f"  {rp.id}: {rounds} alternating rounds × {changes} changes per variant "
          f"({'cold: every diagram new' if cold else 'warm: back and forth'}); layouts seen: {layouts}")
    for name in variants:
        print(f"  {name:8s} slider → diagram median {out[f'diagram {name} median (ms)']:7.1f} ms   "
              f"→ settled median {out[f'settled {name} median (ms)']:7.1f} ms")
    for name in variants:
        print(f"  {name:8s} slider → diagram median per round: " + ", ".join(f"{ms:.0f}" for ms in per_round[name]))
    for name in ("browser", "server"):
        print(f"  {name:8s} / bare: diagram {out[f'ratio diagram {name} / bare']:.2f}×, "
              f"settled {out[f'ratio settled {name} / bare']:.2f}×")
    return out


def run(changes: int = CHANGES) -> dict:
    """Measure, print and return the figures (milliseconds and ratios)."""
    reason = browser_unavailable()
    if reason:
        print(f"  skipped: {reason}")
        return {}
    from playwright.sync_api import sync_playwright

    rp, param, q, options, start = _scenario()
    keys = _slider_plan(len(options), start, changes)
    out: dict[str, float] = {}

    with tempfile.TemporaryDirectory(prefix="bench_browser_") as tmp:
        tmpdir = Path(tmp)
        # the bare page draws exactly what the Explore page draws at each step
        dots = [to_dot(rp, analyse(rp, {**rp.defaults(), param: v}), render_key=True) for v in options]
        dots_path = tmpdir / "dots.json"
        dots_path.write_text(json.dumps(dots), encoding="utf-8")
        env_app = {"ARCH_EXPLORER_USER_DIR": str(tmpdir / "user")}
        env_bare = {"BENCH_DOTS": str(dots_path), "BENCH_START": str(start)}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
            try:
                out["first paint app (s)"] = _first_paint(browser, ROOT / "app.py", f"/?pattern={rp.id}", env_app,
                                                          tmpdir / "app_first.log")
                out["first paint bare (s)"] = _first_paint(browser, ROOT / "tests" / "bench_bare_app.py", "/",
                                                           env_bare, tmpdir / "bare_first.log")
                servers = []
                try:
                    for script, env, name in ((ROOT / "app.py", env_app, "app"),
                                              (ROOT / "tests" / "bench_bare_app.py", env_bare, "bare")):
                        port = free_port()
                        log = tmpdir / f"{name}.log"
                        proc = start_streamlit(script, port, log, env=env)
                        servers.append(proc)
                        wait_for_health(port, proc, log)
                        page = browser.new_page(viewport={"width": 1400, "height": 1000})
                        if name == "app":
                            page.goto(f"http://127.0.0.1:{port}/?pattern={rp.id}")
                            wait_for_app(page, diagram=True)
                            _measure(page, q.label, keys[:2])  # warm the caches and the page
                            times = _measure(page, q.label, keys)
                        else:
                            page.goto(f"http://127.0.0.1:{port}/")
                            wait_for_app(page, diagram=True)
                            _measure(page, "Value", keys[:2])
                            times = _measure(page, "Value", keys)
                        page.close()
                        diagram_ms = [t[0] for t in times]
                        settled_ms = [t[1] for t in times]
                        shown_ms = [t[2] for t in times]
                        out[f"slider→diagram {name} median (ms)"] = statistics.median(diagram_ms)
                        out[f"slider→diagram {name} p90 (ms)"] = statistics.quantiles(diagram_ms, n=10)[-1]
                        out[f"slider→settled {name} median (ms)"] = statistics.median(settled_ms)
                        out[f"slider→settled {name} p90 (ms)"] = statistics.quantiles(settled_ms, n=10)[-1]
                        out[f"slider→drawn {name} median (ms)"] = statistics.median(shown_ms)
                finally:
                    for proc in servers:
                        stop(proc)
            finally:
                browser.close()

    app_ms = out["slider→diagram app median (ms)"]
    bare_ms = out["slider→diagram bare median (ms)"]
    out["ratio app / bare"] = app_ms / bare_ms if bare_ms > 0 else float("inf")
    app_settled = out["slider→settled app median (ms)"]
    bare_settled = out["slider→settled bare median (ms)"]
    out["ratio settled app / bare"] = app_settled / bare_settled if bare_settled > 0 else float("inf")
    app_drawn, bare_drawn = out["slider→drawn app median (ms)"], out["slider→drawn bare median (ms)"]
    out["ratio drawn app / bare"] = app_drawn / bare_drawn if bare_drawn > 0 else float("inf")
    print(f"  largest pattern: {rp.id} ({len(rp.pattern.components)} components), slider {q.label!r}, "
          f"{changes} changes each")
    print(f"  slider → updated diagram, Explore page   median {app_ms:7.1f} ms   "
          f"p90 {out['slider→diagram app p90 (ms)']:7.1f} ms")
    print(f"  slider → updated diagram, bare page      median {bare_ms:7.1f} ms   "
          f"p90 {out['slider→diagram bare p90 (ms)']:7.1f} ms")
    ratio_ok = "ok" if out["ratio app / bare"] <= TARGET_RATIO else "OVER TARGET"
    abs_ok = "ok" if app_ms <= TARGET_MS else "OVER TARGET"
    print(f"  ratio Explore / bare: {out['ratio app / bare']:.2f}× (target ≤ {TARGET_RATIO}×: {ratio_ok}); "
          f"absolute {app_ms:.0f} ms (target ≤ {TARGET_MS:.0f} ms: {abs_ok})")
    print(f"  slider → page settled, Explore page      median {app_settled:7.1f} ms   "
          f"p90 {out['slider→settled app p90 (ms)']:7.1f} ms")
    print(f"  slider → page settled, bare page         median {bare_settled:7.1f} ms   "
          f"p90 {out['slider→settled bare p90 (ms)']:7.1f} ms")
    settled_ok = "ok" if out["ratio settled app / bare"] <= TARGET_RATIO else "OVER TARGET"
    print(f"  ratio settled Explore / bare: {out['ratio settled app / bare']:.2f}× "
          f"(target ≤ {TARGET_RATIO}×: {settled_ok}; settled = no change for {QUIET_MS} ms, "
          f"time of the last change)")
    print(f"  slider → last change drawn (grid's screen-reader mirror left out): Explore {app_drawn:7.1f} ms, "
          f"bare {bare_drawn:7.1f} ms, ratio {out['ratio drawn app / bare']:.2f}×")
    print(f"  streamlit run → first diagram painted: Explore {out['first paint app (s)']:.2f} s, "
          f"bare {out['first paint bare (s)']:.2f} s")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Browser benchmark of the Explore page.")
    parser.add_argument("--ab", action="store_true", help="browser vs server layout vs bare page, alternating")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--cold", action="store_true", help="with --ab: fresh servers per round, every diagram new")
    args = parser.parse_args()
    if args.ab:
        run_ab(rounds=args.rounds, cold=args.cold)
    else:
        run()
