"""``make bench``: medians of the engine, exports and the browser (a benchmark, not a test).

Run as ``python -m tests.bench [--quick]``. Prints a table of figures; the
browser and export sections run when their modules and Chromium are present.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from explorer.engine import queueing  # noqa: E402
from explorer.engine.analysis import analyse  # noqa: E402
from explorer.model.loader import builtin_paths, load_pattern  # noqa: E402
from tests.generated import generated_pattern  # noqa: E402


def median_ms(fn, repeat: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def engine(quick: bool = False) -> dict:
    out: dict[str, float] = {}
    print("== Engine: full analysis (traffic, queueing, end-to-end distribution, cost, bottlenecks)")
    for path in builtin_paths():
        rp = load_pattern(path)
        ms = median_ms(lambda rp=rp: analyse(rp), 5 if quick else 30)
        out[f"analyse {rp.id}"] = ms
        print(f"  {rp.id:<32} {len(rp.pattern.components):>4} components  {ms:8.2f} ms")
    sizes = (100, 1000) if quick else (100, 1000, 10000)
    per: dict[int, float] = {}
    for n in sizes:
        rp = generated_pattern(n)
        edges = rp.graph.number_of_edges()
        ms = median_ms(lambda rp=rp: analyse(rp), 3 if n >= 10000 or quick else 7)
        per[n] = ms
        out[f"analyse generated {n}"] = ms
        print(f"  generated {n:>6} components, {edges:>6} connections  {ms:9.1f} ms  "
              f"({ms * 1000 / (n + edges):.1f} µs per component+connection)")
    if 1000 in per and 100 in per:
        print(f"  growth 100 → 1,000 components: ×{per[1000] / per[100]:.1f} (linear would be ×10)")
    if 10000 in per:
        print(f"  growth 1,000 → 10,000 components: ×{per[10000] / per[1000]:.1f} (linear would be ×10)")
    ms = median_ms(lambda: (lambda f: (f.p99_ms, f.p50_ms))(queueing.station(900, 10, 12)), 200)
    out["queue station"] = ms
    print(f"  one queue computation (λ=900/s, S=10 ms, c=12: figures + p50 + p99)  {ms * 1000:.0f} µs")
    ms = median_ms(lambda: queueing.size_servers(5e6, 10, target_utilization=0.7, p99_target_ms=50), 50)
    out["queue sizing a=50,000"] = ms
    print(f"  sizing at 50,000 Erlangs                                            {ms * 1000:.0f} µs")
    return out


def optional(module: str, title: str) -> dict:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        print(f"== {title}: not available ({module} missing)")
        return {}
    print(f"== {title}")
    try:
        return mod.run() or {}
    except Exception as exc:  # a benchmark reports, it does not fail the run
        print(f"  skipped: {type(exc).__name__}: {exc}")
        return {}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    engine(args.quick)
    optional("tests.bench_export", "Exports")
    if not args.no_browser:
        optional("tests.bench_browser", "Browser: slider change → updated diagram")
    return 0


if __name__ == "__main__":
    sys.exit(main())
