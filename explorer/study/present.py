"""What the pages show, computed without Streamlit: picker entries, slider specs, URL state,
headline metrics, the ML figures, the capacity table, traces and bottleneck call-outs.

Pages stay thin: they read widgets, call these functions and display the result.
Everything here is plain data (dataclasses, dicts, strings) so it is easy to test.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from explorer.engine.bottlenecks import ProvisioningFlag, provisioning_flags
from explorer.engine.report import Figure, MLSection, Report
from explorer.model.choice import QUERY_PREFIX, chosen, models_query
from explorer.model.choice import from_query as models_from_query
from explorer.model.library import Entry, entries, user_dir
from explorer.model.loader import ARCHITECTURES_DIR, ResolvedPattern, builtin_paths
from explorer.model.pattern import Parameter
from explorer.model.scenario import MODES, from_query
from explorer.render.styles import STATUS_STYLES, status_cell_css
from explorer.render.text import verdict
from explorer.units import (
    compact,
    format_gb,
    format_ms,
    format_percent,
    format_quantity,
    format_rate,
    format_usd,
    linear_step,
    log_options,
    number_text,
)

DEFAULT_PATTERN = "two_stage_recommender"
MODE_LABELS = {"provisioned": "Provisioned (fixed replicas)", "autosize": "Auto-size (fewest replicas)"}
RESERVED_QUERY_KEYS = ("pattern", "mode", "view", "selected")
"""Query parameters that are not pattern parameters."""
REPLICAS_PREFIX = "replicas."
"""Query keys ``replicas.<component>=<count>``: a component's provisioned replicas set in the scenario."""

ROLE_TITLES = {"traffic": "Traffic", "latency": "Targets", "utilization": "Targets", "data": "Data size",
               "model": "Model", "other": "Other"}
ROLE_ORDER = ("traffic", "latency", "utilization", "data", "model", "other")

STATUS_BADGE = {status: style.badge for status, style in STATUS_STYLES.items()}


# --------------------------------------------------------------------------- the library

def directory_stamp(paths: Iterable[Path]) -> tuple:
    """A cheap fingerprint of pattern files (name, mtime, size) to key caches on."""
    out = []
    for p in paths:
        try:
            st = p.stat()
        except OSError:
            continue
        out.append((str(p), st.st_mtime_ns, st.st_size))
    return tuple(sorted(out))


def library_paths() -> list[Path]:
    """Built-in pattern files, then the user's."""
    folder = user_dir()
    user = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    return list(builtin_paths()) + user


def pattern_entries() -> list[Entry]:
    """Every pattern for the picker (see :func:`explorer.model.library.entries`)."""
    return entries()


def entry_label(e: Entry) -> str:
    """How the picker shows a pattern: its group, then its title."""
    if e.kind == "case_study":
        return f"Case study · {('ch. ' + str(e.chapter) + ' · ') if e.chapter else ''}{e.title}"
    if e.kind == "user":
        return f"Yours · {e.title}" + (" (does not load)" if e.error else "")
    return f"Building block · {e.title}"


def search_entries(entries: list[Entry], text: str) -> list[Entry]:
    """Entries whose id, title or tags contain every word of ``text`` (case-insensitive)."""
    words = [w for w in (text or "").lower().split() if w]
    if not words:
        return list(entries)
    out = []
    for e in entries:
        hay = " ".join([e.id, e.title, " ".join(e.tags), e.kind.replace("_", " ")]).lower()
        if all(w in hay for w in words):
            out.append(e)
    return out


def default_pattern(entries: list[Entry]) -> str | None:
    """The pattern a fresh page shows: two-stage recommender if present, else the first that loads."""
    ok = [e.id for e in entries if not e.error]
    if DEFAULT_PATTERN in ok:
        return DEFAULT_PATTERN
    return ok[0] if ok else None


# --------------------------------------------------------------------------- sliders

@dataclass(frozen=True)
class SliderSpec:
    """How to draw one parameter as a slider."""

    name: str
    label: str
    unit: str
    help: str
    role: str
    kind: str
    """``log``: a select-slider over nice log-spaced options; ``linear``: a plain slider."""
    default: float
    min: float
    max: float
    step: float | int | None = None
    options: tuple = ()
    integer: bool = False
    format: str = "%g"
    """printf format for linear sliders."""

    def fmt(self, value: float) -> str:
        """The value as the slider shows it (``20k req/s``)."""
        return format_quantity(value, self.unit)


