"""Load and validate catalog and pattern files into resolved patterns.

Schema errors come from pydantic and are mapped back to the file, line and
path; cross-reference rules (ids, connections, cycles, ranges, expressions)
are checked here. Every problem found is reported at once.
"""

from __future__ import annotations

import math
import re
import typing
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import networkx as nx
from pydantic import BaseModel, ValidationError

from explorer.errors import CatalogError, ExpressionError, LocatedError, PatternError
from explorer.model import expressions, limits
from explorer.model.families import load_families, selector_problems
from explorer.model.graph import build_graph
from explorer.model.pattern import Catalog, ComponentType, Pattern
from explorer.model.yamlio import Located, format_path, load_file, load_text

ROOT = Path(__file__).resolve().parent.parent.parent
COMPONENTS_DIR = ROOT / "components"
ARCHITECTURES_DIR = ROOT / "architectures"
MAX_COMPONENTS = 2_000
"""Most components a pattern file may declare (generated benchmark graphs bypass files)."""

RESERVED_ID = re.compile(r"(con|prn|aux|nul|com[0-9]|lpt[0-9])")
"""Pattern ids that cannot be file names everywhere (Windows device names; an id names the user's file)."""

_UNION_TAGS = {"float", "str", "int", "bool", "constrained-str", "literal['all']", "list[constrained-str]",
               "Sourced", "SourcedQuantity", "none"}


# --------------------------------------------------------------------------- pydantic → located errors

def _field_annotation(model: type[BaseModel], name: str) -> Any:
    for fname, info in model.model_fields.items():
        if fname == name or info.alias == name:
            return info.annotation
    return None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    out = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    for arg in typing.get_args(annotation):
        out.extend(_models_in(arg))
    return out


def _model_at(root: type[BaseModel], path: tuple) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for part in path:
        if isinstance(part, int) or model is None:
            continue
        models = _models_in(_field_annotation(model, part))
        model = models[0] if models else None
    return model


def _valid_keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def located_errors(exc: ValidationError, doc: Located, root: type[BaseModel]) -> list[LocatedError]:
    """Turn a pydantic ValidationError into located, de-duplicated, plain messages."""
    out: dict[str, LocatedError] = {}
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        # keep the longest prefix that exists in the document, then the missing/extra key
        path: tuple = ()
        for part in loc:
            if doc.lines.get(path + (part,)) is not None or (
                    isinstance(part, (str, int)) and str(part) not in _UNION_TAGS
                    and not str(part).startswith(("function-", "literal[", "list["))):
                path = path + (part,)
            else:
                break
        kind = err["type"]
        if kind == "extra_forbidden":
            parent = _model_at(root, path[:-1])
            keys = ", ".join(_valid_keys(parent)) if parent else ""
            msg = f"unknown key {path[-1]!r}" + (f" (valid keys: {keys})" if keys else "")
        elif kind == "missing":
            msg = "required field is missing"
        elif kind in ("float_type", "float_parsing", "string_type") and any(
                str(p) in _UNION_TAGS for p in loc[len(path):]):
            msg = "must be a number or an expression over the parameters (e.g. candidates / 10)"
        else:
            msg = err["msg"]
            given = err.get("input")
            if kind not in ("model_type", "dict_type") and isinstance(given, (str, int, float)):
                msg += f" (got {given!r})"
            msg = msg[0].lower() + msg[1:]
        key = format_path(path)
        line = doc.line_of(path)
        if key in out and kind in ("float_type", "float_parsing", "string_type", "string_too_long"):
            continue
        out.setdefault(key + "|" + msg, LocatedError(msg, file=doc.file, line=line,
                                                     path=key or None))
    return list(out.values())


# --------------------------------------------------------------------------- catalog

@dataclass(frozen=True)
class CatalogIndex:
    """All component types by id, with the file each came from."""

    types: dict[str, ComponentType]
    files: dict[str, str]

    def __contains__(self, type_id: str) -> bool:
        return type_id in self.types

    def __getitem__(self, type_id: str) -> ComponentType:
        return self.types[type_id]


def load_catalog(directory: str | Path = COMPONENTS_DIR) -> CatalogIndex:
    """Load every ``*.yaml`` catalog file in a directory.

    Raises
    ------
    CatalogError
        With every problem found, each naming file, line and path.
    """
    directory = Path(directory)
    return _load_catalog_cached(str(directory.resolve()), _dir_stamp(directory))


