"""The service graph of one window: nodes coloured by anomaly score, edges by call volume."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np

from graphad.exceptions import GraphadInputError
from graphad.graph.dynamic import DynamicGraph
from graphad.rca.result import RCAResult
from graphad.viz._base import (
    SCORE_LABEL,
    add_colorbar,
    color_norm,
    get_cmap,
    new_figure,
    score_map,
    truth_handle,
)
from graphad.viz.layout import Layout, graph_layout, window_graph

__all__ = ["plot_service_graph", "draw_service_graph", "ranked_nodes"]

#: Colour of nodes without a score.
MISSING_COLOR = (0.85, 0.85, 0.85, 1.0)


def ranked_nodes(ranking: RCAResult | Sequence[str] | None, top_k: int) -> list[str]:
    """The ``top_k`` first nodes of a ranking (an :class:`RCAResult` or a list of names).

    Example:
        >>> ranked_nodes(RCAResult(["db", "api"], [2.0, 1.0]), 1)
        ['db']
    """
    if ranking is None or top_k <= 0:
        return []
    names = ranking.nodes if isinstance(ranking, RCAResult) else list(ranking)
    return [str(n) for n in names[:top_k]]


def _edge_widths(graph: nx.DiGraph, max_width: float) -> dict[tuple, float]:
    weights = {(u, v): float(w) for u, v, w in graph.edges(data="weight", default=1.0)}
    top = max((w for w in weights.values() if np.isfinite(w)), default=1.0) or 1.0
    return {e: 0.6 + (max_width - 0.6) * max(w, 0.0) / top for e, w in weights.items()}


def _draw_edges(
    ax: Any, graph: nx.DiGraph, pos: Layout, node_size: float, max_width: float
) -> None:
    from matplotlib.patches import FancyArrowPatch

    radius = float(np.sqrt(node_size)) / 2.0 + 2.0  # points
    for (u, v), width in _edge_widths(graph, max_width).items():
        if u == v or u not in pos or v not in pos:
            continue
        bend = 0.15 if graph.has_edge(v, u) else 0.0
        arrow = FancyArrowPatch(
            pos[u],
            pos[v],
            arrowstyle="-|>",
            mutation_scale=8 + 2 * width,
            linewidth=width,
            color=(0.45, 0.45, 0.5, 0.8),
            shrinkA=radius,
            shrinkB=radius,
            connectionstyle=f"arc3,rad={bend}",
            zorder=1,
        )
        ax.add_patch(arrow)


def _draw_labels(ax: Any, nodes: list, pos: Layout, labels: Any, node_size: float) -> None:
    text = labels if isinstance(labels, Mapping) else {n: str(n) for n in nodes}
    rows: dict[float, list] = {}
    for n in nodes:
        rows.setdefault(round(pos[n][1], 6), []).append(n)
    radius = np.sqrt(node_size) / 2
    for row in rows.values():
        row.sort(key=lambda n: pos[n][0])
        for i, n in enumerate(row):
            drop = radius + 2 + (8 if i % 2 and len(row) > 2 else 0)
            ax.annotate(
                text.get(n, str(n)),
                pos[n],
                xytext=(0, -drop),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=7,
                zorder=3,
            )


def draw_service_graph(
    ax: Any,
    graph: nx.DiGraph,
    scores: Mapping[str, float] | Sequence[float] | Any = None,
    *,
    pos: Layout | None = None,
    node_names: Sequence[str] | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str | Any = "YlOrRd",
    ranking: RCAResult | Sequence[str] | None = None,
    top_k: int = 3,
    node_size: float = 500.0,
    max_edge_width: float = 5.0,
    labels: bool | Mapping[str, str] = True,
    scale: str = "linear",
    title: str | None = None,
) -> Any:
    """Draw a service graph on existing axes (the building block of every graph picture).

    Args:
        ax: Matplotlib axes.
        graph: Caller -> callee ``networkx.DiGraph``; edge attribute ``weight`` is the
            call volume (drawn as line width); node attribute ``present=False`` draws a
            node hollow (absent from the window).
        scores: Node anomaly scores: ``{node: score}`` or a vector aligned with
            ``node_names`` (default: ``graph.nodes`` order). Nodes without a score are grey.
        pos: Positions from :func:`~graphad.viz.layout.graph_layout` (computed when absent).
        node_names: Names of the entries of a score vector.
        vmin: Score of the lowest colour (fixed scale; default: the lowest score).
        vmax: Score of the highest colour (default: the highest score).
        cmap: Colormap name or object.
        ranking: Root-cause ranking; its ``top_k`` first nodes get a rank label ``#k``.
        top_k: How many ranked nodes to label.
        node_size: Marker area in points².
        max_edge_width: Line width of the busiest edge, in points.
        labels: Write node names under the nodes (``True``), or a mapping node -> label
            (e.g. from :func:`~graphad.viz._base.short_labels`), or ``False``. Labels of
            neighbours in a row alternate between two heights so long names stay legible.
        scale: Colour scale, ``"linear"`` or ``"log"`` (symmetric log, for heavy tails).
        title: Axes title.

    Returns:
        The ``PathCollection`` of the nodes (usable as a colorbar mappable).
    """
    if not isinstance(graph, nx.Graph):
        raise GraphadInputError(
            "expected a networkx graph", field="graph", found=type(graph).__name__
        )
    nodes = list(graph.nodes)
    pos = pos if pos is not None else graph_layout(graph)
    missing = [n for n in nodes if n not in pos]
    if missing:
        raise GraphadInputError(
            "layout has no position for some nodes",
            field="pos",
            expected="a position for every node",
            found=missing[:5],
        )
    values = score_map(scores, nodes, node_names)
    array = np.array([values[n] for n in nodes], dtype=np.float64)
    norm = color_norm(array, vmin, vmax, scale)
    colormap = get_cmap(cmap)
    colors = [colormap(norm(v)) if np.isfinite(v) else MISSING_COLOR for v in array]
    present = [graph.nodes[n].get("present", True) for n in nodes]
    faces = [c if p else (1.0, 1.0, 1.0, 1.0) for c, p in zip(colors, present, strict=False)]
    edges = [(0.2, 0.2, 0.2, 1.0) if p else c for c, p in zip(colors, present, strict=False)]
    _draw_edges(ax, graph, pos, node_size, max_edge_width)
    xy = np.array([pos[n] for n in nodes], dtype=np.float64).reshape(-1, 2)
    collection = ax.scatter(
        xy[:, 0], xy[:, 1], s=node_size, c=faces, edgecolors=edges, linewidths=1.0, zorder=2
    )
    collection.set_cmap(colormap)
    collection.set_norm(norm)
    collection.set_array(None)
    if labels is not False:
        _draw_labels(ax, nodes, pos, labels, node_size)
    for rank, name in enumerate(ranked_nodes(ranking, top_k), start=1):
        if name in pos:
            ax.annotate(
                f"#{rank}",
                pos[name],
                xytext=(0, np.sqrt(node_size) / 2 + 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
                fontweight="bold",
                color="darkred",
                zorder=4,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "darkred", "lw": 0.8},
            )
    if xy.size:
        span = np.ptp(xy, axis=0)
        pad = np.where(span > 0, 0.12 * span, 0.5)
        ax.set_xlim(xy[:, 0].min() - pad[0], xy[:, 0].max() + pad[0])
        ax.set_ylim(xy[:, 1].min() - pad[1], xy[:, 1].max() + pad[1])
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return collection


def _scalar_mappable(norm: Any, cmap: Any) -> Any:
    from matplotlib.cm import ScalarMappable

    return ScalarMappable(norm=norm, cmap=cmap)


def plot_service_graph(
    graph: nx.DiGraph | DynamicGraph,
    scores: Mapping[str, float] | Sequence[float] | Any = None,
    *,
    window: int = -1,
    pos: Layout | None = None,
    node_names: Sequence[str] | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str | Any = "YlOrRd",
    ranking: RCAResult | Sequence[str] | None = None,
    top_k: int = 3,
    title: str | None = None,
    figsize: tuple[float, float] = (6.0, 4.5),
    dpi: float = 100.0,
    colorbar: bool = True,
    scale: str = "linear",
    label: str = SCORE_LABEL,
    truth: str | None = None,
) -> Any:
    """Picture of the service graph of one window, coloured by anomaly score.

    Args:
        graph: A caller -> callee ``networkx.DiGraph`` (edge ``weight`` = call volume), or
            a :class:`~graphad.graph.DynamicGraph`, of which window ``window`` is drawn.
        scores: Node scores: a mapping, or a vector aligned with ``node_names`` (for a
            dynamic graph: its vocabulary order).
        window: Window to draw when ``graph`` is a dynamic graph.
        pos: A layout shared with other pictures (:func:`~graphad.viz.graph_layout`).
        node_names: Names of the entries of a score vector.
        vmin: Score of the lowest colour; pass the same ``vmin``/``vmax`` to pictures
            that must be compared.
        vmax: Score of the highest colour.
        cmap: Colormap.
        ranking: An :class:`~graphad.rca.RCAResult` or a list of names, best first.
        top_k: How many ranked nodes get a ``#rank`` label.
        title: Figure title.
        figsize: Inches; the saved image is ``figsize * dpi`` pixels.
        dpi: Dots per inch.
        colorbar: Draw the score colour bar.
        scale: Colour scale, ``"linear"`` or ``"log"``.
        label: What the colour shows (the colour-bar label), e.g. ``"req_count"`` when
            ``scores`` are a feature rather than anomaly scores.
        truth: The true root cause, when known (ringed in green, named in a legend).

    Returns:
        The :class:`~matplotlib.figure.Figure`.

    Example:
        >>> g = nx.DiGraph([("web", "api"), ("api", "db")])
        >>> fig = plot_service_graph(g, {"web": 0.2, "api": 0.4, "db": 1.0},
        ...                          vmin=0, vmax=1, ranking=["db"])
        >>> type(fig).__name__
        'Figure'
    """
    if isinstance(graph, DynamicGraph):
        node_names = node_names if node_names is not None else graph.vocab.names
        pos = pos if pos is not None else graph_layout(graph)
        graph = window_graph(graph, window)
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    collection = draw_service_graph(
        ax,
        graph,
        scores,
        pos=pos,
        node_names=node_names,
        vmin=vmin,
        vmax=vmax,
        cmap=cmap,
        ranking=ranking,
        top_k=top_k,
        scale=scale,
    )
    if truth is not None and truth in graph:
        where = pos if pos is not None else graph_layout(graph)
        x, y = where[truth]
        ax.scatter([x], [y], s=1200.0, facecolors="none", edgecolors="tab:green", linewidths=2.2)
        ax.legend(handles=[truth_handle()], loc="lower left", fontsize=8, frameon=False)
    if colorbar:
        add_colorbar(
            fig, _scalar_mappable(collection.norm, collection.cmap), label, ax=ax, shrink=0.8
        )
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
