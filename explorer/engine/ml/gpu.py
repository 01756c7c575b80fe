"""Model serving on GPUs: memory fit, dynamic batching and how many GPUs a load needs.

Three calculators over plain numbers:

* :func:`model_memory` — weights (parameters × bytes per parameter) plus
  activations of one batch against the usable memory of one GPU; how many
  model-parallel shards the model needs when it does not fit.
* :func:`dynamic_batching` — a server that closes a batch when it is full or
  when ``max_wait_ms`` has passed since the first request of the batch; the
  batch size, the batching delay, the throughput and the utilisation per GPU.
* :func:`gpus_needed` — GPU-seconds of work per second (per-item compute plus
  one launch per batch) divided by the target utilisation.

A GPU's throughput is a property of the GPU, not of the model instances on it:
``instances_per_gpu`` instances *share* the GPU, so each gets
``1 / instances_per_gpu`` of its per-item rate and the GPU count does not move.

Examples
--------
The sizing check: 10,000 requests/s × 500 items × 20 µs per item is 100
GPU-seconds of work per second, so about 167 GPUs at 60 % utilisation.

>>> g = gpus_needed(request_rate_per_s=10_000, items_per_request=500, per_item_ms=0.02,
...                 launch_ms=0.01, batch_items=512, target_utilization=0.6)
>>> round(g.work_gpu_s_per_s, 1), g.gpus
(100.1, 167)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from explorer.engine.ml._common import (
    choice,
    figure,
    fraction,
    inp,
    non_negative,
    positive,
    whole,
)
from explorer.engine.report import Figure

__all__ = [
    "PRECISION_BYTES",
    "USABLE_MEMORY_FRACTION",
    "TARGET_UTILIZATION",
    "GpuSpec",
    "A10G",
    "A100_40GB",
    "H100",
    "GPUS",
    "ModelMemory",
    "model_memory",
    "DynamicBatching",
    "dynamic_batching",
    "GpuCount",
    "gpus_needed",
]

PRECISION_BYTES: dict[str, int] = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}
"""Bytes per parameter by numeric format (IEEE 754 binary32/binary16, bfloat16, 8-bit integer)."""

USABLE_MEMORY_FRACTION = 0.9
"""Share of a GPU's memory a model may use. Assumption: the CUDA context, the framework's
workspace and allocator fragmentation take about a tenth; measure on the real server."""

TARGET_UTILIZATION = 0.6
"""Busy share a GPU pool is sized for. Assumption [A] of ml-systems-facts.md §4 ("Target utilization 60%"):
headroom for bursts and for queueing delay, which grows steeply as utilisation nears 1."""


@dataclass(frozen=True, slots=True)
class GpuSpec:
    """One GPU model: memory, dense tensor throughput and an on-demand price per GPU-hour."""

    name: str
    memory_gb: float
    dense_fp16_tflops: float
    """Dense (no structured sparsity) FP16/BF16 tensor-core TFLOP/s from the vendor sheet."""
    price_usd_per_hour: float
    """On-demand us-east-1 price of one GPU for one hour."""
    source: str


A10G = GpuSpec(
    name="NVIDIA A10G (g5.xlarge)", memory_gb=24.0, dense_fp16_tflops=70.0, price_usd_per_hour=1.006,
    source=("24 GB GDDR6 (AWS g5 page; Baseten 'NVIDIA A10 vs A10G for ML model inference'). Price: "
            "g5.xlarge $1.006/h (ml-systems-facts.md §4, factualminds 2026). TFLOP/s: assumption — NVIDIA "
            "publishes no A10G sheet; the A10's 125 dense FP16 TFLOP/s is an upper bound and the A10G is "
            "reported to favour CUDA-core over tensor throughput, so about 70 is used."))
"""AWS's A10G (one per g5.xlarge)."""

A100_40GB = GpuSpec(
    name="NVIDIA A100 40GB (p4d)", memory_gb=40.0, dense_fp16_tflops=312.0, price_usd_per_hour=4.10,
    source=("NVIDIA A100 datasheet: 40 GB HBM2, 312 dense FP16/BF16 tensor TFLOP/s (624 with sparsity). "
            "Price: p4d.24xlarge ≈ $32.77/h ÷ 8 GPUs ≈ $4.10/GPU-h before the June 2025 cut "
            "(ml-systems-facts.md §4)."))
