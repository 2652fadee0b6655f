"""The learned (adaptive) adjacency next to the observed call graph."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np

from graphad.exceptions import GraphadInputError
from graphad.graph.dynamic import DynamicGraph
from graphad.viz._base import as_array, get_cmap, new_figure
from graphad.viz.layout import union_graph

__all__ = ["plot_adjacency", "adjacency_matrix"]


def adjacency_matrix(
    adjacency: Any, num_nodes: int, node_names: Sequence[str] | None = None
) -> np.ndarray:
    """A dense ``[N, N]`` matrix from any adjacency form.

    Args:
        adjacency: A dense ``[N, N]`` tensor/array; a sparse pair
            ``(edge_index [2, E], edge_weight [E])``; an ``edge_index`` ``[2, E]`` alone
            (weights 1); a ``networkx`` graph (edge ``weight``, nodes matched to
            ``node_names``); or a :class:`~graphad.graph.DynamicGraph` (union of windows).
        num_nodes: ``N``.
        node_names: Node names, needed for ``networkx`` / dynamic-graph input.

    Returns:
        ``np.ndarray`` ``[N, N]``; entry ``(i, j)`` is the weight of edge ``i -> j``
        (duplicate sparse entries are summed).

    Example:
        >>> import torch
        >>> adjacency_matrix((torch.tensor([[0, 1], [1, 0]]), torch.tensor([0.5, 2.0])), 2)
        array([[0. , 0.5],
               [2. , 0. ]])
    """
    if isinstance(adjacency, DynamicGraph):
        adjacency = union_graph(adjacency)
    if isinstance(adjacency, nx.Graph):
        names = list(node_names) if node_names is not None else list(adjacency.nodes)
        index = {n: i for i, n in enumerate(names)}
        out = np.zeros((num_nodes, num_nodes))
        for u, v, w in adjacency.edges(data="weight", default=1.0):
            if u in index and v in index:
                out[index[u], index[v]] += float(w)
        return out
    weight = None
    if isinstance(adjacency, (tuple, list)) and len(adjacency) == 2:
        adjacency, weight = adjacency
    array = as_array(adjacency, "adjacency")
    if array.shape == (num_nodes, num_nodes) and weight is None:
        return array
    if array.ndim == 2 and array.shape[0] == 2:
        edges = array.astype(np.int64)
        values = np.ones(edges.shape[1]) if weight is None else as_array(weight, "edge_weight", 1)
        if values.shape[0] != edges.shape[1] or (
            edges.size and (edges.min() < 0 or edges.max() >= num_nodes)
        ):
            raise GraphadInputError(
                "sparse adjacency does not fit the nodes",
                field="adjacency",
                expected=f"ids in 0..{num_nodes - 1}, one weight per edge",
                found=f"edge_index {edges.shape}, weights {values.shape}",
            )
        out = np.zeros((num_nodes, num_nodes))
        np.add.at(out, (edges[0], edges[1]), values)
        return out
    raise GraphadInputError(
        "unreadable adjacency",
        field="adjacency",
        expected=f"[{num_nodes}, {num_nodes}] or ([2, E], [E])",
        found=f"shape {array.shape}",
    )


#: Smallest share of a panel's largest entry drawn (smaller ones are drawn as none).
FLOOR = 1e-3


def _matrix_panel(ax: Any, matrix: np.ndarray, names: list[str], title: str, cmap: Any, norm: Any):
    peak = float(np.nanmax(matrix)) if matrix.size else 0.0
    share = matrix / peak if peak > 0 else np.zeros_like(matrix)
    shown = np.ma.masked_less(share, FLOOR)
    image = ax.imshow(shown, cmap=cmap, norm=norm, interpolation="nearest", aspect="equal")
    ticks = np.arange(len(names))
    fontsize = 7 if len(names) <= 20 else 5
    if len(names) <= 40:
        ax.set_xticks(ticks, names, rotation=90, fontsize=fontsize)
        ax.set_yticks(ticks, names, fontsize=fontsize)
    largest = f"{peak:,.0f}" if peak >= 1000 else f"{peak:.3g}"
    ax.set_title(f"{title}\n(largest = {largest})", fontsize=9)
    ax.set_ylabel("caller (source)", fontsize=8)
    ax.set_xlabel("callee (target)", fontsize=8)
    return image


def plot_adjacency(
    learned: Any,
    call_graph: Any = None,
    *,
    node_names: Sequence[str] | None = None,
    cmap: str | Any = "Blues",
    title: str | None = None,
    figsize: tuple[float, float] = (10.0, 5.0),
    dpi: float = 100.0,
) -> Any:
    """The learned adjacency (left) next to the observed call graph (right).

    Both panels use one orientation, row = caller / source, column = callee / target
    (the direction of ``edge_index``: a learned edge ``j -> i`` carries messages from
    ``j`` to ``i``, as a call goes from caller to callee), the same node order, and one
    log colour scale: each entry as a share of its panel's largest (written in the
    panel title), entries under :data:`FLOOR` of it left white.

    Args:
        learned: The learned adjacency, dense ``[N, N]`` (entry ``(i, j)`` = edge
            ``i -> j``) or ``(edge_index, edge_weight)`` as returned by a detector's
            ``learned_adjacency``.
        call_graph: The observed caller -> callee graph (``networkx``, ``edge_index``, or
            a dynamic graph); ``None`` draws the learned panel only.
        node_names: The ``N`` node names (default ``0..N-1`` or the call graph's nodes).
        cmap: Colormap.
        title: Figure title.
        figsize: Inches.
        dpi: Dots per inch.

    Returns:
        The :class:`~matplotlib.figure.Figure`.

    Shapes:
        ``learned``: ``[N, N]`` or ``([2, E], [E])``.

    Example:
        >>> import torch
        >>> fig = plot_adjacency(torch.eye(2), nx.DiGraph([("a", "b")]), node_names=["a", "b"])
        >>> [ax.get_title().split(chr(10))[0] for ax in fig.axes[:2]]
        ['learned adjacency', 'observed calls']
    """
    from matplotlib.colors import LogNorm

    from graphad.viz._base import add_colorbar

    if node_names is None:
        if isinstance(call_graph, DynamicGraph):
            node_names = call_graph.vocab.names
        elif isinstance(call_graph, nx.Graph):
            node_names = list(call_graph.nodes)
    if node_names is None:
        dense = learned if not isinstance(learned, (tuple, list)) else None
        if dense is None:
            raise GraphadInputError(
                "node_names are needed for a sparse adjacency", field="node_names"
            )
        node_names = [str(i) for i in range(as_array(dense, "learned").shape[0])]
    names = [str(n) for n in node_names]
    count = len(names)
    colormap = get_cmap(cmap)
    norm = LogNorm(vmin=FLOOR, vmax=1.0)
    fig = new_figure(figsize if call_graph is not None else (figsize[0] / 2 + 0.5, figsize[1]), dpi)
    panels = 2 if call_graph is not None else 1
    axes = fig.subplots(1, panels, squeeze=False)[0]
    matrix = adjacency_matrix(learned, count, names)
    image = _matrix_panel(axes[0], matrix, names, "learned adjacency", colormap, norm)
    if call_graph is not None:
        observed = adjacency_matrix(call_graph, count, names)
        _matrix_panel(axes[1], observed, names, "observed calls", colormap, norm)
    bar = add_colorbar(fig, image, "share of the panel's largest entry", ax=list(axes), shrink=0.7)
    ticks = [0.001, 0.01, 0.1, 1.0]
    bar.set_ticks(ticks, labels=[f"{t:g}" for t in ticks])
    bar.ax.set_ylabel("share of the panel's largest entry (log scale)")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
