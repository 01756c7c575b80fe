"""Readable numbers and provisioning flags: no ``None``/``nan``/exponent in what the pages show, over every
pattern at its defaults and at each parameter's ends in both modes; over- and under-provisioned components
flagged with the money at stake; Compare's labels, changes and ordering; the "All online" preset."""

from __future__ import annotations

import math
import re

import pytest

from explorer.engine.analysis import analyse
from explorer.engine.bottlenecks import OVER_PROVISIONED_SHARE, provisioning_flags
from explorer.errors import ScenarioError
from explorer.model.library import load
from explorer.model.loader import builtin_paths
from explorer.study import compare, present
from explorer.units import compact, fmt, format_rate

IDS = [p.stem for p in builtin_paths()]
BAD = re.compile(r"\bNone\b|\bnan\b|\binf\b|\d[eE][-+]?\d")
"""What a reader must never see: None, nan, inf, or a number in scientific notation (2.31e-05)."""


def scenarios(pattern_id: str):
    """Defaults, then every parameter at its min and at its max (one at a time), in both modes."""
    rp = load(pattern_id)
    yield rp, {}, "provisioned"
    yield rp, {}, "autosize"
    for q in rp.pattern.parameters:
        for v in (q.min, q.max):
            for mode in ("provisioned", "autosize"):
                yield rp, {q.name: v}, mode


def shown_texts(report) -> list[str]:
    """Every text the Explore page builds from a report: table cells, headline metrics, callouts."""
    out = []
    for row in present.capacity_rows(report):
        for key, cell in row.items():
            assert cell is not None, f"{key} is None"
            if isinstance(cell, float):  # the utilisation bar: a number the table draws as a percentage
                assert math.isfinite(cell) and key == "Utilisation", f"{key} is not a finite utilisation"
                continue
            out.append(cell)
    for m in present.headline(report) + present.ml_headline(report):
        out += [m.label, m.value, m.delta or ""]
    out += [c.text for c in present.callouts(report)]
    out.append(present.healthy_message(report))
    for v in present.ml_views(report):
        out += [r.value for r in v.rows]
    return out


@pytest.mark.parametrize("pattern_id", IDS)
def test_no_none_nan_or_exponent_anywhere_shown(pattern_id):
    for rp, values, mode in scenarios(pattern_id):
        try:
            report = analyse(rp, values, mode)
        except ScenarioError:
            continue  # a combination the pattern refuses (it says why elsewhere)
        for text in shown_texts(report):
            assert not BAD.search(text), f"{pattern_id} {values} {mode}: {text!r}"
        assert list(present.capacity_rows(report)[0]) == ["id", *present.TABLE_COLUMNS]


def test_rates_pick_a_unit_by_magnitude():
    assert [format_rate(x) for x in (2e4, 3.0, 0.5, 1 / 60, 1 / 3600, 1 / 86400, 2.31e-5)] == \
        ["20k/s", "3/s", "30/min", "1/min", "1/h", "1/day", "2/day"]
    assert format_rate(1e-12) == "< 0.01/day"
    assert fmt(2.31e-05) == "0.0000231" and compact(2.31e-05) == "0.0000231"


def test_status_column_names_infeasible_and_the_legend_covers_every_status():
    from explorer.render.styles import LEGEND_ROWS, STATUS_STYLES
    report = analyse(load("video_recommendation"), {"peak_qps": 2e6, "latency_target_ms": 50}, "autosize")
    statuses = {r["Status"] for r in present.capacity_rows(report)}
    assert "✖ INFEASIBLE" in statuses
    legend = {text for _, text, _ in LEGEND_ROWS}
    covered_by = {"ok": "< 20%", "hot": "▲ HOT", "saturated": "SATURATED", "infeasible": "INFEASIBLE",
                  "idle": "idle / source", "external": "idle / source"}
    assert set(covered_by) == set(STATUS_STYLES), "a new status needs a legend entry"
    for status in STATUS_STYLES:
        assert covered_by[status] in legend, status
    css = present.capacity_status_css(report)
    rows = present.capacity_rows(report)
    infeasible = [c for c, r in zip(css, rows, strict=True) if r["Status"] == "✖ INFEASIBLE"]
    assert infeasible and all("#e4d4f4" in c for c in infeasible)  # the node's purple
    ok_low = [c for c, r in zip(css, rows, strict=True) if r["Status"] == "ok" and r["Utilisation"] < 0.2]
    assert all("#ffffe5" in c for c in ok_low), "a quiet component is pale yellow, not red"


def test_callouts_are_rounded_with_one_full_stop():
    report = analyse(load("video_recommendation"), {"peak_qps": 2e6, "latency_target_ms": 50}, "autosize")
    for c in present.callouts(report):
        assert ".." not in c.text.replace("...", "")
        assert not re.search(r"\d+\.\d{4,}", c.text), c.text
        assert c.icon.startswith(":material/")


