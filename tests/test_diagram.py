"""The DOT diagram: deterministic, stable structure while numbers move, golden at defaults,
parseable, hostile text survives, and the colour story (hot, saturated, bottleneck, selection).

Regenerate the golden file with ``UPDATE_GOLDEN=1 pytest tests/test_diagram.py``.
"""

from __future__ import annotations

import html
import os
import re
import warnings
from pathlib import Path

import pygraphviz
import pytest

from explorer.engine.analysis import analyse
from explorer.engine.sweep import traffic_parameter
from explorer.model.loader import load_pattern, load_pattern_text
from explorer.render import diagram, styles
from explorer.render.styles import DrawOptions
from tests import patterns

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden" / "two_stage_recommender.dot"
HOSTILE = Path(__file__).parent / "fixtures" / "hostile" / "hostile_labels.yaml"


@pytest.fixture(scope="module", params=patterns.IDS)
def rp(request):
    return patterns.load(request.param)


def _traffic_extremes(rp):
    name = traffic_parameter(rp)
    if name is None:
        return rp.defaults(), rp.defaults()
    q = next(q for q in rp.pattern.parameters if q.name == name)
    return {**rp.defaults(), name: q.min}, {**rp.defaults(), name: q.max}


def skeleton(dot: str) -> list[tuple[str, int, int]]:
    """What must not change while a slider moves: every statement (nodes, edges and clusters in order, which
    attributes each has) and how many lines each label has; never the values."""
    out = []
    for line in dot.splitlines():
        rows = line.count("<TR>")
        breaks = line.count("\\n")
        s = re.sub(r"=<<TABLE.*?</TABLE>>", "=H", line)
        s = re.sub(r'="(?:[^"\\]|\\.)*"', "=S", s)
        s = re.sub(r"=[^\s\]]+", "=V", s)
        out.append((s, rows, breaks))
    pygraphviz.AGraph(string=dot)  # and it parses
    return out


# --------------------------------------------------------------------------- every pattern

def test_dot_is_deterministic(rp):
    a = diagram.to_dot(rp, analyse(rp))
    b = diagram.to_dot(load_pattern(rp.path), analyse(load_pattern(rp.path)))
    assert a == b
    assert a.encode() == diagram.build_digraph(rp, analyse(rp)).source.encode()


def test_structure_is_the_same_whatever_the_numbers(rp):
    low, high = _traffic_extremes(rp)
    for view in diagram.views(rp):
        for theme in ("light", "dark"):
            a = diagram.to_dot(rp, analyse(rp, low), DrawOptions(view=view.id, theme=theme))
            b = diagram.to_dot(rp, analyse(rp, high), DrawOptions(view=view.id, theme=theme))
            c = diagram.to_dot(rp, analyse(rp, high, "autosize"), DrawOptions(view=view.id, theme=theme))
            assert skeleton(a) == skeleton(b) == skeleton(c), (view.id, theme)
            assert 'rankdir=TB' in a


def test_dot_parses_with_node_ids_equal_to_component_ids(rp):
    report = analyse(rp)
    for view in diagram.views(rp):
        A = pygraphviz.AGraph(string=diagram.to_dot(rp, report, DrawOptions(view=view.id)))
        tier_order = {t: i for i, (t, _) in enumerate(styles.TIERS)}
        expected = sorted((n for n in rp.graph.nodes if n in set(view.components)),
                          key=lambda n: tier_order[rp.graph.nodes[n]["tier"]])  # stable: file order inside a tier
        assert [str(n) for n in A.nodes()] == expected
        legend = A.graph_attr["label"]  # the legend table is the graph's label
        assert legend.startswith("<") and "sync" in legend and "batch" in legend
        assert "SATURATED" in legend and styles.SATURATED_FILL in legend


def test_tiers_are_separate_clusters(rp):
    A = pygraphviz.AGraph(string=diagram.to_dot(rp, analyse(rp)))
    for sg in A.subgraphs():
        tier = sg.name.removeprefix("cluster_")
        assert tier in ("online", "nearline", "offline")
        assert all(rp.graph.nodes[str(n)]["tier"] == tier for n in sg.nodes())


