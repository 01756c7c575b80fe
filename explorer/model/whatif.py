"""What-if failures as scenario input: ``ranker=down``, ``scorer=slow:3``, ``ann=zone``, ``query_cache=cold``.

The same text comes from the CLI (``estimate --fail COMPONENT[=KIND]``, repeatable), from the URL
(``fail=ranker:down,ann:zone``) and from the Explore page; :func:`parse_failures` checks it against a
pattern and says which components and kinds are valid. The engine's answer is
:func:`explorer.engine.failures.what_if`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from explorer.errors import ScenarioError
from explorer.model.loader import ResolvedPattern

FailureKind = Literal["down", "slow", "zone", "cold"]
KINDS: tuple[str, ...] = ("down", "slow", "zone", "cold")
"""Failure kinds: down; slow (service time × K); zone (one zone's replicas lost); cold (cache hit rate → 0)."""
MAX_SLOW = 1000.0
"""Largest slow-down factor accepted (a stage 1000× slower is as good as down)."""


@dataclass(frozen=True, slots=True)
class Failure:
    """One injected failure on one component.

    Examples
    --------
    >>> Failure(component="scorer", kind="slow", factor=3.0).text
    'scorer=slow:3'
    """

    component: str
    kind: FailureKind = "down"
    factor: float = 1.0
    """Service-time multiplier (``slow`` only)."""

    @property
    def text(self) -> str:
        """The CLI form, ``COMPONENT=KIND[:K]``."""
        return f"{self.component}={self.spec}"

    @property
    def spec(self) -> str:
        """``KIND`` or ``slow:K``."""
        return f"slow:{self.factor:g}" if self.kind == "slow" else self.kind

    def describe(self) -> str:
        """In words: ``scorer is 3× slower``."""
        return {"down": f"{self.component} is down",
                "slow": f"{self.component} is {self.factor:g}× slower",
                "zone": f"{self.component} lost one zone",
                "cold": f"{self.component} is cold (hit rate 0)"}[self.kind]


def parse_failure(rp: ResolvedPattern, text: str) -> Failure:
    """``COMPONENT[=KIND]`` (``=`` or ``:`` after the id; ``KIND`` one of down, slow:K, zone, cold; default down).

    Raises
    ------
    ScenarioError
        Naming the bad part and the valid choices.

    Examples
    --------
    >>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
    >>> rp = load_pattern(ARCHITECTURES_DIR / "video_recommendation.yaml")
    >>> parse_failure(rp, "scorer=slow:2.5")
    Failure(component='scorer', kind='slow', factor=2.5)
    >>> parse_failure(rp, "scorer:down").kind
    'down'
    """
    raw = text.strip()
    cut = min((i for i in (raw.find("="), raw.find(":")) if i >= 0), default=-1)
    name, spec = (raw[:cut].strip(), raw[cut + 1:].strip()) if cut >= 0 else (raw, "down")
    ids = [c.id for c in rp.pattern.components]
    if name not in ids:
        known = ", ".join(ids[:16]) + (", …" if len(ids) > 16 else "")
        raise ScenarioError(f"--fail {text!r}: {rp.id} has no component {name!r} (known: {known})")
    kind, _, arg = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise ScenarioError(f"--fail {text!r}: unknown failure {kind!r} (valid: down, slow:K, zone, cold)")
    if kind == "slow":
        try:
            factor = float(arg)
        except ValueError:
            raise ScenarioError(f"--fail {text!r}: slow takes a factor, e.g. {name}=slow:3") from None
        if not math.isfinite(factor) or not 1 < factor <= MAX_SLOW:
            raise ScenarioError(f"--fail {text!r}: the slow-down factor must be above 1 and at most {MAX_SLOW:g}")
        return Failure(component=name, kind="slow", factor=factor)
    if arg:
        raise ScenarioError(f"--fail {text!r}: {kind} takes no factor (only slow:K does)")
    if kind == "cold":
        comp = next(c for c in rp.pattern.components if c.id == name)
        if comp.hit_rate is None:
            caches = [c.id for c in rp.pattern.components if c.hit_rate is not None]
            raise ScenarioError(f"--fail {text!r}: {name!r} declares no hit_rate, so it cannot go cold "
                                f"(caches here: {', '.join(caches) or 'none'})")
    if rp.types[name].category == "client":
        raise ScenarioError(f"--fail {text!r}: {name!r} is the user's client, not a server that can fail")
    return Failure(component=name, kind=kind)  # type: ignore[arg-type]


def parse_failures(rp: ResolvedPattern, texts: Iterable[str]) -> tuple[Failure, ...]:
    """Every ``--fail`` value parsed; one failure per component (a second one for the same component is an
    error)."""
    out: list[Failure] = []
    for t in texts:
        f = parse_failure(rp, t)
        if any(g.component == f.component for g in out):
            raise ScenarioError(f"--fail {t!r}: {f.component!r} already fails; give one failure per component")
        out.append(f)
    return tuple(out)


def to_query(failures: Iterable[Failure]) -> str:
    """The URL value: ``scorer:down,ann:zone`` (empty when nothing fails).

    Examples
    --------
    >>> to_query([Failure(component="scorer"), Failure(component="ann", kind="slow", factor=2)])
    'scorer:down,ann:slow:2'
    """
    return ",".join(f"{f.component}:{f.spec}" for f in failures)


def from_query(rp: ResolvedPattern, value: str | None) -> tuple[tuple[Failure, ...], list[str]]:
    """Lenient parse of the URL's ``fail`` value: bad parts are dropped with one notice each."""
    failures: list[Failure] = []
    notices: list[str] = []
    for part in (value or "").split(","):
        if not part.strip():
            continue
        try:
            f = parse_failure(rp, part)
        except ScenarioError as exc:
            notices.append(f"{str(exc).removeprefix('--fail ')}; ignored.")
            continue
        if all(g.component != f.component for g in failures):
            failures.append(f)
    return tuple(failures), notices
