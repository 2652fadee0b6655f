"""Node scores + graph -> ranked root causes.

Rankers share one interface, ``rank(case_or_windows, node_scores=None, graph=None)``,
and are registered by name in :data:`RANKERS`: ``"score"``, ``"pagerank"``, ``"baro"``,
``"nsigma"``, ``"random"`` and ``"graphad"`` (the multi-source ranker).

Modules: :mod:`~graphad.rca.view` (what a ranker sees: :class:`CaseView`),
:mod:`~graphad.rca.evidence` (per-node evidence, one module per kind, and
:class:`MultiSourceEvidence`), :mod:`~graphad.rca.fusion` (calibration and fusion),
:mod:`~graphad.rca.propagation` (PageRank, dependency graph, explaining paths),
:mod:`~graphad.rca.onset`, :mod:`~graphad.rca.rankers`, :mod:`~graphad.rca.baselines`,
:mod:`~graphad.rca.result`.
"""

from graphad.rca.baselines import BaroRanker, NSigmaRanker, RandomRanker
from graphad.rca.evidence import (
    DEFAULT_MIN_LEVELS,
    DEFAULT_WEIGHTS,
    EvidenceScores,
    MultiSourceEvidence,
    pseudo_onset,
)
from graphad.rca.fusion import calibrate_scores, fuse_scores, normalize_scores
from graphad.rca.onset import (
    case_score_series,
    estimate_frames_onset,
    estimate_onset,
    mean_shift_point,
)
from graphad.rca.propagation import (
    explain_paths,
    graph_of,
    personalized_pagerank,
    propagation_scores,
)
from graphad.rca.rankers import (
    RANKERS,
    BaseRanker,
    MultiSourceRanker,
    PageRankRanker,
    ScoreRanker,
    get_ranker,
    register_ranker,
)
from graphad.rca.result import RCAResult
from graphad.rca.view import CaseView

__all__ = [
    "RCAResult",
    "CaseView",
    "RANKERS",
    "BaseRanker",
    "ScoreRanker",
    "PageRankRanker",
    "MultiSourceRanker",
    "MultiSourceEvidence",
    "EvidenceScores",
    "DEFAULT_WEIGHTS",
    "DEFAULT_MIN_LEVELS",
    "BaroRanker",
    "NSigmaRanker",
    "RandomRanker",
    "get_ranker",
    "register_ranker",
    "personalized_pagerank",
    "propagation_scores",
    "explain_paths",
    "graph_of",
    "estimate_onset",
    "estimate_frames_onset",
    "mean_shift_point",
    "case_score_series",
    "fuse_scores",
    "normalize_scores",
    "calibrate_scores",
    "pseudo_onset",
]
