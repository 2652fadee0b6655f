"""A simulated fault through the graph path end to end, ranked by name.

Telemetry -> build_dynamic_graph (grid anchored on the onset) -> a detector's node scores
-> a ranker on windows taken out of the graph: the windows carry their node names, and
the given onset is honoured.
"""

import numpy as np
import pytest

from graphad.datasets import make_microservice_system
from graphad.detectors import RobustZScore
from graphad.graph import WindowSpec, build_dynamic_graph
from graphad.rca import PageRankRanker, ScoreRanker


@pytest.mark.parametrize("pod_names", [False, True])
def test_simulated_fault_ranked_by_name_through_the_graph(pod_names):
    system = make_microservice_system(
        6, duration="2h", fault_type="cpu", pod_names=pod_names, random_state=3
    )
    case = system.case
    onset = case.onset_ns
    spec = WindowSpec.of("10min", stride="1min", step="1min", anchor=onset)
    graph = build_dynamic_graph(case, spec=spec)  # the case's own node rule
    ends = graph.window_end.numpy()
    assert onset in ends.tolist()  # a window ends exactly at the onset
    assert sorted(graph.vocab.names) == sorted(system.services)  # pods mapped to services
    train = int(np.searchsorted(ends, onset, side="right"))
    detector = RobustZScore().fit(graph[:train])
    scores = detector.decision_function(graph)
    windows = list(graph)  # plain PyG windows: no vocabulary passed alongside
    for ranker in (ScoreRanker(), PageRankRanker()):
        result = ranker.rank(windows, scores, onset=onset)
        assert set(result.nodes) == set(system.services)  # names, not '0'..'N-1'
        assert result.onset_ns == onset  # the given onset, not an estimate
        assert result.nodes[0] == case.root_cause
