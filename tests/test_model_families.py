"""Model choice as a scenario: the family catalog is sourced, a default family is the pattern as written,
another family moves the figures the expected way with traces that name it, and the choice survives the URL,
the CLI, the exports and the Compare presets."""

from __future__ import annotations

import json
import re

import pytest

from explorer.cli import main
from explorer.engine.analysis import analyse
from explorer.engine.traffic import traffic
from explorer.errors import PatternError, ScenarioError
from explorer.export import filename, study_note_markdown
from explorer.model import library
from explorer.model.choice import chosen, models_query, parse_models, selectors, with_models
from explorer.model.families import FamilyCatalog, load_families
from explorer.model.loader import builtin_paths, load_pattern, load_pattern_text
from explorer.model.pattern import Sourced
from explorer.study import compare, present

WITH_SELECTORS = sorted(p.stem for p in builtin_paths() if selectors(load_pattern(p)))


@pytest.fixture(scope="module")
def ads():
    return library.load("ad_click_prediction")


@pytest.fixture(scope="module")
def ad_reports(ads):
    """Auto-sized ad click prediction with each ranker family (the same candidates and traffic)."""
    return {fid: analyse(with_models(ads, {"ranker": fid}), None, "autosize")
            for fid in ("lr", "gbdt", "dlrm", "cross_encoder")}


# --------------------------------------------------------------------------- the catalog


def _sourced(obj, path=""):
    """Every Sourced number inside a pydantic model, with where it is."""
    if isinstance(obj, Sourced):
        yield path, obj
        return
    for name in getattr(type(obj), "model_fields", {}):
        yield from _sourced(getattr(obj, name), f"{path}.{name}")


def test_every_family_number_has_a_source_and_no_quality_note_invents_an_accuracy():
    families = load_families()
    assert {"lr", "gbdt", "dlrm", "two_tower", "cross_encoder", "vit_encoder", "cnn_encoder"} <= set(families)
    for f in families.values():
        found = dict(_sourced(f, f.id))
        # base and per item on both kinds of hardware, parameters, activations, training per example
        assert len(found) == 7, sorted(found)
        for where, s in found.items():
            assert len(s.source.strip()) > 10, where
            if "assumption" not in s.source:  # a cited number names its origin (paper, README, datasheet)
                assert re.search(r"\(|README|catalog|et al\.|datasheet|as ", s.source), where
        assert f.cpu.per_item_ms.value > 0 and f.gpu.per_item_ms.value > 0
        assert f.features and f.quality
        assert not re.search(r"\d\s*%", f.quality), f"{f.id}: an accuracy number in the quality note"
        assert "ualitative" in f.quality or "et al." in f.quality, f"{f.id}: cite, or say qualitative"


def test_the_catalog_rejects_a_family_without_a_source():
    raw = {"families": [{"id": "x", "label": "X", "short": "X", "serves_on": "cpu",
                         "cpu": {"service_ms": {"value": 1}, "per_item_ms": {"value": 1, "source": "abc"}},
                         "gpu": {"service_ms": {"value": 1, "source": "abc"}, "per_item_ms": {"value": 1, "source": "abc"}},
                         "parameters": {"value": 1, "source": "abc"},
                         "activation_mb_per_item": {"value": 0, "source": "abc"},
                         "training_per_example_ms": {"value": 1, "source": "abc"},
                         "features": "abc", "quality": "qualitative"}]}
    with pytest.raises(Exception, match="source"):
        FamilyCatalog.model_validate(raw)


# --------------------------------------------------------------------------- defaults are the pattern as written


@pytest.mark.parametrize("pattern_id", WITH_SELECTORS)
def test_the_default_family_is_the_pattern_as_written(pattern_id):
    rp = library.load(pattern_id)
    families = load_families()
    specs = traffic(rp, rp.defaults()).specs
    for cid, sel in selectors(rp).items():
        f = families[sel.default]
        hw = rp.types[cid].hardware
        assert f.serves_on == hw, cid
        assert specs[cid].per_item_ms == f.cost_on(hw).per_item_ms.value, cid
        if rp.pattern.components[[c.id for c in rp.pattern.components].index(cid)].gpu is None:
            assert specs[cid].service_ms == f.cost_on(hw).service_ms.value, cid
        if sel.training:
            assert rp.pattern.ml.training.per_example_ms == f.training_per_example_ms.value, cid
    assert with_models(rp, {cid: s.default for cid, s in selectors(rp).items()}) is rp


@pytest.mark.parametrize("pattern_id", WITH_SELECTORS)
@pytest.mark.parametrize("mode", ["provisioned", "autosize"])
def test_every_case_study_with_a_selector_is_healthy_at_its_default_family(pattern_id, mode):
    rp = library.load(pattern_id)
    r = analyse(rp, None, mode)
    assert r.healthy, [(c.id, c.status) for c in r.components.values() if c.status not in ("ok", "idle", "external")]
    assert r.models == {cid: s.default for cid, s in selectors(rp).items()}
    assert all(any(s.key == f"family:{cid}" for s in r.ml) for cid in r.models)


