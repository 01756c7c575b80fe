"""``make loadtest``: a class of users on the app (a benchmark-like check, not part of ``make test``).

Starts ``streamlit run app.py`` on a free 127.0.0.1 port (headless, no file watcher, its own empty
user-pattern folder; ``LOAD_REPLICAS`` processes, default 1) and opens ``LOAD_SESSIONS`` Streamlit sessions
(default 50) on the Explore page, round-robin over the patterns whose traffic slider is Peak QPS, each at
its own starting traffic. For ``LOAD_SECONDS`` (default 60) every session moves that slider one step every
3–6 s (seeded by ``LOAD_SEED``), walking inside its own band of slider steps, so two sessions on the same
pattern never hold the same value. With several replicas, session i stays on replica ``i % replicas``.

Two clients (``LOAD_CLIENT``):

- ``ws`` (default): Streamlit's own websocket protocol (``/_stcore/stream``, the ``BackMsg``/``ForwardMsg``
  protobufs that ship with streamlit), sending back every widget's value with each rerun as the page's
  client does. Slider→diagram is the server's part: move sent → diagram element with the new rate received.
- ``browser``: one headless Chromium, a context per session, a key press on the slider thumb; slider→diagram
  runs from the ``keydown`` to the drawn SVG showing the new rate (a ``MutationObserver``, the page's clock).
  On 2 cores Chromium itself saturates long before the server does (50 pages took minutes to open and most
  moves timed out while the server sat at 0.08 cores), so keep ``LOAD_SESSIONS`` small with it.

The same is measured first for a single session alone (``LOAD_SINGLE_MOVES`` moves on each pattern, on the
same server), as the baseline, and again after the load with warm caches.

After every move it checks for **state bleed** — the query string the server wrote for this session
(``pattern``, ``peak_qps``), the slider's shown value, the diagram's request rate and the page title must
all be this session's own — and for **errors**: no exception element or ``stException``, no uncaught page
error, no failed script run, no move that does not complete in 30 s, and (at the end) no
``Traceback``/``Error`` in any server log. Server memory is read from ``/proc/<pid>/status`` (VmRSS).

Exit status is non-zero when there is an error or a bleed, or when load p95 > 2 × single-session p95.
Run as ``flock /tmp/browser.lock python -m tests.loadtest`` (the Makefile target does).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from explorer.model.loader import builtin_paths, load_pattern  # noqa: E402
from explorer.study.present import slider_spec  # noqa: E402
from explorer.units import format_rate, number_text  # noqa: E402
from tests.conftest import (  # noqa: E402
    CHROMIUM_ARGS,
    browser_unavailable,
    chromium_path,
    free_port,
    start_streamlit,
    stop,
    wait_for_health,
)

PARAM = "peak_qps"
BAND = 6
"""Slider steps each session walks in; sessions on one pattern get disjoint bands."""
THINK_S = (3.0, 6.0)
MOVE_TIMEOUT_MS = 30_000
OPEN_BATCH = 5
"""Sessions opened at once while the class arrives (the timed phase starts when all are open)."""
P95_LIMIT = 2.0

ARM_JS = """(expected) => {
    const svgText = () => {
        const s = document.querySelector('[data-testid="stGraphVizChart"] svg');
        return s ? s.textContent : '';
    };
    const before = svgText();
    const lt = {t0: null, t1: null};
    window.__lt = lt;
    document.addEventListener('keydown', () => { if (lt.t0 === null) lt.t0 = performance.now(); },
                              {capture: true, once: true});
    const obs = new MutationObserver(() => {
        if (lt.t0 === null || lt.t1 !== null) return;
        const now = svgText();
        if (now !== before && now.includes(expected)) { lt.t1 = performance.now(); obs.disconnect(); }
    });
    obs.observe(document.querySelector('[data-testid="stApp"]'),
                {subtree: true, childList: true, characterData: true, attributes: false});
}"""

STATE_JS = """() => {
    const svg = document.querySelector('[data-testid="stGraphVizChart"] svg');
    const h1 = document.querySelector('h1');
    return {
        url: location.href,
        svg: svg ? svg.textContent : '',
        title: h1 ? h1.textContent : '',
        exceptions: document.querySelectorAll('[data-testid="stException"]').length,
    };
}"""

READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'


# --------------------------------------------------------------------------- plan

@dataclass(frozen=True)
class Plan:
    """One session's script: its pattern, its band of slider values and its seeded moves."""

    index: int
    pattern_id: str
    title: str
    label: str
    options: tuple[float, ...]
    integer: bool
    fmt: object
    low: int
    high: int
    start: int


