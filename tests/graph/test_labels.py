import pytest

from graphad.exceptions import GraphadInputError, UnknownNodeError
from graphad.graph import WindowSpec, build_dynamic_graph, label_windows

SPEC = WindowSpec.of(10)  # windows [0,10), [10,20), [20,30)


def test_label_windows_exact(tiny_spans):
    g = build_dynamic_graph(tiny_spans, spec=SPEC)
    labelled = label_windows(g, 12, "db", end_ns=20)
    assert [int(w.y_window) for w in labelled] == [0, 1, 0]
    assert labelled[1].rc_mask.tolist() == [False, True, False]
    assert labelled[1].y.tolist() == [0, 1, 0]
    assert labelled[0].y.tolist() == [0, 0, 0]
    assert "y" not in g[0]  # the input graph is not modified
    assert labelled.meta["labels"] == {"onset_ns": 12, "end_ns": 20, "root_cause": ["db"]}
    open_ended = label_windows(g, 12, ["db", "api"])
    assert [int(w.y_window) for w in open_ended] == [0, 1, 1]
    assert open_ended[2].y.tolist() == [1, 1, 0]
    for w in labelled:
        w.validate(raise_on_error=True)


def test_label_windows_node_rule_and_metric_granularity(tiny_spans):
    g = build_dynamic_graph(tiny_spans, spec=SPEC, granularity="metric")
    labelled = label_windows(g, 0, "db-579f59597d-wc2lz", node_rule="service")
    names = [n for n, m in zip(g.vocab.names, labelled[0].rc_mask.tolist(), strict=True) if m]
    assert names == [n for n in g.vocab.names if n.startswith("db/")] and len(names) == 6
    one = label_windows(g, 0, "db/span:req_count")
    assert int(one[0].rc_mask.sum()) == 1


def test_label_windows_bad_root_cause(tiny_spans):
    g = build_dynamic_graph(tiny_spans, spec=SPEC)
    with pytest.raises(UnknownNodeError, match="root_cause.*not a node.*'cache'"):
        label_windows(g, 0, "cache")
    with pytest.raises(GraphadInputError, match="no root cause given"):
        label_windows(g, 0, [])
