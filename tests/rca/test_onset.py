"""Onset estimation: change points on a clean step."""

import numpy as np
import pandas as pd
import pytest

from graphad.datasets.base import FaultCase
from graphad.exceptions import GraphadInputError
from graphad.ingest import Telemetry
from graphad.rca import estimate_frames_onset, estimate_onset, mean_shift_point

STEP = 60_000_000_000


@pytest.mark.parametrize("method", ["mean_shift", "threshold"])
@pytest.mark.parametrize("change", [5, 17, 30])
def test_clean_step_within_one_step(method, change):
    rng = np.random.default_rng(change)
    values = rng.normal(0.0, 0.1, 40)
    values[change:] += 3.0
    times = np.arange(40) * STEP
    onset = estimate_onset(values, times, method=method)
    assert abs(onset - change * STEP) <= STEP


def test_node_scores_and_series():
    scores = np.zeros((10, 3))
    scores[6:, 2] = 5.0
    assert estimate_onset(scores) == 6
    series = pd.Series(scores[:, 2], index=np.arange(10) * 7)
    assert estimate_onset(series) == 42


def test_case_metrics():
    times = np.arange(20) * STEP
    rows = []
    for node, jump in (("a", 0.0), ("b", 10.0)):
        for i, t in enumerate(times):
            rows.append(
                {
                    "ts_ns": t,
                    "node": node,
                    "metric": "cpu",
                    "value": 1.0 + 0.01 * (i % 3) + (jump if i >= 12 else 0.0),
                }
            )
    case = FaultCase(
        "c", "toy", onset_ns=0, root_cause="", fault_type="", metrics=pd.DataFrame(rows)
    )
    case.onset_ns = None
    assert estimate_onset(case) == 12 * STEP


def test_bad_inputs():
    with pytest.raises(GraphadInputError, match="too few"):
        mean_shift_point([1.0])
    with pytest.raises(GraphadInputError, match="times"):
        estimate_onset([0.0, 0.0, 1.0], times=[1, 2])
    with pytest.raises(GraphadInputError, match="Could not resolve"):
        estimate_onset([0.0, 0.0, 1.0], method="magic")


def test_frames_and_telemetry_agree():
    times = np.arange(20) * STEP
    rows = [
        {
            "ts_ns": t,
            "node": node,
            "metric": "cpu",
            "value": 1.0 + 0.01 * (i % 3) + jump * (i >= 12),
        }
        for node, jump in (("a", 0.0), ("b", 10.0))
        for i, t in enumerate(times)
    ]
    metrics = pd.DataFrame(rows)
    assert estimate_frames_onset(None, metrics) == 12 * STEP
    assert estimate_onset(Telemetry(metrics=metrics)) == 12 * STEP
    # spans for fewer than 6 steps: the metrics decide
    spans = pd.DataFrame(
        {"start_ns": [0, STEP], "service": "a", "operation": "op", "duration_ns": [1, 2]}
    )
    assert estimate_frames_onset(spans, metrics) == 12 * STEP
    with pytest.raises(GraphadInputError, match="too little"):
        estimate_frames_onset(spans, None)
