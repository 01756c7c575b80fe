"""The pattern library: every shipped pattern is healthy at its defaults, explains a
bottleneck when pushed, and carries complete study notes; the catalog's numbers are sourced.

One test per file in ``architectures/`` (pytest ids are the file stems), plus checks on the
set of case studies and on the catalog.
"""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest

from explorer.engine.analysis import analyse
from explorer.model.loader import ARCHITECTURES_DIR, builtin_paths, load_catalog, load_pattern

PATHS = builtin_paths(ARCHITECTURES_DIR)
CASE_STUDIES = {
    "visual_search": 2,
    "street_view_blurring": 3,
    "video_search": 4,
    "harmful_content_detection": 5,
    "video_recommendation": 6,
    "event_recommendation": 7,
    "ad_click_prediction": 8,
    "similar_listings": 9,
    "news_feed": 10,
    "people_you_may_know": 11,
}
NOTE_SECTIONS = ("requirements", "framing", "data", "model", "evaluation", "serving", "monitoring")
BAD_STATUSES = {"hot", "saturated", "infeasible"}
PLACEHOLDER = re.compile(r"\b(todo|tbd|fixme|xxx|placeholder|source\?)\b|^\W*$|^\?+$", re.IGNORECASE)
SCAN_POINTS = 12


def _non_finite(obj, path=""):
    """Paths of every NaN/inf float inside a report (dataclasses, dicts, lists)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, float):
        if not math.isfinite(obj):
            yield path
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _non_finite(v, f"{path}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _non_finite(v, f"{path}[{i}]")


def _check_finite(report) -> None:
    bad = list(_non_finite(report))
    assert not bad, f"non-finite figures in {report.pattern_id}: {bad[:8]}"
    for c in report.components.values():
        if c.saturated:
            assert c.p99_ms is None and c.mean_ms is None, f"{c.id}: saturated latencies must be None"
        elif c.status not in ("external",) and c.calls_per_s > 0:
            assert c.p99_ms is not None and c.p99_ms >= 0, f"{c.id}: p99 missing while not saturated"
    e = report.end_to_end
    if e is not None and e.saturated:
        assert e.p99_ms is None, "a saturated request path has no finite p99"


def _traffic_parameter(rp):
    traffic = [q for q in rp.pattern.parameters if q.role == "traffic"]
    assert traffic, f"{rp.id} declares no parameter with role 'traffic'"
    return traffic[0]


@pytest.fixture(scope="module", params=PATHS, ids=[p.stem for p in PATHS])
def pattern(request):
    return load_pattern(request.param)


def test_pattern_is_healthy_at_defaults(pattern):
    report = analyse(pattern)
    _check_finite(report)
    bad = {cid: f"{c.status} (ρ = {c.utilization:.2f})" for cid, c in report.components.items()
           if c.status in BAD_STATUSES}
    assert not bad, f"{pattern.id} at defaults: {bad}"
    if report.end_to_end is not None:
        e = report.end_to_end
        assert e.meets_target, (f"{pattern.id}: p99 {e.p99_ms} ms misses the {e.target_ms} ms target "
                                f"(critical path {e.critical_path})")
    else:
        assert report.batch_jobs, f"{pattern.id} has neither a request path nor batch jobs"
    unfit = [j.id for j in report.batch_jobs if not j.fits_window]
    assert not unfit, f"{pattern.id}: batch jobs miss their window at defaults: {unfit}"
    assert report.healthy


def test_pattern_is_not_idle_at_defaults(pattern):
    """Provisioned, not padded: the busiest component works at a sensible fraction of capacity."""
    report = analyse(pattern)
    busiest = max(c.utilization for c in report.components.values() if c.category != "client")
    assert busiest >= 0.3, f"{pattern.id}: busiest component only at {busiest:.0%}"


def test_pattern_has_study_notes(pattern):
    notes = pattern.pattern.notes
    empty = [s for s in NOTE_SECTIONS if not getattr(notes, s).strip()]
    assert not empty, f"{pattern.id}: empty note sections {empty}"
    assert 3 <= len(notes.talking_points) <= 6, f"{pattern.id}: want 3–6 talking points"
    assert all(tp.strip() for tp in notes.talking_points)


def test_pattern_parameters_are_sourced(pattern):
    for q in pattern.pattern.parameters:
        assert q.source.strip() and not PLACEHOLDER.search(q.source), f"{pattern.id}.{q.name}: source {q.source!r}"
    for c in pattern.pattern.components:
        for name in ("service_ms", "per_item_ms", "concurrency", "service_cv", "memory_gb", "cost_usd_per_hour"):
            o = getattr(c.overrides, name)
            if o is not None:
                assert not PLACEHOLDER.search(o.source), f"{pattern.id}.{c.id}.{name}: source {o.source!r}"


def test_pattern_shows_a_bottleneck_when_pushed(pattern):
    """Somewhere inside the traffic parameter's declared range, a component runs hot or saturates."""
    q = _traffic_parameter(pattern)
    lo = max(q.default, q.min, 1e-9)
    values = np.geomspace(lo, q.max, SCAN_POINTS)
    seen = []
    for v in values:
        v = float(min(q.max, max(q.min, round(v) if q.integer else v)))
        report = analyse(pattern, {q.name: v})
        _check_finite(report)
        hot = sorted(cid for cid, c in report.components.items() if c.status in ("hot", "saturated"))
        if hot:
            return
        seen.append(v)
    pytest.fail(f"{pattern.id}: no component turns hot or saturated for {q.name} in {seen}")


