"""Safe YAML loading that remembers where every value came from.

Only plain data is built (mappings, sequences, strings, numbers, booleans,
null). Tags that would build objects are refused, duplicate keys are refused,
files over a size limit are refused and aliases may not expand past a node
limit ("billion laughs"). Nothing in a file is ever executed.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from explorer.errors import LocatedError, PatternError

MAX_FILE_BYTES = 512 * 1024
"""Largest pattern or catalog file accepted, in bytes."""

MAX_NODES = 50_000
"""Most YAML nodes a document may expand to (aliases included)."""

MAX_DEPTH = 16
"""Deepest nesting of mappings and lists accepted (a pattern needs 5: components[0].overrides.service_ms.value)."""

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null",
}

PathKey = tuple[str | int, ...]

_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it (about 10× faster); its nodes keep their marks, so
every line number stays. The pure-Python loader otherwise."""


@dataclass
class Located:
    """A loaded document and the line of every path inside it."""

    data: Any
    file: str
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: PathKey) -> int | None:
        """Line of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]


def format_path(path: PathKey) -> str:
    """``('connections', 3, 'to')`` → ``connections[3].to``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class _Builder:
    def __init__(self, file: str, max_nodes: int) -> None:
        self.file = file
        self.max_nodes = max_nodes
        self.count = 0
        self.lines: dict[PathKey, int] = {}
        self._scalar = yaml.SafeLoader("")

    def fail(self, node: yaml.Node, path: PathKey, message: str) -> None:
        raise PatternError([LocatedError(message, file=self.file, line=node.start_mark.line + 1,
                                         path=format_path(path) or None)])

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.count += 1
        if self.count > self.max_nodes:
            self.fail(node, path, f"the document expands to more than {self.max_nodes:,} values "
                      "(YAML aliases repeated too often); refusing to load it")
        self.lines.setdefault(path, node.start_mark.line + 1)
        if len(path) > MAX_DEPTH and not isinstance(node, yaml.ScalarNode):
            self.fail(node, path, f"mappings and lists nest more than {MAX_DEPTH} levels deep here; "
                      "a pattern file needs at most 5")
        if isinstance(node, yaml.MappingNode):
            if node.tag != "tag:yaml.org,2002:map":
                self.fail(node, path, f"YAML tag {node.tag!r} is not allowed; only plain mappings, "
                          "lists, strings, numbers, booleans and null are")
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.fail(key_node, path, "YAML merge keys ('<<') are not supported; "
                              "write the keys out")
                if not isinstance(key_node, yaml.ScalarNode):
                    self.fail(key_node, path, "mapping keys must be plain strings")
                key = str(key_node.value)
                if key in out:
                    self.fail(key_node, path + (key,), f"duplicate key {key!r} (first given at line "
                              f"{self.lines.get(path + (key,), '?')})")
                self.lines[path + (key,)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                self.fail(node, path, f"YAML tag {node.tag!r} is not allowed")
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        if node.tag not in _PLAIN_TAGS:
            self.fail(node, path, f"YAML tag {node.tag!r} is not allowed; only plain strings, "
                      "numbers, booleans and null are")
        try:
            return self._scalar.construct_object(node)
        except ValueError as exc:  # e.g. an integer of more than 4300 digits
            shown = repr(node.value[:20]) + ("…" if len(node.value) > 20 else "")
            why = (f"a number may have at most {sys.get_int_max_str_digits()} digits"
                   if "digits" in str(exc) else "it is not a valid YAML value")
            self.fail(node, path, f"cannot read {shown} ({len(node.value)} characters): {why}")


def _parser_input(text: str) -> str | bytes:
    """UTF-8 bytes for libyaml (it reads them about twice as fast as a str); the text itself when it
    cannot be encoded (lone surrogates) or for the pure-Python loader."""
    if _COMPOSER is yaml.SafeLoader:
        return text
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text


def load_text(text: str, file: str = "<text>", *, max_nodes: int = MAX_NODES) -> Located:
    """Load one YAML document from text.

    Raises
    ------
    PatternError
        Syntax errors (with line), forbidden tags, duplicate keys, alias bombs.

    Examples
    --------
    >>> doc = load_text("a:\\n  b: [1, 2]\\n", "x.yaml")
    >>> doc.data, doc.line_of(("a", "b", 1))
    ({'a': {'b': [1, 2]}}, 2)
    """
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise PatternError([LocatedError(
            f"the file is larger than the {MAX_FILE_BYTES // 1024} KiB limit", file=file)])
    try:
        node = yaml.compose(_parser_input(text), Loader=_COMPOSER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.context_mark and exc.problem:
            problem += f" ({exc.context} that starts at line {exc.context_mark.line + 1})"
        raise PatternError([LocatedError(f"YAML syntax error: {problem}", file=file,
                                         line=line)]) from None
    except yaml.YAMLError as exc:
        raise PatternError([LocatedError(f"YAML error: {exc}", file=file)]) from None
    except RecursionError:  # the pure-Python composer recurses per level (libyaml stops at 1000 itself)
        raise PatternError([LocatedError(f"mappings and lists nest more than {MAX_DEPTH} levels deep; "
                                         "a pattern file needs at most 5", file=file,
                                         line=_too_deep_line(text))]) from None
    if node is None:
        return Located(None, file, {})
    builder = _Builder(file, max_nodes)
    data = builder.build(node, ())
    return Located(data, file, builder.lines)


def _too_deep_line(text: str) -> int | None:
    """Line where nesting first passes MAX_DEPTH (the event parser does not recurse, so it can tell)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark.line + 1
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def load_file(path: str | Path, *, max_nodes: int = MAX_NODES) -> Located:
    """Load one YAML file: a regular file only (never blocks on a FIFO or device), size-checked while reading."""
    path = Path(path)
    name = path.name
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise PatternError([LocatedError(f"cannot read the file: {exc.strerror}", file=str(path))]) from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a pipe, socket or device)"
            raise PatternError([LocatedError(f"is {what}, not a pattern file", file=name)])
        if info.st_size > MAX_FILE_BYTES:
            raise PatternError([LocatedError(
                f"the file is {info.st_size / 1024:.0f} KiB, over the {MAX_FILE_BYTES // 1024} KiB limit",
                file=name)])
        try:
            data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise PatternError([LocatedError(f"cannot read the file: {exc.strerror}", file=name)]) from None
    if len(data) > MAX_FILE_BYTES:
        raise PatternError([LocatedError(f"the file is over the {MAX_FILE_BYTES // 1024} KiB limit", file=name)])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PatternError([LocatedError("the file is not UTF-8 text", file=name)]) from None
    return load_text(text, name, max_nodes=max_nodes)
