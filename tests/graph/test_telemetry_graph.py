"""The graph of a Telemetry: edge metrics as edge features, anchored grids, named windows."""

import numpy as np
import pandas as pd
import pytest
from torch_geometric.data import Batch

from graphad.exceptions import GraphadInputError
from graphad.graph import EDGE_FEATURES, WindowSpec, build_dynamic_graph, call_graph
from graphad.graph.calls import span_calls, span_parents
from graphad.ingest.telemetry import Telemetry

SPEC = WindowSpec.of(20, stride=10, step=10)  # windows [0, 20) and [10, 30), T = 2


def _edge_metrics():
    # web -> db known from the spans too; web -> cache only from the edge metrics
    return pd.DataFrame(
        {
            "ts_ns": [1, 5, 12, 25, 3],
            "src": ["web", "web", "web", "web", "web"],
            "dst": ["db", "db", "cache", "db", "db"],
            "metric": ["p50", "p50", "p50", "p50", "p99"],
            "value": [2.0, 4.0, 7.0, 9.0, 5.0],
        }
    )


def _spans():
    return pd.DataFrame(
        {
            "trace_id": ["t", "t", "u", "u"],
            "span_id": ["a", "b", "c", "d"],
            "parent_id": ["", "a", "", "c"],
            "service": ["web", "db", "web", "db"],
            "start_ns": [0, 2, 14, 15],
            "duration_ns": [4_000_000, 1_000_000, 2_000_000, 1_000_000],
            "status": [0, 1, 0, 0],
        }
    )


def test_edge_metrics_are_edge_features_and_add_edges():
    telemetry = Telemetry(spans=_spans(), edge_metrics=_edge_metrics())
    g = build_dynamic_graph(telemetry, spec=SPEC)
    assert g.vocab.names == ["cache", "db", "web"]  # cache: named by the edge metrics only
    assert g.edge_feature_names == [*EDGE_FEATURES, "edge_metric:p50", "edge_metric:p99"]
    w0, w1 = g[0], g[1]
    # window [0, 20): web -> cache (edge metric only, 0 calls), web -> db (2 calls)
    assert w0.edge_index.tolist() == [[2, 2], [0, 1]]
    assert w0.edge_attr.tolist() == [
        [0.0, 0.0, 0.0, 7.0, 0.0],
        [2.0, 1.0, 1.0, 3.0, 5.0],
    ]
    # window [10, 30): web -> cache (12 ns), web -> db (one call, p50 9 at 25 ns)
    assert w1.edge_index.tolist() == [[2, 2], [0, 1]]
    assert w1.edge_attr.tolist() == [[0.0, 0.0, 0.0, 7.0, 0.0], [1.0, 0.0, 1.0, 9.0, 0.0]]
    assert w0.node_mask.tolist() == [True, True, True]  # the edge metrics saw cache
    assert w0.edge_attr.shape[1] == len(g.edge_feature_names)
    # without edge metrics the edge features are those of the calls only
    plain = build_dynamic_graph(Telemetry(spans=_spans()), spec=SPEC)
    assert plain.edge_feature_names == list(EDGE_FEATURES)
    assert plain[0].edge_attr.tolist() == [[2.0, 1.0, 1.0]]


def test_edge_metrics_alone_and_with_the_telemetry_node_rule():
    frame = _edge_metrics().assign(src="web-7d9f8b6c5d-abcde")
    g = build_dynamic_graph(Telemetry(edge_metrics=frame, node_rule="service"), spec=SPEC)
    assert g.vocab.names == ["cache", "db", "web"]
    assert g.num_features == 0 and g[0].edge_index.tolist() == [[2, 2], [0, 1]]
    same = build_dynamic_graph(None, spec=SPEC, edge_metrics=frame, node_rule="service")
    assert same[0].edge_attr.tolist() == g[0].edge_attr.tolist()
    pods = build_dynamic_graph(Telemetry(edge_metrics=frame), spec=SPEC)  # identity default
    assert "web-7d9f8b6c5d-abcde" in pods.vocab.names


def test_a_telemetry_and_frames_are_not_mixed():
    with pytest.raises(GraphadInputError, match="not both"):
        build_dynamic_graph(Telemetry(spans=_spans()), _spans(), spec=SPEC)


def test_anchored_grid_ends_a_window_at_the_onset():
    spans = _spans()
    onset = 17
    spec = WindowSpec.of(10, stride=5, step=5, anchor=onset)
    g = build_dynamic_graph(Telemetry(spans=spans).with_onset(onset), spec=spec)
    ends = g.window_end.tolist()
    assert onset in ends
    assert all((e - onset) % 5 == 0 for e in ends)
    assert g.meta["start_ns"] == -3 and g.meta["end_ns"] == 17  # 0 and 15 + 1 on the grid
    unanchored = build_dynamic_graph(spans, spec=WindowSpec.of(10, stride=5, step=5))
    assert onset not in unanchored.window_end.tolist()
    assert WindowSpec.from_dict(spec.to_dict()) == spec


def test_windows_keep_their_node_names_through_slicing_and_batching(tmp_path):
    g = build_dynamic_graph(Telemetry(spans=_spans(), edge_metrics=_edge_metrics()), spec=SPEC)
    windows = list(g[1:])
    assert windows[0].node_names == ["cache", "db", "web"]
    batch = Batch.from_data_list(list(g))
    assert batch.node_names == [g.vocab.names, g.vocab.names]
    assert batch.edge_index.max() < batch.num_nodes  # node_names does not shift indices
    path = tmp_path / "g.pt"
    g.save(path)
    assert type(g).load(path)[0].node_names == g.vocab.names


def test_one_call_table_for_the_builder_the_call_graph_and_the_parents():
    spans = _spans()
    telemetry = Telemetry(spans=spans)
    assert span_parents(telemetry).tolist() == [-1, 0, -1, 2]
    assert span_parents(telemetry) is telemetry.parent_rows()  # computed once
    calls = span_calls(telemetry)
    assert calls.names == ["db", "web"] and calls.caller.tolist() == [-1, 1, -1, 1]
    g = call_graph(telemetry)
    assert list(g.edges) == [("web", "db")] and g.edges["web", "db"]["calls"] == 2
    assert list(call_graph(spans).edges) == list(g.edges)
    # a span that names itself as its parent has none
    own = spans.assign(parent_id=["a", "a", "", "c"])
    assert span_parents(own).tolist() == [-1, 0, -1, 2]
    assert np.array_equal(span_calls(own).caller, [-1, 1, -1, 1])