@pytest.mark.parametrize("pattern_id", WITH_SELECTORS)
def test_every_offered_family_analyses(pattern_id):
    rp = library.load(pattern_id)
    for cid, sel in selectors(rp).items():
        for fid in sel.offer:
            r = analyse(with_models(rp, {cid: fid}), None, "provisioned")
            assert r.models[cid] == fid
            assert r.components[cid].hardware == load_families()[fid].serves_on


# --------------------------------------------------------------------------- direction


def test_a_transformer_ranker_needs_more_accelerator_time_and_gpus_than_lr(ad_reports):
    lr, dlrm, bert = ad_reports["lr"], ad_reports["dlrm"], ad_reports["cross_encoder"]
    rk = {k: r.components["ranker"] for k, r in ad_reports.items()}
    assert rk["lr"].hardware == rk["gbdt"].hardware == "cpu"
    assert rk["dlrm"].hardware == rk["cross_encoder"].hardware == "gpu"
    # the same candidates per call; the service per call follows the per-item cost
    assert rk["lr"].items_per_call == pytest.approx(rk["cross_encoder"].items_per_call) == pytest.approx(500, rel=1e-6)
    assert rk["lr"].service_ms < rk["gbdt"].service_ms < rk["cross_encoder"].service_ms
    work = {k: next(s for s in ad_reports[k].ml if s.key == "gpu:ranker").figures["work_gpu_s_per_s"].value
            for k in ("dlrm", "cross_encoder")}
    assert work["cross_encoder"] > 100 * work["dlrm"]
    assert not any(s.key == "gpu:ranker" for s in lr.ml)  # no GPU serving on CPU replicas
    assert lr.totals.gpu_replicas < dlrm.totals.gpu_replicas < bert.totals.gpu_replicas
    assert lr.totals.cost_usd_month < dlrm.totals.cost_usd_month < bert.totals.cost_usd_month
    p99 = {k: r.end_to_end.p99_ms for k, r in ad_reports.items()}
    assert p99["lr"] <= p99["dlrm"] < p99["cross_encoder"]
    assert not bert.end_to_end.meets_target  # 500 BERT passes per call do not fit 100 ms


def test_memory_and_training_cost_follow_the_family(ad_reports):
    weights = {k: next(s for s in r.ml if s.key == "model:ranker").figures["weights_gb"].value
               for k, r in ad_reports.items()}
    assert weights["gbdt"] < weights["lr"] < weights["cross_encoder"] < weights["dlrm"]
    training = {k: next(s for s in r.ml if s.key == "training").figures for k, r in ad_reports.items()}
    gpu_h = {k: f["gpu_hours"].value if "gpu_hours" in f else None for k, f in training.items()}
    cost = {k: r.totals.ml_cost_usd_month for k, r in ad_reports.items()}
    assert cost["lr"] < cost["dlrm"] < cost["cross_encoder"]
    assert all(v is None or v > 0 for v in gpu_h.values())


def test_provisioned_replicas_stay_and_a_heavy_family_saturates_them(ads):
    r = analyse(with_models(ads, {"ranker": "cross_encoder"}), None, "provisioned")
    assert r.components["ranker"].replicas == 90 and r.components["ranker"].saturated


def test_every_recomputed_figure_names_the_family_and_its_per_item_source(ad_reports):
    lr = ad_reports["lr"]
    source = load_families()["lr"].cpu.per_item_ms.source
    for f in lr.components["ranker"].figures.values():
        assert "Model choice: ranker runs lr" in f.note and source in f.note, f.key
    for s in lr.ml:
        if s.component == "ranker" and not s.key.startswith("family:") or s.key == "training":
            assert all("runs lr" in f.note for f in s.figures.values()), s.key
    assert all("runs lr" in f.note for f in lr.end_to_end.figures.values())
    assert all("runs lr" in f.note for f in lr.totals.figures.values())
    fam = next(s for s in lr.ml if s.key == "family:ranker").figures
    assert fam["per_item_ms"].value == 0.001 and source in fam["per_item_ms"].note
    assert "running lr (chosen in the scenario)" in fam["families_offered"].formula
    # the default names its own source and adds no note
    dlrm = ad_reports["dlrm"]
    assert not any("Model choice" in f.note for f in dlrm.components["ranker"].figures.values())
    assert "2.7 µs" in next(s for s in dlrm.ml if s.key == "family:ranker").figures["per_item_ms"].note


# --------------------------------------------------------------------------- pattern rules


def _draft(families: str) -> str:
    return f"""
id: draft
title: Draft
request: {{entry: api, peak_qps: 100, latency_target_ms: 100}}
components:
  - {{id: api, type: api_service}}
  - id: ranker
    type: gpu_model_server
    families: {families}
connections:
  - {{from: api, to: ranker, items: 10}}
"""


@pytest.mark.parametrize("families, message", [
    ("{default: dlrm, offer: [dlrm, bert]}", "unknown model family 'bert' (known: lr, gbdt"),
    ("{default: lr, offer: [lr, dlrm]}", "default family 'lr' is served on cpu"),
    ("{default: dlrm, offer: [lr, gbdt]}", "must be one of offer"),
    ("{default: dlrm, offer: [lr, dlrm], cpu_type: gpu_model_server}", "is not a CPU type of the catalog"),
])
def test_selector_rules_name_the_valid_choices(families, message):
    with pytest.raises(PatternError, match=re.escape(message)):
        load_pattern_text(_draft(families), "draft.yaml")


