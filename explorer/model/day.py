"""The ``day:`` block of a pattern: traffic over 24 hours, spikes, batch windows and autoscaling.

Every field is optional; :mod:`explorer.engine.day` fills what is absent from its stated defaults
(a raised-cosine day peaking in the evening at three times the trough, batch windows centred on the
trough, the pattern's target utilisation). Numbers here are plain numbers, not expressions: the day
is a shape laid over the pattern's peak QPS, which stays the pattern's parameter.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from explorer.model.quantities import Identifier

_STRICT = ConfigDict(extra="forbid", frozen=True)


class Spike(BaseModel):
    """Traffic × ``factor`` for ``minutes`` minutes from ``at_hour`` (a flash crowd, a push notification)."""

    model_config = _STRICT
    factor: float = Field(gt=0, le=1000)
    """Multiplier on the traffic of those minutes (5 = five times the usual traffic at that hour)."""
    minutes: int = Field(ge=1, le=1440)
    """How long the spike lasts."""
    at_hour: float | None = Field(default=None, ge=0, lt=24)
    """Hour of the day it starts (0–24, fractions allowed); absent: the peak hour."""


class Autoscaling(BaseModel):
    """An autoscaling policy for one component (or the default for all)."""

    model_config = _STRICT
    target_utilization: float | None = Field(default=None, gt=0, lt=1)
    """Utilisation the scaler aims for; absent: the pattern's ``request.target_utilization``."""
    scale_up_delay_minutes: int | None = Field(default=None, ge=0, le=240)
    """Minutes from the decision to scale up until the new replicas serve (boot, image pull, model load)."""
    scale_down_delay_minutes: int | None = Field(default=None, ge=0, le=240)
    """Minutes the scaler waits, keeping the highest count it wanted over that span, before scaling down."""
    min_replicas: int | None = Field(default=None, ge=1)
    """Fewest replicas per shard (never below the component's replication)."""
    max_replicas: int | None = Field(default=None, ge=1)
    """Most replicas per shard the scaler may run (absent: no cap)."""


class DaySpec(BaseModel):
    """A pattern's day of traffic (``day:``)."""

    model_config = _STRICT
    shape: Literal["cosine"] = "cosine"
    """Diurnal curve: ``cosine`` = a raised cosine between the trough and the peak."""
    peak_to_trough: float | None = Field(default=None, ge=1, le=100)
    """Traffic at the peak hour ÷ traffic at the trough (12 hours later)."""
    peak_hour: float | None = Field(default=None, ge=0, lt=24)
    """Hour of the day traffic peaks (the pattern's peak QPS is reached then)."""
    spikes: list[Spike] = []
    """Spikes laid over the curve."""
    batch_start_hours: dict[Identifier, float] = {}
    """Hour each batch job's first window starts (by job id); absent: centred on the trough."""
    autoscaling: Autoscaling = Autoscaling()
    """The default policy of every component."""
    components: dict[Identifier, Autoscaling] = {}
    """Per-component policies (by component id), over the default."""
