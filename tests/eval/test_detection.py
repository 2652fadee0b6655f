import numpy as np
import pytest
import torch

from graphad.eval import (
    anomaly_segments,
    auc_pr,
    auc_roc,
    best_f1,
    event_detection_rate,
    f1_at_threshold,
    point_adjusted_f1,
    point_adjusted_f1_with_baseline,
    tpr_fpr,
)
from graphad.exceptions import GraphadInputError

Y = np.array([0, 1, 1, 0, 0, 1, 0, 0])
S = np.array([0.1, 0.7, 0.2, 0.6, 0.0, 0.9, 0.3, 0.4])


def test_auc_roc_hand_example():
    # positives 0.7, 0.2, 0.9; negatives 0.1, 0.6, 0.0, 0.3, 0.4
    # pairs won: 0.7 -> 5, 0.2 -> 2 (0.1, 0.0), 0.9 -> 5 = 12 of 15
    assert auc_roc(Y, S) == pytest.approx(12 / 15)


def test_auc_pr_hand_example():
    # ranking: .9(+) .7(+) .6 .4 .3 .2(+) ...; AP = (1 + 1 + 3/6) / 3
    assert auc_pr(Y, S) == pytest.approx((1 + 1 + 0.5) / 3)


def test_auc_accepts_tensors_and_bool_labels():
    assert auc_roc(torch.tensor(Y.astype(bool)), torch.tensor(S)) == pytest.approx(0.8)


def test_best_f1_hand_example_and_brute_force():
    result = best_f1(Y, S)
    # top 2 (.9, .7): P = 1, R = 2/3, F1 = .8 ; top 6: P = 3/6, R = 1, F1 = 2/3
    assert result.f1 == pytest.approx(0.8)
    assert (result.precision, result.threshold) == (1.0, 0.7)
    rng = np.random.default_rng(0)
    for _ in range(20):
        y = (rng.random(60) < 0.2).astype(int)
        y[0] = 1
        s = np.round(rng.random(60), 1)
        brute = max(f1_at_threshold(y, s, np.nextafter(t, -np.inf)).f1 for t in np.unique(s))
        assert best_f1(y, s).f1 == pytest.approx(brute)


def test_f1_at_threshold_uses_strictly_above():
    result = f1_at_threshold(Y, S, 0.6)  # alarms .7, .9 -> both true
    assert result == (pytest.approx(0.8), 1.0, pytest.approx(2 / 3), 0.6)
    assert f1_at_threshold(Y, S, 1.0).f1 == 0.0  # no alarm: precision 0, no warning


def test_tpr_fpr_accuracy():
    predictions = (S > 0.35).astype(int)  # alarms at .7, .6, .9, .4
    rates = tpr_fpr(Y, predictions)
    assert rates.tpr == pytest.approx(2 / 3)
    assert rates.fpr == pytest.approx(2 / 5)
    assert rates.accuracy == pytest.approx(5 / 8)


def test_segments_and_event_detection_rate():
    y = np.array([1, 1, 0, 0, 1, 1, 1, 0, 1])
    assert anomaly_segments(y).tolist() == [[0, 1], [4, 6], [8, 8]]
    assert event_detection_rate(y, [0, 0, 1, 0, 0, 0, 1, 1, 0]) == pytest.approx(1 / 3)
    assert event_detection_rate(y, [0, 1, 0, 0, 1, 0, 0, 0, 1]) == 1.0
    assert anomaly_segments([0, 0]).shape == (0, 2)


def _pa_brute(y, s, t):
    pred = (s >= t).astype(int)
    for start, end in anomaly_segments(y):
        if pred[start : end + 1].any():
            pred[start : end + 1] = 1
    tp = int((pred & y).sum())
    fp = int((pred & (1 - y)).sum())
    fn = int(((1 - pred) & y).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn)
    return 2 * p * r / (p + r) if p + r else 0.0


def test_point_adjusted_f1_hand_example():
    y = np.array([0, 1, 1, 1, 1, 0, 0, 0, 1, 1])
    s = np.array([0.5, 0.1, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.1])
    # threshold .3: alarms at 0 (FP) and 2 -> segment [1,4] detected: TP 4, FP 1, FN 2
    result = point_adjusted_f1(y, s, threshold=0.3)
    assert result.precision == pytest.approx(4 / 5)
    assert result.recall == pytest.approx(4 / 6)
    # without adjustment the same alarms give F1 = 2 * .5 * (1/6) / (.5 + 1/6)
    assert f1_at_threshold(y, s, 0.3).f1 == pytest.approx(0.25)


def test_point_adjusted_f1_matches_brute_force():
    rng = np.random.default_rng(1)
    for _ in range(20):
        y = np.zeros(80, dtype=int)
        for start in rng.integers(0, 75, 3):
            y[start : start + rng.integers(1, 8)] = 1
        s = np.round(rng.random(80), 2)
        brute = max(_pa_brute(y, s, t) for t in np.unique(s))
        assert point_adjusted_f1(y, s).f1 == pytest.approx(brute)


def test_point_adjusted_baseline_shows_inflation():
    y = np.zeros(1000, dtype=int)
    for start in range(50, 1000, 200):
        y[start : start + 60] = 1
    report = point_adjusted_f1_with_baseline(y, np.zeros(1000) + 0.5 * y, random_state=3)
    assert report.f1 == 1.0
    assert report.random_f1 > 0.5  # random scores look good after adjustment
    assert best_f1(y, np.random.default_rng(3).random(1000)).f1 < 0.5
    again = point_adjusted_f1_with_baseline(y, np.zeros(1000) + 0.5 * y, random_state=3)
    assert again == report


def test_point_adjusted_baseline_at_threshold_same_alarm_count():
    y = np.zeros(200, dtype=int)
    y[50:90] = 1
    s = np.linspace(0, 1, 200)
    report = point_adjusted_f1_with_baseline(y, s, threshold=0.9, random_state=0)
    assert report.threshold == 0.9
    assert report.f1 == point_adjusted_f1(y, s, 0.9).f1
    assert 0.0 <= report.random_f1 <= 1.0


@pytest.mark.parametrize(
    "labels, scores, match",
    [
        ([0, 1, 2], [0.1, 0.2, 0.3], "labels must be 0/1"),
        ([0, 1], [0.1, 0.2, 0.3], "differ in length"),
        ([0, 1, 0], [0.1, float("nan"), 0.3], "non-finite score"),
        ([0, 0, 0], [0.1, 0.2, 0.3], "no anomalous step"),
        ([[0, 1]], [[0.1, 0.2]], "one-dimensional"),
        ([], [], "empty"),
        (["a", "b"], [0.1, 0.2], "0/1"),
    ],
)
def test_bad_inputs(labels, scores, match):
    with pytest.raises(GraphadInputError, match=match):
        best_f1(labels, scores)


def test_auc_roc_needs_both_classes():
    with pytest.raises(GraphadInputError, match="no normal step"):
        auc_roc([1, 1], [0.1, 0.2])


def test_bad_predictions_and_threshold():
    with pytest.raises(GraphadInputError, match="predictions must be 0/1"):
        tpr_fpr([0, 1], [0.5, 1])
    with pytest.raises(GraphadInputError, match="differ in length"):
        event_detection_rate([0, 1], [0, 1, 1])
    with pytest.raises(GraphadInputError, match="no anomalous step"):
        event_detection_rate([0, 0], [0, 1])
    with pytest.raises(GraphadInputError, match="threshold is not finite"):
        f1_at_threshold([0, 1], [0.1, 0.2], float("nan"))
