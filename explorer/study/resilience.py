"""Failures and availability in words: lines for the CLI, the study note and the Explore panel.

Nothing here computes; it formats :class:`~explorer.engine.failures.WhatIf` and
:class:`~explorer.engine.availability.PathAvailability`.
"""

from __future__ import annotations

from collections.abc import Callable

from explorer.engine.availability import PathAvailability
from explorer.engine.failures import WhatIf
from explorer.units import fmt

Escape = Callable[[object], str]


def nines_text(nines: float | None) -> str:
    """``3.2 nines`` (``no failure possible`` for None).

    Examples
    --------
    >>> nines_text(3.2219), nines_text(None)
    ('3.22 nines', '100%, no failure possible')
    """
    return "100%, no failure possible" if nines is None else f"{fmt(round(nines, 2))} nines"


def availability_line(a: PathAvailability) -> str:
    """``Availability 99.94% (3.22 nines), ~26 failed min/month; single points of failure: none``."""
    spofs = ", ".join(a.spofs) if a.spofs else "none"
    return (f"Availability {a.success:.4%} ({nines_text(a.nines)}), ~{fmt(round(a.downtime_min_month))} failed "
            f"min/month; single points of failure: {spofs}")


def whatif_lines(w: WhatIf) -> list[str]:
    """The what-if in plain lines: shares, latency, fallbacks with their quality cost, overloads, retries."""
    lines = [f"What if: {'; '.join(f.describe() for f in w.failures)}",
             f"  served normally {w.served_share:.1%}, by fallbacks {w.fallback_share:.1%}, failed "
             f"{w.failed_share:.2%} (success {nines_text(w.nines)})",
             f"  end-to-end p99 of what is served: {_ms(w.p99_ms)} (was {_ms(w.p99_before_ms)})"]
    for u in w.fallbacks:
        route = f"to {u.to}" if u.to else "answered by the caller"
        lines.append(f"  fallback for {u.component} ({u.trigger}, {route}): {u.share:.1%} of requests — {u.quality}")
    for t in w.timeouts:
        lines.append(f"  {t.source} → {t.target} past its {fmt(t.deadline_ms)} ms deadline: {t.p_timeout:.1%} of calls; "
                     f"{t.retries} retr{'y' if t.retries == 1 else 'ies'} make {fmt(t.amplification)}× the calls")
    if w.overloaded:
        lines.append(f"  pushed hot or saturated: {', '.join(w.overloaded)}")
    for c in w.load_changes:
        if c.calls_per_s_after > c.calls_per_s_before * (1 + 1e-6):
            lines.append(f"  {c.component}: {fmt(c.calls_per_s_before)} → {fmt(c.calls_per_s_after)} calls/s, "
                         f"utilisation {c.utilization_before:.0%} → {c.utilization_after:.0%} ({c.status_after})")
    return lines


def whatif_markdown(w: WhatIf, a: PathAvailability | None, md_inline: Escape, md_cell: Escape) -> list[str]:
    """A ``## What if`` section for the study note; ``md_inline`` and ``md_cell`` escape user text for a line
    and for a table cell (the note's own escapers, from :mod:`explorer.export`)."""
    L = ["## What if", ""]
    if a is not None:
        L += [md_inline(availability_line(a)), ""]
    L += [f"**{md_inline('; '.join(f.describe() for f in w.failures))}** "
          f"(`{md_inline(' '.join('--fail ' + f.text for f in w.failures))}`)", ""]
    L += ["| Requests | Share |", "| --- | ---: |",
          f"| served normally | {w.served_share:.1%} |", f"| served by fallbacks | {w.fallback_share:.1%} |",
          f"| failed | {w.failed_share:.2%} |", ""]
    L += [f"End-to-end p99 of what is served: {_ms(w.p99_ms)} (was {_ms(w.p99_before_ms)}); success "
          f"{nines_text(w.nines)}.", ""]
    if w.fallbacks:
        L += ["| Fallback for | Trigger | Route | Requests | What the user loses |", "| --- | --- | --- | ---: | --- |"]
        for u in w.fallbacks:
            L.append(f"| `{u.component}` | {u.trigger} | {md_cell(u.to or 'answered by the caller')} | "
                     f"{u.share:.1%} | {md_cell(u.quality)} |")
        L.append("")
    if w.overloaded:
        L += [f"Pushed hot or saturated: {', '.join(f'`{c}`' for c in w.overloaded)}.", ""]
    for f in w.figures.values():
        L.append(f"- {md_inline(f.explain())}")
    for t in w.timeouts:
        L += [f"- {md_inline(f.explain())}" for f in t.figures.values()]
    L.append("")
    return L


def _ms(v: float | None) -> str:
    return "saturated or none served" if v is None else f"{fmt(v)} ms"