def slider_spec(q: Parameter, current: float | None = None) -> SliderSpec:
    """Slider for a parameter. Log-scale parameters get nice options (1, 1.5, 2, 3, 5, 7 × 10ⁿ, the ends,
    the default and ``current`` if it is off that grid).

    Examples
    --------
    >>> from explorer.model.pattern import Parameter
    >>> q = Parameter(name="peak_qps", label="Peak QPS", unit="req/s", default=20000, min=100, max=2e6,
    ...               scale="log", integer=True, source="assumption")
    >>> s = slider_spec(q)
    >>> s.kind, s.options[:4], s.fmt(20000)
    ('log', (100, 150, 200, 300), '20k req/s')
    """
    help_text = q.help or ""
    if q.source:
        help_text = (help_text + f"\n\nDefault {format_quantity(q.default, q.unit)} — source: {q.source}").strip()
    if q.scale == "log" and q.min > 0:
        extra = [q.default] + ([current] if current is not None else [])
        options = tuple(log_options(q.min, q.max, extra, integer=q.integer))
        return SliderSpec(q.name, q.label, q.unit, help_text, q.role, "log", q.default, q.min, q.max,
                          options=options, integer=q.integer)
    step = linear_step(q.min, q.max, q.integer)
    if q.integer:
        fmt = "%d"
    else:
        decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 2
        fmt = f"%.{decimals}f"
    return SliderSpec(q.name, q.label, q.unit, help_text, q.role, "linear", q.default, q.min, q.max, step=step,
                      integer=q.integer, format=fmt + (f" {q.unit}" if q.unit and "%" not in q.unit else ""))


def slider_value(spec: SliderSpec, value: float) -> float | int:
    """A value in the type the widget expects (int for integer parameters)."""
    return int(round(value)) if spec.integer else float(value)


def grouped_specs(rp: ResolvedPattern) -> list[tuple[str, list[Parameter]]]:
    """Parameters grouped by role for the sidebar, in a fixed order (traffic, targets, data, model, other)."""
    groups: dict[str, list[Parameter]] = {}
    for role in ROLE_ORDER:
        for q in rp.pattern.parameters:
            if q.role == role:
                groups.setdefault(ROLE_TITLES[role], []).append(q)
    return list(groups.items())


# --------------------------------------------------------------------------- URL state

@dataclass
class PageState:
    """What a link encodes: a pattern, its parameter values, a mode, a view and a selected component."""

    pattern: str
    values: dict[str, float]
    mode: str = "provisioned"
    view: str = "overview"
    selected: str | None = None
    notices: list[str] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)
    """Model family chosen per component with a selector (``model.<component>=<family>``); missing: default."""
    replicas: dict[str, int] = field(default_factory=dict)
    """Components whose provisioned replicas the user set ("auto-size this component"), by id."""


def _one(query: Mapping[str, object], key: str) -> str | None:
    v = query.get(key)
    if isinstance(v, (list, tuple)):
        v = v[-1] if v else None
    return None if v is None else str(v)


def choose_pattern(query: Mapping[str, object], entries: list[Entry]) -> tuple[str | None, list[str]]:
    """The pattern a link asks for, or the default with a notice when it is unknown or broken."""
    fallback = default_pattern(entries)
    raw = _one(query, "pattern")
    if raw is None or raw == "":
        return fallback, []
    by_id = {e.id: e for e in entries}
    e = by_id.get(raw)
    if e is None:
        known = ", ".join(x.id for x in entries if not x.error)
        return fallback, [f"The link asks for pattern {raw!r}, which does not exist; showing {fallback}. "
                          f"Known patterns: {known}."]
    if e.error:
        return fallback, [f"Pattern {raw!r} does not load ({e.error}); showing {fallback}."]
    return raw, []


