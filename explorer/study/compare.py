"""Two scenarios side by side: headline metrics with differences, a delta table per shared component,
scaling sweeps to overlay, ready-made presets worth studying, and the URL state of the Compare page.

A *side* is a pattern, its parameter values and a mode. Both sides may use the same pattern
(one design, two sets of values) or two patterns. Every difference is a :class:`~explorer.engine.report.Figure`
with its formula (``B − A``) and its inputs, like every other number the product shows.

Examples
--------
>>> from explorer.model.library import load
>>> a = Side("two_stage_recommender", {"candidates": 500})
>>> b = Side("two_stage_recommender", {"candidates": 2000})
>>> cmp = compare_sides(a, b, load)
>>> cmp.metric("gpu_replicas").delta.value          # provisioned: the same GPUs on both sides…
0.0
>>> row = cmp.row("ranker")
>>> row.delta["utilization"] > 0                    # …so the ranker runs hotter with more candidates
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import plotly.graph_objects as go

from explorer.engine.analysis import analyse
from explorer.engine.report import Figure, Input, Report
from explorer.engine.sweep import Sweep, sweep, traffic_parameter
from explorer.errors import ExplorerError, ScenarioError
from explorer.model.choice import QUERY_PREFIX, check_choice, models_query, selectors, with_models
from explorer.model.choice import from_query as models_from_query
from explorer.model.loader import ResolvedPattern
from explorer.model.pattern import Parameter
from explorer.model.scenario import MODES, check_values, from_query
from explorer.render.styles import STATUS_STYLES
from explorer.units import (
    compact,
    format_gb,
    format_ms,
    format_percent,
    format_quantity,
    format_rate,
    format_usd,
    number_text,
)

SIDES = ("a", "b")


# --------------------------------------------------------------------------- sides and presets

@dataclass(frozen=True)
class Side:
    """One scenario: a pattern id, parameter values (missing ones take the defaults) and a mode."""

    pattern: str
    values: Mapping[str, float] = field(default_factory=dict)
    mode: str = "provisioned"
    label: str = ""
    """Short name shown above the column (``Online``, ``2,000 candidates``…)."""
    models: Mapping[str, str] = field(default_factory=dict)
    """Model family per component with a selector (missing ones run their default)."""

    def title(self, fallback: str) -> str:
        return self.label or fallback


@dataclass(frozen=True)
class Preset:
    """A comparison worth studying, with what to look at."""

    id: str
    title: str
    question: str
    """What the comparison teaches, as a question."""
    look_at: str
    """Where the difference shows up."""
    a: Side
    b: Side

    def pattern_ids(self) -> set[str]:
        return {self.a.pattern, self.b.pattern}


PRESETS: tuple[Preset, ...] = (
    Preset("batch_vs_online", "Batch vs online prediction for the same traffic",
           "What does it cost to score every request online instead of serving precomputed predictions?",
           "The online model and the feature store carry the whole load on the right, where the batch path is "
           "off (no store read, no nightly job, no batch-path cost); the key-value store carries it on the left. "
           "Both sides auto-size, so the nodes and the cost follow the load; compare them with the end-to-end p99.",
           Side("batch_vs_online_prediction", {"miss_rate": 0.05}, "autosize", "Mostly batch (5% online)"),
           Side("batch_vs_online_prediction", {"miss_rate": 1.0, "precomputed": 0}, "autosize", "All online")),
    Preset("candidates_500_vs_2000", "500 vs 2,000 candidates to rank",
           "What happens to the ranker when retrieval hands it four times as many candidates?",
           "The ranker's service time grows with the items per call: with the same GPUs its utilisation "
           "(and the p99) rise until it saturates. Switch both sides to auto-size to see how many more GPUs it takes.",
           Side("two_stage_recommender", {"candidates": 500}, label="500 candidates"),
           Side("two_stage_recommender", {"candidates": 2000}, label="2,000 candidates")),
    Preset("catalog_100m_vs_1b", "A 100M vs a 1B item catalog",
           "How does the size of the catalog reach latency and cost?",
           "Items × bytes → memory → shards: ten times the items means more ANN shards, a wider "
           "scatter-gather fan-out and a longer tail.",
           Side("two_stage_recommender", {"num_items": 100_000_000}, label="100M items"),
           Side("two_stage_recommender", {"num_items": 1_000_000_000}, label="1B items")),
    Preset("provisioned_vs_autosize", "Fixed replicas vs auto-size at 3× traffic",
           "At three times the usual peak, which components run out, and what would fit the targets?",
           "Provisioned shows what saturates; auto-size shows the fewest replicas that meet the target "
           "utilisation and each stage's share of the latency budget — the cost story.",
           Side("two_stage_recommender", {"peak_qps": 60_000}, "provisioned", "Provisioned"),
           Side("two_stage_recommender", {"peak_qps": 60_000}, "autosize", "Auto-size")),
    Preset("query_cache", "Video search with and without a query-embedding cache",
           "How much encoder load does a cache of popular query embeddings take off?",
           "The text encoder's calls/s, utilisation and nodes, and the p99 of the request path.",
           Side("video_search", {"query_cache_hit": 0.0}, label="No cache"),
           Side("video_search", {"query_cache_hit": 0.9}, label="90% cache hits")),
    Preset("pq_compression", "Video recommendation: raw vectors vs 16× PQ compression",
           "What does compressing the embeddings buy for a 10B-video index?",
           "Memory → shards → fan-out: the ANN index's shards, memory and cost, and the tail of the request path.",
           Side("video_recommendation", {"compression": 1.0}, label="Raw float32 vectors"),
           Side("video_recommendation", {"compression": 16.0}, label="16× PQ")),
    Preset("recsys_vs_video", "Generic two-stage recommender vs video recommendation",
           "What changes when the funnel serves a 10B-item video catalog?",
           "Shards and memory of the retrieval index, and which stage sets the tail.",
           Side("two_stage_recommender", {}, label="Two-stage recommender"),
           Side("video_recommendation", {}, label="Video recommendation")),
    Preset("ads_lr_vs_dlrm", "Ad click prediction: logistic regression vs a deep CTR model (DLRM / DCN)",
           "What does moving the click model from logistic regression on CPUs to a DLRM-style network on GPUs "
           "cost at the same traffic and candidates?",
           "The ranker's hardware, nodes and cost, the GPU count and the end-to-end p99. Both sides auto-size, "
           "so each runs the fewest replicas that meet the targets; each ranker's per-item cost and its source are "
           "in its model-family section.",
           Side("ad_click_prediction", {}, "autosize", "Logistic regression (CPU)", {"ranker": "lr"}),
           Side("ad_click_prediction", {}, "autosize", "DLRM / DCN (GPU)", {"ranker": "dlrm"})),
    Preset("video_gbdt_vs_transformer", "Video recommendation: CPU GBDT vs a GPU transformer scorer",
           "What does a transformer cross-encoder cost over gradient-boosted trees for scoring the candidates?",
           "The scorer's nodes, utilisation and cost, the GPU count, and whether the latency target still holds "
           "(a call scores every candidate, so a heavy per-item cost lands in the tail).",
           Side("video_recommendation", {}, "autosize", "GBDT (CPU)", {"scorer": "gbdt"}),
           Side("video_recommendation", {}, "autosize", "Transformer cross-encoder (GPU)", {"scorer": "cross_encoder"})),
    Preset("news_feed_vs_ads", "News feed vs ad click prediction",
           "Two ranking systems with different budgets: where does each spend its latency and money?",
           "The end-to-end p99 against each target, and the GPU nodes.",
           Side("news_feed", {}, label="News feed"),
           Side("ad_click_prediction", {}, label="Ad click prediction")),
)


def preset_usable(preset: Preset, load: Callable[[str], ResolvedPattern]) -> bool:
    """True if both patterns exist and every preset value is a declared, in-range parameter."""
    for side in (preset.a, preset.b):
        try:
            rp = load(side.pattern)
            check_values(rp, side.values)
            check_choice(rp, side.models)
        except ExplorerError:
            return False
        if side.mode not in MODES:
            return False
    return True


def available_presets(load: Callable[[str], ResolvedPattern],
                      presets: Iterable[Preset] = PRESETS) -> list[Preset]:
    """Presets whose patterns and parameters exist (a missing pattern hides its preset)."""
    return [p for p in presets if preset_usable(p, load)]


def find_preset(preset_id: str, presets: Iterable[Preset] = PRESETS) -> Preset | None:
    return next((p for p in presets if p.id == preset_id), None)


# --------------------------------------------------------------------------- URL state

def to_query(a: Side, b: Side, preset: str | None = None) -> dict[str, str]:
    """Query parameters for a comparison: ``a``, ``b``, ``a_mode``/``b_mode`` (when not provisioned) and every
    value as ``a.<param>`` / ``b.<param>`` (all written, so a link survives new defaults and preset edits).

    Examples
    --------
    >>> to_query(Side("x", {"peak_qps": 2000.0}), Side("x", {}, "autosize"))
    {'a': 'x', 'b': 'x', 'b_mode': 'autosize', 'a.peak_qps': '2000'}
    """
    q: dict[str, str] = {"a": a.pattern, "b": b.pattern}
    if preset:
        q["preset"] = preset
    for name, side in zip(SIDES, (a, b), strict=True):
        if side.mode != "provisioned":
            q[f"{name}_mode"] = side.mode
    for name, side in zip(SIDES, (a, b), strict=True):
        for k, v in sorted(side.values.items()):
            q[f"{name}.{k}"] = number_text(v)
    for name, side in zip(SIDES, (a, b), strict=True):
        q.update({f"{name}.{k}": v for k, v in models_query(side.models).items()})
    return q


def matches_preset(preset: Preset, a: Side, b: Side, load: Callable[[str], ResolvedPattern]) -> bool:
    """True if both sides are exactly the preset's (pattern, mode and every value)."""
    for mine, theirs in ((a, preset.a), (b, preset.b)):
        if mine.pattern != theirs.pattern or mine.mode != theirs.mode:
            return False
        try:
            want = check_values(load(theirs.pattern), theirs.values)
            have = check_values(load(mine.pattern), mine.values)
        except ExplorerError:
            return False
        if any(not math.isclose(want[k], have.get(k, math.nan), rel_tol=1e-9) for k in want):
            return False
        if _models(load(mine.pattern), mine.models) != _models(load(theirs.pattern), theirs.models):
            return False
    return True


