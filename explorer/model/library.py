"""The pattern library: built-in patterns plus the user's own folder.

The user folder is ``$ARCH_EXPLORER_USER_DIR`` or ``~/.architecture-explorer/patterns``.
Saving is atomic (write a temporary file, then rename); a draft that does not
validate is never written.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from explorer.errors import ExplorerError, LocatedError, PatternError
from explorer.model.loader import ARCHITECTURES_DIR, ResolvedPattern, builtin_paths, load_pattern, load_pattern_text
from explorer.model.yamlio import MAX_FILE_BYTES

USER_DIR_ENV = "ARCH_EXPLORER_USER_DIR"


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


def entries(include_user: bool = True, directory: Path | None = None) -> list[Entry]:
    """Every pattern for a picker: case studies by chapter, building blocks by title, then the user's.

    A file that does not load is listed with its error instead of breaking the list.
    """
    out: list[Entry] = []
    seen: set[str] = set()
    for path in builtin_paths(directory or ARCHITECTURES_DIR):
        out.append(_entry(path, user=False))
        seen.add(path.stem)
    folder = user_dir()
    for path in (sorted(folder.glob("*.yaml")) if include_user and folder.is_dir() else []):
        if path.stem in seen:
            out.append(Entry(path.stem, path.stem, "user", None, (), str(path),
                             error=f"{path.name}: a built-in pattern has the id {path.stem!r}; rename the file"))
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


def load(pattern_id: str) -> ResolvedPattern:
    """A pattern by id: built-in first, then the user's folder."""
    path = ARCHITECTURES_DIR / f"{pattern_id}.yaml"
    if path.exists():
        return load_pattern(path)
    upath = user_dir() / f"{pattern_id}.yaml"
    if upath.exists():
        return load_pattern(upath, user=True)
    known = ", ".join(e.id for e in entries() if not e.error)
    raise PatternError([LocatedError(f"no pattern {pattern_id!r} (known: {known})")])


def save_user_pattern(text: str, *, overwrite: bool = True) -> Path:
    """Validate a draft and save it atomically as ``<user dir>/<id>.yaml``.

    The id inside the draft names the file. A draft that does not validate raises
    PatternError and writes nothing; a built-in id is refused; an existing file is
    replaced only if ``overwrite``.
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
    if target.exists() and not overwrite:
        raise PatternError([LocatedError(f"{target} exists already", file="draft.yaml")])
    fd, tmp = tempfile.mkstemp(prefix=f".{rp.id}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