def patterns_with_traffic() -> list:
    """Built-in patterns whose traffic slider is ``peak_qps`` on a log scale (the ones a class drags)."""
    out = []
    for path in builtin_paths():
        rp = load_pattern(path)
        q = next((p for p in rp.pattern.parameters if p.name == PARAM), None)
        if q is not None and slider_spec(q).kind == "log":
            out.append((rp, q))
    return out


def make_plans(n: int, seed: int) -> list[Plan]:
    """``n`` sessions round-robin over the patterns; the k-th session on a pattern walks band k."""
    found = patterns_with_traffic()
    rng = random.Random(seed)
    plans = []
    for i in range(n):
        rp, q = found[i % len(found)]
        spec = slider_spec(q)
        options = tuple(spec.options)
        bands = max(1, len(options) // BAND)
        k = (i // len(found)) % bands
        low, high = k * BAND, min(len(options), (k + 1) * BAND) - 1
        plans.append(Plan(index=i, pattern_id=rp.id, title=rp.pattern.title, label=spec.label, options=options,
                          integer=q.integer, fmt=spec.fmt, low=low, high=high, start=rng.randint(low, high)))
    return plans


# --------------------------------------------------------------------------- measurements

@dataclass
class Tally:
    """What one phase saw."""

    latencies_ms: list[float] = field(default_factory=list)
    run_ms: list[float] = field(default_factory=list)
    """Whole reruns (move sent → script finished; websocket client only)."""
    moves: int = 0
    errors: list[str] = field(default_factory=list)
    bleeds: list[str] = field(default_factory=list)


def query_of(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(url).query).items()}


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (``VmRSS`` in ``/proc/<pid>/status``), 0 once it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    m = re.search(r"^VmRSS:\s+(\d+)\s+kB", text, re.M)
    return int(m.group(1)) / 1024 if m else 0.0


def pss_mb(pid: int) -> float:
    """Proportional set size in MB (``Pss`` in ``/proc/<pid>/smaps_rollup``): shared pages are split among
    the processes sharing them, so a sum over many Chromium processes does not count them many times."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0.0
    m = re.search(r"^Pss:\s+(\d+)\s+kB", text, re.M)
    return int(m.group(1)) / 1024 if m else 0.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (``/proc/<pid>/stat``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the browser's renderers, GPU and utility processes)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0–1) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def servers_mb(pids: list[int]) -> float:
    """Resident memory of every replica together, in MB."""
    return sum(rss_mb(p) for p in pids)


class MemoryWatch:
    """Samples the replicas' summed RSS every half second while running."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.peak_mb = servers_mb(pids)
        self._task: asyncio.Task | None = None

    async def _loop(self) -> None:
        while True:
            self.peak_mb = max(self.peak_mb, servers_mb(self.pids))
            await asyncio.sleep(0.5)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


# --------------------------------------------------------------------------- one session

class Session:
    """One browser context on the Explore page, moving its pattern's Peak QPS slider."""

    def __init__(self, plan: Plan, browser, base_url: str, tally: Tally) -> None:
        self.plan = plan
        self.browser = browser
        self.context = None
        self.base_url = base_url
        self.tally = tally
        self.index = plan.start
        self.page = None
        self.rng = random.Random(plan.index * 7919 + 1)

    def _name(self) -> str:
        return f"session {self.plan.index} ({self.plan.pattern_id})"

    async def open(self) -> None:
        value = self.plan.options[self.index]
        self.context = await self.browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = await self.context.new_page()
        self.page.set_default_timeout(MOVE_TIMEOUT_MS)
        self.page.on("pageerror", lambda exc: self.tally.errors.append(f"{self._name()}: page error: {exc}"))
        url = f"{self.base_url}/?pattern={self.plan.pattern_id}&{PARAM}={number_text(value, self.plan.integer)}"
        await self.page.goto(url)
        await self.page.wait_for_selector(READY)
        await self.page.wait_for_selector('[data-testid="stGraphVizChart"] svg g.node')
        await self.check(value, "on open")

    async def close(self) -> None:
        if self.context is not None:
            await self.context.close()

    def _next_index(self) -> int:
        step = self.rng.choice((-1, 1))
        if not self.plan.low <= self.index + step <= self.plan.high:
            step = -step
        return self.index + step

    async def move(self) -> None:
        """One key press; its slider→diagram time, then the bleed and error checks."""
        page, plan = self.page, self.plan
        target = self._next_index()
        key = "ArrowRight" if target > self.index else "ArrowLeft"
        value = plan.options[target]
        slider = page.get_by_role("slider", name=plan.label)
        try:
            await slider.focus()
            await page.evaluate(ARM_JS, format_rate(value))
            await page.keyboard.press(key)
            await page.wait_for_function("() => window.__lt.t1 !== null", polling=50, timeout=MOVE_TIMEOUT_MS)
            t0, t1 = await page.evaluate("() => [window.__lt.t0, window.__lt.t1]")
            await page.wait_for_selector(READY)
        except Exception as exc:  # a move that never shows is an error, whatever the cause
            seen = query_of(page.url).get(PARAM)
            self.tally.errors.append(f"{self._name()}: {key} to {value:g} did not show within "
                                     f"{MOVE_TIMEOUT_MS / 1000:.0f} s (URL {PARAM}={seen}): "
                                     f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
            self.index = self._resync()
            return
        self.index = target
        self.tally.moves += 1
        self.tally.latencies_ms.append(t1 - t0)
        await self.check(value, f"after {key}")

    def _resync(self) -> int:
        seen = query_of(self.page.url).get(PARAM)
        for i, v in enumerate(self.plan.options):
            if seen is not None and number_text(v, self.plan.integer) == seen:
                return i
        return self.index

    async def check(self, value: float, when: str) -> None:
        """This session's URL, slider and diagram show its own pattern and value; no exception box."""
        plan = self.plan
        state = await self.page.evaluate(STATE_JS)
        shown = await self.page.get_by_role("slider", name=plan.label).get_attribute("aria-valuetext")
        query = query_of(state["url"])
        want = {"pattern": plan.pattern_id, PARAM: number_text(value, plan.integer)}
        got = {"pattern": query.get("pattern"), PARAM: query.get(PARAM)}
        problems = []
        if got != want:
            problems.append(f"URL {got} ≠ {want}")
        if shown != plan.fmt(value):
            problems.append(f"slider shows {shown!r} ≠ {plan.fmt(value)!r}")
        if format_rate(value) not in state["svg"]:
            problems.append(f"diagram lacks {format_rate(value)!r}")
        if state["title"] != plan.title:
            problems.append(f"title {state['title']!r} ≠ {plan.title!r}")
        if problems:
            self.tally.bleeds.append(f"{self._name()} {when}: " + "; ".join(problems))
        if state["exceptions"]:
            self.tally.errors.append(f"{self._name()} {when}: {state['exceptions']} stException box(es)")

    async def run_until(self, deadline: float) -> None:
        while True:
            think = self.rng.uniform(*THINK_S)
            if time.monotonic() + think >= deadline:
                return
            await asyncio.sleep(think)
            await self.move()


class WsSession:
    """One Streamlit session spoken to over its websocket (``/_stcore/stream``), as the page's own client does:
    a ``BackMsg`` asking for a rerun with the new slider value, ``ForwardMsg`` deltas back. No drawing, so
    slider→diagram is the server's part: from sending the move to receiving the diagram element showing the
    new request rate."""

    def __init__(self, plan: Plan, base_url: str, tally: Tally) -> None:
        self.plan = plan
        self.ws_url = base_url.replace("http://", "ws://") + "/_stcore/stream"
        self.tally = tally
        self.index = plan.start
        self.rng = random.Random(plan.index * 7919 + 1)
        self.ws = None
        self.page_hash = ""
        self.query = ""
        self.slider_id = ""
        self.widgets: dict[str, tuple[str, object]] = {}
        """Widget id → (WidgetState field, value): what the page's client sends back with every rerun."""

    def _name(self) -> str:
        return f"session {self.plan.index} ({self.plan.pattern_id})"

    async def open(self) -> None:
        value = self.plan.options[self.index]
        self.ws = await connect(self.ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=60)
        msg = BackMsg()
        msg.rerun_script.query_string = f"pattern={self.plan.pattern_id}&{PARAM}={number_text(value, self.plan.integer)}"
        msg.rerun_script.page_script_hash = ""
        await self.ws.send(msg.SerializeToString())
        run = await self._read_run(value, time.perf_counter())
        self._check(value, run, "on open")

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    def _next_index(self) -> int:
        step = self.rng.choice((-1, 1))
        if not self.plan.low <= self.index + step <= self.plan.high:
            step = -step
        return self.index + step

    async def _read_run(self, value: float, t0: float) -> dict:
        """ForwardMsgs until the script run finishes: what this session was shown, and when the diagram came."""
        run = {"diagram_ms": None, "diagram": "", "slider": None, "title": None, "exceptions": 0, "status": None}
        want = format_rate(value)
        async with asyncio.timeout(MOVE_TIMEOUT_MS / 1000):
            while True:
                fwd = ForwardMsg()
                fwd.ParseFromString(await self.ws.recv())
                kind = fwd.WhichOneof("type")
                if kind == "new_session":
                    self.page_hash = fwd.new_session.page_script_hash
                elif kind == "page_info_changed":
                    self.query = fwd.page_info_changed.query_string
                elif kind == "script_finished":
                    run["status"] = fwd.script_finished
                    if fwd.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        run["run_ms"] = (time.perf_counter() - t0) * 1000
                        return run
                elif kind == "ref_hash":
                    raise RuntimeError("the server sent a cached-message reference this client cannot follow")
                elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                    el = fwd.delta.new_element
                    which = el.WhichOneof("type")
                    self._remember(el, which)
                    if which == "graphviz_chart":
                        run["diagram"] = el.graphviz_chart.spec
                        if run["diagram_ms"] is None and want in el.graphviz_chart.spec:
                            run["diagram_ms"] = (time.perf_counter() - t0) * 1000
                    elif which == "slider" and el.slider.id.endswith(f":{self.plan.pattern_id}:{PARAM}"):
                        self.slider_id = el.slider.id
                        run["slider"] = list(el.slider.raw_value)
                    elif which == "heading" and run["title"] is None:
                        run["title"] = el.heading.body
                    elif which == "exception":
                        run["exceptions"] += 1

    def _remember(self, el, which: str | None) -> None:
        """Keep the value a widget shows, as the client would send it back (sliders, selects, radios, text)."""
        if which == "slider":
            w = el.slider
            if w.raw_value:  # a select_slider (or a slider whose value the script set)
                self.widgets[w.id] = ("string_array_value", list(w.raw_value))
            elif w.id not in self.widgets:
                self.widgets[w.id] = ("double_array_value", list(w.value) if w.set_value else list(w.default))
        elif which in ("selectbox", "radio"):
            w = getattr(el, which)
            if w.set_value:
                self.widgets[w.id] = ("string_value", w.raw_value)
            elif w.id not in self.widgets and w.HasField("default") and 0 <= w.default < len(w.options):
                self.widgets[w.id] = ("string_value", w.options[w.default])
        elif which == "text_input":
            w = el.text_input
            if w.set_value or w.id not in self.widgets:
                self.widgets[w.id] = ("string_value", w.value if w.set_value else w.default)

    def _widget_states(self, msg: BackMsg) -> None:
        for wid, (kind, value) in self.widgets.items():
            state = msg.rerun_script.widget_states.widgets.add()
            state.id = wid
            if kind == "string_value":
                state.string_value = value
            else:
                getattr(state, kind).data.extend(value)

    async def move(self) -> None:
        """One slider step sent as the browser sends it; its slider→diagram time, then the checks."""
        plan = self.plan
        target = self._next_index()
        value = plan.options[target]
        msg = BackMsg()
        msg.rerun_script.query_string = self.query
        msg.rerun_script.page_script_hash = self.page_hash
        self.widgets[self.slider_id] = ("string_array_value", [plan.fmt(value)])
        self._widget_states(msg)
        try:
            t0 = time.perf_counter()
            await self.ws.send(msg.SerializeToString())
            run = await self._read_run(value, t0)
        except Exception as exc:  # a move that never shows is an error, whatever the cause
            self.tally.errors.append(f"{self._name()}: move to {value:g} did not finish within "
                                     f"{MOVE_TIMEOUT_MS / 1000:.0f} s: {type(exc).__name__}: {exc}")
            raise
        self.index = target
        self.tally.moves += 1
        self.tally.run_ms.append(run["run_ms"])
        if run["diagram_ms"] is not None:
            self.tally.latencies_ms.append(run["diagram_ms"])
        self._check(value, run, "after a move")

    def _check(self, value: float, run: dict, when: str) -> None:
        """What the server sent this session shows its own pattern and value; no exception, a finished run."""
        plan = self.plan
        query = {k: v[-1] for k, v in parse_qs(self.query).items()}
        want = {"pattern": plan.pattern_id, PARAM: number_text(value, plan.integer)}
        got = {"pattern": query.get("pattern"), PARAM: query.get(PARAM)}
        problems = []
        if got != want:
            problems.append(f"URL {got} ≠ {want}")
        if run["slider"] is None:
            problems.append("no slider for this pattern's traffic")
        elif run["slider"] and run["slider"] != [plan.fmt(value)]:  # empty: the client's own value stands
            problems.append(f"slider shows {run['slider']} ≠ {[plan.fmt(value)]}")
        if format_rate(value) not in run["diagram"]:
            problems.append(f"diagram lacks {format_rate(value)!r}")
        if run["title"] != plan.title:
            problems.append(f"title {run['title']!r} ≠ {plan.title!r}")
        if problems:
            self.tally.bleeds.append(f"{self._name()} {when}: " + "; ".join(problems))
        if run["exceptions"]:
            self.tally.errors.append(f"{self._name()} {when}: {run['exceptions']} exception element(s)")
        if run["status"] not in (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
            self.tally.errors.append(f"{self._name()} {when}: script finished with status {run['status']}")

    async def run_until(self, deadline: float) -> None:
        try:
            while True:
                think = self.rng.uniform(*THINK_S)
                if time.monotonic() + think >= deadline:
                    return
                await asyncio.sleep(think)
                await self.move()
        except Exception:  # noqa: S110 - already counted as an error by move(); this session stops
            pass


# --------------------------------------------------------------------------- phases

def new_session(client: str, browser, plan: Plan, base_url: str, tally: Tally):
    """A browser session (``client="browser"``) or a websocket-protocol one (``"ws"``)."""
    if client == "browser":
        return Session(plan, browser, base_url, tally)
    return WsSession(plan, base_url, tally)


async def single_session(client: str, browser, base_url: str, plans: list[Plan], moves_each: int) -> Tally:
    """One session alone: ``moves_each`` moves on each pattern, one pattern after the other."""
    tally = Tally()
    seen: set[str] = set()
    for plan in plans:
        if plan.pattern_id in seen:
            continue
        seen.add(plan.pattern_id)
        s = new_session(client, browser, plan, base_url, tally)
        try:
            await s.open()
            for _ in range(moves_each):
                await asyncio.sleep(0.5)
                await s.move()
        finally:
            await s.close()
    return tally


async def class_load(client: str, browser, base_urls: list[str], plans: list[Plan],
                     seconds: float) -> tuple[Tally, float]:
    """Every planned session open at once, each moving its slider until the deadline; (tally, open seconds).
    Session i stays on replica ``i % len(base_urls)`` (sticky, as a proxy with session affinity keeps it)."""
    tally = Tally()
    sessions = [new_session(client, browser, p, base_urls[p.index % len(base_urls)], tally) for p in plans]
    opened_ok = []
    t_open = time.monotonic()
    try:
        for i in range(0, len(sessions), OPEN_BATCH):
            batch = sessions[i:i + OPEN_BATCH]
            results = await asyncio.gather(*(s.open() for s in batch), return_exceptions=True)
            for s, r in zip(batch, results, strict=True):
                if isinstance(r, Exception):
                    tally.errors.append(f"{s._name()}: did not open: {type(r).__name__}: {str(r).splitlines()[0]}")
                else:
                    opened_ok.append(s)
        opened = time.monotonic() - t_open
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(s.run_until(deadline) for s in opened_ok))
    finally:
        for s in sessions:
            await s.close()
    return tally, opened


def server_log_errors(log_path: Path) -> list[str]:
    lines = log_path.read_text(errors="replace").splitlines()
    return [ln for ln in lines if "Traceback" in ln or re.search(r"\bError\b", ln)]


async def main_async(client: str, n: int, seconds: float, seed: int, moves_each: int, replicas: int) -> int:
    from playwright.async_api import async_playwright  # optional: only the browser client needs it

    plans = make_plans(n, seed)
    workdir = Path(tempfile.mkdtemp(prefix="loadtest-"))
    servers = []  # (process, port, log path): the replicas, each its own process
    try:
        for r in range(replicas):
            port, log_path = free_port(), workdir / f"streamlit-{r}.log"
            servers.append((start_streamlit(ROOT / "app.py", port, log_path,
                                            env={"ARCH_EXPLORER_USER_DIR": str(workdir / "user_patterns")}),
                            port, log_path))
        for proc, port, log_path in servers:
            wait_for_health(port, proc, log_path)
        pids = [proc.pid for proc, _, _ in servers]
        base_urls = [f"http://127.0.0.1:{port}" for _, port, _ in servers]
        base_url = base_urls[0]
        mem_start = servers_mb(pids)
        watch = MemoryWatch(pids)
        watch.start()
        async with contextlib.AsyncExitStack() as stack:
            browser = None
            if client == "browser":
                pw = await stack.enter_async_context(async_playwright())
                browser = await pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
                stack.push_async_callback(browser.close)
            patterns = len({p.pattern_id for p in plans})
            print(f"[{client}] single session: {moves_each} moves on each of {patterns} patterns …", flush=True)
            single = await single_session(client, browser, base_url, plans, moves_each)
            mem_single = servers_mb(pids)
            print(f"[{client}] {n} sessions for {seconds:.0f} s …", flush=True)
            cpu0, own0, wall0 = sum(map(cpu_s, pids)), cpu_s(os.getpid()), time.monotonic()
            load_task = asyncio.create_task(class_load(client, browser, base_urls, plans, seconds))
            client_mb = 0.0
            while not load_task.done():
                await asyncio.sleep(2.0)
                client_mb = max(client_mb, browser_mb(pids) + pss_mb(os.getpid()))
            load, opened = await load_task
            server_cpu, own_cpu = sum(map(cpu_s, pids)) - cpu0, cpu_s(os.getpid()) - own0
            wall = time.monotonic() - wall0
            mem_load_end = servers_mb(pids)
            print(f"[{client}] single session again (warm caches) …", flush=True)
            after = await single_session(client, browser, base_url, plans, moves_each)
        await asyncio.sleep(5.0)
        mem_end = servers_mb(pids)
        await watch.stop()
        log_errors = [f"{log_path.name}: {ln}" for _, _, log_path in servers for ln in server_log_errors(log_path)]
    finally:
        for proc, _, _ in servers:
            stop(proc)

    errors = single.errors + load.errors + after.errors + [f"server log: {ln}" for ln in log_errors]
    bleeds = single.bleeds + load.bleeds + after.bleeds
    phases = {"single": single, f"{n} sessions": load, "single again": after}
    p95 = {k: pct(t.latencies_ms, 0.95) for k, t in phases.items()}
    ratio = p95[f"{n} sessions"] / p95["single"] if p95["single"] > 0 else float("inf")
    ratio_warm = p95[f"{n} sessions"] / p95["single again"] if p95["single again"] > 0 else float("inf")
    rows = [
        ("moves", lambda t: str(t.moves)),
        ("errors", lambda t: str(len(t.errors) + (len(log_errors) if t is load else 0))),
        ("bleed", lambda t: str(len(t.bleeds))),
        ("p50 slider→diagram ms", lambda t: f"{pct(t.latencies_ms, 0.5):.0f}"),
        ("p95 slider→diagram ms", lambda t: f"{pct(t.latencies_ms, 0.95):.0f}"),
        ("max slider→diagram ms", lambda t: f"{max(t.latencies_ms, default=float('nan')):.0f}"),
    ]
    if client == "ws":  # a browser page does not see where the server's run ends
        rows += [("p50 whole rerun ms", lambda t: f"{pct(t.run_ms, 0.5):.0f}"),
                 ("p95 whole rerun ms", lambda t: f"{pct(t.run_ms, 0.95):.0f}")]
    print()
    print(f"client: {client} ({'Chromium pages' if client == 'browser' else 'Streamlit websocket protocol'}), "
          f"{n} sessions on {replicas} replica(s), {seconds:.0f} s, think {THINK_S[0]:.0f}–{THINK_S[1]:.0f} s, seed {seed}")
    print(f"{'':24}" + "".join(f"{k:>15}" for k in phases))
    for name, cell in rows:
        print(f"{name:24}" + "".join(f"{cell(t):>15}" for t in phases.values()))
    print(f"p95 load / single: {ratio:.2f}× (limit {P95_LIMIT:.0f}×); against the warm single run: {ratio_warm:.2f}×")
    print(f"server RSS MB{' (replicas summed)' if replicas > 1 else ''}: start {mem_start:.0f}, after single {mem_single:.0f}, peak {watch.peak_mb:.0f}, "
          f"end of load {mem_load_end:.0f}, end {mem_end:.0f}")
    print(f"server CPU during the load phase: {server_cpu:.1f} s in {wall:.0f} s ({server_cpu / wall:.2f} cores); "
          f"load client CPU {own_cpu:.1f} s; opening the {n} sessions took {opened:.0f} s")
    print(f"load client memory (PSS, incl. any browser) peak {client_mb:.0f} MB")
    print(f"moves per session: {load.moves / n:.1f} in {seconds:.0f} s")
    for line in (errors + bleeds)[:20]:
        print("  " + line)
    if len(errors) + len(bleeds) > 20:
        print(f"  … {len(errors) + len(bleeds) - 20} more")
    failed = bool(errors or bleeds or not load.latencies_ms or not ratio <= P95_LIMIT)
    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


def browser_mb(server_pids: list[int]) -> float:
    """Proportional memory of everything this process started except the server: Playwright's driver and
    the Chromium processes under it (browser, renderers, utilities)."""
    server = {q for pid in server_pids for q in (pid, *descendants(pid))}
    return sum(pss_mb(p) for p in descendants(os.getpid()) if p not in server)


def main() -> int:
    client = os.environ.get("LOAD_CLIENT", "ws")
    if client not in ("ws", "browser"):
        print(f"LOAD_CLIENT={client!r} is not a client; choose ws or browser", file=sys.stderr)
        return 2
    reason = browser_unavailable() if client == "browser" else None
    if reason:
        print(f"loadtest cannot run: {reason}", file=sys.stderr)
        return 2
    n = int(os.environ.get("LOAD_SESSIONS", "50"))
    seconds = float(os.environ.get("LOAD_SECONDS", "60"))
    seed = int(os.environ.get("LOAD_SEED", "1"))
    moves_each = int(os.environ.get("LOAD_SINGLE_MOVES", "3"))
    replicas = int(os.environ.get("LOAD_REPLICAS", "1"))
    return asyncio.run(main_async(client, n, seconds, seed, moves_each, replicas))


if __name__ == "__main__":
    sys.exit(main())