def test_all_case_studies_present():
    by_id = {p.stem: p for p in PATHS}
    missing = sorted(set(CASE_STUDIES) - set(by_id))
    assert not missing, f"missing case studies: {missing}"
    for pid, chapter in CASE_STUDIES.items():
        p = load_pattern(by_id[pid]).pattern
        assert p.kind == "case_study", f"{pid} must be kind: case_study"
        assert p.chapter == chapter, f"{pid} is chapter {chapter}, not {p.chapter}"
    blocks = [p for p in PATHS if load_pattern(p).pattern.kind == "building_block"]
    assert len(blocks) >= 8, f"only {len(blocks)} building blocks"


def test_catalog_numbers_are_sourced():
    catalog = load_catalog()
    assert len(catalog.types) >= 20
    numeric = ("service_ms", "per_item_ms", "concurrency", "service_cv", "memory_gb", "cost_usd_per_hour",
               "storage_usd_per_gb_month")
    for tid, t in catalog.types.items():
        for name in numeric:
            sourced = getattr(t, name)
            if sourced is None:
                continue
            src = sourced.source.strip()
            assert src, f"{tid}.{name}: empty source"
            assert not PLACEHOLDER.search(src), f"{tid}.{name}: placeholder source {src!r}"


def test_catalog_covers_the_building_blocks_of_ml_systems():
    wanted = {"client", "cdn_edge", "load_balancer", "api_service", "feature_store_online", "feature_store_offline",
              "kv_store", "cache", "search_index", "ann_index_cpu", "ann_index_gpu", "embedding_service_gpu",
              "embedding_service_cpu", "cpu_model_server", "gpu_model_server", "rerank_service", "event_stream",
              "stream_processor", "batch_compute", "object_storage", "data_warehouse", "training_cluster_gpu",
              "model_registry", "human_review", "drift_monitor"}
    missing = sorted(wanted - set(load_catalog().types))
    assert not missing, f"catalog lacks {missing}"


# The ML figures each case study turns on (ml-systems-facts.md §2): the sections of ``Report.ml`` its page
# must show at defaults. ``traffic`` is peak QPS from daily users, ``gpu:``/``model:`` a GPU server's batching
# and model memory, ``index:`` an ANN index's memory, shards and query cost.
CASE_STUDY_ML = {
    "visual_search": {"gpu:encoder", "model:encoder", "index:ann", "training", "logging"},
    "street_view_blurring": {"gpu:detector", "model:detector", "training"},
    "video_search": {"gpu:text_encoder", "model:text_encoder", "training", "logging"},
    "harmful_content_detection": {"gpu:text_encoder", "model:text_encoder", "gpu:image_encoder", "gpu:classifier",
                                  "training", "logging", "drift"},
    "video_recommendation": {"index:ann", "gpu:scorer", "model:scorer", "training", "ranker_features"},
    "event_recommendation": {"traffic", "ranker_features", "streaming_features", "logging"},
    "ad_click_prediction": {"gpu:ranker", "model:ranker", "training", "ranker_features", "streaming_features",
                            "logging", "drift"},
    "similar_listings": {"index:ann", "training", "logging"},
    "news_feed": {"traffic", "training", "ranker_features", "streaming_features", "logging", "drift"},
    "people_you_may_know": {"traffic", "precompute", "logging"},
}


def test_case_studies_show_the_ml_figures_their_chapter_turns_on():
    assert set(CASE_STUDY_ML) == set(CASE_STUDIES)
    by_id = {p.stem: p for p in PATHS}
    for pid, wanted in CASE_STUDY_ML.items():
        report = analyse(load_pattern(by_id[pid]))
        shown = {s.key for s in report.ml}
        assert wanted <= shown, f"{pid}: ML sections {sorted(wanted - shown)} missing (has {sorted(shown)})"
        assert all(s.figures for s in report.ml), f"{pid}: an empty ML section"
        if "precompute" in wanted:
            assert report.staleness_curve, f"{pid}: precompute without a cost-vs-staleness curve"


def test_daily_users_and_peak_qps_are_never_both_free():
    """A pattern with a DAU parameter derives its traffic from it: DAU = 100k with 139k req/s cannot be set."""
    with_dau = 0
    for path in PATHS:
        rp = load_pattern(path)
        params = {q.name: q for q in rp.pattern.parameters}
        if "dau" not in params:
            continue
        with_dau += 1
        assert rp.pattern.request.users is not None, f"{rp.id}: a dau parameter but traffic not from request.users"
        assert "peak_qps" not in params, f"{rp.id}: both dau and peak_qps are sliders"
        q = params["dau"]
        lo, hi = (analyse(rp, {"dau": v}).figure("ml.traffic.peak_qps").value for v in (q.min, q.max))
        assert hi / lo == pytest.approx(q.max / q.min, rel=1e-9), f"{rp.id}: peak QPS not proportional to DAU"
    assert with_dau >= 3, "news feed, PYMK and event recommendation declare traffic from DAU"
