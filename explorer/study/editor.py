"""Your own patterns: drafts, validation with line numbers, uploads, saving, the JSON Schema.

The editor page keeps a draft (YAML text) and calls :func:`check_draft` on every rerun.
Validation, size and alias limits and the refusal of object-building tags are the
loader's (:mod:`explorer.model.yamlio`, :mod:`explorer.model.loader`); this module only gathers their
messages for display. Nothing in a pattern file is ever executed. Saving goes through
:func:`explorer.model.library.save_user_pattern` (atomic; an invalid draft writes nothing).

Examples
--------
>>> d = check_draft(template_text())
>>> d.ok, d.pattern_id
(True, 'my_pattern')
>>> bad = check_draft(template_text().replace("type: cpu_model_server", "type: gpu_modle"))
>>> bad.ok, bad.errors[0].line is not None
(False, True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from explorer.errors import ExplorerError, LocatedError, PatternError
from explorer.model.library import save_user_pattern, user_dir
from explorer.model.loader import ARCHITECTURES_DIR, ResolvedPattern, load_pattern_text
from explorer.model.schema import schema_text  # noqa: F401 - the editor page offers it for download
from explorer.model.yamlio import MAX_FILE_BYTES, MAX_NODES

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STARTER = TEMPLATES_DIR / "starter.yaml"
DRAFT_FILE = "draft.yaml"
SCHEMA_FILE = "pattern.schema.json"
SCHEMA_COMMENT = f"# yaml-language-server: $schema=./{SCHEMA_FILE}"
SCHEMA_NOTE = (
    "Save the schema next to your YAML files and put this comment on the first line of each file:\n\n"
    f"`{SCHEMA_COMMENT}`\n\n"
    "Editors that use the YAML language server (VS Code with the Red Hat YAML extension, Neovim, "
    "JetBrains IDEs, Helix, Zed) then complete keys, show each field's description and underline "
    "unknown keys or wrong types as you type. Cross-references (a connection to an unknown component, "
    "a cycle on the request path, an expression naming an unknown parameter) are only checked here "
    "and by `python -m explorer validate FILE`."
)
LIMITS_NOTE = (f"Limits: {MAX_FILE_BYTES // 1024} KiB per file; YAML aliases may expand to at most "
               f"{MAX_NODES:,} values; only plain YAML (mappings, lists, strings, numbers, booleans, null) — "
               "tags that build objects (e.g. !!python/object) are refused. Nothing in a file is ever executed.")


def template_text() -> str:
    """The starter pattern (valid, small, with every section)."""
    return STARTER.read_text(encoding="utf-8")


_ID_LINE = re.compile(r"^id:[ \t]*(.*?)[ \t]*(#.*)?$", re.MULTILINE)


def draft_id(text: str) -> str | None:
    """The top-level ``id:`` of a draft, read from the text (also when the draft is invalid).

    Examples
    --------
    >>> draft_id("title: x\\nid: my_thing  # mine\\n")
    'my_thing'
    """
    m = _ID_LINE.search(text)
    if not m:
        return None
    value = m.group(1).strip().strip("'\"")
    return value or None


def with_id(text: str, new_id: str) -> str:
    """The draft with its top-level ``id:`` replaced (added on top if missing).

    Examples
    --------
    >>> with_id("id: a\\ntitle: t\\n", "b")
    'id: b\\ntitle: t\\n'
    """
    if _ID_LINE.search(text):
        return _ID_LINE.sub(lambda m: f"id: {new_id}", text, count=1)
    return f"id: {new_id}\n" + text


def suggest_id(base: str, taken: set[str] | None = None) -> str:
    """``my_<base>``, numbered if taken, kept within the 64-character id limit.

    Examples
    --------
    >>> suggest_id("news_feed", {"my_news_feed"})
    'my_news_feed_2'
    """
    taken = taken or set()
    stem = ("my_" + base)[:60]
    candidate, n = stem, 2
    while candidate in taken:
        candidate = f"{stem}_{n}"
        n += 1
    return candidate


def builtin_draft(pattern_id: str, taken: set[str] | None = None) -> str:
    """A built-in pattern's YAML as a new draft: renamed to ``my_<id>`` (a built-in id cannot be
    saved) and with the schema comment on top.

    Raises
    ------
    PatternError
        If there is no such built-in pattern.
    """
    path = ARCHITECTURES_DIR / f"{pattern_id}.yaml"
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", pattern_id or "") or not path.is_file():
        raise PatternError([LocatedError(f"no built-in pattern {pattern_id!r}")])
    text = path.read_text(encoding="utf-8")
    text = with_id(text, suggest_id(pattern_id, taken))
    if "yaml-language-server" not in text.split("\n", 1)[0]:
        text = SCHEMA_COMMENT + "\n" + text
    return text


def user_draft(path: str | Path) -> str:
    """The text of a saved user pattern, to edit it again (size-checked)."""
    p = Path(path)
    if p.stat().st_size > MAX_FILE_BYTES:
        raise PatternError([LocatedError(f"the file is over the {MAX_FILE_BYTES // 1024} KiB limit", file=p.name)])
    return p.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- checking

@dataclass(frozen=True)
class DraftCheck:
    """The result of validating a draft."""

    ok: bool
    rp: ResolvedPattern | None
    errors: list[LocatedError] = field(default_factory=list)
    warnings: tuple[str, ...] = ()
    save_blocker: str | None = None
    """Why saving would be refused although the draft is valid (a built-in id)."""

    @property
    def pattern_id(self) -> str | None:
        return self.rp.id if self.rp is not None else None

    @property
    def lines(self) -> list[int]:
        """Lines with an error, sorted, without repeats."""
        return sorted({e.line for e in self.errors if e.line})

    def messages(self) -> list[str]:
        """One ``line N: path: message`` per error."""
        return [_message(e) for e in self.errors]


def _message(e: LocatedError) -> str:
    where = f"line {e.line}: " if e.line else ""
    if e.path:
        where += f"{e.path}: "
    return where + e.message


def check_draft(text: str, file: str = DRAFT_FILE) -> DraftCheck:
    """Validate a draft exactly as a pattern file would be (size, aliases, tags, schema, references).

    Never raises for a bad draft: the problems come back in ``errors`` with their lines.
    """
    if not text.strip():
        return DraftCheck(False, None, [LocatedError("the draft is empty; start from the template or a built-in pattern",
                                                     file=file, line=1)])
    try:
        rp = load_pattern_text(text, file, user=True)
    except PatternError as exc:
        return DraftCheck(False, None, list(exc.errors))
    except ExplorerError as exc:  # e.g. the catalog itself is broken
        return DraftCheck(False, None, [LocatedError(str(exc), file=file)])
    blocker = None
    if (ARCHITECTURES_DIR / f"{rp.id}.yaml").exists():
        blocker = (f"{rp.id!r} is the id of a built-in pattern; change the id (line "
                   f"{rp.doc.line_of(('id',)) or 1}) to save your own copy")
    return DraftCheck(True, rp, [], rp.warnings, blocker)


def excerpt(text: str, line: int, context: int = 2) -> str:
    """The lines around ``line`` with numbers, the line itself marked with ``>``.

    Examples
    --------
    >>> print(excerpt("a: 1\\nb: 2\\nc: 3\\n", 2, 1))
      1 | a: 1
    > 2 | b: 2
      3 | c: 3
    """
    lines = text.splitlines()
    lo, hi = max(1, line - context), min(len(lines), line + context)
    width = len(str(hi))
    return "\n".join(f"{'>' if n == line else ' '} {n:>{width}} | {lines[n - 1]}" for n in range(lo, hi + 1))


# --------------------------------------------------------------------------- uploads, downloads, saving

def read_upload(name: str, data: bytes) -> str:
    """The text of an uploaded file, refusing what the loader would refuse before parsing it.

    Raises
    ------
    PatternError
        Over the size limit, not ``.yaml``/``.yml``, or not UTF-8 text.
    """
    if len(data) > MAX_FILE_BYTES:
        raise PatternError([LocatedError(
            f"the file is {len(data) / 1024:.0f} KiB, over the {MAX_FILE_BYTES // 1024} KiB limit; it was not loaded",
            file=name)])
    if not name.lower().endswith((".yaml", ".yml")):
        raise PatternError([LocatedError("only .yaml or .yml files can be uploaded", file=name)])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PatternError([LocatedError("the file is not UTF-8 text", file=name)]) from None


def download_name(text: str) -> str:
    """File name for downloading a draft: ``<id>.yaml`` when the id is readable."""
    pid = draft_id(text)
    return f"{pid}.yaml" if pid and re.fullmatch(r"[a-z][a-z0-9_]{0,63}", pid) else "pattern.yaml"


def save_draft(text: str, *, overwrite: bool = True) -> Path:
    """Save a valid draft atomically to the user folder (see :func:`explorer.model.library.save_user_pattern`)."""
    return save_user_pattern(text, overwrite=overwrite)


def saved_path(pattern_id: str) -> Path:
    """Where a user pattern with this id is (or would be) saved."""
    return user_dir() / f"{pattern_id}.yaml"
