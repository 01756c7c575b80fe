"""Embeddings and approximate nearest-neighbour (ANN) search: index memory, shards, query cost.

Memory per vector follows the FAISS wiki's "Faiss indexes" table (bytes/vector
column) and "Guidelines to choose an index"
(https://github.com/facebookresearch/faiss/wiki/Faiss-indexes,
https://github.com/facebookresearch/faiss/wiki/Guidelines-to-choose-an-index):

* ``flat`` (``IndexFlat``): ``4·d`` bytes; no ids, no overhead.
* ``ivf_pq`` (``IndexIVFPQ``): ``code bytes + 8`` per vector (the PQ code and the
  8-byte id), plus the ``nlist`` coarse centroids (``nlist·d·4``) and the PQ
  codebooks (``256·d·4`` for 8-bit sub-quantizers).
* ``hnsw`` (``IndexHNSWFlat``): ``d·4 + M·2·4`` — the vector and ``2·M`` 4-byte
  links of level 0. The upper levels (a share ``1/M`` of the nodes holds ``M``
  links per extra level, about 4 bytes per vector on average) and the per-vector
  level/offset bookkeeping (about 12 bytes) are neglected.

Query cost counts the work the method does and prices it with per-operation
costs calibrated on published FAISS runs on SIFT1M (1M × 128-d):

* flat: ``N·d`` multiply-adds streamed from RAM at :data:`MEMORY_BANDWIDTH_GB_S`.
* ivf_pq: ``nlist·d`` for the coarse quantizer (a flat scan of the centroids) plus
  ``nprobe/nlist · N`` codes of ``code bytes`` table look-ups each (the wiki's
  ``nprobe / nlist · n`` term, with even lists).
* hnsw: about ``ef·M·log₂N`` distance evaluations of ``d`` dimensions, with
  ``ef = max(efSearch, k)`` (FAISS searches with at least ``k`` candidates).

Flat and IVF also keep a top-``k`` heap. No recall is reported: recall depends
on the data and must be measured.

Examples
--------
Why ANN: one billion 128-d float vectors are 512 GB, and scanning them once
takes 25.6 s on one thread; HNSW on a million of them answers in 0.153 ms.

>>> index_memory(1e9, 128, "flat").total_gb
512.0
>>> brute_force_scan(1e9, 128).time_ms_per_shard
25600.0
>>> round(query_cost(1e6, 128, "hnsw", k=1, ef_search=16, hnsw_m=32).time_ms_per_shard, 3)
0.153
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from explorer.engine.ml._common import choice, figure, fraction, inp, positive, whole
from explorer.engine.report import Figure

__all__ = [
    "INDEX_TYPES",
    "BYTES_PER_FLOAT",
    "ID_BYTES",
    "PQ_CODE_BYTES",
    "PQ_CENTROIDS",
    "HNSW_M",
    "EF_SEARCH",
    "NPROBE",
    "TOP_K",
    "USABLE_NODE_FRACTION",
    "MEMORY_BANDWIDTH_GB_S",
    "SCAN_NS_PER_DIM",
    "HNSW_NS_PER_DIM",
    "PQ_NS_PER_CODE_BYTE",
    "HEAP_STEP_NS",
    "default_nlist",
    "IndexMemory",
    "index_memory",
    "Shards",
    "shards_for",
    "QueryCost",
    "query_cost",
    "ScanCost",
    "brute_force_scan",
]

INDEX_TYPES = ("flat", "ivf_pq", "hnsw")
"""Index families modelled here (FAISS ``Flat``, ``IVFx,PQy``, ``HNSWm,Flat``)."""

BYTES_PER_FLOAT = 4
"""float32 components, as FAISS stores vectors (wiki "Faiss indexes": ``4*d`` bytes for ``IndexFlat``)."""

ID_BYTES = 8
"""Bytes of the id stored with each vector in an inverted list (wiki "Faiss indexes": "The 8 additional
bytes are the vector id that needs to be stored")."""

PQ_CODE_BYTES = 16
"""PQ code size: 16 sub-quantizers × 8 bits, the ``IndexPQ(d, 16, 8)`` of FAISS
``benchs/bench_polysemous_sift1m.py`` (the wiki: code size "typically a power of two between 4 and 64")."""

PQ_CENTROIDS = 256
"""Centroids per PQ sub-quantizer (8-bit codes, FAISS's usual ``nbits = 8``)."""

HNSW_M = 32
"""HNSW links per vector: ``IndexHNSWFlat(d, 32)`` of FAISS ``benchs/bench_hnsw.py`` (the wiki: 4 ≤ M ≤ 64)."""

EF_SEARCH = 16
"""HNSW search depth of the calibration run (``efSearch 16``: 0.153 ms/query, R@1 0.92 on SIFT1M,
ml-systems-facts.md §4). Raise it for recall."""

NPROBE = 16
"""Inverted lists visited per query. Assumption: the middle of the 1–256 sweep in FAISS
``benchs/README.md``; recall rises with it and must be measured on the data."""

TOP_K = 10
"""Neighbours returned per query. Assumption: the 1-R@10 operating point of the FAISS Deep1B runs."""

USABLE_NODE_FRACTION = 0.7
"""Share of a node's RAM an index may fill. Assumption: the OS, query buffers and a second copy
during a rebuild-and-swap need the rest; FAISS keeps every index in RAM (wiki "Guidelines")."""

MEMORY_BANDWIDTH_GB_S = 20.0
"""Sequential RAM read on one thread: napkin-math gives 20 GiB/s single-threaded (200 GiB/s
threaded), ml-systems-facts.md §4; taken as 20 GB/s."""

SCAN_NS_PER_DIM = BYTES_PER_FLOAT / MEMORY_BANDWIDTH_GB_S
"""Time per float dimension in a flat scan, ns: 4 bytes ÷ 20 GB/s = 0.2 ns (bandwidth-bound)."""

_HNSW_BENCH_MS = 0.153
_HNSW_BENCH = {"N": 1e6, "d": 128, "M": 32, "ef": 16}
HNSW_NS_PER_DIM = _HNSW_BENCH_MS * 1e6 / (
    _HNSW_BENCH["ef"] * _HNSW_BENCH["M"] * math.log2(_HNSW_BENCH["N"]) * _HNSW_BENCH["d"])
"""Time per dimension of one HNSW distance evaluation, ns (≈ 0.117), calibrated so the model gives
0.153 ms for HNSW32, efSearch 16 on SIFT1M (FAISS ``bench_hnsw.py`` output, ml-systems-facts.md §4;
that run does not pin one thread — the wiki warns single-threaded can be several times slower)."""

_PQ_BENCH_MS = 7.517
PQ_NS_PER_CODE_BYTE = _PQ_BENCH_MS * 1e6 / (1e6 * 16)
"""Time per PQ code byte (one table look-up and add), ns (≈ 0.47): FAISS ``benchs/README.md``, SIFT1M
"PQ baseline 7.517 ms per query" for ``IndexPQ(d, 16, 8)`` on one thread (1M codes × 16 bytes)."""

HEAP_STEP_NS = 1.0
"""One sift step of the top-k heap, ns. Assumption: a compare and a move on an L1-resident heap,
a few cycles at ~3 GHz."""


def default_nlist(num_vectors: float) -> int:
    """Inverted lists for ``num_vectors``: ``4·√N`` (the FAISS wiki's lower bound "4*sqrt(N) to 16*sqrt(N)").

    Examples
    --------
    >>> default_nlist(1e6), default_nlist(1e9)
    (4000, 126491)
    """
    return max(1, round(4 * math.sqrt(num_vectors)))


# --------------------------------------------------------------------------- memory


@dataclass(frozen=True, slots=True)
class IndexMemory:
    """Memory of one embedding index."""

    index_type: str
    bytes_per_vector: float
    fixed_bytes: float
    """Memory independent of N: IVF centroids and PQ codebooks (0 for flat and HNSW)."""
    total_gb: float
    raw_gb: float
    """The float vectors alone (N·d·4), for comparison."""
    figures: dict[str, Figure]


def index_memory(num_vectors: float, dim: int, index_type: str, *, pq_code_bytes: int = PQ_CODE_BYTES,
                 nlist: int | None = None, hnsw_m: int = HNSW_M, bytes_per_float: int = BYTES_PER_FLOAT,
                 id_bytes: int = ID_BYTES) -> IndexMemory:
    """Bytes per vector and total GB of a flat, IVF-PQ or HNSW index.

    Parameters
    ----------
    num_vectors : float
        Vectors in the index (> 0).
    dim : int
        Embedding dimension (whole, ≥ 1).
    index_type : {"flat", "ivf_pq", "hnsw"}
    pq_code_bytes : int, default :data:`PQ_CODE_BYTES`
        PQ code size per vector, bytes (ivf_pq).
    nlist : int, optional
        Inverted lists (ivf_pq); default :func:`default_nlist`.
    hnsw_m : int, default :data:`HNSW_M`
        Links per vector (hnsw).
    bytes_per_float : int, default 4
    id_bytes : int, default 8
        Id stored per vector in an inverted list (ivf_pq).

    Returns
    -------
    IndexMemory

    Examples
    --------
    >>> index_memory(1e6, 128, "hnsw", hnsw_m=32).bytes_per_vector
    768.0
    >>> m = index_memory(1e9, 128, "ivf_pq", pq_code_bytes=16, nlist=65536)
    >>> m.bytes_per_vector, round(m.total_gb, 2)
    (24.0, 24.03)
    >>> index_memory(1e6, 128, "lsh")
    Traceback (most recent call last):
    ...
    explorer.errors.ScenarioError: index_type must be one of flat, ivf_pq, hnsw, got 'lsh'.
    """
    n = positive("num_vectors", num_vectors)
    d = whole("dim", dim)
    kind = choice("index_type", index_type, INDEX_TYPES)
    code = whole("pq_code_bytes", pq_code_bytes)
    lists = default_nlist(n) if nlist is None else whole("nlist", nlist)
    m = whole("hnsw_m", hnsw_m)
    fb = whole("bytes_per_float", bytes_per_float)
    ib = whole("id_bytes", id_bytes, low=0)
    fixed = 0.0
    if kind == "flat":
        per = float(d * fb)
        formula, inputs = "bytes/vector = d × bytes/float", (inp("d", d), inp("bytes/float", fb, "B"))
        note = "FAISS wiki 'Faiss indexes': IndexFlat stores 4·d bytes per vector, no ids, no overhead."
    elif kind == "ivf_pq":
        per = float(code + ib)
        fixed = float(lists * d * fb + PQ_CENTROIDS * d * fb)
        formula = "bytes/vector = PQ code + id"
        inputs = (inp("PQ code", code, "B"), inp("id", ib, "B"))
        note = ("FAISS wiki 'Faiss indexes': IndexIVFPQ stores ceil(M·nbits/8) + 8 bytes per vector. "
                "Default code 16 B (bench_polysemous_sift1m's PQ16).")
    else:
        per = float(d * fb + 2 * m * 4)
        formula = "bytes/vector = d × bytes/float + 2·M × 4"
        inputs = (inp("d", d), inp("bytes/float", fb, "B"), inp("M", m, "links"))
        note = ("FAISS wiki 'Guidelines to choose an index': HNSW uses (d·4 + M·2·4) bytes per vector. "
                "Neglected: upper levels (≈ 4 B/vector) and level bookkeeping (≈ 12 B/vector).")
    total = (n * per + fixed) / 1e9
    raw = n * d * fb / 1e9
    figures = {
        "bytes_per_vector": figure(key="bytes_per_vector", label="Bytes per vector", value=per, unit="B",
                                   formula=formula, inputs=inputs, note=note),
        "total_gb": figure(
            key="total_gb", label="Index memory", value=total, unit="GB",
            formula="total = N × bytes/vector + fixed" + (" (fixed = nlist·d·4 centroids + 256·d·4 PQ codebooks)"
                                                          if kind == "ivf_pq" else ""),
            inputs=(inp("N", n, "vectors"), inp("bytes/vector", per, "B"), inp("fixed", fixed, "B"))
            + ((inp("nlist", lists),) if kind == "ivf_pq" else ())),
        "raw_gb": figure(key="raw_gb", label="Raw vectors", value=raw, unit="GB", formula="raw = N × d × bytes/float",
                         inputs=(inp("N", n, "vectors"), inp("d", d), inp("bytes/float", fb, "B"))),
    }
    return IndexMemory(index_type=kind, bytes_per_vector=per, fixed_bytes=fixed, total_gb=total, raw_gb=raw,
                       figures=figures)


@dataclass(frozen=True, slots=True)
class Shards:
    """How many nodes an index is split over."""

    usable_gb_per_node: float
    shards: int
    gb_per_shard: float
    figures: dict[str, Figure]


def shards_for(index_gb: float, node_memory_gb: float, usable_fraction: float = USABLE_NODE_FRACTION) -> Shards:
    """Shards for an index: ``⌈index ÷ (node memory × usable share)⌉``.

    Parameters
    ----------
    index_gb : float
        Index size, GB (> 0), e.g. :attr:`IndexMemory.total_gb`.
    node_memory_gb : float
        RAM of one node, GB (> 0).
    usable_fraction : float, default :data:`USABLE_NODE_FRACTION`
        Share of that RAM the index may fill, in (0, 1].

    Returns
    -------
    Shards

    Examples
    --------
    >>> s = shards_for(512, 256, 0.7)
    >>> s.shards, round(s.gb_per_shard, 1)
    (3, 170.7)
    """
    size = positive("index_gb", index_gb)
    node = positive("node_memory_gb", node_memory_gb)
    share = fraction("usable_fraction", usable_fraction)
    usable = node * share
    shards = max(1, math.ceil(size / usable - 1e-12))
    per = size / shards
    figures = {
        "shards": figure(
            key="shards", label="Index shards", value=shards, unit="shards",
            formula="shards = ⌈index ÷ (node memory × usable share)⌉",
            inputs=(inp("index", size, "GB"), inp("node memory", node, "GB"), inp("usable share", share)),
            note="Usable share 0.7 is an assumption: OS, query buffers and a second copy during a rebuild."),
        "gb_per_shard": figure(key="gb_per_shard", label="Index per shard", value=per, unit="GB",
                               formula="per shard = index ÷ shards",
                               inputs=(inp("index", size, "GB"), inp("shards", shards))),
    }
    return Shards(usable_gb_per_node=usable, shards=shards, gb_per_shard=per, figures=figures)


# --------------------------------------------------------------------------- query cost


@dataclass(frozen=True, slots=True)
class QueryCost:
    """Work and time of one query on one shard."""

    index_type: str
    vectors_per_shard: float
    distance_computations: float
    """Full-dimension distances (flat, HNSW, IVF centroids) plus PQ code comparisons (IVF-PQ)."""
    time_ms_per_shard: float
    cpu_ms_per_query: float
    """Time per shard × shards: the CPU a query costs across its fan-out."""
    figures: dict[str, Figure]


def _heap_ns(candidates: float, k: int) -> tuple[float, float]:
    """Expected top-k heap insertions among ``candidates`` random-order scores, and their time (ns)."""
    inserts = candidates if candidates <= k else k * (1.0 + math.log(candidates / k))
    return inserts, inserts * math.log2(k + 1) * HEAP_STEP_NS


def query_cost(num_vectors: float, dim: int, index_type: str, *, k: int = TOP_K, nprobe: int = NPROBE,
               nlist: int | None = None, ef_search: int = EF_SEARCH, hnsw_m: int = HNSW_M,
               pq_code_bytes: int = PQ_CODE_BYTES, shards: int = 1) -> QueryCost:
    """Distance computations and time of one query on one shard (one thread).

    ::

        flat    t = n·d·0.2 ns + heap                      n = ⌈N ÷ shards⌉
        ivf_pq  t = nlist·d·0.2 ns + min(1, nprobe/nlist)·n·code·0.47 ns + heap
        hnsw    t = max(ef, k)·M·log₂n · d · 0.117 ns
        heap    = k·(1 + ln(C/k)) insertions × log₂(k+1) steps × 1 ns   (C candidates scanned)

    Parameters
    ----------
    num_vectors : float
        Vectors in the whole index (> 0).
    dim : int
        Embedding dimension (whole, ≥ 1).
    index_type : {"flat", "ivf_pq", "hnsw"}
    k : int, default :data:`TOP_K`
        Neighbours returned.
    nprobe, nlist : int
        Lists visited and lists in the index (ivf_pq); ``nlist`` defaults to :func:`default_nlist`
        of the shard.
    ef_search, hnsw_m : int
        Search depth and links per vector (hnsw).
    pq_code_bytes : int
        PQ code size (ivf_pq).
    shards : int, default 1
        Shards the index is split over; every shard is searched.

    Returns
    -------
    QueryCost

    Examples
    --------
    >>> round(query_cost(1e6, 128, "flat", k=1).time_ms_per_shard, 2)
    25.6
    >>> q = query_cost(1e9, 96, "ivf_pq", nprobe=16, nlist=262144, pq_code_bytes=20, k=10, shards=4)
    >>> round(q.vectors_per_shard), round(q.time_ms_per_shard, 2), round(q.cpu_ms_per_query, 1)
    (250000000, 5.18, 20.7)
    """
    n_total = positive("num_vectors", num_vectors)
    d = whole("dim", dim)
    kind = choice("index_type", index_type, INDEX_TYPES)
    k = whole("k", k)
    probes = whole("nprobe", nprobe)
    ef = whole("ef_search", ef_search)
    m = whole("hnsw_m", hnsw_m)
    code = whole("pq_code_bytes", pq_code_bytes)
    shards = whole("shards", shards)
    n = math.ceil(n_total / shards)
    figures: dict[str, Figure] = {}
    if kind == "flat":
        distances = float(n)
        scan_ns = n * d * SCAN_NS_PER_DIM
        inserts, heap = _heap_ns(n, k)
        time_ns = scan_ns + heap
        formula = "t = n·d·t_dim + heap"
        inputs = (inp("n", n, "vectors"), inp("d", d), inp("t_dim", SCAN_NS_PER_DIM, "ns"),
                  inp("heap", heap, "ns"))
        note = ("t_dim = 4 B ÷ 20 GB/s (napkin-math single-thread RAM bandwidth); "
                f"heap: {inserts:.3g} expected insertions for k = {k}, 1 ns per step (assumption).")
    elif kind == "ivf_pq":
        lists = default_nlist(n) if nlist is None else whole("nlist", nlist)
        share = min(1.0, probes / lists)
        codes = share * n
        coarse_ns = lists * d * SCAN_NS_PER_DIM
        codes_ns = codes * code * PQ_NS_PER_CODE_BYTE
        inserts, heap = _heap_ns(codes, k)
        distances = lists + codes
        time_ns = coarse_ns + codes_ns + heap
        formula = "t = nlist·d·t_dim + min(1, nprobe/nlist)·n·code·t_code + heap"
        inputs = (inp("nlist", lists), inp("d", d), inp("t_dim", SCAN_NS_PER_DIM, "ns"), inp("nprobe", probes),
                  inp("n", n, "vectors"), inp("code", code, "B"), inp("t_code", PQ_NS_PER_CODE_BYTE, "ns"),
                  inp("heap", heap, "ns"))
        note = ("Coarse quantizer scanned flat (FAISS wiki 'Faiss indexes': balance nlist·d against "
                "nprobe/nlist·n); lists assumed even. t_code from FAISS benchs/README SIFT1M "
                "'PQ baseline 7.517 ms per query' (PQ16, one thread). PQ distance tables neglected.")
        figures["codes_scanned"] = figure(
            key="codes_scanned", label="Codes scanned", value=codes, unit="codes",
            formula="codes = min(1, nprobe ÷ nlist) × n",
            inputs=(inp("nprobe", probes), inp("nlist", lists), inp("n", n, "vectors")))
    else:
        ef_eff = max(ef, k)
        hops = math.log2(max(n, 2))
        distances = ef_eff * m * hops
        time_ns = distances * d * HNSW_NS_PER_DIM
        formula = "t = max(ef, k)·M·log₂n · d · t_hnsw"
        inputs = (inp("ef", ef), inp("k", k), inp("M", m, "links"), inp("n", n, "vectors"), inp("d", d),
                  inp("t_hnsw", HNSW_NS_PER_DIM, "ns"))
        note = ("t_hnsw calibrated on FAISS bench_hnsw: HNSW32, efSearch 16, SIFT1M (1M × 128) = 0.153 ms/query "
                "(threads not pinned; one thread can be several times slower).")
    time_ms = time_ns / 1e6
    figures["distance_computations"] = figure(
        key="distance_computations", label="Distance computations", value=distances, unit="per query per shard",
        formula={"flat": "distances = n", "ivf_pq": "distances = nlist + codes scanned",
                 "hnsw": "distances = max(ef, k) × M × log₂n"}[kind],
        inputs=(inp("n", n, "vectors"),) + inputs[:2])
    figures["time_ms_per_shard"] = figure(key="time_ms_per_shard", label="Query time per shard", value=time_ms,
                                          unit="ms", formula=formula, inputs=inputs, note=note)
    figures["cpu_ms_per_query"] = figure(
        key="cpu_ms_per_query", label="CPU per query", value=time_ms * shards, unit="ms",
        formula="CPU = time per shard × shards", inputs=(inp("time per shard", time_ms, "ms"), inp("shards", shards)))
    return QueryCost(index_type=kind, vectors_per_shard=float(n), distance_computations=distances,
                     time_ms_per_shard=time_ms, cpu_ms_per_query=time_ms * shards, figures=figures)


@dataclass(frozen=True, slots=True)
class ScanCost:
    """Exact search by reading every vector once."""

    bytes_per_query_per_shard: float
    time_ms_per_shard: float
    figures: dict[str, Figure]


def brute_force_scan(num_vectors: float, dim: int, memory_bandwidth_gb_s: float = MEMORY_BANDWIDTH_GB_S,
                     bytes_per_float: int = BYTES_PER_FLOAT, shards: int = 1) -> ScanCost:
    """Time to scan every vector once per query: ``n·d·bytes ÷ bandwidth``, the "why ANN" number.

    Parameters
    ----------
    num_vectors : float
        Vectors in the whole index (> 0).
    dim : int
        Embedding dimension (whole, ≥ 1).
    memory_bandwidth_gb_s : float, default :data:`MEMORY_BANDWIDTH_GB_S`
        Read bandwidth of one scanning thread, GB/s (> 0).
    bytes_per_float : int, default 4
    shards : int, default 1
        Shards scanned in parallel; the time is per shard.

    Returns
    -------
    ScanCost

    Examples
    --------
    >>> s = brute_force_scan(1e8, 256, shards=10)
    >>> s.bytes_per_query_per_shard, s.time_ms_per_shard
    (10240000000.0, 512.0)
    """
    n_total = positive("num_vectors", num_vectors)
    d = whole("dim", dim)
    bw = positive("memory_bandwidth_gb_s", memory_bandwidth_gb_s)
    fb = whole("bytes_per_float", bytes_per_float)
    shards = whole("shards", shards)
    n = math.ceil(n_total / shards)
    size = float(n * d * fb)
    time_ms = size / (bw * 1e9) * 1e3
    figures = {
        "time_ms_per_shard": figure(
            key="time_ms_per_shard", label="Brute-force scan per shard", value=time_ms, unit="ms",
            formula="t = n × d × bytes/float ÷ bandwidth",
            inputs=(inp("n", n, "vectors"), inp("d", d), inp("bytes/float", fb, "B"), inp("bandwidth", bw, "GB/s")),
            note="Default 20 GB/s: napkin-math single-threaded RAM read (20 GiB/s; 200 GiB/s with all threads)."),
    }
    return ScanCost(bytes_per_query_per_shard=size, time_ms_per_shard=time_ms, figures=figures)
