"""Every ML calculator: traced figures, finite results, invalid input → ScenarioError, engine floor only."""

from __future__ import annotations

import ast
import dataclasses
import math
from pathlib import Path

import pytest

from explorer.engine import ml
from explorer.engine.ml import ann, batch_online, features, gpu, logs, traffic, training
from explorer.engine.report import Figure
from explorer.errors import ScenarioError

ML_DIR = Path(ml.__file__).parent

# One representative call per calculator (the results whose figures and fields are checked).
CALLS = {
    "traffic_from_users": lambda: traffic.traffic_from_users(2e9, 2, 3),
    "model_memory": lambda: gpu.model_memory(7e9, "fp16", 16, 512, 24),
    "dynamic_batching": lambda: gpu.dynamic_batching(2000, 100, 1000, 5, 1, 0.01, 2),
    "dynamic_batching_split": lambda: gpu.dynamic_batching(100, 5000, 1000, 5, 1, 0.01, 1),
    "gpus_needed": lambda: gpu.gpus_needed(10_000, 500, 0.02, 0.01, 512, 0.6),
    "index_memory_flat": lambda: ann.index_memory(1e9, 128, "flat"),
    "index_memory_ivf_pq": lambda: ann.index_memory(1e9, 128, "ivf_pq", nlist=65536),
    "index_memory_hnsw": lambda: ann.index_memory(1e6, 128, "hnsw"),
    "shards_for": lambda: ann.shards_for(512, 256),
    "query_cost_flat": lambda: ann.query_cost(1e6, 128, "flat"),
    "query_cost_ivf_pq": lambda: ann.query_cost(1e9, 96, "ivf_pq", shards=4),
    "query_cost_hnsw": lambda: ann.query_cost(1e8, 128, "hnsw", shards=8),
    "brute_force_scan": lambda: ann.brute_force_scan(1e9, 128),
    "dataset_size": lambda: training.dataset_size(4e9, 500, 30),
    "training_run_flops": lambda: training.training_run(1e9, 2, flops_per_example=6e9, gpus=8),
    "training_run_ms": lambda: training.training_run(1e9, 2, per_example_ms=0.01, gpus=8),
    "retraining": lambda: training.retraining(24, 3, 1, 120, label_delay_hours=2),
    "precompute": lambda: batch_online.precompute(300e6, 100, 2, 200, 8, 16, 24, feature_delay_hours=1,
                                                  active_share=0.3, traffic_share_in_set=0.95),
    "ranker_feature_payload": lambda: features.ranker_feature_payload(500, 200, 4, 10_000, 10),
    "streaming_freshness": lambda: features.streaming_freshness(60, 5),
    "event_logging": lambda: logs.event_logging(4e9, 200, 90),
    "label_delay": lambda: logs.label_delay(0.5, 1, 0.25, 4.8e9, 200),
    "drift_monitoring": lambda: logs.drift_monitoring(1000, 24, 3, 500),
}


def _numbers(value):
    """Every float/int inside a result field (recursing into tuples and dataclasses)."""
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, tuple | list):
        for v in value:
            yield from _numbers(v)
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from _numbers(getattr(value, f.name))


@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_figure_has_a_formula_and_inputs_with_finite_values(name):
    result = CALLS[name]()
    assert dataclasses.is_dataclass(result) and result.__dataclass_params__.frozen
    assert result.figures, f"{name} reports no figures"
    for key, fig in result.figures.items():
        assert isinstance(fig, Figure)
        assert fig.key == key
        assert fig.formula.strip() and fig.label.strip()
        assert fig.inputs, f"{name}.{key} has no inputs"
        for i in fig.inputs:
            assert i.name.strip()
            for x in _numbers(i.value):
                assert math.isfinite(x), f"{name}.{key} input {i.name} = {x}"
        for x in _numbers(fig.value):
            assert math.isfinite(x), f"{name}.{key} = {x}"
        assert fig.explain().startswith(fig.label)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_result_field_is_finite(name):
    result = CALLS[name]()
    for f in dataclasses.fields(result):
        if f.name == "figures":
            continue
        for x in _numbers(getattr(result, f.name)):
            assert math.isfinite(x), f"{name}.{f.name} = {x}"


