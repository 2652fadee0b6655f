"""Point-wise detection metrics: threshold-free scores, F1 at a threshold, event rates.

All functions take ``labels`` (``[T]`` 0/1 ground truth, 1 = anomalous) and either
``scores`` (``[T]`` real, higher = more anomalous) or ``predictions`` (``[T]`` 0/1
alarms). scikit-learn computes what it already computes (ROC AUC, average precision, the
precision-recall curve, the confusion matrix); the rest is vectorised NumPy.

Point-adjusted F1 lives in :func:`point_adjusted_f1` only, and
:func:`point_adjusted_f1_with_baseline` always reports it together with the
point-adjusted F1 of random scores, because point adjustment rewards any detector that
raises one alarm per long anomaly segment (random scores reach high values).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sklearn import metrics as skm

from graphad.exceptions import GraphadInputError

__all__ = [
    "F1Result",
    "Rates",
    "PointAdjustedReport",
    "anomaly_segments",
    "auc_roc",
    "auc_pr",
    "best_f1",
    "f1_at_threshold",
    "tpr_fpr",
    "event_detection_rate",
    "point_adjusted_f1",
    "point_adjusted_f1_with_baseline",
]


class F1Result(NamedTuple):
    """F1 with the precision, recall and threshold it was reached at.

    ``threshold`` is the decision threshold used: for :func:`best_f1` an alarm is raised
    where ``score >= threshold``; for :func:`f1_at_threshold` where ``score > threshold``
    (the :meth:`~graphad.detectors.BaseDetector.predict` rule).
    """

    f1: float
    precision: float
    recall: float
    threshold: float


class Rates(NamedTuple):
    """True-positive rate, false-positive rate and accuracy of 0/1 predictions."""

    tpr: float
    fpr: float
    accuracy: float


class PointAdjustedReport(NamedTuple):
    """Point-adjusted F1 of a detector beside that of seeded random scores."""

    f1: float
    random_f1: float
    threshold: float


# -- validation ------------------------------------------------------------------------
def _as_labels(labels: object, name: str = "labels") -> np.ndarray:
    array = np.asarray(labels)
    if array.ndim != 1:
        raise GraphadInputError(
            f"{name} must be one-dimensional",
            field=name,
            expected="shape [T]",
            found=f"shape {array.shape}",
        )
    if array.size == 0:
        raise GraphadInputError(
            f"{name} are empty", field=name, expected="at least one step", found=0
        )
    if array.dtype == bool:
        return array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.number):
        raise GraphadInputError(
            f"{name} must be 0/1", field=name, expected="0/1 values", found=f"dtype {array.dtype}"
        )
    bad = ~np.isin(array, (0, 1))
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise GraphadInputError(
            f"{name} must be 0/1", record=index, field=name, expected="0 or 1", found=array[index]
        )
    return array.astype(np.int64)


def _as_scores(scores: object, length: int, name: str = "scores") -> np.ndarray:
    if hasattr(scores, "detach"):
        scores = scores.detach().cpu().numpy()
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim != 1:
        raise GraphadInputError(
            f"{name} must be one-dimensional",
            field=name,
            expected="shape [T]",
            found=f"shape {array.shape}",
        )
    if array.shape[0] != length:
        raise GraphadInputError(
            f"{name} and labels differ in length",
            field=name,
            expected=f"{length} values",
            found=array.shape[0],
        )
    bad = ~np.isfinite(array)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise GraphadInputError(
            f"non-finite {name[:-1]}",
            record=index,
            field=name,
            expected="finite values",
            found=array[index],
        )
    return array


def _check_inputs(
    labels: object, scores: object, *, need_negative: bool = False, name: str = "scores"
) -> tuple[np.ndarray, np.ndarray]:
    y = _as_labels(labels)
    s = _as_scores(scores, y.shape[0], name)
    if not y.any():
        raise GraphadInputError(
            "no anomalous step in labels", field="labels", expected="at least one 1", found="only 0"
        )
    if need_negative and y.all():
        raise GraphadInputError(
            "no normal step in labels", field="labels", expected="at least one 0", found="only 1"
        )
    return y, s


def _check_predictions(labels: object, predictions: object) -> tuple[np.ndarray, np.ndarray]:
    y = _as_labels(labels)
    p = _as_labels(
        np.asarray(
            predictions.detach().cpu().numpy() if hasattr(predictions, "detach") else predictions
        ),
        "predictions",
    )
    if p.shape != y.shape:
        raise GraphadInputError(
            "predictions and labels differ in length",
            field="predictions",
            expected=f"{y.shape[0]} values",
            found=p.shape[0],
        )
    return y, p


def anomaly_segments(labels: object) -> np.ndarray:
    """Maximal runs of 1 in ``labels`` as ``[start, end]`` rows, both ends inclusive.

    Args:
        labels: ``[T]`` 0/1 labels.

    Returns:
        ``[S, 2]`` int64 array of segment starts and ends, in time order.

    Example:
        >>> anomaly_segments([1, 1, 0, 0, 1, 0, 1]).tolist()
        [[0, 1], [4, 4], [6, 6]]
    """
    y = _as_labels(labels)
    padded = np.concatenate(([0], y, [0]))
    change = np.diff(padded)
    starts = np.flatnonzero(change == 1)
    ends = np.flatnonzero(change == -1) - 1
    return np.stack([starts, ends], axis=1).astype(np.int64)


# -- threshold-free ----------------------------------------------------------------------
def auc_roc(labels: object, scores: object) -> float:
    """Area under the ROC curve (``sklearn.metrics.roc_auc_score``).

    Args:
        labels: ``[T]`` 0/1 ground truth.
        scores: ``[T]`` anomaly scores, higher = more anomalous.

    Returns:
        AUC-ROC in ``[0, 1]``; 0.5 for uninformative scores.

    Example:
        >>> auc_roc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        0.75
    """
    y, s = _check_inputs(labels, scores, need_negative=True)
    return float(skm.roc_auc_score(y, s))


def auc_pr(labels: object, scores: object) -> float:
    """Area under the precision-recall curve as average precision.

    ``AP = Σ_n (R_n - R_{n-1}) P_n`` over the distinct thresholds
    (``sklearn.metrics.average_precision_score``; no trapezoidal interpolation).

    Args:
        labels: ``[T]`` 0/1 ground truth.
        scores: ``[T]`` anomaly scores.

    Returns:
        AUC-PR in ``[0, 1]``; the share of anomalous steps for uninformative scores.

    Example:
        >>> round(auc_pr([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)   # (1 + 2/3) / 2
        0.8333
    """
    y, s = _check_inputs(labels, scores)
    return float(skm.average_precision_score(y, s))


# -- F1 ----------------------------------------------------------------------------------
def _f1(precision: np.ndarray, recall: np.ndarray) -> np.ndarray:
    denominator = precision + recall
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(denominator > 0, 2 * precision * recall / denominator, 0.0)
    return f1


def best_f1(labels: object, scores: object) -> F1Result:
    """The best F1 over all thresholds, without point adjustment (an oracle upper bound).

    The threshold is chosen with the test labels, so this is *not* an achievable
    operating point; report :func:`f1_at_threshold` with a threshold fitted on training
    data beside it.

    Args:
        labels: ``[T]`` 0/1 ground truth.
        scores: ``[T]`` anomaly scores.

    Returns:
        :class:`F1Result`; alarms are ``score >= threshold``.

    Example:
        >>> r = best_f1([0, 1, 1, 0, 1], [0.2, 0.9, 0.3, 0.4, 0.8])
        >>> round(r.f1, 4), r.precision, r.recall, r.threshold   # top 4: P = 3/4, R = 1
        (0.8571, 0.75, 1.0, 0.3)
    """
    y, s = _check_inputs(labels, scores)
    precision, recall, thresholds = skm.precision_recall_curve(y, s)
    # the last point (precision 1, recall 0) has no threshold
    f1 = _f1(precision[:-1], recall[:-1])
    best = int(np.argmax(f1))
    return F1Result(
        float(f1[best]), float(precision[best]), float(recall[best]), float(thresholds[best])
    )


def f1_at_threshold(labels: object, scores: object, threshold: float) -> F1Result:
    """F1, precision and recall of alarms ``score > threshold``.

    Use a threshold fitted on training scores only (e.g. a detector's ``threshold_``).

    Args:
        labels: ``[T]`` 0/1 ground truth.
        scores: ``[T]`` anomaly scores.
        threshold: Decision threshold; alarms where the score is strictly above it.

    Returns:
        :class:`F1Result` (precision is 0 when there is no alarm).

    Example:
        >>> f1_at_threshold([0, 1, 1, 0], [0.1, 0.9, 0.3, 0.5], 0.4)
        F1Result(f1=0.5, precision=0.5, recall=0.5, threshold=0.4)
    """
    y, s = _check_inputs(labels, scores)
    if not np.isfinite(float(threshold)):
        raise GraphadInputError(
            "threshold is not finite",
            field="threshold",
            expected="a finite number",
            found=threshold,
        )
    predictions = (s > threshold).astype(np.int64)
    precision, recall, f1, _ = skm.precision_recall_fscore_support(
        y, predictions, average="binary", zero_division=0
    )
    return F1Result(float(f1), float(precision), float(recall), float(threshold))


def tpr_fpr(labels: object, predictions: object) -> Rates:
    """True-positive rate (recall), false-positive rate and accuracy of 0/1 alarms.

    ``TPR = TP / (TP + FN)``, ``FPR = FP / (FP + TN)``, ``ACC = (TP + TN) / T``; a rate
    whose denominator is zero is reported as 0.

    Args:
        labels: ``[T]`` 0/1 ground truth.
        predictions: ``[T]`` 0/1 alarms.

    Returns:
        :class:`Rates`.

    Example:
        >>> tpr_fpr([1, 1, 0, 0, 0], [1, 0, 1, 0, 0])
        Rates(tpr=0.5, fpr=0.3333333333333333, accuracy=0.6)
    """
    y, p = _check_predictions(labels, predictions)
    tn, fp, fn, tp = skm.confusion_matrix(y, p, labels=[0, 1]).ravel()
    tpr = tp / (tp + fn) if tp + fn else 0.0
    fpr = fp / (fp + tn) if fp + tn else 0.0
    return Rates(float(tpr), float(fpr), float((tp + tn) / y.shape[0]))


def event_detection_rate(labels: object, predictions: object) -> float:
    """ADR: the share of anomaly segments with at least one alarm inside.

    Args:
        labels: ``[T]`` 0/1 ground truth; each maximal run of 1 is one segment.
        predictions: ``[T]`` 0/1 alarms.

    Returns:
        Detected segments / segments.

    Example:
        >>> event_detection_rate([1, 1, 0, 0, 1, 0, 1], [0, 1, 1, 0, 0, 0, 1])
        0.6666666666666666
    """
    y, p = _check_predictions(labels, predictions)
    segments = anomaly_segments(y)
    if len(segments) == 0:
        raise GraphadInputError(
            "no anomalous step in labels", field="labels", expected="at least one 1", found="only 0"
        )
    inside = np.cumsum(np.concatenate(([0], p)))
    hits = inside[segments[:, 1] + 1] - inside[segments[:, 0]]
    return float(np.mean(hits > 0))


# -- point adjustment (inflates results) -----------------------------------------------
def _segment_max(scores: np.ndarray, segments: np.ndarray) -> np.ndarray:
    return np.array([scores[s : e + 1].max() for s, e in segments], dtype=np.float64)


def _pa_counts(y: np.ndarray, s: np.ndarray, thresholds: np.ndarray):
    """TP, FP, FN of point-adjusted alarms ``score >= t`` for every ``t`` (vectorised)."""
    segments = anomaly_segments(y)
    seg_max = _segment_max(s, segments)
    seg_len = (segments[:, 1] - segments[:, 0] + 1).astype(np.float64)
    order = np.argsort(-seg_max, kind="stable")
    seg_max_desc, cum_len = seg_max[order], np.cumsum(seg_len[order])
    # number of segments with max >= t
    detected = np.searchsorted(-seg_max_desc, -thresholds, side="right")
    tp = np.where(detected > 0, cum_len[np.maximum(detected - 1, 0)], 0.0)
    normal = np.sort(s[y == 0])
    fp = normal.shape[0] - np.searchsorted(normal, thresholds, side="left")
    fn = y.sum() - tp
    return tp, fp.astype(np.float64), fn


def point_adjusted_f1(labels: object, scores: object, threshold: float | None = None) -> F1Result:
    """Point-adjusted F1. **Inflates results**: report it only beside honest metrics.

    Point adjustment (Xu et al., 2018) marks a whole anomaly segment as detected when a
    single step of it raises an alarm, so one lucky alarm in a long segment counts as
    many true positives. Random scores reach a high PA-F1 on data with long segments
    (see :func:`point_adjusted_f1_with_baseline`, which always reports that baseline).

    Args:
        labels: ``[T]`` 0/1 ground truth.
        scores: ``[T]`` anomaly scores.
        threshold: Alarms where ``score > threshold``. ``None``: the best F1 over all
            thresholds (alarms ``score >= t``), chosen with the test labels (an oracle).

    Returns:
        :class:`F1Result` after point adjustment.

    Example:
        >>> y = [0, 1, 1, 1, 1, 0, 0, 0]
        >>> s = [0.1, 0.2, 0.9, 0.1, 0.1, 0.3, 0.1, 0.1]
        >>> point_adjusted_f1(y, s, threshold=0.5).f1     # one alarm -> 4 true positives
        1.0
        >>> f1_at_threshold(y, s, 0.5).f1
        0.4
    """
    y, s = _check_inputs(labels, scores)
    if threshold is None:
        candidates = np.unique(s)
    else:
        candidates = np.array([np.nextafter(float(threshold), np.inf)])
    tp, fp, fn = _pa_counts(y, s, candidates)
    precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1e-300), 0.0)
    recall = tp / (tp + fn)
    f1 = _f1(precision, recall)
    best = int(np.argmax(f1))
    used = float(candidates[best]) if threshold is None else float(threshold)
    return F1Result(float(f1[best]), float(precision[best]), float(recall[best]), used)


def point_adjusted_f1_with_baseline(
    labels: object, scores: object, threshold: float | None = None, *, random_state: int = 0
) -> PointAdjustedReport:
    """Point-adjusted F1 together with the point-adjusted F1 of random scores.

    The random baseline draws i.i.d. uniform scores with ``random_state``. With
    ``threshold=None`` both are oracle-best over thresholds; with a threshold, the
    random scores raise the same number of alarms as ``scores > threshold`` does.
    A PA-F1 not clearly above ``random_f1`` says nothing about the detector.

    Args:
        labels: ``[T]`` 0/1 ground truth.
        scores: ``[T]`` anomaly scores.
        threshold: See :func:`point_adjusted_f1`.
        random_state: Seed of the random scores.

    Returns:
        :class:`PointAdjustedReport` ``(f1, random_f1, threshold)``.

    Example:
        >>> y = np.r_[np.zeros(80), np.ones(20)]
        >>> r = point_adjusted_f1_with_baseline(y, np.r_[np.zeros(80), np.ones(20)])
        >>> r.f1, r.random_f1 > 0.4     # random scores already look good
        (1.0, True)
    """
    y, s = _check_inputs(labels, scores)
    result = point_adjusted_f1(y, s, threshold)
    noise = np.random.default_rng(random_state).random(y.shape[0])
    if threshold is None:
        random_result = point_adjusted_f1(y, noise)
    else:
        alarms = int((s > threshold).sum())
        cut = np.sort(noise)[::-1][alarms] if alarms < y.shape[0] else -np.inf
        random_result = point_adjusted_f1(y, noise, float(cut))
    return PointAdjustedReport(result.f1, random_result.f1, result.threshold)