def _dir_stamp(directory: Path) -> tuple:
    try:
        return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                            for p in directory.glob("*.yaml")))
    except OSError:
        return ()


@lru_cache(maxsize=8)
def _load_catalog_cached(directory: str, _stamp: tuple) -> CatalogIndex:
    types: dict[str, ComponentType] = {}
    files: dict[str, str] = {}
    errors: list[LocatedError] = []
    paths = sorted(Path(directory).glob("*.yaml"))
    if not paths:
        raise CatalogError([LocatedError(f"no catalog files (*.yaml) in {directory}")])
    for path in paths:
        try:
            doc = load_file(path)
            catalog = Catalog.model_validate(doc.data)
        except PatternError as exc:
            errors.extend(exc.errors)
            continue
        except ValidationError as exc:
            errors.extend(located_errors(exc, doc, Catalog))
            continue
        for i, t in enumerate(catalog.types):
            if t.id in types:
                errors.append(LocatedError(f"duplicate component type {t.id!r} (also in {files[t.id]})",
                                           file=path.name, line=doc.line_of(("types", i, "id")),
                                           path=f"types[{i}].id"))
                continue
            types[t.id] = t
            files[t.id] = path.name
    if errors:
        raise CatalogError(errors)
    return CatalogIndex(types, files)


# --------------------------------------------------------------------------- patterns

@dataclass(frozen=True)
class ResolvedPattern:
    """A validated pattern with its catalog types and source locations."""

    pattern: Pattern
    types: dict[str, ComponentType]
    """Catalog type of each component, by component id."""
    file: str
    """File name (or ``<draft>``) the pattern came from."""
    doc: Located
    warnings: tuple[str, ...] = ()
    user: bool = False
    """True for patterns from the user's own folder or the editor."""
    path: str | None = None
    models: tuple[tuple[str, str], ...] = ()
    """Model families chosen other than the defaults, as (component id, family id); see :mod:`explorer.model.choice`."""
    graph: nx.MultiDiGraph = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    @property
    def id(self) -> str:
        return self.pattern.id

    def defaults(self) -> dict[str, float]:
        """Parameter values of the default scenario."""
        return {p.name: p.default for p in self.pattern.parameters}


def load_pattern(path: str | Path, catalog: CatalogIndex | None = None, *, user: bool = False) -> ResolvedPattern:
    """Load, validate and resolve one pattern file.

    Raises
    ------
    PatternError
        With every problem found, e.g.
        ``video_recommendation.yaml:42: connections[3].to: unknown component 'rankr' (known: api, …)``.
    """
    path = Path(path)
    doc = load_file(path)
    return resolve(doc, catalog, expected_id=path.stem, user=user, path=str(path))


def load_pattern_text(text: str, file: str = "draft.yaml", catalog: CatalogIndex | None = None,
                      *, expected_id: str | None = None, user: bool = True,
                      check_bounds: bool = True) -> ResolvedPattern:
    """Load a pattern from text (the editor, uploads).

    ``check_bounds=False`` skips the upper bounds of :mod:`explorer.model.limits` (every other rule
    still applies): for tests that feed the engine absurd numbers on purpose.
    """
    return resolve(load_text(text, file), catalog, expected_id=expected_id, user=user, check_bounds=check_bounds)


def resolve(doc: Located, catalog: CatalogIndex | None = None, *, expected_id: str | None = None,
            user: bool = False, path: str | None = None, max_components: int = MAX_COMPONENTS,
            check_bounds: bool = True) -> ResolvedPattern:
    """Validate a loaded document as a pattern and resolve it against the catalog."""
    catalog = catalog or load_catalog()
    if not isinstance(doc.data, dict):
        raise PatternError([LocatedError("a pattern file must be a mapping with id, title, components…",
                                         file=doc.file, line=1)])
    comps = doc.data.get("components")
    if isinstance(comps, list) and len(comps) > max_components:
        raise PatternError([LocatedError(f"{len(comps)} components is over the limit of {max_components}",
                                         file=doc.file, line=doc.line_of(("components",)), path="components")])
    try:
        pattern = Pattern.model_validate(doc.data)
    except ValidationError as exc:
        raise PatternError(located_errors(exc, doc, Pattern)) from None
    errors, warnings = _cross_check(pattern, doc, catalog, expected_id, check_bounds)
    if errors:
        raise PatternError(errors)
    types = {c.id: catalog[c.type] for c in pattern.components}
    resolved = ResolvedPattern(pattern, types, doc.file, doc, tuple(warnings), user, path)
    object.__setattr__(resolved, "graph", build_graph(resolved))
    return resolved


