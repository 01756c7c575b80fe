"""Export benchmark (``make bench`` calls :func:`run`): medians, not a timed test.

SVG, PNG and Markdown of the largest built-in pattern (most components), the
whole study pack, and a generated 1,000-component pattern (drawn collapsed).
Targets: SVG ≤ 20 ms, PNG ≤ 150 ms (at the default dpi), pack ≤ 10 s, the
1,000-component SVG ≤ 10 s.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGETS_MS = {"svg": 20.0, "png": 150.0, "pack": 10_000.0, "svg 1000 components": 10_000.0}


def _median_ms(fn, repeat: int, warmup: int = 1) -> float:
    from tests.bench import median_ms
    return median_ms(fn, repeat, warmup)


def run(quick: bool = False) -> dict:
    """Print and return medians in ms: ``export svg``, ``export png``, ``export png 300 dpi``,
    ``export md``, ``export mermaid``, ``export pack`` (plus the pattern measured)."""
    from explorer import export as ex
    from explorer.engine.analysis import analyse
    from explorer.model.loader import builtin_paths, load_pattern

    patterns = [load_pattern(p) for p in builtin_paths()]
    rp = max(patterns, key=lambda p: (len(p.pattern.components), len(p.pattern.connections), p.id))
    report = analyse(rp)
    n = 5 if quick else 15
    out: dict[str, float] = {}
    print(f"  largest pattern: {rp.id} ({len(rp.pattern.components)} components, "
          f"{len(rp.pattern.connections)} connections)")
    rows = [
        ("svg", "SVG (DOT + in-process layout + render)", lambda: ex.render_svg(rp, report), n),
        ("png", f"PNG at {ex.DEFAULT_DPI} dpi (default)", lambda: ex.render_png(rp, report, dpi=ex.DEFAULT_DPI), n),
        ("png 300 dpi", "PNG at 300 dpi", lambda: ex.render_png(rp, report, dpi=300), max(3, n // 3)),
        ("pdf", "PDF", lambda: ex.render_pdf(rp, report), n),
        ("md", "Markdown study note", lambda: ex.study_note_markdown(rp, report), n),
        ("mermaid", "Mermaid", lambda: ex.to_mermaid(rp, report), n),
    ]
    for key, title, fn, repeat in rows:
        ms = _median_ms(fn, repeat)
        out[f"export {key}"] = ms
        target = TARGETS_MS.get(key)
        verdict = "" if target is None else f"  (target ≤ {target:,.0f} ms: {'ok' if ms <= target else 'OVER'})"
        print(f"  {title:<44} {ms:9.1f} ms{verdict}")
    from tests.generated import generated_pattern

    big = generated_pattern(1000)
    big_report = analyse(big)
    ms = _median_ms(lambda: ex.render_svg(big, big_report), 1 if quick else 3, warmup=0)
    out["export svg 1000 components"] = ms
    target = TARGETS_MS["svg 1000 components"]
    print(f"  {'SVG of 1,000 components (collapsed groups)':<44} {ms:9.1f} ms  (target ≤ {target:,.0f} ms: "
          f"{'ok' if ms <= target else 'OVER'})")
    ms = _median_ms(lambda: ex.study_pack(rp), 1 if quick else 3, warmup=0)
    out["export pack"] = ms
    print(f"  {'study pack (' + str(len(patterns)) + ' patterns: analyse + SVG + note + Mermaid)':<44} {ms:9.1f} ms"
          f"  (target ≤ {TARGETS_MS['pack']:,.0f} ms: {'ok' if ms <= TARGETS_MS['pack'] else 'OVER'})")
    return out


if __name__ == "__main__":
    run("--quick" in sys.argv)
