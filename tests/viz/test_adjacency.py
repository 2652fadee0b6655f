import networkx as nx
import numpy as np
import pytest
import torch

from graphad.exceptions import GraphadInputError
from graphad.viz import adjacency_matrix, plot_adjacency

from .conftest import NAMES, png_size


def test_adjacency_matrix_forms(graph):
    dense = adjacency_matrix(torch.eye(3), 3)
    assert np.array_equal(dense, np.eye(3))
    edges = torch.tensor([[0, 0, 2], [1, 1, 0]])
    sparse = adjacency_matrix((edges, torch.tensor([1.0, 2.0, 0.5])), 3)
    assert sparse[0, 1] == 3.0 and sparse[2, 0] == 0.5 and sparse.sum() == 3.5
    g = nx.DiGraph()
    g.add_edge("b", "a", weight=4.0)
    assert adjacency_matrix(g, 2, ["a", "b"]).tolist() == [[0.0, 0.0], [4.0, 0.0]]
    union = adjacency_matrix(graph, 4, NAMES)
    assert union[2, 3] == 240.0


def test_side_by_side_png(tmp_path, graph):
    learned = torch.softmax(torch.randn(4, 4, generator=torch.Generator().manual_seed(0)), 1)
    fig = plot_adjacency(learned, graph, figsize=(8, 4), dpi=50)
    assert [ax.get_title() for ax in fig.axes[:2]] == ["learned adjacency", "observed call graph"]
    path = tmp_path / "adj.png"
    fig.savefig(path)
    assert png_size(path) == (400, 200)


def test_bad_inputs():
    with pytest.raises(GraphadInputError, match="sparse adjacency does not fit"):
        adjacency_matrix((torch.tensor([[0], [5]]), torch.tensor([1.0])), 3)
    with pytest.raises(GraphadInputError, match="unreadable adjacency"):
        adjacency_matrix(torch.zeros(2, 3, 4), 3)
    with pytest.raises(GraphadInputError, match="node_names are needed"):
        plot_adjacency((torch.tensor([[0], [1]]), torch.tensor([1.0])))
