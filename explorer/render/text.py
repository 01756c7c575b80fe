"""Report headlines as text: the CLI ``estimate`` summary and the lines the Markdown note shares with it.

One wording for each headline (the end-to-end verdict, the critical path, the totals,
the batch jobs); a :class:`Voice` says how a format marks a problem and an id
(capitals and bare ids in a terminal, ``**bold**`` and `` `code` `` in Markdown).

Examples
--------
>>> PLAIN.strong("misses"), MARKDOWN.strong("misses"), MARKDOWN.code("ann")
('MISSES', '**misses**', '`ann`')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from explorer.engine.report import BatchJobReport, EndToEnd, Figure, Report, Totals
from explorer.units import fmt


@dataclass(frozen=True)
class Voice:
    """How a text format marks a problem word (``strong``) and an id (``code``)."""

    strong: Callable[[str], str]
    code: Callable[[str], str]


def _same(text: str) -> str:
    return text


PLAIN = Voice(strong=str.upper, code=_same)
"""A terminal: problems in capitals, ids as they are."""
MARKDOWN = Voice(strong=lambda text: f"**{text}**", code=lambda text: f"`{text}`")
"""Markdown: problems in bold, ids as code. Ids are pattern ids (``[A-Za-z0-9_-]``), safe in a code span."""


def verdict(e2e: EndToEnd | None) -> str:
    """The end-to-end verdict in one word: ``meets``, ``misses`` or ``saturated`` (``""`` without a request path).

    Examples
    --------
    >>> verdict(None)
    ''
    """
    if e2e is None:
        return ""
    if e2e.saturated:
        return "saturated"
    return "meets" if e2e.meets_target else "misses"


def ms_text(value: float | None) -> str:
    """Milliseconds, or ``saturated`` when there is no finite value."""
    return "saturated" if value is None else f"{fmt(value)} ms"


def end_to_end_line(e: EndToEnd, voice: Voice = PLAIN) -> str:
    """``End to end: p99 …, p50 …, mean … — meets the p99 target of … ms (margin … ms)``, or where it saturates."""
    word = verdict(e)
    if e.saturated:
        return (f"End to end: {voice.strong(word)} at {', '.join(voice.code(c) for c in e.saturated_components)} "
                f"(target p{fmt(e.percentile)} {fmt(e.target_ms)} ms)")
    shown = word if e.meets_target else voice.strong(word)
    return (f"End to end: p99 {ms_text(e.p99_ms)}, p50 {ms_text(e.p50_ms)}, mean {ms_text(e.mean_ms)} — {shown} the "
            f"p{fmt(e.percentile)} target of {fmt(e.target_ms)} ms (margin {ms_text(e.margin_ms)})")


def critical_path_line(e: EndToEnd, voice: Voice = PLAIN) -> str:
    """``Critical path: api → ann → ranker``."""
    return "Critical path: " + " → ".join(voice.code(n) for n in e.critical_path)


def totals_line(t: Totals) -> str:
    """Nodes by hardware, memory, storage and cost per month."""
    return (f"Totals: {t.cpu_replicas} CPU nodes, {t.gpu_replicas} GPU nodes, {t.managed_replicas} managed; "
            f"memory {fmt(t.memory_gb)} GB; storage {fmt(t.storage_gb)} GB; cost ${fmt(round(t.cost_usd_month))}/month")


def batch_job_line(j: BatchJobReport, voice: Voice = PLAIN) -> str:
    """A batch job's throughput and whether it fits its window."""
    fits = "fits its window" if j.fits_window else f"{voice.strong('does not fit')} its window"
    return f"Batch job {voice.code(j.id)}: {fmt(j.items_per_s)} items/s over {fmt(j.window_hours)} h — {fits}"


def _value(f: Figure) -> str:
    """A figure's value and unit, compactly; never ``None``."""
    if f.value is None:
        return "saturated"
    if isinstance(f.value, bool):
        return "yes" if f.value else "no"
    return f"{fmt(f.value)}{(' ' + f.unit) if f.unit else ''}"


def report_text(r: Report) -> str:
    """A readable summary: scenario, end to end, table, bottlenecks, ML figures (one line per section, and the
    cost-vs-staleness curve), totals."""
    lines = [f"{r.title} ({r.pattern_id}) — mode: {r.mode}"]
    lines.append("Scenario: " + ", ".join(f"{k}={fmt(v)}{(' ' + r.units[k]) if r.units.get(k) else ''}"
                                          for k, v in r.values.items()))
    e = r.end_to_end
    if e is not None:
        lines.append(end_to_end_line(e))
        lines.append(critical_path_line(e))
    header = f"{'component':<22} {'status':<10} {'calls/s':>10} {'S ms':>8} {'shards':>6} {'repl':>5} {'rec':>5} {'util':>6} {'p99 ms':>10} {'$/month':>11}"
    lines += ["", header, "-" * len(header)]
    for c in r.components.values():
        rec = "-" if c.replicas_recommended is None else str(c.replicas_recommended)
        p99 = "-" if c.status == "external" else ("sat." if c.p99_ms is None else fmt(c.p99_ms))
        lines.append(f"{c.id:<22} {c.status:<10} {fmt(c.calls_per_s):>10} {fmt(c.service_ms):>8} {c.shards:>6} "
                     f"{c.replicas:>5} {rec:>5} {c.utilization:>6.0%} {p99:>10} {fmt(round(c.cost_usd_month)):>11}")
    for j in r.batch_jobs:
        lines.append(batch_job_line(j))
    if r.bottlenecks:
        lines += ["", "Bottlenecks:"]
        for b in r.bottlenecks:
            lines.append(f"  {b.rank}. [{b.status}] {b.reason}\n     → {b.advice}")
    if r.ml:
        lines += ["", "ML figures:"]
        for s in r.ml:
            about = f" ({s.component})" if s.component else ""
            lines.append(f"  {s.title}{about}:")
            lines.append("    " + "; ".join(f"{f.label} {_value(f)}" for f in s.figures.values()))
    if r.staleness_curve:
        lines.append("  Cost vs staleness (refresh h → mean staleness h, $/month): " + "; ".join(
            f"{fmt(p.refresh_hours)} → {fmt(p.staleness_mean_hours)}, ${fmt(round(p.cost_usd_month))}"
            + ("" if p.fits_interval else " (job longer than interval)") for p in r.staleness_curve))
    lines += ["", totals_line(r.totals)]
    for w in r.warnings:
        lines.append(f"warning: {w}")
    return "\n".join(lines)
