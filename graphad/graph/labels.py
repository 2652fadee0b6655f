"""Ground-truth labels on the windows of a dynamic graph (fault onset + root cause)."""

from __future__ import annotations

import copy
from collections.abc import Iterable

import numpy as np
import torch

from graphad.exceptions import GraphadInputError, UnknownNodeError
from graphad.graph.dynamic import DynamicGraph
from graphad.graph.rules import NodeRule, resolve_node_rule

__all__ = ["label_windows"]


def label_windows(
    graph: DynamicGraph,
    onset_ns: int,
    root_cause: str | Iterable[str],
    *,
    end_ns: int | None = None,
    node_rule: str | NodeRule | None = None,
) -> DynamicGraph:
    """Label every window of ``graph`` with a fault that starts at ``onset_ns``.

    * ``y_window [1]`` (long): 1 when the window overlaps the fault, i.e.
      ``window_end > onset_ns`` and (if ``end_ns`` is given) ``window_start < end_ns``;
    * ``rc_mask [N]`` (bool): the root-cause node(s), the same in every window;
    * ``y [N]`` (long): 1 for root-cause nodes in a faulty window, else 0.

    At ``granularity="metric"`` (``graph.meta["entities"]`` present) a root cause names an
    entity and marks every series of that entity; a full series name (``"cart/cpu"``)
    marks only that series.

    Args:
        graph: The graph; it is not modified.
        onset_ns: Fault start (int ns).
        root_cause: Root-cause node name(s) (raw names are mapped with ``node_rule``).
        end_ns: Fault end (exclusive), default: open-ended.
        node_rule: Mapping applied to ``root_cause`` first (e.g. ``"service"`` to turn a
            pod name into the service nodes the graph was built with).

    Returns:
        A new :class:`DynamicGraph` whose windows are shallow copies carrying the labels.

    Raises:
        UnknownNodeError: A root cause is not a node (nor an entity) of the graph.

    Example:
        >>> from torch_geometric.data import Data
        >>> from graphad.graph.vocab import NodeVocab
        >>> ws = [Data(x=torch.zeros(2, 1, 1), window_start=torch.tensor([s]),
        ...            window_end=torch.tensor([s + 10])) for s in (0, 10, 20)]
        >>> g = label_windows(DynamicGraph(NodeVocab(["a", "b"]), ws, ["v"]), 15, "b")
        >>> [int(w.y_window) for w in g], g[2].y.tolist(), g[0].y.tolist()
        ([0, 1, 1], [0, 1], [0, 0])
    """
    rc_mask = _root_cause_mask(graph, root_cause, node_rule)
    windows = []
    for window in graph.windows:
        start = int(window.window_start.view(-1)[0])
        end = int(window.window_end.view(-1)[0])
        faulty = end > int(onset_ns) and (end_ns is None or start < int(end_ns))
        labelled = copy.copy(window)
        labelled.y_window = torch.tensor([int(faulty)], dtype=torch.long)
        labelled.rc_mask = rc_mask.clone()
        labelled.y = (rc_mask & faulty).long()
        windows.append(labelled)
    meta = dict(graph.meta)
    meta["labels"] = {
        "onset_ns": int(onset_ns),
        "end_ns": None if end_ns is None else int(end_ns),
        "root_cause": _names(root_cause),
    }
    return DynamicGraph(
        graph.vocab, windows, graph.feature_names, graph.edge_feature_names, graph.spec, meta
    )


def _names(root_cause) -> list[str]:
    if isinstance(root_cause, str):
        return [root_cause]
    names = [str(r) for r in root_cause]
    if not names:
        raise GraphadInputError(
            "no root cause given", field="root_cause", expected="a node name", found="[]"
        )
    return names


def _root_cause_mask(graph: DynamicGraph, root_cause, node_rule) -> torch.Tensor:
    names = resolve_node_rule(node_rule)(_names(root_cause)).astype(str).tolist()
    mask = np.zeros(graph.num_nodes, dtype=bool)
    node_names = graph.vocab.names
    entities = np.asarray(graph.meta.get("entities", node_names), dtype=object)
    for name in names:
        if name in graph.vocab:
            mask[node_names.index(name)] = True
        elif (entities == name).any():
            mask |= entities == name
        else:
            raise UnknownNodeError(
                "root cause is not a node of the graph",
                field="root_cause",
                expected=f"one of {node_names[:10]}" + ("..." if len(node_names) > 10 else ""),
                found=repr(name),
            )
    return torch.from_numpy(mask)
