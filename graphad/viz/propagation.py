"""Anomaly propagation: the same graph over consecutive windows around the onset.

Both pictures share one layout and one fixed colour scale across frames, so a node that
turns red in a later frame really scored higher, and one sees the anomaly start at the
root cause and spread to its callers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from graphad.exceptions import GraphadInputError
from graphad.graph.dynamic import DynamicGraph
from graphad.rca.result import RCAResult
from graphad.viz._base import (
    SCORE_LABEL,
    add_colorbar,
    as_array,
    clock,
    color_norm,
    date_text,
    get_cmap,
    new_figure,
    short_labels,
    time_axis,
    truth_handle,
)
from graphad.viz.layout import Layout, graph_layout, union_graph, window_graph
from graphad.viz.service_graph import _scalar_mappable, draw_service_graph

__all__ = [
    "PropagationFrame",
    "propagation_frames",
    "plot_propagation",
    "save_propagation_gif",
]


@dataclass
class PropagationFrame:
    """One picture of a propagation series.

    Attributes:
        index: Window index in the scored sequence.
        graph: The window's caller -> callee graph.
        scores: ``{node: score}`` of the window.
        label: Short title, e.g. ``"onset+1  10:42"``.
        offset: Windows after the onset window (negative: before it).
    """

    index: int
    graph: nx.DiGraph
    scores: dict[str, float]
    label: str
    offset: int = 0


def _pick_windows(
    count: int, window_max: np.ndarray, positions: np.ndarray, onset: Any, before: int, after: int
) -> tuple[list[int], int]:
    if onset is None:
        centre = int(np.nanargmax(window_max)) if np.isfinite(window_max).any() else 0
    else:
        later = np.flatnonzero(positions > onset)
        centre = int(later[0]) if later.size else count - 1
    first = max(0, centre - before)
    last = min(count, centre + after)
    return list(range(first, last)), centre


def _label(
    offset: int, position: Any, is_datetime: bool, onset_known: bool, short: bool = False
) -> str:
    name = "onset" if onset_known else "peak"
    relative = name if offset == 0 else f"{name}{offset:+d}"
    if is_datetime:
        return f"{relative}  {clock(position, seconds=short)}"
    return f"{relative}  t={position:g}"


def propagation_frames(
    graph: DynamicGraph | nx.DiGraph,
    node_scores: Any,
    *,
    onset: int | None = None,
    before: int = 2,
    after: int = 5,
    windows: Sequence[int] | None = None,
    times: Any = None,
    node_names: Sequence[str] | None = None,
) -> list[PropagationFrame]:
    """Select the windows around the onset and pair each with its graph and scores.

    Args:
        graph: A dynamic graph (each window keeps its own observed edges) or one static
            ``networkx`` caller -> callee graph used for every window.
        node_scores: ``[W, N]`` node scores aligned with the windows.
        onset: Onset time, in the units of ``times`` (ns for a dynamic graph, whose window
            ends are the times). The first window ending after it is frame ``onset``.
            ``None`` centres the frames on the window with the highest node score.
        before: Frames before the onset window.
        after: Frames from the onset window on (the onset window included).
        windows: Explicit window indices (overrides ``onset``/``before``/``after``).
        times: ``[W]`` window times (default: a dynamic graph's window ends, else 0..W-1).
        node_names: Names of the ``N`` score columns (default: the dynamic graph's
            vocabulary, or the static graph's node order).

    Returns:
        The frames, in time order.

    Shapes:
        ``node_scores``: ``[W, N]``.

    Example:
        >>> g = nx.DiGraph([("web", "db")])
        >>> frames = propagation_frames(g, [[0, 0], [0, 1], [1, 1]], onset=0.5,
        ...                             before=1, after=2)
        >>> [(f.label, f.offset) for f in frames]
        [('onset-1  t=0', -1), ('onset  t=1', 0), ('onset+1  t=2', 1)]
    """
    scores = as_array(node_scores, "node_scores", 2)
    count = scores.shape[0]
    if isinstance(graph, DynamicGraph):
        if len(graph) != count:
            raise GraphadInputError(
                "scores and windows differ in number",
                field="node_scores",
                expected=f"{len(graph)} windows",
                found=count,
            )
        names = list(node_names) if node_names is not None else graph.vocab.names
        times = graph.window_end if times is None else times
    elif isinstance(graph, nx.Graph):
        names = list(node_names) if node_names is not None else list(graph.nodes)
    else:
        raise GraphadInputError(
            "cannot draw this graph",
            field="graph",
            expected="a DynamicGraph or a networkx graph",
            found=type(graph).__name__,
        )
    if scores.shape[1] != len(names):
        raise GraphadInputError(
            "scores and node names differ in length",
            field="node_scores",
            expected=f"{len(names)} columns",
            found=scores.shape[1],
        )
    positions, is_datetime = time_axis(times, count)
    onset_value = None
    if onset is not None:
        onset_value = np.datetime64(int(onset), "ns") if is_datetime else float(onset)
    with np.errstate(all="ignore"):
        window_max = np.where(np.isfinite(scores), scores, -np.inf).max(axis=1)
    if windows is not None:
        chosen = [int(w) for w in windows]
        bad = [w for w in chosen if not -count <= w < count]
        if bad:
            raise GraphadInputError(
                "window index out of range",
                field="windows",
                expected=f"0..{count - 1}",
                found=bad[:3],
            )
        chosen = [w % count for w in chosen]
        centre = chosen[0]
    else:
        chosen, centre = _pick_windows(count, window_max, positions, onset_value, before, after)
    short = False
    if is_datetime and count > 1:
        gaps = np.diff(positions.astype("datetime64[ns]").astype(np.int64))
        short = bool(np.median(gaps) < 60 * 10**9)
    frames = []
    for index in chosen:
        frame_graph = window_graph(graph, index) if isinstance(graph, DynamicGraph) else graph
        frames.append(
            PropagationFrame(
                index=index,
                graph=frame_graph,
                scores=dict(zip(names, scores[index].tolist(), strict=False)),
                label=_label(
                    index - centre, positions[index], is_datetime, onset is not None, short
                ),
                offset=index - centre if onset is not None else 0,
            )
        )
    return frames


def _mark_truth(ax: Any, truth: str | None, layout: Layout, node_size: float) -> None:
    """A green ring around the true root cause."""
    if truth is not None and truth in layout:
        x, y = layout[truth]
        ax.scatter(
            [x],
            [y],
            s=node_size * 2.4,
            facecolors="none",
            edgecolors="tab:green",
            linewidths=2.2,
            zorder=1.5,
        )


def _frame_ranking(ranking: Any, frame: PropagationFrame) -> Any:
    """Rank badges only from the onset window on (the ranking explains the fault)."""
    return ranking if frame.offset >= 0 else None


def _legend_handles(ranking: Any, truth: str | None, top_k: int) -> list:
    from matplotlib.lines import Line2D

    handles = []
    if ranking is not None:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="s",
                markerfacecolor="white",
                markeredgecolor="darkred",
                markersize=12,
                color="darkred",
                label=f"#1-#{top_k}: root-cause rank (from the onset on)",
            )
        )
    if truth is not None:
        handles.append(truth_handle())
    handles.append(Line2D([], [], color="0.45", linewidth=2.5, label="call; width = calls"))
    return handles


def _frame_norm(
    frames: Sequence[PropagationFrame], vmin: float | None, vmax: float | None, scale: str
) -> Any:
    values = np.array([v for f in frames for v in f.scores.values()], dtype=np.float64)
    return color_norm(values, vmin, vmax, scale)


def _labels(layout: Layout, labels: bool | None, max_len: int) -> Any:
    if labels is False or (labels is None and len(layout) > 25):
        return False
    return short_labels(list(layout), max_len)


def _layout_for(frames: Sequence[PropagationFrame], graph: Any, pos: Layout | None) -> Layout:
    if pos is not None:
        return pos
    if isinstance(graph, DynamicGraph):
        return graph_layout(graph)
    return graph_layout(union_graph([f.graph for f in frames]))


def plot_propagation(
    graph: DynamicGraph | nx.DiGraph,
    node_scores: Any,
    *,
    onset: int | None = None,
    before: int = 2,
    after: int = 5,
    windows: Sequence[int] | None = None,
    times: Any = None,
    node_names: Sequence[str] | None = None,
    pos: Layout | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str | Any = "YlOrRd",
    ranking: RCAResult | Sequence[str] | None = None,
    top_k: int = 3,
    ncols: int = 4,
    panel_size: tuple[float, float] = (3.2, 2.8),
    dpi: float = 100.0,
    labels: bool | None = None,
    scale: str = "linear",
    title: str | None = None,
    truth: str | None = None,
    label: str = SCORE_LABEL,
) -> Any:
    """Small multiples of the graph around the onset, one panel per window.

    Rank badges appear from the onset window on (before it the ranking explains
    nothing yet); the true root cause, when known, has a green ring; a legend names
    every mark; panels carry ``HH:MM`` UTC and the title the date.

    Args:
        graph: Dynamic graph or static ``networkx`` graph (see :func:`propagation_frames`).
        node_scores: ``[W, N]`` node scores.
        onset: Onset time (ns for a dynamic graph); ``None`` centres on the peak.
        before: Panels before the onset window.
        after: Panels from the onset window on.
        windows: Explicit window indices instead of ``onset``/``before``/``after``.
        times: ``[W]`` window times.
        node_names: Names of the score columns.
        pos: Shared layout (default: computed once from the union of the frames).
        vmin: Lowest score of the fixed colour scale (default: over all panels).
        vmax: Highest score of the fixed colour scale (default: over all panels).
        cmap: Colormap.
        ranking: Root-cause ranking; its ``top_k`` nodes get ``#rank`` labels.
        top_k: How many ranked nodes to label.
        ncols: Panels per row.
        panel_size: Inches per panel.
        dpi: Dots per inch.
        labels: Write (shortened) node names; default: when there are at most 25 nodes.
        scale: Colour scale, ``"linear"`` or ``"log"`` (symmetric log, for heavy tails).
        title: Figure title.
        truth: The true root cause, when known (ringed in green).
        label: What the colour shows (the colour-bar label).

    Returns:
        The :class:`~matplotlib.figure.Figure`; the image is
        ``(ncols * panel_w, rows * panel_h) * dpi`` pixels, ``ncols`` capped at the number
        of panels.

    Shapes:
        ``node_scores``: ``[W, N]``.

    Example:
        >>> g = nx.DiGraph([("web", "api"), ("api", "db")])
        >>> fig = plot_propagation(g, [[0, 0, 0], [0, 0, 1], [0, 1, 1], [1, 1, 1]],
        ...                        onset=0.5, before=1, after=3, vmin=0, vmax=1)
        >>> len(fig.axes)   # 4 panels + the colour bar
        5
    """
    frames = propagation_frames(
        graph,
        node_scores,
        onset=onset,
        before=before,
        after=after,
        windows=windows,
        times=times,
        node_names=node_names,
    )
    layout = _layout_for(frames, graph, pos)
    norm = _frame_norm(frames, vmin, vmax, scale)
    colormap = get_cmap(cmap)
    show_labels = _labels(layout, labels, 10)
    cols = max(1, min(ncols, len(frames)))
    rows = math.ceil(len(frames) / cols)
    fig = new_figure((panel_size[0] * cols, panel_size[1] * rows), dpi)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, frame in zip(axes.flat, frames, strict=False):
        draw_service_graph(
            ax,
            frame.graph,
            frame.scores,
            pos=layout,
            vmin=norm.vmin,
            vmax=norm.vmax,
            cmap=colormap,
            ranking=_frame_ranking(ranking, frame),
            top_k=top_k,
            labels=show_labels,
            node_size=260.0,
            max_edge_width=3.5,
            scale=scale,
            title=frame.label,
        )
        _mark_truth(ax, truth, layout, 260.0)
    for ax in axes.flat[len(frames) :]:
        ax.set_axis_off()
    add_colorbar(
        fig,
        _scalar_mappable(norm, colormap),
        label,
        wrap=int(rows * panel_size[1] * 0.9 * 11),
        ax=axes,
        shrink=0.9,
    )
    fig.legend(
        handles=_legend_handles(ranking, truth, top_k),
        loc="outside lower center",
        ncols=3,
        fontsize=8,
        frameon=False,
    )
    date = _frames_date(frames, graph, times)
    heading = ", ".join(part for part in (title, date) if part)
    if heading:
        fig.suptitle(heading, fontsize=10)
    return fig


def _frames_date(frames: Sequence[PropagationFrame], graph: Any, times: Any) -> str:
    """The date of the frames' window ends (epoch times only)."""
    source = graph.window_end if isinstance(graph, DynamicGraph) and times is None else times
    if source is None or not frames:
        return ""
    positions, is_datetime = time_axis(source, len(source))
    if not is_datetime:
        return ""
    return date_text(positions[[f.index for f in frames]])


def save_propagation_gif(
    graph: DynamicGraph | nx.DiGraph,
    node_scores: Any,
    path: str | Path,
    *,
    onset: int | None = None,
    before: int = 2,
    after: int = 5,
    windows: Sequence[int] | None = None,
    times: Any = None,
    node_names: Sequence[str] | None = None,
    pos: Layout | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str | Any = "YlOrRd",
    ranking: RCAResult | Sequence[str] | None = None,
    top_k: int = 3,
    fps: float = 1.5,
    figsize: tuple[float, float] = (6.0, 4.5),
    dpi: float = 80.0,
    labels: bool | None = None,
    scale: str = "linear",
    title: str | None = None,
    truth: str | None = None,
    label: str = SCORE_LABEL,
) -> Any:
    """Write the propagation as an animated GIF, one frame per window.

    Uses matplotlib's :class:`~matplotlib.animation.PillowWriter`. Arguments are those of
    :func:`plot_propagation`, plus:

    Args:
        graph: Dynamic graph or static ``networkx`` graph.
        node_scores: ``[W, N]`` node scores.
        path: Output ``.gif`` file.
        onset: Onset time; see :func:`propagation_frames`.
        before: Frames before the onset window.
        after: Frames from the onset window on.
        windows: Explicit window indices.
        times: ``[W]`` window times.
        node_names: Names of the score columns.
        pos: Shared layout.
        vmin: Lowest score of the fixed colour scale.
        vmax: Highest score of the fixed colour scale.
        cmap: Colormap.
        ranking: Root-cause ranking to label.
        top_k: How many ranked nodes to label.
        fps: Frames per second.
        figsize: Inches; every frame is ``figsize * dpi`` pixels.
        dpi: Dots per inch.
        labels: Write (shortened) node names; default: when there are at most 25 nodes.
        scale: Colour scale, ``"linear"`` or ``"log"``.
        title: Title prefix of every frame.
        truth: The true root cause, when known (ringed in green).
        label: What the colour shows (the colour-bar label).

    Returns:
        The figure showing the last frame.

    Example:
        >>> import tempfile, os
        >>> g = nx.DiGraph([("web", "db")])
        >>> out = os.path.join(tempfile.mkdtemp(), "p.gif")
        >>> _ = save_propagation_gif(g, [[0, 0], [0, 1], [1, 1]], out, figsize=(2, 2), dpi=40)
        >>> open(out, "rb").read(3)
        b'GIF'
    """
    from matplotlib.animation import PillowWriter

    frames = propagation_frames(
        graph,
        node_scores,
        onset=onset,
        before=before,
        after=after,
        windows=windows,
        times=times,
        node_names=node_names,
    )
    layout = _layout_for(frames, graph, pos)
    norm = _frame_norm(frames, vmin, vmax, scale)
    colormap = get_cmap(cmap)
    show_labels = _labels(layout, labels, 16)
    fig = new_figure(figsize, dpi)
    fig.set_layout_engine("none")
    ax = fig.add_axes((0.02, 0.09, 0.80, 0.81))
    bar_ax = fig.add_axes((0.86, 0.14, 0.03, 0.71))
    add_colorbar(fig, _scalar_mappable(norm, colormap), label, cax=bar_ax)
    fig.legend(
        handles=_legend_handles(ranking, truth, top_k),
        loc="lower center",
        ncols=3,
        fontsize=6,
        frameon=False,
        borderaxespad=0.2,
    )
    date = _frames_date(frames, graph, times)
    writer = PillowWriter(fps=fps)
    path = Path(path)
    with writer.saving(fig, str(path), dpi):
        for frame in frames:
            ax.clear()
            heading = f"{title}: {frame.label}" if title else frame.label
            heading = f"{heading}  ({date})" if date else heading
            draw_service_graph(
                ax,
                frame.graph,
                frame.scores,
                pos=layout,
                vmin=norm.vmin,
                vmax=norm.vmax,
                cmap=colormap,
                ranking=_frame_ranking(ranking, frame),
                top_k=top_k,
                labels=show_labels,
                scale=scale,
                title=heading,
            )
            _mark_truth(ax, truth, layout, 500.0)
            writer.grab_frame()
    return fig
