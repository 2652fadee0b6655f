"""Root-cause rankers: one interface, ``rank(case_or_windows, node_scores, graph)``.

A ranker takes an :class:`~graphad.ingest.telemetry.Incident` (frames of metrics, spans,
logs and edge metrics with an onset) or a :class:`~graphad.graph.DynamicGraph` / list of
window ``Data`` with per-node scores from a detector, and returns an
:class:`~graphad.rca.result.RCAResult` that says how sure it is. Rankers never read
``root_cause`` or ``fault_type``.

Rankers are composed explicitly: a ranker that needs the evidence of a case gets it as a
part, ``PageRankRanker(evidence=MultiSourceEvidence(...))`` (default: a
:class:`~graphad.rca.evidence.MultiSourceEvidence` with its defaults); :meth:`fit` fits
a copy of that part on a fault-free reference.

The onset is the case's ``onset_ns`` (``onset="given"``), a time in ns, or
``"estimated"``: a change point found by :func:`graphad.rca.onset.estimate_onset`. Windows
carry no onset: pass one (``onset=``) or ask for ``"estimated"``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone

from graphad.graph.vocab import NodeVocab
from graphad.ingest.telemetry import Telemetry
from graphad.rca.evidence.multi import EvidenceScores, MultiSourceEvidence
from graphad.rca.fusion import fuse_scores
from graphad.rca.propagation import explain_paths, graph_of, propagation_scores
from graphad.rca.result import RCAResult
from graphad.rca.view import CaseView
from graphad.utils import ParamsMixin, Registry

__all__ = [
    "BaseRanker",
    "ScoreRanker",
    "PageRankRanker",
    "MultiSourceRanker",
    "RANKERS",
    "register_ranker",
    "get_ranker",
]

#: Evidence records kept per ranked node.
_RECORDS = 3


@dataclass
class Scored:
    """What a ranker's scoring step returns: node scores and how sure they are.

    Attributes:
        scores: Node scores (higher = more likely the root cause).
        extra: JSON-able details for :attr:`RCAResult.extra`.
        evidence: The case's calibrated evidence, when the ranker used it.
        confidence: Strongest evidence over its chance level (``None``: not assessed).
        records: Node -> evidence records (when not taken from ``evidence``).
    """

    scores: pd.Series
    extra: dict = field(default_factory=dict)
    evidence: EvidenceScores | None = None
    confidence: float | None = None
    records: dict[str, list[dict]] = field(default_factory=dict)


def _window_scored(view: CaseView, agg: str) -> Scored:
    """Window node scores after the onset against their level before it."""
    scores = view.window_scores
    after = view.window_end > (view.onset_ns if view.onset_ns is not None else -1)
    if not after.any():
        after = np.zeros(len(scores), dtype=bool)
        after[-1] = True
    chosen = scores[after]
    values = chosen.max(axis=0) if agg == "max" else chosen.mean(axis=0)
    node = pd.Series(values, index=view.nodes)
    before = scores[~after]
    if not len(before):
        return Scored(node)
    prior = pd.Series(np.nanmax(before, axis=0), index=view.nodes)
    level = float(prior.max())
    confidence = float(node.max()) / level if level > 0 else None
    records = {
        n: [
            {
                "source": "node_scores",
                "item": None,
                "before": float(prior[n]),
                "after": float(node[n]),
                "score": float(node[n]),
                "calibrated": float(node[n]) / level if level > 0 else None,
                "chance_level": level if level > 0 else None,
            }
        ]
        for n in view.nodes
    }
    return Scored(node, {"chance_level": {"node_scores": level}}, None, confidence, records)


# ----------------------------------------------------------------------------- rankers
class BaseRanker(ParamsMixin):
    """Base class: subclasses implement ``_node_scores(view, graph) -> (pd.Series, extra)``
    (or ``_score(view, graph) -> Scored`` when they can say how sure they are).

    Args:
        onset: ``"given"``, ``"estimated"`` or a time in ns (default for :meth:`rank`).
        node_rule: Entity -> node rule for frames; ``None`` (default): the rule of the
            telemetry ranked (``"identity"`` unless its dataset sets one).
    """

    name = "base"

    def __init__(self, onset: str | int = "given", node_rule: str | None = None) -> None:
        self.onset = onset
        self.node_rule = node_rule

    def fit(self, reference: Telemetry | None = None) -> BaseRanker:
        """Learn from a fault-free reference; default: keep it."""
        self.reference_ = reference
        return self

    def view(
        self,
        case_or_windows,
        node_scores=None,
        *,
        onset: str | int | None = None,
        node_names: NodeVocab | Sequence[str] | None = None,
    ) -> CaseView:
        """The :class:`CaseView` this ranker ranks (see :meth:`rank` for the arguments)."""
        onset = self.onset if onset is None else onset
        if isinstance(case_or_windows, Telemetry):
            return CaseView.from_case(case_or_windows, onset, self.node_rule)
        return CaseView.from_windows(case_or_windows, node_scores, vocab=node_names, onset=onset)

    def rank(
        self,
        case_or_windows,
        node_scores=None,
        graph=None,
        *,
        onset: str | int | None = None,
        node_names: NodeVocab | Sequence[str] | None = None,
    ) -> RCAResult:
        """Rank the candidate root causes of one case.

        Args:
            case_or_windows: An Incident (or other Telemetry), a DynamicGraph or a list of
                window ``Data``.
            node_scores: Optional node scores: ``[W, N]`` per window (windows input) or a
                ``pd.Series`` / dict node -> score (any input; used as they are).
            graph: Optional dependency graph: ``nx.DiGraph`` caller -> callee over node
                names, or an ``edge_index`` ``[2, E]`` (or ``(edge_index, weight)``, e.g.
                a learned adjacency, weights kept) over node ids.
            onset: Overrides the ranker's ``onset`` setting. Windows need a time in ns
                or ``"estimated"``.
            node_names: The node names of a list of windows that does not carry them
                (a :class:`~graphad.graph.NodeVocab` or a list).

        Returns:
            :class:`RCAResult`, best candidate first, with its confidence, each node's
            evidence and the propagation paths (when a graph is known).

        Raises:
            GraphadInputError: The input, its node names or its onset cannot be used.
        """
        start = time.perf_counter()
        per_node = isinstance(node_scores, (pd.Series, Mapping))
        view = self.view(
            case_or_windows,
            None if per_node else node_scores,
            onset=onset,
            node_names=node_names,
        )
        if per_node:
            given = pd.Series(node_scores, dtype=float)
            view.nodes = sorted(set(view.nodes) | set(given.index))
            scored = self._from_scores(given.reindex(view.nodes).fillna(0.0), view, graph)
        else:
            scored = self._score(view, graph)
        scores = scored.scores
        scores = scores.reindex(sorted(set(scores.index) | set(view.nodes))).fillna(0.0)
        scores = scores.sort_values(ascending=False, kind="stable")
        paths = None
        if graph is not None or view.graph.number_of_edges() or view.has_span_table():
            # a graph is known (given, the case's, or the spans' already read): explain
            dependency = graph_of(view, graph)
            paths = explain_paths(scores, dependency) if dependency.number_of_edges() else None
        confidence = scored.confidence
        if scored.evidence is not None:
            confidence = scored.evidence.confidence
            records = {str(n): scored.evidence.records(n, _RECORDS) for n in scores.index}
        else:
            records = {str(n): v for n, v in scored.records.items()}
        above = None if confidence is None else bool(confidence > 1.0)
        if not len(scores) or float(scores.abs().max()) == 0.0:
            above = False
        extra = dict(scored.extra)
        extra["seconds"] = time.perf_counter() - start
        return RCAResult(
            list(map(str, scores.index)),
            scores.tolist(),
            method=self.name,
            paths=paths,
            onset_ns=view.onset_ns,
            extra=extra,
            confidence=confidence,
            evidence_above_chance=above,
            evidence=records,
        )

    def _from_scores(self, scores: pd.Series, view: CaseView, graph) -> Scored:
        return Scored(scores)

    def _score(self, view: CaseView, graph) -> Scored:
        scores, extra = self._node_scores(view, graph)
        return Scored(scores, extra)

    def _node_scores(self, view: CaseView, graph) -> tuple[pd.Series, dict]:
        raise NotImplementedError


class _EvidenceRanker(BaseRanker):
    """A ranker with an evidence part (``evidence``) for case input."""

    evidence: MultiSourceEvidence | None

    def fit(self, reference: Telemetry | None = None) -> BaseRanker:
        """Fit a copy of the evidence part on a fault-free reference.

        Args:
            reference: Telemetry without the fault (e.g. ``Nezha.normal_period()``), or ``None``.

        Returns:
            ``self``.
        """
        super().fit(reference)
        part = self._evidence_part()
        self.evidence_ = clone(part).fit(reference)
        return self

    def _evidence_part(self) -> MultiSourceEvidence:
        """The fitted part, else the given part, else the default one (unfitted)."""
        fitted = getattr(self, "evidence_", None)
        if fitted is not None:
            return fitted
        if self.evidence is not None:
            return self.evidence
        return MultiSourceEvidence(node_rule=self.node_rule)

    def _case_scored(self, view: CaseView) -> Scored:
        evidence = self._evidence_part().score(view)
        extra = {
            "sources": {k: evidence.table[k].round(4).to_dict() for k in evidence.table.columns},
            "chance_level": dict(evidence.null_max),
        }
        return Scored(evidence.fused, extra, evidence)


class ScoreRanker(_EvidenceRanker):
    """Rank by node score alone (callee-unaware).

    With window input, per-node scores are aggregated over the windows after the onset
    (``agg="max"`` or ``"mean"``); with a case, the fused evidence of the ``evidence``
    part is used.

    Args:
        evidence: The evidence part for case input (default:
            ``MultiSourceEvidence(node_rule=node_rule)``).
        agg: ``"max"`` or ``"mean"`` over post-onset windows.
        onset, node_rule: See :class:`BaseRanker`.

    Example:
        >>> import torch
        >>> from torch_geometric.data import Data
        >>> ws = [Data(x=torch.zeros(3, 1, 1), window_end=torch.tensor([t]))
        ...       for t in range(4)]
        >>> s = torch.tensor([[0., 0, 0], [0, 0, 0], [1, 5, 0], [2, 4, 0]])
        >>> ScoreRanker(agg="mean").rank(ws, s, onset=1, node_names=["a", "b", "c"]).nodes
        ['b', 'a', 'c']
    """

    name = "score"

    def __init__(
        self,
        evidence: MultiSourceEvidence | None = None,
        agg: str = "max",
        onset: str | int = "given",
        node_rule: str | None = None,
    ) -> None:
        super().__init__(onset, node_rule)
        self.evidence = evidence
        self.agg = agg

    def _score(self, view, graph):
        if view.window_scores is not None:
            return _window_scored(view, self.agg)
        return self._case_scored(view)


class PageRankRanker(_EvidenceRanker):
    """Propagation-aware ranking: personalised PageRank on the reversed call graph.

    The personalisation is the node score (``node_scores`` aggregated over post-onset
    windows, or the fused evidence of the ``evidence`` part for a case); the graph is
    ``graph`` (weights kept), else the case's call graph, else the calls seen in its
    spans, else the windows' edges. See :func:`graphad.rca.propagation.propagation_scores`.

    Args:
        evidence: The evidence part for case input (default:
            ``MultiSourceEvidence(node_rule=node_rule)``).
        alpha: Damping.
        rho: Weight of backward moves.
        agg: Aggregation of window scores.
        implementation: ``"scipy"`` or ``"torch"``.
        onset, node_rule: See :class:`BaseRanker`.
    """

    name = "pagerank"

    def __init__(
        self,
        evidence: MultiSourceEvidence | None = None,
        alpha: float = 0.85,
        rho: float = 0.2,
        agg: str = "max",
        implementation: str = "scipy",
        onset: str | int = "given",
        node_rule: str | None = None,
    ) -> None:
        super().__init__(onset, node_rule)
        self.evidence = evidence
        self.alpha = alpha
        self.rho = rho
        self.agg = agg
        self.implementation = implementation

    def walk(self, scores: pd.Series, view: CaseView, graph=None) -> tuple[pd.Series, dict]:
        """The random-walk ranking of ``scores`` on the view's dependency graph."""
        g = graph_of(view, graph)
        ranked = propagation_scores(
            scores, g, alpha=self.alpha, rho=self.rho, implementation=self.implementation
        )
        return ranked, {"graph_edges": g.number_of_edges()}

    def _from_scores(self, scores, view, graph):
        ranked, extra = self.walk(scores, view, graph)
        return Scored(ranked, extra)

    def _score(self, view, graph):
        if view.window_scores is not None:
            base = _window_scored(view, self.agg)
        else:
            base = self._case_scored(view)
        ranked, extra = self.walk(base.scores, view, graph)
        base.extra.update(extra)
        base.scores = ranked
        return base


