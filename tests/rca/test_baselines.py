"""BARO, N-Sigma and random rankers on tiny hand-made cases."""

import numpy as np
import pandas as pd
import pytest

from graphad.datasets.base import FaultCase
from graphad.exceptions import GraphadInputError
from graphad.rca import RANKERS, BaroRanker, NSigmaRanker, RandomRanker, get_ranker


def _case() -> FaultCase:
    # pod a: before 1, 2, 3 -> median 2, IQR 1, mean 2, std sqrt(2/3); after 9
    # pod b: before 5, 5, 6 -> median 5, IQR 0.5, mean 16/3, std sqrt(2/9); after 6
    metrics = pd.DataFrame(
        {
            "ts_ns": [0, 1, 2, 3] * 2,
            "node": ["a-7d9f8b6c5d-abcde"] * 4 + ["b-7d9f8b6c5d-fghij"] * 4,
            "metric": "cpu",
            "value": [1.0, 2, 3, 9, 5, 5, 6, 6],
        }
    )
    return FaultCase(
        "c", "toy", onset_ns=3, root_cause="", fault_type="", metrics=metrics, node_rule="service"
    )


def test_baro_exact():
    result = BaroRanker().rank(_case())
    assert result.nodes == ["a", "b"]
    assert result.scores == pytest.approx([7.0, 2.0])
    assert result.method == "baro"
    assert result.onset_ns == 3


def test_nsigma_exact():
    result = NSigmaRanker().rank(_case())
    expected_a = (9 - 2) / np.sqrt(2 / 3)
    expected_b = (6 - 16 / 3) / np.sqrt(2 / 9)
    assert result.nodes == ["a", "b"]
    assert result.scores == pytest.approx([expected_a, expected_b])


def test_zero_spread_uses_unit_scale():
    metrics = pd.DataFrame(
        {"ts_ns": [0, 1, 2], "node": "a", "metric": "m", "value": [4.0, 4.0, 7.0]}
    )
    case = FaultCase("c", "toy", onset_ns=2, root_cause="", fault_type="", metrics=metrics)
    assert BaroRanker(node_rule="identity").rank(case).scores == [3.0]


def test_random_is_seeded_and_complete():
    case = _case()
    first = RandomRanker(random_state=3).rank(case)
    again = RandomRanker(random_state=3).rank(case)
    assert first.nodes == again.nodes
    assert sorted(first.nodes) == ["a", "b"]
    orders = {tuple(RandomRanker(random_state=s).rank(case).nodes) for s in range(20)}
    assert len(orders) == 2


def test_registry_and_bad_name():
    assert {"score", "pagerank", "baro", "nsigma", "random", "graphad"} <= set(RANKERS)
    assert isinstance(get_ranker("BARO"), BaroRanker)
    with pytest.raises(GraphadInputError, match="Could not resolve 'magic'"):
        get_ranker("magic")
