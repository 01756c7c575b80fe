"""Generated patterns of any size, for benchmarks and scaling tests (not files: built in memory)."""

from __future__ import annotations

import random

from explorer.model.loader import ResolvedPattern, resolve
from explorer.model.yamlio import Located

SYNC_TYPES = ["api_service", "feature_store_online", "cpu_model_server", "rerank_service", "kv_store"]


def generated_pattern(n: int, seed: int = 7) -> ResolvedPattern:
    """A pattern of ``n`` components: about a third on a synchronous request tree
    (parallel steps and fan-out), the rest async and batch chains with feedback loops."""
    data = generated_data(n, seed)
    return resolve(Located(data, f"generated_{n}.yaml", {}), max_components=n + 1)


def generated_data(n: int, seed: int = 7) -> dict:
    """The plain data of :func:`generated_pattern` (write it as YAML to make a pattern file)."""
    rng = random.Random(seed)
    n_sync = max(2, n // 3)
    comps = [{"id": "c0", "type": "api_service", "replicas": 50}]
    conns = []
    for i in range(1, n_sync):
        parent = rng.randrange(max(0, i - 8), i)
        comps.append({"id": f"c{i}", "type": rng.choice(SYNC_TYPES), "replicas": 50})
        conns.append({"from": f"c{parent}", "to": f"c{i}", "step": rng.randrange(3),
                      "calls": rng.choice([1, 1, 1, 0.5]), "items": rng.choice([1, 10, 100])})
    for i in range(n_sync, n):
        kind = rng.choice(["async", "batch"])
        comps.append({"id": f"c{i}", "type": "event_stream" if kind == "async" else "batch_compute",
                      "replicas": 4})
        src = rng.randrange(0, i)
        conns.append({"from": f"c{src}", "to": f"c{i}", "kind": kind})
        if rng.random() < 0.05:  # a feedback loop back into serving
            conns.append({"from": f"c{i}", "to": f"c{rng.randrange(0, n_sync)}", "kind": "batch"})
    data = {
        "id": f"generated_{n}",
        "title": f"Generated pattern with {n} components",
        "parameters": [{"name": "peak_qps", "label": "QPS", "default": 1000, "min": 1, "max": 1e6,
                        "scale": "log", "source": "assumption: benchmark"}],
        "request": {"entry": "c0", "peak_qps": "peak_qps", "latency_target_ms": 10000},
        "components": comps,
        "connections": conns,
        "batch_jobs": [{"id": "nightly", "entry": f"c{n - 1}" if n > n_sync else "c0", "items": 1e6}],
    }
    return data


def chain_data(n: int) -> dict:
    """A pattern of ``n`` components called one after another on the request path (c0 → c1 → … → c(n-1))."""
    comps = [{"id": f"c{i}", "type": "api_service", "replicas": 50} for i in range(n)]
    conns = [{"from": f"c{i - 1}", "to": f"c{i}"} for i in range(1, n)]
    return {
        "id": f"chain_{n}",
        "title": f"Chain of {n} components",
        "parameters": [{"name": "peak_qps", "label": "QPS", "default": 1000, "min": 1, "max": 1e6,
                        "scale": "log", "source": "assumption: benchmark"}],
        "request": {"entry": "c0", "peak_qps": "peak_qps", "latency_target_ms": 100000},
        "components": comps,
        "connections": conns,
    }
