"""Exports for study notes: every format for every built-in pattern and for hostile labels,
the golden Mermaid, file names, the study pack, the CLI and the page's export panel."""

from __future__ import annotations

import io
import json
import os
import re
import struct
import threading
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pygraphviz
import pytest

from explorer import export as ex
from explorer.cli import main
from explorer.engine.analysis import analyse
from explorer.errors import ExportError
from explorer.model.loader import load_pattern, load_pattern_text
from explorer.render.mermaid import INIT as MERMAID_INIT
from explorer.render.mermaid import MERMAID_KEYWORDS, mermaid_id, mermaid_text, view_nodes
from explorer.render.styles import STATUS_STYLES
from tests import patterns

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "fixtures" / "hostile" / "hostile_labels.yaml"
GOLDEN = ROOT / "tests" / "golden"
PATTERNS = patterns.PATHS
ALL = [*PATTERNS, HOSTILE]
IDS = [p.stem for p in ALL]
SECTIONS = [heading for _, heading in ex.NOTE_SECTIONS]


@pytest.fixture(scope="module")
def analysed():
    cache: dict[str, tuple] = {}

    def get(path: Path):
        if path.stem not in cache:
            rp = load_pattern(path)
            cache[path.stem] = (rp, analyse(rp))
        return cache[path.stem]

    return get


def _label_shown(label: str) -> str:
    """What a diagram can be expected to show of a label: its first words, whitespace collapsed."""
    return " ".join(label.split())[:24]


def _svg_text(svg: bytes) -> str:
    root = ET.fromstring(svg)
    return " ".join("".join(root.itertext()).split())


def _assert_inert_svg(svg: bytes) -> None:
    root = ET.fromstring(svg)
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1].lower()
        assert tag not in ("script", "foreignobject", "iframe"), f"active element <{tag}> in the SVG"
        for k, v in el.attrib.items():
            name = k.rsplit("}", 1)[-1].lower()
            assert not name.startswith("on"), f"event handler {name} in the SVG"
            if name == "href":
                assert not v.strip().lower().startswith("javascript:")


# --------------------------------------------------------------------------- every format, every pattern

@pytest.mark.parametrize("path", ALL, ids=IDS)
def test_svg_is_xml_with_every_label(path, analysed):
    rp, report = analysed(path)
    svg = ex.render_svg(rp, report)
    assert svg.startswith(b"<?xml")
    _assert_inert_svg(svg)
    text = _svg_text(svg)
    for n in view_nodes(rp, "overview"):
        assert _label_shown(rp.graph.nodes[n]["label"]) in text, n


@pytest.mark.parametrize("path", ALL, ids=IDS)
def test_png_and_pdf_have_magic_and_sane_sizes(path, analysed):
    rp, report = analysed(path)
    png = ex.render_png(rp, report, dpi=96)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert 200 <= width <= 20_000 and 100 <= height <= 20_000, (width, height)
    assert 5_000 < len(png) < 30_000_000
    pdf = ex.render_pdf(rp, report)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert 2_000 < len(pdf) < 20_000_000


@pytest.mark.parametrize("path", ALL, ids=IDS)
def test_dot_parses_and_is_stable(path, analysed):
    rp, report = analysed(path)
    dot = ex.to_dot(rp, report)
    assert dot == ex.to_dot(rp, report)
    graph = pygraphviz.AGraph(string=dot)
    assert set(rp.graph.nodes) <= set(graph.nodes())


MERMAID_NODE = re.compile(r'^\s+([A-Za-z0-9_]+)\["([^"]*)"\]$')
MERMAID_EDGE = re.compile(r'^\s+([A-Za-z0-9_]+) (-->|-\.->)(?:\|"([^"]*)"\|)? ([A-Za-z0-9_]+)$')


