"""Root-cause rankers: one interface, ``rank(case_or_windows, node_scores, graph)``.

A ranker takes either a :class:`~graphad.datasets.base.FaultCase` (frames of metrics,
spans and logs with an onset) or a :class:`~graphad.graph.DynamicGraph` / list of window
``Data`` (with per-node scores from a detector, or raw features), and returns an
:class:`~graphad.rca.result.RCAResult`. Rankers never read ``root_cause`` or
``fault_type``.

The onset is the case's ``onset_ns`` (``onset="given"``), a time in ns, or
``"estimated"``: a change point found by :func:`graphad.rca.onset.estimate_onset` on the
system's per-step anomaly score, for "something broke in the last hour, what was it?".
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd
import torch

from graphad.exceptions import GraphadInputError
from graphad.graph.rules import NodeRule, resolve_node_rule
from graphad.rca import sources
from graphad.rca.fusion import fuse_scores
from graphad.rca.onset import estimate_onset, mean_shift_point
from graphad.rca.pagerank import personalized_pagerank
from graphad.rca.result import RCAResult

__all__ = [
    "BaseRanker",
    "ScoreRanker",
    "PageRankRanker",
    "MultiSourceRanker",
    "CaseView",
    "as_case_view",
    "propagation_scores",
    "explain_paths",
    "RANKERS",
    "DEFAULT_WEIGHTS",
    "DEFAULT_MIN_LEVELS",
    "pseudo_onset",
    "register_ranker",
    "get_ranker",
]

_MIN = 60_000_000_000


@dataclass
class CaseView:
    """What a ranker sees of its input, whatever its type.

    Attributes:
        onset_ns: The onset used (ns), or ``None`` when unknown.
        metrics, spans, logs: Canonical frames (may be empty).
        edge_metrics: Canonical edge metrics ``ts_ns, src, dst, metric, value`` (may be
            empty).
        nodes: Candidate node names.
        window_scores: ``[W, N]`` node scores per window (windows input), else ``None``.
        window_end: ``[W]`` window end times (ns) for ``window_scores``.
        graph: The dependency graph, caller -> callee, over node names (may be empty).
    """

    onset_ns: int | None
    metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    spans: pd.DataFrame = field(default_factory=pd.DataFrame)
    logs: pd.DataFrame = field(default_factory=pd.DataFrame)
    edge_metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    nodes: list[str] = field(default_factory=list)
    window_scores: np.ndarray | None = None
    window_end: np.ndarray | None = None
    graph: nx.DiGraph = field(default_factory=nx.DiGraph)
    case_id: str | None = None
    _span_tables: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def span_table(self, node_rule: str | NodeRule | None = "service") -> pd.DataFrame:
        """:func:`graphad.rca.sources.span_table` of :attr:`spans`, built once per rule.

        The evidence and the call graph read from the spans share it.
        """
        if node_rule not in self._span_tables:
            self._span_tables[node_rule] = sources.span_table(self.spans, node_rule)
        return self._span_tables[node_rule]


def _frame(case, name: str) -> pd.DataFrame:
    value = getattr(case, name, None)
    return value if isinstance(value, pd.DataFrame) else pd.DataFrame()


def _windows_of(obj) -> tuple[list, list[str] | None]:
    from graphad.graph.dynamic import DynamicGraph

    if isinstance(obj, DynamicGraph):
        return list(obj.windows), obj.vocab.names
    if isinstance(obj, Sequence) and obj and hasattr(obj[0], "x"):
        return list(obj), None
    raise GraphadInputError(
        "cannot rank this input",
        field="case_or_windows",
        expected="a FaultCase, a DynamicGraph or a list of window Data",
        found=type(obj).__name__,
    )


def _window_feature_scores(windows: list, onset_ns: int | None, ends: np.ndarray) -> np.ndarray:
    """``[W, N]`` node scores from raw window features: robust z vs pre-onset windows."""
    last = torch.stack([w.x[:, -1, :] for w in windows]).double().numpy()  # [W, N, F]
    ref = last[ends <= onset_ns] if onset_ns is not None else last[: max(1, len(last) // 3)]
    if len(ref) == 0:
        ref = last[:1]
    centre = np.median(ref, axis=0)
    scale = np.percentile(ref, 75, axis=0) - np.percentile(ref, 25, axis=0)
    scale = np.where(scale < 1e-9, 1.0, scale)
    return np.nanmax(np.abs(last - centre) / scale, axis=2)


def _onset_ns(onset) -> int:
    try:
        return int(onset)
    except (TypeError, ValueError):
        raise GraphadInputError(
            "unreadable onset",
            field="onset",
            expected="'given', 'estimated' or a time in ns",
            found=repr(onset),
        ) from None


def as_case_view(case_or_windows, node_scores=None, onset="given", node_rule="service") -> CaseView:
    """Turn a ranker's input into a :class:`CaseView` (onset resolved).

    Args:
        case_or_windows: A FaultCase-like object (``onset_ns`` and frames), a
            DynamicGraph or a list of window ``Data``.
        node_scores: For windows: ``[W, N]`` node scores (tensor or array).
        onset: ``"given"`` (the case's onset), ``"estimated"``, or an int (ns). Windows
            carry no onset: for them ``"given"`` and ``"estimated"`` both estimate it (a
            mean-shift change point of the largest node score per window).
        node_rule: Entity -> node rule for frames.

    Returns:
        The view.
    """
    if hasattr(case_or_windows, "onset_ns") and hasattr(case_or_windows, "metrics"):
        case = case_or_windows
        view = CaseView(
            onset_ns=None,
            metrics=_frame(case, "metrics"),
            spans=_frame(case, "spans"),
            logs=_frame(case, "logs"),
            edge_metrics=_frame(case, "edge_metrics"),
            case_id=getattr(case, "case_id", None),
        )
        rule = resolve_node_rule(node_rule)
        names: set[str] = set()
        if len(view.metrics):
            names |= set(rule(view.metrics["node"].astype(str).unique()))
        if len(view.spans):
            names |= set(rule(view.spans["service"].astype(str).unique()))
        if len(view.edge_metrics):
            for end in ("src", "dst"):
                names |= set(rule(view.edge_metrics[end].astype(str).unique()))
        graph = getattr(case, "call_graph", None)
        if graph is not None:
            view.graph = graph
        if not names and graph is not None:
            names = {str(n) for n in graph.nodes}
        view.nodes = sorted(names)
        if onset == "given" and getattr(case, "onset_ns", None) is not None:
            view.onset_ns = int(case.onset_ns)
        elif onset in ("given", "estimated"):
            view.onset_ns = estimate_case_onset(view)
        else:
            view.onset_ns = _onset_ns(onset)
        return view
    windows, names = _windows_of(case_or_windows)
    ends = np.array([int(w.window_end.view(-1)[0]) for w in windows], dtype=np.int64)
    n = int(windows[0].x.shape[0])
    names = names or [str(i) for i in range(n)]
    view = CaseView(onset_ns=None, nodes=list(names), window_end=ends)
    if node_scores is not None:
        scores = np.asarray(
            node_scores.detach().cpu() if torch.is_tensor(node_scores) else node_scores, dtype=float
        )
        if scores.shape != (len(windows), n):
            raise GraphadInputError(
                "node_scores must have one score per window and node",
                field="node_scores",
                expected=f"[{len(windows)}, {n}]",
                found=list(scores.shape),
            )
    else:
        given = None if onset in ("given", "estimated") else int(onset)
        scores = _window_feature_scores(windows, given, ends)
    view.window_scores = scores
    if onset in ("given", "estimated"):
        # windows carry no onset: the end of the last window before the change point,
        # so that the first anomalous window counts as "after the onset"
        k = mean_shift_point(np.nanmax(scores, axis=1)) if len(ends) >= 2 else 0
        view.onset_ns = int(ends[k - 1]) if k > 0 else int(ends[0]) - 1
    else:
        view.onset_ns = _onset_ns(onset)
    graph = nx.DiGraph()
    graph.add_nodes_from(names)
    for w in windows:
        if getattr(w, "edge_index", None) is not None and w.edge_index.numel():
            src, dst = w.edge_index.tolist()
            graph.add_edges_from(
                (names[a], names[b]) for a, b in zip(src, dst, strict=True) if a != b
            )
    view.graph = graph
    return view


def estimate_case_onset(view: CaseView, method: str = "auto") -> int | None:
    """Estimate the onset of a case view (see :func:`graphad.rca.onset.estimate_onset`)."""
    if not len(view.metrics) and not len(view.spans):
        return None
    return estimate_onset(view, method=method)


# ------------------------------------------------------------------------- propagation
def _graph_of(view: CaseView, graph, node_rule: str | None = "service") -> nx.DiGraph:
    """The dependency graph: argument > case call graph > spans > windows > none.

    Call edges read from the spans name their nodes with ``node_rule``, the rule that
    named ``view.nodes``.
    """
    if graph is not None:
        if isinstance(graph, nx.DiGraph):
            return graph
        edge_index = graph[0] if isinstance(graph, tuple) else graph
        ei = np.asarray(edge_index.detach().cpu() if torch.is_tensor(edge_index) else edge_index)
        g = nx.DiGraph()
        g.add_nodes_from(view.nodes)
        for a, b in ei.T.tolist():
            g.add_edge(view.nodes[a], view.nodes[b])
        return g
    if view.graph.number_of_edges():
        return view.graph
    if len(view.spans):
        table = view.span_table(node_rule)
        parents = table["parent_node"].to_numpy(dtype=object)
        nodes = table["node"].to_numpy(dtype=object)
        calls = (parents != "") & (parents != nodes)
        g = nx.DiGraph()
        g.add_edges_from(set(zip(parents[calls], nodes[calls], strict=True)))
        return g
    return view.graph


def propagation_scores(
    scores: pd.Series,
    graph: nx.DiGraph,
    *,
    alpha: float = 0.85,
    rho: float = 0.2,
    implementation: str = "scipy",
) -> pd.Series:
    r"""Propagation-aware re-ranking by a random walk on the call graph.

    Anomalies spread from a callee to its callers, so the walk goes against that
    direction (the reversed anomaly-propagation graph: caller -> callee), MonitorRank /
    MicroRCA style. For a call ``u -> v`` the walker moves to ``v`` with weight
    :math:`s_v`, back to ``u`` from ``v`` with weight :math:`\rho s_u`, and stays at
    ``u`` with weight :math:`\max(0, s_u - \max_{v} s_v)` -- a node whose callees are
    normal keeps the walker. The walk restarts in proportion to the scores
    (personalised PageRank, :func:`personalized_pagerank`).

    Args:
        scores: Non-negative node scores (the personalisation).
        graph: Caller -> callee graph over (a superset or subset of) the nodes.
        alpha: Damping.
        rho: Weight of the backward (callee -> caller) moves.
        implementation: ``"scipy"`` or ``"torch"``.

    Returns:
        Stationary probabilities, sorted best first.

    Example:
        >>> g = nx.DiGraph([("web", "api"), ("api", "db")])
        >>> s = pd.Series({"web": 0.9, "api": 0.6, "db": 0.05})
        >>> propagation_scores(s, g).index[0]
        'api'
    """
    s = scores.astype(float).clip(lower=0.0).fillna(0.0)
    nodes = list(s.index)
    pos = {n: i for i, n in enumerate(nodes)}
    edges = [(pos[u], pos[v]) for u, v in graph.edges if u in pos and v in pos and u != v]
    values = s.to_numpy()
    src, dst, weight = [], [], []
    best_callee = np.zeros(len(nodes))
    for u, v in edges:
        src += [u, v]
        dst += [v, u]
        weight += [values[v], rho * values[u]]
        best_callee[u] = max(best_callee[u], values[v])
    for i in range(len(nodes)):
        src.append(i)
        dst.append(i)
        weight.append(max(0.0, values[i] - best_callee[i]))
    if values.sum() <= 0:
        return s.sort_values(ascending=False, kind="stable")
    rank = personalized_pagerank(
        np.array([src, dst], dtype=np.int64).reshape(2, -1),
        np.array(weight),
        values + 1e-12,
        alpha=alpha,
        num_nodes=len(nodes),
        implementation=implementation,
    )
    return pd.Series(rank, index=nodes).sort_values(ascending=False, kind="stable")


def explain_paths(
    scores: pd.Series,
    graph: nx.DiGraph,
    *,
    top: int = 3,
    max_depth: int = 3,
    max_paths: int = 5,
) -> dict[str, list[list[str]]]:
    """Propagation paths that explain the top candidates.

    From a candidate, an anomaly travels to its callers; a path follows callers
    (caller <- callee edges, reversed) through nodes that scored above the median, and is
    kept when it ends at such a node.

    Args:
        scores: Ranking scores (best first or not).
        graph: Caller -> callee graph.
        top: Number of candidates explained.
        max_depth: Longest path (edges).
        max_paths: Paths kept per candidate, shortest first.

    Returns:
        ``{candidate: [[candidate, caller, caller's caller, ...], ...]}``.

    Example:
        >>> g = nx.DiGraph([("web", "api"), ("api", "db")])
        >>> s = pd.Series({"db": 3.0, "api": 2.0, "web": 1.5, "x": 0.0, "y": 0.0, "z": 0.0})
        >>> explain_paths(s, g)["db"]
        [['db', 'api'], ['db', 'api', 'web']]
    """
    ranked = scores.sort_values(ascending=False, kind="stable")
    level = float(ranked.median())
    hot = {n for n, v in ranked.items() if v > level}
    out: dict[str, list[list[str]]] = {}
    for candidate in list(ranked.index[:top]):
        if candidate not in graph:
            continue
        found: list[list[str]] = []
        frontier = [[candidate]]
        for _ in range(max_depth):
            frontier = [
                path + [caller]
                for path in frontier
                for caller in sorted(graph.predecessors(path[-1]))
                if caller in hot and caller not in path
            ]
            found.extend(frontier)
        out[str(candidate)] = [list(map(str, p)) for p in found[:max_paths]]
    return out


# ----------------------------------------------------------------------------- rankers
class BaseRanker:
    """Base class: subclasses implement ``_node_scores(view, graph) -> (pd.Series, extra)``.

    Args:
        onset: ``"given"``, ``"estimated"`` or a time in ns (default for :meth:`rank`).
        node_rule: Entity -> node rule for frames (default Kubernetes pod -> service).
    """

    name = "base"

    def __init__(self, onset: str | int = "given", node_rule: str = "service") -> None:
        self.onset = onset
        self.node_rule = node_rule

    def fit(self, reference=None) -> BaseRanker:
        """Learn from a fault-free reference (a FaultCase-like object); default: keep it."""
        self.reference_ = reference
        self.inner_ = None
        return self

    def get_params(self) -> dict:
        """Constructor arguments (scikit-learn style)."""
        import inspect

        names = inspect.signature(type(self).__init__).parameters
        return {k: getattr(self, k) for k in names if k != "self"}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def rank(
        self, case_or_windows, node_scores=None, graph=None, *, onset: str | int | None = None
    ) -> RCAResult:
        """Rank the candidate root causes of one case.

        Args:
            case_or_windows: A FaultCase, a DynamicGraph or a list of window ``Data``.
            node_scores: Optional node scores: ``[W, N]`` per window (windows input) or a
                ``pd.Series`` / dict node -> score (any input; used as they are).
            graph: Optional dependency graph: ``nx.DiGraph`` caller -> callee over node
                names, or an ``edge_index`` ``[2, E]`` (or ``(edge_index, weight)``, e.g.
                a learned adjacency) over node ids.
            onset: Overrides the ranker's ``onset`` setting.

        Returns:
            :class:`RCAResult`, best candidate first.
        """
        start = time.perf_counter()
        onset = self.onset if onset is None else onset
        per_node = isinstance(node_scores, (pd.Series, Mapping))
        view = as_case_view(
            case_or_windows, None if per_node else node_scores, onset, self.node_rule
        )
        if per_node:
            given = pd.Series(node_scores, dtype=float)
            view.nodes = sorted(set(view.nodes) | set(given.index))
            scores, extra = self._from_scores(given.reindex(view.nodes).fillna(0.0), view, graph)
        else:
            scores, extra = self._node_scores(view, graph)
        scores = scores.reindex(sorted(set(scores.index) | set(view.nodes))).fillna(0.0)
        scores = scores.sort_values(ascending=False, kind="stable")
        paths = None
        if graph is not None or view.graph.number_of_edges():
            paths = explain_paths(scores, _graph_of(view, graph, self.node_rule))
        extra = dict(extra)
        extra["seconds"] = time.perf_counter() - start
        return RCAResult(
            list(map(str, scores.index)),
            scores.tolist(),
            method=self.name,
            paths=paths,
            onset_ns=view.onset_ns,
            extra=extra,
        )

    def _from_scores(self, scores: pd.Series, view: CaseView, graph):
        return scores, {}

    def _node_scores(self, view: CaseView, graph) -> tuple[pd.Series, dict]:
        raise NotImplementedError

    # helpers shared by rankers
    @staticmethod
    def _aggregate_windows(view: CaseView, agg: str) -> pd.Series:
        scores = view.window_scores
        after = view.window_end > (view.onset_ns if view.onset_ns is not None else -1)
        if not after.any():
            after = np.zeros(len(scores), dtype=bool)
            after[-1] = True
        chosen = scores[after]
        values = chosen.max(axis=0) if agg == "max" else chosen.mean(axis=0)
        return pd.Series(values, index=view.nodes)


class _EvidenceRanker(BaseRanker):
    """A ranker whose case-level scores are the multi-source evidence (no propagation)."""

    def fit(self, reference=None) -> BaseRanker:
        """Keep a fault-free reference and prepare the evidence ranker with it."""
        super().fit(reference)
        _inner(self)
        return self


def _inner(ranker: BaseRanker) -> MultiSourceRanker:
    """The evidence ranker (no propagation) of a case-level Score / PageRank ranker."""
    inner = getattr(ranker, "inner_", None)
    if inner is None:
        inner = MultiSourceRanker(propagation=0.0, node_rule=ranker.node_rule)
        inner.fit(getattr(ranker, "reference_", None))
        ranker.inner_ = inner
    return inner


class ScoreRanker(_EvidenceRanker):
    """Rank by node score alone (callee-unaware).

    With window input, per-node scores are aggregated over the windows after the onset
    (``agg="max"`` or ``"mean"``); with a case, the multi-source evidence
    (:class:`MultiSourceRanker` without propagation) is used.

    Args:
        agg: ``"max"`` or ``"mean"`` over post-onset windows.
        onset, node_rule: See :class:`BaseRanker`.

    Example:
        >>> from torch_geometric.data import Data
        >>> ws = [Data(x=torch.zeros(3, 1, 1), window_end=torch.tensor([t]))
        ...       for t in range(4)]
        >>> s = torch.tensor([[0., 0, 0], [0, 0, 0], [1, 5, 0], [2, 4, 0]])
        >>> ScoreRanker(agg="mean").rank(ws, s, onset=1).nodes
        ['1', '0', '2']
    """

    name = "score"

    def __init__(
        self, agg: str = "max", onset: str | int = "given", node_rule: str = "service"
    ) -> None:
        super().__init__(onset, node_rule)
        self.agg = agg

    def _node_scores(self, view, graph):
        if view.window_scores is not None:
            return self._aggregate_windows(view, self.agg), {}
        return _inner(self)._node_scores(view, graph)


class PageRankRanker(_EvidenceRanker):
    """Propagation-aware ranking: personalised PageRank on the reversed call graph.

    The personalisation is the node score (``node_scores`` aggregated over post-onset
    windows, or the multi-source evidence of a case); the graph is ``graph``, else the
    case's call graph, else the calls seen in its spans, else the windows' edges
    (e.g. a learned adjacency). See :func:`propagation_scores`.

    Args:
        alpha: Damping.
        rho: Weight of backward moves.
        agg: Aggregation of window scores.
        implementation: ``"scipy"`` or ``"torch"``.
        onset, node_rule: See :class:`BaseRanker`.
    """

    name = "pagerank"

    def __init__(
        self,
        alpha: float = 0.85,
        rho: float = 0.2,
        agg: str = "max",
        implementation: str = "scipy",
        onset: str | int = "given",
        node_rule: str = "service",
    ) -> None:
        super().__init__(onset, node_rule)
        self.alpha = alpha
        self.rho = rho
        self.agg = agg
        self.implementation = implementation

    def _walk(self, scores: pd.Series, view: CaseView, graph) -> tuple[pd.Series, dict]:
        g = _graph_of(view, graph, self.node_rule)
        ranked = propagation_scores(
            scores, g, alpha=self.alpha, rho=self.rho, implementation=self.implementation
        )
        return ranked, {"graph_edges": g.number_of_edges()}

    def _from_scores(self, scores, view, graph):
        return self._walk(scores, view, graph)

    def _node_scores(self, view, graph):
        if view.window_scores is not None:
            base = self._aggregate_windows(view, self.agg)
        else:
            base, _ = _inner(self)._node_scores(view, graph)
        return self._walk(base, view, graph)


#: Default source weights: equal. With the default null calibration
#: (:func:`graphad.rca.fusion.calibrate_scores`) every source is in units of its own
#: chance level, so no source needs a hand-set weight (the weights chosen on the Nezha
#: faults before the calibration existed are ablated in benchmarks/RESULTS_rca.md).
DEFAULT_WEIGHTS = {
    "metric": 1.0,
    "latency": 1.0,
    "gap": 1.0,
    "structure": 1.0,
    "error": 1.0,
    "truncation": 1.0,
    "log": 1.0,
    "edge": 1.0,
}

#: Lowest chance level of the sources whose scores are z statistics (standard-error
#: units; :func:`graphad.rca.fusion.calibrate_scores`).
DEFAULT_MIN_LEVELS = {"structure": 1.0, "error": 1.0, "truncation": 1.0, "log": 1.0}


def pseudo_onset(times: np.ndarray, split: float = 0.5, min_side: int = 2) -> int | None:
    """A split point of a fault-free period: a quantile of its distinct times.

    Evidence computed at this point (the part before as reference, the part after as
    "after the onset") shows what each source reports when nothing broke.

    Args:
        times: ``[n]`` int64 ns times of the period.
        split: Quantile of the distinct times (0.5: the middle).
        min_side: Distinct times needed on each side. A reference of one time has no
            spread (its IQR and standard deviation are 0), so evidence against it says
            nothing about chance: 2 is the least that does.

    Returns:
        The pseudo-onset, or ``None`` when either side would have fewer than
        ``min_side`` distinct times (the sources then fall back to the comparison
        across nodes, see :func:`graphad.rca.fusion.calibrate_scores`).

    Example:
        >>> pseudo_onset(np.array([0, 10, 10, 20, 30]))
        15
        >>> pseudo_onset(np.array([0, 60, 120])) is None  # 1 sample before, 2 after
        True
    """
    distinct = np.unique(np.asarray(times, dtype=np.int64))
    if len(distinct) < 2:
        return None
    point = int(np.quantile(distinct, split))
    n_before = int(np.searchsorted(distinct, point))
    if min(n_before, len(distinct) - n_before) < max(min_side, 1):
        return None
    return point


class MultiSourceRanker(BaseRanker):
    """graphad's multi-source ranker: metrics + spans + logs, calibrated, fused.

    Evidence per source (:mod:`graphad.rca.sources`): metric deviations (robust scaling
    on the pre-onset period), span self-time shifts, RPC network-gap shifts (each edge's
    shift attributed to the end that explains it), call-structure changes (Welch z of
    fan-out, z of the entry share), the rate of errors that start at a service (where
    spans carry a status), requests that stop early right after calling a service
    (truncation), log-template changes, and shifts of per-edge metrics such as a
    service mesh's RPC latency at the caller and at the callee (``edge``, attributed
    like the gaps; they also cover calls the traces miss). Each source is calibrated
    against its own chance level -- the same evidence computed at a pseudo-onset in the middle
    of the fault-free data before the onset -- and the sources are summed with
    ``weights`` (:func:`graphad.rca.fusion.fuse_scores`); the result can be blended with
    a propagation-aware random walk on the call graph (``propagation`` is the blend
    weight, 0 = off).

    A fault-free reference (a FaultCase-like object with spans / logs / metrics) given to
    :meth:`fit` is added to the pre-onset spans and logs as reference.

    Args:
        weights: Source -> weight (``metric, latency, gap, structure, error,
            truncation, log, edge``); missing names take :data:`DEFAULT_WEIGHTS`.
        propagation: Weight of the random-walk rank in the final score.
        pre: Reference period before the onset (ns), ``None`` = all.
        post: Period after the onset (ns), ``None`` = all (a slow fault such as a memory
            leak may need minutes to show).
        fusion: ``"sum"`` or ``"max"``.
        normalize: Per-source scaling: ``"null"`` (calibration against the pseudo-onset
            evidence), or ``"robust"``, ``"max"``, ``"rank"`` across nodes.
        metric_floor: Floor of a metric's scale relative to its level.
        gap_attribution: ``"explain"`` or ``"median"`` (:func:`sources.span_gap_scores`;
            also the attribution of the edge metrics).
        structure_statistic: ``"z"`` or ``"relative"``
            (:func:`sources.span_structure_scores`).
        log_statistic: ``"z"`` or ``"relative"`` (:func:`sources.log_scores`).
        shift_margin: Standard errors taken off each latency, gap and edge-metric shift
            before it counts (1: a shift measured on few samples counts only as far as
            it is sure; 0: the plain shift; :func:`sources.span_latency_scores`).
        null_split: Where the pseudo-onset splits the data before the onset (quantile of
            its times, :func:`pseudo_onset`).
        min_levels: Source -> lowest chance level; missing names take
            :data:`DEFAULT_MIN_LEVELS` (1 for the z-statistic sources).
        onset, node_rule: See :class:`BaseRanker`.
    """

    name = "graphad"

    def __init__(
        self,
        weights: Mapping[str, float] | None = None,
        propagation: float = 0.0,
        pre: int | None = None,
        post: int | None = None,
        fusion: str = "sum",
        normalize: str = "null",
        metric_floor: float = 0.05,
        gap_attribution: str = "explain",
        structure_statistic: str = "z",
        log_statistic: str = "z",
        shift_margin: float = 1.0,
        null_split: float = 0.5,
        min_levels: Mapping[str, float] | None = None,
        onset: str | int = "given",
        node_rule: str = "service",
    ) -> None:
        super().__init__(onset, node_rule)
        self.null_split = null_split
        self.min_levels = min_levels
        self.metric_floor = metric_floor
        self.weights = weights
        self.propagation = propagation
        self.pre = pre
        self.post = post
        self.fusion = fusion
        self.normalize = normalize
        self.gap_attribution = gap_attribution
        self.structure_statistic = structure_statistic
        self.log_statistic = log_statistic
        self.shift_margin = shift_margin

    def fit(self, reference=None) -> MultiSourceRanker:
        """Keep a fault-free reference (spans, logs) and pre-compute its span table.

        Args:
            reference: A FaultCase-like object (e.g. ``Nezha.normal_period()``), or None.

        Returns:
            ``self``.
        """
        self.reference_ = reference
        spans = _frame(reference, "spans") if reference is not None else pd.DataFrame()
        self.reference_spans_ = sources.span_table(spans, self.node_rule) if len(spans) else None
        return self

    def _reference_spans(self) -> pd.DataFrame | None:
        if getattr(self, "reference_spans_", None) is not None:
            return self.reference_spans_
        ref = getattr(self, "reference_", None)
        spans = _frame(ref, "spans") if ref is not None else pd.DataFrame()
        return spans if len(spans) else None

    def evidence(self, view: CaseView) -> dict[str, pd.Series]:
        """Per-source node scores of a case view."""
        return self.evidence_and_null(view, null=False)[0]

    def evidence_and_null(
        self, view: CaseView, null: bool = True
    ) -> tuple[dict[str, pd.Series], dict[str, pd.Series]]:
        """Per-source node scores at the onset and at a pseudo-onset before it.

        The pseudo-onset (:func:`pseudo_onset`) splits each source's data before the
        onset (within ``pre``) in two parts (halves by default, ``null_split``); the
        evidence of the second part against the first is what that source reports when
        nothing broke.

        Args:
            view: The case view (with an onset).
            null: Also compute the pseudo-onset evidence.

        Returns:
            ``(evidence, null_evidence)``: source -> node scores (the second dict is
            empty when ``null`` is False or there is no data before the onset).
        """
        onset = view.onset_ns
        out: dict[str, pd.Series] = {}
        chance: dict[str, pd.Series] = {}
        if onset is None:
            return out, chance
        if len(view.metrics):
            scores = self._metric_scores
            self._frame_evidence("metric", view.metrics, scores, onset, null, out, chance)
        if len(view.spans):
            self._span_evidence(view, onset, null, out, chance)
        if len(view.logs):
            self._frame_evidence("log", view.logs, self._log_scores, onset, null, out, chance)
        if len(view.edge_metrics):
            scores = self._edge_scores
            self._frame_evidence("edge", view.edge_metrics, scores, onset, null, out, chance)
        return out, chance

    def _frame_evidence(self, name, frame, scorer, onset, null, out, chance) -> None:
        """Evidence of a ``ts_ns`` frame (metrics, logs) at the onset and the pseudo-onset.

        ``scorer(frame, onset, pre, post)`` gives node scores; at the pseudo-onset it sees
        only the rows before the onset (within ``pre``), unclipped.
        """
        out[name] = scorer(frame, onset, self.pre, self.post)
        if not null:
            return
        before, _ = sources.split_by_onset(frame["ts_ns"].to_numpy(), onset, self.pre)
        earlier = frame[before]
        pseudo = pseudo_onset(earlier["ts_ns"].to_numpy(), self.null_split)
        if pseudo is not None:
            chance[name] = scorer(earlier, pseudo, None, None)

    def _metric_scores(self, metrics, onset, pre, post) -> pd.Series:
        return sources.metric_deviation_scores(
            metrics,
            onset,
            node_rule=self.node_rule,
            pre_ns=pre,
            post_ns=post,
            min_scale=self.metric_floor,
        )

    def _edge_scores(self, edge_metrics, onset, pre, post) -> pd.Series:
        return sources.edge_metric_scores(
            edge_metrics,
            onset,
            node_rule=self.node_rule,
            pre_ns=pre,
            post_ns=post,
            margin=self.shift_margin,
            attribution=self.gap_attribution,
        )

    def _log_scores(self, logs, onset, pre, post) -> pd.Series:
        ref = getattr(self, "reference_", None)
        ref_logs = _frame(ref, "logs") if ref is not None else None
        return sources.log_scores(
            logs,
            onset,
            node_rule=self.node_rule,
            reference=ref_logs if ref_logs is not None and len(ref_logs) else None,
            pre_ns=pre,
            post_ns=post,
            statistic=self.log_statistic,
        )

    def _span_evidence(self, view, onset, null, out, chance) -> None:
        """Span evidence at the onset (into ``out``) and at the pseudo-onset."""
        table = view.span_table(self.node_rule)
        starts = table["start_ns"].to_numpy()
        reference = self._reference_spans()
        options = {
            "gap_attribution": self.gap_attribution,
            "structure_statistic": self.structure_statistic,
            "shift_margin": self.shift_margin,
        }
        before, after = sources.split_by_onset(starts, onset, self.pre, self.post)
        full, b, a = sources.with_reference(table, before, after, reference, self.node_rule)
        out.update(sources.span_scores_from_table(full, b, a, **options))
        if not null:
            return
        earlier, _ = sources.split_by_onset(starts, onset, self.pre)
        pseudo = pseudo_onset(starts[earlier], self.null_split)
        if pseudo is None:
            return
        b0, a0 = earlier & (starts < pseudo), earlier & (starts >= pseudo)
        full, b, a = sources.with_reference(table, b0, a0, reference, self.node_rule)
        chance.update(sources.span_scores_from_table(full, b, a, **options))

    def _node_scores(self, view, graph):
        null: dict[str, pd.Series] = {}
        if view.window_scores is not None:
            base = self._aggregate_windows(view, "max")
            evidence = {"windows": base}
        else:
            evidence, null = self.evidence_and_null(view, self.normalize == "null")
        weights = dict(DEFAULT_WEIGHTS, **(self.weights or {}), windows=1.0)
        fused, table = fuse_scores(
            evidence,
            weights,
            method=self.normalize,
            how=self.fusion,
            nodes=view.nodes or None,
            null=null,
            min_levels=dict(DEFAULT_MIN_LEVELS, **(self.min_levels or {})),
        )
        extra = {
            "sources": {k: table[k].round(4).to_dict() for k in table.columns},
            "chance_level": {k: float(v.max()) for k, v in null.items() if len(v)},
        }
        if self.propagation > 0 and len(fused):
            walk, info = PageRankRanker(node_rule=self.node_rule)._walk(fused, view, graph)
            walk = walk / walk.max() if walk.max() > 0 else walk
            base = fused / fused.max() if fused.max() > 0 else fused
            fused = (1 - self.propagation) * base + self.propagation * walk.reindex(base.index)
            extra.update(info)
        return fused, extra


# ---------------------------------------------------------------------------- registry
RANKERS: dict[str, type[BaseRanker]] = {}


def register_ranker(name: str, cls: type[BaseRanker]) -> type[BaseRanker]:
    """Register a ranker class under ``name`` (lower case)."""
    RANKERS[name.lower()] = cls
    return cls


def get_ranker(name: str | BaseRanker, **kwargs) -> BaseRanker:
    """A ranker instance by registered name (or pass an instance through).

    Example:
        >>> get_ranker("pagerank", alpha=0.9).alpha
        0.9
    """
    if isinstance(name, BaseRanker):
        return name
    from graphad.utils import resolve

    return resolve(name, RANKERS, "ranker")(**kwargs)


for _name, _cls in (
    ("score", ScoreRanker),
    ("pagerank", PageRankRanker),
    ("graphad", MultiSourceRanker),
):
    register_ranker(_name, _cls)
