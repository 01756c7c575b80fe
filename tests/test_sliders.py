"""No dead sliders: every declared parameter of every built-in pattern moves a figure a user looks at.

For each parameter, the pattern is analysed with that parameter at its min and at its max (the others at
their defaults), in both modes. The parameter is alive if, in at least one mode, one of the figures a user
reads changes: the end-to-end mean/p50/p99 and the margin to the target, any component's replicas, nodes,
utilisation, p99, latency budget, memory or cost, the totals, a batch job's throughput or fit, or any figure of ``Report.ml``. Figures compare at 1e-9
relative, so rounding noise does not count as movement.

A slider that moves nothing misleads: the user drags it and concludes the quantity does not matter.
"""

from __future__ import annotations

import math

import pytest

from explorer.engine.analysis import analyse
from explorer.engine.report import Report
from explorer.model.loader import ARCHITECTURES_DIR, builtin_paths, load_pattern

PATHS = builtin_paths(ARCHITECTURES_DIR)
MODES = ("provisioned", "autosize")
COMPONENT_FIELDS = ("replicas", "nodes", "shards", "utilization", "p99_ms", "budget_ms", "memory_gb",
                    "storage_gb", "network_mb_s", "cost_usd_month")
REL = 1e-9


def watched(report: Report) -> dict[str, float | bool | None]:
    """The figures a user reads on the page, flattened to ``{name: value}``."""
    out: dict[str, float | bool | None] = {}
    e = report.end_to_end
    if e is not None:
        out |= {"e2e.mean_ms": e.mean_ms, "e2e.p50_ms": e.p50_ms, "e2e.p99_ms": e.p99_ms,
                "e2e.meets_target": e.meets_target, "e2e.margin_ms": e.margin_ms}
    for cid, c in report.components.items():
        for name in COMPONENT_FIELDS:
            out[f"{cid}.{name}"] = getattr(c, name)
    t = report.totals
    out |= {"totals.cost_usd_month": t.cost_usd_month, "totals.memory_gb": t.memory_gb,
            "totals.storage_gb": t.storage_gb, "totals.gpu_replicas": t.gpu_replicas,
            "totals.cpu_replicas": t.cpu_replicas}
    for j in report.batch_jobs:
        out[f"job:{j.id}.items_per_s"] = j.items_per_s
        out[f"job:{j.id}.fits_window"] = j.fits_window
    for section in report.ml:
        for name, f in section.figures.items():
            out[f"ml.{section.key}.{name}"] = f.value
    return out


def _differs(a, b) -> bool:
    if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
        return a != b
    if not (math.isfinite(a) and math.isfinite(b)):
        return a != b
    return abs(a - b) > REL * max(abs(a), abs(b), 1e-12)


def moved(lo: Report, hi: Report) -> list[str]:
    """Names of watched figures that differ between two reports."""
    a, b = watched(lo), watched(hi)
    return sorted(k for k in a.keys() | b.keys() if _differs(a.get(k), b.get(k)))


def _cases():
    for path in PATHS:
        rp = load_pattern(path)
        for q in rp.pattern.parameters:
            yield pytest.param(path, q.name, id=f"{path.stem}.{q.name}")


@pytest.mark.parametrize(("path", "name"), list(_cases()))
def test_every_slider_moves_a_figure(path, name):
    rp = load_pattern(path)
    q = next(q for q in rp.pattern.parameters if q.name == name)
    for mode in MODES:
        lo = analyse(rp, {name: q.min}, mode)
        hi = analyse(rp, {name: q.max}, mode)
        if moved(lo, hi):
            return
    pytest.fail(f"{rp.id}.{name}: moving it from {q.min:g} to {q.max:g} changes no figure a user reads "
                f"in either mode; wire it into the model or remove it")


def test_the_check_sees_a_dead_slider():
    """The comparison is not vacuous: the same scenario twice moves nothing, a real slider moves something."""
    rp = load_pattern(ARCHITECTURES_DIR / "ann_index_sharding.yaml")
    same = analyse(rp, {"num_vectors": 1e6}), analyse(rp, {"num_vectors": 1e6})
    assert moved(*same) == []
    assert "ann.shards" in moved(analyse(rp, {"num_vectors": 1e6}), analyse(rp, {"num_vectors": 1e11}))