@pytest.mark.parametrize("path", ALL, ids=IDS)
def test_mermaid_structure(path, analysed):
    rp, report = analysed(path)
    text = ex.to_mermaid(rp, report)
    lines = text.splitlines()
    assert lines[0] == MERMAID_INIT and lines[1] == "flowchart LR"
    all_nodes = [m.group(1) for m in map(MERMAID_NODE.match, lines) if m]
    assert len(all_nodes) == len(set(all_nodes))
    legend = [m.group(2) for m in map(MERMAID_NODE.match, lines) if m and m.group(1).startswith("legend_")]
    nodes = [n for n in all_nodes if not n.startswith("legend_")]
    assert len(nodes) == len(view_nodes(rp, "overview"))
    for style in STATUS_STYLES.values():  # the legend names every status
        assert mermaid_text(style.label) in legend, style.status
    assert '  subgraph legend["Legend"]' in lines
    for node_id in nodes:
        assert node_id.lower() not in MERMAID_KEYWORDS and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", node_id)
    edges = [m for m in map(MERMAID_EDGE.match, lines) if m]
    assert len(edges) == rp.graph.number_of_edges()
    assert sum(line.strip().startswith("subgraph ") for line in lines) == sum(line.strip() == "end" for line in lines)
    assert "`" not in text  # backticks would end a ```mermaid fence
    links = sorted(int(i) for line in lines if line.strip().startswith("linkStyle")
                   for i in line.split()[1].split(","))
    assert links == list(range(len(edges)))


@pytest.mark.parametrize("path", ALL, ids=IDS)
def test_markdown_note(path, analysed):
    rp, report = analysed(path)
    md = ex.study_note_markdown(rp, report)
    assert md.count("```mermaid") == 1
    block = md.split("```mermaid\n", 1)[1].split("\n```\n", 1)[0]
    assert block + "\n" == ex.to_mermaid(rp, report)
    assert "## Capacity" in md and "| Component | Tier | Status |" in md
    for heading in SECTIONS + ["Talking points"]:
        assert f"### {heading}" in md
    for c in report.components.values():
        assert f"(`{c.id}`)" in md
    assert "## How the key numbers are computed" in md and report.end_to_end is None or "End-to-end p99" in md
    _assert_tables_well_formed(md)


def _assert_tables_well_formed(md: str) -> None:
    """Every table row has as many unescaped cell separators as its header."""
    in_fence = False
    width = None
    for line in md.splitlines():
        if line.startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if line.startswith("| ") and line.endswith("|"):
            cells = len(re.findall(r"(?<!\\)\|", line))
            if width is None:
                width = cells
            assert cells == width, line
        else:
            width = None


@pytest.mark.parametrize("path", ALL, ids=IDS)
def test_json_is_the_analysis(path, analysed):
    rp, report = analysed(path)
    assert json.loads(ex.analysis_json(report)) == json.loads(json.dumps(report.to_dict()))


def test_golden_mermaid_two_stage_recommender():
    rp = load_pattern(ROOT / "architectures" / "two_stage_recommender.yaml")
    text = ex.to_mermaid(rp, analyse(rp))
    golden = GOLDEN / "two_stage_recommender.mmd"
    if os.environ.get("UPDATE_GOLDEN") == "1" or not golden.exists():
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        if os.environ.get("UPDATE_GOLDEN") != "1":
            pytest.fail(f"wrote a new golden file {golden}; check it and commit it")
    assert text == golden.read_text(encoding="utf-8"), "Mermaid changed; rerun with UPDATE_GOLDEN=1 if intended"


# --------------------------------------------------------------------------- hostile labels

@pytest.fixture(scope="module")
def hostile(analysed):
    return analysed(HOSTILE)


