"""Estimating when a fault began: change points on anomaly-score series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from graphad.exceptions import GraphadInputError
from graphad.graph.rules import NodeRule
from graphad.ingest.telemetry import Telemetry

__all__ = [
    "mean_shift_point",
    "estimate_onset",
    "estimate_frames_onset",
    "case_score_series",
    "span_latency_series",
]


def mean_shift_point(values: np.ndarray | torch.Tensor | list[float], min_size: int = 1) -> int:
    r"""Maximum-likelihood single mean-shift change point of a series.

    Chooses the split :math:`k` maximising the between-segment sum of squares
    :math:`\frac{k (n-k)}{n} (\bar x_{k:} - \bar x_{:k})^2` among upward shifts (a fault
    raises anomaly scores), i.e. the Gaussian likelihood ratio of one mean shift.

    Args:
        values: ``[T]`` scores.
        min_size: Smallest segment on each side.

    Returns:
        ``k``: the index of the first value of the shifted segment (``1 <= k < T``).

    Example:
        >>> mean_shift_point([0.1, 0.0, 0.2, 0.1, 3.0, 3.2, 2.9])
        4
    """
    x = np.asarray(values.detach().cpu() if torch.is_tensor(values) else values, dtype=float)
    x = np.nan_to_num(x.reshape(-1))
    n = len(x)
    if n < 2 * min_size or n < 2:
        raise GraphadInputError(
            "too few values to find a change point",
            field="values",
            expected=f">= {max(2, 2 * min_size)} values",
            found=n,
        )
    prefix = np.concatenate([[0.0], np.cumsum(x)])
    k = np.arange(min_size, n - min_size + 1)
    left = prefix[k] / k
    right = (prefix[n] - prefix[k]) / (n - k)
    gain = k * (n - k) / n * (right - left) ** 2
    gain = np.where(right >= left, gain, -np.inf)
    if not np.isfinite(gain).any():
        return int(k[np.argmax(k * (n - k) / n * (right - left) ** 2)])
    return int(k[np.argmax(gain)])


def _threshold_point(x: np.ndarray, reference: float, k: float) -> int:
    n_ref = max(1, int(round(len(x) * reference)))
    ref = x[:n_ref]
    median = float(np.median(ref))
    spread = 1.4826 * float(np.median(np.abs(ref - median)))
    level = median + k * spread + 1e-12
    over = np.flatnonzero(x[n_ref:] > level)
    return int(n_ref + over[0]) if len(over) else mean_shift_point(x)


def estimate_onset(
    scores: Telemetry | np.ndarray | torch.Tensor | pd.Series | list[float],
    times: np.ndarray | torch.Tensor | list[int] | None = None,
    *,
    method: str = "auto",
    reference: float = 0.3,
    k: float = 5.0,
) -> int:
    """Estimate a fault onset from anomaly scores, or from a whole fault case.

    Args:
        scores: ``[T]`` scores (higher = more anomalous), ``[T, N]`` node scores
            (reduced by the maximum over nodes), a ``pd.Series`` indexed by time, or a
            :class:`~graphad.ingest.telemetry.Telemetry` (an ``Incident`` / ``FaultCase``
            too; its ``onset_ns`` is not read), estimated by :func:`estimate_frames_onset`
            from its spans and metrics.
        times: ``[T]`` int ns time of each score (default: the series index, else the
            position); the onset is returned in the same unit.
        method: ``"auto"`` (``"mean_shift"``, except for a case scored from its metrics
            only: ``"threshold"`` with ``reference=0.5``, which copes better with an
            earlier incident inside the window), ``"mean_shift"`` (maximum-likelihood mean
            shift, :func:`mean_shift_point`)
            or ``"threshold"`` (first value over ``median + k * 1.4826 * MAD`` of the
            first ``reference`` fraction, fitted on that early part only; falls back to
            the mean shift when nothing exceeds it).
        reference: Fraction of the series used as reference by ``"threshold"``.
        k: Robust standard deviations above the reference median.

    Returns:
        The estimated onset: ``times[k]`` for the first anomalous position ``k``.

    Example:
        >>> estimate_onset([0.0, 0.1, 0.0, 0.1, 2.0, 2.1], times=[0, 10, 20, 30, 40, 50])
        40
        >>> estimate_onset([0.0, 0.1, 0.0, 0.1, 2.0, 2.1], method="threshold")
        4
    """
    if isinstance(scores, Telemetry):
        return estimate_frames_onset(
            scores.spans, scores.metrics, method=method, reference=reference, k=k
        )
    if isinstance(scores, pd.Series):
        times = scores.index.to_numpy() if times is None else times
        scores = scores.to_numpy()
    x = np.asarray(scores.detach().cpu() if torch.is_tensor(scores) else scores, dtype=float)
    if x.ndim == 2:
        x = np.nanmax(x, axis=1)
    if x.ndim != 1:
        raise GraphadInputError(
            "scores must be [T] or [T, N]",
            field="scores",
            expected="1 or 2 dimensions",
            found=x.ndim,
        )
    x = np.nan_to_num(x)
    if method in ("mean_shift", "auto"):
        k = mean_shift_point(x)
    elif method == "threshold":
        k = _threshold_point(x, reference, k)
    else:
        raise GraphadInputError(
            f"Could not resolve '{method}' among choices ['mean_shift', 'threshold']",
            field="method",
        )
    if times is None:
        return int(k)
    t = np.asarray(times.detach().cpu() if torch.is_tensor(times) else times)
    if len(t) != len(x):
        raise GraphadInputError(
            "one time per score is needed", field="times", expected=f"{len(x)} times", found=len(t)
        )
    return int(t[k])


def estimate_frames_onset(
    spans: pd.DataFrame | None,
    metrics: pd.DataFrame | None,
    *,
    method: str = "auto",
    reference: float = 0.3,
    k: float = 5.0,
) -> int:
    """Estimate a fault onset from a system's spans and metrics frames.

    The per-step system score (:func:`case_score_series`) comes from span latencies per
    10 s when there are spans for at least 6 steps (finer than metrics), else from the
    metrics; :func:`estimate_onset` then finds the change point.

    Args:
        spans: Canonical spans frame (``start_ns, service, operation, duration_ns``) or
            ``None``.
        metrics: Canonical metrics frame or ``None``.
        method: As in :func:`estimate_onset`; ``"auto"`` is ``"mean_shift"`` on spans
            and ``"threshold"`` with ``reference=0.5`` on metrics only (which copes
            better with an earlier incident inside the window).
        reference: Fraction of the series used as reference by ``"threshold"``.
        k: Robust standard deviations above the reference median.

    Returns:
        The estimated onset (ns).

    Raises:
        GraphadInputError: Fewer than 3 time steps of telemetry.

    Example:
        >>> m = pd.DataFrame({"ts_ns": range(10), "node": "a", "metric": "cpu",
        ...                   "value": [1.0] * 6 + [9.0] * 4})
        >>> estimate_frames_onset(None, m)
        6
    """
    series, (auto_method, auto_reference) = pd.Series(dtype=float), ("mean_shift", 0.3)
    if spans is not None and len(spans):
        series = case_score_series(span_latency_series(spans))
    if len(series) < 6:
        if metrics is not None and len(metrics):
            series, (auto_method, auto_reference) = case_score_series(metrics), ("threshold", 0.5)
        else:
            series = pd.Series(dtype=float)
    if method == "auto":
        method, reference = auto_method, auto_reference
    if len(series) < 3:
        raise GraphadInputError(
            "too little telemetry to estimate an onset",
            field="case",
            expected=">= 3 time steps",
            found=len(series),
        )
    return estimate_onset(series, method=method, reference=reference, k=k)


def span_latency_series(spans: pd.DataFrame, step_ns: int = 10_000_000_000) -> pd.DataFrame:
    """Median log-duration per ``(service, operation)`` and step, as a metrics frame.

    Example:
        >>> s = pd.DataFrame({"start_ns": [0, 1, 10], "service": "a", "operation": "op",
        ...                   "duration_ns": [9, 9, 99]})
        >>> span_latency_series(s, step_ns=10)["value"].round(2).tolist()
        [2.3, 4.61]
    """
    frame = pd.DataFrame(
        {
            "ts_ns": spans["start_ns"].to_numpy() // step_ns * step_ns,
            "node": spans["service"].astype(str).to_numpy(),
            "metric": spans["operation"].astype(str).to_numpy(),
            "value": np.log1p(spans["duration_ns"].to_numpy(dtype=float)),
        }
    )
    return frame.groupby(["ts_ns", "node", "metric"], as_index=False)["value"].median()


def case_score_series(
    metrics: pd.DataFrame,
    *,
    node_rule: str | NodeRule | None = "identity",
    reference: float = 0.3,
    top: int = 3,
) -> pd.Series:
    """A per-step anomaly score of a whole system from its metrics.

    Every metric series is robustly standardised on the first ``reference`` fraction of
    the steps (median / IQR, zero IQR -> 1); a step scores the mean of the ``top`` largest
    ``|z|`` over all series.

    Args:
        metrics: Canonical metrics frame.
        node_rule: Entity -> node rule (unused for the score, kept for symmetry).
        reference: Early fraction used to fit the scaling.
        top: Number of largest deviations averaged per step.

    Returns:
        ``pd.Series`` of scores indexed by ``ts_ns``.
    """
    wide = metrics.pivot_table(
        index="ts_ns", columns=["node", "metric"], values="value", aggfunc="mean"
    ).sort_index()
    if wide.empty:
        return pd.Series(dtype=float)
    n_ref = max(2, int(round(len(wide) * reference)))
    ref = wide.iloc[:n_ref].to_numpy(dtype=float)
    with np.errstate(all="ignore"):
        centre = np.nanmedian(ref, axis=0)
        scale = np.nanpercentile(ref, 75, axis=0) - np.nanpercentile(ref, 25, axis=0)
    scale = np.where(
        ~np.isfinite(scale) | (scale < 1e-9), np.maximum(np.abs(np.nan_to_num(centre)), 1.0), scale
    )
    z = np.abs(wide.to_numpy(dtype=float) - centre) / scale
    z = np.nan_to_num(z, nan=0.0, posinf=0.0)
    k = min(top, z.shape[1])
    best = -np.sort(-z, axis=1)[:, :k]
    return pd.Series(best.mean(axis=1), index=wide.index.to_numpy())
