"""Embedding indexes: FAISS memory formulas, shards, query cost calibration and monotonicity."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.engine.ml import ann

N = st.floats(min_value=1.0, max_value=1e11, allow_nan=False)
DIM = st.integers(min_value=1, max_value=4096)
KIND = st.sampled_from(ann.INDEX_TYPES)


# --------------------------------------------------------------------------- memory closed forms


def test_flat_one_billion_128d_is_512_gb():
    m = ann.index_memory(1e9, 128, "flat")
    assert m.bytes_per_vector == 512
    assert m.total_gb == pytest.approx(512.0)
    assert m.fixed_bytes == 0 and m.raw_gb == pytest.approx(512.0)


def test_hnsw_is_vector_plus_two_m_links():
    m = ann.index_memory(1e6, 128, "hnsw", hnsw_m=32)
    assert m.bytes_per_vector == 128 * 4 + 32 * 2 * 4 == 768
    assert m.total_gb == pytest.approx(0.768)
    assert ann.index_memory(1e6, 768, "hnsw", hnsw_m=16).bytes_per_vector == 768 * 4 + 128


def test_ivf_pq_is_code_plus_id_plus_centroids():
    m = ann.index_memory(1e9, 128, "ivf_pq", pq_code_bytes=16, nlist=65536)
    assert m.bytes_per_vector == 24
    assert m.fixed_bytes == 65536 * 128 * 4 + 256 * 128 * 4
    assert m.total_gb == pytest.approx((1e9 * 24 + 65536 * 512 + 256 * 512) / 1e9)
    # The Deep1B setting of the FAISS GPU benchmark: PQ20 codes, 262,144 lists, 96-d.
    deep = ann.index_memory(1e9, 96, "ivf_pq", pq_code_bytes=20, nlist=262144)
    assert deep.total_gb == pytest.approx(28.0 + (262144 + 256) * 96 * 4 / 1e9)


def test_compression_is_what_makes_a_billion_vectors_fit():
    flat = ann.index_memory(1e9, 128, "flat").total_gb
    pq = ann.index_memory(1e9, 128, "ivf_pq").total_gb
    assert flat / pq > 15
    assert ann.shards_for(pq, 256, 0.7).shards == 1
    assert ann.shards_for(flat, 256, 0.7).shards == 3


def test_shards_closed_form():
    s = ann.shards_for(100, 64, 0.5)
    assert s.usable_gb_per_node == 32 and s.shards == 4 and s.gb_per_shard == 25
    assert ann.shards_for(32, 64, 0.5).shards == 1


def test_default_nlist_follows_the_wiki_lower_bound():
    assert ann.default_nlist(1e6) == 4000
    assert ann.default_nlist(1) == 4


# --------------------------------------------------------------------------- query cost


def test_hnsw_reproduces_its_calibration_point():
    q = ann.query_cost(1e6, 128, "hnsw", k=1, ef_search=16, hnsw_m=32)
    assert q.time_ms_per_shard == pytest.approx(0.153)
    assert q.distance_computations == pytest.approx(16 * 32 * math.log2(1e6))


def test_pq_cost_reproduces_the_sift1m_pq_baseline():
    # An IVF with one list probed is an exhaustive PQ scan, plus one centroid.
    q = ann.query_cost(1e6, 128, "ivf_pq", k=1, nprobe=1, nlist=1, pq_code_bytes=16)
    assert q.time_ms_per_shard == pytest.approx(7.517, rel=0.01)


def test_flat_query_equals_the_bandwidth_scan():
    q = ann.query_cost(1e6, 128, "flat", k=1)
    s = ann.brute_force_scan(1e6, 128)
    assert s.time_ms_per_shard == pytest.approx(25.6)
    assert q.time_ms_per_shard == pytest.approx(s.time_ms_per_shard, rel=1e-3)


def test_ann_is_orders_of_magnitude_faster_than_the_scan_it_replaces():
    scan = ann.brute_force_scan(1e8, 128).time_ms_per_shard
    hnsw = ann.query_cost(1e8, 128, "hnsw").time_ms_per_shard
    ivf = ann.query_cost(1e8, 128, "ivf_pq").time_ms_per_shard
    assert scan / hnsw > 1000 and scan / ivf > 100


def test_shards_split_the_work_and_multiply_the_cpu():
    one = ann.query_cost(1e9, 128, "flat", shards=1)
    four = ann.query_cost(1e9, 128, "flat", shards=4)
    assert four.vectors_per_shard == 2.5e8
    assert four.time_ms_per_shard == pytest.approx(one.time_ms_per_shard / 4, rel=1e-3)
    assert four.cpu_ms_per_query == pytest.approx(4 * four.time_ms_per_shard)


def test_hnsw_searches_at_least_k_candidates():
    a = ann.query_cost(1e6, 128, "hnsw", k=100, ef_search=16)
    b = ann.query_cost(1e6, 128, "hnsw", k=100, ef_search=100)
    assert a.time_ms_per_shard == b.time_ms_per_shard


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(n=N, factor=st.floats(min_value=1.0, max_value=1e3), d=DIM, kind=KIND)
def test_bigger_index_never_uses_less_memory(n, factor, d, kind):
    a = ann.index_memory(n, d, kind)
    b = ann.index_memory(n * factor, d, kind)
    c = ann.index_memory(n, d + 1, kind)
    assert b.total_gb >= a.total_gb * (1 - 1e-12)
    assert c.total_gb >= a.total_gb * (1 - 1e-12)
    assert math.isfinite(b.total_gb)


@settings(max_examples=300, deadline=None)
@given(n=st.floats(min_value=1.0, max_value=1e10), factor=st.floats(min_value=1.0, max_value=1e3), d=DIM,
       kind=KIND, k=st.integers(1, 1000), nprobe=st.integers(1, 4096), ef=st.integers(1, 1024),
       shards=st.integers(1, 64))
def test_query_cost_never_falls_as_the_search_grows(n, factor, d, kind, k, nprobe, ef, shards):
    base = dict(k=k, nprobe=nprobe, ef_search=ef, shards=shards)
    a = ann.query_cost(n, d, kind, **base)
    assert math.isfinite(a.time_ms_per_shard) and a.time_ms_per_shard > 0
    grown = [
        ann.query_cost(n * factor, d, kind, **base),
        ann.query_cost(n, d * 2, kind, **base),
        ann.query_cost(n, d, kind, **{**base, "k": k * 2}),
        ann.query_cost(n, d, kind, **{**base, "nprobe": nprobe * 2}),
        ann.query_cost(n, d, kind, **{**base, "ef_search": ef * 2}),
    ]
    for b in grown:
        assert b.time_ms_per_shard >= a.time_ms_per_shard * (1 - 1e-9)


@settings(max_examples=200, deadline=None)
@given(n=N, factor=st.floats(min_value=1.0, max_value=1e3), d=DIM, bw=st.floats(min_value=0.1, max_value=1000))
def test_scan_time_grows_with_n_and_falls_with_bandwidth(n, factor, d, bw):
    a = ann.brute_force_scan(n, d, bw)
    assert ann.brute_force_scan(n * factor, d, bw).time_ms_per_shard >= a.time_ms_per_shard
    assert ann.brute_force_scan(n, d, bw * 2).time_ms_per_shard <= a.time_ms_per_shard


@settings(max_examples=200, deadline=None)
@given(size=st.floats(min_value=1e-3, max_value=1e6), node=st.floats(min_value=1, max_value=4096),
       share=st.floats(min_value=0.05, max_value=1.0))
def test_shards_hold_the_index(size, node, share):
    s = ann.shards_for(size, node, share)
    assert s.gb_per_shard <= s.usable_gb_per_node * (1 + 1e-9)
    assert s.shards == 1 or (s.shards - 1) * s.usable_gb_per_node < size * (1 + 1e-9)
