"""GPU serving: closed forms (the 167-GPU check, memory fit) and properties (monotone, instances share a GPU)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.engine.ml import gpu

RATE = st.floats(min_value=0.0, max_value=1e6, allow_nan=False)
ITEMS = st.floats(min_value=1.0, max_value=10_000.0, allow_nan=False)
PER_ITEM_MS = st.floats(min_value=1e-4, max_value=10.0, allow_nan=False)
LAUNCH_MS = st.floats(min_value=0.0, max_value=50.0, allow_nan=False)
BATCH = st.integers(min_value=1, max_value=8192)
TARGET = st.floats(min_value=0.05, max_value=1.0, allow_nan=False)
GPUS = st.integers(min_value=1, max_value=4096)
WAIT = st.floats(min_value=0.0, max_value=100.0, allow_nan=False)


# --------------------------------------------------------------------------- closed forms


def test_the_sizing_check_10k_requests_500_items_20us_needs_about_167_gpus():
    g = gpu.gpus_needed(request_rate_per_s=10_000, items_per_request=500, per_item_ms=0.02, launch_ms=0.01,
                        batch_items=512, target_utilization=0.6)
    assert g.batches_per_s == pytest.approx(10_000)
    assert g.work_gpu_s_per_s == pytest.approx(100.0 + 10_000 * 0.01 / 1e3)
    assert abs(g.gpus - 167) <= 2
    assert g.utilization <= 0.6


def test_without_launch_cost_the_count_is_work_over_target():
    g = gpu.gpus_needed(10_000, 500, 0.02, 0.0, 512, 0.6)
    assert g.work_gpu_s_per_s == pytest.approx(100.0)
    assert g.gpus == math.ceil(100.0 / 0.6) == 167


def test_launch_is_amortised_over_requests_sharing_a_batch():
    # 50 items per request, batches of 500 → 10 requests per batch → rate / 10 batches/s.
    g = gpu.gpus_needed(1000, 50, 0.01, 2.0, 500, 1.0)
    assert g.batches_per_s == pytest.approx(100.0)
    assert g.work_gpu_s_per_s == pytest.approx((1000 * 50 * 0.01 + 100 * 2.0) / 1e3)


def test_a_request_larger_than_a_batch_pays_one_launch_per_batch():
    g = gpu.gpus_needed(10, 1000, 0.01, 1.0, 256, 1.0)
    assert g.batches_per_s == pytest.approx(10 * 4)


def test_more_instances_on_a_gpu_add_no_capacity():
    """The defect: two instances on one GPU must not each get the whole GPU's per-item rate."""
    one = gpu.gpus_needed(10_000, 500, 0.02, 0.01, 512, 0.6, instances_per_gpu=1)
    two = gpu.gpus_needed(10_000, 500, 0.02, 0.01, 512, 0.6, instances_per_gpu=2)
    assert two.gpus == one.gpus
    assert two.throughput_items_per_s_per_instance == pytest.approx(one.throughput_items_per_s_per_instance / 2)
    b1 = gpu.dynamic_batching(2000, 100, 1000, 5, 1, 0.01, gpus=2, instances_per_gpu=1)
    b4 = gpu.dynamic_batching(2000, 100, 1000, 5, 1, 0.01, gpus=2, instances_per_gpu=4)
    assert b4.utilization == b1.utilization
    assert b4.throughput_items_per_s_per_instance * 4 == pytest.approx(b1.throughput_items_per_s_per_gpu)


def test_model_memory_closed_form():
    m = gpu.model_memory(parameters=7e9, precision="fp16", activation_mb_per_item=16, batch_items=512,
                         gpu_memory_gb=24, usable_fraction=0.9)
    assert m.weights_gb == pytest.approx(14.0)
    assert m.activations_gb == pytest.approx(8.192)
    assert m.total_gb == pytest.approx(22.192)
    assert m.usable_gb == pytest.approx(21.6)
    assert not m.fits and m.shards == 2
    assert gpu.model_memory(7e9, "int8", 0, 1, 24).weights_gb == pytest.approx(7.0)
    assert gpu.model_memory(7e9, "fp32", 0, 1, 40, 1.0).shards == 1  # 28 GB on 40 GB
    assert gpu.model_memory(70e9, "bf16", 0, 1, 80, 0.9).shards == 2  # 140 GB on 72 GB usable


def test_batching_at_light_load_waits_the_whole_window_and_batches_one_request():
    b = gpu.dynamic_batching(request_rate_per_s=1e-3, items_per_request=10, max_batch_items=1000, max_wait_ms=5,
                             launch_ms=1, per_item_ms=0.1, gpus=1)
    assert b.window_ms == 5.0
    assert b.batch_items == pytest.approx(10.0, rel=1e-5)
    assert b.batching_delay_ms == pytest.approx(5.0, rel=1e-5)
    assert b.batch_service_ms == pytest.approx(2.0, rel=1e-5)
    assert not b.saturated


def test_batching_at_heavy_load_fills_the_batch_before_max_wait():
    # 1e6 items/s per GPU, 900 more items fill in 0.9 ms < 5 ms.
    b = gpu.dynamic_batching(10_000, 100, 1000, 5, 1, 0.001, gpus=1)
    assert b.window_ms == pytest.approx(0.9)
    assert b.requests_per_batch == pytest.approx(10.0)
    assert b.batch_items == pytest.approx(1000.0)
    assert b.batching_delay_ms == pytest.approx(0.9 * 11 / 20)
    assert b.throughput_items_per_s_per_gpu == pytest.approx(1000 / 2.0 * 1e3)
    assert b.utilization == pytest.approx(2.0) and b.saturated


