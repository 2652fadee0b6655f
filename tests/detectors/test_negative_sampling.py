"""Negative sampling, Algorithm-1 augmentation, the classifiers and their report."""

from __future__ import annotations

import pytest
import torch

from graphad.detectors.negative_sampling import (
    CNNClassifier,
    CNNEncoder,
    LSTMClassifier,
    NegativeSamplingContrastive,
    augment_abnormal,
    nearest_normal,
    negative_sample,
)
from graphad.exceptions import GraphadInputError


def test_negative_sample_balances_and_keeps_every_abnormal():
    y = torch.tensor([0] * 20 + [1] * 4)
    idx = negative_sample(y, 1.0, torch.Generator().manual_seed(0))
    assert idx.tolist() == sorted(idx.tolist())
    assert set(range(20, 24)) <= set(idx.tolist())
    assert int((y[idx] == 0).sum()) == 4
    assert int((y[negative_sample(y, 2.5)] == 0).sum()) == 10
    # fewer normal than wanted: all kept
    assert negative_sample(torch.tensor([0, 1, 1, 1]), 1.0).tolist() == [0, 1, 2, 3]


def test_nearest_normal_prefers_earlier_on_ties_and_never_self():
    y = torch.tensor([0, 0, 1, 0, 1, 0])
    times = torch.tensor([0, 10, 20, 30, 40, 50])
    assert nearest_normal(torch.tensor([2, 4]), times, y).tolist() == [1, 3]
    assert nearest_normal(torch.tensor([0, 3]), times, y).tolist() == [1, 1]
    with pytest.raises(GraphadInputError, match="normal windows"):
        nearest_normal(torch.tensor([0]), times[:1], torch.tensor([0]))


def test_augment_abnormal_replaces_leading_rows_without_touching_input():
    abnormal = torch.arange(8.0).view(1, 2, 4, 1)
    donor = -torch.ones(1, 2, 4, 1)
    out = augment_abnormal(abnormal, donor, 2)
    assert out[0, :, :, 0].tolist() == [[-1.0, -1.0, 2.0, 3.0], [-1.0, -1.0, 6.0, 7.0]]
    assert abnormal[0, 0, 0, 0] == 0.0  # input untouched


def test_cnn_encoder_shapes():
    for steps in (1, 4, 5):
        assert CNNEncoder(6, steps, hidden_channels=8)(torch.randn(3, 6, steps)).shape == (3, 8)


def _data(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(120, 3, 4, 1, generator=g)
    y = torch.zeros(120, dtype=torch.long)
    y[5::10] = 1
    x[y == 1, 2, 2:] += 3.0
    return x, y


def test_training_set_of_the_contrastive_detector():
    x, y = _data()
    det = NegativeSamplingContrastive(random_state=0)
    det.n_nodes_, det.n_steps_, det.n_features_ = 3, 4, 1
    from graphad.detectors.base import as_window_batch

    batch = as_window_batch(x)
    windows, labels, views = det._training_set(batch, y, torch.Generator().manual_seed(0))
    # 12 abnormal + 12 sampled normal + 12 augmented abnormal
    assert windows.shape == (36, 3, 4, 1) and views.shape == windows.shape
    assert int(labels.sum()) == 24
    # an augmented abnormal window: first 2 steps from a normal window, last 2 its own
    augmented = windows[24]
    assert torch.equal(augmented[:, 2:], views[24][:, 2:])
    with pytest.raises(GraphadInputError, match="augment_steps"):
        NegativeSamplingContrastive(augment_steps=4)._steps(4)


@pytest.mark.parametrize("cls", [CNNClassifier, LSTMClassifier, NegativeSamplingContrastive])
def test_classifiers_learn_and_report(cls):
    x, y = _data()
    extra = {"pretrain_epochs": 3} if cls is NegativeSamplingContrastive else {}
    # 12 labelled anomalies: keep 3 normal windows per anomaly (36 normal of 108)
    det = cls(epochs=25, lr=5e-3, negative_ratio=3.0, random_state=0, **extra).fit(x, y)
    assert det.threshold_ == 0.5
    assert det.n_train_ == (60 if cls is NegativeSamplingContrastive else 48)
    test_x, test_y = _data(1)
    report = det.report(test_x, test_y)
    assert set(report) == {
        "accuracy",
        "tpr",
        "fpr",
        "precision",
        "recall",
        "f1",
        "tp",
        "fp",
        "tn",
        "fn",
    }
    assert report["tp"] + report["fn"] == 12 and report["fp"] + report["tn"] == 108
    assert report["tpr"] == report["recall"] >= 0.9
    assert report["fpr"] <= 0.1
    scores = det.score_windows(test_x)
    assert ((scores >= 0) & (scores <= 1)).all()
    nodes = det.decision_function(test_x)
    assert (nodes[test_y == 1].argmax(1) == 2).float().mean() >= 0.9


def test_report_and_threshold_errors():
    x, y = _data()
    det = CNNClassifier(epochs=2, random_state=0).fit(x, y)
    with pytest.raises(GraphadInputError, match="do not match"):
        det.report(x, y[:-1])
    with pytest.raises(GraphadInputError, match="decision_threshold"):
        CNNClassifier(epochs=1, decision_threshold=1.5).fit(x, y)
