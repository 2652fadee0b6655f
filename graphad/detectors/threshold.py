"""Thresholds fitted on training scores only: contamination quantile and POT (EVT)."""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats

from graphad.exceptions import GraphadInputError

__all__ = ["fit_threshold", "quantile_threshold", "pot_threshold"]


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


def fit_threshold(
    scores: torch.Tensor | np.ndarray,
    method: str = "quantile",
    contamination: float = 0.01,
    risk: float = 1e-3,
) -> float:
    """Fit a decision threshold on *training* scores.

    Args:
        scores: Training window scores, shape ``[n]``.
        method: ``"quantile"`` (the ``1 - contamination`` quantile) or ``"pot"``.
        contamination: Expected share of anomalies, for ``"quantile"``.
        risk: Exceedance probability, for ``"pot"``.

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
    raise GraphadInputError(
        f"Could not resolve '{method}' among choices ['pot', 'quantile']", field="threshold"
    )