def test_results_are_frozen():
    result = CALLS["gpus_needed"]()
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.gpus = 1  # type: ignore[misc]


INVALID = [
    (traffic.traffic_from_users, dict(dau=-1, requests_per_user_per_day=2), "dau"),
    (traffic.traffic_from_users, dict(dau=1e6, requests_per_user_per_day=float("nan")), "requests_per_user_per_day"),
    (traffic.traffic_from_users, dict(dau=1e6, requests_per_user_per_day=2, peak_to_average=0.9), "peak_to_average"),
    (gpu.model_memory, dict(parameters=0, precision="fp16", activation_mb_per_item=1, batch_items=1, gpu_memory_gb=24),
     "parameters"),
    (gpu.model_memory, dict(parameters=1e9, precision="fp4", activation_mb_per_item=1, batch_items=1, gpu_memory_gb=24),
     "precision"),
    (gpu.model_memory, dict(parameters=1e9, precision="fp16", activation_mb_per_item=1, batch_items=1.5,
                            gpu_memory_gb=24), "batch_items"),
    (gpu.model_memory, dict(parameters=1e9, precision="fp16", activation_mb_per_item=1, batch_items=1,
                            gpu_memory_gb=24, usable_fraction=0), "usable_fraction"),
    (gpu.dynamic_batching, dict(request_rate_per_s=10, items_per_request=1, max_batch_items=8, max_wait_ms=-1,
                                launch_ms=1, per_item_ms=1, gpus=1), "max_wait_ms"),
    (gpu.dynamic_batching, dict(request_rate_per_s=10, items_per_request=1, max_batch_items=8, max_wait_ms=1,
                                launch_ms=1, per_item_ms=1, gpus=0), "gpus"),
    (gpu.dynamic_batching, dict(request_rate_per_s=10, items_per_request=1, max_batch_items=8, max_wait_ms=1,
                                launch_ms=1, per_item_ms=0, gpus=1), "per_item_ms"),
    (gpu.gpus_needed, dict(request_rate_per_s=10, items_per_request=1, per_item_ms=1, launch_ms=0, batch_items=8,
                           target_utilization=1.2), "target_utilization"),
    (gpu.gpus_needed, dict(request_rate_per_s=10, items_per_request=1, per_item_ms=1, launch_ms=0, batch_items=8,
                           instances_per_gpu=0), "instances_per_gpu"),
    (ann.index_memory, dict(num_vectors=-5, dim=128, index_type="flat"), "num_vectors"),
    (ann.index_memory, dict(num_vectors=1e6, dim=0, index_type="flat"), "dim"),
    (ann.index_memory, dict(num_vectors=1e6, dim=128, index_type="annoy"), "index_type"),
    (ann.index_memory, dict(num_vectors=1e6, dim=128, index_type="ivf_pq", nlist=0), "nlist"),
    (ann.shards_for, dict(index_gb=10, node_memory_gb=0), "node_memory_gb"),
    (ann.query_cost, dict(num_vectors=1e6, dim=128, index_type="hnsw", ef_search=0), "ef_search"),
    (ann.query_cost, dict(num_vectors=1e6, dim=128, index_type="flat", k=0), "k"),
    (ann.query_cost, dict(num_vectors=1e6, dim=128, index_type="ivf_pq", shards=0), "shards"),
    (ann.brute_force_scan, dict(num_vectors=1e6, dim=128, memory_bandwidth_gb_s=0), "memory_bandwidth_gb_s"),
    (training.dataset_size, dict(events_per_day=1e6, bytes_per_event=-1, retention_days=30), "bytes_per_event"),
    (training.training_run, dict(examples=1e6, epochs=1, flops_per_example=1e6, per_example_ms=1), "exactly one"),
    (training.training_run, dict(examples=1e6, epochs=0, per_example_ms=1), "epochs"),
    (training.training_run, dict(examples=1e6, epochs=1, flops_per_example=1e6, mfu=0), "mfu"),
    (training.retraining, dict(cadence_hours=0, run_hours=1, deploy_hours=1, cost_per_run_usd=1), "cadence_hours"),
    (batch_online.precompute, dict(users=1e6, predictions_per_user=10, per_prediction_ms=1, workers=1,
                                   concurrency_per_worker=1, bytes_per_prediction=8, refresh_hours=-2), "refresh_hours"),
    (batch_online.precompute, dict(users=1e6, predictions_per_user=10, per_prediction_ms=1, workers=1,
                                   concurrency_per_worker=1, bytes_per_prediction=8, refresh_hours=2,
                                   traffic_share_in_set=1.5), "traffic_share_in_set"),
    (batch_online.precompute, dict(users=1e6, predictions_per_user=10, per_prediction_ms=1, workers=1,
                                   concurrency_per_worker=1, bytes_per_prediction=8, refresh_hours=2,
                                   active_share=0), "active_share"),
    (batch_online.cost_vs_staleness, dict(users=1e6, predictions_per_user=10, per_prediction_ms=1, workers=1,
                                          concurrency_per_worker=1, bytes_per_prediction=8,
                                          refresh_hours_values=()), "refresh_hours_values"),
    (features.ranker_feature_payload, dict(candidates=500, features_per_candidate=10, bandwidth_gbit_s=0),
     "bandwidth_gbit_s"),
    (features.streaming_freshness, dict(window_s=-1, pipeline_lag_s=0), "window_s"),
    (logs.event_logging, dict(events_per_day=1e6, bytes_per_event=100, retention_days=float("inf")), "retention_days"),
    (logs.label_delay, dict(label_window_hours=-0.5), "label_window_hours"),
    (logs.drift_monitoring, dict(features=10, windows_per_day=24, checks_per_window=1, cost_ms_per_check=0),
     "cost_ms_per_check"),
    (logs.drift_monitoring, dict(features="many", windows_per_day=24, checks_per_window=1, cost_ms_per_check=1),
     "features"),
]


