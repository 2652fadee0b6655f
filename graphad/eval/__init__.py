"""Detection, localisation and root-cause metrics (leaf functions).

Threshold-free metrics come first (AUC-PR, VUS-PR); point-adjusted F1 is only available
beside the point-adjusted F1 of random scores. The benchmark runners that use them over
real data live in :mod:`graphad.bench`.
"""

from graphad.eval.detection import (
    F1Result,
    PointAdjustedReport,
    Rates,
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
from graphad.eval.localization import hit_rate_at_p
from graphad.eval.ranking import ac_at_k, avg_at_k, mrr
from graphad.eval.vus import VUSResult, range_auc, vus, vus_pr, vus_roc

__all__ = [
    "F1Result",
    "PointAdjustedReport",
    "Rates",
    "VUSResult",
    "anomaly_segments",
    "auc_roc",
    "auc_pr",
    "vus",
    "vus_roc",
    "vus_pr",
    "range_auc",
    "best_f1",
    "f1_at_threshold",
    "tpr_fpr",
    "event_detection_rate",
    "point_adjusted_f1",
    "point_adjusted_f1_with_baseline",
    "hit_rate_at_p",
    "ac_at_k",
    "avg_at_k",
    "mrr",
]