def _cross_check(p: Pattern, doc: Located, catalog: CatalogIndex,
                 expected_id: str | None, check_bounds: bool = True) -> tuple[list[LocatedError], list[str]]:
    errors: list[LocatedError] = []
    warnings: list[str] = []

    def err(path: tuple, message: str) -> None:
        errors.append(LocatedError(message, file=doc.file, line=doc.line_of(path),
                                   path=format_path(path) or None))

    if expected_id and p.id != expected_id:
        err(("id",), f"id {p.id!r} must equal the file name without .yaml ({expected_id!r})")
    if RESERVED_ID.fullmatch(p.id):
        err(("id",), f"id {p.id!r} is a reserved device name on Windows (con, prn, aux, nul, com1–com9, "
            "lpt1–lpt9) and cannot name a file; choose another id")

    def dupes(items: list, key: str, what: str, section: str) -> None:
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            value = getattr(item, key)
            if value in seen:
                err((section, i, key), f"duplicate {what} {value!r} (first at {section}[{seen[value]}])")
            else:
                seen[value] = i

    dupes(p.components, "id", "component id", "components")
    dupes(p.parameters, "name", "parameter", "parameters")
    dupes(p.batch_jobs, "id", "batch job id", "batch_jobs")
    dupes(p.views, "id", "view id", "views")
    dupes(p.streams, "id", "stream id", "streams")

    ids = [c.id for c in p.components]
    known_ids = ", ".join(ids[:12]) + (", …" if len(ids) > 12 else "")
    id_set = set(ids)

    def check_ref(path: tuple, value: str, what: str = "component") -> None:
        if value not in id_set:
            err(path, f"unknown {what} {value!r} (known: {known_ids})")

    known_types = sorted(catalog.types)
    for i, c in enumerate(p.components):
        if c.type not in catalog:
            close = [t for t in known_types if t.split("_")[0] in c.type or c.type in t][:6]
            hint = ", ".join(close or known_types[:10]) + ("" if close else ", …")
            err(("components", i, "type"), f"unknown component type {c.type!r} (e.g. {hint}; "
                "`python -m explorer types` lists all)")

    for i, cn in enumerate(p.connections):
        check_ref(("connections", i, "from"), cn.source)
        check_ref(("connections", i, "to"), cn.target)
        if cn.source == cn.target:
            err(("connections", i, "to"), f"a component cannot call itself ({cn.source!r})")
    if p.request is not None:
        check_ref(("request", "entry"), p.request.entry)
    for i, job in enumerate(p.batch_jobs):
        check_ref(("batch_jobs", i, "entry"), job.entry)
    for i, stream in enumerate(p.streams):
        check_ref(("streams", i, "entry"), stream.entry)
    if p.day is not None:  # the day: block names components and batch jobs by id
        for cid in p.day.components:
            check_ref(("day", "components", cid), cid)
        jobs = [j.id for j in p.batch_jobs]
        for jid in p.day.batch_start_hours:
            if jid not in jobs:
                err(("day", "batch_start_hours", jid), f"unknown batch job {jid!r} (known: {', '.join(jobs) or 'none'})")
    for i, view in enumerate(p.views):
        if view.components != "all":
            for j, cid in enumerate(view.components):
                check_ref(("views", i, "components", j), cid)

    # parameters: finite, bounded, whole numbers when integer, ordered ranges
    names = {q.name for q in p.parameters}
    bad_params: set[str] = set()
    for i, q in enumerate(p.parameters):
        for key in ("default", "min", "max"):
            v = getattr(q, key)
            if not math.isfinite(v) or abs(v) > limits.PARAMETER.high:
                err(("parameters", i, key), f"value {v:g} is outside {limits.describe(limits.PARAMETER, -limits.PARAMETER.high)}")
                bad_params.add(q.name)
            elif q.integer and v != math.floor(v):
                err(("parameters", i, key), f"value {v:g} is not a whole number, as an integer parameter needs "
                    "(drop 'integer: true' or use a whole number)")
                bad_params.add(q.name)
        if q.name in bad_params:
            continue
        if q.min > q.max:
            err(("parameters", i, "min"), f"min {q.min:g} is above max {q.max:g}")
            bad_params.add(q.name)
        elif not q.min <= q.default <= q.max:
            err(("parameters", i, "default"),
                f"default {q.default:g} is outside the range {q.min:g} to {q.max:g}")
            bad_params.add(q.name)
        if q.scale == "log" and q.min <= 0:
            err(("parameters", i, "min"), "a log-scale parameter needs min > 0")

    # sync cycles
    sync = nx.DiGraph()
    sync.add_edges_from((cn.source, cn.target) for cn in p.connections if cn.kind == "sync")
    try:
        cycle = nx.find_cycle(sync)
    except nx.NetworkXNoCycle:
        cycle = None
    if cycle:
        names_cycle = " → ".join([a for a, _ in cycle] + [cycle[0][0]])
        first = next(i for i, cn in enumerate(p.connections)
                     if cn.kind == "sync" and (cn.source, cn.target) == cycle[0])
        err(("connections", first), f"the synchronous request path has a cycle: {names_cycle}; "
            "make the feedback edge async or batch")

    # quantities parse, name known parameters, and stay within their rule and bound in every
    # scenario the sliders reach: the defaults, and each parameter at its min and at its max
    scenarios = _scenarios(p, bad_params)
    fed = _receives_traffic(p, id_set)
    for path, quantity, rule in _quantities(p):
        try:
            expressions.check(quantity, names)
        except ExpressionError as exc:
            err(path, str(exc))
            continue
        used = expressions.names_in(quantity)
        if used & bad_params:
            continue  # the parameter's own error says it
        for label, values in scenarios:
            if label is not None and label[0] not in used:
                continue
            try:
                value = expressions.evaluate(quantity, values)
            except ExpressionError as exc:
                err(path, f"{exc}{_at(label)}")
                break
            problem = _rule_problem(rule, value)
            bound = limits.bound_for(path)
            if problem is not None:
                problem = f"{problem}{_at(label)} (got {value:g} from {quantity!r})"
            elif check_bounds and value > bound.high:
                problem = f"value {value:g} is outside {limits.describe(bound)}{_at(label)}"
            elif path[-1] == "replicas" and value < 1 and p.components[path[1]].id in fed:
                problem = (f"must be at least 1{_at(label)} (got {value:g}): the component receives traffic "
                           "and no replica would serve it (auto-size mode picks its own count)")
            if problem:
                err(path, problem)
                break
    for i, c in enumerate(p.components):
        if c.data is None:
            continue
        parts = (c.data.items, c.data.bytes_per_item, c.data.replication)
        if not all(names_in_ok(x, names) for x in parts):
            continue  # reported above
        used = set().union(*(expressions.names_in(x) for x in parts))
        if used & bad_params:
            continue
        for label, values in scenarios:
            if label is not None and label[0] not in used:
                continue
            try:
                total = math.prod(expressions.evaluate(x, values) for x in parts)
            except ExpressionError:
                break  # reported above
            if check_bounds and total > limits.DATA_BYTES.high:
                err(("components", i, "data"), f"data held {total:g} bytes is outside "
                    f"{limits.describe(limits.DATA_BYTES)}{_at(label)}")
                break

    _check_ml_blocks(p, catalog, err)
    _check_resilience(p, err)
    _check_families(p, catalog, err)

    if p.request is None and not p.batch_jobs and not p.streams:
        warnings.append("the pattern has neither a request path nor batch jobs, so no traffic reaches it")
    return errors, warnings


