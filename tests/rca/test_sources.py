"""Per-source evidence: span decomposition, gaps, structure, logs, fusion."""

import numpy as np
import pandas as pd
import pytest

from graphad.exceptions import GraphadInputError, SchemaError
from graphad.rca import fuse_scores, normalize_scores
from graphad.rca.sources import (
    log_scores,
    metric_deviation_scores,
    span_gap_scores,
    span_structure_scores,
    span_table,
)


def _spans():
    return pd.DataFrame(
        {
            "trace_id": ["t"] * 5,
            "span_id": ["1", "2", "3", "4", "5"],
            "parent_id": ["", "1", "2", "1", "4"],
            "service": ["web", "web", "api", "web", "db"],
            "operation": ["GET", "api.Get", "api.Get", "db.Q", "db.Q"],
            "start_ns": [0, 1, 2, 3, 4],
            "duration_ns": [100, 40, 30, 20, 15],
        }
    )


def test_span_table_exact():
    table = span_table(_spans(), node_rule=None)
    assert table["parent_node"].tolist() == ["", "web", "web", "web", "web"]
    assert table["self_ns"].tolist() == [40, 10, 30, 5, 15]
    assert table["n_children"].tolist() == [2, 1, 0, 1, 0]
    assert table["gap_ns"].tolist()[2] == 10 and table["gap_ns"].tolist()[4] == 5
    assert np.isnan(table["gap_ns"].tolist()[0])
    assert table["is_client"].tolist() == [False, True, False, True, False]


def test_gap_median_blames_the_common_end():
    rows = []
    for side, delay in ((0, 0), (1, 50)):
        for callee in ("a", "b", "c"):
            for _ in range(6):
                extra = delay if callee == "b" else 0
                rows.append((side, "x", callee, 10 + extra))
                rows.append((side, callee, "z", 10 + extra))
    frame = pd.DataFrame(rows, columns=["side", "parent_node", "node", "gap_ns"])
    before = (frame["side"] == 0).to_numpy()
    scores = span_gap_scores(frame, before, ~before, min_count=3)
    assert scores.idxmax() == "b"
    assert scores["x"] == 0.0


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
    scores = span_structure_scores(frame, before, ~before, min_count=3, top=1)
    assert scores["web"] == pytest.approx(1.0)
    top3 = span_structure_scores(frame, before, ~before, min_count=3, top=3)
    assert top3["web"] == pytest.approx(1.0 / 3)


def test_log_rate_change():
    logs = pd.DataFrame(
        {
            "ts_ns": [0, 10, 20, 100, 110, 0, 100],
            "node": ["a-7d9f8b6c5d-xxxxx"] * 5 + ["b-0", "b-0"],
            "template": ["ok", "ok", "ok", "ok", "boom", "ok", "ok"],
            "count": [2, 2, 2, 6, 6, 10, 10],
        }
    )
    scores = log_scores(logs, onset_ns=100, pre_ns=100, post_ns=100, top=1)
    # a: "ok" share 1 -> 0.5 (0.5), "boom" new (1.0), rate 6 -> 12 per 100 s (0.5)
    assert scores.to_dict() == {"a": 1.0, "b": 0.0}
    mean = log_scores(logs, onset_ns=100, pre_ns=100, post_ns=100, top=3)
    assert mean["a"] == pytest.approx((1.0 + 0.5 + 0.5) / 3)


def test_missing_columns():
    with pytest.raises(SchemaError, match="metric"):
        metric_deviation_scores(pd.DataFrame({"ts_ns": [1]}), 0)
    with pytest.raises(SchemaError, match="parent_id"):
        span_table(pd.DataFrame({"trace_id": ["t"]}))
    with pytest.raises(GraphadInputError, match="scaler"):
        metric_deviation_scores(
            pd.DataFrame({"ts_ns": [0, 1], "node": "a", "metric": "m", "value": [1.0, 2.0]}),
            1,
            scaler="magic",
        )


def test_fusion_normalises_per_source():
    flat = pd.Series({"a": 5.0, "b": 5.0, "c": 5.0})
    peaked = pd.Series({"a": 0.1, "b": 0.1, "c": 0.9})
    fused, table = fuse_scores({"flat": flat, "peaked": peaked})
    assert fused.index[0] == "c"
    assert table["flat"].tolist() == [0.0, 0.0, 0.0]
    assert normalize_scores(pd.Series({"a": 2.0, "b": 1.0}), "max").tolist() == [1.0, 0.5]
    with pytest.raises(GraphadInputError, match="Could not resolve"):
        normalize_scores(flat, "magic")
