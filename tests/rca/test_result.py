import json

import pytest

from graphad.exceptions import GraphadInputError
from graphad.rca import RCAResult


def test_top_rank_and_dict():
    result = RCAResult(["db", "api"], [2, 1], method="score", onset_ns=5)
    assert result.top(1) == ["db"] and result.rank_of("api") == 2 and result.rank_of("x") is None
    data = result.to_dict()
    first = {"node": "db", "score": 2.0, "evidence": [], "paths": []}
    assert json.loads(json.dumps(data))["ranking"][0] == first
    assert data["evidence_above_chance"] is None and data["confidence"] is None


def test_lengths_must_match():
    with pytest.raises(GraphadInputError, match="differ in length"):
        RCAResult(["a"], [1.0, 2.0])
