"""The analysis as passes: frozen reports, statuses as an enum, the JSON serialiser, the deadline."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from explorer.engine import constants
from explorer.engine.analysis import DEFAULT_UTILIZATION, HOURS_PER_MONTH, LATTICE_POINTS, USABLE_MEMORY_FRACTION, analyse
from explorer.engine.report import Status
from explorer.errors import AnalysisTooLarge, ExplorerError
from explorer.model.loader import ARCHITECTURES_DIR, builtin_paths, load_pattern
from tests.generated import generated_pattern

TWO_STAGE = load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml")


def _reference_dict(report) -> dict:
    """What ``to_dict`` gave before it had its own walker: ``asdict`` then cleaning (lazily built
    figures are deep-copied as figures by ``asdict``: they are converted here)."""

    def clean(obj):
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return clean(dataclasses.asdict(obj))
        if isinstance(obj, dict):
            return {k: clean(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [clean(v) for v in obj]
        if isinstance(obj, float):
            if not math.isfinite(obj):
                return None
            return round(obj, 6) if abs(obj) < 1e15 else obj
        return obj

    return clean(dataclasses.asdict(report))


def test_constants_are_importable_from_analysis():
    assert (HOURS_PER_MONTH, USABLE_MEMORY_FRACTION, DEFAULT_UTILIZATION, LATTICE_POINTS) == (
        constants.HOURS_PER_MONTH, constants.USABLE_MEMORY_FRACTION, constants.DEFAULT_UTILIZATION,
        constants.LATTICE_POINTS)


def test_reports_are_frozen():
    r = analyse(TWO_STAGE, {"peak_qps": 20000})
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.mode = "autosize"
    c = next(iter(r.components.values()))
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.status = Status.HOT
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.edges[0].on_critical_path = True
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.end_to_end.meets_target = False


def test_statuses_are_an_enum_that_compares_as_strings():
    r = analyse(TWO_STAGE, {"peak_qps": 2_000_000})
    statuses = {c.status for c in r.components.values()}
    assert all(isinstance(s, Status) for s in statuses)
    assert "saturated" in statuses and Status.SATURATED in statuses
    assert {s.value for s in Status} == {"ok", "hot", "saturated", "infeasible", "external", "idle", "slow"}
    assert all(isinstance(b.status, Status) for b in r.bottlenecks)


def test_critical_path_edges_are_the_critical_path():
    r = analyse(TWO_STAGE, {"peak_qps": 20000})
    on = [e for e in r.edges if e.on_critical_path]
    assert on, "the request path has a critical path"
    path = r.end_to_end.critical_path
    for e in on:
        assert e.source in path and e.target in path


@pytest.mark.parametrize("path", builtin_paths()[:6], ids=lambda p: p.stem)
def test_to_dict_matches_asdict_then_clean(path):
    rp = load_pattern(path)
    for mode in ("provisioned", "autosize"):
        r = analyse(rp, mode=mode)
        assert r.to_dict() == _reference_dict(r)


def test_to_json_is_to_dict_as_indented_utf8_json():
    r = analyse(TWO_STAGE, {"peak_qps": 2_000_000})
    text = r.to_json()
    assert json.loads(text) == r.to_dict()
    assert text.startswith('{\n  "pattern_id": ')
    assert "ρ" in text  # UTF-8 kept, not escaped


def test_deadline_stops_a_large_analysis_with_a_plain_message():
    rp = generated_pattern(1000)
    with pytest.raises(AnalysisTooLarge, match=r"too large to analyse live: 1,000 components, stopped after 0\.0 s"):
        analyse(rp, deadline_s=0.0)
    assert issubclass(AnalysisTooLarge, ExplorerError)


def test_no_deadline_or_a_generous_one_changes_nothing():
    a = analyse(TWO_STAGE, {"peak_qps": 20000})
    b = analyse(TWO_STAGE, {"peak_qps": 20000}, deadline_s=600.0)
    assert a.to_dict() == b.to_dict()


def test_deadline_is_checked_inside_the_composition(monkeypatch):
    """A clock that passes the limit only after sizing: the composition loop must notice."""
    ticks = iter(range(10_000))
    monkeypatch.setattr(constants.time, "perf_counter", lambda: float(next(ticks)))
    rp = generated_pattern(100)
    n = len(rp.pattern.components)
    # started at 0; sizing checks n times (1..n), so a limit just above n only trips in the composition
    with pytest.raises(AnalysisTooLarge):
        analyse(rp, deadline_s=n + 1.5)


def test_lazy_figures_pickle_and_compare_as_plain_dicts():
    import pickle

    r = analyse(TWO_STAGE, {"peak_qps": 20000})
    c = r.components["ranker"] if "ranker" in r.components else next(iter(r.components.values()))
    back = pickle.loads(pickle.dumps(c))
    assert type(back.figures) is dict
    assert back.figures == c.figures and c.figures == back.figures
    assert list(back.figures) == list(c.figures)
    assert c.figures["status"].value == c.status
