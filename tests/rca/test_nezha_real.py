"""The multi-source ranker on one real Nezha fault (shared data)."""

import pytest

from graphad.eval.bench import blind_case
from graphad.rca import MultiSourceRanker


@pytest.mark.slow
def test_real_cpu_fault_ranked_first(shared_data):
    from graphad.datasets import Nezha

    data = Nezha(shared_data / "nezha")
    case = data.case("2022-08-23T16:31:35", sources=("metrics", "spans"))
    result = MultiSourceRanker().rank(blind_case(case))
    assert result.nodes[0] == case.root_cause
    assert result.extra["seconds"] < 10
    assert set(result.extra["sources"]) >= {"metric", "latency", "gap", "structure"}
