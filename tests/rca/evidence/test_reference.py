"""Merging a fault-free reference into the span table."""

import numpy as np
import pandas as pd

from graphad.rca.evidence import (
    span_table,
    with_reference,
)


def test_span_table_parent_row_and_reference_offset(small_spans):
    spans = small_spans.copy()
    table = span_table(spans, node_rule=None)
    parent_ids = spans["parent_id"].tolist()
    span_ids = spans["span_id"].tolist()
    expected = [span_ids.index(p) if p in span_ids else -1 for p in parent_ids]
    assert table["parent_row"].tolist() == expected
    mask = np.zeros(len(table), dtype=bool)
    full, before, after = with_reference(table, mask, ~mask, table)
    assert full["parent_row"].tolist() == expected + [
        r + len(table) if r >= 0 else -1 for r in expected
    ]
    assert before.tolist() == [False] * len(table) + [True] * len(table)
    assert after.tolist() == [True] * len(table) + [False] * len(table)


def test_span_table_names_are_categories_kept_through_the_reference(small_spans):
    spans = small_spans.copy()
    spans.loc[4, "operation"] = ""  # an unnamed operation is a name like any other
    table = span_table(spans, node_rule=None)
    names = ["node", "operation", "parent_node", "parent_operation"]
    assert all(isinstance(table[c].dtype, pd.CategoricalDtype) for c in names)
    assert table["operation"].tolist() == ["GET", "api.Get", "api.Get", "db.Q", ""]
    assert table["parent_operation"].tolist() == ["", "GET", "api.Get", "GET", "db.Q"]
    other = small_spans.copy().assign(service=["web", "web", "cache", "web", "db"])
    reference = span_table(other, node_rule=None)
    mask = np.ones(len(table), dtype=bool)
    full, _, _ = with_reference(table, mask, ~mask, reference)
    assert all(isinstance(full[c].dtype, pd.CategoricalDtype) for c in names)
    assert full["node"].tolist() == table["node"].tolist() + reference["node"].tolist()
    assert set(full["node"].cat.categories) == {"web", "api", "db", "cache", ""}
