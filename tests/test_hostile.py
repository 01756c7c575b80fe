"""Hostile numbers that pass validation must still be analysed in bounded time ("Hostile files").

Each case runs in a subprocess with a timeout, so a search that never ends fails the test instead of
hanging the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.engine import queueing

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 60

PATTERN = """
id: hostile
title: Hostile numbers
parameters:
  - {{name: peak_qps, label: QPS, default: 100, min: 1, max: 1000, source: "assumption: test"}}
request: {{entry: api, peak_qps: peak_qps, latency_target_ms: 200}}
components:
  - {{id: api, type: api_service, replicas: 2}}
  - id: ranker
    type: cpu_model_server
    replicas: {replicas}
    overrides: {{per_item_ms: {{value: {per_item_ms}, source: "assumption: test"}}}}
connections:
  - {{from: api, to: ranker, calls: {calls}, items: {items}}}
"""

SCRIPT = """
import json, sys
from explorer.engine.analysis import analyse
from explorer.model.loader import load_pattern_text
rp = load_pattern_text(sys.stdin.read(), "hostile.yaml", check_bounds=False)  # the engine must cope on its own
out = {}
for mode in ("provisioned", "autosize"):
    c = analyse(rp, mode=mode).components["ranker"]
    out[mode] = {"status": str(c.status), "reason": c.sizing_reason}
print(json.dumps(out))
"""

CASES = {
    "items 10**64": dict(replicas=2, per_item_ms=0.01, calls=1, items='"10**64"'),
    "calls 1e30": dict(replicas=2, per_item_ms=0.01, calls="1e30", items=1),
    "per_item_ms 1e300": dict(replicas=2, per_item_ms="1e300", calls=1, items=1),
    "replicas 10**12": dict(replicas='"10**12"', per_item_ms=0.01, calls=1, items=1),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_numbers_end_in_bounded_time(case):
    text = PATTERN.format(**CASES[case])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run([sys.executable, "-c", SCRIPT], input=text, capture_output=True, text=True,
                              timeout=TIMEOUT_S, cwd=ROOT, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{case}: the analysis did not finish within {TIMEOUT_S} s")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    if case != "replicas 10**12":
        # provisioned: the pattern's replicas drown; auto-size runs the lower bound the load needs (stable, but
        # no count is known to meet every target) unless the load is not even a finite number
        for mode, status in (("provisioned", {"saturated"}), ("autosize", {"infeasible", "saturated"})):
            assert out[mode]["status"] in status, out
            assert "no number of servers" in out[mode]["reason"] or "more than" in out[mode]["reason"], out


def test_size_servers_says_plainly_when_the_load_exceeds_the_cap():
    sized = queueing.size_servers(1e30, 10.0, target_utilization=0.6)
    assert sized.infeasible and sized.min_servers is None
    assert "more than max_servers = 1000000 servers" in sized.reason
    sized = queueing.size_servers(1e300, 1e300, target_utilization=0.6, p99_target_ms=1e305)
    assert sized.infeasible
