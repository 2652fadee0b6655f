"""Node x time heat map of anomaly scores, with the onset and the threshold marked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from graphad.exceptions import GraphadInputError
from graphad.viz._base import (
    SCORE_LABEL,
    add_colorbar,
    as_array,
    as_time_value,
    color_norm,
    format_time_axis,
    get_cmap,
    new_figure,
    time_axis,
)

__all__ = ["plot_score_heatmap"]


def _edges(positions: np.ndarray, is_datetime: bool) -> np.ndarray:
    """Cell edges around the centres (each cell ends at its window time)."""
    values = (
        positions.astype("datetime64[ns]").astype(np.int64).astype(np.float64)
        if is_datetime
        else positions.astype(np.float64)
    )
    if values.size == 1:
        step = 1.0
    else:
        step = float(np.median(np.diff(values)))
    edges = np.concatenate([[values[0] - step], values])
    if is_datetime:
        return edges.astype(np.int64).astype("datetime64[ns]")
    return edges


def _outline_cells(ax: Any, x_edges: np.ndarray, is_datetime: bool, above: np.ndarray) -> None:
    """Outline the cells ``(row, window)`` where ``above`` is true."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    edges = x_edges
    if is_datetime:
        from matplotlib.dates import date2num

        edges = date2num(x_edges)
    rows, cols = np.nonzero(above)
    boxes = [
        Rectangle((edges[c], r - 0.5), edges[c + 1] - edges[c], 1.0)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True)
    ]
    if boxes:
        ax.add_collection(
            PatchCollection(boxes, facecolor="none", edgecolor="black", linewidth=0.6)
        )


def plot_score_heatmap(
    node_scores: Any,
    node_names: Sequence[str] | None = None,
    *,
    times: Any = None,
    onset: Any = None,
    detected: Any = None,
    threshold: float | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str | Any = "YlOrRd",
    sort: str | None = "peak",
    max_nodes: int | None = 40,
    scale: str = "linear",
    title: str | None = None,
    label: str = SCORE_LABEL,
    truth: str | None = None,
    figsize: tuple[float, float] = (8.0, 4.5),
    dpi: float = 100.0,
) -> Any:
    """Heat map of node scores over time: one row per node, one column per window.

    A cell ``(n, w)`` covers the window ending at ``times[w]``. The onset and the detection
    time are vertical lines; cells scoring above ``threshold`` are outlined in black, and the
    threshold is marked on the colour bar; the legend names every mark. Epoch times are
    drawn as ``HH:MM`` UTC with the date in the title.

    Args:
        node_scores: ``[W, N]`` node scores.
        node_names: Names of the ``N`` nodes (default ``0..N-1``).
        times: ``[W]`` window end times (epoch ns are drawn as clock times).
        onset: True onset time (same units as ``times``).
        detected: Detected onset time.
        threshold: Node-score threshold to mark.
        vmin: Lowest score of the fixed colour scale.
        vmax: Highest score of the fixed colour scale.
        cmap: Colormap.
        sort: ``"peak"`` (rows by their highest score, highest on top), ``"name"`` or
            ``None`` (input order).
        max_nodes: Show at most this many rows (the highest-scoring ones).
        scale: Colour scale, ``"linear"`` or ``"log"`` (symmetric log, for heavy tails).
        title: Axes title.
        label: What the colour shows (the colour-bar label).
        truth: The true root cause, when known: its row label is green, bold and
            marked ``(truth)``.
        figsize: Inches.
        dpi: Dots per inch.

    Returns:
        The :class:`~matplotlib.figure.Figure`.

    Shapes:
        ``node_scores``: ``[W, N]``.

    Example:
        >>> fig = plot_score_heatmap([[0.1, 0.2], [0.3, 2.0]], ["a", "b"], threshold=1.0)
        >>> fig.axes[0].get_yticklabels()[0].get_text()
        'b'
    """
    scores = as_array(node_scores, "node_scores", 2)
    count, width = scores.shape
    names = list(node_names) if node_names is not None else [str(i) for i in range(width)]
    if len(names) != width:
        raise GraphadInputError(
            "scores and node names differ in length",
            field="node_names",
            expected=f"{width} names",
            found=len(names),
        )
    if sort not in ("peak", "name", None):
        raise GraphadInputError(
            f"Could not resolve '{sort}' among choices ['name', 'peak', None]", field="sort"
        )
    order = np.arange(width)
    if sort == "peak":
        peak = np.where(np.isfinite(scores), scores, -np.inf).max(axis=0)
        order = np.argsort(-peak, kind="stable")
    elif sort == "name":
        order = np.argsort(np.array(names, dtype=object), kind="stable")
    if max_nodes is not None:
        order = order[:max_nodes]
    shown = scores[:, order].T  # [rows, W]
    positions, is_datetime = time_axis(times, count)
    norm = color_norm(shown, vmin, vmax, scale)
    colormap = get_cmap(cmap)
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    x_edges = _edges(positions, is_datetime)
    y_edges = np.arange(len(order) + 1) - 0.5
    mesh = ax.pcolormesh(
        x_edges, y_edges, np.ma.masked_invalid(shown), cmap=colormap, norm=norm, shading="flat"
    )
    rows = [names[i] + (" (truth)" if names[i] == truth else "") for i in order]
    ax.set_yticks(np.arange(len(order)), rows, fontsize=7)
    for tick in ax.get_yticklabels():
        if tick.get_text().endswith(" (truth)"):
            tick.set_color("tab:green")
            tick.set_fontweight("bold")
    ax.set_ylim(len(order) - 0.5, -0.5)
    bar = add_colorbar(fig, mesh, label, ax=ax)
    handles = []
    if threshold is not None:
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        _outline_cells(ax, x_edges, is_datetime, np.nan_to_num(shown, nan=-np.inf) > threshold)
        bar.ax.axhline(threshold, color="black", linewidth=1.5)
        handles += [
            Patch(facecolor="none", edgecolor="black", label=f"score > threshold {threshold:.3g}"),
            Line2D([], [], color="black", linewidth=1.5, label="threshold (on the colour bar)"),
        ]
    for value, style, name in ((onset, "--", "onset"), (detected, ":", "detected")):
        at = as_time_value(value, is_datetime)
        if at is not None:
            handles.append(
                ax.axvline(at, color="tab:blue", linestyle=style, linewidth=1.5, label=name)
            )
    if handles:
        ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.85)
    date = format_time_axis(ax, positions, is_datetime)
    ax.set_xlabel("window end (UTC)" if is_datetime else "window")
    heading = title or "node anomaly scores"
    ax.set_title(f"{heading}, {date}" if date else heading, fontsize=10)
    return fig
