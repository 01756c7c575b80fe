"""Validation that runs what ``estimate`` runs: load, then analyse in every scenario the sliders reach.

Loading (:mod:`explorer.model.loader`) checks the file against the schema, the references and
the bounds of every quantity. A file can still pass that and fail later, when the estimate is
computed; ``python -m explorer validate`` should say so then, not leave it to the first page
that opens the pattern. :func:`check_estimates` analyses the pattern at the defaults and with
each parameter at its min and at its max, in both modes, and returns one message per scenario
that fails or yields a number that is not finite. It sits at the edge (beside the CLI) because it
needs the engine.

Examples
--------
>>> from explorer.model.library import load
>>> check_estimates(load("two_stage_recommender"))
[]
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from explorer.engine.analysis import analyse
from explorer.errors import ExplorerError, LocatedError
from explorer.model.loader import ResolvedPattern
from explorer.model.scenario import MODES


def scenarios(rp: ResolvedPattern) -> Iterator[tuple[str, dict[str, float]]]:
    """``(description, values)``: the defaults, then each parameter at its min and its max.

    Examples
    --------
    >>> from explorer.model.library import load
    >>> [d for d, _ in scenarios(load("feature_store"))][:2]
    ['at the default scenario', 'when peak_qps=50 (its min)']
    """
    yield "at the default scenario", {}
    for q in rp.pattern.parameters:
        for end, value in (("min", q.min), ("max", q.max)):
            yield f"when {q.name}={value:g} (its {end})", {q.name: value}


def check_estimates(rp: ResolvedPattern) -> list[LocatedError]:
    """One located message per scenario and mode whose estimate fails or is not finite (none: all fine).

    An :class:`~explorer.errors.ExplorerError` from the engine is reported with its own sentence;
    anything else is a fault of the estimator, reported as such (with the exception's name) so that
    validation never ends in a traceback.
    """
    problems: list[LocatedError] = []
    for where, values in scenarios(rp):
        for mode in MODES:
            try:
                data = analyse(rp, values, mode).to_dict()
            except ExplorerError as exc:
                problems.append(LocatedError(f"the {mode} estimate fails {where}: {exc}", file=rp.file))
                continue
            except (ArithmeticError, ValueError, TypeError, RecursionError, IndexError, KeyError) as exc:
                problems.append(LocatedError(
                    f"the {mode} estimate fails {where} with an internal error ({type(exc).__name__}: {exc}); "
                    "the file is valid but the estimator cannot size it — please report this with the file",
                    file=rp.file))
                continue
            bad = _first_non_finite(data)
            if bad:
                problems.append(LocatedError(f"the {mode} estimate {where} has a number that is not finite "
                                             f"({bad}); the estimator should report it as saturated or missing",
                                             file=rp.file))
    return problems


def _first_non_finite(obj: object, path: str = "") -> str:
    """Path of the first NaN or infinity inside a JSON-like value ('' when there is none)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return path or "the value"
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, (list, tuple)) else ()
    for key, value in items:
        found = _first_non_finite(value, f"{path}.{key}" if isinstance(key, str) else f"{path}[{key}]")
        if found:
            return found
    return ""
