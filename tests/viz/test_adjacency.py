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
    titles = [ax.get_title().splitlines()[0] for ax in fig.axes[:2]]
    assert titles == ["learned adjacency", "observed calls"]
    # one orientation in both panels: rows are callers, columns callees
    for ax in fig.axes[:2]:
        assert ax.get_ylabel() == "caller (source)" and ax.get_xlabel() == "callee (target)"
    # one log colour scale: the same norm for both images, shares of each panel's largest
    first, second = (ax.images[0] for ax in fig.axes[:2])
    assert first.norm is second.norm and (first.norm.vmin, first.norm.vmax) == (1e-3, 1.0)
    assert second.get_array().max() == 1.0
    assert fig.axes[2].get_ylabel() == "share of the panel's largest entry (log scale)"
    path = tmp_path / "adj.png"
    fig.savefig(path)
    assert png_size(path) == (400, 200)


def test_learned_edges_drawn_caller_to_callee():
    # a learned edge 0 -> 1 (edge_index source 0, target 1) is row 0, column 1, like a
    # call from node 0 to node 1
    learned = (torch.tensor([[0], [1]]), torch.tensor([0.7]))
    fig = plot_adjacency(learned, nx.DiGraph([("a", "b")]), node_names=["a", "b"])
    left, right = (ax.images[0].get_array().filled(0) for ax in fig.axes[:2])
    assert left.tolist() == right.tolist() == [[0.0, 1.0], [0.0, 0.0]]


def test_bad_inputs():
    with pytest.raises(GraphadInputError, match="sparse adjacency does not fit"):
        adjacency_matrix((torch.tensor([[0], [5]]), torch.tensor([1.0])), 3)
    with pytest.raises(GraphadInputError, match="unreadable adjacency"):
        adjacency_matrix(torch.zeros(2, 3, 4), 3)
    with pytest.raises(GraphadInputError, match="node_names are needed"):
        plot_adjacency((torch.tensor([[0], [1]]), torch.tensor([1.0])))
