"""Personalised PageRank agrees with NetworkX."""

import networkx as nx
import numpy as np
import pytest

from graphad.exceptions import ConvergenceError, GraphadInputError
from graphad.rca import personalized_pagerank

IMPLEMENTATIONS = ["scipy", "torch"]


def _random_graph(seed: int, n: int = 12, p: float = 0.25):
    rng = np.random.default_rng(seed)
    graph = nx.gnp_random_graph(n, p, seed=seed, directed=True)
    for u, v in graph.edges:
        graph[u][v]["weight"] = float(rng.uniform(0.1, 2.0))
    personal = {i: float(rng.uniform(0, 1)) for i in range(n)}
    return graph, personal


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("alpha", [0.5, 0.85])
def test_agrees_with_networkx(implementation, seed, alpha):
    graph, personal = _random_graph(seed)
    expected = nx.pagerank(
        graph, alpha=alpha, personalization=personal, weight="weight", tol=1e-13, max_iter=10_000
    )
    edges = np.array(list(graph.edges)).T
    weights = [graph[u][v]["weight"] for u, v in graph.edges]
    got = personalized_pagerank(
        edges, weights, [personal[i] for i in range(12)], alpha, implementation=implementation
    )
    assert np.allclose(got, [expected[i] for i in range(12)], atol=1e-6)
    assert got.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_dangling_and_zero_personalisation(implementation):
    graph = nx.DiGraph([(0, 1), (1, 2)])
    expected = nx.pagerank(graph, tol=1e-13)
    got = personalized_pagerank(
        [[0, 1], [1, 2]], None, [0.0, 0.0, 0.0], implementation=implementation
    )
    assert np.allclose(got, [expected[i] for i in range(3)], atol=1e-6)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_no_convergence_raises(implementation):
    with pytest.raises(ConvergenceError, match="did not converge"):
        personalized_pagerank(
            [[0, 1], [1, 0]], personalization=[1.0, 0.0], max_iter=1, implementation=implementation
        )


def test_bad_inputs():
    with pytest.raises(GraphadInputError, match="edge_index"):
        personalized_pagerank([[0, 1, 2]])
    with pytest.raises(GraphadInputError, match="weights"):
        personalized_pagerank([[0], [1]], weights=[1.0, 2.0])
    with pytest.raises(GraphadInputError, match="weights"):
        personalized_pagerank([[0], [1]], weights=[-1.0])
    with pytest.raises(GraphadInputError, match="personalization"):
        personalized_pagerank([[0], [1]], personalization=[1.0, 0.0, 0.0, 0.0], num_nodes=2)
    with pytest.raises(GraphadInputError, match="alpha"):
        personalized_pagerank([[0], [1]], alpha=1.5)
    with pytest.raises(GraphadInputError, match="outside"):
        personalized_pagerank([[0], [5]], num_nodes=2)
    with pytest.raises(GraphadInputError, match="Could not resolve"):
        personalized_pagerank([[0], [1]], implementation="dense")
