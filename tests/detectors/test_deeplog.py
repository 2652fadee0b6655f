"""DeepLog: sequence validation, exact ranks on a deterministic workflow, persistence."""

from __future__ import annotations

import pytest
import torch

from graphad.detectors import DeepLog
from graphad.detectors.deeplog import as_event_sequences
from graphad.exceptions import GraphadInputError

TRAIN = ["1 2 3 4"] * 30 + ["1 2 4 3"] * 30


def _fit(**kwargs) -> DeepLog:
    params = dict(
        window_size=3, epochs=60, lr=0.02, hidden_channels=16, num_layers=1, random_state=0
    )
    params.update(kwargs)
    return DeepLog(**params).fit(TRAIN)


def test_as_event_sequences_forms_and_errors():
    assert as_event_sequences(["a b", ("c",), [1, 2]]) == [["a", "b"], ["c"], ["1", "2"]]
    with pytest.raises(GraphadInputError, match="list of event sequences"):
        as_event_sequences("1 2 3")
    with pytest.raises(GraphadInputError, match="no sessions"):
        as_event_sequences([])
    with pytest.raises(GraphadInputError, match="record 1, field 'event'"):
        as_event_sequences([["1"], ["2", 3.5]])
    with pytest.raises(GraphadInputError, match="record 0"):
        as_event_sequences([{"a": 1}])


def test_ranks_on_a_learnable_workflow():
    model = _fit(top_g=1)
    assert model.events_ == ["1", "2", "3", "4"]
    assert model.node_names_ == ["1", "2", "3", "4", "<unknown>", "<end>"]
    assert model.threshold_ == 0.0 and model.top_g_ == 1
    # g = 1 would flag one of the two normal orders; g = 2 is right for this workflow
    model = _fit(top_g=2)
    scores = model.score_sequences(["1 2 3 4", "1 2 4 3", "1 3 2 4", "1 2 3 9"])
    # after "1 2", 3 and 4 share the probability: one of the two orders ranks 1
    assert sorted(scores[:2].tolist()) == [0.0, 1.0]
    assert scores[2] >= 2  # never seen: outside the top 2
    assert scores[3] == 5.0  # unknown event: rank = number of classes
    assert model.predict(["1 2 3 4", "1 3 2 4", "1 2 3 9"]).tolist() == [0, 1, 1]
    nodes = model.decision_function(["1 2 3 9"])
    assert nodes.shape == (1, 6) and nodes[0, 4] == 5.0  # blame on <unknown>


def test_end_token_catches_a_truncated_session():
    with_end = _fit(top_g=2)
    without_end = _fit(top_g=2, end_token=False)
    assert with_end.predict(["1 2 3"]).item() == 1
    assert without_end.predict(["1 2 3"]).item() == 0


def test_nll_scoring_and_fitted_threshold(tmp_path):
    model = _fit(scoring="nll")
    scores = model.score_sequences(["1 2 3 4", "1 3 2 4", "1 2 3 9"])
    assert scores[0] < 1.0 < scores[1] and scores[2] == 100.0
    assert model.threshold_ == pytest.approx(float(torch.quantile(model.train_scores_, 0.99)))
    model.save(tmp_path / "d.pt")
    loaded = DeepLog.load(tmp_path / "d.pt")
    assert loaded.top_g_ is None and loaded.events_ == model.events_
    torch.testing.assert_close(loaded.score_sequences(["1 3 2 4"]), scores[1:2])


def test_fitted_top_g_from_training_sessions():
    model = _fit(contamination=0.01)
    # the training ranks are 0 or 1, the 0.99 quantile is 1 -> g = 2
    assert model.threshold_ == 1.0 and model.top_g_ == 2


def test_bad_parameters():
    with pytest.raises(GraphadInputError, match="Could not resolve 'rnk'"):
        DeepLog(scoring="rnk").fit(TRAIN)
    with pytest.raises(GraphadInputError, match="positive"):
        DeepLog(top_g=0).fit(TRAIN)
    with pytest.raises(GraphadInputError, match="no events"):
        DeepLog().fit([[], []])
