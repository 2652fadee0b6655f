"""Torch modules: adaptive adjacency, temporal / spatio-temporal encoders, heads, losses."""

from graphad.nn.adjacency import AdaptiveAdjacency, adaptive_adjacency
from graphad.nn.conv import SpatioTemporalConv
from graphad.nn.deviation import GraphDeviationLayer
from graphad.nn.heads import ForecastHead, NeighbourForecast, ProjectionHead
from graphad.nn.losses import (
    alignment_loss,
    cross_scale_loss,
    info_nce,
    nt_xent,
    temporal_smoothness,
)
from graphad.nn.temporal import MultiScaleTemporalEncoder, StepEmbedding, end_aligned_pool

__all__ = [
    "AdaptiveAdjacency",
    "adaptive_adjacency",
    "SpatioTemporalConv",
    "GraphDeviationLayer",
    "ProjectionHead",
    "ForecastHead",
    "NeighbourForecast",
    "MultiScaleTemporalEncoder",
    "StepEmbedding",
    "end_aligned_pool",
    "info_nce",
    "nt_xent",
    "cross_scale_loss",
    "alignment_loss",
    "temporal_smoothness",
]