"""The A100 40 GB of a p4d.24xlarge (8 per instance)."""

H100 = GpuSpec(
    name="NVIDIA H100 SXM (p5)", memory_gb=80.0, dense_fp16_tflops=989.0, price_usd_per_hour=3.90,
    source=("NVIDIA H100 datasheet (SXM): 80 GB HBM3, 989 dense FP16/BF16 tensor TFLOP/s (1,979 with "
            "sparsity). Price: p5.48xlarge ≈ $98.32/h ÷ 8 before the June 2025 cut of ~44–45 %, ≈ $3.90/GPU-h "
            "after it (ml-systems-facts.md §4: costnimbus, usage.ai)."))
"""The H100 SXM of a p5.48xlarge (8 per instance), at the price after the June 2025 cut."""

GPUS: dict[str, GpuSpec] = {"a10g": A10G, "a100_40gb": A100_40GB, "h100": H100}
"""The GPU catalog by key."""


# --------------------------------------------------------------------------- memory


@dataclass(frozen=True, slots=True)
class ModelMemory:
    """Memory of one model replica against one GPU."""

    weights_gb: float
    activations_gb: float
    total_gb: float
    usable_gb: float
    """GPU memory × usable fraction."""
    fits: bool
    """True when the whole model and one batch of activations fit on one GPU."""
    shards: int
    """Model-parallel shards (GPUs per replica): ⌈total ÷ usable⌉."""
    figures: dict[str, Figure]


def model_memory(parameters: float, precision: str, activation_mb_per_item: float, batch_items: int,
                 gpu_memory_gb: float, usable_fraction: float = USABLE_MEMORY_FRACTION,
                 device: str = "gpu") -> ModelMemory:
    """Weights and activations of one replica, and how many GPUs (or CPU nodes) it spans.

    Parameters
    ----------
    parameters : float
        Model parameters (> 0).
    precision : {"fp32", "fp16", "bf16", "int8"}
        Format of the weights (:data:`PRECISION_BYTES`).
    activation_mb_per_item : float
        Activation memory per item of a batch, MB (≥ 0).
    batch_items : int
        Items per batch (whole, ≥ 1).
    gpu_memory_gb : float
        Memory of one GPU, GB (> 0).
    usable_fraction : float, default :data:`USABLE_MEMORY_FRACTION`
        Share of that memory the model may use, in (0, 1].
    device : {"gpu", "cpu"}
        What serves the model: a GPU (``gpu_memory_gb`` is its memory) or a CPU node (``gpu_memory_gb`` is
        the node's RAM, e.g. a model family served on CPU); only the figures' wording changes.

    Returns
    -------
    ModelMemory
        ``weights_gb = parameters × bytes ÷ 1e9``; ``activations_gb = MB/item × batch ÷ 1,000``;
        ``shards = ⌈total ÷ (gpu memory × usable)⌉``. Activations are counted once per
        replica (split with the layers across shards), a simplification.

    Examples
    --------
    A 7B-parameter model in fp16 is 14 GB of weights: it fits an A100 40 GB but
    not an A10G's 24 GB once 8 GB of activations are added.

    >>> m = model_memory(7e9, "fp16", activation_mb_per_item=16, batch_items=512, gpu_memory_gb=24)
    >>> m.weights_gb, round(m.activations_gb, 3), m.fits, m.shards
    (14.0, 8.192, False, 2)
    >>> model_memory(7e9, "fp8", 1, 1, 24)
    Traceback (most recent call last):
    ...
    explorer.errors.ScenarioError: precision must be one of fp32, fp16, bf16, int8, got 'fp8'.
    """
    params = positive("parameters", parameters)
    precision = choice("precision", precision, tuple(PRECISION_BYTES))
    act_mb = non_negative("activation_mb_per_item", activation_mb_per_item)
    batch = whole("batch_items", batch_items)
    memory = positive("gpu_memory_gb", gpu_memory_gb)
    usable_share = fraction("usable_fraction", usable_fraction)
    device = choice("device", device, ("gpu", "cpu"))
    unit_name, holder = ("GPUs", "GPU") if device == "gpu" else ("nodes", "node")
    bytes_per_param = PRECISION_BYTES[precision]
    weights = params * bytes_per_param / 1e9
    activations = act_mb * batch / 1e3
    total = weights + activations
    usable = memory * usable_share
    shards = max(1, math.ceil(total / usable))
    fits = total <= usable
    figures = {
        "weights_gb": figure(
            key="weights_gb", label="Weights", value=weights, unit="GB",
            formula="weights = parameters × bytes/parameter ÷ 1e9",
            inputs=(inp("parameters", params), inp("bytes/parameter", bytes_per_param, f"B ({precision})"))),
        "activations_gb": figure(
            key="activations_gb", label="Activations", value=activations, unit="GB",
            formula="activations = MB/item × batch ÷ 1,000",
            inputs=(inp("MB/item", act_mb, "MB"), inp("batch", batch, "items"))),
        "total_gb": figure(
            key="total_gb", label="Model memory", value=total, unit="GB",
            formula="total = weights + activations",
            inputs=(inp("weights", weights, "GB"), inp("activations", activations, "GB"))),
        "shards": figure(
            key="shards", label=f"{unit_name[0].upper()}{unit_name[1:]} per replica", value=shards, unit=unit_name,
            formula=f"shards = ⌈total ÷ ({holder} memory × usable share)⌉",
            inputs=(inp("total", total, "GB"), inp(f"{holder} memory", memory, "GB"),
                    inp("usable share", usable_share)),
            note=(f"Usable share {usable_share:g} is an assumption "
                  + ("(CUDA context, workspace, fragmentation). " if device == "gpu"
                     else "(operating system, runtime, fragmentation). ")
                  + (f"Fits one {holder}." if fits
                     else f"Does not fit one {holder}: split across {unit_name} (model parallel)."))),
    }
    return ModelMemory(weights_gb=weights, activations_gb=activations, total_gb=total, usable_gb=usable,
                       fits=fits, shards=shards, figures=figures)