def read_query(rp: ResolvedPattern, query: Mapping[str, object]) -> PageState:
    """Lenient parse of the URL for one pattern: bad or out-of-range values fall back to defaults with a notice."""
    flat = {k: s for k in query if (s := _one(query, k)) is not None}
    values, notices = from_query(rp, {k: v for k, v in flat.items()
                                      if k not in RESERVED_QUERY_KEYS
                                      and not k.startswith((QUERY_PREFIX, REPLICAS_PREFIX))})
    notices = [f"Link value ignored — {n}" for n in notices]
    replicas, bad = replicas_from_query(rp, flat)
    notices += [f"Link value ignored — {n}" for n in bad]
    mode = flat.get("mode", "provisioned")
    if mode not in MODES:
        notices.append(f"Link value ignored — mode={mode!r} is not one of {', '.join(MODES)}; using provisioned.")
        mode = "provisioned"
    from explorer.render.diagram import views
    view_ids = [v.id for v in views(rp)]
    view = flat.get("view", view_ids[0])
    if view not in view_ids:
        notices.append(f"Link value ignored — view={view!r} is not a view of {rp.id} ({', '.join(view_ids)}); "
                       f"showing {view_ids[0]}.")
        view = view_ids[0]
    selected = flat.get("selected") or None
    if selected is not None and selected not in rp.graph:
        notices.append(f"Link value ignored — selected={selected!r} is not a component of {rp.id}.")
        selected = None
    models, model_notices = models_from_query(rp, flat)
    notices += [f"Link value ignored — {n}" for n in model_notices]
    return PageState(rp.id, values, mode, view, selected, notices, models=models, replicas=replicas)


def replicas_from_query(rp: ResolvedPattern, flat: Mapping[str, str]) -> tuple[dict[str, int], list[str]]:
    """``replicas.<component>=<count>`` keys of a link: the valid ones, and a notice for each other.

    Examples
    --------
    >>> from explorer.model.library import load
    >>> replicas_from_query(load("ad_click_prediction"), {"replicas.ranker": "2", "replicas.nope": "1"})
    ({'ranker': 2}, ["replicas.nope='1' is not a server component of ad_click_prediction."])
    """
    servers = {c.id for c in rp.pattern.components if rp.types[c.id].category != "client"}
    out: dict[str, int] = {}
    bad: list[str] = []
    for key, raw in flat.items():
        if not key.startswith(REPLICAS_PREFIX):
            continue
        cid = key[len(REPLICAS_PREFIX):]
        if cid not in servers:
            bad.append(f"{key}={raw!r} is not a server component of {rp.id}.")
            continue
        try:
            n = float(raw)
        except ValueError:
            n = math.nan
        if not (math.isfinite(n) and n.is_integer() and 1 <= n <= MAX_REPLICAS):
            bad.append(f"{key}={raw!r} is not a whole number of replicas from 1 to {MAX_REPLICAS:,}.")
            continue
        out[cid] = int(n)
    return out, bad


MAX_REPLICAS = 1_000_000
"""The largest replica count a link may set for one component."""


def write_query(rp: ResolvedPattern, state: PageState) -> dict[str, str]:
    """The query parameters that reopen ``state`` (every parameter is written, so links survive new defaults)."""
    out = {"pattern": state.pattern}
    ints = {q.name: q.integer for q in rp.pattern.parameters}
    for q in rp.pattern.parameters:
        if q.name in state.values:
            out[q.name] = number_text(state.values[q.name], ints[q.name])
    out["mode"] = state.mode
    out["view"] = state.view
    if state.selected:
        out["selected"] = state.selected
    out.update(models_query({**chosen(rp), **state.models}))
    for cid, n in sorted(state.replicas.items()):
        out[REPLICAS_PREFIX + cid] = str(int(n))
    return out


# --------------------------------------------------------------------------- headline metrics

@dataclass(frozen=True)
class Metric:
    """One headline number with how to open its trace."""

    key: str
    label: str
    value: str
    delta: str | None = None
    delta_color: str = "normal"
    help: str = ""
    refs: tuple[str, ...] = ()
    """Figure references (``end_to_end.p99_ms``, ``totals.cost_usd_month``…) whose explain() lines form the trace."""


