"""Thresholds fitted on training scores only: contamination quantile, POT (EVT), and the
streaming SPOT / DSPOT that keeps updating the tail fit over the scored stream.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import torch
from scipy import stats

from graphad.exceptions import GraphadInputError, NotFittedError

__all__ = ["fit_threshold", "quantile_threshold", "pot_threshold", "SPOT", "spot_level"]


def quantile_threshold(scores: np.ndarray, contamination: float) -> float:
    """The ``1 - contamination`` quantile of the training scores.

    Example:
        >>> quantile_threshold(np.arange(101.0), 0.1)
        90.0

    """
    if not 0.0 < contamination < 0.5:
        raise GraphadInputError(
            "contamination out of range",
            field="contamination",
            expected="0 < contamination < 0.5",
            found=contamination,
        )
    return float(np.quantile(scores, 1.0 - contamination))


def pot_threshold(scores: np.ndarray, risk: float = 1e-3, level: float = 0.98) -> float:
    """Peaks-over-threshold: fit a generalised Pareto tail above the ``level`` quantile
    and return the score exceeded with probability ``risk`` (Siffer et al., KDD 2017).

    Args:
        scores: Training scores, shape ``[n]``.
        risk: Target exceedance probability ``q``.
        level: Quantile of the initial threshold ``t``.

    Returns:
        ``z_q = t + (σ/γ)((q n / N_t)^(-γ) - 1)`` (``t - σ log(q n / N_t)`` when γ ≈ 0);
        never below ``t``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> z = pot_threshold(rng.exponential(size=20000), risk=1e-3)
        >>> 6.0 < z < 8.0   # the exact 0.999 quantile of Exp(1) is 6.91
        True

    """
    scores = np.asarray(scores, dtype=np.float64)
    scores = scores[np.isfinite(scores)]
    if scores.size < 10:
        raise GraphadInputError(
            "too few training scores for POT",
            field="scores",
            expected=">= 10",
            found=scores.size,
        )
    t = float(np.quantile(scores, level))
    excess = scores[scores > t] - t
    if excess.size < 3 or np.allclose(excess, excess[0]):
        return float(scores.max())
    gamma, _, sigma = stats.genpareto.fit(excess, floc=0.0)
    ratio = risk * scores.size / excess.size
    if abs(gamma) < 1e-6:
        z = t - sigma * np.log(ratio)
    else:
        z = t + (sigma / gamma) * (ratio ** (-gamma) - 1.0)
    return float(max(z, t))


def spot_level(risk: float) -> float:
    """Peak-threshold quantile for a ``risk``: ``min(0.98, 1 - 3 risk)``, so the peaks
    start well below the alarm threshold ``z_q`` (used by the detectors' SPOT / DSPOT).

    Example:
        >>> spot_level(1e-3), spot_level(0.02)
        (0.98, 0.94)
    """
    return min(0.98, 1.0 - 3.0 * risk)


def fit_threshold(
    scores: torch.Tensor | np.ndarray,
    method: str = "quantile",
    contamination: float = 0.01,
    risk: float = 1e-3,
) -> float:
    """Fit a decision threshold on *training* scores.

    Args:
        scores: Training window scores, shape ``[n]``.
        method: ``"quantile"`` (the ``1 - contamination`` quantile), ``"pot"`` (GPD
            maximum likelihood), ``"spot"`` / ``"dspot"`` (the :class:`SPOT` threshold
            calibrated on the training scores; the detectors then update it over the
            scored stream).
        contamination: Expected share of anomalies, for ``"quantile"``.
        risk: Exceedance probability, for ``"pot"`` / ``"spot"`` / ``"dspot"``.

    Returns:
        The threshold; scores strictly above it are predicted anomalous.

    """
    values = scores.detach().cpu().numpy() if torch.is_tensor(scores) else np.asarray(scores)
    values = values.astype(np.float64).ravel()
    values = values[np.isfinite(values)]
    if method == "quantile":
        return quantile_threshold(values, contamination)
    if method == "pot":
        return pot_threshold(values, risk=risk)
    if method in ("spot", "dspot"):
        # the static part: SPOT calibrated on the training scores (the stream update,
        # and DSPOT's drift level, happen in ``BaseDetector.predict``)
        return SPOT(risk=risk, level=spot_level(risk)).fit(values).threshold_
    raise GraphadInputError(
        f"Could not resolve '{method}' among choices ['dspot', 'pot', 'quantile', 'spot']",
        field="threshold",
    )


def _gpd_moments(mean: float, var: float) -> tuple[float, float]:
    """Method-of-moments GPD fit ``(gamma, sigma)`` of excesses with ``mean`` and ``var``.

    ``gamma = (1 - mean² / var) / 2``, ``sigma = mean (1 + mean² / var) / 2`` (Hosking &
    Wallis 1987); ``gamma`` is clipped to ``[-0.5, 0.45]``, where the moments exist.
    """
    if var <= 1e-18 * max(mean * mean, 1e-300):
        return 0.0, max(mean, 1e-12)
    ratio = mean * mean / var
    gamma = float(np.clip(0.5 * (1.0 - ratio), -0.5, 0.45))
    sigma = max(0.5 * mean * (1.0 + ratio), 1e-12)
    return gamma, sigma


def _gpd_quantile(t: float, gamma: float, sigma: float, risk: float, n: int, n_peaks: int):
    ratio = risk * n / max(n_peaks, 1)
    if abs(gamma) < 1e-6:
        return t - sigma * np.log(ratio)
    return t + (sigma / gamma) * (ratio ** (-gamma) - 1.0)


class SPOT:
    r"""Streaming peaks-over-threshold (SPOT; Siffer et al., KDD 2017), drift-aware as DSPOT.

    Calibration: the ``level`` quantile ``t`` of the initial (training) scores is the
    peak threshold; the excesses over ``t`` get a generalised Pareto fit (method of
    moments, so every update is ``O(1)``) and the alarm threshold is

    .. math:: z_q = t + \frac{\sigma}{\gamma}\Big(\big(\tfrac{q\,n}{N_t}\big)^{-\gamma} - 1\Big)

    the score exceeded with probability ``q = risk``. Streaming: a score above ``z_q`` is
    an alarm (it does not update the model); a score in ``(t, z_q]`` is a new peak (the
    fit and ``z_q`` are updated); every non-alarm score counts in ``n``.

    With ``depth > 0`` (DSPOT) the model is fitted to ``x_t - m_t``, where ``m_t`` is the
    mean of the last ``depth`` non-alarm scores, so a slow drift of the whole score level
    (a test period whose normal scores sit above or below the training ones) moves the
    threshold with it, while an anomaly, being an alarm, does not.

    Args:
        risk: Target exceedance probability ``q`` (alarms per normal step).
        level: Quantile of the training scores used as the peak threshold ``t``.
        depth: Drift window of DSPOT (``0``: plain SPOT).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> spot = SPOT(risk=1e-3).fit(rng.exponential(size=20000))
        >>> 6.0 < spot.threshold_ < 8.5   # exact 0.999 quantile of Exp(1): 6.91
        True
        >>> alarms, thresholds = spot.run(np.array([0.5, 50.0, 1.0]))
        >>> alarms.tolist()
        [False, True, False]

    """

    def __init__(self, risk: float = 1e-3, level: float = 0.98, depth: int = 0) -> None:
        if not 0.0 < risk < 1.0:
            raise GraphadInputError(
                "risk out of range", field="risk", expected="0 < risk < 1", found=risk
            )
        if not 0.0 < level < 1.0:
            raise GraphadInputError(
                "level out of range", field="level", expected="0 < level < 1", found=level
            )
        if depth < 0:
            raise GraphadInputError("depth must be >= 0", field="depth", found=depth)
        self.risk = risk
        self.level = level
        self.depth = int(depth)

    def _residuals(self, scores: np.ndarray) -> np.ndarray:
        if not self.depth:
            return scores
        kernel = np.ones(self.depth) / self.depth
        local = np.convolve(scores, kernel, mode="valid")[:-1]  # mean of the previous depth
        return scores[self.depth :] - local

    def fit(self, scores: np.ndarray | torch.Tensor) -> SPOT:
        """Calibrate on initial (training) scores; sets ``threshold_`` and the tail fit."""
        values = scores.detach().cpu().numpy() if torch.is_tensor(scores) else np.asarray(scores)
        values = values.astype(np.float64).ravel()
        values = values[np.isfinite(values)]
        if values.size < max(10, self.depth + 10):
            raise GraphadInputError(
                "too few training scores for SPOT",
                field="scores",
                expected=f">= {max(10, self.depth + 10)}",
                found=values.size,
            )
        residuals = self._residuals(values)
        self.t_ = float(np.quantile(residuals, self.level))
        excess = residuals[residuals > self.t_] - self.t_
        self.n_ = int(residuals.size)
        self.n_peaks_ = int(excess.size)
        self.sum_ = float(excess.sum())
        self.sum_sq_ = float((excess**2).sum())
        self.window_ = values[-self.depth :].copy() if self.depth else np.zeros(0)
        self._update_threshold()
        return self

    def _update_threshold(self) -> None:
        if self.n_peaks_ < 3:
            self.gamma_, self.sigma_ = 0.0, max(self.sum_ / max(self.n_peaks_, 1), 1e-12)
        else:
            mean = self.sum_ / self.n_peaks_
            var = max(self.sum_sq_ / self.n_peaks_ - mean * mean, 0.0)
            self.gamma_, self.sigma_ = _gpd_moments(mean, var)
        z = _gpd_quantile(self.t_, self.gamma_, self.sigma_, self.risk, self.n_, self.n_peaks_)
        self.threshold_ = float(max(z, self.t_))

    def run(self, stream: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Score a stream in order, updating the tail fit (and the drift level) as it goes.

        Args:
            stream: ``[n]`` scores after the calibration period (NaN: skipped, no alarm).

        Returns:
            ``(alarms, thresholds)``: ``[n]`` bool, and ``[n]`` the threshold each score was
            compared with (in score units, i.e. including the drift level for DSPOT).

        """
        if not hasattr(self, "threshold_"):
            raise NotFittedError("SPOT is not fitted yet: call fit(training_scores) first")
        values = stream.detach().cpu().numpy() if torch.is_tensor(stream) else np.asarray(stream)
        values = values.astype(np.float64).ravel()
        alarms = np.zeros(values.size, dtype=bool)
        thresholds = np.full(values.size, np.nan)
        window = deque(self.window_.tolist())
        level = float(np.mean(window)) if self.depth else 0.0
        for i, x in enumerate(values):
            thresholds[i] = self.threshold_ + level
            if not np.isfinite(x):
                continue
            r = x - level
            if r > self.threshold_:
                alarms[i] = True
                continue
            if r > self.t_:
                e = r - self.t_
                self.n_peaks_ += 1
                self.sum_ += e
                self.sum_sq_ += e * e
            self.n_ += 1
            self._update_threshold()
            if self.depth:
                window.append(x)
                level += (x - window.popleft()) / self.depth
        self.window_ = np.asarray(window)
        return alarms, thresholds
