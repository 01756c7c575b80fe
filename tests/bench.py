"""``make bench``: medians of the engine, exports and the browser (a benchmark, not a test).

Run as ``python -m tests.bench [--quick]``. Prints a table of figures; the
browser and export sections run when their modules and Chromium are present.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from explorer.engine import queueing  # noqa: E402
from explorer.engine.analysis import analyse  # noqa: E402
from explorer.model.loader import builtin_paths, load_pattern  # noqa: E402
from tests.generated import chain_data, generated_data, generated_pattern  # noqa: E402


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


def _run_s(args: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(cwd)})
    return time.perf_counter() - t0


def cli(quick: bool = False, root: Path = ROOT) -> dict:
    """``python -m explorer estimate FILE --json`` end to end (subprocess), and the cold start ratio."""
    out: dict[str, float] = {}
    repeat = 3 if quick else 5
    py = sys.executable
    print(f"== CLI: estimate --json end to end (subprocess, median of {repeat}; code in {root})")
    with tempfile.TemporaryDirectory() as tmp:
        files = {"generated 2": generated_data(2), "generated 1,000": generated_data(1000),
                 "chain 300": chain_data(300), "chain 1,900": chain_data(1900)}
        paths = {}
        for name, data in files.items():
            path = Path(tmp) / f"{data['id']}.yaml"
            path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
            paths[name] = path
        times = {}
        for name, path in paths.items():
            reps = (1 if quick else 3) if name == "chain 1,900" else repeat
            times[name] = statistics.median(
                _run_s([py, "-m", "explorer", "estimate", str(path), "--json"], root) for _ in range(reps))
            out[f"estimate {name}"] = times[name]
            extra = times[name] - times["generated 2"]
            print(f"  {name:<18} {times[name]:7.3f} s   (+{extra:6.3f} s over 2 components)")
    base = statistics.median(_run_s([py, "-c", "import pydantic, networkx, yaml"], root) for _ in range(repeat))
    cold = statistics.median(
        _run_s([py, "-m", "explorer", "estimate", "two_stage_recommender", "--json"], root) for _ in range(repeat))
    out["cold start ratio"] = cold / base
    print(f"  cold start: estimate two_stage_recommender {cold:.3f} s vs import pydantic, networkx, yaml "
          f"{base:.3f} s: ×{cold / base:.2f}")
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
    ap.add_argument("--only-engine", action="store_true", help="engine and CLI sections only")
    ap.add_argument("--code", type=Path, default=ROOT,
                    help="tree whose CLI to time (e.g. a checkout of another revision, for a baseline)")
    args = ap.parse_args()
    engine(args.quick)
    cli(args.quick, args.code)
    if args.only_engine:
        return 0
    optional("tests.bench_export", "Exports")
    if not args.no_browser:
        optional("tests.bench_browser", "Browser: slider change → updated diagram")
    return 0


if __name__ == "__main__":
    sys.exit(main())
