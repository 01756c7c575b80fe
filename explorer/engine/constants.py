"""Constants of the capacity analysis, and its cooperative deadline.

Re-exported by :mod:`explorer.engine.analysis` (the method page shows them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from explorer.errors import AnalysisTooLarge

HOURS_PER_MONTH = 730.0
"""Hours in an average month (8,760 / 12)."""
USABLE_MEMORY_FRACTION = 0.75
"""Share of a node's memory usable for data (assumption: the rest is OS, runtime, index overhead and headroom)."""
DEFAULT_UTILIZATION = 0.6
"""Target utilisation when a pattern has no request section (assumption, see the reference notes: 60%)."""
LATTICE_POINTS = 2048
"""Points of the common time lattice. Measured over every built-in pattern, end-to-end p99 at 2,048
points differs from 8,192 points by under 0.01% (the discretisation keeps each station's mean), at
half the cost of 4,096."""


@dataclass(frozen=True, slots=True)
class Deadline:
    """A wall-clock limit the passes check between components and inside the composition loop.

    Examples
    --------
    >>> Deadline.after(None, components=3).check()   # no limit: never raises
    >>> d = Deadline.after(0.0, components=3)
    >>> d.check()
    Traceback (most recent call last):
    ...
    explorer.errors.AnalysisTooLarge: too large to analyse live: 3 components, stopped after 0.0 s
    """

    started_s: float
    limit_s: float | None
    components: int

    @classmethod
    def after(cls, limit_s: float | None, *, components: int) -> Deadline:
        """A deadline ``limit_s`` seconds from now (``None``: no limit)."""
        return cls(started_s=time.perf_counter(), limit_s=limit_s, components=components)

    def check(self) -> None:
        """Raise :class:`~explorer.errors.AnalysisTooLarge` once the limit has passed."""
        if self.limit_s is None:
            return
        elapsed = time.perf_counter() - self.started_s
        if elapsed >= self.limit_s:
            raise AnalysisTooLarge(f"too large to analyse live: {self.components:,} components, "
                                   f"stopped after {self.limit_s:.1f} s")
