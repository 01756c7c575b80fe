"""The pattern library: built-in patterns plus the user's own folder.

The user folder is ``$ARCH_EXPLORER_USER_DIR`` or ``~/.architecture-explorer/patterns``.
It is read defensively: only regular files whose real path is inside the folder are
loaded (a directory, FIFO or device named ``*.yaml``, or a link pointing out of the
folder, is listed with its problem and never opened).

Saving writes a temporary file, syncs it, then either links it under the final name
(a new id: the link fails if the name exists, so two sessions saving one new id cannot
both succeed) or renames it over the old file (replacing); the folder is synced after.
A draft that does not validate is never written.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from explorer.errors import ExplorerError, LocatedError, PatternError
from explorer.model.loader import ARCHITECTURES_DIR, ResolvedPattern, builtin_paths, load_pattern, load_pattern_text
from explorer.model.yamlio import MAX_FILE_BYTES

USER_DIR_ENV = "ARCH_EXPLORER_USER_DIR"
_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
_SUFFIXES = (".yaml", ".yml")


def user_dir() -> Path:
    """Folder of the user's own patterns (not created until something is saved)."""
    configured = os.environ.get(USER_DIR_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".architecture-explorer" / "patterns"


@dataclass(frozen=True)
class Entry:
    """One pattern in the picker."""

    id: str
    title: str
    kind: str
    """``case_study``, ``building_block`` or ``user``."""
    chapter: int | None
    tags: tuple[str, ...]
    path: str
    error: str | None = None
    """Why a user file could not be loaded (shown, not hidden)."""


@dataclass(frozen=True)
class Location:
    """Where a pattern named on the command line, in a URL or in a picker lives."""

    path: Path
    """The pattern file."""
    user: bool
    """True for a file in the user's folder."""


def user_files(folder: Path | None = None) -> list[tuple[Path, str | None]]:
    """Every ``*.yaml`` name in the user folder, sorted, each with why it cannot be read (or None).

    Only regular files whose real path is inside the folder are readable; nothing is opened here.

    Examples
    --------
    >>> user_files(Path("/no/such/folder"))
    []
    """
    folder = user_dir() if folder is None else folder
    try:
        real_folder = folder.resolve(strict=True)
        names = sorted(e.name for e in os.scandir(folder) if e.name.endswith(".yaml") and not e.name.startswith("."))
    except OSError:
        return []
    return [(folder / name, _unreadable(folder / name, real_folder)) for name in names]


def _unreadable(path: Path, real_folder: Path) -> str | None:
    """Why ``path`` may not be read as a user pattern, or None when it is a regular file inside the folder."""
    try:
        real = path.resolve(strict=True)
        mode = real.stat().st_mode
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        return f"{path.name}: cannot read the file ({getattr(exc, 'strerror', None) or exc}); remove it"
    if real.parent != real_folder:
        return f"{path.name}: links to {real}, outside the pattern folder {real_folder}; it was not read"
    if not stat.S_ISREG(mode):
        what = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a pipe, socket or device)"
        return f"{path.name}: is {what}, not a pattern file; it was not read"
    return None


def entries(include_user: bool = True, directory: Path | None = None) -> list[Entry]:
    """Every pattern for a picker: case studies by chapter, building blocks by title, then the user's.

    A file that does not load is listed with its error instead of breaking the list.
    """
    out: list[Entry] = []
    seen: set[str] = set()
    for path in builtin_paths(directory or ARCHITECTURES_DIR):
        out.append(_entry(path, user=False))
        seen.add(path.stem)
    for path, problem in (user_files() if include_user else []):
        if problem is None and path.stem in seen:
            problem = f"{path.name}: a built-in pattern has the id {path.stem!r}; rename the file"
        if problem is not None:
            out.append(Entry(path.stem, path.stem, "user", None, (), str(path), error=problem))
            continue
        out.append(_entry(path, user=True))
    order = {"case_study": 0, "building_block": 1, "user": 2}
    return sorted(out, key=lambda e: (order.get(e.kind, 3), e.chapter or 0, e.title.lower()))


def _entry(path: Path, user: bool) -> Entry:
    try:
        rp = load_pattern(path, user=user)
    except ExplorerError as exc:
        return Entry(path.stem, path.stem, "user" if user else "building_block", None, (), str(path), error=str(exc))
    p = rp.pattern
    return Entry(p.id, p.title, "user" if user else p.kind, p.chapter, tuple(p.tags), str(path))


