"""Architecture Explorer's engine: ML system design patterns as component graphs, sized and explained.

The public surface, in the order data flows through it::

    >>> import explorer
    >>> rp = explorer.load("two_stage_recommender")          # a built-in id, a saved id or a .yaml path
    >>> report = explorer.analyse(rp, {"peak_qps": 20000})   # traffic → sizing → latency → cost → bottlenecks
    >>> report.end_to_end.meets_target
    True
    >>> print(report.figure("end_to_end.p99_ms").formula[:35])
    0.99-quantile of the composed distr
    >>> explorer.to_mermaid(rp, report).splitlines()[1]    # line 0 is the layout directive
    'flowchart LR'

Sub-packages, each importing only its own floor or lower ones (``tests/test_layers.py`` keeps it so):
``errors``/``units`` → ``model`` (files → a validated, resolved pattern) → ``engine`` (the analysis passes,
queueing, distributions, the ML calculators) → ``render`` (DOT, Mermaid, charts, text) → ``study`` (the pages'
logic) → ``export``, ``export_cli`` and ``cli`` at the edge.

Names are imported on first use, so ``import explorer`` stays cheap for the command line.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES: dict[str, str] = {
    # errors
    "ExplorerError": "explorer.errors", "LocatedError": "explorer.errors", "PatternError": "explorer.errors",
    "CatalogError": "explorer.errors", "ExpressionError": "explorer.errors", "ScenarioError": "explorer.errors",
    "ExportError": "explorer.errors", "UsageError": "explorer.errors", "AnalysisTooLarge": "explorer.errors",
    # model
    "ResolvedPattern": "explorer.model.loader", "load_pattern": "explorer.model.loader",
    "load_pattern_text": "explorer.model.loader", "load_catalog": "explorer.model.loader",
    "load": "explorer.model.library", "entries": "explorer.model.library",
    "check_values": "explorer.model.scenario",
    # engine
    "analyse": "explorer.engine.analysis", "Report": "explorer.engine.report", "Figure": "explorer.engine.report",
    "Input": "explorer.engine.report", "Status": "explorer.engine.report",
    # render (exports: the module ``explorer.export``, whose ``export()`` writes any format to bytes)
    "DrawOptions": "explorer.render.styles", "to_dot": "explorer.render.diagram",
    "to_mermaid": "explorer.render.mermaid",
}
_SUBMODULES = {"errors", "units", "model", "engine", "render", "study", "export", "export_cli", "cli", "validate"}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    """Import a public name from its home module on first use (PEP 562)."""
    if name in _SUBMODULES:  # ``from explorer import export`` means the module, as it always has
        return importlib.import_module(f"explorer.{name}")
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'explorer' has no attribute {name!r} (public names: {', '.join(__all__)})")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