def _models(rp: ResolvedPattern, models: Mapping[str, str]) -> dict[str, str]:
    """Every selector's family: the given ones, the defaults for the rest."""
    return {cid: models.get(cid, s.default) for cid, s in selectors(rp).items()}


def side_pattern(side: Side, load: Callable[[str], ResolvedPattern]) -> ResolvedPattern:
    """The side's pattern with its model families applied."""
    return with_models(load(side.pattern), side.models)


def sides_from_query(query: Mapping[str, str], load: Callable[[str], ResolvedPattern],
                     default: tuple[Side, Side] | None = None) -> tuple[Side, Side, list[str]]:
    """Lenient parse of the Compare page's URL: unknown patterns or bad values fall back, with a notice each.

    ``preset=<id>`` gives that preset's sides; explicit ``a``/``b``/``a.<param>`` keys override them.
    Without a preset, ``default`` fills in what the query does not say.
    """
    notices: list[str] = []
    preset = find_preset(query.get("preset", "")) if query.get("preset") else None
    if query.get("preset") and preset is None:
        notices.append(f"no preset {query.get('preset')!r}.")
    if preset is not None and not preset_usable(preset, load):
        notices.append(f"the preset {preset.id!r} needs a pattern or parameter that is not available.")
        preset = None
    base = (preset.a, preset.b) if preset else default
    out: list[Side] = []
    for i, name in enumerate(SIDES):
        fallback = base[i] if base else None
        side = name.upper()
        pid = query.get(name) or (fallback.pattern if fallback else "")
        try:
            rp = load(pid)
        except ExplorerError:
            notices.append(f"{side}: no pattern {pid!r}." if pid else f"{side}: no pattern given.")
            if fallback is None or fallback.pattern == pid:
                raise ScenarioError(f"no pattern to show on side {side}") from None
            pid = fallback.pattern
            rp = load(pid)
        values = check_values(rp, fallback.values) if fallback is not None and fallback.pattern == pid else rp.defaults()
        raw = {k.split(".", 1)[1]: v for k, v in query.items() if k.startswith(f"{name}.")}
        models = dict(fallback.models) if fallback is not None and fallback.pattern == pid else {}
        picked, bad = models_from_query(rp, {k: v for k, v in raw.items() if k.startswith(QUERY_PREFIX)})
        notices.extend(f"{side}: {n}" for n in bad)
        models.update(picked)
        raw = {k: v for k, v in raw.items() if not k.startswith(QUERY_PREFIX)}
        for k, v in raw.items():
            parsed, bad = from_query(rp, {k: v})
            if bad:
                notices.extend(f"{side}: {n}" for n in bad)
            elif k in parsed and any(q.name == k for q in rp.pattern.parameters):
                values[k] = parsed[k]
            else:
                notices.append(f"{side}: {rp.id} has no parameter {k!r}.")
        mode = query.get(f"{name}_mode") or (fallback.mode if fallback else "provisioned")
        if mode not in MODES:
            notices.append(f"{side}: mode {mode!r} is not one of {', '.join(MODES)}; using provisioned.")
            mode = "provisioned"
        out.append(Side(pid, values, mode, models=models))
    a, b = out
    if preset is not None and matches_preset(preset, a, b, load):
        a = Side(a.pattern, a.values, a.mode, preset.a.label, a.models)
        b = Side(b.pattern, b.values, b.mode, preset.b.label, b.models)
    return a, b, notices


