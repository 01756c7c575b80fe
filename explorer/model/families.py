"""Model families: the catalog of what a scoring, ranking or encoding component can run, and a pattern's
selector that says which families make sense for one of its components.

The catalog lives in ``components/models/families.yaml`` (a sub-folder, so the component-type catalog's
``components/*.yaml`` does not read it). Each family gives, with a ``source`` per number: the base and
per-item inference cost on CPU and on GPU, the hardware it is served on (``serves_on``), its parameters,
precision and activations, its training cost per example, the features it needs and a short quality note.

A pattern's component declares a selector::

    families: {default: dlrm, offer: [lr, gbdt, dlrm, cross_encoder], training: true}

The default family is the pattern as written (its numbers are the component's own); choosing another
rewrites the component through :func:`explorer.model.choice.with_models`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from explorer.errors import CatalogError, LocatedError, PatternError
from explorer.model.ml import Precision
from explorer.model.pattern import Sourced
from explorer.model.quantities import Identifier
from explorer.model.selector import ModelSelector
from explorer.model.yamlio import load_file

_STRICT = ConfigDict(extra="forbid", frozen=True)

FAMILIES_FILE = Path(__file__).resolve().parent.parent.parent / "components" / "models" / "families.yaml"
"""Where the model-family catalog lives."""

ServesOn = Literal["cpu", "gpu"]


class InferenceCost(BaseModel):
    """What one call costs on one kind of hardware: a base per call plus a cost per item scored."""

    model_config = _STRICT
    service_ms: Sourced
    """Time per call before any item (request handling, a kernel launch), in ms."""
    per_item_ms: Sourced
    """Time per item scored or encoded, in ms (on one core for CPU, per GPU when batched)."""


class ModelFamily(BaseModel):
    """One model family: inference cost on CPU and GPU, size, training cost, features and quality."""

    model_config = _STRICT
    id: Identifier
    """Family id, used by patterns (``families.offer``), URLs (``model.<component>=<id>``) and the CLI."""
    label: str = Field(min_length=1, max_length=80)
    """Human name, e.g. "Logistic regression (feature hashing)"."""
    short: str = Field(min_length=1, max_length=20)
    """Short name for diagram labels and tables, e.g. "LR"."""
    serves_on: ServesOn
    """Hardware the family is served on; choosing it moves the component there."""
    cpu: InferenceCost
    """Inference cost on one CPU core."""
    gpu: InferenceCost
    """Inference cost on one GPU (batched)."""
    parameters: Sourced
    """Trainable parameters (weights, embedding rows, tree nodes) of a typical model of the family."""
    precision: Precision = "fp16"
    """Numeric format of the served weights."""
    activation_mb_per_item: Sourced
    """Activation memory per item in a batch, in MB."""
    training_per_example_ms: Sourced
    """GPU time per training example (forward + backward), in ms, on the pattern's training GPU."""
    features: str = Field(min_length=3)
    """What the family needs as input."""
    quality: str = Field(min_length=3)
    """What it buys in quality: cited, or said to be qualitative (no invented accuracy numbers)."""

    def cost_on(self, hardware: str) -> InferenceCost:
        """The inference cost on ``cpu`` or ``gpu``."""
        return self.gpu if hardware == "gpu" else self.cpu


class FamilyCatalog(BaseModel):
    """The model-family file."""

    model_config = _STRICT
    families: list[ModelFamily] = Field(min_length=1)
    """Every family, in display order."""


def load_families(path: str | Path = FAMILIES_FILE) -> dict[str, ModelFamily]:
    """The family catalog by id (cached per file version); raises CatalogError naming file, line and path."""
    path = Path(path)
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        raise CatalogError([LocatedError(f"no model-family catalog at {path}")]) from None
    return _load(str(path), stamp)


@lru_cache(maxsize=4)
def _load(path: str, _stamp: tuple[int, int]) -> dict[str, ModelFamily]:
    from_file = Path(path)
    try:
        doc = load_file(from_file)
    except PatternError as exc:
        raise CatalogError(exc.errors) from None
    try:
        catalog = FamilyCatalog.model_validate(doc.data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            errors.append(LocatedError(err["msg"], file=from_file.name, line=doc.line_of(loc),
                                       path=".".join(str(p) for p in loc)))
        raise CatalogError(errors) from None
    out: dict[str, ModelFamily] = {}
    for i, f in enumerate(catalog.families):
        if f.id in out:
            raise CatalogError([LocatedError(f"duplicate model family {f.id!r}", file=from_file.name,
                                             line=doc.line_of(("families", i, "id")), path=f"families[{i}].id")])
        out[f.id] = f
    return out


def selector_problems(selector: ModelSelector, families: dict[str, ModelFamily], hardware: str,
                      type_hardware: dict[str, str]) -> list[tuple[tuple, str]]:
    """(path inside the selector, message) for every problem: unknown families, a default family served on
    other hardware than the component's type, and cpu/gpu types that are not CPU/GPU types of the catalog.

    ``hardware`` is the component's type's hardware; ``type_hardware`` maps every catalog type to its hardware.
    """
    out: list[tuple[tuple, str]] = []
    known = ", ".join(families)
    for j, fid in enumerate(selector.offer):
        if fid not in families:
            out.append((("offer", j), f"unknown model family {fid!r} (known: {known})"))
    d = families.get(selector.default)
    if d is not None and hardware in ("cpu", "gpu") and d.serves_on != hardware:
        out.append((("default",), f"the default family {d.id!r} is served on {d.serves_on} but the component's "
                    f"type runs on {hardware}; the default must describe the component as written"))
    for name, want in (("cpu_type", "cpu"), ("gpu_type", "gpu")):
        t = getattr(selector, name)
        if type_hardware.get(t) != want:
            valid = ", ".join(sorted(k for k, h in type_hardware.items() if h == want))
            out.append(((name,), f"{t!r} is not a {want.upper()} type of the catalog ({want.upper()} types: {valid})"))
    return out


__all__ = ["FAMILIES_FILE", "FamilyCatalog", "InferenceCost", "ModelFamily", "ModelSelector", "load_families",
           "selector_problems"]
