"""Plain-text rendering of a report (CLI ``estimate`` without ``--json``)."""

from __future__ import annotations

from explorer.engine.report import Figure, Report
from explorer.units import fmt


def _ms(v: float | None) -> str:
    return "saturated" if v is None else f"{fmt(v)} ms"


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
        if e.saturated:
            lines.append(f"End to end: SATURATED at {', '.join(e.saturated_components)} (target p{fmt(e.percentile)} "
                         f"{fmt(e.target_ms)} ms)")
        else:
            verdict = "meets" if e.meets_target else "MISSES"
            lines.append(f"End to end: mean {_ms(e.mean_ms)}, p50 {_ms(e.p50_ms)}, p99 {_ms(e.p99_ms)} — {verdict} "
                         f"the p{fmt(e.percentile)} target of {fmt(e.target_ms)} ms (margin {fmt(e.margin_ms)} ms)")
        lines.append("Critical path: " + " → ".join(e.critical_path))
    header = f"{'component':<22} {'status':<10} {'calls/s':>10} {'S ms':>8} {'shards':>6} {'repl':>5} {'rec':>5} {'util':>6} {'p99 ms':>10} {'$/month':>11}"
    lines += ["", header, "-" * len(header)]
    for c in r.components.values():
        rec = "-" if c.replicas_recommended is None else str(c.replicas_recommended)
        p99 = "-" if c.status == "external" else ("sat." if c.p99_ms is None else fmt(c.p99_ms))
        lines.append(f"{c.id:<22} {c.status:<10} {fmt(c.calls_per_s):>10} {fmt(c.service_ms):>8} {c.shards:>6} "
                     f"{c.replicas:>5} {rec:>5} {c.utilization:>6.0%} {p99:>10} {fmt(round(c.cost_usd_month)):>11}")
    for j in r.batch_jobs:
        lines.append(f"Batch job {j.id}: {fmt(j.items_per_s)} items/s over {fmt(j.window_hours)} h — "
                     f"{'fits its window' if j.fits_window else 'DOES NOT FIT its window'}")
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
    t = r.totals
    lines += ["", f"Totals: {t.cpu_replicas} CPU nodes, {t.gpu_replicas} GPU nodes, memory {fmt(t.memory_gb)} GB, "
              f"storage {fmt(t.storage_gb)} GB, cost ${fmt(round(t.cost_usd_month))}/month"]
    for w in r.warnings:
        lines.append(f"warning: {w}")
    return "\n".join(lines)
