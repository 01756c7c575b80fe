"""A pattern's model selector: which model families make sense for one of its components.

Declared on a component (``families:``) and checked against the family catalog by the loader
(:func:`explorer.model.families.selector_problems`); kept apart from :mod:`explorer.model.families` so the
pattern models can import it without importing the catalog's loader.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from explorer.model.quantities import Identifier

_STRICT = ConfigDict(extra="forbid", frozen=True)


class ModelSelector(BaseModel):
    """Which model families make sense for a component, and the one the pattern is written for."""

    model_config = _STRICT
    default: Identifier
    """The family the component's own numbers describe (the pattern as written)."""
    offer: list[Identifier] = Field(min_length=2)
    """Families a reader may choose (the default among them), in the order the selector lists them."""
    training: bool = False
    """True when the pattern's ``ml.training`` trains this component: its per-example cost follows the family."""
    cpu_type: Identifier = "cpu_model_server"
    """Catalog type the component becomes when a CPU family is chosen on a GPU component."""
    gpu_type: Identifier = "gpu_model_server"
    """Catalog type the component becomes when a GPU family is chosen on a CPU component."""
    role: str | None = Field(default=None, max_length=40)
    """Short role for the diagram label of another family, e.g. "Click model" → "Click model (LR, CPU)"."""

    @model_validator(mode="after")
    def _default_offered(self) -> ModelSelector:
        if self.default not in self.offer:
            raise ValueError(f"default {self.default!r} must be one of offer ({', '.join(self.offer)})")
        if len(set(self.offer)) != len(self.offer):
            raise ValueError("offer lists a family twice")
        return self


__all__ = ["ModelSelector"]
