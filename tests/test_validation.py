"""One invalid fixture per validation rule; each names file, line and path and says what is valid."""

from pathlib import Path

import pytest

from explorer.errors import PatternError
from explorer.model.loader import ARCHITECTURES_DIR, load_pattern, load_pattern_text
from explorer.model.yamlio import MAX_FILE_BYTES, load_text

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "invalid").glob("*.yaml"))


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_invalid_fixture_gives_its_message(path: Path) -> None:
    expected = path.read_text().splitlines()[0].removeprefix("# expect: ")
    with pytest.raises(PatternError) as info:
        load_pattern(path)
    message = str(info.value)
    assert message.startswith(path.name), message
    assert expected in message, f"expected {expected!r} in {message!r}"
    assert "Traceback" not in message


def test_every_rule_has_a_fixture() -> None:
    assert len(FIXTURES) >= 15


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("id: big\n# " + "x" * (MAX_FILE_BYTES + 10) + "\n")
    with pytest.raises(PatternError, match="over the 512 KiB limit"):
        load_pattern(big)


def test_alias_bomb_is_refused() -> None:
    text = "a: &a [1,2,3,4,5,6,7,8,9]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" \
           "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    with pytest.raises(PatternError, match="expands to more than"):
        load_text(text, "bomb.yaml")


def test_all_problems_are_reported_at_once() -> None:
    text = """
id: many
title: Many problems
components:
  - {id: api, type: api_service, replicas: -1}
  - {id: api, type: nope}
connections:
  - {from: api, to: ghost}
"""
    with pytest.raises(PatternError) as info:
        load_pattern_text(text, "many.yaml")
    lines = str(info.value).splitlines()
    assert len(info.value.errors) >= 4
    assert any("duplicate component id" in line for line in lines)
    assert any("unknown component type 'nope'" in line for line in lines)
    assert any("unknown component 'ghost'" in line for line in lines)
    assert all(line.startswith("many.yaml:") for line in lines)


def test_non_mapping_document() -> None:
    with pytest.raises(PatternError, match="must be a mapping"):
        load_pattern_text("- just\n- a list\n", "list.yaml")


@pytest.mark.parametrize("reserved", ["con", "nul", "aux", "prn", "com1", "lpt9"])
def test_reserved_device_names_are_refused_as_ids(reserved: str) -> None:
    text = (ARCHITECTURES_DIR / "two_stage_recommender.yaml").read_text()
    with pytest.raises(PatternError, match=f"id '{reserved}' is a reserved device name on Windows"):
        load_pattern_text(text.replace("id: two_stage_recommender", f"id: {reserved}"), "draft.yaml")
    load_pattern_text(text.replace("id: two_stage_recommender", f"id: {reserved}_2"), "draft.yaml")



def test_bounds_can_be_skipped_for_engine_tests_but_no_other_rule() -> None:
    text = (FIXTURES[0].parent / "replicas_out_of_bounds.yaml").read_text()
    with pytest.raises(PatternError, match="is outside 0 … 1e\\+06"):
        load_pattern_text(text, "replicas_out_of_bounds.yaml")
    assert load_pattern_text(text, "replicas_out_of_bounds.yaml", check_bounds=False).pattern.components
    with pytest.raises(PatternError, match="must be at least 1"):
        load_pattern_text(text.replace("replicas: 1e308", "replicas: 0"), "x.yaml", check_bounds=False)
