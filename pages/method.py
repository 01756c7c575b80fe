"""Method: what the capacity model covers and what it leaves out, in plain words."""

from __future__ import annotations

import streamlit as st

from explorer.engine.analysis import HOURS_PER_MONTH, LATTICE_POINTS, USABLE_MEMORY_FRACTION
from explorer.engine.ml import ann, batch_online, features, gpu, logs, traffic, training
from explorer.units import fmt
from pages import ui

ui.use_app_navigation()

st.title("Method")
st.caption("How the numbers on the Explore page are computed, what the model assumes, and what it does not model. "
           "Every number on the page opens to its own formula and inputs; this page is the big picture.")

st.header("From a slider to a number")
st.markdown(f"""
1. **Traffic.** Requests arrive at the pattern's entry at the peak QPS. Each connection says how many calls a
   component makes per call it receives (fan-out) and how many items each call carries. Calls per second are
   pushed along synchronous and asynchronous connections in topological order; scheduled batch jobs push
   their items per second (items per run ÷ the run's window) along batch connections. Feedback loops
   (logs → training → model → serving) are real cycles in the graph; traffic is not sent round them twice.
2. **Service time.** A call takes a base time plus a per-item time × items per call, so scoring 500 candidates
   costs more than scoring 50, and batching shows.
3. **Data size → shards → fan-out.** A component that holds data needs items × bytes per item of memory. A node
   offers its memory × {fmt(USABLE_MEMORY_FRACTION)} for data (the rest is the OS, the runtime and headroom), so
   shards = ⌈data ÷ usable memory per node⌉. A scatter-gather component (an ANN index, a search index) sends
   every query to every shard and waits for the slowest; a key lookup hits one shard. A bigger catalogue
   therefore means more shards, a wider fan-out and a longer tail — through that chain, not a fudge factor.
4. **Queueing at each component.** Each shard is an M/M/c queue: Poisson arrivals, c = replicas × concurrency
   servers, first come first served. Utilisation ρ = λ·S / c. The probability of waiting is Erlang C, and
   the response-time distribution is exact for exponential service. When the service time is not exponential
   (its coefficient of variation is not 1) the waiting time is corrected with the **Allen–Cunneen**
   approximation ((c²ₐ + c²ₛ)/2 × the M/M/c wait). At ρ ≥ 1 a component is **saturated**: it has no finite
   latency, and the page says so instead of showing a number.
5. **End-to-end latency** is composed as distributions, not by adding percentiles. On a
   {LATTICE_POINTS:,}-point time lattice: calls made one after another **convolve**; calls made in parallel take
   the **maximum** (their CDFs multiply); k copies of a call in parallel (fan-out, or every shard of a
   scatter-gather) take the maximum of k draws (F^k), k copies in sequence the sum. A network round trip is added
   to every synchronous call. The p99 you see is the 0.99-quantile of that composed distribution — which is why
   the stage p99s in the waterfall don't add up to it.
6. **Two ways to size.** *Provisioned* keeps the pattern's replica counts, so pushing traffic turns components
   hot (above the target utilisation) and then saturated — the bottleneck story. *Auto-size* picks, for each
   component, the fewest replicas per shard that keep ρ at or under the target utilisation **and** keep its p99
   within its share of the latency budget (the target split in proportion to each stage's service time on the
   longest request path through it) — the cost story. Replicas never fall below the data's replication.
7. **Cost** = nodes (shards × replicas) × price per hour × {fmt(HOURS_PER_MONTH)} hours a month, plus stored GB ×
   the price per GB-month for components that keep their data on disk. Every price carries its source.
8. **Bottlenecks** are ranked: saturated components first, then stages that cannot meet their latency share,
   then hot components, then the slowest stage when the end-to-end target is missed — each with the reason in
   numbers and an advice that fits the component (add replicas, cut the candidates, compress the index, batch
   the lookups, precompute offline…).
""")

st.header("ML quantities")
st.caption("Patterns that declare them get an **ML figures** section on the Explore page; every figure there "
           "opens to its formula and inputs. The constants below are the engine's own.")

st.subheader("Daily users to peak QPS")
st.markdown(f"""
Average QPS = DAU × requests per user per day ÷ 86,400 s; **peak QPS = average × peak-to-average factor**
(default {fmt(traffic.PEAK_TO_AVERAGE)}×, an assumption: a daily peak around three times the mean is common for
consumer products — set it from real traffic when you have it). A pattern declares its traffic either from daily
users or as a QPS slider, never both unlinked, so moving DAU moves every number downstream.
""")

