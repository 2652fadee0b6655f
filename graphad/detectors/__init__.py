"""Detectors: fit on normal windows, score every node and every window.

Every detector registers itself in :data:`DETECTORS` (name -> class), so benchmarks and
the CLI resolve detectors by name. Window detectors take ``[W, N, T, F]`` windows (or a
DynamicGraph, a list of PyG ``Data``, a wide ``[time, node]`` series); :class:`DeepLog`
takes event sequences (``input_kind == "sequences"``); the supervised classifiers
(:class:`NegativeSamplingContrastive`, :class:`CNNClassifier`, :class:`LSTMClassifier`)
need window labels in ``fit(windows, y)`` (``_requires_labels``).
"""

from graphad.detectors.base import (
    DETECTORS,
    BaseDetector,
    WindowBatch,
    as_window_batch,
    check_is_fitted,
    check_window_labels,
    register_detector,
    sliding_windows,
    window_scores_to_steps,
)
from graphad.detectors.baselines import IForestDetector, KNNDetector, PCADetector, RobustZScore
from graphad.detectors.crl_bsad import CRLBSAD
from graphad.detectors.deeplog import DeepLog
from graphad.detectors.gdn import GDN
from graphad.detectors.negative_sampling import (
    CNNClassifier,
    LSTMClassifier,
    NegativeSamplingContrastive,
)
from graphad.detectors.threshold import fit_threshold, pot_threshold, quantile_threshold
from graphad.detectors.ucl import UCL

__all__ = [
    "DETECTORS",
    "BaseDetector",
    "WindowBatch",
    "as_window_batch",
    "check_is_fitted",
    "check_window_labels",
    "register_detector",
    "sliding_windows",
    "window_scores_to_steps",
    "fit_threshold",
    "quantile_threshold",
    "pot_threshold",
    "RobustZScore",
    "PCADetector",
    "IForestDetector",
    "KNNDetector",
    "GDN",
    "DeepLog",
    "NegativeSamplingContrastive",
    "CNNClassifier",
    "LSTMClassifier",
    "CRLBSAD",
    "UCL",
]