def test_choices_are_checked_with_the_valid_ones_named(ads):
    with pytest.raises(ScenarioError, match=re.escape("valid: lr, gbdt, dlrm, cross_encoder")):
        with_models(ads, {"ranker": "bert"})
    with pytest.raises(ScenarioError, match="components with one: ranker"):
        with_models(ads, {"api": "lr"})
    with pytest.raises(ScenarioError, match="COMPONENT=FAMILY"):
        parse_models(ads, ["ranker"])
    assert parse_models(ads, ["ranker=gbdt"]) == {"ranker": "gbdt"}


# --------------------------------------------------------------------------- URL, CLI, exports, compare


def test_the_url_round_trips_the_choice(ads):
    state = present.PageState("ad_click_prediction", ads.defaults(), "autosize", "overview", None,
                              models={"ranker": "gbdt"})
    query = present.write_query(ads, state)
    assert query["model.ranker"] == "gbdt"
    back = present.read_query(ads, query)
    assert back.models == {"ranker": "gbdt"} and not back.notices
    assert present.write_query(ads, back) == query
    # defaults are written too, so a link survives a change of default
    assert present.write_query(ads, present.PageState("ad_click_prediction", ads.defaults()))["model.ranker"] == "dlrm"


@pytest.mark.parametrize("query, notice", [
    ({"model.ranker": "bert"}, "model.ranker=bert is not a family ranker offers (lr, gbdt, dlrm, cross_encoder)"),
    ({"model.rankr": "lr"}, "has no model choice for 'rankr' (components with one: ranker)"),
])
def test_bad_url_choices_give_a_notice_naming_the_valid_ones(ads, query, notice):
    state = present.read_query(ads, {"pattern": "ad_click_prediction", **query})
    assert state.models == {}
    assert any(notice in n for n in state.notices), state.notices


def test_cli_model_flag(capsys):
    assert main(["estimate", "ad_click_prediction", "--model", "ranker=lr", "--mode", "autosize", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["models"] == {"ranker": "lr"} and data["components"]["ranker"]["hardware"] == "cpu"
    assert main(["estimate", "ad_click_prediction", "--model", "ranker=bert"]) == 2
    err = capsys.readouterr().err
    assert "ranker offers no model family 'bert' (valid: lr, gbdt, dlrm, cross_encoder)" in err
    assert len(err.strip().splitlines()) == 1
    assert main(["estimate", "ad_click_prediction", "--model", "nope=lr"]) == 2
    assert "components with one: ranker" in capsys.readouterr().err
    assert main(["estimate", "feature_store", "--model", "x=lr"]) == 2
    assert "none in this pattern" in capsys.readouterr().err


def test_exports_record_the_choice(ads):
    rp = with_models(ads, {"ranker": "lr"})
    r = analyse(rp)
    note = study_note_markdown(rp, r)
    assert "Model choice: ranker: Logistic regression (feature hashing) (LR, CPU)" in note
    assert "--model ranker=lr" in note
    assert filename(rp, None, "svg") != filename(ads, None, "svg")  # the choice is in the scenario hash
    assert json.loads(r.to_json())["models"] == {"ranker": "lr"}
    assert chosen(rp) == {"ranker": "lr"} and models_query(chosen(rp)) == {"model.ranker": "lr"}


@pytest.mark.parametrize("preset_id, cid, a, b", [
    ("ads_lr_vs_dlrm", "ranker", "lr", "dlrm"),
    ("video_gbdt_vs_transformer", "scorer", "gbdt", "cross_encoder"),
])
def test_compare_presets_are_usable_and_carry_the_choice(preset_id, cid, a, b):
    preset = compare.find_preset(preset_id)
    assert preset in compare.available_presets(library.load)
    side_a, side_b, notices = compare.sides_from_query({"preset": preset_id}, library.load)
    assert not notices and side_a.models == {cid: a} and side_b.models == {cid: b}
    query = compare.to_query(side_a, side_b, preset_id)
    assert query[f"a.model.{cid}"] == a and query[f"b.model.{cid}"] == b
    back_a, back_b, _ = compare.sides_from_query(query, library.load)
    assert (back_a.models, back_b.models) == ({cid: a}, {cid: b})
    assert compare.matches_preset(preset, back_a, back_b, library.load)
    cmp = compare.compare_sides(side_a, side_b, library.load)
    assert cmp.report_a.models[cid] == a and cmp.report_b.models[cid] == b
    assert cmp.metric("gpu_replicas").b.value > cmp.metric("gpu_replicas").a.value
    assert cmp.metric("cost_usd_month").b.value > cmp.metric("cost_usd_month").a.value
    _, _, bad = compare.sides_from_query({**query, "b.model.scorer": "nope", "b.model.ranker": "nope"}, library.load)
    assert any("is not a family" in n for n in bad)