def test_edge_styles_and_traffic_labels(rp):
    report = analyse(rp)
    A = pygraphviz.AGraph(string=diagram.to_dot(rp, report))
    by_index = {e.index: e for e in report.edges}
    for e in A.edges(keys=True):
        attr = A.get_edge(e[0], e[1], e[2]).attr
        if attr["id"].startswith("stack_"):  # invisible: keeps the tiers stacked
            assert attr["style"] == "invis" and not attr["label"]
            continue
        i = int(attr["id"].removeprefix("edge_"))
        kind = by_index[i].kind
        assert attr["style"] == {"sync": "solid", "async": "dashed", "batch": "dotted"}[kind]
        assert re.search(r"/(s|min|h|day)\b", attr["label"]), attr["label"]  # calls per second (or minute, hour, day)
        if by_index[i].on_critical_path:
            assert float(attr["penwidth"]) > 2


def test_saturation_at_max_traffic_is_unmistakable(rp):
    _, high = _traffic_extremes(rp)
    report = analyse(rp, high)
    saturated = [c.id for c in report.components.values() if c.saturated]
    if not saturated:
        pytest.skip(f"nothing saturates in {rp.id} at the top of its traffic range")
    A = pygraphviz.AGraph(string=diagram.to_dot(rp, report))
    for cid in saturated:
        n = A.get_node(cid)
        assert n.attr["fillcolor"] == styles.SATURATED_FILL
        assert "SATURATED" in n.attr["label"]
        assert float(n.attr["penwidth"]) >= 3
        assert "status-saturated" in n.attr["class"]
    top = styles.top_bottleneck(report)
    assert top is not None and "⚠" in A.get_node(top).attr["label"]
    assert "bottleneck" in A.get_node(top).attr["class"]


def test_neutral_diagram_has_no_status_colours(rp):
    _, high = _traffic_extremes(rp)
    dot = diagram.to_dot(rp, analyse(rp, high), DrawOptions(colored=False, selected=next(iter(rp.graph.nodes))))
    fills = {f for _, f, _ in styles.UTIL_SCALE} | {styles.SATURATED_FILL}
    A = pygraphviz.AGraph(string=dot)
    for n in A.nodes():
        assert n.attr["fillcolor"] not in fills
        assert "SATURATED" not in n.attr["label"] and "ρ" not in n.attr["label"]
        assert "selected" not in n.attr["class"]
    assert "SATURATED" not in dot.replace(A.graph_attr["label"], "")
    assert styles.SATURATED_FILL not in A.graph_attr["label"]


def test_structure_only_without_a_report(rp):
    A = pygraphviz.AGraph(string=diagram.to_dot(rp, None))
    assert {str(n) for n in A.nodes()} == set(rp.graph.nodes)


# --------------------------------------------------------------------------- golden

def test_golden_two_stage_recommender_at_defaults():
    rp = load_pattern(ROOT / "architectures" / "two_stage_recommender.yaml")
    dot = diagram.to_dot(rp, analyse(rp))
    if os.environ.get("UPDATE_GOLDEN") == "1" or not GOLDEN.exists():
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(dot, encoding="utf-8")
        if os.environ.get("UPDATE_GOLDEN") != "1":
            pytest.skip("golden file created; run again to compare")
    assert dot == GOLDEN.read_text(encoding="utf-8"), (
        "DOT differs from tests/golden/two_stage_recommender.dot; if the change is intended, "
        "regenerate with UPDATE_GOLDEN=1")


# --------------------------------------------------------------------------- colours, selection, themes

