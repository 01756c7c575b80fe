"""Hostile pattern files: mutate the built-in patterns and check that nothing crashes, hangs or prints NaN.

Each example takes a built-in pattern's YAML, applies a few mutations (numbers set to extreme values,
strings to hostile ones, keys deleted or duplicated, values nested deeply or swapped for another type)
and runs what a user's file goes through: validation, the estimate in both modes (``estimate --json``
is ``report.to_dict()``), and the Markdown and Mermaid exports. It asserts that

- only the project's own errors (:class:`explorer.errors.ExplorerError`) escape;
- every example finishes within ``LIMIT_S`` (a hang is cut by an alarm and reported);
- no NaN or infinity reaches the JSON, and no ``nan``/``inf`` reaches the Markdown or Mermaid text.

``make test`` runs a small, fixed (derandomised) set; ``make fuzz`` runs ``FUZZ_EXAMPLES`` examples
(100,000 by default there) with fresh randomness::

    FUZZ_EXAMPLES=100000 python -m pytest tests/test_fuzz.py -p no:cacheprovider
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
from contextlib import contextmanager
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.engine.analysis import analyse
from explorer.errors import ExplorerError
from explorer.export import export
from explorer.model.loader import builtin_paths, load_pattern_text

LIMIT_S = 2.0
"""Most seconds one example may take (validation, two estimates, two exports)."""

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0"))
"""Examples for a long run (``make fuzz``); 0 means the small, fixed run of ``make test``."""

SEEDS = {p.stem: p.read_text(encoding="utf-8") for p in builtin_paths()}
SEED_DATA = {k: yaml.safe_load(v) for k, v in SEEDS.items()}

EXTREME_NUMBERS = [0, -1, 1, 0.5, 2.5, -0.0, 1e-308, 5e-324, 1e6, 1e9, 1e12, 1e15, 1e18, 1e21, 1e300,
                   1e308, -1e308, 2**53 + 1, 2**63, 10**40, float("inf"), float("-inf"), float("nan")]
HOSTILE_STRINGS = [
    "", " ", "x" * 300, "é" * 90, "a\nb", "\u202eevil", "<script>alert(1)</script>", "]]>;{}[]|\"'`",
    "%s%n%x", "${HOME}", "../../etc/passwd", "con", "nul", "com1", "a" * 64, "A_b", "0abc", "_x",
    "(-8)**0.5", "min()", "max(1)", "sqrt(1, 2)", "9**9**9", "peak_qps / 0", "1e308 * 10", "((((1))))",
    "-" * 150 + "1", "(" * 60 + "1" + ")" * 60, "peak_qps ** 64", "2**64**64", "floor(1e308 * 10)",
    "log2(0)", "sqrt(-1)", "__import__('os')", "lambda: 1", "[1, 2]", "x if y else z", "true", "null",
    "candidates * 1e300", "1 // 0.0", "peak_qps % 0",
]
DEEP = [1]
for _ in range(40):
    DEEP = [DEEP]

_TOKEN = re.compile(r"(?<![A-Za-z])(nan|inf|infinity)(?![A-Za-z])", re.IGNORECASE)


# --------------------------------------------------------------------------- mutations

def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Every path to a value inside a loaded document (the root excluded)."""
    out = []
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return out
    for key, value in items:
        out.append(path + (key,))
        out.extend(_paths(value, path + (key,)))
    return out


def _get(doc: Any, path: tuple) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _parent(doc: Any, path: tuple) -> tuple[Any, Any]:
    return _get(doc, path[:-1]), path[-1]