# --------------------------------------------------------------------------- dynamic batching


@dataclass(frozen=True, slots=True)
class DynamicBatching:
    """A batching server at a given load, per GPU."""

    items_per_s_per_gpu: float
    """Offered load: request rate × items per request ÷ GPUs."""
    window_ms: float
    """How long a batch stays open: until full or ``max_wait_ms`` after its first request."""
    requests_per_batch: float
    """Mean requests in one batch (below 1 when a request is split over several full batches)."""
    batch_items: float
    batch_service_ms: float
    """launch + per item × batch."""
    throughput_items_per_s_per_gpu: float
    """batch ÷ batch service: the GPU's capacity at this batch size."""
    throughput_items_per_s_per_instance: float
    """The GPU's throughput shared by the instances on it."""
    batching_delay_ms: float
    """Mean time a request waits for its batch to close (≤ ``max_wait_ms``)."""
    utilization: float
    """Offered load ÷ throughput, per GPU; 1 or more means saturated."""
    saturated: bool
    latency_ms: float
    """batching delay + batch service; queueing for a busy GPU is not included."""
    figures: dict[str, Figure]


def dynamic_batching(request_rate_per_s: float, items_per_request: float, max_batch_items: int,
                     max_wait_ms: float, launch_ms: float, per_item_ms: float, gpus: int,
                     instances_per_gpu: int = 1) -> DynamicBatching:
    """Batch size, batching delay, throughput and utilisation of a batching GPU server.

    Requests arrive at ``request_rate_per_s ÷ gpus`` per GPU, each carrying
    ``items_per_request`` items. A batch opens with the first request and closes
    when ``max_batch_items`` is reached or ``max_wait_ms`` has passed::

        λ_items = rate × items ÷ GPUs
        window  = min(max_wait, (max_batch − items) ÷ λ_items)     (0 when one request fills a batch)
        n       = 1 + (rate ÷ GPUs) × window                        requests per batch
        batch   = items × n                                         (≤ max_batch)
        service = launch + per_item × batch
        throughput = batch ÷ service                                 per GPU, shared by its instances
        delay   = window × (n + 1) ÷ (2n)    the opener waits the whole window, later requests half of it
        ρ       = λ_items ÷ throughput

    A request larger than ``max_batch_items`` is split into ⌈items ÷ max_batch⌉
    equal batches and waits for none. The batch counts the opener as well as the
    arrivals in the window (so at light load a batch is one request, at heavy load
    a full batch), and arrivals while the GPU is busy are not added to the batch:
    a slight under-estimate of the batch near saturation.

    Parameters
    ----------
    request_rate_per_s : float
        Requests per second over the whole pool (≥ 0).
    items_per_request : float
        Items (candidates, images…) per request (> 0).
    max_batch_items : int
        Largest batch, items (whole, ≥ 1).
    max_wait_ms : float
        Longest time a batch stays open, ms (≥ 0).
    launch_ms : float
        Fixed cost of one batch (kernel launches, transfers), ms (≥ 0).
    per_item_ms : float
        Compute per item, ms (> 0).
    gpus : int
        GPUs in the pool (whole, ≥ 1).
    instances_per_gpu : int, default 1
        Model instances per GPU (whole, ≥ 1). They share the GPU's throughput.

    Returns
    -------
    DynamicBatching

    Examples
    --------
    >>> b = dynamic_batching(request_rate_per_s=2000, items_per_request=100, max_batch_items=1000,
    ...                      max_wait_ms=5, launch_ms=1, per_item_ms=0.01, gpus=2)
    >>> b.window_ms, b.requests_per_batch, b.batch_items, b.batch_service_ms
    (5.0, 6.0, 600.0, 7.0)
    >>> round(b.throughput_items_per_s_per_gpu), round(b.utilization, 3), round(b.batching_delay_ms, 3)
    (85714, 1.167, 2.917)
    >>> b.saturated
    True
    >>> two = dynamic_batching(2000, 100, 1000, 5, 1, 0.01, gpus=2, instances_per_gpu=2)
    >>> two.utilization == b.utilization, two.throughput_items_per_s_per_instance * 2 == b.throughput_items_per_s_per_gpu
    (True, True)
    """
    rate = non_negative("request_rate_per_s", request_rate_per_s)
    items = positive("items_per_request", items_per_request)
    max_batch = whole("max_batch_items", max_batch_items)
    max_wait = non_negative("max_wait_ms", max_wait_ms)
    launch = non_negative("launch_ms", launch_ms)
    per_item = positive("per_item_ms", per_item_ms)
    gpus = whole("gpus", gpus)
    instances = whole("instances_per_gpu", instances_per_gpu)

    rate_per_gpu = rate / gpus
    load = rate_per_gpu * items
    if items >= max_batch:
        splits = math.ceil(items / max_batch)
        window = 0.0
        per_batch = 1.0 / splits
        batch = items / splits
        delay = 0.0
        how = f"a request of {items:g} items fills ⌈items ÷ max batch⌉ = {splits} batches on its own"
    else:
        window = max_wait if load <= 0 else min(max_wait, (max_batch - items) / load * 1e3)
        per_batch = 1.0 + rate_per_gpu * window / 1e3
        batch = min(float(max_batch), items * per_batch)
        delay = window * (per_batch + 1.0) / (2.0 * per_batch)
        how = ("the batch fills before max wait" if window < max_wait
               else "the batch closes at max wait")
    service = launch + per_item * batch
    throughput = batch / service * 1e3
    per_instance = throughput / instances
    utilization = load / throughput
    saturated = utilization >= 1.0
    latency = delay + service
    figures = {
        "items_per_s_per_gpu": figure(
            key="items_per_s_per_gpu", label="Items per GPU", value=load, unit="items/s",
            formula="λ_items = rate × items/request ÷ GPUs",
            inputs=(inp("rate", rate, "requests/s"), inp("items/request", items, "items"), inp("GPUs", gpus))),
        "batch_items": figure(
            key="batch_items", label="Batch size", value=batch, unit="items",
            formula="batch = min(max batch, items × (1 + rate/GPU × window)), window = min(max wait, (max batch − items) ÷ λ_items)",
            inputs=(inp("items/request", items, "items"), inp("rate/GPU", rate_per_gpu, "requests/s"),
                    inp("window", window, "ms"), inp("max batch", max_batch, "items"), inp("max wait", max_wait, "ms")),
            note=f"Here {how}."),
        "batch_service_ms": figure(
            key="batch_service_ms", label="Batch service", value=service, unit="ms",
            formula="service = launch + per item × batch",
            inputs=(inp("launch", launch, "ms"), inp("per item", per_item, "ms"), inp("batch", batch, "items"))),
        "throughput_items_per_s_per_gpu": figure(
            key="throughput_items_per_s_per_gpu", label="GPU throughput", value=throughput, unit="items/s",
            formula="throughput = batch ÷ service",
            inputs=(inp("batch", batch, "items"), inp("service", service, "ms"))),
        "throughput_items_per_s_per_instance": figure(
            key="throughput_items_per_s_per_instance", label="Throughput per instance", value=per_instance,
            unit="items/s", formula="per instance = GPU throughput ÷ instances per GPU",
            inputs=(inp("GPU throughput", throughput, "items/s"), inp("instances/GPU", instances)),
            note="Instances on one GPU share its compute: more instances add no capacity."),
        "batching_delay_ms": figure(
            key="batching_delay_ms", label="Batching delay", value=delay, unit="ms",
            formula="delay = window × (n + 1) ÷ (2n), n = 1 + rate/GPU × window",
            inputs=(inp("window", window, "ms"), inp("n", per_batch, "requests/batch")),
            note="Mean wait for the batch to close; the first request of a batch waits the whole window."),
        "utilization": figure(
            key="utilization", label="GPU utilisation", value=utilization, unit="",
            formula="ρ = λ_items ÷ throughput",
            inputs=(inp("λ_items", load, "items/s"), inp("throughput", throughput, "items/s")),
            note="Saturated (ρ ≥ 1): add GPUs or raise the batch size." if saturated else ""),
        "latency_ms": figure(
            key="latency_ms", label="Batch latency", value=latency, unit="ms",
            formula="latency = batching delay + batch service",
            inputs=(inp("batching delay", delay, "ms"), inp("service", service, "ms")),
            note="Queueing for a busy GPU is not included."),
    }
    return DynamicBatching(
        items_per_s_per_gpu=load, window_ms=window, requests_per_batch=per_batch, batch_items=batch,
        batch_service_ms=service, throughput_items_per_s_per_gpu=throughput,
        throughput_items_per_s_per_instance=per_instance, batching_delay_ms=delay, utilization=utilization,
        saturated=saturated, latency_ms=latency, figures=figures)


