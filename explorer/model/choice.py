"""Model choice as part of the scenario: a pattern with other model families than its defaults.

A component with a selector (``families:`` in the pattern, :class:`~explorer.model.selector.ModelSelector`)
runs its default family as written. :func:`with_models` returns the pattern with other families chosen:
each chosen component gets the family's inference cost (base and per item) on the hardware the family is
served on, its parameters and precision, and — when the selector says the pattern's training trains this
component — its training cost per example. Every replaced number keeps its source, prefixed by the family
(``model family lr (Logistic regression …): …``), so the traces name it.

Hardware is switched, never faked: a family served on CPU moves a GPU component onto the selector's CPU type
(``cpu_model_server``: its cores, memory and price; the GPU block is dropped), a family served on GPU moves a
CPU component onto the GPU type with dynamic batching (the pattern's ``gpu`` block, or the defaults of
:class:`~explorer.model.ml.GpuServing`). Provisioned replicas stay as the pattern draws them: auto-size shows
what the chosen family needs.

Examples
--------
>>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
>>> rp = load_pattern(ARCHITECTURES_DIR / "ad_click_prediction.yaml")
>>> chosen(rp)
{'ranker': 'dlrm'}
>>> lr = with_models(rp, {"ranker": "lr"})
>>> lr.types["ranker"].id, lr.models, chosen(lr)
('cpu_model_server', (('ranker', 'lr'),), {'ranker': 'lr'})
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from explorer.errors import ScenarioError
from explorer.model.families import ModelFamily, load_families
from explorer.model.graph import build_graph
from explorer.model.loader import ResolvedPattern, load_catalog
from explorer.model.ml import GpuServing, ModelSize
from explorer.model.pattern import Component, Overrides, SourcedQuantity
from explorer.model.selector import ModelSelector

QUERY_PREFIX = "model."
"""URL key of a choice: ``model.<component>=<family>``."""

_HARDWARE_OVERRIDES = ("concurrency", "service_cv", "memory_gb", "cost_usd_per_hour")
"""Overrides that describe the old hardware; dropped when a family moves the component to other hardware."""


def selectors(rp: ResolvedPattern) -> dict[str, ModelSelector]:
    """The components that declare a model selector, in file order."""
    return {c.id: c.families for c in rp.pattern.components if c.families is not None}


def chosen(rp: ResolvedPattern) -> dict[str, str]:
    """The family each selector runs: the chosen one, else the default."""
    picked = dict(rp.models)
    return {cid: picked.get(cid, s.default) for cid, s in selectors(rp).items()}


def family(family_id: str) -> ModelFamily:
    """One family of the catalog (KeyError when unknown)."""
    return load_families()[family_id]


def check_choice(rp: ResolvedPattern, choice: Mapping[str, str]) -> dict[str, str]:
    """``choice`` checked: every key a component with a selector, every value a family it offers.

    Raises ScenarioError naming the valid components or families."""
    sel = selectors(rp)
    out: dict[str, str] = {}
    for cid, fid in choice.items():
        if cid not in sel:
            valid = ", ".join(sel) or "none in this pattern"
            raise ScenarioError(f"{rp.id}: {cid!r} has no model choice (components with one: {valid})")
        if fid not in sel[cid].offer:
            raise ScenarioError(f"{rp.id}: {cid} offers no model family {fid!r} "
                                f"(valid: {', '.join(sel[cid].offer)})")
        out[cid] = fid
    return out


def with_models(rp: ResolvedPattern, choice: Mapping[str, str]) -> ResolvedPattern:
    """The pattern as written with ``choice`` applied (component id → family id; default choices change
    nothing, and an empty choice returns ``rp`` itself).

    Raises ScenarioError for a component without a selector, a family it does not offer, or a pattern that
    already has choices applied (apply them all at once to the pattern as loaded)."""
    if rp.models:
        raise ScenarioError(f"{rp.id}: model choices are already applied ({dict(rp.models)}); apply every choice "
                            "at once to the pattern as loaded")
    sel = selectors(rp)
    picked = {cid: fid for cid, fid in check_choice(rp, choice).items() if fid != sel[cid].default}
    if not picked:
        return rp
    catalog = load_catalog()
    p = rp.pattern
    components = []
    types = dict(rp.types)
    for c in p.components:
        if c.id in picked:
            c, t = _apply(c, family(picked[c.id]), rp.types[c.id].hardware, catalog)
            types[c.id] = t
        components.append(c)
    ml = p.ml
    trained = [cid for cid in picked if sel[cid].training]
    if ml is not None and ml.training is not None and trained:
        f = family(picked[trained[0]])
        ml = ml.model_copy(update={"training": ml.training.model_copy(
            update={"per_example_ms": f.training_per_example_ms.value, "flops_per_example": None})})
    pattern = p.model_copy(update={"components": components, "ml": ml})
    order = [c.id for c in p.components]
    out = dataclasses.replace(rp, pattern=pattern, types=types,
                              models=tuple(sorted(picked.items(), key=lambda kv: order.index(kv[0]))))
    object.__setattr__(out, "graph", build_graph(out))
    return out


def source_of(f: ModelFamily, text: str) -> str:
    """A catalog source, prefixed by the family it belongs to."""
    return f"model family {f.id} ({f.label}): {text}"


def _apply(c: Component, f: ModelFamily, hardware: str, catalog):
    """The component running family ``f``, and its (possibly new) catalog type."""
    sel = c.families
    to = f.serves_on
    moved = hardware != to
    type_id = c.type if not moved else (sel.gpu_type if to == "gpu" else sel.cpu_type)
    cost = f.cost_on(to)
    keep = {name: getattr(c.overrides, name) for name in type(c.overrides).model_fields
            if not (moved and name in _HARDWARE_OVERRIDES)}
    gpu = (c.gpu if c.gpu is not None else GpuServing()) if to == "gpu" else None
    if gpu is None:  # without a gpu block the base per call is the family's (with one, it is gpu.launch_ms)
        keep["service_ms"] = SourcedQuantity(value=cost.service_ms.value, source=source_of(f, cost.service_ms.source))
    elif c.gpu is None and "service_ms" in keep:
        keep["service_ms"] = None
    keep["per_item_ms"] = SourcedQuantity(value=cost.per_item_ms.value, source=source_of(f, cost.per_item_ms.source))
    model = ModelSize(parameters=f.parameters.value, precision=f.precision,
                      activation_mb_per_item=f.activation_mb_per_item.value)
    label = f"{sel.role or (c.label or catalog[c.type].label)} ({f.short}, {to.upper()})"
    new = c.model_copy(update={"type": type_id, "overrides": Overrides(**keep), "gpu": gpu, "model": model,
                               "label": label[:80]})
    return new, catalog[type_id]


def parse_models(rp: ResolvedPattern, pairs: Iterable[str]) -> dict[str, str]:
    """``["ranker=lr"]`` → a checked choice (CLI ``--model COMPONENT=FAMILY``)."""
    raw: dict[str, str] = {}
    for pair in pairs:
        cid, sep, fid = pair.partition("=")
        if not sep or not cid.strip() or not fid.strip():
            valid = "; ".join(f"{k}: {', '.join(s.offer)}" for k, s in selectors(rp).items()) or "none"
            raise ScenarioError(f"--model takes COMPONENT=FAMILY, got {pair!r} (choices: {valid})")
        raw[cid.strip()] = fid.strip()
    return check_choice(rp, raw)


def from_query(rp: ResolvedPattern, query: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """Lenient parse of ``model.<component>=<family>`` URL values: a bad one is dropped with a notice
    naming the valid families (or components)."""
    sel = selectors(rp)
    out: dict[str, str] = {}
    notices: list[str] = []
    for key, raw in query.items():
        if not key.startswith(QUERY_PREFIX):
            continue
        cid = key[len(QUERY_PREFIX):]
        if cid not in sel:
            valid = ", ".join(sel) or "none in this pattern"
            notices.append(f"{key}: {rp.id} has no model choice for {cid!r} (components with one: {valid}).")
            continue
        if raw not in sel[cid].offer:
            notices.append(f"{key}={raw} is not a family {cid} offers ({', '.join(sel[cid].offer)}); "
                           f"using the default {sel[cid].default}.")
            continue
        out[cid] = raw
    return out, notices


def models_query(models: Mapping[str, str]) -> dict[str, str]:
    """URL keys of a choice: ``{"ranker": "lr"}`` → ``{"model.ranker": "lr"}`` (write every selector, defaults
    included, so a link survives new defaults)."""
    return {f"{QUERY_PREFIX}{cid}": fid for cid, fid in models.items()}


def describe(rp: ResolvedPattern) -> list[str]:
    """One line per selector: ``ranker: Logistic regression (feature hashing) (LR, CPU)``, default marked."""
    sel = selectors(rp)
    out = []
    for cid, fid in chosen(rp).items():
        f = family(fid)
        mark = " — default" if fid == sel[cid].default else ""
        out.append(f"{cid}: {f.label} ({f.short}, {f.serves_on.upper()}){mark}")
    return out


__all__ = ["QUERY_PREFIX", "check_choice", "chosen", "describe", "family", "from_query",
           "models_query", "parse_models", "selectors", "source_of", "with_models"]
