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
