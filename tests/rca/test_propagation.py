"""Propagation: personalised PageRank agrees with NetworkX, edge weights are kept."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import torch

from graphad.exceptions import ConvergenceError, GraphadInputError
from graphad.rca import CaseView, graph_of, personalized_pagerank, propagation_scores

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


def _walk_graph(scores: dict, weighted: list[tuple[str, str, float]], rho: float) -> nx.DiGraph:
    """The walk of :func:`propagation_scores` written out edge by edge."""
    walk = nx.DiGraph()
    walk.add_nodes_from(scores)
    best = dict.fromkeys(scores, 0.0)
    for u, v, w in weighted:
        walk.add_edge(u, v, weight=w * scores[v])
        walk.add_edge(v, u, weight=rho * w * scores[u])
        best[u] = max(best[u], scores[v])
    for n, s in scores.items():
        walk.add_edge(n, n, weight=max(0.0, s - best[n]))
    return walk


def test_propagation_keeps_edge_weights_exactly():
    scores = {"web": 0.9, "api": 0.5, "db": 0.5}
    weighted = [("web", "api", 3.0), ("web", "db", 0.5)]
    graph = nx.DiGraph()
    graph.add_weighted_edges_from(weighted)
    ranked = propagation_scores(pd.Series(scores), graph, alpha=0.85, rho=0.2)
    total = sum(scores.values())
    expected = nx.pagerank(
        _walk_graph(scores, weighted, 0.2),
        alpha=0.85,
        personalization={n: (s + 1e-12) / (total + 3e-12) for n, s in scores.items()},
        weight="weight",
        tol=1e-13,
        max_iter=10_000,
    )
    for node, value in expected.items():
        assert ranked[node] == pytest.approx(value, abs=1e-8)
    assert ranked["api"] > ranked["db"]  # the heavier edge draws the walk
    flipped = nx.DiGraph()
    flipped.add_weighted_edges_from([("web", "api", 0.5), ("web", "db", 3.0)])
    again = propagation_scores(pd.Series(scores), flipped)
    assert again["db"] > again["api"]


def test_graph_of_keeps_the_weights_of_a_learned_adjacency():
    view = CaseView(onset_ns=0, nodes=["web", "api", "db"])
    edge_index = torch.tensor([[0, 0, 0], [1, 2, 2]])
    weight = torch.tensor([0.25, 0.5, 1.0])  # a duplicate edge adds up
    graph = graph_of(view, (edge_index, weight))
    assert dict(graph.edges) == {("web", "api"): {"weight": 0.25}, ("web", "db"): {"weight": 1.5}}
    plain = graph_of(view, edge_index)
    assert {d["weight"] for *_, d in plain.edges(data=True)} == {1.0, 2.0}
    with pytest.raises(GraphadInputError, match="weight"):
        graph_of(view, (edge_index, weight[:2]))