# --------------------------------------------------------------------------- sizing


@dataclass(frozen=True, slots=True)
class GpuCount:
    """GPUs a request load needs at a target utilisation."""

    batches_per_s: float
    work_gpu_s_per_s: float
    """GPU-seconds of compute per second of traffic (per-item work + launches)."""
    gpus: int
    utilization: float
    """Work ÷ GPUs: the busy share at the chosen count (≤ target)."""
    throughput_items_per_s_per_instance: float
    """What each model instance can process when ``instances_per_gpu`` share a GPU."""
    figures: dict[str, Figure]


def gpus_needed(request_rate_per_s: float, items_per_request: float, per_item_ms: float, launch_ms: float,
                batch_items: int, target_utilization: float = TARGET_UTILIZATION,
                instances_per_gpu: int = 1) -> GpuCount:
    """GPUs for a request load, with one launch per batch amortised over the batch.

    ::

        batches/s = rate ÷ ⌊batch ÷ items⌋            when a batch holds whole requests
                  = rate × ⌈items ÷ batch⌉            when a request spans batches
        work      = rate × items × per_item + batches/s × launch      GPU-s per s
        GPUs      = ⌈work ÷ target utilisation⌉

    Requests are not split across batches unless larger than one. The count
    does not depend on ``instances_per_gpu``: instances share the GPU.

    Parameters
    ----------
    request_rate_per_s : float
        Requests per second (≥ 0).
    items_per_request : float
        Items per request (> 0).
    per_item_ms : float
        GPU compute per item, ms (> 0).
    launch_ms : float
        Fixed cost per batch, ms (≥ 0).
    batch_items : int
        Items per batch (whole, ≥ 1).
    target_utilization : float, default :data:`TARGET_UTILIZATION`
        Busy share to size for, in (0, 1].
    instances_per_gpu : int, default 1
        Model instances per GPU (whole, ≥ 1).

    Returns
    -------
    GpuCount

    Examples
    --------
    >>> g = gpus_needed(10_000, 500, 0.02, 0.01, 512, 0.6, instances_per_gpu=2)
    >>> g.batches_per_s, g.gpus, round(g.throughput_items_per_s_per_instance)
    (10000.0, 167, 24975)
    >>> gpus_needed(0, 500, 0.02, 0.01, 512).gpus
    0
    """
    rate = non_negative("request_rate_per_s", request_rate_per_s)
    items = positive("items_per_request", items_per_request)
    per_item = positive("per_item_ms", per_item_ms)
    launch = non_negative("launch_ms", launch_ms)
    batch = whole("batch_items", batch_items)
    target = fraction("target_utilization", target_utilization)
    instances = whole("instances_per_gpu", instances_per_gpu)

    if items <= batch:
        requests_per_batch = math.floor(batch / items)
        batches = rate / requests_per_batch
        items_per_batch = requests_per_batch * items
        batches_rule = f"rate ÷ ⌊batch ÷ items⌋ = rate ÷ {requests_per_batch}"
    else:
        splits = math.ceil(items / batch)
        batches = rate * splits
        items_per_batch = items / splits
        batches_rule = f"rate × ⌈items ÷ batch⌉ = rate × {splits}"
    work = (rate * items * per_item + batches * launch) / 1e3
    gpus = math.ceil(work / target - 1e-9) if work > 0 else 0
    utilization = work / gpus if gpus else 0.0
    gpu_throughput = items_per_batch / (launch + per_item * items_per_batch) * 1e3
    per_instance = gpu_throughput / instances
    figures = {
        "batches_per_s": figure(
            key="batches_per_s", label="Batches per second", value=batches, unit="batches/s",
            formula=f"batches/s = {batches_rule}",
            inputs=(inp("rate", rate, "requests/s"), inp("items", items, "items/request"), inp("batch", batch, "items"))),
        "work_gpu_s_per_s": figure(
            key="work_gpu_s_per_s", label="GPU work", value=work, unit="GPU-s/s",
            formula="work = rate × items × per item + batches/s × launch",
            inputs=(inp("rate", rate, "requests/s"), inp("items", items, "items/request"),
                    inp("per item", per_item, "ms"), inp("batches/s", batches, "batches/s"), inp("launch", launch, "ms"))),
        "gpus": figure(
            key="gpus", label="GPUs needed", value=gpus, unit="GPUs",
            formula="GPUs = ⌈work ÷ target utilisation⌉",
            inputs=(inp("work", work, "GPU-s/s"), inp("target utilisation", target)),
            note=("Target 60 % is an assumption ([A], ml-systems-facts.md §4). Instances per GPU do not change "
                  "the count: they share the GPU's compute.")),
        "throughput_items_per_s_per_instance": figure(
            key="throughput_items_per_s_per_instance", label="Throughput per instance", value=per_instance,
            unit="items/s", formula="per instance = batch ÷ (launch + per item × batch) ÷ instances per GPU",
            inputs=(inp("batch", items_per_batch, "items"), inp("launch", launch, "ms"),
                    inp("per item", per_item, "ms"), inp("instances/GPU", instances))),
    }
    return GpuCount(batches_per_s=batches, work_gpu_s_per_s=work, gpus=gpus, utilization=utilization,
                    throughput_items_per_s_per_instance=per_instance, figures=figures)
