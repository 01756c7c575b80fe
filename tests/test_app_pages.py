"""AppTest for the Compare, Study, Calculator and editor pages and their interactions.

Each test points the user folder at a temporary directory, so nothing in the real home folder is
read or written.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the pages import ``pages.ui``
    sys.path.insert(0, str(ROOT))

from explorer.model import library  # noqa: E402
from explorer.model.yamlio import MAX_FILE_BYTES  # noqa: E402
from explorer.study import compare, editor  # noqa: E402
from explorer.study import practice as study  # noqa: E402
from explorer.units import format_ms  # noqa: E402
from pages.diagram_widget import drawn_key  # noqa: E402
from tests.apptest import TIMEOUT, run_page, texts  # noqa: E402


@pytest.fixture(autouse=True)
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "my-patterns"
    monkeypatch.setenv(library.USER_DIR_ENV, str(folder))
    monkeypatch.chdir(ROOT)
    return folder


def page(name: str, query: dict[str, str] | None = None) -> AppTest:
    return run_page(name, query)


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    # no stray module-level strings rendered by Streamlit's "magic"
    assert not any("widget key" in m.value for m in at.markdown)


def graphviz_count(at: AppTest) -> int:
    """Diagrams on the page: interactive ones (pages/diagram_widget.py) and plain graphviz charts."""
    return len(at.get("graphviz_chart")) + len(at.get("bidi_component"))


# --------------------------------------------------------------------------- Compare

def test_compare_opens_on_a_preset_with_two_diagrams() -> None:
    at = page("compare")
    ok(at)
    assert at.selectbox(key="compare:preset").value == compare.available_presets(library.load)[0].id
    assert graphviz_count(at) == 2
    labels = [m.label for m in at.metric]
    assert "End-to-end p99 (B)" in labels and "Cost per month (B)" in labels
    assert at.query_params["preset"] == at.selectbox(key="compare:preset").value
    assert at.query_params["a"] and at.query_params["b"]


def test_every_preset_loads() -> None:
    at = page("compare")
    usable = compare.available_presets(library.load)
    assert len(usable) >= 3
    for preset in usable:
        at.selectbox(key="compare:preset").set_value(preset.id).run()
        ok(at)
        assert not at.error, texts(at.error)
        assert graphviz_count(at) == 2
        assert at.query_params["preset"] == preset.id
        assert at.query_params["a"] == preset.a.pattern and at.query_params["b"] == preset.b.pattern
        assert any(preset.question in i for i in texts(at.info))


def test_compare_state_from_the_url() -> None:
    a = compare.Side("two_stage_recommender", {"candidates": 500})
    b = compare.Side("two_stage_recommender", {"candidates": 1000}, "autosize")
    at = page("compare", compare.to_query(a, b))
    ok(at)
    assert at.session_state["compare:b:two_stage_recommender:candidates"] == 1000
    assert at.radio(key="compare:b:two_stage_recommender:mode").value == "autosize"
    assert at.selectbox(key="compare:preset").value == "—"
    assert any("Candidates to rank: 500 items → 1k items" in m for m in texts(at.markdown))
    assert at.query_params["b.candidates"] == "1000" and at.query_params["b_mode"] == "autosize"


def test_compare_bad_link_falls_back_with_a_notice() -> None:
    at = page("compare", {"a": "no_such_pattern", "b": "two_stage_recommender", "b.candidates": "lots"})
    ok(at)
    warnings = " ".join(texts(at.warning))
    assert "no_such_pattern" in warnings and "lots" in warnings
    assert graphviz_count(at) == 2


# --------------------------------------------------------------------------- Study

STUDY_QUERY = {"pattern": "two_stage_recommender", "quiz": "3", "puzzle": "0"}


def _questions() -> list[study.Question]:
    return study.generate_questions(library.load("two_stage_recommender"), 3, 5)


def _answer(at: AppTest, q: study.Question, text: str) -> None:
    at.text_input(key=f"study:answer:{q.id}").input(text)
    at.button(key=f"FormSubmitter:study:form:{q.id}-Check").click()
    at.run()


def test_study_right_and_wrong_quiz_answers() -> None:
    at = page("study", STUDY_QUERY)
    ok(at)
    qs = _questions()
    assert {f"study:answer:{q.id}" for q in qs} <= {t.key for t in at.text_input}
    right, wrong = qs[0], qs[1]
    _answer(at, right, f"{right.answer:.6g}")
    ok(at)
    assert any(s.startswith("Right") for s in texts(at.success))
    # the explanation is the figure's trace
    assert any(right.figure.formula in m for m in texts(at.markdown))
    _answer(at, wrong, f"{wrong.answer * 3 + 7:.6g}")
    assert any(e.startswith("Not quite") and "engine says" in e for e in texts(at.error))
    progress = {m.label: m.value for m in at.metric}
    assert (progress["Answered"], progress["Right"]) == ("2", "1")
    assert at.session_state["study:progress"]["answered"] == 2


def test_study_unreadable_answer_is_not_counted() -> None:
    at = page("study", STUDY_QUERY)
    q = _questions()[0]
    _answer(at, q, "a lot")
    assert any("not a number" in e for e in texts(at.error))
    assert at.session_state["study:progress"]["answered"] == 0


def test_study_find_the_bottleneck() -> None:
    at = page("study", STUDY_QUERY)
    ok(at)
    pz = study.bottleneck_puzzle(library.load("two_stage_recommender"), 0)
    # the puzzle's diagram is drawn without colours
    assert 'fillcolor="#ffffff"' in at.session_state[drawn_key("study:bn_diagram")]
    key = "study:bn:two_stage_recommender:0"
    wrong = next(cid for cid, _ in pz.options if cid not in pz.accepted)
    at.radio(key=key).set_value(wrong).run()
    at.button(key="study:bn_check").click().run()
    ok(at)
    assert any(e.startswith("Not quite") for e in texts(at.error))
    assert any("ρ = λ·S / c" in m and pz.answer in m for m in texts(at.markdown))
    at.radio(key=key).set_value(pz.answer).run()
    at.button(key="study:bn_check").click().run()
    assert any(s.startswith("Right") for s in texts(at.success))
    # the first answer to a puzzle counts, later ones don't
    assert at.session_state["study:progress"]["answered"] == 1
    assert at.session_state["study:progress"]["right"] == 0


def test_study_walkthrough_steps_and_url() -> None:
    at = page("study", {**STUDY_QUERY, "step": "6"})
    ok(at)
    assert at.radio(key="study:step").value == 6
    assert any("Deploy and serve" in s for s in texts(at.subheader))
    at.button(key="study:next").click().run()
    assert at.radio(key="study:step").value == 7
    assert at.query_params["step"] == "7"
    at.button(key="study:next").click().run()
    rp = library.load("two_stage_recommender")
    assert any(rp.pattern.notes.talking_points[0][:40] in m for m in texts(at.markdown))
    at.button(key="study:quiz_next").click().run()
    assert at.query_params["quiz"] == "4"


# --------------------------------------------------------------------------- Calculator

@pytest.mark.parametrize(("lam", "s_ms"), [(50.0, 10.0), (400.0, 2.0)])
def test_calculator_matches_mm1_closed_form(lam: float, s_ms: float) -> None:
    at = page("calculator")
    ok(at)
    at.number_input(key="calc:lam").set_value(lam)
    at.number_input(key="calc:s").set_value(s_ms)
    at.number_input(key="calc:c").set_value(1)
    at.number_input(key="calc:cv").set_value(1.0)
    at.run()
    ok(at)
    mu = 1000.0 / s_ms
    p99 = math.log(100) / (mu - lam) * 1000
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["p99 response"] == format_ms(p99)
    assert metrics["Utilisation"] == f"{lam / mu * 100:.0f}%"
    assert metrics["Mean response"] == format_ms(1000 / (mu - lam))
    trace = " ".join(texts(at.markdown))
    assert "M/M/1 p99 (closed form)" in trace and "ln(100) / (μ − λ)" in trace
    assert at.query_params["lam"] == f"{lam:g}" and at.query_params["c"] == "1"


def test_calculator_sizing_and_saturation() -> None:
    at = page("calculator", {"lam": "900", "s": "10", "c": "12", "p99": "60"})
    ok(at)
    assert {m.label: m.value for m in at.metric}["Fewest servers"] == "11"
    at.number_input(key="calc:c").set_value(8).run()
    assert any("Saturated" in e for e in texts(at.error))


def test_calculator_chain_shows_why_percentiles_do_not_add() -> None:
    at = page("calculator")
    at.selectbox(key="calc:preset").set_value("Scatter-gather to 100 shards").run()
    ok(at)
    metrics = {m.label: m.value for m in at.metric}
    assert "True p99 (composed)" in metrics
    deltas = {m.label: m.delta for m in at.metric}
    assert deltas["Max of branch p99s"].startswith("-")
    at.selectbox(key="calc:preset").set_value("Three services in a row (no fan-out)").run()
    deltas = {m.label: m.delta for m in at.metric}
    assert deltas["Sum of stage p99s"].startswith("+")
    assert at.query_params["chain"] == "api:2:8:1:1;features:3:4:1:1;model:10:8:1:1"


def test_calculator_chain_from_the_url() -> None:
    at = page("calculator", {"rate": "100", "chain": "front:1:4:1:1;shards:4:2:20:1"})
    ok(at)
    assert at.number_input(key="calc:n").value == 2
    assert at.number_input(key="calc:stage1:k").value == 20
    at = page("calculator", {"chain": "broken"})
    assert any("chain" in w for w in texts(at.warning))


# --------------------------------------------------------------------------- Your patterns

def _error_line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_editor_draft_with_an_error_shows_its_line() -> None:
    at = page("editor")
    ok(at)
    assert any(s.startswith("Valid") for s in texts(at.success))
    text = editor.template_text().replace("type: cpu_model_server", "type: gpu_modle")
    line = _error_line(text, "type: gpu_modle")
    at.text_area(key="editor:text").input(text).run()
    ok(at)
    assert any("problem" in e for e in texts(at.error))
    assert any(m.startswith(f"**line {line}**") and "gpu" in m for m in texts(at.markdown))
    assert any(f"> {line} |" in c.value for c in at.code)
    assert at.button(key="editor:save").disabled
    assert graphviz_count(at) == 0


def test_editor_save_then_pattern_in_every_picker(user_dir: Path) -> None:
    at = page("editor")
    text = editor.with_id(editor.template_text(), "my_saved_pattern").replace("title: My pattern",
                                                                              "title: Saved from the editor")
    at.text_area(key="editor:text").input(text).run()
    assert graphviz_count(at) == 1
    at.button(key="editor:save").click().run()
    ok(at)
    assert any(s.startswith("Saved") for s in texts(at.success))
    assert (user_dir / "my_saved_pattern.yaml").read_text() == text
    # a fresh session of another page lists it in its picker and loads it
    other = page("study", {"pattern": "my_saved_pattern"})
    ok(other)
    assert "Yours · Saved from the editor" in other.selectbox(key="study:pattern").options
    assert other.selectbox(key="study:pattern").value == "my_saved_pattern"
    cmp = page("compare", {"a": "my_saved_pattern", "b": "two_stage_recommender"})
    ok(cmp)
    assert cmp.selectbox(key="compare:a:pattern").value == "my_saved_pattern"
    # saving again needs the explicit overwrite
    at.run()
    assert at.checkbox(key="editor:overwrite").value is False


def test_editor_invalid_draft_never_overwrites(user_dir: Path) -> None:
    text = editor.with_id(editor.template_text(), "my_kept")
    editor.save_draft(text)
    at = page("editor")
    at.text_area(key="editor:text").input(text.replace("type: api_service", "type: nope")).run()
    assert at.button(key="editor:save").disabled
    assert (user_dir / "my_kept.yaml").read_text() == text


def test_editor_refuses_an_oversized_upload() -> None:
    at = page("editor")
    before = at.session_state["editor:draft"]
    at.file_uploader(key="editor:upload").upload("huge.yaml", b"# x\n" * (MAX_FILE_BYTES // 4 + 10),
                                                 "application/x-yaml")
    at.run()
    ok(at)
    assert any("Upload refused" in e and "512 KiB limit" in e for e in texts(at.error))
    assert at.session_state["editor:draft"] == before


def test_editor_upload_and_refusals_of_the_loader() -> None:
    at = page("editor")
    at.file_uploader(key="editor:upload").upload("tagged.yaml", b"id: x\ntitle: !!python/object/apply:os.system ['x']\n")
    at.run()
    ok(at)
    assert at.session_state["editor:draft"].startswith("id: x")
    assert any("not allowed" in m for m in texts(at.markdown))


def test_editor_start_from_a_builtin() -> None:
    at = page("editor")
    at.selectbox(key="editor:source").set_value("two_stage_recommender")
    at.button(key="editor:load").click().run()
    ok(at)
    assert editor.draft_id(at.session_state["editor:draft"]) == "my_two_stage_recommender"
    assert any(s.startswith("Valid") for s in texts(at.success))
    assert not at.button(key="editor:save").disabled


def test_editor_draft_survives_switching_pages() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.switch_page("pages/editor.py").run()
    ok(at)
    edited = editor.with_id(editor.template_text(), "my_work_in_progress")
    at.text_area(key="editor:text").input(edited).run()
    at.switch_page("pages/study.py").run()
    ok(at)
    assert "editor:text" not in at.session_state  # widget state is dropped with its page…
    at.switch_page("pages/editor.py").run()
    ok(at)
    assert at.text_area(key="editor:text").value == edited  # …but the draft is kept


def test_editor_offers_the_schema() -> None:
    at = page("editor")
    assert any(editor.SCHEMA_COMMENT in m for m in texts(at.markdown))
    assert "editor:schema" in [b.key for b in at.get("download_button")]


def test_study_what_breaks_first() -> None:
    """The what-breaks-first tab: the failure drawn in without colours, a wrong and a right answer checked by
    the engine's what-if, the seed in the URL."""
    at = page("study", {"pattern": "video_search", "breaks": "1"})
    ok(at)
    assert drawn_key("study:breaks_diagram") not in at.session_state, "the what-if search waits for its tab"
    at.session_state["study:tabs"] = "What breaks first?"
    at.run()
    ok(at)
    pz = study.breaks_first_puzzle(library.load("video_search"), 1)
    assert pz is not None
    assert any(pz.question in m for m in texts(at.markdown))
    assert 'fillcolor="#ffffff"' in at.session_state[drawn_key("study:breaks_diagram")]
    key = "study:breaks:video_search:1"
    wrong = next(cid for cid, _ in pz.options if cid not in pz.accepted)
    at.radio(key=key).set_value(wrong).run()
    at.button(key="study:breaks_check").click().run()
    ok(at)
    assert any(e.startswith("Not quite") for e in texts(at.error))
    at.radio(key=key).set_value(pz.answer).run()
    at.button(key="study:breaks_check").click().run()
    assert any(s.startswith("Right") for s in texts(at.success))
    assert at.session_state["study:progress"]["answered"] == 1
    assert at.query_params["breaks"] == "1"


def test_no_bare_strings_at_module_level_in_scripts_streamlit_runs() -> None:
    """Streamlit's "magic" draws a bare string statement of a script it runs (app.py and the pages it
    navigates to; modules they import are not scripts) on the page; only the module docstring is exempt. A constant's attribute docstring there would show on every page."""
    import ast

    root = Path(__file__).resolve().parent.parent
    found = []
    scripts = [root / "app.py"] + [root / p for p in re.findall(r'st\.Page\("([^"]+)"', (root / "app.py").read_text())]
    assert len(scripts) > 5
    for path in scripts:
        body = ast.parse(path.read_text(encoding="utf-8")).body
        for node in body[1:]:  # body[0] may be the module docstring
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found.append(f"{path.name}:{node.lineno}")
    assert not found, found
