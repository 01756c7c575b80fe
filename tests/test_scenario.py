"""Scenario values from the CLI and URLs."""

import pytest

from explorer.errors import ScenarioError
from explorer.model.loader import ARCHITECTURES_DIR, load_pattern
from explorer.model.scenario import check_values, from_query, parse_number, parse_sets

RP = load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml")


@pytest.mark.parametrize("text, value", [("20000", 2e4), ("2e4", 2e4), ("20k", 2e4), ("1.5M", 1.5e6),
                                         ("10B", 1e10), ("1,000", 1000), ("3G", 3e9)])
def test_parse_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["abc", "", "1e999", "nan", "--1"])
def test_parse_number_refuses(text):
    with pytest.raises(ScenarioError):
        parse_number(text)


def test_check_values_ranges_and_names():
    vals = check_values(RP, {"peak_qps": 1234.0})
    assert vals["peak_qps"] == 1234 and isinstance(vals["peak_qps"], int)  # integer parameter
    with pytest.raises(ScenarioError, match="outside its range 100 to 2,000,000"):
        check_values(RP, {"peak_qps": 1})
    with pytest.raises(ScenarioError, match="no parameter 'qps' .known: peak_qps"):
        check_values(RP, {"qps": 1000})


def test_parse_sets():
    assert parse_sets(RP, ["peak_qps=60k", "candidates=800"])["candidates"] == 800
    with pytest.raises(ScenarioError, match="NAME=VALUE"):
        parse_sets(RP, ["peak_qps"])


def test_query_falls_back_with_notices():
    values, notices = from_query(RP, {"peak_qps": "abc", "candidates": "1e9", "results": "30", "other": "x"})
    assert values["peak_qps"] == RP.defaults()["peak_qps"]
    assert values["candidates"] == RP.defaults()["candidates"]
    assert values["results"] == 30
    assert len(notices) == 2 and any("peak_qps" in n for n in notices) and any("candidates" in n for n in notices)


@pytest.mark.parametrize("value", [102.5, 1234.4, 100.000001])
def test_integer_parameters_refuse_fractions_instead_of_rounding(value):
    with pytest.raises(ScenarioError, match=r"is not a whole number; peak_qps takes whole numbers from 100 to 2,000,000"):
        check_values(RP, {"peak_qps": value})
    with pytest.raises(ScenarioError, match="not a whole number"):
        parse_sets(RP, [f"results={value / 100 + 5}"])
    values, notices = from_query(RP, {"peak_qps": str(value + 1000)})
    assert values["peak_qps"] == RP.defaults()["peak_qps"]
    assert notices == [f"peak_qps={value + 1000} is not a whole number; using the default 20,000."]