# --------------------------------------------------------------------------- comparison

@dataclass(frozen=True)
class Metric:
    """A headline number on both sides and its difference."""

    key: str
    label: str
    unit: str
    better: str
    """``lower``, ``higher`` or ``""`` (no direction)."""
    a: Figure | None
    b: Figure | None
    delta: Figure
    """``B − A`` (value None when either side has no finite number)."""
    ratio: float | None
    """B ÷ A when both are finite and A ≠ 0."""

    def shown(self, which: str) -> str:
        """``a``, ``b`` or ``delta`` as display text with its unit (``saturated`` when a latency has no value)."""
        f = {"a": self.a, "b": self.b, "delta": self.delta}[which]
        v = None if f is None else f.value
        if which == "delta":
            if v is None:
                return "–"
            if self.key == "max_utilization":  # a difference of two percentages is in points, not percent
                return f"{'+' if v > 0 else '−' if v < 0 else ''}{abs(v) * 100:.0f} pts"
            return ("+" if v > 0 else "") + _display(v, self.unit, self.key)
        if v is None:
            return "saturated" if f is not None and self.unit == "ms" else "–"
        return _display(v, self.unit, self.key)

    def verdict(self) -> str:
        """``better``, ``worse``, ``same`` or ``""`` for B relative to A."""
        d = self.delta.value
        if not isinstance(d, (int, float)) or isinstance(d, bool) or not self.better:
            return ""
        if abs(d) < 1e-9:
            return "same"
        return "better" if (d < 0) == (self.better == "lower") else "worse"


