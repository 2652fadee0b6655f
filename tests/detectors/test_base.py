"""Extensions of the detector base: labels, window-score hook, parameter round trip."""

from __future__ import annotations

import pytest
import torch

from graphad.detectors import DETECTORS, BaseDetector, PCADetector, check_window_labels
from graphad.detectors.base import WindowBatch
from graphad.exceptions import GraphadInputError


def test_check_window_labels():
    assert check_window_labels(torch.tensor([1, 0]), 2).dtype == torch.long
    with pytest.raises(GraphadInputError, match="supervised"):
        check_window_labels(None, 2)
    with pytest.raises(GraphadInputError, match=r"expected \[3\] labels"):
        check_window_labels([0, 1], 3)
    with pytest.raises(GraphadInputError, match="record 1, field 'y'"):
        check_window_labels([0, -1], 2)


class _MeanScore(BaseDetector):
    """Window score = mean node score (overrides the max)."""

    def __init__(self, scales: tuple = (1, 2), contamination: float = 0.1) -> None:
        self.scales = scales
        self.contamination = contamination

    def _fit(self, batch: WindowBatch) -> None:
        self.offset_ = batch.x.mean()

    def _score_nodes(self, batch: WindowBatch) -> torch.Tensor:
        return batch.x.mean(dim=(2, 3)) - self.offset_

    def _score_windows(self, batch: WindowBatch) -> torch.Tensor:
        return self._score_nodes(batch).mean(1)

    def _get_state(self):
        return {"offset_": self.offset_.view(1)}

    def _set_state(self, state):
        self.offset_ = state["offset_"][0]


def test_score_windows_hook_and_tuple_params_round_trip(tmp_path):
    DETECTORS["_MeanScore"] = _MeanScore
    try:
        x = torch.arange(24.0).view(6, 2, 2, 1)
        det = _MeanScore().fit(x)
        assert det.score_windows(x).tolist() == pytest.approx([-10, -6, -2, 2, 6, 10])
        # threshold_ is fitted on the hook's window scores
        assert det.threshold_ == pytest.approx(float(torch.quantile(det.train_scores_, 0.9)))
        det.save(tmp_path / "m.pt")
        loaded = BaseDetector.load(tmp_path / "m.pt")
        assert loaded.scales == (1, 2)
        assert loaded.score_windows(x).tolist() == det.score_windows(x).tolist()
    finally:
        del DETECTORS["_MeanScore"]


def test_unsupervised_fit_ignores_labels():
    x = torch.randn(50, 2, 3, 1, generator=torch.Generator().manual_seed(0))
    a = PCADetector().fit(x).score_windows(x)
    b = PCADetector().fit(x, y=[9] * 50).score_windows(x)
    torch.testing.assert_close(a, b)