class MultiSourceRanker(_EvidenceRanker):
    """graphad's multi-source ranker: the fused evidence of a case, optionally propagated.

    The evidence part (:class:`~graphad.rca.evidence.MultiSourceEvidence`) scores every
    source against its own chance level and fuses them; the result can be blended with
    a propagation-aware random walk on the call graph (``propagation`` is the blend
    weight, 0 = off). Window input (``[W, N]`` node scores) is one source,
    ``"windows"``, normalised like the others.

    Args:
        evidence: The evidence part (default: ``MultiSourceEvidence(node_rule=node_rule)``,
            the defaults every benchmark reports).
        propagation: Weight of the random-walk rank in the final score.
        onset, node_rule: See :class:`BaseRanker`.
    """

    name = "graphad"

    def __init__(
        self,
        evidence: MultiSourceEvidence | None = None,
        propagation: float = 0.0,
        onset: str | int = "given",
        node_rule: str | None = None,
    ) -> None:
        super().__init__(onset, node_rule)
        self.evidence = evidence
        self.propagation = propagation

    def _score(self, view, graph):
        if view.window_scores is not None:
            part = self._evidence_part()
            scored = _window_scored(view, "max")
            fused, table = fuse_scores(
                {"windows": scored.scores},
                {"windows": 1.0},
                method=part.normalize,
                how=part.fusion,
                nodes=view.nodes or None,
            )
            scored.extra["sources"] = {k: table[k].round(4).to_dict() for k in table.columns}
            scored.scores = fused
        else:
            scored = self._case_scored(view)
        fused = scored.scores
        if self.propagation > 0 and len(fused):
            walker = PageRankRanker(node_rule=self.node_rule)
            walk, info = walker.walk(fused, view, graph)
            walk = walk / walk.max() if walk.max() > 0 else walk
            base = fused / fused.max() if fused.max() > 0 else fused
            scored.scores = (1 - self.propagation) * base + self.propagation * walk.reindex(
                base.index
            )
            scored.extra.update(info)
        return scored


# ---------------------------------------------------------------------------- registry
RANKERS: Registry = Registry("ranker")


def register_ranker(name: str, cls: type[BaseRanker]) -> type[BaseRanker]:
    """Register a ranker class under ``name`` (lower case)."""
    return RANKERS.register(name.lower(), cls)


def get_ranker(name: str | BaseRanker, **kwargs) -> BaseRanker:
    """A ranker instance by registered name (or pass an instance through).

    Example:
        >>> get_ranker("pagerank", alpha=0.9).alpha
        0.9
    """
    if isinstance(name, BaseRanker):
        return name
    return RANKERS.create(name, **kwargs)


for _name, _cls in (
    ("score", ScoreRanker),
    ("pagerank", PageRankRanker),
    ("graphad", MultiSourceRanker),
):
    register_ranker(_name, _cls)
