"""Span truncation evidence."""

import numpy as np
import pandas as pd
import pytest

from graphad.rca.evidence import (
    span_structure_scores,
    span_table,
    span_truncation_scores,
)


def _requests(side: int, count: int, stop_after_api: int) -> list[tuple]:
    """``count`` web requests calling api then db; the first ``stop_after_api`` stop
    after the api call (the db call never happens)."""
    rows = []
    for i in range(count):
        t = f"{side}-{i}"
        start = side * 1_000 + i * 10
        rows += [
            (t, f"{t}r", "", "web", "GET", start, 9),
            (t, f"{t}a", f"{t}r", "web", "api.Get", start + 1, 3),
            (t, f"{t}as", f"{t}a", "api", "api.Get", start + 2, 1),
        ]
        if i >= stop_after_api:
            rows += [
                (t, f"{t}d", f"{t}r", "web", "db.Q", start + 5, 3),
                (t, f"{t}ds", f"{t}d", "db", "db.Q", start + 6, 1),
            ]
    return rows


def _request_table(stop_before: int, stop_after: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Span table of 10 requests before (side 0) and 10 after (side 1), and the
    before mask; ``stop_*`` requests of each side stop after the api call."""
    rows = _requests(0, 10, stop_before) + _requests(1, 10, stop_after)
    columns = ["trace_id", "span_id", "parent_id", "service", "operation"]
    spans = pd.DataFrame(rows, columns=[*columns, "start_ns", "duration_ns"])
    table = span_table(spans, node_rule=None)
    return table, table["start_ns"].to_numpy() < 1_000


def test_truncation_charges_the_callee_where_requests_stop():
    table, before = _request_table(0, 6)
    scores = span_truncation_scores(table, before, ~before)
    # (web, GET) stops after calling api in 0/10 requests before, 6/10 after; pooled .3:
    # .6 / sqrt(.3 * .7 * (1/10 + 1/10))
    assert scores["api"] == pytest.approx(0.6 / np.sqrt(0.21 * 0.2))
    assert set(scores.index) == {"api"}
    # the structure source charges the caller for the vanished db calls
    assert span_structure_scores(table, before, ~before).idxmax() == "web"
    assert span_truncation_scores(table.drop(columns="parent_row"), before, ~before).empty


def test_truncation_needs_fewer_calls_than_usual():
    # every request calls api only, before and after: a complete request, not a truncated one
    table, before = _request_table(10, 10)
    assert span_truncation_scores(table, before, ~before).empty