@st.composite
def _mutation(draw: st.DrawFn, doc: Any) -> None:
    """Apply one mutation to ``doc`` in place."""
    paths = _paths(doc)
    numeric = [p for p in paths if isinstance(_get(doc, p), (int, float)) and not isinstance(_get(doc, p), bool)]
    kind = draw(st.sampled_from(["scale", "scale", "scale", "number", "number", "string", "delete", "duplicate",
                                 "deep", "swap", "expression"]))
    if kind in ("scale", "number") and numeric:
        paths = numeric
    if not paths:
        return
    path = draw(st.sampled_from(paths))
    parent, key = _parent(doc, path)
    value = parent[key]
    if kind == "scale" and isinstance(value, (int, float)) and not isinstance(value, bool):
        # a plausible-looking change that keeps the file valid more often: ×10^k, or a value in range
        if draw(st.booleans()):
            parent[key] = value * 10.0 ** draw(st.integers(-9, 12))
        else:
            parent[key] = draw(st.floats(0, 1e9, allow_nan=False) | st.integers(0, 10**9))
    elif kind in ("scale", "number"):
        parent[key] = draw(st.sampled_from(EXTREME_NUMBERS) | st.floats(allow_nan=True, allow_infinity=True)
                           | st.integers(min_value=-(10**30), max_value=10**30))
    elif kind == "string":
        parent[key] = draw(st.sampled_from(HOSTILE_STRINGS) | st.text(max_size=80))
    elif kind == "expression":
        params = doc.get("parameters") if isinstance(doc.get("parameters"), list) else []
        names = [q.get("name") for q in params if isinstance(q, dict)] or ["x"]
        ops = draw(st.lists(st.sampled_from(["+", "-", "*", "/", "**", "//", "%"]), min_size=1, max_size=4))
        terms = draw(st.lists(st.sampled_from([str(n) for n in names] + ["0", "1e308", "-1", "0.5", "64"]),
                              min_size=len(ops) + 1, max_size=len(ops) + 1))
        parent[key] = "".join(t + (f" {o} " if i < len(ops) else "") for i, (t, o) in
                              enumerate(zip(terms, ops + [""], strict=True)))
    elif kind == "delete":
        del parent[key]
    elif kind == "duplicate":
        if isinstance(parent, list):
            parent.insert(key, json.loads(json.dumps(value)))
        else:
            parent[key] = [value, json.loads(json.dumps(value))]
    elif kind == "deep":
        deep = json.loads(json.dumps(DEEP))  # a fresh copy: later mutations may edit it
        parent[key] = deep if draw(st.booleans()) else {"a": {"b": {"c": {"d": {"e": {"f": value}}}}}}
    else:  # swap the type
        parent[key] = draw(st.sampled_from([None, True, [], {}, [value], {"value": value}, str(value), 1e9]))


@st.composite
def hostile_texts(draw: st.DrawFn) -> tuple[str, str]:
    """``(seed id, YAML text)``: a built-in pattern with one to four mutations."""
    seed = draw(st.sampled_from(sorted(SEEDS)))
    doc = json.loads(json.dumps(SEED_DATA[seed]))  # a deep copy of plain data
    for _ in range(draw(st.integers(1, 4))):
        draw(_mutation(doc))
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10_000)
    if draw(st.integers(0, 9)) == 0:  # a duplicated key, which only exists in text
        lines = text.splitlines()
        i = draw(st.integers(0, len(lines) - 1))
        text = "\n".join(lines[: i + 1] + [lines[i]] + lines[i + 1:]) + "\n"
    return seed, text


# --------------------------------------------------------------------------- the target

class TookTooLong(Exception):
    """An example ran past LIMIT_S."""


@contextmanager
def _time_limit(seconds: float):
    def alarm(signum, frame):
        raise TookTooLong(f"over {seconds} s")
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _non_finite(obj: Any, path: str = "") -> list[str]:
    if isinstance(obj, float):
        return [] if math.isfinite(obj) else [path]
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _non_finite(v, f"{path}.{k}")]
    if isinstance(obj, (list, tuple)):
        return [p for i, v in enumerate(obj) for p in _non_finite(v, f"{path}[{i}]")]
    return []


def run_hostile(text: str) -> str:
    """What happens to a user's file; returns ``"refused"`` or ``"ok"``, raises on a defect."""
    with _time_limit(LIMIT_S):
        try:
            rp = load_pattern_text(text, "fuzz.yaml")
        except ExplorerError as exc:
            assert str(exc).strip(), "an error without a message"
            return "refused"
        for mode in ("provisioned", "autosize"):
            try:
                report = analyse(rp, {}, mode)
            except ExplorerError:
                continue  # a located message, not a crash (validate reports these too)
            data = report.to_dict()
            assert not _non_finite(data), f"{mode}: not finite at {_non_finite(data)[:5]}"
            json.dumps(data, allow_nan=False)
            for fmt in ("md", "mermaid"):
                try:
                    out = export(rp, {}, mode, fmt, report=report).decode("utf-8")
                except ExplorerError:
                    continue
                given = {m.group(0).lower() for m in _TOKEN.finditer(text)}  # words the file itself wrote
                hits = [m.group(0) for m in _TOKEN.finditer(out) if m.group(0).lower() not in given]
                assert not hits, f"{mode} {fmt}: {hits[:3]} in the export"
        return "ok"


# --------------------------------------------------------------------------- the tests

_SETTINGS = settings(
    max_examples=EXAMPLES or 120,
    derandomize=not EXAMPLES,
    deadline=None,  # the alarm in run_hostile is the hard limit
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


@_SETTINGS
@given(hostile_texts())
def test_mutated_patterns_fail_only_with_messages(seed_and_text: tuple[str, str]) -> None:
    _seed, text = seed_and_text
    run_hostile(text)


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_unmutated_seeds_pass_the_whole_target(seed: str) -> None:
    assert run_hostile(SEEDS[seed]) == "ok"


def test_the_target_can_fail() -> None:
    with pytest.raises(TookTooLong):
        with _time_limit(0.05):
            while True:
                pass
    assert _non_finite({"a": [1.0, float("nan")]}) == [".a[1]"]
