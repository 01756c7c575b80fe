"""The picker's list: built-ins plus the user's folder; broken files are listed, not fatal; saves are atomic."""

import multiprocessing
import os
import threading
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
    with pytest.raises(PatternError, match="already exists"):
        library.save_user_pattern(GOOD, overwrite=False)
    with pytest.raises(PatternError, match="id of a built-in pattern"):
        library.save_user_pattern(GOOD.replace("id: my_batch", "id: news_feed"))
    assert library.load("my_batch").user


def _entries_within(seconds: float) -> list[library.Entry]:
    """entries() run in a thread: a FIFO opened for reading would block it forever."""
    result: list = []
    worker = threading.Thread(target=lambda: result.append(library.entries()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "listing the user folder hung"
    return result[0]


def test_folder_with_a_directory_a_fifo_and_links_out_lists_each_problem(user_dir, tmp_path_factory):
    (user_dir / "my_batch.yaml").write_text(GOOD)
    (user_dir / "folder.yaml").mkdir()
    os.mkfifo(user_dir / "pipe.yaml")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.yaml").write_text(GOOD.replace("id: my_batch", "id: secret"))
    (user_dir / "secret.yaml").symlink_to(outside / "secret.yaml")
    (user_dir / "loop.yaml").symlink_to(user_dir / "loop.yaml")
    items = {e.id: e for e in _entries_within(10)}
    assert items["my_batch"].error is None and items["my_batch"].kind == "user"
    assert "is a folder" in items["folder"].error
    assert "not a regular file" in items["pipe"].error
    assert "outside the pattern folder" in items["secret"].error
    assert "cannot read the file" in items["loop"].error
    # the lookup refuses the same files by id, with the same message, and never blocks
    for name, words in (("pipe", "not a regular file"), ("secret", "outside the pattern folder"),
                        ("folder", "is a folder")):
        with pytest.raises(PatternError, match=words):
            library.load(name)


def test_locate_one_lookup_for_ids_user_ids_and_paths(user_dir):
    builtin = library.locate("news_feed")
    assert builtin == library.Location(ARCHITECTURES_DIR / "news_feed.yaml", False)
    saved = library.save_user_pattern(GOOD)
    assert library.locate("my_batch") == library.Location(saved, True)
    assert library.locate(str(saved)).user and not library.locate(str(builtin.path)).user
    with pytest.raises(PatternError, match=r"no pattern 'nope' \(built-in: .*news_feed.*; yours: my_batch; or give"):
        library.locate("nope")
    with pytest.raises(PatternError, match="cannot read '../nope.yaml'"):
        library.locate("../nope.yaml")
    with pytest.raises(PatternError, match="not a regular file"):
        library.locate(str(user_dir) + "/")


def _save_in_child(text: str, folder: str, barrier, results) -> None:
    os.environ[library.USER_DIR_ENV] = folder
    barrier.wait()
    try:
        library.save_user_pattern(text, overwrite=False)
        results.put(("saved", text))
    except PatternError as exc:
        results.put(("refused", str(exc)))


def test_two_sessions_saving_one_new_id_exactly_one_wins_and_nothing_is_lost(user_dir):
    ctx = multiprocessing.get_context("fork")
    for trial in range(20):
        folder = user_dir / f"trial{trial}"
        texts = [GOOD.replace("title:", f"# session {who}\ntitle:", 1) for who in "ab"]
        barrier, results = ctx.Barrier(2), ctx.Queue()
        procs = [ctx.Process(target=_save_in_child, args=(t, str(folder), barrier, results)) for t in texts]
        for p in procs:
            p.start()
        outcome = [results.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(60)
        saved = [text for kind, text in outcome if kind == "saved"]
        refused = [msg for kind, msg in outcome if kind == "refused"]
        assert len(saved) == 1 and len(refused) == 1, outcome
        assert "my_batch.yaml already exists" in refused[0]
        assert (folder / "my_batch.yaml").read_text() == saved[0]
        assert not list(folder.glob(".*.tmp"))


def test_saving_over_a_file_replaces_it(user_dir):
    library.save_user_pattern(GOOD)
    newer = GOOD.replace("title:", "# v2\ntitle:", 1)
    assert library.save_user_pattern(newer, overwrite=True).read_text() == newer


def test_pages_lookup_refuses_paths():
    """A pattern name from a URL is an id, never a path: the pages' lookup refuses anything else."""
    from explorer.errors import PatternError
    from explorer.model.library import locate

    assert locate("two_stage_recommender", ids_only=True).path.name == "two_stage_recommender.yaml"
    for name in ("/etc/passwd", "../architectures/news_feed.yaml", "news_feed.yaml"):
        with pytest.raises(PatternError, match="is not a pattern id"):
            locate(name, ids_only=True)
