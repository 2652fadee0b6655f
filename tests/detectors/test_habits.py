"""scikit-learn / PyOD habits and refusals of the detector contract (issues 16.8, 18.6)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from graphad.detectors import CRLBSAD, UCL, KNNDetector, PCADetector, RobustZScore
from graphad.detectors.base import MEMORY_LIMIT_ENV
from graphad.exceptions import GraphadInputError


def _series(rows: int = 240, nodes: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(rows)[:, None]
    return np.sin(t / 6.0 + np.arange(nodes)) + 0.05 * rng.standard_normal((rows, nodes))


def test_fit_predict_labels_and_scores_aligned_with_rows():
    x = _series()
    det = KNNDetector(window_size=10)
    labels = det.fit_predict(x)
    assert labels.shape == (len(x),)
    assert np.isnan(labels[:9]).all() and np.isfinite(labels[9:]).all()
    assert set(np.unique(labels[9:])) <= {0.0, 1.0}
    np.testing.assert_array_equal(labels, det.labels_)
    assert det.decision_scores_.shape == (len(x),)
    assert np.isnan(det.decision_scores_[:9]).all()
    np.testing.assert_allclose(det.decision_scores_[9:], det.train_scores_.double().numpy())
    np.testing.assert_array_equal(labels[9:], (det.decision_scores_[9:] > det.threshold_))


def test_score_and_predict_steps_have_nan_leading_rows():
    x = _series()
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    det = RobustZScore(window_size=5).fit(frame)
    steps = det.score_steps(frame)
    assert steps.shape == (len(frame),)
    assert np.isnan(steps[:4]).all()
    np.testing.assert_allclose(steps[4:], det.score_windows(frame).double().numpy())
    alarms = det.predict_steps(frame)
    assert np.isnan(alarms[:4]).all()
    np.testing.assert_array_equal(alarms[4:], det.predict(frame).double().numpy())


def test_window_input_keeps_one_value_per_window():
    windows = torch.randn(50, 3, 4, 1, generator=torch.Generator().manual_seed(0))
    det = KNNDetector(n_neighbors=3)
    labels = det.fit_predict(windows)
    assert labels.shape == (50,) and np.isfinite(labels).all()
    assert det.decision_scores_.shape == (50,)


def test_random_state_defaults_to_zero():
    for cls in (CRLBSAD, UCL, KNNDetector):
        assert cls().random_state == 0


def test_constant_training_data_is_refused():
    with pytest.raises(GraphadInputError, match="training data is constant"):
        KNNDetector(window_size=5).fit(np.ones((100, 3)))


def test_memory_estimate_refuses_with_size_and_the_option_that_fits(monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "0.0001")
    with pytest.raises(GraphadInputError, match=r"GB; use top_k=16") as info:
        CRLBSAD(window_size=8, epochs=1).fit(_series(nodes=6))
    assert MEMORY_LIMIT_ENV in str(info.value)
    with pytest.raises(GraphadInputError, match="covariance"):
        PCADetector(window_size=10).fit(_series())
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "not-a-number")
    with pytest.raises(GraphadInputError, match="memory limit"):
        PCADetector(window_size=10).fit(_series())


def test_pca_on_many_nodes_is_refused_before_allocating(monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "8")
    # 2,000 nodes x 10 steps: a 20,000^2 float64 covariance (3.0 GiB x 3) is refused
    windows = torch.randn(3, 2000, 10, 1)
    with pytest.raises(GraphadInputError, match=r"would need about 8\.9 GB"):
        PCADetector().fit(windows)


def test_node_names_and_order_are_checked_at_scoring():
    x = _series()
    frame = pd.DataFrame(x, columns=["web", "db", "cache", "queue"])
    det = RobustZScore(window_size=5).fit(frame)
    with pytest.raises(GraphadInputError, match="another order"):
        det.score_windows(frame[["db", "web", "cache", "queue"]])
    with pytest.raises(GraphadInputError, match="differ from those at fit"):
        det.score_windows(frame.rename(columns={"web": "api"}))
    # reordering back, or unnamed arrays in the fitted order, are accepted
    assert det.score_windows(frame[det.node_names_]).shape == (len(x) - 4,)
    assert det.score_windows(x).shape == (len(x) - 4,)


def test_values_beyond_float32_arithmetic_are_refused_not_scored_silently():
    det = PCADetector(window_size=5).fit(_series())
    bad = _series()
    bad[100, 1] = 1e30  # PCA in float32 used to score this window ~0
    with pytest.raises(GraphadInputError, match=r"record 100, field 'x\[node 1\]'"):
        det.score_windows(bad)
    with pytest.raises(GraphadInputError, match="too large"):
        KNNDetector(window_size=5).fit(bad)


def test_dspot_predict_updates_over_the_stream():
    x = _series(rows=600)
    det = KNNDetector(window_size=10, threshold="dspot").fit(x[:400])
    stream = x[400:].copy()
    stream[150:155] += 3.0
    alarms = det.predict(stream).numpy()
    assert alarms.shape == (len(stream) - 9,)
    assert alarms[141:146].any()  # windows ending in the shifted rows
    assert alarms.mean() < 0.2
