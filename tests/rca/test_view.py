"""CaseView: built explicitly from a case or from windows with their node names."""

import pytest
import torch
from torch_geometric.data import Data

from graphad.datasets import make_microservice_system
from graphad.exceptions import GraphadInputError
from graphad.graph import NodeVocab
from graphad.ingest.telemetry import Telemetry
from graphad.rca import CaseView


def _windows(n_windows: int = 6, names: list[str] | None = None) -> list[Data]:
    out = []
    for i in range(n_windows):
        w = Data(x=torch.zeros(3, 1, 1), window_end=torch.tensor([i * 10 + 10]))
        if names is not None:
            w.node_names = names
        out.append(w)
    return out


def test_from_case_reads_the_frames_and_the_given_onset():
    system = make_microservice_system(5, duration="40min", random_state=1)
    view = CaseView.from_case(system.case)
    assert view.onset_ns == system.case.onset_ns
    assert set(view.nodes) == set(system.services)
    assert view.graph is system.case.call_graph and view.case_id == system.case.case_id
    assert CaseView.from_case(system.case, onset=123).onset_ns == 123
    period = Telemetry(
        system="sim", start_ns=system.start_ns, end_ns=system.end_ns, metrics=system.metrics
    )
    assert CaseView.from_case(period, onset=5).nodes == sorted(set(system.services))
    with pytest.raises(GraphadInputError, match="case_or_windows"):
        CaseView.from_case(object())


def test_from_windows_names_and_onset():
    scores = torch.zeros(6, 3)
    scores[4:, 2] = 5.0
    stored = CaseView.from_windows(_windows(names=["a", "b", "c"]), scores, onset=40)
    assert stored.nodes == ["a", "b", "c"] and stored.onset_ns == 40  # given: honoured
    named = CaseView.from_windows(_windows(), scores, vocab=NodeVocab(["x", "y", "z"]), onset=40)
    assert named.nodes == ["x", "y", "z"]
    estimated = CaseView.from_windows(_windows(), scores, vocab=["x", "y", "z"], onset="estimated")
    assert estimated.onset_ns == 40  # end of the last window before the change
    with pytest.raises(GraphadInputError, match="node names"):
        CaseView.from_windows(_windows(), scores, onset=40)
    with pytest.raises(GraphadInputError, match="one node name per node"):
        CaseView.from_windows(_windows(), scores, vocab=["x"], onset=40)
    with pytest.raises(GraphadInputError, match="no onset"):
        CaseView.from_windows(_windows(), scores, vocab=["x", "y", "z"], onset="given")
