"""The built-in patterns, listed and loaded once for every test that runs over all of them.

Use ``@ALL_PATHS`` to parametrise a test by pattern file, or ``load(pattern_id)`` for a cached
:class:`~explorer.model.loader.ResolvedPattern` (loading is pure: the same file gives the same object).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from explorer.model.loader import ARCHITECTURES_DIR, ResolvedPattern, builtin_paths, load_pattern

PATHS: list[Path] = builtin_paths()
"""Every built-in pattern file, sorted by name."""
IDS: list[str] = [p.stem for p in PATHS]
"""Their ids, in the same order."""

ALL_PATHS = pytest.mark.parametrize("path", PATHS, ids=IDS)
"""Parametrise a test over every built-in pattern file (argument ``path``)."""


def path_of(pattern_id: str) -> Path:
    """The file of a built-in pattern."""
    return ARCHITECTURES_DIR / f"{pattern_id}.yaml"


@functools.cache
def load(pattern_id: str) -> ResolvedPattern:
    """A built-in pattern, loaded once per test session."""
    return load_pattern(path_of(pattern_id))