def _check_ml_blocks(p: Pattern, catalog: CatalogIndex, err) -> None:
    """Rules of the ML blocks: one traffic source, GPU blocks on GPU hardware, an index instead of data,
    and a ranker that exists."""
    if p.request is not None:
        if p.request.peak_qps is not None and p.request.users is not None:
            err(("request", "users"), "declare request.peak_qps or request.users, not both")
        elif p.request.peak_qps is None and p.request.users is None:
            err(("request",), "declare request.peak_qps or request.users (daily users → peak QPS)")
    gpu_types = ", ".join(sorted(t for t, ct in catalog.types.items() if ct.hardware == "gpu"))
    for i, c in enumerate(p.components):
        if c.type not in catalog:
            continue
        t = catalog[c.type]
        if c.gpu is not None and t.hardware != "gpu":
            err(("components", i, "gpu"), f"a gpu block needs a GPU type; {c.type!r} runs on {t.hardware} "
                f"(GPU types: {gpu_types})")
        if c.index is not None and c.data is not None:
            err(("components", i, "index"), "declare index or data, not both (the index's memory replaces data)")
    if p.ml is not None and p.ml.ranker_features is not None:
        ids = {c.id for c in p.components}
        if p.ml.ranker_features.ranker not in ids:
            err(("ml", "ranker_features", "ranker"), f"unknown component {p.ml.ranker_features.ranker!r} "
                f"(known: {', '.join(c.id for c in p.components[:12])})")


