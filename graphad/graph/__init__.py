"""Canonical frames -> NodeVocab + one PyG ``Data`` per time window (a dynamic graph)."""

from graphad.graph.dynamic import DynamicGraph
from graphad.graph.vocab import NodeVocab
from graphad.graph.window import WindowSpec, parse_duration

__all__ = ["DynamicGraph", "NodeVocab", "WindowSpec", "parse_duration"]
