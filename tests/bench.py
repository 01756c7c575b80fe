"""``make bench``: medians of the engine, exports and the browser (a benchmark, not a test).

Run as ``python -m tests.bench [--quick]``. Prints a table of figures; the
browser and export sections run when their modules and Chromium are present.
"""

from __future__ import annotations

import argparse
import builtins
import importlib
import json
import math
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


def _quiet_print(*args, **kwargs) -> None:
    """``print`` for the engine section when its figures go out as JSON instead."""


def median_ms(fn, repeat: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def engine(quick: bool = False, quiet: bool = False) -> dict:
    out: dict[str, float] = {}
    print = _quiet_print if quiet else builtins.print  # noqa: A001
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


CLI_FILES = {"generated 2": lambda: generated_data(2), "generated 1,000": lambda: generated_data(1000),
             "chain 300": lambda: chain_data(300), "chain 1,900": lambda: chain_data(1900)}


def cli_times(quick: bool, roots: list[Path]) -> dict[Path, dict[str, float]]:
    """Medians of ``python -m explorer estimate FILE --json`` (subprocess) and of the cold start, for each
    tree in ``roots``; the trees take turns at every repetition, so a change in the machine's load hits
    them alike."""
    repeat = 3 if quick else 5
    py = sys.executable
    raw: dict[Path, dict[str, list[float]]] = {r: {} for r in roots}
    with tempfile.TemporaryDirectory() as tmp:
        runs: dict[str, list[str]] = {}
        for name, make in CLI_FILES.items():
            data = make()
            path = Path(tmp) / f"{data['id']}.yaml"
            path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
            runs[name] = [py, "-m", "explorer", "estimate", str(path), "--json"]
        runs["import pydantic, networkx, yaml"] = [py, "-c", "import pydantic, networkx, yaml"]
        runs["cold start"] = [py, "-m", "explorer", "estimate", "two_stage_recommender", "--json"]
        for name, args in runs.items():
            reps = (1 if quick else 3) if name == "chain 1,900" else repeat
            for _ in range(reps):
                for root in roots:
                    raw[root].setdefault(name, []).append(_run_s(args, root))
    out: dict[Path, dict[str, float]] = {}
    for root in roots:
        med = {name: statistics.median(ts) for name, ts in raw[root].items()}
        res = {f"estimate {name}": med[name] for name in CLI_FILES}
        res.update({f"estimate {name} extra": med[name] - med["generated 2"] for name in CLI_FILES
                    if name != "generated 2"})
        res["cold start"] = med["cold start"]
        res["import pydantic, networkx, yaml"] = med["import pydantic, networkx, yaml"]
        res["cold start ratio"] = med["cold start"] / med["import pydantic, networkx, yaml"]
        out[root] = res
    return out


def cli(quick: bool = False, root: Path = ROOT) -> dict:
    """``python -m explorer estimate FILE --json`` end to end (subprocess), and the cold start ratio."""
    print(f"== CLI: estimate --json end to end (subprocess, medians; code in {root})")
    res = cli_times(quick, [root])[root]
    for key, value in res.items():
        print(f"  {key:<40} {value:8.3f}{'' if 'ratio' in key else ' s'}")
    return res


def _engine_in(root: Path, quick: bool) -> dict[str, float]:
    args = [sys.executable, "-m", "tests.bench", "--engine-json"] + (["--quick"] if quick else [])
    done = subprocess.run(args, cwd=root, check=True, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(root)})
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(baseline: Path, quick: bool = False, rounds: int = 2) -> None:
    """This tree against ``baseline`` (another checkout, e.g. ``git worktree add /tmp/base main``), in one
    run: the engine section alternates between the trees ``rounds`` times (the smallest median of each
    figure is kept), the CLI runs take turns."""
    print(f"== Baseline {baseline} vs this tree {ROOT} ({rounds} alternating rounds; ratio = this ÷ baseline)")
    eng: dict[Path, dict[str, float]] = {baseline: {}, ROOT: {}}
    for _ in range(rounds):
        for root in (baseline, ROOT):
            for key, ms in _engine_in(root, quick).items():
                eng[root][key] = min(ms, eng[root].get(key, math.inf))
    clis = cli_times(quick, [baseline, ROOT])
    print(f"  {'figure':<44} {'baseline':>10} {'this tree':>10} {'ratio':>7}")
    for key in eng[ROOT]:
        b, n = eng[baseline].get(key), eng[ROOT][key]
        if b:
            print(f"  {key:<44} {b:8.2f}ms {n:8.2f}ms {n / b:7.2f}")
    for key in clis[ROOT]:
        b, n = clis[baseline][key], clis[ROOT][key]
        unit = "" if "ratio" in key else "s"
        ratio = f"{n / b:7.2f}" if b > 0 and n > 0 else "      –"
        print(f"  {key:<44} {b:9.3f}{unit} {n:9.3f}{unit} {ratio}")


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
    ap.add_argument("--baseline", type=Path, help="another checkout to compare with, in the same run")
    ap.add_argument("--engine-json", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.engine_json:
        print(json.dumps(engine(args.quick, quiet=True)))
        return 0
    if args.baseline is not None:
        compare(args.baseline.resolve(), args.quick)
        return 0
    engine(args.quick)
    optional("tests.bench_day", "A day of traffic: 1,440-minute fluid runs (ms, medians)")
    cli(args.quick)
    if args.only_engine:
        return 0
    optional("tests.bench_export", "Exports")
    if not args.no_browser:
        optional("tests.bench_browser", "Browser: slider change → updated diagram")
    return 0


if __name__ == "__main__":
    sys.exit(main())
