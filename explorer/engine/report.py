"""What the capacity analysis returns: figures with their traces.

Every number the product shows is a :class:`Figure`: a value, its unit, the
formula that produced it and the inputs (with units) that went in. Saturated
latencies are ``None`` with ``saturated=True`` — a state, never a NaN.
"""

from __future__ import annotations

import enum
import gc
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import orjson

from explorer.units import fmt


@contextmanager
def gc_paused() -> Iterator[None]:
    """Build many small objects without the cyclic collector: reports and their JSON form are
    thousands of small objects and no cycles, so pausing it keeps large patterns linear (it restores
    the previous state)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Status(enum.StrEnum):
    """State of a component (or of a bottleneck); a ``str``, so ``status == "ok"`` keeps working."""

    OK = "ok"
    HOT = "hot"
    SATURATED = "saturated"
    INFEASIBLE = "infeasible"
    EXTERNAL = "external"
    IDLE = "idle"
    SLOW = "slow"


@dataclass(frozen=True, slots=True)
class Input:
    """One input of a formula."""

    name: str
    value: Any
    unit: str = ""


@dataclass(frozen=True, slots=True)
class Figure:
    """A reported number with its trace.

    Examples
    --------
    >>> f = Figure("utilization", "Utilisation", 0.5, "", "ρ = λ·S / c",
    ...            (Input("λ", 100.0, "calls/s"), Input("S", 10.0, "ms"), Input("c", 2, "servers")))
    >>> f.explain()
    'Utilisation = 0.5 — ρ = λ·S / c with λ = 100 calls/s, S = 10 ms, c = 2 servers'
    """

    key: str
    label: str
    value: float | int | str | bool | None
    unit: str
    formula: str
    inputs: tuple[Input, ...] = ()
    note: str = ""

    def explain(self) -> str:
        """The figure as one readable line: label = value — formula with inputs."""
        ins = ", ".join(f"{i.name} = {fmt(i.value)}{(' ' + i.unit) if i.unit else ''}" for i in self.inputs)
        value = "saturated (no finite value)" if self.value is None else fmt(self.value)
        unit = f" {self.unit}" if self.unit and self.value is not None else ""
        text = f"{self.label} = {value}{unit} — {self.formula}"
        if ins:
            text += f" with {ins}"
        if self.note:
            text += f". {self.note}"
        return text


class LazyFigures(Mapping[str, Figure]):
    """A read-only mapping of figures built on first read by ``build(*args)``.

    Building twenty traced figures per component is most of an analysis's cost; most readers look at a
    few components. Once built the figures never change; a copy or a pickle is a plain ``dict``.

    Examples
    --------
    >>> figs = LazyFigures(lambda v: {"x": Figure("x", "X", v, "", "given")}, 2.0)
    >>> figs["x"].value, list(figs), len(figs)
    (2.0, ['x'], 1)
    """

    __slots__ = ("_build", "_args", "_figures")

    def __init__(self, build: Callable[..., dict[str, Figure]], *args: Any) -> None:
        self._build = build
        self._args = args
        self._figures: dict[str, Figure] | None = None

    def _all(self) -> dict[str, Figure]:
        if self._figures is None:
            self._figures = self._build(*self._args)
            self._args = ()
        return self._figures

    def __getitem__(self, key: str) -> Figure:
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __contains__(self, key: object) -> bool:
        return key in self._all()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._all() == dict(other.items())
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LazyFigures({self._all()!r})"

    def __reduce__(self):
        return (dict, (self._all(),))


@dataclass(frozen=True, slots=True)
class ComponentReport:
    """Figures for one component in one scenario."""

    id: str
    label: str
    type: str
    category: str
    hardware: str
    tier: str
    status: Status
    on_request_path: bool
    calls_per_s: float
    items_per_s: float
    items_per_call: float
    service_ms: float
    service_cv: float
    concurrency: int
    shards: int
    shard_access: str
    replicas: int
    """Replicas per shard used in this scenario (provisioned, or recommended in auto-size)."""
    replicas_provisioned: int
    replicas_recommended: int | None
    """Fewest replicas per shard that meet the target utilisation and latency share; None if infeasible."""
    nodes: int
    """shards × replicas."""
    servers_per_shard: int
    arrival_per_shard_per_s: float
    utilization: float
    saturated: bool
    p_wait: float | None
    mean_ms: float | None
    p50_ms: float | None
    p99_ms: float | None
    budget_ms: float | None
    memory_gb: float
    storage_gb: float
    network_mb_s: float
    cost_usd_month: float
    sizing_reason: str = ""
    figures: Mapping[str, Figure] = field(default_factory=dict)
    request_service_ms: float | None = None
    """Mean service of request-path calls when they differ from the other calls sharing the queue."""


@dataclass(frozen=True, slots=True)
class EdgeReport:
    """Traffic on one connection."""

    index: int
    source: str
    target: str
    kind: str
    calls_per_s: float
    calls_per_upstream: float
    items_per_call: float
    label: str
    on_critical_path: bool = False


@dataclass(frozen=True, slots=True)
class Stage:
    """One component on the critical path, for the latency waterfall."""

    component: str
    label: str
    mean_ms: float | None
    p99_ms: float | None
    """p99 of this stage's own station under its fan-out (max over shards/copies)."""
    budget_ms: float | None
    fanout: float


