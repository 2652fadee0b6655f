"""Pictures: service graphs coloured by score, anomaly propagation, heat maps, timelines.

Every function returns a :class:`matplotlib.figure.Figure` (created without ``pyplot``,
so nothing is shown and no global state changes); save it with ``fig.savefig(path)``.
Pictures meant to be compared share a layout (:func:`graph_layout`) and a fixed colour
scale (``vmin`` / ``vmax``).
"""

from graphad.viz._base import add_colorbar, new_figure, nice_ticks, short_labels
from graphad.viz.adjacency import adjacency_matrix, plot_adjacency
from graphad.viz.heatmap import plot_score_heatmap
from graphad.viz.layout import graph_layout, union_graph, window_graph
from graphad.viz.propagation import (
    PropagationFrame,
    plot_propagation,
    propagation_frames,
    save_propagation_gif,
)
from graphad.viz.rca import plot_rca
from graphad.viz.service_graph import draw_service_graph, plot_service_graph
from graphad.viz.timeline import label_segments, plot_window_scores

__all__ = [
    "graph_layout",
    "union_graph",
    "window_graph",
    "plot_service_graph",
    "draw_service_graph",
    "PropagationFrame",
    "propagation_frames",
    "plot_propagation",
    "save_propagation_gif",
    "plot_score_heatmap",
    "plot_window_scores",
    "label_segments",
    "plot_rca",
    "plot_adjacency",
    "adjacency_matrix",
    "new_figure",
    "short_labels",
    "add_colorbar",
    "nice_ticks",
]
