"""``make bench`` section: a 24-hour fluid run (1,440 minutes) of every built-in pattern.

Medians of :func:`explorer.engine.day.simulate` (autoscaled; provisioned; autoscaled with a ×5 spike for 10
minutes), with the static analysis of the same pattern measured in the same run as the baseline, and the
``simulate --json`` serialisation. The issue's budget: ≤ 200 ms for the largest pattern.
"""

from __future__ import annotations

import statistics
import time

from explorer.engine.analysis import analyse
from explorer.engine.day import day_options, simulate
from explorer.model.day import Spike
from explorer.model.loader import builtin_paths, load_pattern

BUDGET_MS = 200.0


def median_ms(fn, repeat: int, clock=time.perf_counter) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = clock()
        fn()
        times.append((clock() - t0) * 1000)
    return statistics.median(times)


def cpu_ms(fn, repeat: int) -> float:
    """Median process CPU time: what the run costs this process, less sensitive than wall time to other work on a
    shared machine."""
    return median_ms(fn, repeat, time.process_time)


def run(repeat: int = 9) -> dict[str, float]:
    out: dict[str, float] = {}
    print("  wall-clock medians in ms; 'day cpu' and 'analyse cpu' are process CPU time")
    print(f"  {'pattern':<28} {'comps':>5} {'analyse':>8} {'day':>8} {'prov.':>8} {'spike':>8} {'json':>8} "
          f"{'day cpu':>8} {'an. cpu':>8}  day÷analyse (cpu)")
    worst = ("", 0.0)
    for path in builtin_paths():
        rp = load_pattern(path)
        base = median_ms(lambda rp=rp: analyse(rp), repeat)
        auto = median_ms(lambda rp=rp: simulate(rp), repeat)
        prov = median_ms(lambda rp=rp: simulate(rp, options=day_options(rp, mode="provisioned")), repeat)
        spiked = day_options(rp, spikes=[Spike(factor=5, minutes=10)])
        spike = median_ms(lambda rp=rp, o=spiked: simulate(rp, options=o), repeat)
        day = simulate(rp)
        js = median_ms(lambda d=day: d.to_json(), max(3, repeat // 2))
        day_cpu = cpu_ms(lambda rp=rp, o=spiked: simulate(rp, options=o), repeat)
        base_cpu = cpu_ms(lambda rp=rp: analyse(rp), repeat)
        out[f"day {rp.id}"] = auto
        out[f"day spike {rp.id}"] = spike
        out[f"day spike cpu {rp.id}"] = day_cpu
        worst = max(worst, (rp.id, day_cpu), key=lambda x: x[1])
        print(f"  {rp.id:<28} {len(rp.pattern.components):>5} {base:8.1f} {auto:8.1f} {prov:8.1f} {spike:8.1f} "
              f"{js:8.1f} {day_cpu:8.1f} {base_cpu:8.1f}  ×{day_cpu / base_cpu:.1f}")
    print(f"  slowest day (with the spike, CPU): {worst[0]} {worst[1]:.1f} ms (budget {BUDGET_MS:.0f} ms: "
          f"{'within' if worst[1] <= BUDGET_MS else 'OVER'})")
    return out


if __name__ == "__main__":
    run()