def _display(v: float, unit: str, key: str = "") -> str:
    if key == "max_utilization":
        return format_percent(v) if v >= 0 else "-" + format_percent(-v)
    if unit == "ms":
        return format_ms(v)
    if unit == "USD":
        return format_usd(v)
    if unit == "GB":
        return format_gb(v) if v >= 0 else "-" + format_gb(-v)
    return compact(v)


ROW_KEYS: tuple[tuple[str, str, str], ...] = (
    ("calls_per_s", "calls/s", "calls/s"),
    ("utilization", "utilisation", ""),
    ("nodes", "nodes", ""),
    ("p99_ms", "p99", "ms"),
    ("memory_gb", "memory", "GB"),
    ("cost_usd_month", "cost/month", "USD"),
)
"""Columns of the per-component delta table: (key, label, unit)."""


@dataclass(frozen=True)
class ComponentDelta:
    """One shared component's numbers on both sides."""

    id: str
    label: str
    status_a: str
    status_b: str
    a: dict[str, float | None]
    b: dict[str, float | None]
    delta: dict[str, float | None]
    figures: dict[str, Figure]
    """``B − A`` per key, with the two side figures as inputs."""

    def impact(self) -> float:
        """How much this component changed, for sorting: the largest relative change over the row's numbers
        (|B − A| ÷ max(|A|, |B|), 0 to 1), plus 1 when its status changed.

        Examples
        --------
        >>> d = ComponentDelta("x", "X", "ok", "hot", {"cost_usd_month": 100.0}, {"cost_usd_month": 150.0}, {}, {})
        >>> round(d.impact(), 3)
        1.333
        """
        score = 1.0 if self.status_a != self.status_b else 0.0
        changes = [0.0]
        for key, _, _ in ROW_KEYS:
            x, y = self.a.get(key), self.b.get(key)
            if x is None and y is None:
                continue
            if x is None or y is None:  # saturated on one side only
                changes.append(1.0)
            elif max(abs(x), abs(y)) > 0:
                changes.append(abs(y - x) / max(abs(x), abs(y)))
        return score + max(changes)

    def text_row(self) -> dict[str, str]:
        """The row as people read it: the component's label, each number as ``A → B`` in its unit
        (``5% → 100%``, ``10k/s → 200k/s``), and the change in cost."""
        row = {"Component": self.label,
               "Status": _status_text(self.status_a) if self.status_a == self.status_b
               else f"{_status_text(self.status_a)} → {_status_text(self.status_b)}"}
        for key, _label, _ in ROW_KEYS:
            x, y = self.a.get(key), self.b.get(key)
            row[TEXT_COLUMNS[key]] = change_text(_row_value(key, x), _row_value(key, y))
        d = self.delta.get("cost_usd_month")
        row["Δ cost / month"] = "—" if d is None else ("+" if d > 0 else "") + format_usd(d) if d else "same"
        return row

    def as_row(self) -> dict[str, object]:
        """A flat dict for a table."""
        row: dict[str, object] = {"component": self.id, "status A": self.status_a, "status B": self.status_b}
        for key, label, unit in ROW_KEYS:
            suffix = f" ({unit})" if unit and unit != "calls/s" else ""
            row[f"{label} A{suffix}"] = self.a.get(key)
            row[f"{label} B{suffix}"] = self.b.get(key)
            row[f"Δ {label}{suffix}"] = self.delta.get(key)
        return row


