"""The picker's list: built-ins plus the user's folder; broken files are listed, not fatal; saves are atomic."""

from pathlib import Path

import pytest

from explorer.errors import PatternError
from explorer.model import library
from explorer.model.loader import ARCHITECTURES_DIR

GOOD = (ARCHITECTURES_DIR / "batch_vs_online_prediction.yaml").read_text().replace(
    "id: batch_vs_online_prediction", "id: my_batch")


@pytest.fixture()
def user_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(library.USER_DIR_ENV, str(tmp_path))
    return tmp_path


def test_broken_user_file_is_listed_with_its_error(user_dir):
    (user_dir / "broken.yaml").write_text("id: broken\ntitle: [unclosed\n")
    (user_dir / "two_stage_recommender.yaml").write_text(GOOD)
    items = {e.id: e for e in library.entries()}
    assert "two_stage_recommender" in items and items["broken"].error and "broken.yaml:3" in items["broken"].error
    assert "flow sequence that starts at line 2" in items["broken"].error
    assert any(e.error and "built-in pattern has the id" in e.error for e in library.entries())


def test_save_is_atomic_and_never_overwrites_with_an_invalid_draft(user_dir):
    path = library.save_user_pattern(GOOD)
    assert path == user_dir / "my_batch.yaml" and path.read_text() == GOOD
    assert "my_batch" in {e.id for e in library.entries() if not e.error}
    bad = GOOD.replace("type: kv_store", "type: nope")
    with pytest.raises(PatternError, match="unknown component type 'nope'"):
        library.save_user_pattern(bad)
    assert path.read_text() == GOOD  # the saved file is untouched
    assert not list(user_dir.glob(".*.tmp"))
    with pytest.raises(PatternError, match="exists already"):
        library.save_user_pattern(GOOD, overwrite=False)
    with pytest.raises(PatternError, match="id of a built-in pattern"):
        library.save_user_pattern(GOOD.replace("id: my_batch", "id: news_feed"))
    assert library.load("my_batch").user
