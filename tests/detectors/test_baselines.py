"""Exact values of the simple baselines on tiny hand-made inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graphad.detectors.baselines import (
    IForestDetector,
    KNNDetector,
    PCADetector,
    RobustZScore,
    channel_stats,
    scaler_stats,
)
from graphad.exceptions import GraphadInputError


def test_channel_stats_robust_and_fallbacks():
    # node 0: 1..5 (median 3, IQR 2); node 1: constant -> falls back to std 0 -> 1
    x = torch.tensor([[1.0, 7.0], [2.0, 7.0], [3.0, 7.0], [4.0, 7.0], [5.0, 7.0]])
    x = x.view(5, 2, 1, 1)
    center, scale = channel_stats(x, robust=True)
    assert center.view(-1).tolist() == [3.0, 7.0]
    assert scale.view(-1).tolist() == pytest.approx([2.0 / 1.3489795, 1.0])
    mean, std = channel_stats(x)
    assert mean.view(-1).tolist() == [3.0, 7.0]
    assert std.view(-1).tolist() == pytest.approx([np.sqrt(2.0), 1.0])


def test_robust_zscore_exact_values():
    # training values of one node: 0, 1, 2, 3, 4 -> median 2, IQR 2 -> scale 2 / 1.349
    train = torch.arange(5.0).view(5, 1, 1, 1)
    det = RobustZScore().fit(train)
    test = torch.tensor([2.0, 4.0, -2.0]).view(3, 1, 1, 1)
    expected = [0.0, 2 * 1.3489795 / 2, 4 * 1.3489795 / 2]
    assert det.decision_function(test).view(-1).tolist() == pytest.approx(expected, rel=1e-5)


def test_robust_zscore_last_steps():
    train = torch.zeros(10, 1, 3, 1)
    train[::2] = 1.0  # median 0.5, IQR 1
    test = torch.tensor([[[[9.0], [0.5], [0.5]]]])
    assert RobustZScore(last_steps=1).fit(train).decision_function(test).item() == 0.0
    score = RobustZScore(last_steps=3).fit(train).decision_function(test).item()
    assert score == pytest.approx(8.5 * 1.3489795)
    with pytest.raises(GraphadInputError, match="last_steps"):
        RobustZScore(last_steps=4).fit(train)


def test_pca_exact_reconstruction_error():
    # two perfectly correlated nodes: one axis explains everything
    g = torch.Generator().manual_seed(0)
    a = torch.randn(200, generator=g)
    train = torch.stack([a, a], dim=1).view(200, 2, 1, 1)
    det = PCADetector(n_components=1, normalize=False).fit(train)
    assert det.components_.shape == (2, 1)
    std = train.view(200, 2).std(0, unbiased=False)
    mean = train.view(200, 2).mean(0)
    # the window (m0 + d*s0, m1 - d*s1) is orthogonal to the axis: residual = 2 d^2 split
    test = torch.stack([mean + 1.5 * std * torch.tensor([1.0, -1.0])]).view(1, 2, 1, 1)
    errors = det.decision_function(test).view(-1)
    assert errors.tolist() == pytest.approx([1.5**2, 1.5**2], rel=1e-4)
    on_axis = (mean + 2.0 * std).view(1, 2, 1, 1)
    assert det.decision_function(on_axis).abs().max().item() < 1e-4


def test_pca_n_components_rules():
    train = torch.randn(100, 3, 2, 1, generator=torch.Generator().manual_seed(1))
    assert PCADetector(n_components=2).fit(train).components_.shape == (6, 2)
    assert PCADetector(n_components=50).fit(train).components_.shape == (6, 6)
    k = PCADetector(n_components=0.5).fit(train).components_.shape[1]
    assert 1 <= k < 6
    with pytest.raises(GraphadInputError, match="n_components"):
        PCADetector(n_components=0).fit(train)
    with pytest.raises(GraphadInputError, match="n_components"):
        PCADetector(n_components="all").fit(train)


def test_knn_distance_exact_and_leave_one_out():
    train = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]).view(10, 1, 1, 1)
    det = KNNDetector(n_neighbors=1, scaler="standard").fit(train)
    std = train.view(-1).std(unbiased=False).item()
    # a test point at 4.5 is 0.5 from its nearest neighbour, in standardised units
    assert det.score_windows(torch.tensor([4.5]).view(1, 1, 1, 1)).item() == pytest.approx(
        0.5 / std, rel=1e-5
    )
    # training windows are scored leave-one-out: each is 1 away from its neighbour
    assert det.train_scores_.tolist() == pytest.approx([1.0 / std] * 10, rel=1e-5)
    mean = KNNDetector(n_neighbors=2, method="mean", scaler="standard").fit(train)
    assert mean.score_windows(torch.tensor([4.5]).view(1, 1, 1, 1)).item() == pytest.approx(
        0.5 / std, rel=1e-5
    )
    with pytest.raises(GraphadInputError, match="Could not resolve 'median'"):
        KNNDetector(method="median").fit(train)
    with pytest.raises(GraphadInputError, match="n_neighbors"):
        KNNDetector(n_neighbors=10).fit(train)


def test_knn_and_iforest_node_scores_are_shares_of_the_window_score():
    g = torch.Generator().manual_seed(2)
    train = torch.randn(150, 3, 4, 1, generator=g)
    test = torch.randn(5, 3, 4, 1, generator=g)
    test[2, 0] += 6.0
    for det in (KNNDetector(), IForestDetector(random_state=0, n_estimators=50)):
        det.fit(train)
        nodes, windows = det.decision_function(test), det.score_windows(test)
        torch.testing.assert_close(nodes.sum(1), windows)
        assert int(nodes[2].argmax()) == 0


def test_iforest_seed_drawn_and_saved(tmp_path):
    train = torch.randn(100, 2, 3, 1, generator=torch.Generator().manual_seed(3))
    det = IForestDetector(n_estimators=20).fit(train)  # random_state=None
    assert isinstance(det.seed_, int)
    det.save(tmp_path / "f.pt")
    loaded = IForestDetector.load(tmp_path / "f.pt")
    assert loaded.seed_ == det.seed_
    torch.testing.assert_close(loaded.score_windows(train), det.score_windows(train))


def test_scaler_stats_choices():
    x = torch.tensor([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]]).view(3, 2, 1, 1)
    low, span = scaler_stats(x, "minmax")
    assert low.view(-1).tolist() == [1.0, 5.0] and span.view(-1).tolist() == [4.0, 1.0]
    zero, one = scaler_stats(x, "none")
    assert zero.abs().sum() == 0 and one.view(-1).tolist() == [1.0, 1.0]
    torch.testing.assert_close(scaler_stats(x, "robust")[0], channel_stats(x, robust=True)[0])
    with pytest.raises(GraphadInputError, match="Could not resolve 'zscore'"):
        scaler_stats(x, "zscore")
    with pytest.raises(GraphadInputError, match="Could not resolve 'zscore'"):
        KNNDetector(scaler="zscore").fit(x)


def test_knn_minmax_scaler_exact():
    train = torch.tensor([0.0, 2.0, 4.0, 6.0, 8.0]).view(5, 1, 1, 1)
    det = KNNDetector(n_neighbors=1, scaler="minmax").fit(train)
    # range 8: a test value 9 is 1/8 from the nearest training value 8
    assert det.score_windows(torch.tensor([9.0]).view(1, 1, 1, 1)).item() == pytest.approx(0.125)