def test_hostile_labels_survive_every_exporter(hostile):
    rp, report = hostile
    for fmt in ex.FORMATS:
        if fmt == "pack":
            continue
        data = ex.export(rp, None, "provisioned", fmt, report=report, dpi=72)
        assert data, fmt
    svg = ex.render_svg(rp, report)
    _assert_inert_svg(svg)
    assert b"<script" not in svg.lower()
    text = _svg_text(svg)
    assert '"browser" <script>alert(1)' in text
    assert "日本語" in text and "🚀" in text and "{gateway} & <b>edge</b>" in text
    for view in ("overview", "serving", "offline"):
        pygraphviz.AGraph(string=ex.to_dot(rp, report, ex.DrawOptions(view=view)))


def test_hostile_mermaid_escapes_everything(hostile):
    rp, report = hostile
    text = ex.to_mermaid(rp, report)
    labels = re.findall(r'\["([^"]*)"\]|\|"([^"]*)"\|', text)
    assert labels
    for pair in labels:
        label = pair[0] or pair[1]
        assert not re.search(r'[<>"`|%{}]', label.replace("<br/>", "")), label
        assert not re.search(r"&(?!amp;|lt;|gt;)", label), label
        assert not re.search(r"#(?!35;|37;|quot;|96;|123;|124;|125;)", label), label
    for raw in ("end", "graph", "subgraph", "style", "class", "click", "node"):
        assert f"\n    {raw} " not in text and f"\n    {raw}[" not in text
    assert "    end_[" in text and "    click_[" in text


def test_hostile_markdown_is_inert_and_complete(hostile):
    rp, report = hostile
    md = ex.study_note_markdown(rp, report)
    outside = re.sub(r"```mermaid\n.*?\n```\n", "", md, flags=re.S)
    assert "<script" not in outside and "<!--" not in outside and "<img" not in outside
    assert "javascript:" not in outside
    # the unclosed fences in the notes are closed inside their own section
    for heading in SECTIONS + ["Talking points"]:
        assert f"\n### {heading}\n" in md
    assert len(re.findall(r"^ {0,3}```", md, flags=re.M)) % 2 == 0
    assert len(re.findall(r"^ {0,3}~~~", md, flags=re.M)) % 2 == 0
    _assert_tables_well_formed(md)
    assert "日本語" in md and "العربية" in md and "🚀" in md


def test_mermaid_labels_cannot_carry_a_directive_or_a_comment(tmp_path):
    directive = "%%{init: {'theme':'dark', 'securityLevel':'loose'}}%%"
    assert "%" not in mermaid_text(directive) and "{" not in mermaid_text(directive)
    assert mermaid_text("50% %% c {x}") == "50#37; #37;#37; c #123;x#125;"
    text = (ROOT / "architectures" / "two_stage_recommender.yaml").read_text(encoding="utf-8")
    rp = load_pattern_text(text.replace("label: Recommendation API", f'label: "{directive}"', 1)
                           .replace("label: User features", 'label: "%% a comment"', 1))
    mmd = ex.to_mermaid(rp, analyse(rp))
    first, rest = mmd.split("\n", 1)
    assert first == MERMAID_INIT  # the one directive is ours
    assert "%%" not in rest and "init:" in rest  # the label's words stay, as text
    md = ex.study_note_markdown(rp, analyse(rp))
    block = md.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block.startswith(MERMAID_INIT + "\n") and "%%" not in block.split("\n", 1)[1]


def test_mermaid_text_and_ids():
    assert mermaid_text('a "b" #c') == "a #quot;b#quot; #35;c"
    assert mermaid_text("x\ny\r\nz") == "x<br/>y<br/>z"
    assert mermaid_text("") == " "
    assert mermaid_id("end") == "end_" and mermaid_id("CLASS") == "CLASS_" and mermaid_id("_x") == "n__x"
    assert mermaid_id("日本") == "n___"


# --------------------------------------------------------------------------- rendering

def test_render_failure_is_a_clear_export_error():
    with pytest.raises(ExportError, match="could not render the diagram as SVG"):
        ex.render_dot("digraph { a -> ", "svg")
    with pytest.raises(ExportError, match="dpi must be between"):
        ex.render_dot("digraph { a }", "png", dpi=5000)
    with pytest.raises(ExportError, match="cannot render 'gif'"):
        ex.render_dot("digraph { a }", "gif")