def headline(report: Report) -> list[Metric]:
    """End-to-end latency against the target, peak QPS, replicas, memory and cost."""
    out: list[Metric] = []
    e = report.end_to_end
    if e is not None:
        pct = compact(e.percentile)
        refs = tuple(f"end_to_end.{k}" for k in ("p99_ms", "target_percentile_ms", "mean_ms", "margin_ms",
                                                   "meets_target") if k in e.figures)
        if e.saturated:
            out.append(Metric("p99", f"End-to-end p{pct}", "SATURATED", f"target {format_ms(e.target_ms)}",
                              "inverse", f"Saturated at {', '.join(e.saturated_components)}: no finite latency "
                              f"(target {format_ms(e.target_ms)}).", refs))
        else:
            value = e.target_percentile_ms
            diff = -(e.margin_ms or 0.0)
            sign = "+" if diff > 0 else "-"  # ASCII: st.metric reads the sign for the arrow
            delta = f"{sign}{format_ms(abs(diff))} vs {format_ms(e.target_ms)}"
            out.append(Metric("p99", f"End-to-end p{pct}", format_ms(value), delta, "inverse",
                              f"The composed p{pct} {verdict(e)} the {format_ms(e.target_ms)} target "
                              f"(mean {format_ms(e.mean_ms)}).", refs))
        entry = report.components.get(e.entry)
        qps = entry.calls_per_s if entry else 0.0
        out.append(Metric("qps", "Peak QPS", f"{compact(qps)} req/s", None, "normal",
                          f"Requests per second arriving at {e.entry}.",
                          (f"{e.entry}.calls_per_s", *_traffic_refs(report))))
    t = report.totals
    nodes = t.cpu_replicas + t.gpu_replicas
    split = f"{compact(t.gpu_replicas, 2)} GPU" + (f" · {compact(t.managed_replicas, 2)} mgd" if t.managed_replicas
                                                  else "")
    out.append(Metric("replicas", "Nodes", compact(nodes), split, "off",
                      f"Shards × replicas summed over components: {compact(t.cpu_replicas)} CPU and "
                      f"{compact(t.gpu_replicas)} GPU nodes" + (f", {compact(t.managed_replicas)} managed"
                                                                if t.managed_replicas else "") + ".",
                      ("totals.cpu_replicas", "totals.gpu_replicas")))
    out.append(Metric("memory", "Memory held", format_gb(t.memory_gb),
                      f"disk {format_gb(t.storage_gb)}" if t.storage_gb else None, "off",
                      "Data held in memory across all replicas (storage on disk separately).",
                      ("totals.memory_gb", "totals.storage_gb")))
    ml_cost = "ml_cost_usd_month" in t.figures
    out.append(Metric("cost", "Cost per month", format_usd(t.cost_usd_month),
                      f"+ ML {format_usd(t.ml_cost_usd_month)}" if ml_cost else None, "off",
                      "Nodes × price per hour × 730 h, plus storage. The ML blocks' own cost (training runs, "
                      "batch path, logs, drift) is shown beside it, not added: the pattern draws those jobs as "
                      "components too." if ml_cost else "Nodes × price per hour × 730 h, plus storage.",
                      ("totals.cost_usd_month",) + (("totals.ml_cost_usd_month",) if ml_cost else ())))
    return out


def _traffic_refs(report: Report) -> tuple[str, ...]:
    """DAU → peak QPS, when the pattern declares its traffic from daily users."""
    traffic = _ml_section(report, "traffic")
    return () if traffic is None else tuple(f"ml.traffic.{k}" for k in traffic.figures)


def explain_refs(report: Report, refs: Iterable[str]) -> list[str]:
    """``Figure.explain()`` lines for figure references; unknown references are skipped."""
    out = []
    for ref in refs:
        try:
            out.append(report.figure(ref).explain())
        except (KeyError, AttributeError):
            continue
    return out


# --------------------------------------------------------------------------- ML figures

SHARE_KEYS = frozenset({"coverage", "wasted_share", "utilization", "link_utilization"})
"""ML figures whose value is a fraction shown as a percentage."""


