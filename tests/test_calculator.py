"""The calculator: one station against the queueing closed forms, and the chain shortcuts against the true p99."""

from __future__ import annotations

import math

import pytest

from explorer.engine import queueing
from explorer.engine.calculator import CHAIN_PRESETS, StageSpec, chain_figures, parse_stage, station_figures
from explorer.engine.report import Figure
from explorer.errors import ScenarioError


@pytest.mark.parametrize(("lam", "s_ms"), [(50.0, 10.0), (900.0, 1.0), (1.0, 100.0), (0.0, 5.0)])
def test_mm1_matches_closed_forms(lam: float, s_ms: float) -> None:
    r = station_figures(lam, s_ms, 1)
    mu = 1000.0 / s_ms
    f = r.figures
    assert f["utilization"].value == pytest.approx(lam / mu)
    assert f["p99_ms"].value == pytest.approx(math.log(100) / (mu - lam) * 1000, rel=1e-9)
    assert f["p50_ms"].value == pytest.approx(math.log(2) / (mu - lam) * 1000, rel=1e-9)
    assert f["mean_ms"].value == pytest.approx(1000 / (mu - lam), rel=1e-9)
    assert f["p_wait"].value == pytest.approx(lam / mu)
    assert f["p99_closed_form_ms"].value == pytest.approx(f["p99_ms"].value, rel=1e-9)
    assert f["capacity_per_s"].value == pytest.approx(mu)


def test_mmc_matches_erlang_c() -> None:
    # c = 2, a = 1: C = 1/3, Wq = C / (c mu - lambda)
    r = station_figures(100.0, 10.0, 2)
    assert r.figures["p_wait"].value == pytest.approx(1 / 3)
    assert r.figures["mean_ms"].value == pytest.approx((1 / 3) / (200 - 100) * 1000 + 10)
    assert r.figures["utilization"].value == pytest.approx(0.5)
    assert "p99_closed_form_ms" not in r.figures


def test_every_figure_has_a_formula_and_explains() -> None:
    r = station_figures(900.0, 10.0, 12, p99_target_ms=60.0, target_utilization=0.8)
    for f in r.figures.values():
        assert isinstance(f, Figure)
        assert f.formula
        assert f.explain().startswith(f.label)


def test_fewest_servers_for_a_p99_target_is_the_engines() -> None:
    r = station_figures(900.0, 10.0, 12, p99_target_ms=60.0)
    assert r.figures["min_servers"].value == queueing.size_servers(900.0, 10.0, p99_target_ms=60.0).min_servers == 11
    assert r.figures["p99_at_min_ms"].value <= 60.0
    fewer = queueing.station(900.0, 10.0, 10)
    assert fewer.p99_ms > 60.0


def test_infeasible_target_says_so() -> None:
    r = station_figures(900.0, 10.0, 12, p99_target_ms=40.0)  # below ln(100) × 10 ms
    assert r.figures["min_servers"].value is None
    assert "no number of servers" in r.figures["min_servers"].note


def test_saturated_station_has_no_latency() -> None:
    r = station_figures(300.0, 10.0, 2)
    assert r.saturated
    assert r.figures["utilization"].value == pytest.approx(1.5)
    assert r.figures["p99_ms"].value is None
    assert "saturated" in r.figures["p99_ms"].explain()


@pytest.mark.parametrize("bad", [dict(arrival_per_s=-1, service_ms=1, servers=1),
                                 dict(arrival_per_s=1, service_ms=0, servers=1),
                                 dict(arrival_per_s=1, service_ms=1, servers=0),
                                 dict(arrival_per_s=1, service_ms=1, servers=2.5),
                                 dict(arrival_per_s=float("nan"), service_ms=1, servers=1)])
def test_bad_inputs_are_plain_errors(bad: dict) -> None:
    with pytest.raises(ScenarioError):
        station_figures(**bad)


@pytest.mark.parametrize("stages", [
    [StageSpec("a", 2.0, 8), StageSpec("b", 5.0, 4), StageSpec("c", 15.0, 16)],
    [StageSpec("a", 10.0, 1), StageSpec("b", 10.0, 1)],
    [StageSpec("a", 1.0, 2, service_cv=0.3), StageSpec("b", 20.0, 40, service_cv=2.0), StageSpec("c", 3.0, 2)],
])
def test_sum_of_p99s_is_at_least_the_true_p99_of_a_chain(stages: list[StageSpec]) -> None:
    r = chain_figures(50.0, stages)
    true = r.figures["true_p99_ms"].value
    assert r.figures["sum_stage_p99_ms"].value >= true
    assert r.figures["sum_error_pct"].value >= 0
    assert max(s.figures["stage_p99_ms"].value for s in r.stages) <= true


@pytest.mark.parametrize("k", [2, 10, 100, 1000])
def test_max_of_branch_p99s_is_at_most_the_true_p99_of_a_fanout(k: int) -> None:
    r = chain_figures(200.0, [StageSpec("shards", 5.0, 4, k)])
    true = r.figures["true_p99_ms"].value
    assert r.figures["max_branch_p99_ms"].value <= true
    assert r.figures["max_error_pct"].value < 0
    # the stage's p99 is the branch's 0.99^(1/k) quantile, and the lattice agrees with it
    exact = queueing.response_quantile(queueing.station(200.0, 5.0, 4), 0.99 ** (1 / k))
    assert r.stages[0].figures["stage_p99_ms"].value == pytest.approx(exact, rel=1e-9)
    assert true == pytest.approx(exact, rel=0.01)


def test_chain_of_one_plain_stage_is_the_station() -> None:
    r = chain_figures(50.0, [StageSpec("only", 10.0, 1)])
    assert r.figures["true_p99_ms"].value == pytest.approx(math.log(100) / 50 * 1000, rel=0.01)
    assert r.figures["true_mean_ms"].value == pytest.approx(20.0, rel=0.01)


def test_chain_mean_is_the_sum_of_stage_means() -> None:
    r = chain_figures(300.0, list(CHAIN_PRESETS["Three services in a row (no fan-out)"][1]))
    assert r.figures["true_mean_ms"].value == pytest.approx(
        sum(queueing.station(300.0, s.spec.service_ms, s.spec.servers).mean_ms for s in r.stages), rel=0.01)


def test_saturated_chain_reports_no_latency() -> None:
    r = chain_figures(2000.0, [StageSpec("a", 2.0, 8), StageSpec("b", 5.0, 4, 10)])
    assert r.saturated
    assert r.figures["true_p99_ms"].value is None
    assert "b" in r.figures["true_p99_ms"].note


def test_presets_all_run() -> None:
    for lam, stages in CHAIN_PRESETS.values():
        r = chain_figures(lam, list(stages))
        assert not r.saturated
        assert all(math.isfinite(f.value) for f in r.figures.values())


def test_stage_checks() -> None:
    with pytest.raises(ScenarioError, match="fan-out"):
        chain_figures(10.0, [StageSpec("a", 1.0, 1, 0)])
    with pytest.raises(ScenarioError, match="1 to"):
        chain_figures(10.0, [])
    with pytest.raises(ScenarioError, match="whole numbers"):
        parse_stage("x", 1.0, 2.5, 1)
    assert parse_stage("x", 1.0, 2.0, 3.0) == StageSpec("x", 1.0, 2, 3)
