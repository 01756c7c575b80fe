"""Every exported Mermaid diagram parses and renders in the real Mermaid, in headless Chromium.

Mermaid comes from the npm registry (``tests/mermaid/package.json``, installed
by ``make test`` with ``npm ci --prefix tests/mermaid``); Chromium is Debian's
(``/usr/bin/chromium``). Without them the tests skip and say how to enable
them; with ``CI=true`` they fail instead.

Besides "no parse error", each rendered diagram is checked for what a reader
sees: every component's label shows as typed (quotes, ``<script>``, entity
codes, non-Latin text, emoji), no script ran, nothing active was created, the
legend names every status, and no tier title is covered by an edge label or a node.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from pathlib import Path

import pytest

from explorer.engine.analysis import analyse
from explorer.model.loader import builtin_paths, load_pattern, load_pattern_text
from explorer.render.mermaid import to_mermaid, view_ids, view_nodes
from explorer.render.styles import STATUS_STYLES, UTIL_SCALE, DrawOptions
from tests.conftest import CHROMIUM_ARGS, browser_unavailable, chromium_path

ROOT = Path(__file__).resolve().parent.parent
MERMAID_DIR = ROOT / "tests" / "mermaid"
MERMAID_JS = MERMAID_DIR / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
HOSTILE = ROOT / "tests" / "fixtures" / "hostile" / "hostile_labels.yaml"
def missing() -> str | None:
    """Why the browser check cannot run here (None when it can)."""
    reason = browser_unavailable()
    if reason:
        return reason
    if not MERMAID_JS.exists():
        return "the mermaid npm package is missing: run `npm ci --prefix tests/mermaid` (make test does it when node is present)"
    return None


def _cases() -> list[tuple[str, Path, str, dict]]:
    cases = [(f"{p.stem}-overview", p, "overview", {}) for p in builtin_paths()]
    cases.append(("two_stage_recommender-serving", ROOT / "architectures" / "two_stage_recommender.yaml", "serving", {}))
    cases.append(("two_stage_recommender-offline", ROOT / "architectures" / "two_stage_recommender.yaml", "offline", {}))
    cases.append(("two_stage_recommender-saturated", ROOT / "architectures" / "two_stage_recommender.yaml", "overview",
                  {"values": {"peak_qps": 2_000_000}}))
    cases += [(f"hostile-{v}", HOSTILE, v, {}) for v in ("overview", "serving", "offline")]
    cases.append(("hostile-dark-selected", HOSTILE, "overview", {"theme": "dark", "selected": "end"}))
    cases.append(("hostile-uncoloured", HOSTILE, "overview", {"colored": False}))
    cases.append(("hostile-no-report", HOSTILE, "overview", {"report": False}))
    cases.append(("hostile-svg-labels", HOSTILE, "overview", {"html_labels": False}))
    cases += [(f"{p.stem}-autosize", p, "overview", {"mode": "autosize"}) for p in builtin_paths()]
    return cases


CASES = _cases()

DIRECTIVE = "%%{init: {'theme':'dark', 'themeVariables': {'primaryColor':'#ff0000'}}}%%"
"""A label that would switch Mermaid's theme if it reached Mermaid as a directive."""


def _directive_texts() -> dict[str, str]:
    """The same pattern with a plain label and with a directive (and a %% comment) as labels."""
    source = (ROOT / "architectures" / "two_stage_recommender.yaml").read_text(encoding="utf-8")
    out = {}
    for name, api, store in (("plain", "Recommendation API", "User features"),
                             ("directive", DIRECTIVE, "%% a comment %%")):
        text = source.replace("label: Recommendation API", f'label: "{api}"', 1) \
                     .replace("label: User features", f'label: "{store}"', 1)
        rp = load_pattern_text(text)
        out[f"directive-{name}"] = to_mermaid(rp, analyse(rp))
    return out