st.subheader("Model memory")
st.markdown(f"""
Weights = parameters × bytes per parameter ({", ".join(f"{k} {v} B" for k, v in gpu.PRECISION_BYTES.items())});
activations = MB per item × batch size. The model fits one GPU when weights + activations ≤ GPU memory ×
{fmt(gpu.USABLE_MEMORY_FRACTION)} (an assumption: the CUDA context, workspace and fragmentation take the rest);
otherwise each replica is split over ⌈total ÷ usable⌉ GPUs (model parallel) and the page warns.
""")

st.subheader("GPU sharing and dynamic batching")
st.markdown(f"""
A GPU server batches items from several requests: it waits up to a maximum delay or until the batch holds the
maximum items, whichever comes first. Batch service = launch overhead + time per item × batch; throughput per GPU =
batch ÷ batch service; the batching delay is the mean wait for the batch to close. **Model instances on one GPU
share it**: two instances each get half the GPU's throughput, not all of it. GPUs needed = ⌈(requests/s × items ×
time per item + batches/s × launch) ÷ target utilisation⌉ with a target of {fmt(gpu.TARGET_UTILIZATION)}
(an assumption that leaves headroom for bursts). Example: 10,000 requests/s × 500 items × 20 µs is 100 GPU-seconds
of work per second, so about 167 GPUs at 60%. Queueing for a busy GPU is not in the batch latency; it is in the
component's own queue.
""")
st.table([{"GPU": g.name, "memory GB": fmt(g.memory_gb), "dense FP16 TFLOP/s": fmt(g.dense_fp16_tflops),
           "USD per GPU-hour": fmt(g.price_usd_per_hour), "source": g.source} for g in gpu.GPUS.values()])

st.subheader("ANN index memory and query cost")
st.markdown(f"""
Bytes per vector depend on the index type: **flat** stores d × {ann.BYTES_PER_FLOAT} B; **IVF-PQ** stores a
{ann.PQ_CODE_BYTES}-byte code plus an {ann.ID_BYTES}-byte id (plus the coarse centroids and codebooks);
**HNSW** stores the vector plus 2·M links of 4 B (M = {ann.HNSW_M} by default). Index memory = N × bytes per
vector; shards = ⌈index ÷ (node memory × {fmt(ann.USABLE_NODE_FRACTION)})⌉ (an assumption: the OS, query buffers
and a second copy during a rebuild need the rest). Query cost grows with N, d and k: HNSW visits about
max(efSearch, k) × M × log₂ n vectors per shard (efSearch {ann.EF_SEARCH}), IVF-PQ scans nprobe ({ann.NPROBE})
inverted lists of codes. Beside it the page shows the **brute-force scan**: n × d × 4 B ÷ {fmt(ann.MEMORY_BANDWIDTH_GB_S)}
GB/s of memory bandwidth per shard — the number that says why an approximate index is used at all. Per-distance
times are calibrated on the FAISS SIFT1M benchmarks ({fmt(ann.HNSW_NS_PER_DIM)} ns per dimension for HNSW,
{fmt(ann.PQ_NS_PER_CODE_BYTE)} ns per PQ code byte); recall is not modelled and must be measured on the data.
""")

st.subheader("Training cost and model age")
st.markdown(f"""
Training data per day = events per day × bytes per event; the training set keeps a retention window of days.
GPU-hours per run = examples × epochs × (FLOPs per example ÷ (peak FLOP/s × MFU), or a measured time per example);
MFU {fmt(training.MFU)} is an assumption below the 46% reported for a well-tuned large run. Wall-clock = GPU-hours ÷
GPUs (perfect data-parallel scaling: a lower bound); cost per run = GPU-hours × the GPU's price (A100 by default,
${fmt(training.GPU_PRICE_PER_HOUR)}/GPU-h). Retraining every *T* hours gives {fmt(HOURS_PER_MONTH)} ÷ T runs a
month — **training cost per month** — and a **model age** at serving time of T ÷ 2 + run + deploy + label delay on
average (T + run + deploy + label delay at worst). A run longer than the cadence is flagged: runs would overlap.
""")