@dataclass(frozen=True)
class Comparison:
    """Everything the Compare page shows besides the diagrams and curves."""

    a: Side
    b: Side
    report_a: Report
    report_b: Report
    metrics: list[Metric]
    rows: list[ComponentDelta]
    only_a: list[str]
    only_b: list[str]
    changed_values: list[tuple[str, float | None, float | None, str]]
    """Parameters that differ: (name, A value, B value, unit)."""

    def metric(self, key: str) -> Metric:
        return next(m for m in self.metrics if m.key == key)

    def row(self, component: str) -> ComponentDelta:
        return next(r for r in self.rows if r.id == component)

    def table(self) -> list[dict[str, object]]:
        return [r.as_row() for r in self.rows]

    def by_impact(self) -> list[ComponentDelta]:
        """The shared components, the most changed first (:meth:`ComponentDelta.impact`; ties: cost change)."""
        return sorted(self.rows, key=lambda r: (-round(r.impact(), 9), -abs(r.delta.get("cost_usd_month") or 0.0),
                                                r.id))

    def text_table(self) -> list[dict[str, str]]:
        """:meth:`ComponentDelta.text_row` of every shared component, the most changed first."""
        return [r.text_row() for r in self.by_impact()]


TEXT_COLUMNS = {"calls_per_s": "Calls", "utilization": "Utilisation", "nodes": "Nodes", "p99_ms": "p99",
                "memory_gb": "Memory", "cost_usd_month": "Cost / month"}
"""Column titles of :meth:`ComponentDelta.text_row`, by row key."""


def _status_text(status: str) -> str:
    style = STATUS_STYLES.get(status)
    return style.badge if style is not None else status


def _row_value(key: str, v: float | None) -> str:
    """One number of a delta row as text in its unit; a missing latency is ``saturated``."""
    if v is None:
        return "saturated" if key == "p99_ms" else "—"
    return {"calls_per_s": format_rate, "utilization": format_percent, "p99_ms": format_ms, "memory_gb": format_gb,
            "cost_usd_month": format_usd}.get(key, compact)(v)


