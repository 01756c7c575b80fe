"""Exports that stand alone: the image carries the title, the scenario, the headline numbers and a legend of
every status; PNG is 2× by default; the Markdown note links its diagram; the Anki deck opens and has its cards."""

from __future__ import annotations

import io
import re
import sqlite3
import struct
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from explorer import export as ex
from explorer.cli import main
from explorer.engine.analysis import analyse
from explorer.model.loader import load_pattern
from explorer.render import diagram
from explorer.render.styles import STATUS_STYLES, UTIL_SCALE
from explorer.study import anki
from explorer.study.practice import STEPS

ROOT = Path(__file__).resolve().parent.parent
TWO_STAGE = ROOT / "architectures" / "two_stage_recommender.yaml"
AD_CLICK = ROOT / "architectures" / "ad_click_prediction.yaml"
SVG_NS = "{http://www.w3.org/2000/svg}"


def _texts(svg: bytes) -> list[str]:
    """Every <text> element of an SVG, whitespace collapsed."""
    root = ET.fromstring(svg)
    return [" ".join("".join(t.itertext()).split()) for t in root.iter(f"{SVG_NS}text")]


def _svg_size_px(svg: bytes) -> tuple[float, float]:
    """The SVG's nominal size in CSS pixels (Graphviz writes points: 1 pt = 96/72 px)."""
    root = ET.fromstring(svg)
    w, h = (float(root.attrib[k].removesuffix("pt")) for k in ("width", "height"))
    return w * 96 / 72, h * 96 / 72


@pytest.fixture(scope="module")
def scenario():
    rp = load_pattern(AD_CLICK)
    values = {"peak_qps": 2_000_000, "latency_target_ms": 50}
    return rp, values, analyse(rp, values, "autosize")


def test_svg_carries_title_scenario_numbers_and_legend(scenario):
    rp, values, report = scenario
    svg = ex.render_svg(rp, report)
    texts = _texts(svg)
    joined = " | ".join(texts)
    assert rp.pattern.title in texts
    assert any("mode: auto-size" in t for t in texts)
    # every changed parameter with its label and unit, and no unchanged one
    assert "Peak ad requests = 2M req/s" in joined and "Latency target (p99) = 50 ms" in joined
    assert "Active ads" not in joined
    # the headline numbers, as the page shows them
    p99 = next(m for m in ex.headline(report) if m.key == "p99")
    assert "End-to-end p99" in texts and p99.value in texts and p99.delta in texts
    assert "Peak QPS" in texts and "2M req/s" in texts
    nodes = next(m for m in ex.headline(report) if m.key == "replicas")
    assert nodes.label in texts and nodes.value in texts and "Cost per month" in texts
    assert any(t.startswith("$") for t in texts)
    # a legend of every status (infeasible included) and every utilisation bin
    for style in STATUS_STYLES.values():
        assert style.label in texts, style.status
    for _, _, text in UTIL_SCALE:
        assert text in texts
    assert any("INFEASIBLE: no replica count" in t for t in texts)


def test_caption_at_the_defaults_says_so():
    rp = load_pattern(TWO_STAGE)
    texts = _texts(ex.render_svg(rp, analyse(rp)))
    assert "Scenario: every parameter at the pattern's default" in texts
    assert ex.caption(rp, analyse(rp)).scenario == ()


def test_structure_only_export_has_a_title_and_no_numbers():
    rp = load_pattern(TWO_STAGE)
    texts = _texts(ex.render_svg(rp, None))
    assert rp.pattern.title in texts and "End-to-end p99" not in texts and not any("Scenario" in t for t in texts)


def test_png_defaults_to_twice_the_svg_size(scenario):
    rp, _, report = scenario
    assert ex.DEFAULT_DPI == 192
    svg_w, svg_h = _svg_size_px(ex.render_svg(rp, report))
    png = ex.export(rp, {"peak_qps": 2_000_000, "latency_target_ms": 50}, "autosize", "png", report=report)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert width >= 2 * svg_w * 0.99 and height >= 2 * svg_h * 0.99, (width, height, svg_w, svg_h)


def test_pdf_is_a_pdf_of_the_captioned_diagram(scenario):
    rp, _, report = scenario
    pdf = ex.render_pdf(rp, report)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    plain = ex.render_dot(diagram.to_dot(rp, report), "pdf")
    box = re.compile(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)")
    (w, h), (w0, h0) = (tuple(map(float, box.search(d).groups())) for d in (pdf, plain))
    assert h > h0  # the caption adds height above the diagram


def test_dot_export_is_the_captioned_diagram_and_stable(scenario):
    rp, _, report = scenario
    dot = ex.to_dot(rp, report)
    assert dot == ex.to_dot(rp, report)
    assert "Ad click prediction" in dot and "Peak ad requests = 2M req/s" in dot


