import networkx as nx
import pytest

from graphad.exceptions import GraphadInputError
from graphad.viz import graph_layout, union_graph, window_graph


def test_layered_layout_puts_callers_above_callees():
    g = nx.DiGraph([("web", "api"), ("api", "db"), ("web", "db"), ("cron", "db")])
    pos = graph_layout(g, "layered")
    assert pos["web"][1] == pos["cron"][1] == 0.0
    assert pos["api"][1] == -1.0
    assert pos["db"][1] == -2.0  # longest path from an entry point


def test_layout_handles_cycles_and_isolated_nodes():
    g = nx.DiGraph([("a", "b"), ("b", "a"), ("b", "c")])
    g.add_node("lonely")
    pos = graph_layout(g)
    assert pos["a"][1] == pos["b"][1] == 0.0
    assert pos["c"][1] == -1.0
    assert pos["lonely"][1] == -2.0


def test_spring_layout_is_seeded():
    g = nx.path_graph(6, create_using=nx.DiGraph)
    assert graph_layout(g, "spring", seed=3) == graph_layout(g, "spring", seed=3)


def test_edgeless_graph_gets_a_grid():
    g = nx.DiGraph()
    g.add_nodes_from("abcde")
    pos = graph_layout(g)
    assert pos["a"] == (0.0, 0.0) and pos["d"] == (0.0, -1.0)


def test_layout_of_dynamic_graph_covers_every_node(graph):
    pos = graph_layout(graph)
    assert set(pos) == set(graph.vocab.names)


def test_window_graph_reads_weights_and_presence(graph):
    g0 = window_graph(graph, 0)
    assert g0.nodes["redis"]["present"] is False
    assert g0["cart"]["redis"]["weight"] == 30.0
    assert window_graph(graph, 1).has_edge("checkout", "redis") is False


def test_union_graph_sums_weights(graph):
    union = union_graph(graph)
    assert union["frontend"]["checkout"]["weight"] == 80.0  # 10 calls x 8 windows
    assert union["checkout"]["redis"]["weight"] == 160.0  # 40 calls x 4 windows


def test_bad_layout_inputs():
    with pytest.raises(GraphadInputError, match="Could not resolve 'tree'"):
        graph_layout(nx.DiGraph([("a", "b")]), "tree")
    with pytest.raises(GraphadInputError, match="expected a networkx graph or a DynamicGraph"):
        graph_layout([("a", "b")])


def test_short_labels_drop_shared_affixes():
    from graphad.viz import short_labels

    names = ["ts-order-service", "ts-route-service", "ts-travel-plan-service", "redis"]
    assert short_labels(names, 8) == {
        "ts-order-service": "order",
        "ts-route-service": "route",
        "ts-travel-plan-service": "travel-…",
        "redis": "redis",
    }
    assert short_labels(["payment", "paypal"]) == {"payment": "payment", "paypal": "paypal"}
