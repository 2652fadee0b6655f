"""The multi-source ranker on one real Nezha fault (shared data)."""

import pytest

from graphad.rca import MultiSourceRanker


@pytest.mark.slow
def test_real_cpu_fault_ranked_first(shared_data):
    from graphad.datasets import Nezha

    data = Nezha(shared_data / "nezha")
    case = data.case("2022-08-23T16:31:35", sources=("metrics", "spans"))
    result = MultiSourceRanker().rank(case.blind())
    assert result.nodes[0] == case.root_cause
    assert result.extra["seconds"] < 10
    assert set(result.extra["sources"]) >= {"metric", "latency", "gap", "structure"}


@pytest.mark.parametrize("case_id", ["2022-08-23T14:47:40", "2022-08-23T15:04:28"])
def test_real_code_fault_of_a_callee_found_where_requests_stop(shared_data, case_id):
    """productcatalogservice return / exception faults: the frontend stops its requests
    right after calling it (no status in these spans). The structure source charges the
    caller whose calls vanished; the truncation source charges the callee."""
    from graphad.datasets import Nezha
    from graphad.rca.evidence import span_scores

    case = Nezha(shared_data / "nezha").case(case_id, sources=("spans",))
    evidence = span_scores(
        case.spans, case.onset_ns, node_rule=case.node_rule, post_ns=3 * 60 * 10**9
    )
    assert case.root_cause == "productcatalogservice"
    assert evidence["structure"].idxmax() == "frontend"
    truncation = evidence["truncation"].sort_values(ascending=False)
    assert truncation.index[0] == "productcatalogservice"
    assert truncation.iloc[0] > 3 * truncation.iloc[1]