def test_unknown_view_names_the_valid_ones(analysed):
    rp, report = analysed(ROOT / "architectures" / "two_stage_recommender.yaml")
    with pytest.raises(ExportError, match=r"no view 'nope' \(views: overview, serving, offline\)"):
        ex.export(rp, None, "provisioned", "mermaid", ex.DrawOptions(view="nope"), report=report)


def test_safe_svg_removes_active_content():
    evil = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
            b'xmlns:xlink="http://www.w3.org/1999/xlink" onload="alert(1)"><script>alert(2)</script>'
            b'<a xlink:href="javascript:alert(3)"><text>hi</text></a></svg>')
    clean = ex.safe_svg(evil)
    _assert_inert_svg(clean)
    assert b"alert" not in clean and b"hi" in clean
    ok = b'<svg xmlns="http://www.w3.org/2000/svg"><text>fine</text></svg>'
    assert ex.safe_svg(ok) is ok
    with pytest.raises(ExportError, match="not well-formed"):
        ex.safe_svg(b"<svg><unclosed></svg>")


def test_renders_from_many_threads_are_serialised(analysed):
    rp, report = analysed(ROOT / "architectures" / "two_stage_recommender.yaml")
    dot = ex.to_dot(rp, report)
    expected = ex.render_dot(dot, "svg")
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for fmt in ("svg", "png", "pdf"):
                data = ex.render_dot(dot, fmt, dpi=72 if fmt == "png" else None)
                if fmt == "svg":
                    results.append(data)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == [expected] * 8


# --------------------------------------------------------------------------- names and the pack

def test_filename(analysed):
    rp, _ = analysed(ROOT / "architectures" / "two_stage_recommender.yaml")
    name = ex.filename(rp, {}, "svg")
    assert re.fullmatch(r"two_stage_recommender-[0-9a-f]{6}\.svg", name)
    assert ex.filename(rp, {}, "svg") == name == ex.filename(rp, rp.defaults(), "svg")  # stable for one scenario
    assert ex.filename(rp, {"peak_qps": 60000}, "png") == ex.filename(rp, {"peak_qps": 60000.0}, "png")
    others = [ex.filename(rp, {"peak_qps": 60000}, "svg"), ex.filename(rp, {"peak_qps": 60001}, "svg"),
              ex.filename(rp, {"candidates": 800}, "svg"), ex.filename(rp, {}, "svg", mode="autosize"),
              ex.filename(rp, {}, "svg", view="serving")]
    assert len({name, *others}) == 6  # two scenarios never share a name
    assert ex.filename(rp, {"peak_qps": 60000}, "png").rsplit(".", 1)[0] == \
        ex.filename(rp, {"peak_qps": 60000}, "md").rsplit(".", 1)[0]  # a scenario's files share a stem
    assert ex.filename(rp, {}, "pack").endswith("-study-pack.zip")
    assert ex.filename(rp, {"peak_qps": 60000}, "anki") == "two_stage_recommender-anki.apkg"
    for fmt in ex.FORMATS:
        assert re.fullmatch(r"[A-Za-z0-9._-]+", ex.filename(rp, {"num_items": 1.5e9}, fmt))
    with pytest.raises(ExportError):
        ex.filename(rp, {}, "gif")


