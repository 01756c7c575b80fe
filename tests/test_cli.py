"""The command line: exit codes, one-line errors, JSON shapes."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import validate
from explorer.cli import main
from explorer.model import library
from explorer.model.loader import builtin_paths
from explorer.model.schema import SCHEMA_PATH, schema_text

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_bad(capsys, *argv):
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    out, err = capsys.readouterr()
    return info.value.code, out, err


def test_list(capsys):
    code, out, _ = run(capsys, "list", "--json")
    ids = {row["id"] for row in json.loads(out)}
    assert code == 0 and ids == {p.stem for p in builtin_paths()}


def test_show_and_types(capsys):
    code, out, _ = run(capsys, "show", "two_stage_recommender")
    assert code == 0 and "peak_qps" in out and "ranker" in out
    code, out, _ = run(capsys, "types")
    assert code == 0 and "gpu_model_server" in out


def test_validate_good_and_bad(capsys):
    good = str(ROOT / "architectures" / "two_stage_recommender.yaml")
    bad = str(ROOT / "tests" / "fixtures" / "invalid" / "dangling_connection.yaml")
    code, out, err = run(capsys, "validate", good, bad)
    assert code == 1
    assert "ok" in out
    assert "dangling_connection.yaml:11: connections[0].to: unknown component 'rankr'" in err
    assert "Traceback" not in err


def test_estimate_json_has_traces(capsys):
    code, out, _ = run(capsys, "estimate", "two_stage_recommender", "--set", "peak_qps=30k", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["values"]["peak_qps"] == 30000
    ranker = data["components"]["ranker"]
    assert ranker["figures"]["utilization"]["formula"]
    assert {i["name"] for i in ranker["figures"]["utilization"]["inputs"]} >= {"λ", "S", "c"}
    assert data["end_to_end"]["p99_ms"] > 0
    assert data["totals"]["cost_usd_month"] > 0


def test_estimate_saturated_is_null_not_nan(capsys):
    code, out, _ = run(capsys, "estimate", "two_stage_recommender", "--set", "peak_qps=2M", "--json")
    assert code == 0
    assert "NaN" not in out and "Infinity" not in out
    data = json.loads(out)
    assert data["end_to_end"]["saturated"] is True
    assert data["end_to_end"]["p99_ms"] is None
    saturated = [c for c in data["components"].values() if c["saturated"]]
    assert saturated and all(c["p99_ms"] is None for c in saturated)


def test_estimate_text_and_autosize(capsys):
    code, out, _ = run(capsys, "estimate", "batch_vs_online_prediction", "--mode", "autosize")
    assert code == 0 and "End to end" in out and "Totals" in out


@pytest.mark.parametrize("argv, message", [
    (["estimate", "nope"], "no pattern 'nope'"),
    (["estimate", "two_stage_recommender", "--set", "qps=1"], "no parameter 'qps'"),
    (["estimate", "two_stage_recommender", "--set", "peak_qps=1"], "outside its range"),
    (["estimate", "two_stage_recommender", "--set", "peak_qps=abc"], "not a number"),
    (["queue", "--arrival-rate", "10", "--service-ms", "0", "--servers", "1"], "--service-ms must be > 0"),
    (["queue", "--arrival-rate", "10", "--service-ms", "5"], "give --servers"),
])
def test_bad_arguments_one_line_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code in (1, 2)
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_argparse_errors_are_one_line(capsys):
    code, _, err = run_bad(capsys, "queue", "--arrival-rate", "x", "--service-ms", "1")
    assert code == 2 and len(err.strip().splitlines()) == 1
    code, _, err = run_bad(capsys, "frobnicate")
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_queue_station_mm1(capsys):
    code, out, _ = run(capsys, "queue", "--arrival-rate", "50", "--service-ms", "10", "--servers", "1", "--json")
    data = json.loads(out)
    mu, lam = 100.0, 50.0
    assert code == 0 and data["utilization"] == pytest.approx(0.5)
    assert data["p99_ms"] == pytest.approx(1000 * math.log(100) / (mu - lam), rel=1e-6)
    assert data["saturated"] is False


def test_queue_sizing_and_saturation(capsys):
    code, out, _ = run(capsys, "queue", "--arrival-rate", "900", "--service-ms", "10", "--sla-ms", "60",
                       "--target-utilization", "0.8", "--json")
    data = json.loads(out)
    assert code == 0 and data["min_servers"] >= 12 and not data["infeasible"]
    assert data["servers"] == data["min_servers"] and data["p99_ms"] <= 60 and data["utilization"] <= 0.8
    code, out, _ = run(capsys, "queue", "--arrival-rate", "900", "--service-ms", "10", "--sla-ms", "20", "--json")
    data = json.loads(out)
    assert data["infeasible"] is True and data["min_servers"] is None and data["p99_ms"] is None
    code, out, _ = run(capsys, "queue", "--arrival-rate", "200", "--service-ms", "10", "--servers", "2", "--json")
    data = json.loads(out)
    assert data["saturated"] is True and data["p99_ms"] is None and data["mean_ms"] is None


def test_schema_committed_is_current():
    committed = SCHEMA_PATH.read_text()
    assert committed == schema_text(), "run `make schema` to refresh explorer/model/pattern.schema.json"


def test_module_entry_point_runs():
    proc = subprocess.run([sys.executable, "-m", "explorer", "list"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and "two_stage_recommender" in proc.stdout


def test_a_pattern_saved_in_the_user_folder_is_found_by_id(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(library.USER_DIR_ENV, str(tmp_path))
    text = (ROOT / "architectures" / "two_stage_recommender.yaml").read_text().replace(
        "id: two_stage_recommender", "id: my_saved_pattern")
    library.save_user_pattern(text)
    code, out, err = run(capsys, "estimate", "my_saved_pattern", "--json")
    assert code == 0, err
    assert json.loads(out)["pattern_id"] == "my_saved_pattern"
    code, out, _ = run(capsys, "show", "my_saved_pattern")
    assert code == 0 and "(my_saved_pattern," in out
    code, out, _ = run(capsys, "export", "my_saved_pattern", "--format", "mermaid")
    assert code == 0 and "flowchart" in out
    code, _, err = run(capsys, "estimate", "my_savd_pattern")
    assert code == 1 and "yours: my_saved_pattern" in err


def test_validate_estimates_every_scenario_and_reports_failures_as_messages(capsys, monkeypatch):
    good = str(ROOT / "architectures" / "two_stage_recommender.yaml")
    code, out, _ = run(capsys, "validate", good)
    assert code == 0 and "estimated in 30 scenarios" in out  # (defaults + 7 parameters × min, max) × 2 modes
    real = validate.analyse

    def failing(rp, values, mode):
        if values.get("candidates") == 5000 and mode == "autosize":
            raise OverflowError("int too large to convert to float")
        return real(rp, values, mode)

    monkeypatch.setattr(validate, "analyse", failing)
    code, out, err = run(capsys, "validate", good)
    assert code == 1 and "ok" not in out and "Traceback" not in err
    assert err.strip() == ("two_stage_recommender.yaml: the autosize estimate fails when candidates=5000 (its max) "
                           "with an internal error (OverflowError: int too large to convert to float); the file is "
                           "valid but the estimator cannot size it — please report this with the file")


def test_validate_never_shows_engine_wording_for_zero_replicas(capsys):
    code, _, err = run(capsys, "validate", str(ROOT / "tests" / "fixtures" / "invalid" / "zero_replicas_with_traffic.yaml"))
    assert code == 1 and "must be at least 1" in err
    assert "inf%" not in err and "p99_target_ms" not in err and "Traceback" not in err