def figure_text(f: Figure) -> str:
    """A figure's value as the pages show it: ``24 GPUs``, ``12.1 h``, ``95%``, ``$1.6k/month``, ``yes``.

    Never ``None`` or ``nan``: a missing value reads ``saturated``, a non-finite one ``∞``.

    Examples
    --------
    >>> figure_text(Figure("coverage", "Served precomputed", 0.95, "", "given"))
    '95%'
    >>> figure_text(Figure("cost_usd_month", "Cost", 1596.27, "USD/month", "given"))
    '$1.6k/month'
    >>> figure_text(Figure("total_gb", "Index memory", 1536.0, "GB", "given"))
    '1.54 TB'
    >>> figure_text(Figure("shards", "GPUs per replica", 1, "GPUs", "given"))
    '1 GPU'
    """
    v = f.value
    if v is None:
        return "saturated"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, str):
        return v
    if not math.isfinite(v):
        return "∞"
    unit = f.unit.strip()
    if f.key in SHARE_KEYS and unit == "":
        return format_percent(v)
    if unit.startswith("USD"):
        return format_usd(v) + unit[3:]
    if unit == "GB":
        return format_gb(v)
    if unit == "ms":
        return format_ms(v)
    if v == 1 and unit in SINGULAR:  # "1 GPU", not "1 GPUs"
        unit = SINGULAR[unit]
    return f"{compact(v)} {unit}".rstrip()


SINGULAR = {"GPUs": "GPU", "nodes": "node", "shards": "shard", "replicas": "replica", "runs": "run",
            "families": "family", "examples": "example", "checks": "check", "parameters": "parameter"}
"""Plural units the pages write in the singular for exactly one."""


@dataclass(frozen=True)
class MLRow:
    """One ML figure as a table row: its label, its value as text, and the reference that opens its trace."""

    label: str
    value: str
    ref: str
    """``ml.<section>.<key>``: :meth:`Report.figure` finds it; :func:`explain_refs` gives its trace."""


@dataclass(frozen=True)
class MLView:
    """One ML section as shown: title, the component it is about (or None) and its rows."""

    key: str
    title: str
    component: str | None
    rows: tuple[MLRow, ...]


def ml_views(report: Report) -> list[MLView]:
    """Every ML section of the report in the engine's order, each figure as a row (empty when none)."""
    return [MLView(key=s.key, title=s.title, component=s.component,
                   rows=tuple(MLRow(label=f.label, value=figure_text(f), ref=f"ml.{s.key}.{k}")
                              for k, f in s.figures.items()))
            for s in report.ml]


def ml_section_trace(report: Report, key: str) -> list[str]:
    """Every figure of one ML section, explained (formula, inputs, result)."""
    section = next((s for s in report.ml if s.key == key), None)
    return [] if section is None else [f.explain() for f in section.figures.values()]


def _ml_section(report: Report, key: str) -> MLSection | None:
    return next((s for s in report.ml if s.key == key), None)