def _check_resilience(p: Pattern, err) -> None:
    """Rules of the failure declarations: a fallback names a component that something calls and a different
    component to call instead; a cache's ``hit_rate`` names a parameter."""
    ids = [c.id for c in p.components]
    known = ", ".join(ids[:12]) + (", …" if len(ids) > 12 else "")
    called = {cn.target for cn in p.connections}
    seen: dict[str, int] = {}
    for i, fb in enumerate(p.fallbacks):
        if fb.component not in ids:
            err(("fallbacks", i, "component"), f"unknown component {fb.component!r} (known: {known})")
        elif fb.component not in called:
            err(("fallbacks", i, "component"), f"{fb.component!r} is called by no connection, so no call can "
                "take another route (called: " + ", ".join(sorted(called)[:12]) + ")")
        elif fb.component in seen:
            err(("fallbacks", i, "component"), f"duplicate fallback for {fb.component!r} (first at "
                f"fallbacks[{seen[fb.component]}])")
        seen.setdefault(fb.component, i)
        if fb.to is not None and fb.to not in ids:
            err(("fallbacks", i, "to"), f"unknown component {fb.to!r} (known: {known})")
        elif fb.to is not None and fb.to == fb.component:
            err(("fallbacks", i, "to"), f"a fallback cannot route to the component that failed ({fb.to!r}); "
                "name another component, or omit `to` when the caller answers by itself")
    names = [q.name for q in p.parameters]
    for i, c in enumerate(p.components):
        if c.hit_rate is not None and c.hit_rate not in names:
            err(("components", i, "hit_rate"), f"unknown parameter {c.hit_rate!r} (known: {', '.join(names) or 'none'})")
def _check_families(p: Pattern, catalog: CatalogIndex, err) -> None:
    """Model selectors name known families, a default served on the component's hardware, and real types."""
    selectors = [(i, c) for i, c in enumerate(p.components) if c.families is not None]
    if not selectors:
        return
    try:
        families = load_families()
    except CatalogError as exc:
        err(("components",), f"the model-family catalog does not load: {exc}")
        return
    type_hardware = {t: ct.hardware for t, ct in catalog.types.items()}
    for i, c in selectors:
        hardware = catalog[c.type].hardware if c.type in catalog else ""
        for path, message in selector_problems(c.families, families, hardware, type_hardware):
            err(("components", i, "families", *path), message)


_NOT_QUANTITIES = frozenset({"kind", "precision", "type", "gpu", "ranker"})
"""Fields of the ML blocks that are choices or ids, not quantities."""


def _block_quantities(block: BaseModel | None, path: tuple):
    """(path, quantity, rule) of every quantity field of an ML block that is set."""
    if block is None:
        return
    for name in type(block).model_fields:
        value = getattr(block, name)
        if name in _NOT_QUANTITIES or value is None or isinstance(value, bool):
            continue
        if isinstance(value, (int, float, str)):
            yield path + (name,), value, "nonneg"


def names_in_ok(quantity: Any, names: set[str]) -> bool:
    try:
        return expressions.names_in(quantity) <= names
    except ExpressionError:
        return False


def _rule_problem(rule: str, value: float) -> str | None:
    if rule == "positive" and not value > 0:
        return "must be greater than 0"
    if rule == "nonneg" and value < 0:
        return "must not be negative"
    if rule == "count" and value < 1:
        return "must be at least 1"
    if rule == "fraction" and not 0 < value < 1:
        return "must be between 0 and 1 (exclusive)"
    return None


Scenario = tuple[tuple[str, float, str] | None, dict[str, float]]
"""``((parameter, value, "min"|"max") or None for the defaults, parameter values)``."""