# --------------------------------------------------------------------------- provisioning flags

def test_over_provisioned_at_low_traffic_names_the_waste():
    report = analyse(load("ad_click_prediction"), {"peak_qps": 100}, "provisioned")
    flags = provisioning_flags(report)
    over = [f for f in flags if f.kind == "over"]
    assert over and all(f.utilization < OVER_PROVISIONED_SHARE * f.target_utilization for f in over)
    ranker = next(f for f in over if f.component == "ranker")
    c = report.components["ranker"]
    per_replica = c.cost_usd_month / c.replicas
    assert ranker.usd_month == pytest.approx((c.replicas - ranker.recommended) * per_replica, rel=1e-9)
    assert "recommended" in ranker.figure.explain() and ranker.figure.inputs
    message = present.healthy_message(report)
    assert "over-provisioned" in message and "$" in message
    infos = [c for c in present.callouts(report) if c.level == "info"]
    assert infos and all(c.replicas is not None for c in infos)
    assert any(r["Sizing"].startswith("over:") for r in present.capacity_rows(report))


def test_under_provisioned_at_high_traffic_and_none_in_autosize():
    rp = load("two_stage_recommender")
    flags = provisioning_flags(analyse(rp, {"peak_qps": 60_000}, "provisioned"))
    under = [f for f in flags if f.kind == "under"]
    assert under and all(f.replicas < f.recommended and f.usd_month > 0 for f in under)
    assert provisioning_flags(analyse(rp, {"peak_qps": 60_000}, "autosize")) == []


def test_auto_size_one_component_removes_its_flag_and_its_cost():
    rp = load("ad_click_prediction")
    before = analyse(rp, {"peak_qps": 100})
    flag = next(f for f in provisioning_flags(before) if f.component == "ranker")
    after = analyse(rp, {"peak_qps": 100}, replicas={"ranker": flag.recommended})
    assert after.components["ranker"].replicas == flag.recommended
    assert "ranker" not in {f.component for f in provisioning_flags(after)}
    assert before.totals.cost_usd_month - after.totals.cost_usd_month == pytest.approx(flag.usd_month, rel=1e-6)
    assert "set in the scenario" in after.components["ranker"].figures["replicas"].formula
    with pytest.raises(ScenarioError, match="no such server component"):
        analyse(rp, {}, replicas={"client": 1})
    with pytest.raises(ScenarioError, match="whole number"):
        analyse(rp, {}, replicas={"ranker": 0})


def test_replicas_round_trip_through_the_link():
    rp = load("ad_click_prediction")
    state = present.read_query(rp, {"pattern": rp.id, "replicas.ranker": "2", "replicas.bogus": "3"})
    assert state.replicas == {"ranker": 2} and any("replicas.bogus" in n for n in state.notices)
    again = present.read_query(rp, present.write_query(rp, state))
    assert again.replicas == {"ranker": 2} and not again.notices


# --------------------------------------------------------------------------- Compare

def test_compare_speaks_in_labels_and_readable_changes_sorted_by_impact():
    preset = compare.find_preset("batch_vs_online")
    cmp = compare.compare_sides(preset.a, preset.b, load)
    rp = load(preset.a.pattern)
    changes = compare.value_changes(cmp, rp, rp)
    assert "Share served online: 5% → 100%" in changes
    assert "Batch path (precomputed store): on → off" in changes
    table = cmp.text_table()
    assert all(not BAD.search(str(v)) for row in table for v in row.values())
    labels = {c.label for c in cmp.report_a.components.values()}
    assert {row["Component"] for row in table} <= labels
    impacts = [r.impact() for r in cmp.by_impact()]
    assert impacts == sorted(impacts, reverse=True)
    util = next(m for m in cmp.metrics if m.key == "max_utilization")
    assert util.shown("delta").endswith("pts") or util.shown("delta") == "–"
    assert "=" not in compare.describe_side(preset.b, rp)


def test_all_online_removes_the_precompute_path():
    preset = compare.find_preset("batch_vs_online")
    rp = load(preset.b.pattern)
    online = analyse(rp, preset.b.values, preset.b.mode)
    assert online.components["predictions"].calls_per_s == 0, "no read of precomputed results"
    assert online.components["batch_scoring"].calls_per_s == 0, "no nightly job"
    assert all(j.items_per_run == 0 for j in online.batch_jobs)
    assert "precompute" not in {s.key for s in online.ml}
    assert "ml_cost_usd_month" not in online.totals.figures
    assert online.components["online_model"].calls_per_s == pytest.approx(online.components["api"].calls_per_s)
    # the pattern's defaults are the hybrid design, unchanged
    hybrid = analyse(rp, {}, "provisioned")
    assert hybrid.values["precomputed"] == 1
    assert hybrid.components["predictions"].calls_per_s > 0 and hybrid.components["online_model"].calls_per_s > 0
