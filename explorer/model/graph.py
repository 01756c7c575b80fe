"""The pattern as a networkx graph, and the structural questions asked of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:  # pragma: no cover
    from explorer.model.loader import ResolvedPattern


def build_graph(rp: ResolvedPattern) -> nx.MultiDiGraph:
    """Nodes are component ids (in file order), edges are connections (key = index in the file).

    Node attributes: ``label``, ``type``, ``category``, ``hardware``, ``tier``.
    Edge attributes: ``index``, ``kind``, ``connection`` (the model).

    Examples
    --------
    >>> from explorer.model.loader import load_pattern, ARCHITECTURES_DIR
    >>> G = load_pattern(ARCHITECTURES_DIR / "two_stage_recommender.yaml").graph
    >>> G.nodes["api"]["tier"]
    'online'
    """
    p = rp.pattern
    G = nx.MultiDiGraph(id=p.id, title=p.title)
    for c in p.components:
        t = rp.types[c.id]
        G.add_node(c.id, label=c.label or t.label, type=c.type, category=t.category,
                   hardware=t.hardware, tier=c.tier)
    for i, cn in enumerate(p.connections):
        G.add_edge(cn.source, cn.target, key=i, index=i, kind=cn.kind, connection=cn)
    tiers = derive_tiers(G, p.request.entry if p.request else None, [st.entry for st in p.streams])
    for node, tier in tiers.items():
        if G.nodes[node]["tier"] is None:
            G.nodes[node]["tier"] = tier
    return G


def edges_of_kind(G: nx.MultiDiGraph, *kinds: str) -> nx.DiGraph:
    """A simple DiGraph over all nodes with only the edges of the given kinds."""
    H = nx.DiGraph()
    H.add_nodes_from(G.nodes)
    H.add_edges_from((u, v) for u, v, k in G.edges(data="kind") if k in kinds)
    return H


def derive_tiers(G: nx.MultiDiGraph, entry: str | None, stream_entries: list[str] | None = None) -> dict[str, str]:
    """online: on the sync request path; nearline: fed asynchronously from it, or by a traffic stream;
    offline: the rest (a component's explicit ``tier`` wins over this)."""
    tiers = {n: "offline" for n in G.nodes}
    roots = [r for r in [entry, *(stream_entries or [])] if r is not None and r in G]
    sync = edges_of_kind(G, "sync")
    both = edges_of_kind(G, "sync", "async")
    online: set[str] = set()
    if entry is not None and entry in G:
        online = {entry} | nx.descendants(sync, entry) | nx.ancestors(sync, entry)
    reach: set[str] = set()
    for r in roots:
        reach |= {r} | nx.descendants(both, r)
    nearline = reach - online
    for n in nearline:
        tiers[n] = "nearline"
    for n in online:
        tiers[n] = "online"
    return tiers


def request_path(G: nx.MultiDiGraph, entry: str) -> nx.DiGraph:
    """The synchronous subgraph reachable from the entry (acyclic by validation)."""
    sync = edges_of_kind(G, "sync")
    reach = {entry} | nx.descendants(sync, entry)
    # Built in the pattern's order: a subgraph view of a small node set iterates the set, in hash order,
    # which changes between processes and so did the order of figures in the output.
    H = nx.DiGraph()
    H.add_nodes_from(n for n in sync if n in reach)
    H.add_edges_from((u, v) for u, v in sync.edges if u in reach and v in reach)
    return H


def propagation_order(G: nx.MultiDiGraph, sources: list[str], kinds: tuple[str, ...]) -> tuple[list[str], set[tuple[str, str, int]]]:
    """Order to push traffic from ``sources`` over edges of ``kinds``, and the edges left out.

    Feedback loops are real cycles on async/batch edges; traffic is not sent
    round them twice. A depth-first search from the sources in file order
    marks each edge that closes a cycle (a back edge) and leaves it out; the
    rest is a DAG and is returned in topological order.
    """
    cache = G.graph.setdefault("_out_edges", {})
    if kinds not in cache:
        cache[kinds] = {n: sorted(((v, k) for _, v, k, kind in G.out_edges(n, keys=True, data="kind")
                                   if kind in kinds), key=lambda e: e[1]) for n in G.nodes}
        cache[("order",)] = {n: i for i, n in enumerate(G.nodes)}
    out_edges = cache[kinds]
    order_index = cache[("order",)]
    back: set[tuple[str, str, int]] = set()
    state: dict[str, int] = {}  # 1 = on stack, 2 = done
    for s in sources:
        if s in state:
            continue
        stack = [(s, iter(out_edges[s]))]
        state[s] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                continue
            v, k = nxt
            if state.get(v) == 1:
                back.add((node, v, k))
            elif v not in state:
                state[v] = 1
                stack.append((v, iter(out_edges[v])))
    reached = set(state)
    D = nx.DiGraph()
    D.add_nodes_from(sorted(reached, key=order_index.get))
    D.add_edges_from((u, v) for u in reached for v, k in out_edges[u] if (u, v, k) not in back)
    order = list(nx.lexicographical_topological_sort(D, key=order_index.get))
    return order, back
