"""Span gap evidence and its attribution."""

import pandas as pd
import pytest

from graphad.exceptions import GraphadInputError
from graphad.rca.evidence import (
    span_gap_scores,
)


def _rpc_rows(slow: dict[tuple[str, str], float]) -> pd.DataFrame:
    """Client -> server gaps of a small call graph, before (side 0) and after (side 1)."""
    rows = []
    edges = [("web", "ads"), ("web", "cart"), ("web", "shop"), ("shop", "cart"), ("shop", "pay")]
    for side in (0, 1):
        for src, dst in edges:
            for i in range(8):
                extra = slow.get((src, dst), 0.0) if side == 1 else 0.0
                rows.append((side, src, dst, 10.0 + i % 3 + extra))
    return pd.DataFrame(rows, columns=["side", "parent_node", "node", "gap_ns"])


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


def test_gap_attribution_blames_a_starved_caller_not_its_leaf():
    # the caller "web" is starved: all its outgoing gaps grow; "ads" has only that edge
    frame = _rpc_rows({("web", "ads"): 80, ("web", "cart"): 60, ("web", "shop"): 60})
    before = (frame["side"] == 0).to_numpy()
    explained = span_gap_scores(frame, before, ~before, min_count=3)
    assert explained.idxmax() == "web"
    median = span_gap_scores(frame, before, ~before, min_count=3, attribution="median")
    assert median.idxmax() == "ads"  # the leaf's one edge is its median
    with pytest.raises(GraphadInputError, match="attribution"):
        span_gap_scores(frame, before, ~before, attribution="mean")


def test_gap_attribution_keeps_a_slow_leaf():
    frame = _rpc_rows({("web", "ads"): 80})
    before = (frame["side"] == 0).to_numpy()
    assert span_gap_scores(frame, before, ~before, min_count=3).idxmax() == "ads"
