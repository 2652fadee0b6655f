"""Graphs from traces at any scale: partitioned ingestion and graph building on Dask.

Install with ``pip install 'graphad[dask]'``; see ``docs/scale.md``.
:func:`build_dynamic_graph_dask` is what ``build_dynamic_graph(..., engine="dask")`` runs.
"""

from graphad.graph.scale.build import base_grid, build_dynamic_graph_dask, span_files
from graphad.graph.scale.sketch import sketch_keys, sketch_mapping, sketch_quantiles

__all__ = [
    "build_dynamic_graph_dask",
    "span_files",
    "base_grid",
    "sketch_mapping",
    "sketch_keys",
    "sketch_quantiles",
]
