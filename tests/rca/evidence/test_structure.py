"""Span structure evidence."""

import numpy as np
import pandas as pd
import pytest

from graphad.exceptions import GraphadInputError
from graphad.rca.evidence import (
    span_structure_scores,
)


def test_structure_fanout_change_blames_caller():
    rows = []
    for side in (0, 1):
        for _i in range(10):
            rows.append((side, "web", "GET", "", ""))
            if side == 0:
                rows.append((side, "api", "api.Get", "web", "GET"))
    frame = pd.DataFrame(
        rows, columns=["side", "node", "operation", "parent_node", "parent_operation"]
    )
    before = (frame["side"] == 0).to_numpy()
    relative = span_structure_scores(
        frame, before, ~before, min_count=3, top=1, statistic="relative"
    )
    assert relative["web"] == pytest.approx(1.0)
    top3 = span_structure_scores(frame, before, ~before, min_count=3, top=3, statistic="relative")
    assert top3["web"] == pytest.approx(1.0 / 3)
    # Poisson z: m0 = 1, m1 = 0 over 10 + 10 parent spans, pooled mean 0.5:
    # |0 - 1| / sqrt(0.5 * (1/10 + 1/10)) = sqrt(10)
    z = span_structure_scores(frame, before, ~before, min_count=3, top=1)
    assert z["web"] == pytest.approx(np.sqrt(10.0))
    with pytest.raises(GraphadInputError, match="statistic"):
        span_structure_scores(frame, before, ~before, statistic="ratio")


def test_structure_z_ignores_a_large_change_on_few_spans():
    rows = []
    for side, (n_parent, calls) in enumerate(((400, 2), (400, 2))):
        for i in range(n_parent):
            rows.append((side, "web", "GET", "", ""))
            for _ in range(calls):
                rows.append((side, "api", "api.Get", "web", "GET"))
            if side == 1 and i < 40:  # 10 % of requests stop calling the cache
                continue
            rows.append((side, "cache", "cache.Get", "web", "GET"))
    for side, calls in ((0, 1), (1, 2)):  # a rare operation doubles its calls, 6 spans
        for _ in range(6):
            rows.append((side, "batch", "Run", "", ""))
            for _ in range(calls):
                rows.append((side, "api", "api.Put", "batch", "Run"))
    frame = pd.DataFrame(
        rows, columns=["side", "node", "operation", "parent_node", "parent_operation"]
    )
    before = (frame["side"] == 0).to_numpy()
    relative = span_structure_scores(frame, before, ~before, top=1, statistic="relative")
    assert relative.idxmax() == "batch"  # 50 % change on six spans
    z = span_structure_scores(frame, before, ~before, top=1)
    assert z.idxmax() == "web"  # 10 % change on 400 spans


def test_structure_z_uses_the_per_span_variance_of_calls():
    # before: 4 requests making 0, 2, 2, 4 calls (mean 2, variance 2);
    # after: 4 requests making 1 call each (variance 0, floored at 1 / (4 + 4))
    rows = []
    for side, counts in ((0, (0, 2, 2, 4)), (1, (1, 1, 1, 1))):
        for calls in counts:
            parent = len(rows)
            rows.append((side, "web", "GET", "", "", -1))
            rows.extend((side, "api", "api.Get", "web", "GET", parent) for _ in range(calls))
    frame = pd.DataFrame(
        rows,
        columns=["side", "node", "operation", "parent_node", "parent_operation", "parent_row"],
    )
    before = (frame["side"] == 0).to_numpy()
    welch = span_structure_scores(frame, before, ~before, min_count=3, top=1)
    assert welch["web"] == pytest.approx(1.0 / np.sqrt(2.0 / 4 + 0.125 / 4))
    poisson = span_structure_scores(
        frame.drop(columns="parent_row"), before, ~before, min_count=3, top=1
    )
    assert poisson["web"] == pytest.approx(1.0 / np.sqrt(1.5 * (1 / 4 + 1 / 4)))