def ml_headline(report: Report, limit: int = 4) -> list[Metric]:
    """The ML figures a design answer turns on, one metric per section that has one (at most ``limit``):
    GPUs needed and whether the model fits one GPU; index memory and shards; staleness and coverage of
    precomputed predictions; training cost per month and model age; feature freshness; log growth."""
    out: list[Metric] = []
    for s in report.ml:
        F = s.figures
        ref = f"ml.{s.key}."
        if s.key.startswith("gpu:") and "gpus_needed" in F:
            model = _ml_section(report, "model:" + s.key[4:])
            delta, refs = None, [ref + k for k in ("gpus_needed", "gpus_total", "work_gpu_s_per_s", "utilization")
                                 if k in F]
            if model is not None and "shards" in model.figures and "total_gb" in model.figures:
                shards = model.figures["shards"].value
                fits = "fits one GPU" if shards == 1 else f"spans {compact(shards)} GPUs"
                delta = f"model {format_gb(model.figures['total_gb'].value)} {fits}"
                refs += [f"ml.{model.key}.total_gb", f"ml.{model.key}.shards"]
            gpus = F["gpus_total"] if "gpus_total" in F else F["gpus_needed"]  # every GPU, split models included
            out.append(Metric(f"ml_{s.key}", f"GPUs · {s.component}", figure_text(gpus), delta, "off",
                              "GPUs the items' work needs at the target utilisation, and the model's memory "
                              "against one GPU.", tuple(refs)))
        elif s.key.startswith("index:") and "total_gb" in F:
            shards = F.get("shards")
            out.append(Metric(f"ml_{s.key}", f"Index · {s.component}", figure_text(F["total_gb"]),
                              f"{figure_text(shards)}" if shards is not None else None, "off",
                              "Embedding index memory and the shards that hold it.",
                              tuple(ref + k for k in ("total_gb", "shards", "time_ms_per_shard",
                                                      "brute_force_time_ms_per_shard") if k in F)))
        elif s.key == "precompute" and "staleness_mean_hours" in F:
            cov = F.get("coverage")
            out.append(Metric("ml_precompute", "Staleness (batch)", figure_text(F["staleness_mean_hours"]),
                              f"{figure_text(cov)} served precomputed" if cov is not None else None, "off",
                              "Mean age of a precomputed prediction: half the refresh interval plus the job and "
                              "the feature delay.",
                              tuple(ref + k for k in ("staleness_mean_hours", "staleness_max_hours", "coverage",
                                                      "cost_usd_month") if k in F)))
        elif s.key == "training" and "cost_usd_month" in F:
            age = F.get("model_age_mean_hours")
            out.append(Metric("ml_training", "Training per month", format_usd(F["cost_usd_month"].value),
                              f"model age {figure_text(age)}" if age is not None else None, "off",
                              "Retrains per month × cost per run; the model's mean age at serving time.",
                              tuple(ref + k for k in ("cost_usd_month", "cost_usd", "model_age_mean_hours")
                                    if k in F)))
        elif s.key == "streaming_features" and "mean_age_s" in F:
            out.append(Metric("ml_streaming", "Feature freshness", figure_text(F["mean_age_s"]), None, "off",
                              "Mean age of a streaming feature: half the window plus the pipeline lag.",
                              tuple(ref + k for k in ("mean_age_s", "max_age_s") if k in F)))
        elif s.key == "logging" and "growth_gb_per_month" in F:
            out.append(Metric("ml_logging", "Log growth per month", format_gb(F["growth_gb_per_month"].value), None,
                              "off",
                              "Logged events × bytes per event, per month.",
                              tuple(ref + k for k in ("growth_gb_per_month", "steady_state_gb") if k in F)))
        if len(out) >= limit:
            break
    return out


# --------------------------------------------------------------------------- capacity table

TABLE_COLUMNS = ("Component", "Status", "Utilisation", "p99", "Replicas", "Memory", "Cost / month", "Sizing",
                 "Recommended", "Calls", "Service", "Shards")
"""The capacity table's columns, most important first (what fits a 1440 px page without scrolling comes first)."""


def _recommended_text(c) -> str:
    """Recommended replicas per shard, or a dash with the reason there is none."""
    if c.status == "external" or c.category == "client":
        return "— (client)"
    if c.replicas_recommended is not None:
        return str(c.replicas_recommended)
    if c.calls_per_s == 0:
        return "— (no traffic)"
    if "replicas_needed" in c.figures:
        return f"— (≥ {compact(c.figures['replicas_needed'].value)} needed)"
    return "— (no count meets its budget)"


def _flag_text(f: ProvisioningFlag | None) -> str:
    if f is None:
        return ""
    if f.kind == "over":
        return f"over: {f.replicas} → {f.recommended} · {format_usd(f.usd_month)}/mo spare"
    return f"under: {f.replicas} → {f.recommended}"


def _p99_text(c) -> str:
    if c.status == "external":
        return "— (client)"
    if c.saturated:
        return "saturated"
    if c.p99_ms is None:
        return "— (no traffic)"
    return format_ms(c.p99_ms)