RENDER_JS = """
async ([text, id, htmlLabels]) => {
  window.__alerts = 0;
  window.alert = () => { window.__alerts += 1; };
  mermaid.initialize({startOnLoad: false, securityLevel: 'strict', htmlLabels: htmlLabels,
                      flowchart: {htmlLabels: htmlLabels}});
  try {
    await mermaid.parse(text);
  } catch (e) {
    return {error: 'parse: ' + (e && e.message ? e.message : String(e))};
  }
  let svg;
  try {
    svg = (await mermaid.render(id, text)).svg;
  } catch (e) {
    return {error: 'render: ' + (e && e.message ? e.message : String(e))};
  }
  const host = document.getElementById('out');
  host.innerHTML = svg;
  await new Promise(r => setTimeout(r, 30));   // let any injected handler fire
  const root = host.querySelector('svg');
  const active = [];
  for (const el of root.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (tag === 'script' || tag === 'iframe' || tag === 'img' || tag === 'object') active.push(tag);
    for (const a of el.attributes) {
      if (a.name.toLowerCase().startsWith('on')) active.push(tag + '@' + a.name);
      if (/^\\s*javascript:/i.test(a.value)) active.push(tag + '@' + a.name + '=' + a.value);
    }
  }
  const texts = Array.from(root.querySelectorAll('g.node')).map(g => g.textContent);
  const edgeTexts = Array.from(root.querySelectorAll('g.edgeLabel')).map(g => g.textContent);
  const clusterTexts = Array.from(root.querySelectorAll('g.cluster')).map(g => g.textContent);
  const style = Array.from(root.querySelectorAll('style')).map(el => el.textContent).join(' ').split(id).join('ID');
  const box = el => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, r.width * r.height]; };
  const titles = Array.from(root.querySelectorAll('g.cluster-label')).map(el => [el.textContent, box(el)]);
  const others = Array.from(root.querySelectorAll('g.node, g.edgeLabel')).map(el => [el.textContent, box(el)]);
  const overlaps = [];
  for (const [t, a] of titles) for (const [o, b] of others) {
    if (!a[4] || !b[4]) continue;
    const ox = Math.min(a[2], b[2]) - Math.max(a[0], b[0]), oy = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
    if (ox > 1 && oy > 1) overlaps.push(t + ' / ' + o);
  }
  const result = {style, nodes: root.querySelectorAll('g.node').length,
                  edges: root.querySelectorAll('.edgePaths path, path.flowchart-link').length,
                  clusters: root.querySelectorAll('g.cluster').length,
                  texts, edgeTexts, clusterTexts, active, overlaps, alerts: window.__alerts};
  host.innerHTML = '';
  return result;
}
"""


def _text_of(case) -> tuple[str, object]:
    _, path, view, opts = case
    rp = load_pattern(path)
    report = None if opts.get("report") is False else analyse(rp, opts.get("values"), opts.get("mode", "provisioned"))
    text = to_mermaid(rp, report, DrawOptions(view=view, selected=opts.get("selected"),
                                              theme=opts.get("theme", "light"), colored=opts.get("colored", True)))
    return text, rp


@pytest.fixture(scope="module")
def rendered():
    """Render every case in one headless Chromium (in its own thread, so it never meets another event loop)."""
    reason = missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the Mermaid browser check cannot run: {reason}")
        pytest.skip(reason)
    texts = {case[0]: _text_of(case)[0] for case in CASES}
    extra = _directive_texts()
    results: dict[str, dict] = {}
    failure: list[BaseException] = []

    def work() -> None:
        from playwright.sync_api import sync_playwright
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
                try:
                    page = browser.new_page()
                    page.set_content("<!doctype html><html><head><meta charset='utf-8'></head>"
                                     "<body><div id='out'></div></body></html>")
                    page.add_script_tag(path=str(MERMAID_JS))
                    for i, case in enumerate(CASES):
                        html_labels = case[3].get("html_labels", True)
                        results[case[0]] = page.evaluate(RENDER_JS, [texts[case[0]], f"m{i}", html_labels])
                    for i, (name, text) in enumerate(extra.items()):
                        results[name] = page.evaluate(RENDER_JS, [text, f"d{i}", True])
                finally:
                    browser.close()
        except BaseException as exc:  # noqa: BLE001 - reported in the test thread
            failure.append(exc)

    thread = threading.Thread(target=work, name="mermaid-browser")
    thread.start()
    thread.join(timeout=300)
    if thread.is_alive():
        pytest.fail("the Mermaid browser check did not finish within 300 s")
    if failure:
        raise failure[0]
    return results


