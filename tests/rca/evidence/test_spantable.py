"""The span table: self time, parents, client spans."""

import numpy as np

from graphad.rca.evidence import (
    span_table,
)


def test_span_table_exact(small_spans):
    table = span_table(small_spans.copy(), node_rule=None)
    assert table["parent_node"].tolist() == ["", "web", "web", "web", "web"]
    assert table["self_ns"].tolist() == [40, 10, 30, 5, 15]
    assert table["n_children"].tolist() == [2, 1, 0, 1, 0]
    assert table["gap_ns"].tolist()[2] == 10 and table["gap_ns"].tolist()[4] == 5
    assert np.isnan(table["gap_ns"].tolist()[0])
    assert table["is_client"].tolist() == [False, True, False, True, False]


def test_declared_client_spans_are_not_self_time(small_spans):
    spans = small_spans.copy().assign(kind=["server", "client", "server", "", "server"])
    table = span_table(spans, node_rule=None)
    # span 2 is a client by kind; span 4 by structure (its only child runs on "db")
    assert table["is_client"].tolist() == [False, True, False, True, False]
    childless = spans.iloc[[0, 1]].assign(kind=["server", "client"])  # callee span missing
    assert span_table(childless, node_rule=None)["is_client"].tolist() == [False, True]
    assert span_table(childless.drop(columns="kind"), node_rule=None)["is_client"].tolist() == [
        False,
        False,
    ]
