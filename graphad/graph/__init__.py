"""Canonical frames -> NodeVocab + one PyG ``Data`` per time window (a dynamic graph)."""

from graphad.graph.build import build_dynamic_graph, metric_node_name, split_metric_node
from graphad.graph.convert import call_graph, window_to_networkx
from graphad.graph.dataset import WindowDataset
from graphad.graph.dynamic import DynamicGraph
from graphad.graph.features import EDGE_FEATURES, SPAN_FEATURES
from graphad.graph.labels import label_windows
from graphad.graph.vocab import NodeVocab
from graphad.graph.window import WindowSpec, parse_duration

__all__ = [
    "DynamicGraph",
    "NodeVocab",
    "WindowSpec",
    "parse_duration",
    "build_dynamic_graph",
    "metric_node_name",
    "split_metric_node",
    "label_windows",
    "call_graph",
    "window_to_networkx",
    "WindowDataset",
    "SPAN_FEATURES",
    "EDGE_FEATURES",
]
