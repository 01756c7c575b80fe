"""Study: questions answered by the engine's figures, tolerance checks, determinism, bottleneck puzzles."""

from __future__ import annotations

import math

import pytest

from explorer.engine.analysis import analyse
from explorer.model.choice import with_models
from explorer.model.library import entries, load
from explorer.study import practice as study

PATTERNS = [e.id for e in entries(include_user=False)]


@pytest.fixture(scope="module")
def rp():
    return load("two_stage_recommender")


def test_walkthrough_has_seven_steps_and_talking_points(rp) -> None:
    steps = study.walkthrough(rp)
    assert [s.number for s in steps] == list(range(1, 9))
    assert [s.key for s in steps[:7]] == ["requirements", "framing", "data", "model", "evaluation", "serving",
                                         "monitoring"]
    assert steps[0].text.startswith("Show each user")
    assert steps[-1].talking_points == tuple(rp.pattern.notes.talking_points)
    assert any("Peak QPS" in f for f in steps[0].facts)
    assert any("End-to-end p99" in f for f in steps[5].facts)


@pytest.mark.parametrize("pattern_id", PATTERNS)
def test_questions_are_the_engines_figures(pattern_id: str) -> None:
    rp = load(pattern_id)
    qs = study.generate_questions(rp, seed=5, n=6)
    assert qs, f"no questions for {pattern_id}"
    assert len({q.id for q in qs}) == len(qs)
    reports = {}
    for q in qs:
        key = (q.mode, tuple(sorted(q.models.items())))
        if key not in reports:  # a model-choice question is asked of the design with its family chosen
            reports[key] = analyse(with_models(rp, q.models), q.values, q.mode)
        fig = reports[key].components[q.component].figures[q.figure.key]
        assert q.answer == pytest.approx(float(fig.value))
        assert q.figure == fig
        assert q.explanation[0].endswith(fig.explain())
        assert math.isfinite(q.answer)
        assert q.givens and q.text


def test_generation_is_deterministic_with_a_seed(rp) -> None:
    a = study.generate_questions(rp, seed=7, n=5)
    b = study.generate_questions(rp, seed=7, n=5)
    assert [(q.id, q.text, q.answer, q.givens) for q in a] == [(q.id, q.text, q.answer, q.givens) for q in b]
    others = [study.generate_questions(rp, seed=s, n=5) for s in (8, 9, 10)]
    assert any([q.id for q in o] != [q.id for q in a] or [q.answer for q in o] != [q.answer for q in a]
               for o in others)


def test_questions_vary_in_kind(rp) -> None:
    qs = study.generate_questions(rp, seed=2, n=5)
    assert len({q.kind for q in qs}) >= 4


def test_tolerance_check(rp) -> None:
    q = next(q for q in study.generate_questions(rp, seed=1, n=6) if q.kind == "memory")
    assert study.check_answer(q, q.answer).correct
    assert study.check_answer(q, q.answer * 1.14).correct
    assert study.check_answer(q, q.answer * 0.86).correct
    assert not study.check_answer(q, q.answer * 1.16).correct
    wrong = study.check_answer(q, q.answer * 2)
    assert not wrong.correct and "too high" in wrong.message and "engine says" in wrong.message
    assert study.check_answer(q, f"{q.answer:.6g} GB").correct


def test_percent_answers_for_utilisation(rp) -> None:
    q = next(q for s in range(1, 6) for q in study.generate_questions(rp, seed=s, n=6) if q.kind == "utilization")
    assert study.check_answer(q, f"{q.answer * 100:.4f}%").correct
    assert study.check_answer(q, f"{q.answer:.4f}").correct
    bad = study.check_answer(q, "lots")
    assert not bad.correct and bad.given is None and "not a number" in bad.message


def test_counts_have_at_least_one_unit_of_slack() -> None:
    assert study.within(2, 3, 0.15, 1.0)
    assert not study.within(2, 4, 0.15, 1.0)
    assert study.within(100, 85, 0.15)
    assert not study.within(100, 84.9, 0.15)


def test_parse_answer() -> None:
    assert study.parse_answer("45%") == pytest.approx(0.45)
    assert study.parse_answer("$3,200") == 3200
    assert study.parse_answer("1.5M") == 1_500_000
    assert study.parse_answer("12 replicas") == 12
    assert study.parse_answer("45", percent=True) == pytest.approx(0.45)
    assert study.parse_answer("0.45", percent=True) == pytest.approx(0.45)
    with pytest.raises(Exception, match="not a number"):
        study.parse_answer("twelve")


def test_progress_counts_each_question_once() -> None:
    p = study.new_progress()
    p = study.record(p, "q1", True)
    p = study.record(p, "q1", False)
    p = study.record(p, "q2", False)
    assert (p["answered"], p["right"]) == (2, 1)


@pytest.mark.parametrize("pattern_id", PATTERNS)
def test_bottleneck_puzzle_stresses_one_component(pattern_id: str) -> None:
    rp = load(pattern_id)
    pz = study.bottleneck_puzzle(rp, seed=0)
    assert pz is not None
    r = analyse(rp, pz.values, pz.mode)
    assert r.components[pz.answer].utilization == max(
        c.utilization for c in r.components.values() if c.status not in ("external", "idle"))
    assert pz.answer in dict(pz.options)
    assert study.check_bottleneck(pz, pz.answer).correct
    wrong = next((cid for cid, _ in pz.options if cid not in pz.accepted), None)
    if wrong is not None:
        v = study.check_bottleneck(pz, wrong)
        assert not v.correct
        assert any("Utilisation" in line for line in v.proof)


def test_bottleneck_scenario_is_just_past_saturation(rp) -> None:
    pz = study.bottleneck_puzzle(rp, seed=1)
    r = analyse(rp, pz.values, pz.mode)
    assert r.components[pz.answer].saturated
    q = next(p for p in rp.pattern.parameters if p.name == pz.parameter)
    lower = max(q.min, pz.value / 1.2)
    below = analyse(rp, {**pz.values, pz.parameter: round(lower) if q.integer else lower}, pz.mode)
    assert not any(c.saturated for c in below.components.values())
    assert study.bottleneck_puzzle(rp, seed=1) == pz  # deterministic


def test_bottleneck_verdict_shows_the_trace(rp) -> None:
    pz = study.bottleneck_puzzle(rp, seed=2)
    v = study.check_bottleneck(pz, pz.answer)
    assert v.correct and v.message.startswith("Right")
    assert any(line.startswith(f"{pz.answer}: Utilisation") and "ρ = λ·S / c" in line for line in v.proof)
