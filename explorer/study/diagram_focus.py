"""Which components a diagram outlines: those a comparison changed, and those a walk-through step is about.

- :func:`changed_components`: per side of a :class:`~explorer.study.compare.Comparison`, the shared
  components whose status or any compared figure differs by more than :data:`CHANGE_REL` (relative), plus
  the components only that side has.
- :func:`step_components`: the components a step of the 7-step walk-through
  (:data:`explorer.study.practice.STEPS`) talks about, read from the pattern's categories, the critical path
  and the bottlenecks of the report.

Examples
--------
>>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
>>> from explorer.engine.analysis import analyse
>>> rp = load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml")
>>> "ranker" in step_components(rp, analyse(rp), "model")
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from explorer.engine.report import Report
    from explorer.model.loader import ResolvedPattern
    from explorer.study.compare import Comparison

CHANGE_REL = 0.005
"""A compared figure counts as changed when it moves by more than 0.5% of the larger side (or a side is
missing); smaller moves (rounding of a shared rate) do not outline a component."""

MODEL_CATEGORIES = ("retrieval", "ranking")
DATA_CATEGORIES = ("features", "storage", "stream")


def _moved(x: float | None, y: float | None) -> bool:
    if x is None or y is None:
        return (x is None) != (y is None)
    scale = max(abs(x), abs(y))
    return scale > 0 and abs(y - x) > CHANGE_REL * scale


def changed_components(cmp: Comparison) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Components to outline on side A and on side B: changed shared ones, plus each side's own.

    Examples
    --------
    >>> from explorer.model.library import load
    >>> from explorer.study.compare import Side, compare_sides
    >>> cmp = compare_sides(Side("two_stage_recommender", {"candidates": 500}),
    ...                     Side("two_stage_recommender", {"candidates": 2000}), load)
    >>> a, b = changed_components(cmp)
    >>> "ranker" in a and a == b
    True
    """
    changed = tuple(r.id for r in cmp.rows
                    if r.status_a != r.status_b or any(_moved(r.a.get(k), r.b.get(k)) for k in r.a))
    return changed + tuple(cmp.only_a), changed + tuple(cmp.only_b)


def step_components(rp: ResolvedPattern, report: Report | None, step: str) -> tuple[str, ...]:
    """The components a walk-through step is about, in the pattern's order (empty when none fits).

    - ``requirements``: where the traffic comes from (clients) and where it enters;
    - ``framing`` and ``model``: the retrieval and ranking stages and whatever runs on GPUs (``model`` adds
      the batch jobs that train or build);
    - ``data``: feature stores, storage and streams;
    - ``evaluation``: the monitoring components, else the event streams (logs, labels) and the rankers;
    - ``monitoring``: the monitoring components, the top two bottlenecks and the three busiest components;
    - ``serving``: the critical path of a request (else the online tier);
    - ``talking_points``: the top three bottlenecks, else the three busiest components.
    """
    G = rp.graph
    order = list(G.nodes)
    cat = {n: G.nodes[n]["category"] for n in order}
    comps = report.components if report is not None else {}
    gpu = {n for n, c in comps.items() if c.hardware == "gpu"}
    bottlenecks = [b.component for b in report.bottlenecks] if report is not None else []
    busiest = [c.id for c in sorted((c for c in comps.values() if c.status not in ("external", "idle")),
                                    key=lambda c: -c.utilization)[:3]]
    monitors = {n for n in order if cat[n] == "monitoring"}
    wanted: set[str] = set()
    if step == "requirements":
        wanted = {n for n in order if cat[n] == "client"}
        if report is not None and report.end_to_end is not None:
            wanted.add(report.end_to_end.entry)
        if not wanted:  # no client (a batch pattern): where the work starts
            wanted = {n for n in order if G.in_degree(n) == 0}
    elif step in ("framing", "model"):
        wanted = {n for n in order if cat[n] in MODEL_CATEGORIES} | gpu
        if step == "model":
            wanted |= {n for n in order if cat[n] == "batch"}
    elif step == "data":
        wanted = {n for n in order if cat[n] in DATA_CATEGORIES}
    elif step == "evaluation":  # what watches the model, else the logs it is judged on and the model itself
        wanted = monitors or ({n for n in order if cat[n] == "stream"} | {n for n in order if cat[n] == "ranking"})
    elif step == "monitoring":
        wanted = monitors | set(bottlenecks[:2]) | set(busiest)
    elif step == "serving":
        if report is not None and report.end_to_end is not None:
            wanted = set(report.end_to_end.critical_path)
        else:
            wanted = {n for n in order if G.nodes[n]["tier"] == "online"}
    elif step == "talking_points":
        wanted = set(bottlenecks[:3] or busiest)
    return tuple(n for n in order if n in wanted)


STEP_NOTES = {
    "requirements": "where the traffic comes from and where it enters (or where the work starts)",
    "framing": "the ML stages: retrieval, ranking and what runs on GPUs",
    "data": "where the data and features live",
    "model": "the models, their GPUs and the jobs that train or build them",
    "evaluation": "what watches the model, or the logs and the rankers it is judged on",
    "serving": "the critical path of a request",
    "monitoring": "what is watched, and the busiest components",
    "talking_points": "the bottlenecks (or the busiest components) worth talking about",
}
"""What the outline means at each step (shown above the diagram)."""
