"""Detectors: fit on normal windows, score every node and every window."""

from graphad.detectors.base import (
    DETECTORS,
    BaseDetector,
    WindowBatch,
    as_window_batch,
    register_detector,
    sliding_windows,
    window_scores_to_steps,
)
from graphad.detectors.threshold import fit_threshold

__all__ = [
    "DETECTORS",
    "BaseDetector",
    "WindowBatch",
    "as_window_batch",
    "register_detector",
    "sliding_windows",
    "window_scores_to_steps",
    "fit_threshold",
]
