"""Statistical baselines every root-cause method must beat: BARO, N-Sigma, random.

* **BARO** (Pham et al., FSE 2024, the root-cause step): every metric is scaled with a
  robust scaler fitted on the period before the onset (median and inter-quartile range);
  a metric scores its largest absolute scaled value after the onset; services are ranked
  by the largest score of their metrics.
* **N-Sigma**: the same with the mean and standard deviation.
* **Random**: a seeded random order, the floor (expected AC@k = k / N).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from graphad.rca.evidence.metrics import metric_deviation_scores
from graphad.rca.rankers import BaseRanker, register_ranker
from graphad.rca.view import CaseView

__all__ = ["BaroRanker", "NSigmaRanker", "RandomRanker"]

_MIN = 60_000_000_000


class _MetricScaler(BaseRanker):
    scaler = "robust"

    def __init__(
        self,
        pre: int | None = None,
        post: int | None = None,
        onset: str | int = "given",
        node_rule: str | None = None,
    ) -> None:
        super().__init__(onset, node_rule)
        self.pre = pre
        self.post = post

    def _node_scores(self, view: CaseView, graph):
        if view.window_scores is not None:
            return self._windows(view), {}
        if not len(view.metrics) or view.onset_ns is None:
            return pd.Series(0.0, index=view.nodes), {}
        nodes, details = metric_deviation_scores(
            view.metrics,
            view.onset_ns,
            node_rule=view.node_rule if self.node_rule is None else self.node_rule,
            scaler=self.scaler,
            pre_ns=self.pre,
            post_ns=self.post,
            return_details=True,
        )
        top = details.sort_values(ascending=False).head(5)
        return nodes, {
            "top_metrics": [
                [str(k[0]), str(k[1]), str(k[2]), round(float(v), 3)] for k, v in top.items()
            ]
        }

    def _windows(self, view: CaseView) -> pd.Series:
        scores = view.window_scores
        before = view.window_end <= view.onset_ns
        after = ~before
        ref = scores[before] if before.any() else scores[:1]
        if self.scaler == "robust":
            centre = np.median(ref, axis=0)
            scale = np.percentile(ref, 75, axis=0) - np.percentile(ref, 25, axis=0)
        else:
            centre, scale = ref.mean(axis=0), ref.std(axis=0)
        scale = np.where(scale < 1e-9, 1.0, scale)
        post = scores[after] if after.any() else scores[-1:]
        return pd.Series(np.abs((post - centre) / scale).max(axis=0), index=view.nodes)


class BaroRanker(_MetricScaler):
    """BARO-style ranking: robust (median / IQR) scaling on the pre-onset period.

    Args:
        pre: Reference period before the onset (ns), ``None`` = everything before.
        post: Period after the onset (ns), ``None`` = everything after.
        onset, node_rule: See :class:`~graphad.rca.rankers.BaseRanker`.

    Example:
        >>> from graphad.datasets.base import FaultCase
        >>> m = pd.DataFrame({"ts_ns": [0, 1, 2, 3] * 2, "node": ["a"] * 4 + ["b"] * 4,
        ...                   "metric": "cpu", "value": [1., 2, 3, 9, 5, 5, 6, 6]})
        >>> case = FaultCase("c", "s", onset_ns=3, root_cause="", fault_type="", metrics=m)
        >>> r = BaroRanker(node_rule="identity").rank(case)
        >>> r.nodes, r.scores
        (['a', 'b'], [7.0, 2.0])
    """

    name = "baro"
    scaler = "robust"


class NSigmaRanker(_MetricScaler):
    """N-Sigma ranking: mean / standard-deviation scaling on the pre-onset period.

    Args:
        pre, post, onset, node_rule: See :class:`BaroRanker`.
    """

    name = "nsigma"
    scaler = "standard"


class RandomRanker(BaseRanker):
    """A seeded random order of the candidate nodes (the floor).

    The order of a case depends only on ``random_state`` and the case's candidates and id,
    so a run is reproducible whatever the order of the cases.

    Args:
        random_state: Seed.
        onset, node_rule: See :class:`~graphad.rca.rankers.BaseRanker`.
    """

    name = "random"

    def __init__(
        self, random_state: int | None = 0, onset: str | int = "given", node_rule: str | None = None
    ) -> None:
        super().__init__(onset, node_rule)
        self.random_state = random_state

    def _node_scores(self, view: CaseView, graph):
        import zlib

        salt = zlib.crc32(str(view.case_id).encode())
        rng = np.random.default_rng([int(self.random_state or 0), salt])
        nodes = sorted(view.nodes)
        return pd.Series(rng.random(len(nodes)), index=nodes), {}

    def _from_scores(self, scores, view, graph):
        return self._node_scores(view, graph)


for _name, _cls in (("baro", BaroRanker), ("nsigma", NSigmaRanker), ("random", RandomRanker)):
    register_ranker(_name, _cls)