def change_text(a: str, b: str) -> str:
    """``a → b``, or ``a`` alone when both sides read the same.

    Examples
    --------
    >>> change_text("5%", "100%"), change_text("3", "3")
    ('5% → 100%', '3')
    """
    return a if a == b else f"{a} → {b}"


def parameter_text(q: Parameter | None, value: float | None, unit: str = "") -> str:
    """A parameter value as people read it: a share as a percentage, an on/off switch as ``on``/``off``,
    anything else with its unit (``20k req/s``).

    Examples
    --------
    >>> q = Parameter(name="miss_rate", label="Share served online", unit="", default=0.05, min=0, max=1,
    ...               source="assumption")
    >>> parameter_text(q, 0.05), parameter_text(q, 1.0), parameter_text(None, 2000, "items")
    ('5%', '100%', '2k items')
    """
    if value is None:
        return "—"
    if q is not None and not q.unit and q.min >= 0 and q.max <= 1:
        if q.integer:
            return "on" if value >= 0.5 else "off"
        return format_percent(value) if value >= 0.01 or value == 0 else f"{value * 100:.2g}%"
    return format_quantity(value, unit or (q.unit if q is not None else ""))


def value_changes(cmp: Comparison, rp_a: ResolvedPattern, rp_b: ResolvedPattern) -> list[str]:
    """The parameters that differ between the sides, labelled with units: ``Share served online: 5% → 100%``."""
    params = {q.name: q for q in rp_b.pattern.parameters}
    params.update({q.name: q for q in rp_a.pattern.parameters})
    out = []
    for name, x, y, unit in cmp.changed_values:
        q = params.get(name)
        label = q.label if q is not None else name
        out.append(f"{label}: {parameter_text(q, x, unit)} → {parameter_text(q, y, unit)}")
    return out


def _number(v) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)) and math.isfinite(v):
        return float(v)
    return None


def delta_figure(key: str, label: str, unit: str, a: Figure | None, b: Figure | None,
                 side_a: str = "A", side_b: str = "B") -> Figure:
    """``B − A`` as a figure whose inputs are the two sides' values.

    Examples
    --------
    >>> fa = Figure("x", "Cost", 100.0, "USD", "Σ")
    >>> fb = Figure("x", "Cost", 150.0, "USD", "Σ")
    >>> delta_figure("x", "Cost", "USD", fa, fb).explain()
    'Δ Cost = 50 USD — B − A with A = 100 USD, B = 150 USD'
    """
    va = _number(a.value) if a is not None else None
    vb = _number(b.value) if b is not None else None
    value = vb - va if va is not None and vb is not None else None
    note = ""
    if value is None:
        missing = [s for s, v, f in ((side_a, va, a), (side_b, vb, b)) if v is None]
        note = f"no finite value on {' and '.join(missing)}" + (
            " (saturated)" if any(f is not None and f.value is None for f in (a, b)) else "")
    return Figure(f"delta_{key}", f"Δ {label}", value, unit, f"{side_b} − {side_a}",
                  (Input(side_a, a.value if a is not None else None, unit),
                   Input(side_b, b.value if b is not None else None, unit)), note=note)


def _headline(r: Report) -> dict[str, Figure | None]:
    e = r.end_to_end
    t = r.totals.figures
    out: dict[str, Figure | None] = {
        "p99_ms": e.figures.get("p99_ms") if e else None,
        "mean_ms": e.figures.get("mean_ms") if e else None,
        "margin_ms": e.figures.get("margin_ms") if e else None,
        "cost_usd_month": t["cost_usd_month"],
        "cpu_replicas": t["cpu_replicas"],
        "gpu_replicas": t["gpu_replicas"],
        "memory_gb": t["memory_gb"],
    }
    hot = [c for c in r.components.values() if c.status in ("hot", "saturated", "infeasible")]
    out["hot_components"] = Figure("hot_components", "Hot or saturated components", len(hot), "",
                                   "count of components with ρ above the target, saturated or infeasible",
                                   tuple(Input(c.id, c.utilization, "ρ") for c in hot))
    busiest = max((c for c in r.components.values() if c.status not in ("external", "idle")),
                  key=lambda c: c.utilization, default=None)
    out["max_utilization"] = Figure("max_utilization", "Highest utilisation", busiest.utilization if busiest else 0.0,
                                    "", "max over components of ρ",
                                    (Input("component", busiest.id if busiest else "-", ""),))
    return out


METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("p99_ms", "End-to-end p99", "ms", "lower"),
    ("mean_ms", "End-to-end mean", "ms", "lower"),
    ("margin_ms", "Margin to the target", "ms", "higher"),
    ("cost_usd_month", "Cost per month", "USD", "lower"),
    ("cpu_replicas", "CPU nodes", "", "lower"),
    ("gpu_replicas", "GPU nodes", "", "lower"),
    ("memory_gb", "Memory held", "GB", "lower"),
    ("max_utilization", "Highest utilisation", "", "lower"),
    ("hot_components", "Hot or saturated components", "", "lower"),
)


def compare_reports(a: Side, b: Side, report_a: Report, report_b: Report) -> Comparison:
    """Headline metrics with differences and a delta table over the components both sides share."""
    ha, hb = _headline(report_a), _headline(report_b)
    metrics = []
    for key, label, unit, better in METRICS:
        fa, fb = ha.get(key), hb.get(key)
        if fa is None and fb is None:
            continue
        d = delta_figure(key, label, unit, fa, fb)
        va = _number(fa.value) if fa else None
        vb = _number(fb.value) if fb else None
        ratio = vb / va if va not in (None, 0) and vb is not None else None
        metrics.append(Metric(key, label, unit, better, fa, fb, d, ratio))

    rows = []
    shared = [cid for cid in report_a.components if cid in report_b.components]
    for cid in shared:
        ca, cb = report_a.components[cid], report_b.components[cid]
        if ca.status == "external" and cb.status == "external":
            continue
        va: dict[str, float | None] = {}
        vb: dict[str, float | None] = {}
        dd: dict[str, float | None] = {}
        figs: dict[str, Figure] = {}
        for key, label, unit in ROW_KEYS:
            fa, fb = ca.figures.get(key), cb.figures.get(key)
            x = _number(fa.value) if fa is not None else _number(getattr(ca, key, None))
            y = _number(fb.value) if fb is not None else _number(getattr(cb, key, None))
            if key == "p99_ms":  # a saturated station has no latency; a missing figure is not zero
                x = _number(ca.p99_ms)
                y = _number(cb.p99_ms)
            va[key], vb[key] = x, y
            dd[key] = y - x if x is not None and y is not None else None
            figs[key] = delta_figure(f"{cid}_{key}", f"{cid} {label}", unit, fa, fb)
        rows.append(ComponentDelta(cid, ca.label, ca.status, cb.status, va, vb, dd, figs))
    only_a = [c for c in report_a.components if c not in report_b.components]
    only_b = [c for c in report_b.components if c not in report_a.components]

    changed = []
    names = list(report_a.values) + [k for k in report_b.values if k not in report_a.values]
    for k in names:
        x, y = report_a.values.get(k), report_b.values.get(k)
        if x is None or y is None or not math.isclose(x, y, rel_tol=1e-12):
            changed.append((k, x, y, report_a.units.get(k) or report_b.units.get(k) or ""))
    return Comparison(a, b, report_a, report_b, metrics, rows, only_a, only_b, changed)


def compare_sides(a: Side, b: Side, load: Callable[[str], ResolvedPattern]) -> Comparison:
    """Load both patterns, analyse both scenarios and compare them."""
    ra = analyse(side_pattern(a, load), a.values, a.mode)
    rb = analyse(side_pattern(b, load), b.values, b.mode)
    return compare_reports(a, b, ra, rb)


# --------------------------------------------------------------------------- scaling curves

def sweep_parameters(rp_a: ResolvedPattern, rp_b: ResolvedPattern) -> tuple[str | None, str | None]:
    """The parameter each side's scaling curve sweeps: the same name on both sides when A's traffic
    parameter exists in B, else each side's own (:func:`explorer.engine.sweep.traffic_parameter`)."""
    na, nb = traffic_parameter(rp_a), traffic_parameter(rp_b)
    if na is not None and any(q.name == na for q in rp_b.pattern.parameters):
        nb = na
    return na, nb