@dataclass(frozen=True, slots=True)
class EndToEnd:
    """The synchronous request path, composed as distributions."""

    entry: str
    percentile: float
    target_ms: float
    saturated: bool
    saturated_components: list[str]
    mean_ms: float | None
    p50_ms: float | None
    p99_ms: float | None
    target_percentile_ms: float | None
    meets_target: bool
    margin_ms: float | None
    """target − latency at the target percentile (negative when missed)."""
    critical_path: list[str]
    stages: list[Stage]
    figures: dict[str, Figure] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Bottleneck:
    """A ranked problem with a reason and an advice."""

    rank: int
    component: str
    status: Status
    reason: str
    advice: str
    score: float


@dataclass(frozen=True, slots=True)
class BatchJobReport:
    """A scheduled job: can it finish in its window?"""

    id: str
    label: str
    entry: str
    items_per_run: float
    items_per_s: float
    window_hours: float
    every_hours: float
    fits_window: bool
    figures: dict[str, Figure] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums over all components."""

    cpu_replicas: int
    gpu_replicas: int
    managed_replicas: int
    memory_gb: float
    storage_gb: float
    cost_usd_month: float
    """Σ component cost per month."""
    figures: dict[str, Figure] = field(default_factory=dict)
    ml_cost_usd_month: float = 0.0
    """Σ the ML blocks' own cost per month (training, batch path, logs, drift), beside the total, not in it."""


@dataclass(frozen=True, slots=True)
class MLSection:
    """One group of ML figures (traffic from users, a GPU server, an index, training, precompute…).

    ``component`` names the component the figures are about, or is None for pattern-level blocks.
    """

    key: str
    title: str
    component: str | None
    figures: dict[str, Figure] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """One refresh interval of the batch path: staleness and monthly cost (the cost-vs-staleness chart)."""

    refresh_hours: float
    staleness_mean_hours: float
    staleness_max_hours: float
    cost_usd_month: float
    fits_interval: bool