def locate(name: str, *, ids_only: bool = False) -> Location:
    """The one lookup of a pattern: a built-in id, then an id in the user folder, or a path to a ``.yaml`` file.

    A built-in id wins over a user file of the same name (which the picker lists as an error). With
    ``ids_only`` (the pages: a name from a URL must never open an arbitrary file), paths are refused.

    Raises
    ------
    PatternError
        No such pattern (the message lists the known ids), or a user file that is not a
        regular file inside the folder.

    Examples
    --------
    >>> locate("two_stage_recommender").path.name, locate("two_stage_recommender").user
    ('two_stage_recommender.yaml', False)
    """
    name = str(name).strip()
    looks_like_path = name.endswith(_SUFFIXES) or os.sep in name or "/" in name
    if looks_like_path and ids_only:
        raise PatternError([LocatedError(f"{name!r} is not a pattern id (a lower-case letter, then letters, "
                                         "digits or underscores)")])
    if looks_like_path:
        path = Path(name).expanduser()
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise PatternError([LocatedError(f"cannot read {name!r}: {exc.strerror}; give a pattern id or "
                                             "the path to a .yaml file")]) from None
        if not stat.S_ISREG(mode):
            raise PatternError([LocatedError(f"{name!r} is not a regular file")])
        folder = user_dir()
        try:
            in_user = path.resolve().parent == folder.resolve()
        except OSError:
            in_user = False
        return Location(path, in_user)
    if _ID.fullmatch(name):
        builtin = ARCHITECTURES_DIR / f"{name}.yaml"
        if builtin.is_file():
            return Location(builtin, False)
        folder = user_dir()
        upath = folder / f"{name}.yaml"
        if os.path.lexists(upath):
            try:
                problem = _unreadable(upath, folder.resolve(strict=True))
            except OSError as exc:
                problem = f"{upath.name}: cannot read the folder ({exc.strerror})"
            if problem:
                raise PatternError([LocatedError(problem, file=str(upath))])
            return Location(upath, True)
    builtins = ", ".join(p.stem for p in builtin_paths())
    yours = ", ".join(p.stem for p, problem in user_files() if problem is None)
    raise PatternError([LocatedError(f"no pattern {name!r} (built-in: {builtins}"
                                     + (f"; yours: {yours}" if yours else "")
                                     + "; or give a path to a .yaml file)")])


def load(name: str) -> ResolvedPattern:
    """A pattern by id (built-in first, then the user's folder) or by path; see :func:`locate`."""
    where = locate(name)
    return load_pattern(where.path, user=where.user)


def save_user_pattern(text: str, *, overwrite: bool = True) -> Path:
    """Validate a draft and save it as ``<user dir>/<id>.yaml``, durably and without losing anyone's file.

    The id inside the draft names the file. A draft that does not validate raises
    PatternError and writes nothing; a built-in id is refused. Without ``overwrite``
    the file is created exclusively: when another session saved the same id first
    (even a moment ago) this raises PatternError ("already exists") and their file
    stays as it is. With ``overwrite`` the old file is replaced atomically.
    """
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise PatternError([LocatedError(f"the draft is larger than the {MAX_FILE_BYTES // 1024} KiB limit")])
    rp = load_pattern_text(text, "draft.yaml")
    if (ARCHITECTURES_DIR / f"{rp.id}.yaml").exists():
        raise PatternError([LocatedError(f"{rp.id!r} is the id of a built-in pattern; choose another id",
                                         file="draft.yaml", line=rp.doc.line_of(("id",)), path="id")])
    folder = user_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{rp.id}.yaml"
    exists = PatternError([LocatedError(f"{target} already exists; choose another id or replace it",
                                        file="draft.yaml", line=rp.doc.line_of(("id",)), path="id")])
    if not overwrite and os.path.lexists(target):
        raise exists
    fd, tmp = tempfile.mkstemp(prefix=f".{rp.id}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # atomic exclusive create of the final name
            except FileExistsError:
                raise exists from None
            finally:
                Path(tmp).unlink(missing_ok=True)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(folder)
    return target


def _sync_folder(folder: Path) -> None:
    """Make the new directory entry durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
