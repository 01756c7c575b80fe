"""Every built-in pattern's ``estimate --json`` at its defaults and at every parameter's min and max, in both
modes, matches the recorded golden output (floats to 1e-9 relative). See ``tests/golden_estimates.py``."""

from __future__ import annotations

import pytest

from tests import golden_estimates as golden


@pytest.mark.parametrize("pattern_id", golden.pattern_ids())
def test_estimates_match_golden(pattern_id):
    assert golden.path_for(pattern_id).exists(), f"no golden output for {pattern_id}: run `make golden`"
    expected = golden.read(pattern_id)
    actual = golden.record(pattern_id)
    assert sorted(actual) == sorted(expected), "the golden scenarios changed: run `make golden` and say why"
    problems = []
    for key in sorted(expected):
        diffs = golden.differences(expected[key], actual[key])
        problems += [f"[{key}] {d}" for d in diffs[:5]]
    assert not problems, "\n".join(problems[:40])
