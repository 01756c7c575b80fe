"""The two scalar types every pattern file uses: ids and quantities."""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import StringConstraints

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
"""Lower-case id: a letter, then letters, digits or underscores (at most 64)."""

Quantity = Union[float, Annotated[str, StringConstraints(min_length=1, max_length=200)]]
"""A number, a parameter name, or arithmetic over parameter names (``candidates / 10``)."""
