"""Conversions to NetworkX: one window of a dynamic graph, and a static call graph."""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data

from graphad.exceptions import GraphadInputError
from graphad.graph import features as feat
from graphad.graph.calls import span_calls
from graphad.graph.rules import NodeRule
from graphad.graph.vocab import NodeVocab
from graphad.ingest.schema import require_columns
from graphad.ingest.telemetry import Telemetry

__all__ = ["window_to_networkx", "call_graph"]

_SPAN_COLUMNS = ("trace_id", "span_id", "parent_id", "service", "duration_ns", "status")


def window_to_networkx(
    window: Data,
    vocab: NodeVocab | Sequence[str],
    feature_names: Sequence[str] | None = None,
    edge_feature_names: Sequence[str] = feat.EDGE_FEATURES,
) -> nx.DiGraph:
    """One window as a ``networkx.DiGraph`` keyed by node name.

    Node attributes: ``id`` (row in ``x``), ``present`` (``node_mask``), one attribute per
    feature name holding the feature's mean over the window's steps, and every other
    per-node vector of the window (``y``, ``rc_mask``, scores, ...) as a scalar. Edge
    attributes: one per edge feature (``calls``, ``errors``, ``latency`` in ms). Graph
    attributes: ``window_start``, ``window_end``.

    Args:
        window: A window of a :class:`~graphad.graph.DynamicGraph`.
        vocab: Node names in id order.
        feature_names: Names of the ``F`` features (default ``"f0"``, ``"f1"``, ...).
        edge_feature_names: Names of the edge features.

    Returns:
        A ``networkx.DiGraph`` with all ``N`` nodes (absent ones have ``present=False``).

    Raises:
        GraphadInputError: The vocabulary and the window disagree on ``N``.

    Example:
        >>> w = Data(x=torch.tensor([[[1.0], [3.0]], [[0.0], [0.0]]]),
        ...          edge_index=torch.tensor([[0], [1]]),
        ...          edge_attr=torch.tensor([[4.0, 1.0, 2.5]]),
        ...          node_mask=torch.tensor([True, False]))
        >>> g = window_to_networkx(w, ["web", "db"], ["req"])
        >>> g.nodes["web"], g.edges["web", "db"]["calls"]
        ({'id': 0, 'present': True, 'req': 2.0}, 4.0)
    """
    names = vocab.names if isinstance(vocab, NodeVocab) else [str(v) for v in vocab]
    n = len(names)
    x = window.x
    if x is not None and x.size(0) != n:
        raise GraphadInputError(
            "vocabulary and window disagree on the number of nodes",
            field="vocab",
            expected=f"{x.size(0)} names",
            found=n,
        )
    graph = nx.DiGraph()
    for key in ("window_start", "window_end"):
        if key in window:
            graph.graph[key] = int(window[key].view(-1)[0])
    node_attrs = [dict(id=i) for i in range(n)]
    mask = window.node_mask if "node_mask" in window else torch.ones(n, dtype=torch.bool)
    for i, flag in enumerate(mask.tolist()):
        node_attrs[i]["present"] = bool(flag)
    if x is not None:
        means = (x.float().mean(dim=1) if x.dim() == 3 else x.float()).reshape(n, -1)
        fnames = (
            list(feature_names)
            if feature_names is not None
            else [f"f{j}" for j in range(means.size(1))]
        )
        for j, fname in enumerate(fnames):
            for i, value in enumerate(means[:, j].tolist()):
                node_attrs[i][fname] = value
    for key in window.keys():
        value = window[key]
        if key in ("x", "node_mask") or not torch.is_tensor(value):
            continue
        if (
            value.dim() == 1
            and value.size(0) == n
            and "index" not in key
            and not key.startswith("edge")
        ):
            for i, v in enumerate(value.tolist()):
                node_attrs[i][key] = v
    graph.add_nodes_from((names[i], node_attrs[i]) for i in range(n))
    edge_index = window.edge_index if "edge_index" in window else None
    if edge_index is not None and edge_index.numel():
        attr = window.edge_attr if "edge_attr" in window else None
        enames = list(edge_feature_names)
        for e, (s, d) in enumerate(edge_index.t().tolist()):
            attrs = (
                {}
                if attr is None
                else {
                    enames[k] if k < len(enames) else f"e{k}": float(v)
                    for k, v in enumerate(attr[e].tolist())
                }
            )
            graph.add_edge(names[s], names[d], **attrs)
    return graph


def call_graph(
    spans: pd.DataFrame | Telemetry, node_rule: str | NodeRule | None = None
) -> nx.DiGraph:
    """The static call graph of a set of spans, caller -> callee.

    A call is a span whose parent span (same trace) belongs to another node (after
    ``node_rule``), as in :mod:`graphad.graph.features`. Edge attributes: ``calls``,
    ``errors`` (int) and ``latency`` (mean call duration, ms). Node attributes:
    ``requests``, ``errors`` (server-side spans of the node) and ``latency`` (their mean
    duration, ms). Every node of the spans is in the graph, called or not.

    Args:
        spans: Canonical spans, or a :class:`~graphad.ingest.telemetry.Telemetry`.
        node_rule: Name mapping (``"service"``, ``"identity"``, a callable); ``None``:
            the telemetry's rule (``"identity"`` for a plain frame).

    Returns:
        ``networkx.DiGraph`` with sorted nodes.

    Raises:
        SchemaError: A required column is missing.

    Example:
        >>> spans = pd.DataFrame({"trace_id": ["t"] * 3, "span_id": ["a", "b", "c"],
        ...     "parent_id": ["", "a", "a"], "service": ["web", "db", "db"],
        ...     "duration_ns": [9_000_000, 1_000_000, 3_000_000], "status": [0, 0, 1]})
        >>> g = call_graph(spans)
        >>> sorted(g.nodes), g.edges["web", "db"]
        (['db', 'web'], {'calls': 2, 'errors': 1, 'latency': 2.0})
    """
    telemetry = spans if isinstance(spans, Telemetry) else None
    if telemetry is not None:
        spans = telemetry.spans
    if not isinstance(spans, pd.DataFrame):
        raise GraphadInputError(
            "spans must be a pandas DataFrame", source="spans", found=type(spans).__name__
        )
    require_columns(spans, _SPAN_COLUMNS, "spans")
    calls = span_calls(telemetry if telemetry is not None else spans, node_rule)
    vocab, node, src = calls.names, calls.node, calls.caller
    duration = spans["duration_ns"].to_numpy().astype(np.int64)
    status = (spans["status"].to_numpy() != 0).astype(np.float64)
    zero = np.zeros(len(spans), dtype=np.int64)
    edges = feat.span_edges(zero, src, node, duration, status, len(vocab))
    request = feat.request_mask(spans["kind"] if "kind" in spans.columns else None, len(spans))
    stats = feat.span_features(
        zero[request], node[request], duration[request], status[request], 1, len(vocab)
    )[0]
    graph = nx.DiGraph()
    for i, name in enumerate(vocab):
        graph.add_node(
            name, requests=int(stats[i, 0]), errors=int(stats[i, 1]), latency=float(stats[i, 2])
        )
    for k in range(len(edges)):
        graph.add_edge(
            vocab[edges.src[k]],
            vocab[edges.dst[k]],
            calls=int(edges.calls[k]),
            errors=int(edges.errors[k]),
            latency=float(edges.latency_sum_ms[k] / edges.calls[k]),
        )
    return graph
