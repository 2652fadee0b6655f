"""Metric evidence and input checks of the evidence functions."""

import pandas as pd
import pytest

from graphad.exceptions import GraphadInputError, SchemaError
from graphad.rca.evidence import (
    metric_deviation_scores,
    span_table,
)


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


def _flat_then_drop():
    """Availability flat at 100 for 10 samples, then 92 and 96; CPU noisy around 50."""
    ts = list(range(12))
    avail = [100.0] * 10 + [92.0, 96.0]
    cpu = [50.0, 52.0, 48.0, 51.0, 49.0, 50.0, 53.0, 47.0, 50.0, 50.0, 54.0, 50.0]
    errors = [0.0] * 10 + [3.0, 0.0]
    return pd.DataFrame(
        {
            "ts_ns": ts * 3,
            "node": ["api"] * 12 + ["db"] * 12 + ["web"] * 12,
            "metric": ["availability"] * 12 + ["cpu"] * 12 + ["errors"] * 12,
            "value": avail + cpu + errors,
        }
    )


def test_flat_metric_scored_by_its_departure_from_the_level():
    metrics = _flat_then_drop()
    level = metric_deviation_scores(metrics, 10, node_rule=None, min_scale=0.05, flat="level")
    # 100 -> 92: 8 % of the flat level; errors flat at 0 -> 3: 3 (absolute)
    assert level["api"] == pytest.approx(8.0)
    assert level["web"] == pytest.approx(3.0)
    # cpu is not flat (IQR 1.5 before the onset): unchanged, |54 - 50| / max(1.5, 5 % of 50)
    assert level["db"] == pytest.approx(4.0 / 2.5)
    assert level.index[0] == "api"
    # the old rule divides the drop by the 5 % floor of the level: 8 / 5
    scaled = metric_deviation_scores(metrics, 10, node_rule=None, min_scale=0.05)
    assert scaled["api"] == pytest.approx(1.6)
    assert scaled["db"] == pytest.approx(level["db"])
    assert scaled.index[0] == "web"  # the 0 -> 3 error count: |3 - 0| / 1
    # a fraction (success rate 1.0 -> 0.92) scores as its percentage does
    share = metrics.assign(
        value=metrics["value"].where(metrics["metric"] != "availability", metrics["value"] / 100)
    )
    assert metric_deviation_scores(share, 10, node_rule=None, flat="level")["api"] == (
        pytest.approx(8.0)
    )
    # zero IQR but a spike in the reference (a counter, not a saturating metric): the
    # ordinary rule, |3 - 0| / 1
    spiky = metrics.copy()
    spiky.loc[(spiky["metric"] == "errors") & (spiky["ts_ns"] == 4), "value"] = 5.0
    assert metric_deviation_scores(spiky, 10, node_rule=None, flat="level")["web"] == (
        pytest.approx(3.0)
    )
    # a tiny spread (99.5 .. 100, within 1 % of the level) is still flat: 8 % of 100
    tiny = metrics.copy()
    tiny.loc[(tiny["metric"] == "availability") & (tiny["ts_ns"] == 3), "value"] = 99.5
    assert metric_deviation_scores(tiny, 10, node_rule=None, flat="level")["api"] == (
        pytest.approx(8.0)
    )
    with pytest.raises(GraphadInputError, match="flat"):
        metric_deviation_scores(metrics, 10, flat="zero")