def sweep_pair(rp_a: ResolvedPattern, a: Side, rp_b: ResolvedPattern, b: Side,
               points: int = 16) -> tuple[Sweep | None, Sweep | None]:
    """Both sides' scaling curves (:func:`explorer.engine.sweep.sweep`), each over its parameter's declared range."""
    na, nb = sweep_parameters(rp_a, rp_b)
    sa = sweep(rp_a, check_values(rp_a, a.values), a.mode, na, points) if na else None
    sb = sweep(rp_b, check_values(rp_b, b.values), b.mode, nb, points) if nb else None
    return sa, sb


_CURVE_TITLES = {"p99_ms": "End-to-end p99 (ms)", "cost_usd_month": "Cost per month (USD)",
                 "max_utilization": "Highest utilisation"}


def overlay_chart(sw_a: Sweep | None, label_a: str, sw_b: Sweep | None, label_b: str, metric: str = "p99_ms",
                  current: tuple[float | None, float | None] = (None, None)):
    """A plotly figure with both sides' curves of one metric against the swept parameter.

    Saturated points have no finite p99: they are gaps in the curve, marked with an x on the axis,
    and each side's saturation knee is a dotted vertical line.
    """
    fig = go.Figure()
    shapes = []
    title = _CURVE_TITLES.get(metric, metric)
    for sw, label, dash, color, now in ((sw_a, label_a, "solid", "#4c78a8", current[0]),
                                        (sw_b, label_b, "dash", "#e45756", current[1])):
        if sw is None:
            continue
        pts = [p for p in sw.points if p.error is None]
        xs = [p.x for p in pts]
        ys = [getattr(p, metric) for p in pts]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=label, connectgaps=False,
                                 line={"dash": dash, "color": color},
                                 hovertemplate=f"{sw.param} %{{x:,.4g}}: %{{y:,.4g}}<extra>{label}</extra>"))
        if metric == "p99_ms":
            sat = [p.x for p in pts if p.saturated]
            if sat:
                fig.add_trace(go.Scatter(x=sat, y=[0] * len(sat), mode="markers", name=f"{label}: saturated",
                                         marker={"symbol": "x", "size": 9, "color": color},
                                         hovertemplate="saturated at %{x:,.4g}<extra></extra>"))
        if sw.knee_x is not None:
            shapes.append({"type": "line", "xref": "x", "x0": sw.knee_x, "x1": sw.knee_x, "yref": "paper",
                           "y0": 0, "y1": 1, "line": {"color": color, "dash": "dot", "width": 1.5}})
        if now is not None:
            shapes.append({"type": "line", "xref": "x", "x0": now, "x1": now, "yref": "paper", "y0": 0, "y1": 1,
                           "line": {"color": color, "width": 1}})
    ref = sw_a or sw_b
    xtitle = ""
    if ref is not None:
        xtitle = ref.label + (f" ({ref.unit})" if ref.unit else "")
        if sw_a is not None and sw_b is not None and sw_a.param != sw_b.param:
            xtitle = f"A: {sw_a.label} / B: {sw_b.label}"
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 40, "b": 10}, title=title, shapes=shapes,
                      xaxis_title=xtitle, yaxis_title=title, legend={"orientation": "h", "y": -0.3})
    if ref is not None and ref.scale == "log":
        fig.update_xaxes(type="log")
    fig.update_yaxes(rangemode="tozero")
    return fig


def describe_side(side: Side, rp: ResolvedPattern) -> str:
    """``Two-stage recommender · Candidates to rank 2k items · auto-size``: the pattern, the parameters that
    differ from its defaults (labels and units), and the mode."""
    defaults = rp.defaults()
    params = {q.name: q for q in rp.pattern.parameters}
    changed = [f"{params[k].label} {parameter_text(params[k], float(v), params[k].unit)}"
               for k, v in side.values.items()
               if k in defaults and not math.isclose(float(v), defaults[k], rel_tol=1e-12)]
    models = [f"{cid}={fid}" for cid, fid in side.models.items()
              if cid in selectors(rp) and fid != selectors(rp)[cid].default]
    parts = [rp.pattern.title] + changed + models + (["auto-size"] if side.mode == "autosize" else [])
    return " · ".join(parts)