def test_a_request_larger_than_the_batch_is_split_and_waits_for_nothing():
    b = gpu.dynamic_batching(10, 2500, 1000, 5, 1, 0.01, gpus=1)
    assert b.window_ms == 0 and b.batching_delay_ms == 0
    assert b.batch_items == pytest.approx(2500 / 3)


def test_gpu_catalog_prices_and_memory():
    assert gpu.GPUS["a10g"].price_usd_per_hour == 1.006 and gpu.GPUS["a10g"].memory_gb == 24
    assert gpu.GPUS["a100_40gb"].price_usd_per_hour == pytest.approx(32.77 / 8, abs=0.01)
    assert gpu.GPUS["a100_40gb"].dense_fp16_tflops == 312
    assert gpu.GPUS["h100"].price_usd_per_hour == pytest.approx(3.90)
    assert gpu.GPUS["h100"].dense_fp16_tflops == 989
    assert all(spec.source for spec in gpu.GPUS.values())


# --------------------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(rate=RATE, items=ITEMS, more=st.floats(min_value=0.0, max_value=10_000.0), per_item=PER_ITEM_MS,
       launch=LAUNCH_MS, batch=BATCH, target=TARGET)
def test_more_items_per_request_never_needs_fewer_gpus(rate, items, more, per_item, launch, batch, target):
    a = gpu.gpus_needed(rate, items, per_item, launch, batch, target)
    b = gpu.gpus_needed(rate, items + more, per_item, launch, batch, target)
    assert b.work_gpu_s_per_s >= a.work_gpu_s_per_s * (1 - 1e-12)
    assert b.gpus >= a.gpus
    assert math.isfinite(b.utilization) and b.utilization <= target + 1e-9


@settings(max_examples=200, deadline=None)
@given(rate=RATE, factor=st.floats(min_value=1.0, max_value=100.0), items=ITEMS, per_item=PER_ITEM_MS,
       launch=LAUNCH_MS, batch=BATCH, target=TARGET, instances=st.integers(1, 16))
def test_more_traffic_never_needs_fewer_gpus_and_instances_never_change_the_count(
        rate, factor, items, per_item, launch, batch, target, instances):
    a = gpu.gpus_needed(rate, items, per_item, launch, batch, target)
    b = gpu.gpus_needed(rate * factor, items, per_item, launch, batch, target)
    assert b.gpus >= a.gpus
    assert gpu.gpus_needed(rate, items, per_item, launch, batch, target, instances).gpus == a.gpus


@settings(max_examples=300, deadline=None)
@given(rate=RATE, items=ITEMS, max_batch=BATCH, wait=WAIT, launch=LAUNCH_MS, per_item=PER_ITEM_MS, gpus=GPUS)
def test_batching_stays_within_its_limits(rate, items, max_batch, wait, launch, per_item, gpus):
    b = gpu.dynamic_batching(rate, items, max_batch, wait, launch, per_item, gpus)
    for value in (b.window_ms, b.batch_items, b.batch_service_ms, b.throughput_items_per_s_per_gpu,
                  b.batching_delay_ms, b.utilization, b.latency_ms):
        assert math.isfinite(value) and value >= 0
    assert b.batch_items <= max(max_batch, items) * (1 + 1e-12)
    assert b.batching_delay_ms <= wait * (1 + 1e-12)
    assert b.window_ms <= wait * (1 + 1e-12)
    assert b.saturated == (b.utilization >= 1)


@settings(max_examples=300, deadline=None)
@given(rate=RATE, items=ITEMS, max_batch=BATCH, wait=WAIT, launch=LAUNCH_MS, per_item=PER_ITEM_MS, gpus=GPUS)
def test_more_gpus_never_raise_utilisation(rate, items, max_batch, wait, launch, per_item, gpus):
    a = gpu.dynamic_batching(rate, items, max_batch, wait, launch, per_item, gpus)
    b = gpu.dynamic_batching(rate, items, max_batch, wait, launch, per_item, gpus * 2)
    assert b.utilization <= a.utilization * (1 + 1e-9)


@settings(max_examples=200, deadline=None)
@given(params=st.floats(min_value=1e3, max_value=1e12), more=st.floats(min_value=0, max_value=1e12),
       precision=st.sampled_from(sorted(gpu.PRECISION_BYTES)), act=st.floats(min_value=0, max_value=100),
       batch=BATCH, memory=st.sampled_from([16.0, 24.0, 40.0, 80.0]))
def test_a_bigger_model_never_needs_fewer_gpus(params, more, precision, act, batch, memory):
    a = gpu.model_memory(params, precision, act, batch, memory)
    b = gpu.model_memory(params + more, precision, act, batch, memory)
    assert b.total_gb >= a.total_gb and b.shards >= a.shards
    assert a.fits == (a.shards == 1 and a.total_gb <= a.usable_gb)


def test_a_model_served_on_cpu_speaks_of_nodes_not_gpus():
    """A CPU family's model memory is counted against the node's RAM and worded so."""
    from explorer.engine.ml.gpu import model_memory

    cpu = model_memory(1e9, "fp32", 0, 1, 16, device="cpu")
    gpu = model_memory(1e9, "fp32", 0, 1, 16)
    assert cpu.shards == gpu.shards == 1
    assert cpu.figures["shards"].label == "Nodes per replica" and cpu.figures["shards"].unit == "nodes"
    assert "node memory" in [i.name for i in cpu.figures["shards"].inputs]
    assert gpu.figures["shards"].label == "GPUs per replica"
