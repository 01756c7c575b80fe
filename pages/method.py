"""Method: what the capacity model covers and what it leaves out, in plain words."""

from __future__ import annotations

import streamlit as st

from explorer.engine.analysis import HOURS_PER_MONTH, LATTICE_POINTS, USABLE_MEMORY_FRACTION
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
