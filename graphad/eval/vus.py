r"""Volume under the surface (VUS-ROC, VUS-PR) of Paparrizos et al. (VLDB 2022).

Range-aware, threshold-free accuracy for time-series anomaly detection. For a buffer
length :math:`\ell`, every anomaly segment :math:`[s, e]` is widened by
:math:`h = \lfloor \ell / 2 \rfloor` steps on each side with soft labels that decay from
the boundary,

.. math::
    \tilde y_t = \sqrt{1 - d_t / \ell},\qquad d_t = s - t\ (t < s)\ \text{or}\ t - e\ (t > e),
    \ 1 \le d_t \le h,

(summed where buffers meet, capped at 1; original anomalies keep 1). At a threshold
:math:`\theta` with alarms :math:`\hat y_t = [x_t \ge \theta]`:

* :math:`TP = \sum_t \tilde y_t \hat y_t`, :math:`P' = P + \tfrac12 \sum_{t \notin A}
  \tilde y_t \hat y_t` (``P`` original anomalous steps, ``A`` their set: buffer hits
  only count half towards the positives);
* :math:`TPR = \min(TP / P', 1) \cdot \text{Existence}`, where Existence is the share
  of widened segments (overlapping ones merged) with at least one alarm;
* :math:`FPR = (\sum_t \hat y_t - TP) / (T - P')`, :math:`Precision = TP / \sum_t \hat y_t`.

The range-AUC-ROC is the trapezoidal area under (FPR, TPR) from (0, 0) to (1, 1); the
range-AUC-PR is :math:`\sum_j (TPR_j - TPR_{j-1}) Precision_j` from recall 0. VUS is the
mean of the range-AUC over :math:`\ell = 0, 1, \dots, L`. Thresholds are the scores at
``num_thresholds`` evenly spaced ranks, as in the authors' reference evaluation (TSB-AD),
so the numbers are comparable with published VUS values. Everything is vectorised over
thresholds: one sort of the scores, prefix sums, and a search per widened segment.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from graphad.eval.detection import _check_inputs, anomaly_segments
from graphad.exceptions import GraphadInputError

__all__ = ["VUSResult", "range_auc", "vus", "vus_roc", "vus_pr"]


class VUSResult(NamedTuple):
    """Volume under the ROC and PR surfaces."""

    roc: float
    pr: float


def _soft_labels(y: np.ndarray, segments: np.ndarray, buffer: int) -> np.ndarray:
    """Labels widened by ``buffer // 2`` steps of ``sqrt(1 - d / buffer)`` per side."""
    label = y.astype(np.float64)
    half = buffer // 2
    if half == 0 or len(segments) == 0:
        return label
    distance = np.arange(1, half + 1)
    weight = np.sqrt(1.0 - distance / buffer)
    after = segments[:, 1:2] + distance[None, :]
    before = segments[:, 0:1] - distance[None, :]
    for index in (after, before):
        inside = (index >= 0) & (index < y.shape[0])
        np.add.at(label, index[inside], np.broadcast_to(weight, index.shape)[inside])
    return np.minimum(label, 1.0)


def _widened_segments(segments: np.ndarray, buffer: int, length: int) -> np.ndarray:
    """Segments widened by ``buffer // 2`` on each side; overlapping ones merged."""
    half = buffer // 2
    starts, ends = segments[:, 0] - half, segments[:, 1] + half
    new_group = np.r_[True, starts[1:] > ends[:-1]]
    merged_starts = np.maximum(starts[new_group], 0)
    merged_ends = np.minimum(np.maximum.reduceat(ends, np.flatnonzero(new_group)), length - 1)
    return np.stack([merged_starts, merged_ends], axis=1)


def _segment_max(scores: np.ndarray, segments: np.ndarray) -> np.ndarray:
    padded = np.r_[scores, -np.inf]
    bounds = np.stack([segments[:, 0], segments[:, 1] + 1], axis=1).ravel()
    return np.maximum.reduceat(padded, bounds)[::2]


def _curve(y, s, segments, buffer, order, counts, thresholds):
    """(TPR, FPR, precision) at every threshold for one buffer length."""
    length = y.shape[0]
    soft = _soft_labels(y, segments, buffer)
    tp = np.r_[0.0, np.cumsum(soft[order])][counts]
    tp_original = np.r_[0.0, np.cumsum(y[order])][counts]
    positives = y.sum() + 0.5 * (tp - tp_original)
    recall = np.minimum(tp / positives, 1.0)
    widened = _widened_segments(segments, buffer, length)
    seg_max = np.sort(_segment_max(s, widened))
    detected = widened.shape[0] - np.searchsorted(seg_max, thresholds, side="left")
    tpr = recall * detected / widened.shape[0]
    fpr = (counts - tp) / (length - positives)
    precision = tp / counts
    return tpr, fpr, precision


