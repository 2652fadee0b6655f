"""A tiny hand-made dynamic graph shared by the picture tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch_geometric.data import Data

from graphad.graph import DynamicGraph, NodeVocab, WindowSpec

T0 = 1_660_000_000_000_000_000  # epoch ns
MINUTE = 60_000_000_000
NAMES = ["frontend", "checkout", "cart", "redis"]
EDGES = [(0, 1), (0, 2), (2, 3), (1, 3)]


def make_graph(num_windows: int = 8) -> DynamicGraph:
    windows = []
    for w in range(num_windows):
        edges = EDGES if w % 2 == 0 else EDGES[:3]  # one edge comes and goes
        windows.append(
            Data(
                x=torch.zeros(len(NAMES), 3, 1),
                edge_index=torch.tensor(edges).t().contiguous(),
                edge_attr=torch.tensor([[10.0 * (i + 1), 0.0] for i in range(len(edges))]),
                node_mask=torch.tensor([True, True, True, w != 0]),
                window_start=torch.tensor([T0 + w * MINUTE]),
                window_end=torch.tensor([T0 + (w + 3) * MINUTE]),
            )
        )
    return DynamicGraph(
        NodeVocab(NAMES),
        windows,
        ["value"],
        ["calls", "errors"],
        WindowSpec.of("3min", step="1min"),
    )


def make_scores(num_windows: int = 8) -> np.ndarray:
    """Root cause 'redis' from window 4, its caller 'cart' from 5, 'frontend' from 6."""
    scores = np.full((num_windows, len(NAMES)), 0.1)
    scores[4:, 3] = 3.0
    scores[5:, 2] = 2.0
    scores[6:, 0] = 1.0
    return scores


@pytest.fixture
def graph() -> DynamicGraph:
    return make_graph()


@pytest.fixture
def scores() -> np.ndarray:
    return make_scores()


def png_size(path: Path) -> tuple[int, int]:
    """Size of a non-empty PNG file, checked to be a PNG."""
    assert path.stat().st_size > 1000
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size