st.subheader("Batch or online predictions: staleness and coverage")
st.markdown(f"""
A precompute job scores U users × k predictions with W workers: throughput = workers × concurrency ÷ time per
prediction, job duration = U × k ÷ throughput. It stores U × k × bytes in a key-value store
(${fmt(batch_online.KV_PRICE_PER_GB_MONTH)} per GB-month of RAM) and runs on workers at
${fmt(batch_online.WORKER_PRICE_PER_HOUR)}/h. **Staleness** = refresh interval ÷ 2 + job + feature delay on
average (interval + job + delay at worst). **Coverage** is the share of requests from users in the precomputed
set; the rest miss and go to the online path, which is sized for that share. Predictions for users who never come
back are wasted work. The chart on the Explore page repeats this for refresh intervals of
{", ".join(fmt(h) for h in batch_online.DEFAULT_REFRESH_HOURS)} hours: cost against staleness, the trade-off the
design answer turns on.
""")

st.subheader("Feature payload and streaming freshness")
st.markdown(f"""
Bytes into the ranker per request = candidates × features per candidate × {features.BYTES_PER_FEATURE} B (float32,
an assumption: ids and strings cost more). Times requests per second it is the ranker's feature traffic; over a
{fmt(features.BANDWIDTH_GBIT_S)} Gbit/s link (an assumption) it adds transfer time per request and a link
utilisation. A streaming feature aggregated over a window of w seconds with a pipeline lag l is on average
w ÷ 2 + l old, at most w + l.
""")

st.subheader("Logging, label delay and drift")
st.markdown(f"""
Logs per day = events per day × bytes per event; they grow by that × {fmt(HOURS_PER_MONTH / 24)} days a month
until the retention window is full, at ${fmt(logs.BLOB_PRICE_PER_GB_MONTH)} per GB-month of blob storage.
**Label delay**: a label is final when its window closes (a click in minutes, a conversion in days); labelled
events are joined every few hours and land after a pipeline lag, so mean delay = window + join period ÷ 2 + lag —
and it adds straight to the model's age. **Drift** checks = features × windows per day × checks per window; their
CPU time × ${fmt(logs.CPU_PRICE_PER_HOUR)} per vCPU-hour is the monitoring cost.
""")

st.header("Assumptions to keep in mind")
st.markdown("""
- **Poisson arrivals** at every component. Real traffic is burstier; the target utilisation (60% by default)
  is the usual headroom for that.
- **Independence between stations.** Latencies of different components are treated as independent random
  variables when they are composed. Correlated slowness (a shared host, a shared cache miss) makes the real
  tail worse.
- **First come, first served**, no priorities, no admission control, no timeouts.
- **Steady state at the peak hour.** The numbers describe a system that has been at that load long enough
  for queues to settle.
- **Batch arrivals are modelled as independent calls.** When one request sends k calls to one pool at once
  (score 500 candidates in 5 calls, fetch 50 feature rows), the k calls arrive together, but the model treats
  them as k independent Poisson arrivals. That **understates the tail**: the k calls queue behind each other.
- **Service-time variability** is a single coefficient of variation per component type, with its source.
- **Means of mixed traffic.** A component that serves both online calls and batch calls sees one service
  time: the average over all its calls, weighted by their items per call.
""")

st.header("Not modelled")
st.markdown("""
- **Retries** and the extra load they add under failure (retry storms).
- **Caches warming up**, cache hit ratios that change with traffic, cold starts.
- **Garbage-collection pauses**, noisy neighbours, CPU throttling.
- **Network congestion**: the network adds a fixed round trip per synchronous call; bandwidth is reported
  (MB/s in), not queued.
- **Autoscaling lag**: auto-size tells you the replicas you need at the peak, not how fast you get them.
- **Failures and redundancy** beyond the data's replication factor (zones, failover capacity).
- **Model quality**: the tool sizes the serving system; recall, precision and their trade-offs with the
  number of candidates are the study notes' job.
""")

st.header("Where the numbers come from")
st.markdown("""
Every default number in the component catalogue and in each pattern has a `source`: a chapter of
*Machine Learning System Design Interview*, a paper or engineering blog post, a public price list, or an
assumption said plainly. Open any figure's trace on the Explore page to see the formula, the inputs with
their units, and the sources behind them.
""")
