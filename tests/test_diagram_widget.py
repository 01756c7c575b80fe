"""What the interactive diagram is given: the DOT (laid out in the browser) or the page-ready SVG (the
server's fallback), the hover cards of every node and edge, the components outlined on Compare and Study,
the page sending the source only when the browser lacks it, and the vendored Graphviz with its licence."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from explorer.engine.analysis import analyse
from explorer.export import render_dot
from explorer.model import library
from explorer.model.loader import builtin_paths, load_pattern
from explorer.render import diagram
from explorer.render.diagram_data import hotspots, node_lines, page_svg, svg_key
from explorer.render.styles import DrawOptions
from explorer.study import compare
from explorer.study.diagram_focus import STEP_NOTES, changed_components, step_components
from explorer.study.practice import STEPS
from explorer.units import format_percent, format_rate
from pages.diagram_widget import LAYOUT_ENV, STATIC, VENDOR, VIZ_URL_PATH, drawn_key
from tests.apptest import run_app
from tests.generated import generated_pattern

PATTERNS = builtin_paths()
IDS = [p.stem for p in PATTERNS]
SVG_NS = "{http://www.w3.org/2000/svg}"


def _svg_of(rp, report, options=DrawOptions()) -> str:
    return page_svg(render_dot(diagram.to_dot(rp, report, options), "svg"))


def _group_ids(svg: str, cls: str) -> set[str]:
    root = ET.fromstring(svg)
    return {g.get("id") for g in root.iter(f"{SVG_NS}g") if cls in (g.get("class") or "").split()}


@pytest.fixture(scope="module")
def two_stage():
    rp = library.load("two_stage_recommender")
    return rp, analyse(rp)


# --------------------------------------------------------------------------- the SVG

def test_page_svg_has_no_prolog_no_native_tooltips_and_stays_well_formed(two_stage):
    rp, report = two_stage
    raw = render_dot(diagram.to_dot(rp, report), "svg").decode("utf-8")
    assert "<title>" in raw and "xlink:title" in raw and raw.startswith("<?xml")  # what Graphviz gives
    svg = page_svg(raw)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<title>" not in svg and "xlink:title" not in svg and "<!--" not in svg
    root = ET.fromstring(svg)  # still well-formed
    descs = [d.text for d in root.iter(f"{SVG_NS}desc")]
    assert "ranker" in descs  # the node's name is kept for screen readers
    assert _group_ids(svg, "node") == {f"node_{n}" for n in rp.graph.nodes}


def test_svg_key_names_the_content():
    assert svg_key("<svg/>") == svg_key("<svg/>")
    assert svg_key("<svg/>") != svg_key("<svg />")
    assert re.fullmatch(r"[0-9a-f]{16}", svg_key("<svg/>"))


@pytest.mark.parametrize("path", PATTERNS, ids=IDS)
def test_every_drawn_node_and_edge_has_a_card_and_every_card_is_drawn(path):
    rp = load_pattern(path)
    report = analyse(rp)
    for view in diagram.views(rp):
        svg = _svg_of(rp, report, DrawOptions(view=view.id))
        drawn = _group_ids(svg, "node") | _group_ids(svg, "edge")
        spots = hotspots(rp, report, view.id)
        assert set(spots) == drawn, (view.id, set(spots) ^ drawn)
        for sid, spot in spots.items():
            assert spot["title"] and spot["lines"], sid
            if spot["kind"] == "node":
                assert spot["id"] == sid.removeprefix("node_")
            else:
                assert spot["id"] is None


# --------------------------------------------------------------------------- the cards

def test_a_node_card_reads_status_utilisation_p99_size_traffic_and_cost(two_stage):
    rp, report = two_stage
    c = report.components["ranker"]
    card = hotspots(rp, report)["node_ranker"]
    text = "\n".join(card["lines"])
    assert card["title"] == f"{c.label} (ranker)"
    assert "Status:" in text and "Utilisation ρ" in text
    assert f"(target {format_percent(report.target_utilization)})" in text
    assert "p99 " in text and "Size:" in text and "Traffic:" in text and "/month" in text
    assert node_lines(c, report.target_utilization) == card["lines"][1:]


def test_a_saturated_node_says_so_and_an_edge_card_carries_the_drawn_traffic():
    rp = library.load("two_stage_recommender")
    report = analyse(rp, {**rp.defaults(), "peak_qps": 200_000})
    spots = hotspots(rp, report)
    saturated = [c.id for c in report.components.values() if c.saturated]
    assert saturated
    assert any("∞ (saturated)" in line for line in spots[f"node_{saturated[0]}"]["lines"])
    dot = diagram.to_dot(rp, report)
    for er in report.edges:
        card = spots[f"edge_{er.index}"]
        rate = format_rate(diagram.edge_traffic(rp, report, er))
        assert any(line.startswith(f"{rate} calls") for line in card["lines"]), (er.index, card)
        assert rate in dot  # the same figure as the drawn label
        assert (("On the critical path" in card["lines"]) == er.on_critical_path)


def test_without_a_report_the_cards_give_no_figures_away(two_stage):
    rp, _ = two_stage
    for spot in hotspots(rp, None).values():
        text = " ".join(spot["lines"])
        for figure in ("Utilisation", "p99", "calls", "/month", "Status"):
            assert figure not in text, (spot, figure)


def test_a_collapsed_view_has_one_card_per_group_and_nothing_to_select():
    rp = generated_pattern(diagram.MAX_DETAILED_NODES + 30)
    report = analyse(rp)
    spots = hotspots(rp, report)
    assert spots and all(sid.startswith("node_group__") for sid in spots)
    assert all(s["id"] is None for s in spots.values())
    assert sum(int(s["lines"][0].split()[0]) for s in spots.values()) == len(rp.pattern.components)


# --------------------------------------------------------------------------- outlines

def test_compare_outlines_what_changed_and_nothing_when_nothing_did():
    same = compare.compare_sides(compare.Side("two_stage_recommender"), compare.Side("two_stage_recommender"),
                                 library.load)
    assert changed_components(same) == ((), ())
    cmp = compare.compare_sides(compare.Side("two_stage_recommender", {"candidates": 500}),
                                compare.Side("two_stage_recommender", {"candidates": 2000}), library.load)
    a, b = changed_components(cmp)
    assert a == b and "ranker" in a
    for cid in a:
        row = cmp.row(cid)
        assert row.status_a != row.status_b or any(row.delta[k] not in (None, 0) for k in row.delta)


def test_compare_outlines_the_components_only_one_side_has():
    cmp = compare.compare_sides(compare.Side("two_stage_recommender"), compare.Side("batch_vs_online_prediction"),
                                library.load)
    a, b = changed_components(cmp)
    assert set(cmp.only_a) <= set(a) and set(cmp.only_b) <= set(b)
    assert not set(cmp.only_b) & set(a)


@pytest.mark.parametrize("path", PATTERNS, ids=IDS)
def test_every_steps_components_are_the_patterns_and_serving_is_the_critical_path(path):
    rp = load_pattern(path)
    report = analyse(rp)
    for step in [s.key for s in STEPS] + ["talking_points"]:
        ids = step_components(rp, report, step)
        assert set(ids) <= set(rp.graph.nodes), step
        assert step in STEP_NOTES
    if report.end_to_end is not None:
        assert set(step_components(rp, report, "serving")) == set(report.end_to_end.critical_path)
        assert report.end_to_end.entry in step_components(rp, report, "requirements")


def test_model_step_outlines_the_ranker_and_an_unknown_step_nothing(two_stage):
    rp, report = two_stage
    assert "ranker" in step_components(rp, report, "model")
    assert step_components(rp, report, "no_such_step") == ()


# --------------------------------------------------------------------------- the page

def _widget_data(at) -> dict:
    widgets = at.get("bidi_component")
    assert len(widgets) == 1 and widgets[0].proto.component_name == "arch_explorer_diagram"
    return json.loads(widgets[0].proto.json)


def test_explore_sends_the_dot_once_then_only_its_key_until_it_changes(monkeypatch, tmp_path):
    monkeypatch.setenv("ARCH_EXPLORER_USER_DIR", str(tmp_path / "user"))
    monkeypatch.delenv(LAYOUT_ENV, raising=False)
    at = run_app({"pattern": "two_stage_recommender"})
    first = _widget_data(at)
    dot = at.session_state[drawn_key("explore:two_stage_recommender:diagram")]
    assert first["source_kind"] == "dot" and first["source"] == dot and dot.startswith("digraph")
    assert first["source_key"] == f"dot-{svg_key(dot)}"
    assert first["viz_url"] == f"/{VIZ_URL_PATH}" and first["viz_url"].endswith("/viz.js")
    assert first["selectable"] and "node_ranker" in first["spots"]
    at.run()  # same scenario: the browser holds it
    again = _widget_data(at)
    assert again["source"] is None and again["source_key"] == first["source_key"]
    at.selectbox(key="explore:two_stage_recommender:selected").set_value("ranker").run()
    picked = _widget_data(at)
    assert picked["source"] is not None and picked["source_key"] != first["source_key"]
    assert 'class="component' in picked["source"] and "selected" in picked["source"]
    # a browser that lost it asks ("missing" drops the key from what was sent): the next run sends it again
    at.session_state["explore:two_stage_recommender:diagram:sent"] = set()
    at.run()
    assert _widget_data(at)["source"] is not None


def test_a_failed_browser_layout_switches_the_session_to_the_servers_svg(monkeypatch, tmp_path):
    monkeypatch.setenv("ARCH_EXPLORER_USER_DIR", str(tmp_path / "user"))
    monkeypatch.delenv(LAYOUT_ENV, raising=False)
    at = run_app({"pattern": "two_stage_recommender"})
    assert _widget_data(at)["source_kind"] == "dot"
    at.session_state["explore:two_stage_recommender:diagram:server_layout"] = "no WebAssembly"
    at.run()
    data = _widget_data(at)
    assert data["source_kind"] == "svg" and data["viz_url"] == ""
    assert data["source"].startswith("<svg") and data["source_key"] == svg_key(data["source"])
    at.run()
    assert _widget_data(at)["source"] is None  # sent once, like the DOT


def test_the_server_layout_can_be_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("ARCH_EXPLORER_USER_DIR", str(tmp_path / "user"))
    monkeypatch.setenv(LAYOUT_ENV, "server")
    at = run_app({"pattern": "two_stage_recommender"})
    data = _widget_data(at)
    assert data["source_kind"] == "svg" and "<title>" not in data["source"]


def test_the_vendored_graphviz_and_its_licence_are_in_the_repository():
    js = VENDOR / "viz.js"
    assert js.is_file() and js.stat().st_size > 500_000  # Graphviz compiled to WebAssembly, inlined
    head = js.read_text(encoding="utf-8", errors="replace")[:400]
    assert "Viz.js" in head and "Graphviz" in head
    licence = (VENDOR / "LICENSE").read_text(encoding="utf-8")
    assert "Permission is hereby granted" in licence and "Michael Daines" in licence
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    version = re.search(r"Viz\.js (\d+\.\d+\.\d+)", head).group(1)
    assert f"@viz-js/viz {version}" in readme and "npm" in readme
    assert "export { engines, formats, graphvizVersion, instance }" in js.read_text(encoding="utf-8", errors="replace")


_NODE_PAGE_SVG = """
const fs = require("fs");
const src = fs.readFileSync(process.argv[1], "utf8");
const body = src.slice(src.indexOf("const PROLOG"), src.indexOf("// The page-ready SVG"));
const pageSvg = new Function(body + "; return pageSvg;")();
process.stdout.write(pageSvg(fs.readFileSync(0, "utf8")));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed (runs the page's pageSvg)")
def test_the_pages_pagesvg_does_what_page_svg_does(two_stage):
    rp, report = two_stage
    raw = render_dot(diagram.to_dot(rp, report), "svg").decode("utf-8")
    raw = raw.replace("<svg", "<!-- a comment -->\n<svg", 1)
    out = subprocess.run(["node", "-e", _NODE_PAGE_SVG, str(STATIC / "diagram_widget.js")], input=raw,
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert out == page_svg(raw)