def test_scenario_hash_is_the_same_in_another_process():
    import subprocess
    import sys
    code = ("from explorer.model.library import load; from explorer.export import scenario_hash; "
            "print(scenario_hash(load('two_stage_recommender'), {'peak_qps': 60000}, mode='autosize'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "123"})
    rp = load_pattern(ROOT / "architectures" / "two_stage_recommender.yaml")
    assert out.stdout.strip() == ex.scenario_hash(rp, {"peak_qps": 60000}, mode="autosize")


@pytest.fixture(scope="module")
def pack_and_calls(analysed):
    rp, _ = analysed(ROOT / "architectures" / "two_stage_recommender.yaml")
    calls: list[tuple[int, int, str]] = []
    data = ex.study_pack(rp, {"peak_qps": 60000}, "provisioned", ex.DrawOptions(),
                         progress=lambda d, t, label: calls.append((d, t, label)))
    return rp, data, calls


def test_study_pack_contents_and_index(pack_and_calls):
    rp, data, calls = pack_and_calls
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = zf.namelist()
    assert names == sorted(names)
    root = ex.PACK_ROOT
    for path in PATTERNS:
        for ext in ("md", "svg", "mmd"):
            assert f"{root}/{path.stem}/{path.stem}.{ext}" in names
    index = zf.read(f"{root}/README.md").decode()
    for link in re.findall(r"\]\(([^)]+)\)", index):
        assert f"{root}/{link}" in names, link
    note = zf.read(f"{root}/two_stage_recommender/two_stage_recommender.md").decode()
    assert "| 60,000 |" in note and "![Diagram of" in note
    other = zf.read(f"{root}/ann_index_sharding/ann_index_sharding.md").decode() if \
        f"{root}/ann_index_sharding/ann_index_sharding.md" in names else None
    if other:
        assert "mode: provisioned" in other
    for info in zf.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        if info.filename.endswith(".svg"):
            _assert_inert_svg(zf.read(info))
    assert zf.testzip() is None


def test_study_pack_progress_and_determinism(pack_and_calls):
    rp, data, calls = pack_and_calls
    total = len(PATTERNS) + 1
    assert calls[0] == (0, total, "starting") and calls[-1] == (total, total, "done")
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    assert all(c[1] == total for c in calls)
    again = ex.study_pack(rp, {"peak_qps": 60000}, "provisioned", ex.DrawOptions())
    assert again == data


def test_study_pack_includes_a_user_pattern(analysed):
    rp, _ = analysed(HOSTILE)
    data = ex.study_pack(rp, paths=PATTERNS[:1])
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert f"{ex.PACK_ROOT}/hostile_labels/hostile_labels.md" in names
    assert f"{ex.PACK_ROOT}/{PATTERNS[0].stem}/{PATTERNS[0].stem}.svg" in names


# --------------------------------------------------------------------------- CLI

def run_cli(capsysbinary, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse errors
        code = exc.code
    out, err = capsysbinary.readouterr()
    return code, out, err.decode("utf-8", "replace")


def test_cli_text_formats_go_to_stdout(capsysbinary):
    code, out, err = run_cli(capsysbinary, "export", "two_stage_recommender", "--format", "mermaid",
                             "--set", "peak_qps=60k")
    assert code == 0 and out.startswith(MERMAID_INIT.encode() + b"\nflowchart LR") and not err.strip()
    code, out, _ = run_cli(capsysbinary, "export", "two_stage_recommender", "-f", "dot", "--view", "serving")
    assert code == 0 and out.startswith(b"digraph two_stage_recommender")
    code, out, _ = run_cli(capsysbinary, "export", "two_stage_recommender", "-f", "md", "--mode", "autosize")
    assert code == 0 and b"```mermaid" in out and b"mode: autosize" in out


def test_cli_json_equals_estimate_json(capsysbinary):
    code, exported, _ = run_cli(capsysbinary, "export", "two_stage_recommender", "-f", "json", "--set", "candidates=800")
    assert code == 0
    code, estimated, _ = run_cli(capsysbinary, "estimate", "two_stage_recommender", "--json", "--set", "candidates=800")
    assert code == 0 and json.loads(exported) == json.loads(estimated)


def test_cli_binary_needs_a_file_on_a_terminal(capsysbinary, monkeypatch):
    import sys
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    code, out, err = run_cli(capsysbinary, "export", "two_stage_recommender", "-f", "png")
    assert code == 2 and out == b""
    assert err.count("\n") == 1 and "give -o PATH" in err


def test_cli_binary_to_a_pipe(capsysbinary):
    code, out, _ = run_cli(capsysbinary, "export", "two_stage_recommender", "-f", "png", "--dpi", "72")
    assert code == 0 and out[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_writes_named_files_and_never_overwrites_silently(capsysbinary, tmp_path):
    named = tmp_path / "diagram.svg"
    named.write_text("old")
    code, _, err = run_cli(capsysbinary, "export", "two_stage_recommender", "-f", "svg", "-o", str(named))
    assert code == 0 and named.read_bytes().startswith(b"<?xml") and "wrote" in err  # the user named it
    code, _, err = run_cli(capsysbinary, "export", "two_stage_recommender", "-f", "pdf", "-o", str(tmp_path))
    rp = load_pattern(ROOT / "architectures" / "two_stage_recommender.yaml")
    expected = tmp_path / ex.filename(rp, {}, "pdf")
    assert code == 0 and expected.read_bytes().startswith(b"%PDF-")
    expected.write_bytes(b"mine")
    code, _, err = run_cli(capsysbinary, "export", "two_stage_recommender", "-f", "pdf", "-o", str(tmp_path))
    assert code == 2 and "exists" in err and "--force" in err and expected.read_bytes() == b"mine"
    code, _, err = run_cli(capsysbinary, "export", "two_stage_recommender", "-f", "pdf", "-o", str(tmp_path), "--force")
    assert code == 0 and expected.read_bytes().startswith(b"%PDF-")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["diagram.svg", expected.name]  # no temporary files left


def test_cli_pack(capsysbinary, tmp_path):
    code, _, _ = run_cli(capsysbinary, "export", "two_stage_recommender", "-f", "pack", "-o", str(tmp_path))
    assert code == 0
    (pack,) = tmp_path.iterdir()
    assert re.fullmatch(r"two_stage_recommender-[0-9a-f]{6}-study-pack\.zip", pack.name)
    assert zipfile.ZipFile(pack).testzip() is None


@pytest.mark.parametrize("argv, message", [
    (["-f", "gif"], "invalid choice: 'gif'"),
    (["-f", "png", "--dpi", "9000"], "must be between"),
    (["-f", "png", "--dpi", "high"], "is not a number"),
    (["-f", "svg", "--dpi", "300"], "--dpi applies to --format png only"),
    (["-f", "svg", "--view", "nope"], "no view 'nope'"),
    (["-f", "svg", "--set", "nope=1"], "no parameter 'nope'"),
    (["-f", "svg", "--set", "peak_qps=1e12"], "outside its range"),
    (["-f", "svg", "--select", "ghost"], "no component 'ghost'"),
    (["-f", "svg", "-o", "/nonexistent/dir/x.svg"], "does not exist"),
    (["-f", "svg", "--mode", "cheap"], "invalid choice: 'cheap'"),
])
def test_cli_bad_arguments_one_line_exit_2(capsysbinary, argv, message):
    code, out, err = run_cli(capsysbinary, "export", "two_stage_recommender", *argv)
    assert code == 2, err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err and out == b""


def test_cli_unknown_pattern_exit_2(capsysbinary):
    code, _, err = run_cli(capsysbinary, "export", "no_such_pattern", "-f", "svg")
    assert code == 2 and "no pattern 'no_such_pattern'" in err and err.count("\n") == 1


def test_cli_hostile_pattern_from_a_path(capsysbinary):
    code, out, _ = run_cli(capsysbinary, "export", str(HOSTILE), "-f", "svg")
    assert code == 0
    _assert_inert_svg(out)


# --------------------------------------------------------------------------- the page's export panel

def _panel_script(pattern: str, values: dict, view: str, break_render: bool) -> None:
    import streamlit as st

    from explorer import export as ex
    from explorer.engine.analysis import analyse
    from explorer.model.loader import load_pattern
    from pages import export_panel

    rp = load_pattern(pattern)
    report = analyse(rp, values, "provisioned")
    st.title(rp.pattern.title)
    original = ex.render_dot
    if break_render:
        def broken(*args, **kwargs):
            raise ex.ExportError("Graphviz raised a layout error (test)")
        ex.render_dot = broken
        export_panel._render.clear()
    try:
        export_panel.render_export_toolbar(rp, report, values, "provisioned", ex.DrawOptions(view=view))
    finally:
        ex.render_dot = original
        if break_render:
            export_panel._render.clear()
    st.write("after the panel")


def _app(pattern: Path, values: dict, view: str = "overview", break_render: bool = False):
    from streamlit.testing.v1 import AppTest
    return AppTest.from_function(_panel_script, args=(str(pattern), values, view, break_render),
                                 default_timeout=60)


def test_export_toolbar_in_a_page():
    at = _app(ROOT / "architectures" / "two_stage_recommender.yaml", {"peak_qps": 60000}).run()
    assert not at.exception and not at.error
    labels = [b.label for b in at.download_button]
    assert labels == ["PNG", "SVG", "PDF", "Markdown", "Mermaid", "Anki"]  # the row, in this order; "More" is closed
    at.session_state["export_more"] = True  # open "More" (what a click on it does)
    at.run()
    labels = [b.label for b in at.download_button]
    assert {"PNG 96 dpi (screen)", "PNG 300 dpi (print)", "DOT (Graphviz source)", "JSON (the analysis)"} <= set(labels)
    assert all(not b.proto.disabled for b in at.download_button)
    at.button(key="export_pack_build").click().run()
    assert not at.exception and not at.error
    assert any(b.label == "Study pack (zip)" for b in at.download_button)
    assert at.markdown[-1].value == "after the panel"


def test_export_toolbar_makes_each_file_on_click():
    from pages import export_panel
    rp = load_pattern(ROOT / "architectures" / "two_stage_recommender.yaml")
    values = {"peak_qps": 60000}
    report = analyse(rp, values)
    options = ex.DrawOptions()
    magic = {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF", "md": b"# Two-stage", "mermaid": b"%%{init",
             "dot": b"digraph", "json": b"{", "anki": b"PK"}
    for fmt, start in magic.items():
        data = export_panel._maker(rp, report, values, "provisioned", options, fmt, 192 if fmt == "png" else None)()
        assert data.startswith(start), fmt
    png = export_panel._maker(rp, report, values, "provisioned", options, "png", 192)()
    assert png == ex.export(rp, values, "provisioned", "png", options, report=report)  # what the CLI writes


def test_export_toolbar_render_failure_surfaces_in_the_download_only():
    from pages import export_panel
    rp = load_pattern(ROOT / "architectures" / "two_stage_recommender.yaml")
    at = _app(ROOT / "architectures" / "two_stage_recommender.yaml", {}, break_render=True).run()
    assert not at.exception and not at.error  # nothing is rendered until a button is clicked
    original = ex.render_dot

    def broken(*args, **kwargs):
        raise ExportError("Graphviz raised a layout error (test)")

    ex.render_dot = broken
    export_panel._render.clear()
    try:
        with pytest.raises(ExportError, match="layout error"):
            export_panel._maker(rp, analyse(rp), {}, "provisioned", ex.DrawOptions(), "svg")()
        md = export_panel._maker(rp, analyse(rp), {}, "provisioned", ex.DrawOptions(), "md")()
        assert md.startswith(b"# ")  # the other formats keep working
    finally:
        ex.render_dot = original
        export_panel._render.clear()


def test_export_toolbar_unknown_view_is_an_error_not_a_crash():
    at = _app(ROOT / "architectures" / "two_stage_recommender.yaml", {}, view="nope").run()
    assert not at.exception and at.error and "no view 'nope'" in at.error[0].value


@pytest.mark.parametrize("mode", ["provisioned", "autosize"])
def test_every_exporter_at_saturation(mode):
    rp = load_pattern(ROOT / "architectures" / "two_stage_recommender.yaml")
    values = {"peak_qps": 2_000_000, "latency_target_ms": 20}
    report = analyse(rp, values, mode)
    for fmt in ex.FORMATS:
        if fmt != "pack":
            assert ex.export(rp, values, mode, fmt, report=report, dpi=72)
    md = ex.study_note_markdown(rp, report)
    mm = ex.to_mermaid(rp, report)
    _assert_tables_well_formed(md)
    if mode == "provisioned":
        assert "End to end: **saturated**" in md and "| saturated |" in md
        assert "classDef saturated" in mm and "SATURATED" in mm
    assert "## Bottlenecks" in md and "Advice:" in md


def ex_ml_heading(section) -> str:
    """How the note heads an ML section: its title, and the component it is about."""
    return section.title + (f" (`{section.component}`)" if section.component else "")


@pytest.mark.parametrize("path", [ROOT / "architectures" / "two_stage_recommender.yaml", HOSTILE],
                         ids=["two_stage_recommender", "hostile_labels"])
def test_markdown_renders_as_intended(path, analysed):
    """A CommonMark renderer with GFM tables sees the note's structure: its tables, headings
    and one Mermaid block, and turns no user text into HTML."""
    from markdown_it import MarkdownIt

    rp, report = analysed(path)
    md = ex.study_note_markdown(rp, report)
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    fences = [t for t in tokens if t.type == "fence"]
    assert [t.info for t in fences].count("mermaid") == 1 and fences[0].info == "mermaid"
    assert fences[0].content == ex.to_mermaid(rp, report)
    html_tokens = [t for t in tokens if t.type in ("html_block", "html_inline")]
    html_tokens += [c for t in tokens if t.children for c in t.children if c.type == "html_inline"]
    assert not html_tokens, [t.content for t in html_tokens]
    tables = sum(t.type == "table_open" for t in tokens)
    curve = report.staleness_curve or []
    assert tables == 2 + bool(report.batch_jobs) + len(report.ml) + bool(curve)  # + one per ML section
    rows = sum(t.type == "tr_open" for t in tokens)
    assert rows == (1 + len(report.values)) + (1 + len(report.components)) + \
        ((1 + len(report.batch_jobs)) if report.batch_jobs else 0) + \
        sum(1 + len(s.figures) for s in report.ml) + ((1 + len(curve)) if curve else 0)
    h2 = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2"]
    assert h2[:7] == ["Diagram", "Scenario", "Headline numbers", "Capacity", "Bottlenecks",
                      "How the key numbers are computed"] + (["ML figures"] if report.ml else ["Study notes"])
    h3 = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h3"]
    assert h3 == [ex_ml_heading(s) for s in report.ml] + SECTIONS + ["Talking points"]
    html = MarkdownIt("commonmark").enable("table").render(md)
    outside = re.sub(r"<pre><code.*?</code></pre>", "", html, flags=re.S)
    assert "<script" not in outside and "<img" not in outside and "<!--" not in outside
    for c in report.components.values():
        assert c.id in html


def test_a_thousand_component_pattern_exports_collapsed():
    from explorer.render.diagram import MAX_DETAILED_NODES, group_key
    from tests.generated import generated_pattern

    rp = generated_pattern(1000)
    report = analyse(rp)
    text = ex.to_mermaid(rp, report)
    groups = {group_key(rp, n) for n in rp.graph.nodes}
    assert len(groups) < MAX_DETAILED_NODES and len(text) < 20_000  # within Mermaid's default text limit
    for g in groups:
        assert f"    {g}[" in text
    assert ex.render_svg(rp, report).startswith(b"<?xml")