def capacity_rows(report: Report) -> list[dict]:
    """One row per component (file order) in :data:`TABLE_COLUMNS` order, plus the hidden ``id``.

    Every cell reads as it is shown: rates in human units (``/s``, ``/min``, ``/h``, ``/day``), milliseconds,
    GB/TB, dollars; a missing value is a dash with its reason (``— (client)``), never ``None`` or ``nan``.
    Utilisation stays a number (a bar), capped at 999% so a saturated bar is full and finite; ``Sizing`` flags
    over- and under-provisioned components (:func:`explorer.engine.bottlenecks.provisioning_flags`).
    """
    flags = {f.component: f for f in provisioning_flags(report)}
    rows = []
    for c in report.components.values():
        client = c.status == "external"
        u = c.utilization if math.isfinite(c.utilization) else 9.99
        rows.append({
            "id": c.id,
            "Component": c.label,
            "Status": STATUS_BADGE.get(c.status, c.status),
            "Utilisation": min(float(u), 9.99),
            "p99": _p99_text(c),
            "Replicas": "— (client)" if client else str(c.replicas),
            "Memory": "—" if client else format_gb(c.memory_gb),
            "Cost / month": "—" if client else format_usd(c.cost_usd_month),
            "Sizing": _flag_text(flags.get(c.id)),
            "Recommended": _recommended_text(c),
            "Calls": format_rate(c.calls_per_s),
            "Service": format_ms(c.service_ms),
            "Shards": "—" if client else str(c.shards),
        })
    return rows


def capacity_status_css(report: Report, theme: str = "light") -> list[str]:
    """CSS of each row's status cell (same order as :func:`capacity_rows`): the node's colour on the diagram."""
    return [status_cell_css(c.status, c.utilization, c.saturated, theme) for c in report.components.values()]


def component_trace(report: Report, cid: str) -> list[str]:
    """Every figure of a component, explained (formula, inputs, result)."""
    c = report.components.get(cid)
    if c is None:
        return []
    return [f.explain() for f in c.figures.values()]


def component_summary(report: Report, cid: str) -> str:
    """One sentence about a component at this scenario."""
    c = report.components[cid]
    if c.status == "external":
        return f"{c.label} ({c.id}) is outside the system: it sends the requests."
    lat = "saturated (no finite latency)" if c.saturated else f"p99 {format_ms(c.p99_ms)}"
    shards = f"{c.shards} shards × {c.replicas} replicas" if c.shards > 1 else f"{c.replicas} replicas"
    return (f"{c.label} ({c.id}, {c.type}): {format_rate(c.calls_per_s, 'calls')}, {shards}, utilisation "
            f"{format_percent(c.utilization)}, {lat}, {format_usd(c.cost_usd_month)}/month — status {c.status}.")


# --------------------------------------------------------------------------- bottlenecks

@dataclass(frozen=True)
class Callout:
    """A bottleneck or a provisioning flag in plain words, with what one click can do about it."""

    level: str
    """``error`` (saturated, infeasible, a batch job that doesn't fit), ``warning`` (hot, slow,
    under-provisioned) or ``info`` (over-provisioned)."""
    component: str
    text: str
    icon: str = ":material/warning:"
    """A Material icon (text, no emoji font needed)."""
    replicas: int | None = None
    """Set when "auto-size this component" applies: the recommended replicas per shard to set it to."""


_LONG_DECIMAL = re.compile(r"(?<![\w.])(\d+\.\d{3,})(?![\w.])")


def tidy(text: str) -> str:
    """Engine sentences made readable: long decimals rounded to three significant digits, one full stop.

    Examples
    --------
    >>> tidy("the p99 target 6.86813 ms is at or below 9.21 ms; no number of servers can meet it..")
    'The p99 target 6.87 ms is at or below 9.21 ms; no number of servers can meet it.'
    >>> tidy("version 1.2.3 stays")
    'Version 1.2.3 stays.'
    """
    text = _LONG_DECIMAL.sub(lambda m: compact(float(m.group(1))), text.strip())
    text = text.rstrip(" .") + "."
    return text[:1].upper() + text[1:]


def _problem_text(rank: int, reason: str, advice: str) -> str:
    return f"**{rank}. {tidy(reason)}** {tidy(advice)}"


