"""A stable node layout, computed once and reused by every frame of a picture series."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np

from graphad.exceptions import GraphadInputError
from graphad.graph.dynamic import DynamicGraph

__all__ = ["graph_layout", "union_graph", "window_graph", "Layout"]

#: Node name -> ``(x, y)`` position.
Layout = dict[str, tuple[float, float]]

_METHODS = ("auto", "layered", "spring", "circular", "grid")


def window_graph(graph: DynamicGraph, index: int, weight: str = "calls") -> nx.DiGraph:
    """The caller -> callee graph of one window, every vocabulary node included.

    A thin layer over :func:`graphad.graph.window_to_networkx` that also stores the edge
    feature ``weight`` (call volume by default) as the ``weight`` attribute the pictures
    draw as line width (1 when the graph has no such edge feature).

    Args:
        graph: The dynamic graph.
        index: Window index (negative counts from the end).
        weight: Edge feature used as the ``weight`` edge attribute.

    Returns:
        A ``networkx.DiGraph`` with node attribute ``present`` (the window's node mask)
        and edge attribute ``weight``.

    Example:
        >>> import torch
        >>> from torch_geometric.data import Data
        >>> from graphad.graph import NodeVocab
        >>> w = Data(x=torch.zeros(2, 1, 1), edge_index=torch.tensor([[0], [1]]),
        ...          edge_attr=torch.tensor([[7.0]]), node_mask=torch.tensor([True, True]))
        >>> g = window_graph(DynamicGraph(NodeVocab(["a", "b"]), [w], ["v"], ["calls"]), 0)
        >>> list(g.edges(data="weight"))
        [('a', 'b', 7.0)]
    """
    from graphad.graph.convert import window_to_networkx

    window = graph[index]
    edge_names = graph.edge_feature_names or ["calls", "errors", "latency"]
    out = window_to_networkx(window, graph.vocab, graph.feature_names, edge_names)
    for _, _, attrs in out.edges(data=True):
        attrs["weight"] = float(attrs.get(weight, 1.0))
    return out


def union_graph(graph: DynamicGraph | Sequence[nx.DiGraph], weight: str = "calls") -> nx.DiGraph:
    """The union of the windows' graphs; edge ``weight`` summed over windows.

    Args:
        graph: A dynamic graph or a sequence of ``networkx`` graphs.
        weight: Edge feature used as the weight of a dynamic graph's edges.

    Returns:
        A ``networkx.DiGraph`` holding every node and every edge seen.
    """
    frames = (
        [window_graph(graph, i, weight) for i in range(len(graph))]
        if isinstance(graph, DynamicGraph)
        else list(graph)
    )
    out = nx.DiGraph()
    if isinstance(graph, DynamicGraph):
        out.add_nodes_from(graph.vocab.names)
    for frame in frames:
        out.add_nodes_from(frame.nodes)
        for u, v, w in frame.edges(data="weight", default=1.0):
            previous = out.get_edge_data(u, v, {}).get("weight", 0.0)
            out.add_edge(u, v, weight=previous + float(w))
    return out


def _layers(graph: nx.DiGraph) -> dict[Any, int]:
    """Depth of each node: callers (entry points) at 0, callees deeper; cycles share."""
    dag = nx.condensation(graph)
    depth: dict[int, int] = {}
    for component in nx.topological_sort(dag):
        parents = list(dag.predecessors(component))
        depth[component] = 1 + max(depth[p] for p in parents) if parents else 0
    members = dag.graph["mapping"]
    return {node: depth[members[node]] for node in graph.nodes}


def _layered(graph: nx.DiGraph) -> Layout:
    connected = [n for n in graph.nodes if graph.degree(n) > 0]
    isolated = [n for n in graph.nodes if graph.degree(n) == 0]
    depth = _layers(graph.subgraph(connected)) if connected else {}
    rows: dict[int, list[Any]] = {}
    for node in sorted(connected, key=str):
        rows.setdefault(depth[node], []).append(node)
    if isolated:
        rows[max(rows, default=-1) + 1] = sorted(isolated, key=str)
    pos: Layout = {}
    for level in sorted(rows):
        row = rows[level]
        if level > 0:  # barycentre ordering under the callers reduces crossings

            def centre(n: Any) -> float:
                xs = [pos[p][0] for p in graph.predecessors(n) if p in pos]
                return float(np.mean(xs)) if xs else 0.0

            row.sort(key=lambda n: (centre(n), str(n)))
        xs = np.linspace(-1.0, 1.0, len(row)) if len(row) > 1 else np.zeros(1)
        for node, x in zip(row, xs, strict=False):
            pos[node] = (float(x), float(-level))
    return pos


def _grid(nodes: Sequence[Any]) -> Layout:
    cols = max(1, math.ceil(math.sqrt(len(nodes))))
    return {n: (float(i % cols), float(-(i // cols))) for i, n in enumerate(nodes)}


def graph_layout(
    graph: nx.Graph | DynamicGraph,
    method: str = "auto",
    seed: int = 0,
) -> Layout:
    """Node positions computed once (e.g. from the union graph) and passed to every frame.

    Args:
        graph: A ``networkx`` graph, or a dynamic graph (its :func:`union_graph` is laid
            out, so every node has a position even if absent from some windows).
        method: ``"layered"`` (callers above callees, so an anomaly spreading from a
            callee to its callers moves upwards), ``"spring"`` (force-directed, seeded),
            ``"circular"``, ``"grid"``, or ``"auto"`` (layered when the graph has edges,
            a grid otherwise).
        seed: Seed of the spring layout; the same seed gives the same positions.

    Returns:
        ``{node: (x, y)}``.

    Example:
        >>> g = nx.DiGraph([("web", "api"), ("api", "db")])
        >>> pos = graph_layout(g)
        >>> pos["web"][1] > pos["api"][1] > pos["db"][1]
        True
        >>> graph_layout(g, "spring", seed=1) == graph_layout(g, "spring", seed=1)
        True
    """
    if isinstance(graph, DynamicGraph):
        graph = union_graph(graph)
    if not isinstance(graph, nx.Graph):
        raise GraphadInputError(
            "cannot lay out this object",
            field="graph",
            expected="a networkx graph or a DynamicGraph",
            found=type(graph).__name__,
        )
    if method not in _METHODS:
        raise GraphadInputError(
            f"Could not resolve '{method}' among choices {list(_METHODS)}", field="method"
        )
    directed = graph if graph.is_directed() else graph.to_directed()
    if method == "auto":
        method = "layered" if graph.number_of_edges() else "grid"
    if method == "layered":
        return _layered(directed)
    if method == "grid":
        return _grid(sorted(graph.nodes, key=str))
    if method == "circular":
        raw: Mapping = nx.circular_layout(sorted(graph.nodes, key=str))
    else:
        raw = nx.spring_layout(graph, seed=seed)
    return {n: (float(p[0]), float(p[1])) for n, p in raw.items()}