def test_utilisation_scale_is_sequential_and_light():
    def luminance(hex_color: str) -> float:
        rgb = [int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    fills = [f for _, f, _ in styles.UTIL_SCALE] + [styles.SATURATED_FILL]
    lums = [luminance(f) for f in fills]
    assert lums == sorted(lums, reverse=True), "fills get darker as utilisation rises"
    text = luminance(styles.NODE_FONT)
    for f, lum in zip(fills, lums, strict=True):
        assert (lum + 0.05) / (text + 0.05) >= 4.5, f"dark text unreadable on {f}"
    assert styles.utilization_fill(0.0) == fills[0]
    assert styles.utilization_fill(0.99) == fills[-2]
    assert styles.utilization_fill(1.5, True) == styles.SATURATED_FILL


def test_selected_component_is_outlined():
    rp = load_pattern(ROOT / "architectures" / "two_stage_recommender.yaml")
    report = analyse(rp)
    A = pygraphviz.AGraph(string=diagram.to_dot(rp, report, DrawOptions(selected="ranker")))
    assert A.get_node("ranker").attr["color"] == styles.SELECTED_BORDER
    assert "selected" in A.get_node("ranker").attr["class"]
    assert sum("selected" in (n.attr["class"] or "") for n in A.nodes()) == 1
    # an unknown selection is ignored, not an error
    pygraphviz.AGraph(string=diagram.to_dot(rp, report, DrawOptions(selected="nope")))


def test_dark_theme_changes_text_and_edges_not_fills():
    rp = load_pattern(ROOT / "architectures" / "two_stage_recommender.yaml")
    report = analyse(rp, {"peak_qps": 30000})
    light = pygraphviz.AGraph(string=diagram.to_dot(rp, report, DrawOptions(theme="light")))
    dark = pygraphviz.AGraph(string=diagram.to_dot(rp, report, DrawOptions(theme="dark")))
    assert light.graph_attr["fontcolor"] != dark.graph_attr["fontcolor"]
    for n in rp.graph.nodes:
        assert light.get_node(n).attr["fillcolor"] == dark.get_node(n).attr["fillcolor"]
        assert dark.get_node(n).attr["fontcolor"] == styles.NODE_FONT


def test_more_traffic_moves_colours_up_the_scale():
    rp = load_pattern(ROOT / "architectures" / "two_stage_recommender.yaml")
    order = [f for _, f, _ in styles.UTIL_SCALE] + [styles.SATURATED_FILL]

    def heat(qps: float) -> int:
        A = pygraphviz.AGraph(string=diagram.to_dot(rp, analyse(rp, {"peak_qps": qps})))
        return sum(order.index(n.attr["fillcolor"]) for n in A.nodes() if n.attr["fillcolor"] in order)

    assert heat(1000) < heat(20000) < heat(60000)


def test_views_fall_back_to_overview():
    rp = load_pattern(ROOT / "architectures" / "two_stage_recommender.yaml")
    assert diagram.view_spec(rp, "nope").id == "overview"
    assert diagram.to_dot(rp, None, DrawOptions(view="nope")) == diagram.to_dot(rp, None, DrawOptions(view="overview"))


# --------------------------------------------------------------------------- hostile text

HOSTILE_EXTRA = {
    "backslashes": "\\N \\G \\l \\\\ end\\",
    "quotes": 'say "hi" \\"there\\" \'x\'',
    "html": "<script>alert(1)</script> <b>bold</b> &amp; &lt; ]]> <!--",
    "braces": "{a} [b] digraph { x -> y } ; node [shape=box]",
    "newlines": "first\nsecond\r\nthird\tfourth",
    "emoji": "🚀🔥 日本語 العربية \u200b",
}


def _hostile_variants():
    base = HOSTILE.read_text(encoding="utf-8")
    for name, text in HOSTILE_EXTRA.items():
        quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") \
            .replace("\t", "\\t") + '"'
        yaml_text = base.replace('label: "Cache | pipe | `code` #quot; #35; &amp; %%"', f"label: {quoted}", 1) \
            .replace('label: "<script>alert(3)</script>"', f"label: {quoted}", 1)
        yield name, text, yaml_text


@pytest.mark.parametrize("name", list(HOSTILE_EXTRA))
def test_hostile_labels_survive(name):
    _, text, yaml_text = next(v for v in _hostile_variants() if v[0] == name)
    rp = load_pattern_text(yaml_text, "hostile_labels.yaml", expected_id="hostile_labels", user=False)
    report = analyse(rp, {"peak_qps": 100000})
    for colored in (True, False):
        for theme in ("light", "dark"):
            dot = diagram.to_dot(rp, report, DrawOptions(selected="style", theme=theme, colored=colored))
            A = pygraphviz.AGraph(string=dot)
            assert {str(n) for n in A.nodes()} == set(rp.graph.nodes)
            lines = diagram._wrap(text)
            assert " ".join(lines).replace("…", "")[:10] == " ".join(text.split())[:10]
            # node label (HTML): the text comes back once the HTML entities are undone
            label = A.get_node("subgraph").attr["label"]
            title = re.search(r"<B>(.*?)</B>", label).group(1)
            assert html.unescape(title.replace("<BR/>", "\n")) == "\n".join(lines), label
            assert "<script>" not in label
            # edge label (plain): the text comes back once graphviz's backslash escapes are undone
            edge = A.get_edge("graph", "subgraph").attr["label"]
            assert edge.split("\\n")[: len(lines)] == [line.replace("\\", "\\\\") for line in lines], edge


def test_hostile_fixture_renders_with_graphviz_without_warnings():
    """Laid out by the Graphviz that pygraphviz carries, in-process (no system package), as exports are."""
    rp = load_pattern(HOSTILE)
    for colored in (True, False):
        dot = diagram.to_dot(rp, analyse(rp, {"peak_qps": 100000}), DrawOptions(selected="style", colored=colored))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            svg = pygraphviz.AGraph(string=dot).draw(format="svg", prog="dot")
        text = svg.decode("utf-8")
        assert "<script>" not in text
        assert "&lt;script&gt;" in text
        assert "日本語" in text and "🚀" in text


def test_render_key_names_the_graph_after_its_content():
    rp = load_pattern(ROOT / "architectures" / "two_stage_recommender.yaml")
    a = diagram.to_dot(rp, analyse(rp), render_key=True)
    b = diagram.to_dot(rp, analyse(rp), render_key=True)
    c = diagram.to_dot(rp, analyse(rp, {"peak_qps": 30000}), render_key=True)
    plain = diagram.to_dot(rp, analyse(rp))
    assert a == b and a != c
    name = a.split()[1]
    assert re.fullmatch(r"two_stage_recommender__[0-9a-f]{10}", name)
    assert a.replace(name, "two_stage_recommender", 1) == plain  # only the name differs
    assert skeleton(a)[1:] == skeleton(c)[1:]


# --------------------------------------------------------------------------- very large patterns

def test_a_thousand_components_draw_collapsed_within_seconds():
    import time

    from explorer.export import render_dot
    from tests.generated import generated_pattern

    rp = generated_pattern(1000)
    report = analyse(rp)
    t0 = time.perf_counter()
    dot = diagram.to_dot(rp, report)
    svg = render_dot(dot, "svg")
    assert time.perf_counter() - t0 < 10.0
    A = pygraphviz.AGraph(string=dot)
    groups = {diagram.group_key(rp, n) for n in rp.graph.nodes}
    assert set(A.nodes()) == groups and len(groups) < 40
    assert "1000 components, more than 150" in html.unescape(A.graph_attr["label"])
    counts = [int(re.search(r"×(\d+)", html.unescape(A.get_node(g).attr["label"])).group(1)) for g in groups]
    assert sum(counts) == 1000
    assert b"Ranking" in svg or b"Service" in svg


def test_the_collapse_starts_above_the_limit():
    from tests.generated import generated_pattern

    at_limit = generated_pattern(diagram.MAX_DETAILED_NODES)
    above = generated_pattern(diagram.MAX_DETAILED_NODES + 1)
    assert len(pygraphviz.AGraph(string=diagram.to_dot(at_limit, None)).nodes()) == diagram.MAX_DETAILED_NODES
    A = pygraphviz.AGraph(string=diagram.to_dot(above, analyse(above), DrawOptions(selected="c3")))
    assert all(n.startswith("group__") for n in A.nodes())
    assert A.get_node(diagram.group_key(above, "c3")).attr["color"] == styles.SELECTED_BORDER