def _scenarios(p: Pattern, skip: set[str]) -> list[Scenario]:
    """The defaults, then each parameter at its min and at its max (the others at their defaults)."""
    defaults = {q.name: q.default for q in p.parameters}
    out: list[Scenario] = [(None, defaults)]
    for q in p.parameters:
        if q.name not in skip:
            out += [((q.name, q.min, "min"), {**defaults, q.name: q.min}),
                    ((q.name, q.max, "max"), {**defaults, q.name: q.max})]
    return out


def _at(label: tuple[str, float, str] | None) -> str:
    if label is None:
        return " at the default scenario"
    name, value, end = label
    return f" when {name}={value:g} (its {end})"


def _receives_traffic(p: Pattern, ids: set[str]) -> set[str]:
    """Components any traffic reaches: from the request entry, a stream or a batch job, over any connection."""
    G = nx.DiGraph()
    G.add_nodes_from(ids)
    G.add_edges_from((cn.source, cn.target) for cn in p.connections if cn.source in ids and cn.target in ids)
    roots = [p.request.entry] if p.request is not None else []
    roots += [st.entry for st in p.streams] + [job.entry for job in p.batch_jobs]
    reached: set[str] = set()
    for r in roots:
        if r in G:
            reached |= {r} | nx.descendants(G, r)
    return reached


def _quantities(p: Pattern):
    """Every quantity in a pattern: (path, quantity, rule)."""
    if p.request is not None:
        if p.request.peak_qps is not None:
            yield ("request", "peak_qps"), p.request.peak_qps, "nonneg"
        yield from _block_quantities(p.request.users, ("request", "users"))
        yield ("request", "latency_target_ms"), p.request.latency_target_ms, "positive"
        yield ("request", "target_utilization"), p.request.target_utilization, "fraction"
    for i, c in enumerate(p.components):
        yield ("components", i, "replicas"), c.replicas, "nonneg"
        if c.latency_budget_ms is not None:
            yield ("components", i, "latency_budget_ms"), c.latency_budget_ms, "positive"
        for name in ("service_ms", "per_item_ms", "concurrency", "service_cv", "memory_gb",
                     "cost_usd_per_hour"):
            o = getattr(c.overrides, name)
            if o is not None:
                rule = {"service_ms": "positive", "concurrency": "count"}.get(name, "nonneg")
                yield ("components", i, "overrides", name, "value"), o.value, rule
        if c.data is not None:
            yield ("components", i, "data", "items"), c.data.items, "nonneg"
            yield ("components", i, "data", "bytes_per_item"), c.data.bytes_per_item, "nonneg"
            yield ("components", i, "data", "replication"), c.data.replication, "count"
        for block in ("gpu", "model", "index"):
            yield from _block_quantities(getattr(c, block), ("components", i, block))
    for i, cn in enumerate(p.connections):
        yield ("connections", i, "calls"), cn.calls, "nonneg"
        yield ("connections", i, "items"), cn.items, "nonneg"
        yield ("connections", i, "payload_bytes"), cn.payload_bytes, "nonneg"
        if cn.bytes_per_item is not None:
            yield ("connections", i, "bytes_per_item"), cn.bytes_per_item, "nonneg"
    for i, fb in enumerate(p.fallbacks):
        yield ("fallbacks", i, "items"), fb.items, "nonneg"
    for i, job in enumerate(p.batch_jobs):
        yield ("batch_jobs", i, "items"), job.items, "nonneg"
        yield ("batch_jobs", i, "batch_items"), job.batch_items, "count"
        yield ("batch_jobs", i, "every_hours"), job.every_hours, "positive"
        yield ("batch_jobs", i, "window_hours"), job.window_hours, "positive"
    for i, stream in enumerate(p.streams):
        yield ("streams", i, "rate_per_s"), stream.rate_per_s, "nonneg"
        yield ("streams", i, "items"), stream.items, "nonneg"
    if p.ml is not None:
        for block in type(p.ml).model_fields:
            yield from _block_quantities(getattr(p.ml, block), ("ml", block))


# --------------------------------------------------------------------------- the library

def builtin_paths(directory: str | Path = ARCHITECTURES_DIR) -> list[Path]:
    """Pattern files shipped with the project, sorted by name."""
    return sorted(Path(directory).glob("*.yaml"))