@pytest.mark.parametrize(("func", "kwargs", "named"), INVALID, ids=[f"{f.__name__}-{n}" for f, _, n in INVALID])
def test_invalid_input_raises_a_scenario_error_naming_the_argument(func, kwargs, named):
    with pytest.raises(ScenarioError) as err:
        func(**kwargs)
    message = str(err.value)
    assert named in message
    assert message.endswith(".")


def test_overflow_is_an_error_not_infinity():
    with pytest.raises(ScenarioError, match="not finite"):
        training.dataset_size(1e300, 1e300, 1e300)


def test_the_package_stays_on_the_engine_floor():
    """ml/ imports only the standard library, its own modules, explorer.errors/units and engine.report."""
    allowed = ("explorer.engine.ml", "explorer.engine.report", "explorer.errors", "explorer.units")
    for path in sorted(ML_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("explorer"):
                assert node.module.startswith(allowed), f"{path.name} imports {node.module}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("explorer") or alias.name.startswith(allowed), path.name
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
                assert not inner, f"{path.name}:{node.lineno} imports inside {node.name}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"eval", "exec"}, path.name


def test_every_default_constant_has_a_docstring():
    for path in sorted(ML_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        body = tree.body
        for i, node in enumerate(body):
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                public = [n for n in names if n.isupper() and not n.startswith("_") and n != "__all__"]
                if not public:
                    continue
                nxt = body[i + 1] if i + 1 < len(body) else None
                assert isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant) and \
                    isinstance(nxt.value.value, str) and nxt.value.value.strip(), f"{path.name}: {public} has no docstring"
