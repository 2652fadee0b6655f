"""Node scores + graph -> ranked root causes.

Rankers share one interface, ``rank(case_or_windows, node_scores=None, graph=None)``,
and are registered by name in :data:`RANKERS`: ``"score"``, ``"pagerank"``, ``"baro"``,
``"nsigma"``, ``"random"`` and ``"graphad"`` (the multi-source ranker).
"""

from graphad.rca.baselines import BaroRanker, NSigmaRanker, RandomRanker
from graphad.rca.fusion import calibrate_scores, fuse_scores, normalize_scores
from graphad.rca.onset import case_score_series, estimate_onset, mean_shift_point
from graphad.rca.pagerank import personalized_pagerank
from graphad.rca.rankers import (
    RANKERS,
    BaseRanker,
    MultiSourceRanker,
    PageRankRanker,
    ScoreRanker,
    get_ranker,
    propagation_scores,
    pseudo_onset,
    register_ranker,
)
from graphad.rca.result import RCAResult

__all__ = [
    "RCAResult",
    "RANKERS",
    "BaseRanker",
    "ScoreRanker",
    "PageRankRanker",
    "MultiSourceRanker",
    "BaroRanker",
    "NSigmaRanker",
    "RandomRanker",
    "get_ranker",
    "register_ranker",
    "personalized_pagerank",
    "propagation_scores",
    "estimate_onset",
    "mean_shift_point",
    "case_score_series",
    "fuse_scores",
    "normalize_scores",
    "calibrate_scores",
    "pseudo_onset",
]
