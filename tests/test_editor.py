"""Your own patterns: drafts, located errors, uploads, atomic saving, the schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from explorer.errors import PatternError
from explorer.model import library
from explorer.model.schema import SCHEMA_PATH
from explorer.model.yamlio import MAX_FILE_BYTES
from explorer.study import editor


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "mine"
    monkeypatch.setenv(library.USER_DIR_ENV, str(folder))
    return folder


def test_template_is_valid_and_analyses() -> None:
    d = editor.check_draft(editor.template_text())
    assert d.ok and d.pattern_id == "my_pattern" and d.save_blocker is None
    assert editor.template_text().startswith(editor.SCHEMA_COMMENT)
    from explorer.engine.analysis import analyse
    assert analyse(d.rp).end_to_end.meets_target


def test_error_at_a_known_line() -> None:
    text = editor.template_text()
    lines = text.splitlines()
    n = next(i for i, line in enumerate(lines, 1) if "type: cpu_model_server" in line)
    d = editor.check_draft(text.replace("type: cpu_model_server", "type: gpu_modle"))
    assert not d.ok
    assert d.lines == [n]
    assert d.messages()[0].startswith(f"line {n}: components[3].type: unknown component type 'gpu_modle'")
    assert f"> {n} |" in editor.excerpt(text, n)


def test_syntax_error_line_and_every_problem() -> None:
    d = editor.check_draft("id: x\ntitle: [unclosed\ncomponents: []\n")
    assert not d.ok and d.errors[0].line is not None and "YAML syntax error" in d.errors[0].message
    d = editor.check_draft(editor.template_text().replace("to: features", "to: featurez")
                           .replace("type: event_stream", "type: nope"))
    assert len(d.errors) >= 2


def test_refusals_are_messages_not_crashes() -> None:
    assert not editor.check_draft("").ok
    bomb = "a: &a [1,2,3,4,5,6,7,8,9]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" \
           "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    assert "expands to more than" in editor.check_draft(bomb).errors[0].message
    tag = "id: x\ntitle: !!python/object/apply:os.system ['echo hi']\n"
    assert "not allowed" in editor.check_draft(tag).errors[0].message
    many = "id: many\ntitle: Many\ncomponents:\n" + "".join(f"  - {{id: c{i}, type: api_service}}\n" for i in range(2001))
    assert "over the limit" in editor.check_draft(many).errors[0].message


def test_upload_checks() -> None:
    with pytest.raises(PatternError, match="over the 512 KiB limit"):
        editor.read_upload("big.yaml", b"x" * (MAX_FILE_BYTES + 1))
    with pytest.raises(PatternError, match=r"\.yaml"):
        editor.read_upload("notes.txt", b"id: x")
    with pytest.raises(PatternError, match="UTF-8"):
        editor.read_upload("bad.yaml", b"\xff\xfe\x00")
    assert editor.read_upload("ok.yml", "id: é\n".encode()) == "id: é\n"


def test_builtin_draft_is_renamed_and_valid() -> None:
    text = editor.builtin_draft("two_stage_recommender")
    assert text.startswith(editor.SCHEMA_COMMENT)
    assert editor.draft_id(text) == "my_two_stage_recommender"
    d = editor.check_draft(text)
    assert d.ok and d.save_blocker is None
    with pytest.raises(PatternError):
        editor.builtin_draft("../etc/passwd")
    same = editor.check_draft(editor.with_id(text, "two_stage_recommender"))
    assert same.ok and "built-in" in same.save_blocker


def test_save_then_listed_and_loaded(user_dir: Path) -> None:
    text = editor.with_id(editor.template_text(), "my_saved")
    path = editor.save_draft(text)
    assert path == user_dir / "my_saved.yaml" and path.read_text() == text
    ids = {e.id: e for e in library.entries()}
    assert ids["my_saved"].kind == "user" and ids["my_saved"].error is None
    assert library.load("my_saved").user
    assert not list(user_dir.glob(".*.tmp"))


def test_invalid_draft_never_overwrites(user_dir: Path) -> None:
    text = editor.with_id(editor.template_text(), "my_kept")
    path = editor.save_draft(text)
    with pytest.raises(PatternError):
        editor.save_draft(text.replace("type: api_service", "type: nope"))
    assert path.read_text() == text


def test_download_name_and_schema() -> None:
    assert editor.download_name("id: my_x\n") == "my_x.yaml"
    assert editor.download_name("id: ../../x\n") == "pattern.yaml"
    schema = json.loads(editor.schema_text())
    assert schema["title"] == "Architecture Explorer pattern"
    committed = SCHEMA_PATH.read_text()
    assert json.loads(committed) == schema
