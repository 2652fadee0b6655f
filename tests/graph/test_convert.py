import networkx as nx
import pandas as pd
import pytest

from graphad.exceptions import GraphadInputError, SchemaError
from graphad.graph import WindowSpec, build_dynamic_graph, call_graph, window_to_networkx
from graphad.graph.labels import label_windows

SPEC = WindowSpec.of(20, stride=10, step=10)


def test_window_to_networkx_attributes(tiny_spans):
    g = label_windows(build_dynamic_graph(tiny_spans, spec=SPEC), 15, "db")
    nxg = g.to_networkx(0)
    assert isinstance(nxg, nx.DiGraph)
    assert sorted(nxg.nodes) == ["api", "db", "web"]
    assert sorted(nxg.edges) == [("api", "db"), ("web", "api")]
    assert nxg.edges["web", "api"] == {"calls": 2.0, "errors": 0.0, "latency": 3.0}
    web = nxg.nodes["web"]
    assert web["id"] == 2 and web["present"] is True
    assert web["span:req_count"] == 1.0 and web["span:latency_mean_ms"] == 8.0
    assert nxg.nodes["db"]["rc_mask"] is True and nxg.nodes["db"]["y"] == 1
    assert nxg.graph == {"window_start": 0, "window_end": 20}
    same = window_to_networkx(g[0], g.vocab, g.feature_names, g.edge_feature_names)
    assert nx.utils.graphs_equal(nxg, same)


def test_window_to_networkx_size_mismatch(tiny_spans):
    g = build_dynamic_graph(tiny_spans, spec=SPEC)
    with pytest.raises(GraphadInputError, match="disagree on the number of nodes"):
        window_to_networkx(g[0], ["a", "b"])


def test_call_graph_exact(tiny_spans):
    cg = call_graph(tiny_spans)
    assert sorted(cg.nodes) == ["api", "db", "web"]
    assert dict(cg.edges) == {
        ("api", "db"): {"calls": 1, "errors": 1, "latency": 2.0},
        ("web", "api"): {"calls": 2, "errors": 0, "latency": 3.0},
        ("web", "db"): {"calls": 1, "errors": 0, "latency": 1.0},
    }
    assert cg.nodes["api"] == {"requests": 2, "errors": 0, "latency": 3.0}
    assert cg.nodes["db"] == {"requests": 3, "errors": 1, "latency": 2.0}


def test_call_graph_node_rule():
    spans = pd.DataFrame(
        {
            "trace_id": ["t", "t"],
            "span_id": ["a", "b"],
            "parent_id": ["", "a"],
            "service": ["front-579b9bff58-t2dbm", "redis-cart-0"],
            "duration_ns": [1, 1],
            "status": [0, 0],
        }
    )
    assert list(call_graph(spans, "service").edges) == [("front", "redis-cart")]


def test_call_graph_bad_input(tiny_spans):
    with pytest.raises(SchemaError, match="spans, field 'trace_id': required field missing"):
        call_graph(tiny_spans.drop(columns="trace_id"))
    with pytest.raises(GraphadInputError, match="must be a pandas DataFrame"):
        call_graph({"trace_id": []})


def test_real_call_graph_is_subset_of_truth(nezha_spans, nezha_dependency):
    cg = call_graph(nezha_spans, node_rule="service")
    assert set(cg.edges) <= nezha_dependency
    assert cg.number_of_edges() >= 10
    assert cg.edges["frontend", "productcatalogservice"]["calls"] > 100
