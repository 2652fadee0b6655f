"""Span error evidence."""

import numpy as np
import pandas as pd
import pytest

from graphad.rca.evidence import (
    span_error_scores,
)


def test_error_source_charges_the_span_where_errors_start():
    # web -> api -> db; after the onset db fails and the failure travels up the chain
    rows = []
    for side in (0, 1):
        for _ in range(20):
            root = len(rows)
            failing = int(side == 1)
            rows.append((side, "web", "GET", "", "", -1, failing))
            rows.append((side, "api", "Get", "web", "GET", root, failing))
            rows.append((side, "db", "Query", "api", "Get", root + 1, failing))
    frame = pd.DataFrame(
        rows,
        columns=["side", "node", "operation", "parent_node", "parent_operation"]
        + ["parent_row", "status"],
    )
    before = (frame["side"] == 0).to_numpy()
    scores = span_error_scores(frame, before, ~before)
    # db: 0/20 -> 20/20, pooled .5: 1 / sqrt(.25 * (2 / 20)) = sqrt(40)
    assert scores["db"] == pytest.approx(np.sqrt(40.0))
    assert scores["web"] == 0.0 and scores["api"] == 0.0
    # without the parent rows every failing span counts as an origin
    flat = span_error_scores(frame.drop(columns="parent_row"), before, ~before)
    assert flat["web"] == pytest.approx(np.sqrt(40.0))
    assert span_error_scores(frame.assign(status=0), before, ~before).empty
