"""A day of traffic in words: the CLI's summary and the study note's section.

Both read a :class:`~explorer.engine.day.DayReport`; no arithmetic beyond picking minutes and hours.
"""

from __future__ import annotations

import math

import numpy as np

from explorer.engine.day import MINUTES, DayReport
from explorer.units import fmt


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _ms(x: float) -> str:
    return "—" if not math.isfinite(x) else f"{fmt(x)} ms"


def _usd(x: float) -> str:
    return f"${fmt(x)}"


def headlines(day: DayReport) -> list[str]:
    """The day's totals as short sentences (shared by the CLI, the note and the page)."""
    F = day.figures
    cost, peak = F["cost_day_usd"].value, F["cost_day_peak_usd"].value
    out = [f"Cost of the day ({day.mode}): {_usd(cost)}; provisioned for the peak all day: {_usd(peak)} "
           f"(saving {F['saving_fraction'].value:.0%})."]
    if "p99_max_ms" in F:
        worst = F["p99_max_ms"]
        out.append(f"Worst end-to-end p99: {_ms(worst.value if worst.value is not None else math.inf)} at "
                   f"{worst.inputs[0].value}; {F['minutes_over_target'].value} minutes over the "
                   f"{fmt(day.target_ms)} ms target.")
    sat = F["minutes_saturated"].value
    if sat:
        out.append(f"{sat} minutes with a saturated component; largest backlog {fmt(F['max_backlog_calls'].value)} "
                   "calls.")
    for w in day.batch:
        if w.collides_with_peak:
            out.append(f"Batch job {w.id} runs {w.peak_overlap_minutes} minutes inside the peak period on "
                       f"{', '.join(w.shared_components)}.")
    return out


def hourly_rows(day: DayReport) -> list[tuple[str, float, float | None, int, float]]:
    """(hour, QPS at the hour's worst minute, worst end-to-end p99 of the hour, replicas then, cost of the hour)."""
    rows = []
    cost = np.sum([c.cost_usd for c in day.components.values()], axis=0) if day.components else np.zeros(MINUTES)
    replicas = np.sum([c.replicas * c.shards for c in day.components.values()], axis=0) if day.components \
        else np.zeros(MINUTES, dtype=int)
    for h in range(24):
        sl = slice(h * 60, h * 60 + 60)
        if day.end_to_end_p99_ms is not None:
            seg = day.end_to_end_p99_ms[sl]
            i = int(np.nanargmax(seg)) if np.isfinite(seg).any() else 0
            p99 = float(seg[i])
        else:
            i, p99 = int(np.argmax(day.qps[sl])), None
        rows.append((f"{h:02d}:00", float(day.qps[sl][i]), p99, int(replicas[sl][i]), float(cost[sl].sum())))
    return rows


def day_text(day: DayReport) -> str:
    """The CLI's summary: headlines, then an hour-by-hour table."""
    o = day.options
    lines = [f"{day.title} ({day.pattern_id}): a day of traffic, {day.mode}",
             f"  curve: peak at {fmt(o.peak_hour)} h, peak-to-trough {fmt(o.peak_to_trough)}"
             + "".join(f"; spike ×{fmt(s.factor)} for {s.minutes} min at {_hhmm(s.start_minute)}" for s in o.spikes)]
    lines += ["  " + h for h in headlines(day)]
    lines.append("")
    lines.append(f"  {'hour':<6} {'QPS':>12} {'p99 (worst)':>14} {'nodes':>7} {'cost':>10}")
    for hour, qps, p99, nodes, cost in hourly_rows(day):
        lines.append(f"  {hour:<6} {fmt(qps):>12} {(_ms(p99) if p99 is not None else '—'):>14} {nodes:>7} "
                     f"{_usd(cost):>10}")
    return "\n".join(lines)


def day_markdown(day: DayReport, heading: str = "##") -> str:
    """The study note's section: what was simulated, the headlines, the hourly table and the traced totals."""
    o = day.options
    out = [f"{heading} A day of traffic ({day.mode})", "",
           f"Diurnal curve peaking at {fmt(o.peak_hour)} h, {fmt(o.peak_to_trough)}× the trough"
           + "".join(f"; spike ×{fmt(s.factor)} for {s.minutes} min at {_hhmm(s.start_minute)}" for s in o.spikes)
           + ". One-minute fluid model: replicas from the autoscaling policy, M/M/c / G/G/c stations at each "
             "minute's rate, a backlog carried while arrivals exceed capacity.", ""]
    out += [f"- {h}" for h in headlines(day)]
    out += ["", "| Hour | QPS | Worst p99 | Nodes | Cost |", "|---|---:|---:|---:|---:|"]
    for hour, qps, p99, nodes, cost in hourly_rows(day):
        out.append(f"| {hour} | {fmt(qps)} | {_ms(p99) if p99 is not None else '—'} | {nodes} | {_usd(cost)} |")
    out += ["", f"{heading}# How the day's figures are computed", ""]
    out += [f"- {f.explain()}" for f in day.figures.values()]
    return "\n".join(out) + "\n"
