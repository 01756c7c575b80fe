"""Training data and retraining: dataset size, one training run, and the cadence's cost and model age.

Examples
--------
A daily retrain that runs 3 h and deploys in 1 h serves a model that is on
average 16 h old (half a day since the last snapshot, plus run and deploy) and
at most 28 h old.

>>> r = retraining(cadence_hours=24, run_hours=3, deploy_hours=1, cost_per_run_usd=120)
>>> r.runs_per_month, r.cost_usd_month, r.model_age_mean_hours, r.model_age_max_hours
(30.416666666666668, 3650.0, 16.0, 28.0)
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.engine.ml._common import HOURS_PER_MONTH, figure, fraction, inp, non_negative, positive
from explorer.engine.ml.gpu import A100_40GB
from explorer.engine.report import Figure
from explorer.errors import ScenarioError

__all__ = [
    "MFU",
    "GPU_FLOPS",
    "GPU_PRICE_PER_HOUR",
    "DatasetSize",
    "dataset_size",
    "TrainingRun",
    "training_run",
    "Retraining",
    "retraining",
]

MFU = 0.4
"""Model FLOPs utilisation: achieved ÷ peak FLOP/s. Assumption: below the 46.2 % reported for PaLM 540B
(Chowdhery et al. 2022, a well-tuned large run); small ranking models often reach less — measure."""

GPU_FLOPS = A100_40GB.dense_fp16_tflops * 1e12
"""Peak FLOP/s of the default training GPU: A100 40 GB, 312 dense BF16 TFLOP/s (NVIDIA datasheet)."""

GPU_PRICE_PER_HOUR = A100_40GB.price_usd_per_hour
"""Default training GPU-hour: A100 on p4d, ≈ $4.10 (ml-systems-facts.md §4)."""


@dataclass(frozen=True, slots=True)
class DatasetSize:
    """Training data kept over a retention window."""

    gb_per_day: float
    total_gb: float
    examples: float
    """Events in the window (one training example per event)."""
    figures: dict[str, Figure]


def dataset_size(events_per_day: float, bytes_per_event: float, retention_days: float) -> DatasetSize:
    """Bytes and examples of a training set built from ``retention_days`` of events.

    Parameters
    ----------
    events_per_day : float
        Logged events (one example each) per day (≥ 0).
    bytes_per_event : float
        Stored bytes per example (≥ 0).
    retention_days : float
        Days of data kept for training (≥ 0).

    Returns
    -------
    DatasetSize

    Examples
    --------
    >>> d = dataset_size(events_per_day=4e9, bytes_per_event=500, retention_days=30)
    >>> d.gb_per_day, d.total_gb, d.examples
    (2000.0, 60000.0, 120000000000.0)
    """
    per_day = non_negative("events_per_day", events_per_day)
    size = non_negative("bytes_per_event", bytes_per_event)
    days = non_negative("retention_days", retention_days)
    gb_day = per_day * size / 1e9
    total = gb_day * days
    examples = per_day * days
    figures = {
        "gb_per_day": figure(key="gb_per_day", label="Training data per day", value=gb_day, unit="GB/day",
                             formula="GB/day = events/day × bytes/event ÷ 1e9",
                             inputs=(inp("events/day", per_day), inp("bytes/event", size, "B"))),
        "total_gb": figure(key="total_gb", label="Training set", value=total, unit="GB",
                           formula="total = GB/day × retention",
                           inputs=(inp("GB/day", gb_day, "GB/day"), inp("retention", days, "days"))),
        "examples": figure(key="examples", label="Training examples", value=examples, unit="examples",
                           formula="examples = events/day × retention",
                           inputs=(inp("events/day", per_day), inp("retention", days, "days"))),
    }
    return DatasetSize(gb_per_day=gb_day, total_gb=total, examples=examples, figures=figures)


@dataclass(frozen=True, slots=True)
class TrainingRun:
    """Compute, time and money of one training run."""

    gpu_hours: float
    wall_clock_hours: float
    cost_usd: float
    figures: dict[str, Figure]


def training_run(examples: float, epochs: float, *, flops_per_example: float | None = None,
                 per_example_ms: float | None = None, gpu_flops: float = GPU_FLOPS, mfu: float = MFU,
                 gpus: int = 1, gpu_price_per_hour: float = GPU_PRICE_PER_HOUR) -> TrainingRun:
    """GPU-hours, wall-clock hours and cost of one training run.

    Give exactly one of ``flops_per_example`` (forward + backward FLOPs, e.g.
    6 × parameters × tokens for a transformer) or ``per_example_ms`` (a
    measured GPU time per example)::

        GPU-s = examples × epochs × FLOPs/example ÷ (peak FLOP/s × MFU)
              = examples × epochs × ms/example ÷ 1,000
        wall-clock = GPU-hours ÷ GPUs        (perfect data-parallel scaling: a lower bound)
        cost = GPU-hours × price per GPU-hour

    Parameters
    ----------
    examples : float
        Training examples per epoch (≥ 0).
    epochs : float
        Passes over the data (> 0).
    flops_per_example, per_example_ms : float, optional
        Exactly one: training FLOPs per example, or measured GPU ms per example.
    gpu_flops : float, default :data:`GPU_FLOPS`
        Peak dense FLOP/s of one GPU.
    mfu : float, default :data:`MFU`
        Achieved share of the peak, in (0, 1].
    gpus : int, default 1
        GPUs training in parallel.
    gpu_price_per_hour : float, default :data:`GPU_PRICE_PER_HOUR`

    Returns
    -------
    TrainingRun

    Examples
    --------
    >>> t = training_run(1e9, 1, flops_per_example=6e9, gpus=8)  # 6 × 100M parameters × 10 tokens
    >>> round(t.gpu_hours, 2), round(t.wall_clock_hours, 3), round(t.cost_usd, 2)
    (13.35, 1.669, 54.75)
    >>> training_run(1e9, 1)
    Traceback (most recent call last):
    ...
    explorer.errors.ScenarioError: Give exactly one of flops_per_example or per_example_ms (got neither).
    """
    n = non_negative("examples", examples)
    ep = positive("epochs", epochs)
    if (flops_per_example is None) == (per_example_ms is None):
        got = "neither" if flops_per_example is None else "both"
        raise ScenarioError(f"Give exactly one of flops_per_example or per_example_ms (got {got}).")
    gpus_n = positive("gpus", gpus)
    price = non_negative("gpu_price_per_hour", gpu_price_per_hour)
    if flops_per_example is not None:
        flops = positive("flops_per_example", flops_per_example)
        peak = positive("gpu_flops", gpu_flops)
        util = fraction("mfu", mfu)
        gpu_s = n * ep * flops / (peak * util)
        work = figure(
            key="gpu_hours", label="GPU-hours per run", value=gpu_s / 3600, unit="GPU-h",
            formula="GPU-h = examples × epochs × FLOPs/example ÷ (peak FLOP/s × MFU) ÷ 3,600",
            inputs=(inp("examples", n), inp("epochs", ep), inp("FLOPs/example", flops, "FLOP"),
                    inp("peak", peak, "FLOP/s"), inp("MFU", util)),
            note=("Defaults: A100 312 dense BF16 TFLOP/s (NVIDIA datasheet); MFU 0.4 is an assumption "
                  "(PaLM 540B reported 46.2 %)."))
    else:
        ms = positive("per_example_ms", per_example_ms)
        gpu_s = n * ep * ms / 1e3
        work = figure(
            key="gpu_hours", label="GPU-hours per run", value=gpu_s / 3600, unit="GPU-h",
            formula="GPU-h = examples × epochs × ms/example ÷ 3,600,000",
            inputs=(inp("examples", n), inp("epochs", ep), inp("ms/example", ms, "ms")))
    gpu_hours = gpu_s / 3600
    wall = gpu_hours / gpus_n
    cost = gpu_hours * price
    figures = {
        "gpu_hours": work,
        "wall_clock_hours": figure(
            key="wall_clock_hours", label="Training wall-clock", value=wall, unit="h",
            formula="wall-clock = GPU-hours ÷ GPUs", inputs=(inp("GPU-hours", gpu_hours, "GPU-h"), inp("GPUs", gpus_n)),
            note="Assumes perfect data-parallel scaling: a lower bound."),
        "cost_usd": figure(
            key="cost_usd", label="Cost per run", value=cost, unit="USD",
            formula="cost = GPU-hours × price", inputs=(inp("GPU-hours", gpu_hours, "GPU-h"), inp("price", price, "USD/GPU-h")),
            note="Default price: A100 on p4d ≈ $4.10/GPU-h (ml-systems-facts.md §4)."),
    }
    return TrainingRun(gpu_hours=gpu_hours, wall_clock_hours=wall, cost_usd=cost, figures=figures)


@dataclass(frozen=True, slots=True)
class Retraining:
    """A retraining cadence: runs, cost and how old the serving model is."""

    runs_per_month: float
    cost_usd_month: float
    model_age_mean_hours: float
    model_age_max_hours: float
    overlapping: bool
    """True when a run takes longer than the cadence: runs would overlap (the cadence is not achievable)."""
    figures: dict[str, Figure]


def retraining(cadence_hours: float, run_hours: float, deploy_hours: float, cost_per_run_usd: float,
               label_delay_hours: float = 0.0) -> Retraining:
    """Runs per month, monthly training cost and model age for a retraining cadence.

    The model serving at a random moment was trained on data up to a snapshot
    that is ``label delay`` older than the run's start, is ready ``run + deploy``
    after that start, and is replaced one cadence later::

        age mean = cadence ÷ 2 + run + deploy + label delay
        age max  = cadence + run + deploy + label delay
        runs/month = 730 h ÷ cadence

    Parameters
    ----------
    cadence_hours : float
        Time between retrains, h (> 0).
    run_hours, deploy_hours : float
        Training wall-clock and time to evaluate and roll out, h (≥ 0).
    cost_per_run_usd : float
        Cost of one run, USD (≥ 0), e.g. :attr:`TrainingRun.cost_usd`.
    label_delay_hours : float, default 0
        Age of the newest labelled data when a run starts, h (≥ 0).

    Returns
    -------
    Retraining

    Examples
    --------
    >>> retraining(6, 8, 1, 50).overlapping
    True
    """
    cadence = positive("cadence_hours", cadence_hours)
    run = non_negative("run_hours", run_hours)
    deploy = non_negative("deploy_hours", deploy_hours)
    cost = non_negative("cost_per_run_usd", cost_per_run_usd)
    delay = non_negative("label_delay_hours", label_delay_hours)
    runs = HOURS_PER_MONTH / cadence
    monthly = runs * cost
    mean = cadence / 2 + run + deploy + delay
    worst = cadence + run + deploy + delay
    overlapping = run > cadence
    age_inputs = (inp("cadence", cadence, "h"), inp("run", run, "h"), inp("deploy", deploy, "h"),
                  inp("label delay", delay, "h"))
    figures = {
        "runs_per_month": figure(key="runs_per_month", label="Retrains per month", value=runs, unit="runs",
                                 formula="runs/month = 730 h ÷ cadence", inputs=(inp("cadence", cadence, "h"),),
                                 note="730 h per month, the AWS billing convention."
                                 + (" A run is longer than the cadence: runs overlap." if overlapping else "")),
        "cost_usd_month": figure(key="cost_usd_month", label="Training cost per month", value=monthly, unit="USD/month",
                                 formula="cost/month = runs/month × cost/run",
                                 inputs=(inp("runs/month", runs), inp("cost/run", cost, "USD"))),
        "model_age_mean_hours": figure(key="model_age_mean_hours", label="Mean model age", value=mean, unit="h",
                                       formula="age = cadence ÷ 2 + run + deploy + label delay", inputs=age_inputs),
        "model_age_max_hours": figure(key="model_age_max_hours", label="Max model age", value=worst, unit="h",
                                      formula="age max = cadence + run + deploy + label delay", inputs=age_inputs),
    }
    return Retraining(runs_per_month=runs, cost_usd_month=monthly, model_age_mean_hours=mean,
                      model_age_max_hours=worst, overlapping=overlapping, figures=figures)