def test_markdown_note_links_its_image_and_has_the_numbers(scenario):
    rp, values, report = scenario
    note = ex.export(rp, values, "autosize", "md", report=report, image="diagram.svg").decode()
    assert "![Diagram of Ad click prediction on social platforms](diagram.svg)" in note
    assert "```mermaid" in note and "## Headline numbers" in note and "End to end: p99" in note


def test_cli_md_into_a_folder_writes_the_diagram_beside_it(capsysbinary, tmp_path):
    code = main(["export", "two_stage_recommender", "-f", "md", "--set", "peak_qps=60000", "-o", str(tmp_path)])
    capsysbinary.readouterr()
    assert code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 2 and names[0].endswith(".md") and names[1].endswith(".svg")
    assert names[0][:-3] == names[1][:-4]
    note = (tmp_path / names[0]).read_text(encoding="utf-8")
    assert f"]({names[1]})" in note
    assert "Scenario: Peak QPS = 60,000 req/s" in _texts((tmp_path / names[1]).read_bytes())


# --------------------------------------------------------------------------- Anki


def _collection(apkg: bytes, tmp_path: Path) -> sqlite3.Connection:
    zf = zipfile.ZipFile(io.BytesIO(apkg))
    assert sorted(zf.namelist()) == ["collection.anki2", "media"]
    path = tmp_path / "collection.anki2"
    path.write_bytes(zf.read("collection.anki2"))
    return sqlite3.connect(path)


def test_anki_deck_opens_and_has_the_cards(tmp_path):
    rp = load_pattern(TWO_STAGE)
    apkg = ex.export(rp, {}, "provisioned", "anki")
    db = _collection(apkg, tmp_path)
    notes = [(guid, flds.split("\x1f"), tags) for guid, flds, tags in db.execute("select guid, flds, tags from notes")]
    assert db.execute("select count(*) from cards").fetchone()[0] == len(notes)
    steps = [f for _, f, tags in notes if "seven_steps" in tags]
    estimates = [f for _, f, tags in notes if "estimate" in tags]
    fronts = [f[1] for f in steps]
    for info in STEPS:
        if getattr(rp.pattern.notes, info.key).strip():
            assert f"Step {info.number}: {info.title}" in fronts
    assert "Wrap-up: the talking points" in fronts
    assert len(estimates) >= 6
    # each estimate's answer is the engine's, with its trace
    q = anki.generate_questions(rp, seed=0, n=anki.QUESTIONS_PER_SEED)
    assert q
    first = next(f for f in estimates if q[0].text.split("**")[0] in f[1] and anki._answer_text(q[0]) in f[2])
    assert "=" in first[3] and "<li>" in first[3]
    # decks and note types keyed on the pattern id
    decks = db.execute("select decks from col").fetchone()[0]
    assert str(anki.stable_id("deck", rp.id)) in decks and "Architecture Explorer::" in decks
    models = db.execute("select models from col").fetchone()[0]
    assert str(anki.stable_id("model", "step", rp.id)) in models
    assert len({g for g, _, _ in notes}) == len(notes)


def test_anki_deck_is_deterministic_and_keyed_on_the_pattern(tmp_path):
    rp = load_pattern(TWO_STAGE)
    assert anki.deck_bytes(rp) == anki.deck_bytes(rp)
    other = load_pattern(AD_CLICK)
    assert anki.stable_id("deck", rp.id) != anki.stable_id("deck", other.id)
    guids = {c.key for c in anki.deck_cards(rp)}
    assert len(guids) == len(anki.deck_cards(rp))


def test_anki_card_html_is_escaped():
    assert anki.markdown_html("<script>alert(1)</script> **x**") == "<p>&lt;script&gt;alert(1)&lt;/script&gt; <b>x</b></p>"


def test_cli_exports_anki(capsysbinary, tmp_path):
    code = main(["export", "ad_click_prediction", "--format", "anki", "-o", str(tmp_path)])
    _, err = capsysbinary.readouterr()
    assert code == 0 and "wrote" in err.decode()
    (deck,) = tmp_path.iterdir()
    assert deck.name == "ad_click_prediction-anki.apkg"
    db = _collection(deck.read_bytes(), tmp_path)
    assert db.execute("select count(*) from notes").fetchone()[0] >= 8


def test_dark_export_has_an_opaque_background(scenario):
    rp, _, report = scenario
    root = ET.fromstring(ex.render_svg(rp, report, ex.DrawOptions(theme="dark")))
    fills = [el.attrib.get("fill") for el in root.iter(f"{SVG_NS}polygon")]
    assert "#0d1117" in fills  # light text on its own dark background, legible pasted anywhere
