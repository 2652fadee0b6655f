"""What a ranker sees of its input: :class:`CaseView`, built explicitly.

A view is made from a fault case or a fault-free period (:meth:`CaseView.from_case`:
frames of metrics, spans, logs and edge metrics, with the case's call graph) or from
the windows of a dynamic graph with per-window node scores
(:meth:`CaseView.from_windows`: node names from the graph's vocabulary). Rankers read
only views; they never read ``root_cause`` or ``fault_type``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd
import torch

from graphad.exceptions import GraphadInputError
from graphad.graph.dynamic import DynamicGraph
from graphad.graph.rules import NodeRule, resolve_node_rule
from graphad.graph.vocab import NodeVocab
from graphad.ingest.telemetry import Incident, Telemetry
from graphad.rca.evidence.spantable import span_table
from graphad.rca.onset import estimate_frames_onset, mean_shift_point

__all__ = ["CaseView", "resolve_onset"]


def resolve_onset(onset: str | int) -> int:
    """A time in ns from an ``onset`` argument that is neither ``"given"`` nor ``"estimated"``."""
    try:
        return int(onset)
    except (TypeError, ValueError):
        raise GraphadInputError(
            "unreadable onset",
            field="onset",
            expected="'given', 'estimated' or a time in ns",
            found=repr(onset),
        ) from None


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


def _unrankable(obj: object) -> GraphadInputError:
    return GraphadInputError(
        "cannot rank this input",
        field="case_or_windows",
        expected="a Telemetry (an Incident, a FaultCase), a DynamicGraph or a list of window Data",
        found=type(obj).__name__,
    )


def _window_names(windows: list) -> list[str] | None:
    """Node names stored on the windows themselves (``node_names``), if any."""
    first = windows[0]
    if "node_names" in first.keys():
        return [str(n) for n in first.node_names]
    return None


@dataclass
class CaseView:
    """What a ranker sees of its input.

    Build it with :meth:`from_case` or :meth:`from_windows`.

    Attributes:
        onset_ns: The onset used (ns), or ``None`` when unknown.
        metrics, spans, logs: Canonical frames (may be empty).
        edge_metrics: Canonical edge metrics ``ts_ns, src, dst, metric, value`` (may be
            empty).
        nodes: Candidate node names.
        window_scores: ``[W, N]`` node scores per window (windows input), else ``None``.
        window_end: ``[W]`` window end times (ns) for ``window_scores``.
        graph: The dependency graph, caller -> callee, over node names (may be empty);
            edge attribute ``weight`` when the edges are weighted.
        case_id: The case's id, if any.
        node_rule: The rule that named the nodes (the telemetry's, unless the ranker
            set one; ``"identity"`` for windows).
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
    node_rule: str | NodeRule = "identity"
    _span_tables: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def span_table(self, node_rule: str | NodeRule | None = None) -> pd.DataFrame:
        """:func:`graphad.rca.evidence.span_table` of :attr:`spans`, built once per rule.

        The evidence and the call graph read from the spans share it. ``node_rule``:
        ``None`` is the view's own.
        """
        node_rule = self.node_rule if node_rule is None else node_rule
        if node_rule not in self._span_tables:
            self._span_tables[node_rule] = span_table(self.spans, node_rule)
        return self._span_tables[node_rule]

    def has_span_table(self, node_rule: str | NodeRule | None = None) -> bool:
        """Whether the span table of ``node_rule`` has been built (the spans were read)."""
        return (self.node_rule if node_rule is None else node_rule) in self._span_tables

    @classmethod
    def from_case(
        cls,
        case: Telemetry,
        onset: str | int = "given",
        node_rule: str | NodeRule | None = None,
    ) -> CaseView:
        """The view of a fault case (or of a fault-free period), onset resolved.

        Args:
            case: A :class:`~graphad.ingest.telemetry.Telemetry`: an
                :class:`~graphad.ingest.telemetry.Incident` (with its onset) or fault-free
                telemetry.
            onset: ``"given"`` (the case's ``onset_ns``; estimated when it is ``None``),
                ``"estimated"`` (:func:`graphad.rca.onset.estimate_frames_onset`), or a
                time in ns.
            node_rule: Entity -> node rule for the frames; ``None``: the telemetry's
                ``node_rule``.

        Returns:
            The view; its nodes are every node named by the frames (else the call graph).

        Raises:
            GraphadInputError: ``case`` is not one of those types, or the onset is unreadable.
        """
        if not isinstance(case, Telemetry):
            raise _unrankable(case)
        view = cls(
            onset_ns=None,
            metrics=case.metrics,
            spans=case.spans,
            logs=case.logs,
            edge_metrics=case.edge_metrics,
            case_id=case.case_id if isinstance(case, Incident) else None,
            node_rule=case.node_rule if node_rule is None else node_rule,
        )
        rule = resolve_node_rule(view.node_rule)
        names: set[str] = set()
        if len(view.metrics):
            names |= set(rule(view.metrics["node"].astype(str).unique()))
        if len(view.spans):
            names |= set(rule(view.spans["service"].astype(str).unique()))
        if len(view.edge_metrics):
            for end in ("src", "dst"):
                names |= set(rule(view.edge_metrics[end].astype(str).unique()))
        if case.call_graph is not None:
            view.graph = case.call_graph
            if not names:
                names = {str(n) for n in case.call_graph.nodes}
        view.nodes = sorted(names)
        given = case.onset_ns if isinstance(case, Incident) else None
        if onset == "given" and given is not None:
            view.onset_ns = int(given)
        elif onset in ("given", "estimated"):
            has_data = len(view.metrics) or len(view.spans)
            view.onset_ns = estimate_frames_onset(view.spans, view.metrics) if has_data else None
        else:
            view.onset_ns = resolve_onset(onset)
        return view

    @classmethod
    def from_windows(
        cls,
        windows: DynamicGraph | Sequence,
        node_scores: torch.Tensor | np.ndarray | None = None,
        *,
        vocab: NodeVocab | Sequence[str] | None = None,
        onset: str | int | None = "estimated",
    ) -> CaseView:
        """The view of the windows of a dynamic graph with per-window node scores.

        Args:
            windows: A :class:`~graphad.graph.DynamicGraph` or a list of its window
                ``Data`` (each with ``x: [N, T, F]`` and ``window_end``).
            node_scores: ``[W, N]`` node scores (e.g. a detector's ``decision_function``);
                ``None``: robust z of the raw features against the windows before the onset.
            vocab: The node names (a :class:`~graphad.graph.NodeVocab` or a list), needed
                when ``windows`` is a plain list whose windows carry no ``node_names``.
            onset: A time in ns (honoured as given), or ``"estimated"``: the end of the
                last window before the mean-shift change point of the largest node score
                per window. ``"given"`` means "the onset passed here" and fails without one.

        Returns:
            The view over the graph's node names.

        Raises:
            GraphadInputError: The node names cannot be known, ``node_scores`` has the
                wrong shape, or the onset is missing or unreadable.
        """
        names: list[str] | None = None
        if isinstance(windows, DynamicGraph):
            names = list(windows.vocab.names)
            windows = list(windows.windows)
        elif isinstance(windows, Sequence) and len(windows) and not isinstance(windows, str):
            windows = list(windows)
            names = _window_names(windows)
        else:
            raise _unrankable(windows)
        if vocab is not None:
            names = list(vocab.names) if isinstance(vocab, NodeVocab) else [str(v) for v in vocab]
        n = int(windows[0].x.shape[0])
        if names is None:
            raise GraphadInputError(
                "the node names of these windows are unknown",
                field="vocab",
                expected="a DynamicGraph, windows with node_names, or vocab= / node_names=",
                found="a list of windows without names",
            )
        if len(names) != n:
            raise GraphadInputError(
                "one node name per node is needed",
                field="vocab",
                expected=f"{n} names",
                found=len(names),
            )
        ends = np.array([int(w.window_end.view(-1)[0]) for w in windows], dtype=np.int64)
        view = cls(onset_ns=None, nodes=list(names), window_end=ends)
        if node_scores is not None:
            scores = np.asarray(
                node_scores.detach().cpu() if torch.is_tensor(node_scores) else node_scores,
                dtype=float,
            )
            if scores.shape != (len(windows), n):
                raise GraphadInputError(
                    "node_scores must have one score per window and node",
                    field="node_scores",
                    expected=f"[{len(windows)}, {n}]",
                    found=list(scores.shape),
                )
        if onset == "given" or onset is None:
            raise GraphadInputError(
                "windows carry no onset",
                field="onset",
                expected="a time in ns or 'estimated'",
                found=repr(onset),
            )
        given = None if onset == "estimated" else resolve_onset(onset)
        if node_scores is None:
            scores = _window_feature_scores(windows, given, ends)
        view.window_scores = scores
        if given is None:
            # the end of the last window before the change point, so that the first
            # anomalous window counts as "after the onset"
            k = mean_shift_point(np.nanmax(scores, axis=1)) if len(ends) >= 2 else 0
            view.onset_ns = int(ends[k - 1]) if k > 0 else int(ends[0]) - 1
        else:
            view.onset_ns = given
        graph = nx.DiGraph()
        graph.add_nodes_from(names)
        for w in windows:
            if w.edge_index is not None and w.edge_index.numel():
                src, dst = w.edge_index.tolist()
                graph.add_edges_from(
                    (names[a], names[b]) for a, b in zip(src, dst, strict=True) if a != b
                )
        view.graph = graph
        return view