def callouts(report: Report) -> list[Callout]:
    """The engine's bottlenecks (ranked), batch jobs that miss their window, then the provisioning flags:
    under-provisioned components not already named, and over-provisioned ones with the money they waste.

    A callout about a component with fewer replicas than recommended carries that count (``replicas``),
    so the page can offer "auto-size this component"."""
    flags = provisioning_flags(report)
    under = {f.component: f for f in flags if f.kind == "under"}
    out = []
    named = set()
    for b in report.bottlenecks:
        level = "error" if b.status in ("saturated", "infeasible") else "warning"
        style = STATUS_STYLES.get(str(b.status))
        icon = style.icon if style is not None and b.status != "ok" else ":material/schedule:"
        fix = under.get(b.component)
        named.add(b.component)
        out.append(Callout(level, b.component, _problem_text(b.rank, b.reason, b.advice), icon,
                           fix.recommended if fix is not None else None))
    for j in report.batch_jobs:
        if not j.fits_window:
            out.append(Callout("error", j.entry, f"**Batch job {j.label}** does not fit its {compact(j.window_hours)} h "
                                                 f"window every {compact(j.every_hours)} h "
                                                 f"({format_rate(j.items_per_s, 'items')} needed).",
                               ":material/event_busy:"))
    for f in flags:
        if f.kind == "under" and f.component not in named:
            out.append(Callout("warning", f.component,
                               f"**{f.label} is under-provisioned:** {f.replicas} replicas where {f.recommended} "
                               f"meet{'s' if f.recommended == 1 else ''} the {format_percent(f.target_utilization)} target utilisation and its latency budget "
                               f"(about {format_usd(f.usd_month)}/month more).", ":material/trending_up:",
                               f.recommended))
    for f in flags:
        if f.kind == "over":
            out.append(Callout("info", f.component,
                               f"**{f.label} is over-provisioned:** {format_percent_fine(f.utilization)} utilisation "
                               f"on {f.replicas} replicas where {f.recommended} "
                               f"meet{'s' if f.recommended == 1 else ''} the "
                               f"{format_percent(f.target_utilization)} target — {format_usd(f.usd_month)}/month on "
                               f"the spare replicas.", ":material/savings:", f.recommended))
    return out


def format_percent_fine(fraction: float) -> str:
    """A utilisation that may be tiny: ``0.16%``, ``3%``, ``< 0.01%``.

    Examples
    --------
    >>> format_percent_fine(0.0016), format_percent_fine(0.03), format_percent_fine(1e-7)
    ('0.16%', '3%', '< 0.01%')
    """
    pct = fraction * 100
    if 0 < pct < 0.01:
        return "< 0.01%"
    return f"{compact(pct, 2)}%"


def wasted_usd_month(report: Report) -> float:
    """Money per month on replicas beyond the recommended counts of over-provisioned components."""
    return sum(f.usd_month for f in provisioning_flags(report) if f.kind == "over")


def healthy_message(report: Report) -> str:
    """The sentence shown when nothing is hot, saturated or late, naming any over-provisioning it costs."""
    e = report.end_to_end
    if e is None:
        text = "Every component runs under the target utilisation and every batch job fits its window."
    else:
        text = (f"Every component runs under the {format_percent(report.target_utilization)} target utilisation and "
                f"the p{compact(e.percentile)} of {format_ms(e.target_percentile_ms)} meets the "
                f"{format_ms(e.target_ms)} target.")
    over = [f for f in provisioning_flags(report) if f.kind == "over"]
    if over:
        text += (f" But {len(over)} component{'s are' if len(over) != 1 else ' is'} over-provisioned: "
                 f"{format_usd(sum(f.usd_month for f in over))}/month of "
                 f"{format_usd(report.totals.cost_usd_month)} goes to replicas beyond the recommended counts.")
    return text


def values_key(values: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    """A hashable, order-independent cache key for parameter values."""
    return tuple(sorted((k, float(v)) for k, v in values.items()))


__all__ = [
    "ARCHITECTURES_DIR", "Callout", "REPLICAS_PREFIX", "capacity_status_css", "format_percent_fine",
    "replicas_from_query", "tidy", "wasted_usd_month", "MLRow", "MLView", "Metric", "PageState", "SliderSpec", "callouts",
    "capacity_rows", "choose_pattern", "component_summary", "component_trace", "default_pattern", "directory_stamp",
    "entry_label", "explain_refs", "figure_text", "grouped_specs", "headline", "healthy_message", "library_paths",
    "ml_headline", "ml_section_trace", "ml_views", "number_text", "pattern_entries", "read_query",
    "search_entries", "slider_spec", "slider_value", "values_key", "write_query",
]