@dataclass(frozen=True, slots=True)
class Report:
    """The whole analysis of one pattern in one scenario."""

    pattern_id: str
    title: str
    mode: str
    values: dict[str, float]
    units: dict[str, str]
    target_utilization: float
    components: dict[str, ComponentReport]
    edges: list[EdgeReport]
    end_to_end: EndToEnd | None
    batch_jobs: list[BatchJobReport]
    bottlenecks: list[Bottleneck]
    totals: Totals
    warnings: list[str] = field(default_factory=list)
    ml: list[MLSection] = field(default_factory=list)
    """ML figures in display order: ``traffic`` (from users), per component (``gpu:<id>``, ``index:<id>``), then
    the pattern's blocks (``training``, ``precompute``, ``ranker_features``, ``streaming_features``, ``logging``,
    ``drift``)."""
    staleness_curve: list[CurvePoint] | None = None
    """Cost against staleness across refresh intervals when ``ml.precompute`` is declared."""
    models: dict[str, str] = field(default_factory=dict)
    """Model family each component with a selector runs (the chosen one or its default), by component id."""

    @property
    def healthy(self) -> bool:
        """No component hot, saturated or infeasible; target met; batch jobs fit."""
        comps_ok = all(c.status in ("ok", "idle", "external") for c in self.components.values())
        e2e_ok = self.end_to_end is None or self.end_to_end.meets_target
        return comps_ok and e2e_ok and all(j.fits_window for j in self.batch_jobs)

    def figure(self, ref: str) -> Figure:
        """Look up a figure by ``component_id.key``, ``end_to_end.key``, ``totals.key`` or ``ml.section.key``."""
        owner, _, key = ref.partition(".")
        if owner == "ml":
            section, _, name = key.rpartition(".")
            return next(s for s in self.ml if s.key == section).figures[name]
        if owner == "end_to_end" and self.end_to_end:
            return self.end_to_end.figures[key]
        if owner == "totals":
            return self.totals.figures[key]
        return self.components[owner].figures[key]

    def to_dict(self) -> dict:
        """JSON-ready dict (floats finite, saturated latencies None): every field by name, in
        declaration order, floats rounded to 6 decimals below 10¹⁵, statuses as plain strings."""
        with gc_paused():
            return _clean(self)

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text: UTF-8 characters kept, indented by 2 (``estimate --json``)."""
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2).decode()


def _number(x: float) -> float | None:
    if not math.isfinite(x):
        return None
    return round(x, 6) if abs(x) < 1e15 else x


def _figure(f: Figure) -> dict:
    v = f.value
    t = type(v)
    if t is float:
        v = (round(v, 6) if abs(v) < 1e15 else v) if math.isfinite(v) else None
    elif not (v is None or t is int or t is str or t is bool):
        v = _clean(v)
    return {"key": f.key, "label": f.label, "value": v, "unit": f.unit, "formula": f.formula,
            "inputs": [_input(i) for i in f.inputs], "note": f.note}


def _input(i: Input) -> dict:
    v = i.value
    t = type(v)
    if t is float:  # inline: a report has about a hundred thousand inputs
        v = (round(v, 6) if abs(v) < 1e15 else v) if math.isfinite(v) else None
    elif not (v is None or t is int or t is str or t is bool):
        v = _clean(v)
    return {"name": i.name, "value": v, "unit": i.unit}


def _fields(obj: Any, names: tuple[str, ...]) -> dict:
    out = {}
    for n in names:
        v = getattr(obj, n)
        t = type(v)
        if t is float:
            v = (round(v, 6) if abs(v) < 1e15 else v) if math.isfinite(v) else None
        elif not (v is None or t is int or t is str or t is bool):
            v = _clean(v)
        out[n] = v
    return out


def _clean(obj: Any) -> Any:
    """The plain JSON value of ``obj`` (what ``dataclasses.asdict`` then cleaning would give, without copies)."""
    t = type(obj)
    if t is float:
        return _number(obj)
    if obj is None or t is str or t is int or t is bool:
        return obj
    if t is Figure:
        return _figure(obj)
    if t is dict or t is LazyFigures:
        return {k: _clean(v) for k, v in obj.items()}
    if t is list or t is tuple:
        return [_clean(v) for v in obj]
    names = _FIELDS.get(t)
    if names is not None:
        return _fields(obj, names)
    if isinstance(obj, enum.Enum):
        return _clean(obj.value)
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _number(float(obj))
    return obj


_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in fields(cls))
    for cls in (Input, Figure, ComponentReport, EdgeReport, Stage, EndToEnd, Bottleneck, BatchJobReport, Totals,
                MLSection, CurvePoint, Report)
}