def _areas(tpr: np.ndarray, fpr: np.ndarray, precision: np.ndarray) -> tuple[float, float]:
    tpr = np.r_[0.0, tpr, 1.0]
    fpr = np.r_[0.0, fpr, 1.0]
    roc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))
    pr = float(np.sum((tpr[1:-1] - tpr[:-2]) * precision))
    return roc, pr


def _prepare(labels, scores, num_thresholds):
    y, s = _check_inputs(labels, scores, need_negative=True)
    if num_thresholds is not None and int(num_thresholds) < 1:
        raise GraphadInputError(
            "num_thresholds must be positive",
            field="num_thresholds",
            expected="an integer >= 1 or None",
            found=num_thresholds,
        )
    descending = np.sort(s)[::-1]
    if num_thresholds is None:
        ranks = np.arange(s.shape[0])
    else:
        ranks = np.linspace(0, s.shape[0] - 1, int(num_thresholds)).astype(int)
    thresholds = descending[ranks]
    counts = s.shape[0] - np.searchsorted(descending[::-1], thresholds, side="left")
    order = np.argsort(-s, kind="stable")
    return y, s, anomaly_segments(y), order, counts, thresholds


def range_auc(
    labels: object, scores: object, buffer: int = 0, num_thresholds: int | None = 250
) -> VUSResult:
    """Range-AUC-ROC and range-AUC-PR for one buffer length ``buffer``.

    Args:
        labels: ``[T]`` 0/1 ground truth (at least one 0 and one 1).
        scores: ``[T]`` anomaly scores, higher = more anomalous.
        buffer: Buffer length (``buffer // 2`` soft steps on each side).
        num_thresholds: Thresholds at evenly spaced ranks of the sorted scores;
            ``None`` uses every step's score.

    Returns:
        :class:`VUSResult` for this single buffer.

    Example:
        >>> range_auc([0, 0, 1, 1, 0, 0], [0.1, 0.2, 0.9, 0.8, 0.3, 0.0], 0, None)
        VUSResult(roc=1.0, pr=1.0)
    """
    if int(buffer) < 0:
        raise GraphadInputError(
            "buffer must be >= 0", field="buffer", expected="a non-negative integer", found=buffer
        )
    y, s, segments, order, counts, thresholds = _prepare(labels, scores, num_thresholds)
    return VUSResult(*_areas(*_curve(y, s, segments, int(buffer), order, counts, thresholds)))


def vus(
    labels: object, scores: object, max_buffer: int = 100, num_thresholds: int | None = 250
) -> VUSResult:
    """VUS-ROC and VUS-PR: range-AUCs averaged over buffer lengths ``0 .. max_buffer``.

    Args:
        labels: ``[T]`` 0/1 ground truth (at least one 0 and one 1).
        scores: ``[T]`` anomaly scores, higher = more anomalous.
        max_buffer: Largest buffer length ``L`` (TSB-AD's default sliding window is 100).
        num_thresholds: Thresholds at evenly spaced ranks of the sorted scores (250 as in
            the reference evaluation); ``None`` uses every step's score.

    Returns:
        :class:`VUSResult` ``(roc, pr)``.

    Example:
        >>> y = [0, 0, 0, 1, 1, 0, 0, 0]
        >>> s = [0.0, 0.1, 0.2, 0.9, 0.8, 0.3, 0.1, 0.0]
        >>> r = vus(y, s, max_buffer=2, num_thresholds=None)
        >>> round(r.roc, 4), round(r.pr, 4)
        (1.0, 1.0)
    """
    if int(max_buffer) < 0:
        raise GraphadInputError(
            "max_buffer must be >= 0",
            field="max_buffer",
            expected="a non-negative integer",
            found=max_buffer,
        )
    y, s, segments, order, counts, thresholds = _prepare(labels, scores, num_thresholds)
    areas = np.array(
        [
            _areas(*_curve(y, s, segments, buffer, order, counts, thresholds))
            for buffer in range(int(max_buffer) + 1)
        ]
    )
    return VUSResult(float(areas[:, 0].mean()), float(areas[:, 1].mean()))


def vus_roc(
    labels: object, scores: object, max_buffer: int = 100, num_thresholds: int | None = 250
) -> float:
    """VUS-ROC; see :func:`vus`.

    Example:
        >>> vus_roc([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.2], max_buffer=0, num_thresholds=None)
        1.0
    """
    return vus(labels, scores, max_buffer, num_thresholds).roc


def vus_pr(
    labels: object, scores: object, max_buffer: int = 100, num_thresholds: int | None = 250
) -> float:
    """VUS-PR; see :func:`vus`.

    Example:
        >>> vus_pr([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.2], max_buffer=0, num_thresholds=None)
        1.0
    """
    return vus(labels, scores, max_buffer, num_thresholds).pr