def _squash(text: str, spaces: bool) -> str:
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf") or ch in "\n\t")
    return re.sub(r"\s+", " " if spaces else "", text).strip()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_mermaid_parses_and_renders(rendered, case):
    result = rendered[case[0]]
    assert "error" not in result, result.get("error")
    text, rp = _text_of(case)
    nodes = view_nodes(rp, case[2])
    legend = len(re.findall(r"^    legend_\d+\[", text, flags=re.M))
    has_legend = case[3].get("report") is not False
    assert (legend > 0) == has_legend
    assert result["nodes"] == len(nodes) + legend
    assert result["clusters"] == len({rp.graph.nodes[n]["tier"] for n in nodes}) + has_legend
    assert not result["active"] and result["alerts"] == 0


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_no_label_is_laid_over_a_tier_title(rendered, case):
    result = rendered[case[0]]
    assert "error" not in result, result.get("error")
    assert result["overlaps"] == []


def test_the_legend_names_every_status(rendered):
    result = rendered["two_stage_recommender-saturated"]
    assert "Legend" in result["clusterTexts"]
    shown = result["texts"]
    for style in STATUS_STYLES.values():
        assert style.label in shown, style.status
    for _, _, text in UTIL_SCALE:
        assert f"ρ {text}" in shown


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_rendered_labels_show_as_typed(rendered, case):
    result = rendered[case[0]]
    assert "error" not in result, result.get("error")
    _, rp = _text_of(case)
    html_labels = case[3].get("html_labels", True)
    shown = _squash(" ".join(result["texts"]), html_labels)
    for n in view_nodes(rp, case[2]):
        for line in rp.graph.nodes[n]["label"].splitlines():
            assert _squash(line, html_labels) in shown, (n, line)
    if html_labels:
        edge_labels = _squash(" ".join(result["edgeTexts"]), True)
        for u, v, data in rp.graph.edges(data=True):
            label = data["connection"].label
            if label and u in view_nodes(rp, case[2]) and v in view_nodes(rp, case[2]):
                for line in label.splitlines():
                    assert _squash(line, True) in edge_labels, (u, v, line)


def test_hostile_text_is_text(rendered):
    result = rendered["hostile-overview"]
    shown = " ".join(result["texts"])
    assert 'User\'s "browser" <script>alert(1)</script>' in shown
    assert "Cache | pipe | `code` #quot; #35; &amp; %%" in shown
    assert "end --> ]] ;; :::hot 日本語 العربية 🚀🔥" in shown
    edges = " ".join(result["edgeTexts"])
    assert "<script>alert(3)</script>" in edges and "#quot; & &amp;" in edges


def test_every_view_of_the_hostile_pattern_is_covered():
    rp = load_pattern(HOSTILE)
    assert {c[2] for c in CASES if c[1] == HOSTILE} == set(view_ids(rp))



def test_a_directive_in_a_label_changes_nothing(rendered):
    plain, hostile = rendered["directive-plain"], rendered["directive-directive"]
    assert "error" not in hostile, hostile.get("error")
    assert hostile["style"] == plain["style"], "the label's %%{init}%% reached Mermaid as a directive"
    assert "#ff0000" not in hostile["style"].lower()
    assert (hostile["nodes"], hostile["edges"], hostile["clusters"]) == (plain["nodes"], plain["edges"], plain["clusters"])
    shown = " ".join(hostile["texts"])
    assert DIRECTIVE in shown and "%% a comment %%" in shown  # shown as typed
