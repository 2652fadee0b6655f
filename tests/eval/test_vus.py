import math

import numpy as np
import pytest

from graphad.eval import auc_pr, auc_roc, range_auc, vus, vus_pr, vus_roc
from graphad.exceptions import GraphadInputError

R = math.sqrt(0.5)  # soft label one step outside a segment for buffer length 2


def test_range_auc_without_buffer_is_point_auc():
    y = [0, 1, 0, 0]
    s = [0.9, 0.5, 0.1, 0.0]
    result = range_auc(y, s, buffer=0, num_thresholds=None)
    assert result.roc == pytest.approx(auc_roc(y, s)) == pytest.approx(2 / 3)
    assert result.pr == pytest.approx(auc_pr(y, s)) == pytest.approx(0.5)


def test_range_auc_buffer_two_hand_example():
    # soft labels [R, 1, R, 0]; alarms in score order: step 0, 1, 2, 3
    y, s = [0, 1, 0, 0], [0.9, 0.5, 0.1, 0.0]
    p1 = 1 + R / 2  # P' after the buffer hit at step 0
    tpr1 = R / p1  # recall at the first threshold, existence 1
    fpr1 = (1 - R) / (4 - p1)
    roc = fpr1 * tpr1 / 2 + (1 - fpr1)  # (0,0)->(fpr1,tpr1)->(fpr1,1)->...->(1,1)
    pr = tpr1 * R + (1 - tpr1) * (1 + R) / 2
    result = range_auc(y, s, buffer=2, num_thresholds=None)
    assert result.roc == pytest.approx(roc)
    assert result.pr == pytest.approx(pr)
    # buffer 1 has no soft step (1 // 2 = 0): VUS with L = 2 averages 3 areas
    volume = vus(y, s, max_buffer=2, num_thresholds=None)
    assert volume.roc == pytest.approx((2 / 3 + 2 / 3 + roc) / 3)
    assert volume.pr == pytest.approx((0.5 + 0.5 + pr) / 3)
    assert vus_roc(y, s, 2, None) == volume.roc
    assert vus_pr(y, s, 2, None) == volume.pr


def _naive_range_auc(y, s, buffer, num_thresholds):
    """Loop-by-loop transcription of the definition (independent of the vectorised code)."""
    n = len(y)
    half = buffer // 2
    soft = y.astype(float).copy()
    segments = []
    t = 0
    while t < n:
        if y[t]:
            start = t
            while t + 1 < n and y[t + 1]:
                t += 1
            segments.append((start, t))
        t += 1
    for start, end in segments:
        for d in range(1, half + 1):
            if end + d < n:
                soft[end + d] += math.sqrt(1 - d / buffer)
            if start - d >= 0:
                soft[start - d] += math.sqrt(1 - d / buffer)
    soft = np.minimum(soft, 1.0)
    widened = []
    for start, end in segments:
        lo, hi = max(start - half, 0), min(end + half, n - 1)
        if widened and start - half <= widened[-1][1]:
            widened[-1] = (widened[-1][0], hi)
        else:
            widened.append((lo, hi))
    ordered = sorted(s, reverse=True)
    tprs, fprs, precs = [0.0], [0.0], [1.0]
    for rank in np.linspace(0, n - 1, num_thresholds).astype(int):
        pred = s >= ordered[rank]
        tp = sum(soft[i] for i in range(n) if pred[i])
        buffer_tp = sum(soft[i] for i in range(n) if pred[i] and not y[i])
        positives = y.sum() + buffer_tp / 2
        existence = sum(pred[a : b + 1].any() for a, b in widened) / len(widened)
        tprs.append(min(tp / positives, 1) * existence)
        fprs.append((pred.sum() - tp) / (n - positives))
        precs.append(tp / pred.sum())
    tprs.append(1.0)
    fprs.append(1.0)
    roc = sum((fprs[i + 1] - fprs[i]) * (tprs[i + 1] + tprs[i]) / 2 for i in range(len(fprs) - 1))
    pr = sum((tprs[i] - tprs[i - 1]) * precs[i] for i in range(1, len(precs)))
    return roc, pr


def _random_case(rng):
    n = int(rng.integers(40, 200))
    y = np.zeros(n, dtype=int)
    for _ in range(int(rng.integers(1, 5))):
        start = int(rng.integers(0, n))
        y[start : start + int(rng.integers(1, 15))] = 1
    y[-1] = 0
    s = np.round(rng.random(n) + 0.5 * y * rng.random(), 2)  # ties included
    return y, s


def test_vus_matches_naive_definition_on_random_inputs():
    rng = np.random.default_rng(7)
    for _ in range(12):
        y, s = _random_case(rng)
        buffer_max = int(rng.integers(0, 12))
        expected = np.mean([_naive_range_auc(y, s, b, 50) for b in range(buffer_max + 1)], axis=0)
        result = vus(y, s, buffer_max, 50)
        assert result.roc == pytest.approx(expected[0], abs=1e-12)
        assert result.pr == pytest.approx(expected[1], abs=1e-12)


@pytest.mark.parametrize(
    "module, grader",
    [("TSB_AD.evaluation.basic_metrics", "basic_metricor"), ("vus.utils.metrics", "metricor")],
)
def test_vus_matches_authors_reference(module, grader):
    """Cross-check with the authors' implementations (TSB-AD, vus), when installed."""
    metrics = pytest.importorskip(module)
    rng = np.random.default_rng(11)
    for _ in range(10):
        y, s = _random_case(rng)
        buffer_max = int(rng.integers(0, 30))
        reference = getattr(metrics, grader)().RangeAUC_volume_opt(y, s, buffer_max, thre=250)
        result = vus(y, s, buffer_max, 250)
        assert result.roc == pytest.approx(reference[4], abs=1e-10)
        assert result.pr == pytest.approx(reference[5], abs=1e-10)


def test_vus_rewards_alarms_near_a_segment():
    y = np.zeros(300, dtype=int)
    y[100:110] = 1
    early = np.zeros(300)
    early[95:100] = 1.0  # alarms just before the segment
    far = np.zeros(300)
    far[200:205] = 1.0  # the same alarms far away
    assert auc_pr(y, early) == pytest.approx(auc_pr(y, far))
    assert vus_pr(y, early, 20) > vus_pr(y, far, 20)


def test_vus_random_scores_are_low_perfect_scores_high():
    rng = np.random.default_rng(0)
    y = np.zeros(2000, dtype=int)
    for start in range(100, 2000, 400):
        y[start : start + 20] = 1
    assert vus_pr(y, rng.random(2000), 50) < 0.2
    assert vus_roc(y, y + 0.01 * rng.random(2000), 50) > 0.95


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_buffer": -1}, "max_buffer must be >= 0"),
        ({"num_thresholds": 0}, "num_thresholds must be positive"),
    ],
)
def test_vus_bad_arguments(kwargs, match):
    with pytest.raises(GraphadInputError, match=match):
        vus([0, 1, 0], [0.1, 0.2, 0.3], **kwargs)


def test_vus_bad_labels():
    with pytest.raises(GraphadInputError, match="no normal step"):
        vus([1, 1], [0.1, 0.2])
    with pytest.raises(GraphadInputError, match="buffer must be >= 0"):
        range_auc([0, 1], [0.1, 0.2], buffer=-2)
