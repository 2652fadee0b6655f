"""Edge-metric evidence."""

import pandas as pd
import pytest

from graphad.exceptions import GraphadInputError, SchemaError
from graphad.rca.evidence import (
    edge_metric_scores,
)


def _edge_samples(slow: dict[tuple[str, str], float], unit: float = 1.0) -> pd.DataFrame:
    """Per-minute latency samples (seconds * ``unit``) of a small call graph; minutes
    0-9 before the onset at minute 10, 10-14 after; ``slow`` multiplies an edge after."""
    rows = []
    edges = [("web", "ads"), ("web", "cart"), ("web", "shop"), ("shop", "cart"), ("shop", "pay")]
    for minute in range(15):
        for src, dst in edges:
            factor = slow.get((src, dst), 1.0) if minute >= 10 else 1.0
            value = (0.010 + 0.001 * (minute % 3)) * factor * unit
            rows.append((minute * 60 * 10**9, src, dst, "p50_s", value))
    return pd.DataFrame(rows, columns=["ts_ns", "src", "dst", "metric", "value"])


def test_edge_metrics_blame_the_end_every_slow_edge_touches():
    onset = 10 * 60 * 10**9
    # a network delay at "cart": both of its callers see it, their other edges do not
    frame = _edge_samples({("web", "cart"): 5.0, ("shop", "cart"): 5.0})
    scores = edge_metric_scores(frame, onset, node_rule=None)
    assert scores.idxmax() == "cart"
    assert scores[["web", "shop", "ads", "pay"]].max() < 0.25 * scores["cart"]
    # a starved caller: every edge out of "web" slows, "ads" has only that one edge
    starved = _edge_samples({("web", "ads"): 5.0, ("web", "cart"): 5.0, ("web", "shop"): 5.0})
    assert edge_metric_scores(starved, onset, node_rule=None).idxmax() == "web"
    median = edge_metric_scores(starved, onset, node_rule=None, attribution="median")
    assert median.idxmax() == "ads"  # its one edge is its median
    with pytest.raises(GraphadInputError, match="attribution"):
        edge_metric_scores(frame, onset, attribution="mean")


def test_edge_metrics_are_scale_free_and_skip_unusable_samples():
    onset = 10 * 60 * 10**9
    slow = {("web", "cart"): 5.0, ("shop", "cart"): 5.0}
    seconds = edge_metric_scores(_edge_samples(slow), onset, node_rule=None)
    millis = edge_metric_scores(_edge_samples(slow, 1000.0), onset, node_rule=None)
    pd.testing.assert_series_equal(seconds, millis)  # log shifts: the unit cancels
    # zero latencies (no log) and edges with one sample after the onset are left out
    frame = _edge_samples(slow)
    late = frame["ts_ns"] >= onset
    frame.loc[late & (frame["dst"] == "cart") & (frame["src"] == "web"), "value"] = 0.0
    frame = frame[~(late & (frame["src"] == "shop") & (frame["ts_ns"] > onset))]
    assert edge_metric_scores(frame, onset, node_rule=None).max() == 0.0
    assert edge_metric_scores(frame.iloc[:0], onset).empty
    with pytest.raises(SchemaError):
        edge_metric_scores(frame.drop(columns="dst"), onset)
