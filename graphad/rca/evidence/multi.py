"""Every source of evidence of a case, each against its own chance level, fused.

:class:`MultiSourceEvidence` is the evidence part of the rankers
(``MultiSourceRanker(evidence=MultiSourceEvidence(...))``): for a case view it computes
each source's node scores at the onset (:mod:`graphad.rca.evidence`) and at a
pseudo-onset inside the fault-free data before it (the source's chance level), then
calibrates and fuses them (:func:`graphad.rca.fusion.fuse_scores`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from graphad.rca.evidence.edges import edge_metric_scores
from graphad.rca.evidence.logs import log_scores
from graphad.rca.evidence.metrics import metric_deviation_scores
from graphad.rca.evidence.patterns import EventPatternEvidence
from graphad.rca.evidence.reference import with_reference
from graphad.rca.evidence.spans import span_scores_from_table
from graphad.rca.evidence.spantable import span_table
from graphad.rca.evidence.stats import split_by_onset
from graphad.rca.fusion import fuse_scores
from graphad.utils import ParamsMixin

if TYPE_CHECKING:
    from graphad.rca.view import CaseView

__all__ = [
    "DEFAULT_WEIGHTS",
    "DEFAULT_MIN_LEVELS",
    "EvidenceScores",
    "MultiSourceEvidence",
    "pseudo_onset",
]

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
    # off by default: on the Nezha faults it lifts TrainTicket's AC@3 but costs
    # OnlineBoutique two first places when summed with the others (RESULTS_rca.md)
    "pattern": 0.0,
}

#: Lowest chance level of the sources whose scores are z statistics (standard-error
#: units; :func:`graphad.rca.fusion.calibrate_scores`).
DEFAULT_MIN_LEVELS = {
    "structure": 1.0,
    "error": 1.0,
    "truncation": 1.0,
    "log": 1.0,
    "pattern": 1.0,
}

#: A frame scorer: ``(frame, onset_ns, pre_ns, post_ns) -> node scores``.
FrameScorer = Callable[[pd.DataFrame, int, "int | None", "int | None"], pd.Series]


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


@dataclass
class EvidenceScores:
    """The evidence of one case, per source and fused.

    Attributes:
        fused: Fused node scores, best first.
        table: ``[nodes, sources]`` calibrated (and weighted) scores.
        raw: Source -> raw node scores at the onset.
        chance_level: Source -> the level the source reaches by chance (the largest
            pseudo-onset score, floored by its ``min_levels``); absent for a source
            without a usable null.
        items: Source -> frame ``node, item, before, after, score`` of the items behind
            a node's score (e.g. the metric that moved), where the source gives them.
        null_max: Source -> the largest pseudo-onset score (unfloored), for every
            source with pseudo-onset evidence.
    """

    fused: pd.Series
    table: pd.DataFrame
    raw: dict[str, pd.Series] = field(default_factory=dict)
    chance_level: dict[str, float] = field(default_factory=dict)
    items: dict[str, pd.DataFrame] = field(default_factory=dict)
    null_max: dict[str, float] = field(default_factory=dict)

    @property
    def confidence(self) -> float | None:
        """Strongest raw evidence over its chance level.

        ``None`` (not assessed) when no source has a chance level, or when the
        sources that have one all stay at or below it while a source without one
        (too little data before the onset for a null) shows evidence: then "not
        above chance" is not known.
        """
        ratios = [
            float(self.raw[k].max()) / level
            for k, level in self.chance_level.items()
            if level > 0 and k in self.raw and len(self.raw[k])
        ]
        best = max(ratios) if ratios else None
        if best is not None and best > 1.0:
            return best
        unassessed = any(
            len(self.table)
            and float(self.table[k].max()) > 0
            and not self.chance_level.get(k, 0) > 0
            for k in self.table.columns
        )
        return None if unassessed else best

    def records(self, node: str, top: int = 3) -> list[dict]:
        """The ``top`` strongest evidence records of ``node``, JSON-able.

        Each record: ``source``, ``item`` (metric / operation / template / edge, or
        ``None`` where the source does not name one), ``before``, ``after`` (the item's
        median before and after the onset, or ``None``), ``score`` (raw), ``calibrated``
        and ``chance_level``.
        """
        if node not in self.table.index:
            return []
        row = self.table.loc[node].sort_values(ascending=False, kind="stable")
        out = []
        for source, calibrated in row.items():
            if not calibrated > 0:
                continue
            record = {
                "source": str(source),
                "item": None,
                "before": None,
                "after": None,
                "score": float(self.raw.get(source, pd.Series(dtype=float)).get(node, 0.0)),
                "calibrated": round(float(calibrated), 4),
                "chance_level": self.chance_level.get(source),
            }
            items = self.items.get(source)
            if items is not None and len(items):
                mine = items[items["node"] == node]
                if len(mine):
                    best = mine.sort_values("score", ascending=False, kind="stable").iloc[0]
                    record["item"] = str(best["item"])
                    record["before"] = _plain(best["before"])
                    record["after"] = _plain(best["after"])
            out.append(record)
            if len(out) >= top:
                break
        return out


def _plain(value) -> float | None:
    value = float(value)
    return round(value, 6) if np.isfinite(value) else None


def _metric_items(metrics: pd.DataFrame, details: pd.Series, onset: int) -> pd.DataFrame:
    """``node, item, before, after, score`` of each node's strongest metric."""
    columns = ["node", "item", "before", "after", "score"]
    if not len(details):
        return pd.DataFrame(columns=columns)
    best = details.sort_values(ascending=False, kind="stable").groupby(level="node").head(1)
    keys = pd.MultiIndex.from_arrays(
        [best.index.get_level_values("entity"), best.index.get_level_values("metric")]
    )
    entities = metrics["node"].astype(str)
    chosen = pd.MultiIndex.from_arrays([entities, metrics["metric"]]).isin(keys)
    frame = metrics.loc[chosen, ["metric", "value"]].assign(
        entity=entities[chosen], after=metrics.loc[chosen, "ts_ns"] >= onset
    )
    medians = frame.groupby(["entity", "metric", "after"])["value"].median()
    rows = []
    for (node, entity, metric), score in best.items():
        before = medians.get((entity, metric, False), np.nan)
        after = medians.get((entity, metric, True), np.nan)
        item = metric if entity == node else f"{entity}/{metric}"
        rows.append((node, item, before, after, float(score)))
    return pd.DataFrame(rows, columns=columns)


class MultiSourceEvidence(ParamsMixin):
    """graphad's evidence: metrics + spans + logs + edge metrics, calibrated, fused.

    Evidence per source (:mod:`graphad.rca.evidence`): metric deviations (robust scaling
    on the pre-onset period), span self-time shifts, RPC network-gap shifts (each edge's
    shift attributed to the end that explains it), call-structure changes (Welch z of
    fan-out, z of the entry share), the rate of errors that start at a service (where
    spans carry a status), requests that stop early right after calling a service
    (truncation), log-template changes, and shifts of per-edge metrics such as a
    service mesh's RPC latency at the caller and at the callee (``edge``, attributed
    like the gaps). Each source is calibrated against its own chance level -- the same
    evidence computed at a pseudo-onset in the middle of the fault-free data before the
    onset -- and the sources are summed with ``weights``
    (:func:`graphad.rca.fusion.fuse_scores`).

    A fault-free reference (a :class:`~graphad.ingest.telemetry.Telemetry`) given to
    :meth:`fit` is added to the pre-onset spans and logs as reference. With a
    ``pattern`` weight above 0, the reference also fits the per-span event patterns of
    :class:`~graphad.rca.evidence.patterns.EventPatternEvidence` (calls made, and log
    templates where the logs carry ``span_id`` and ``message`` columns); the source
    then scores the spans after the onset against them (``z`` of deepest deviant
    spans, negative values as 0); its chance level comes from the reference itself
    (its later traces against its earlier ones), not from the period before the onset,
    which may hold an earlier fault.

    Args:
        weights: Source -> weight (``metric, latency, gap, structure, error,
            truncation, log, edge, pattern``); missing names take
            :data:`DEFAULT_WEIGHTS`.
        pre: Reference period before the onset (ns), ``None`` = all.
        post: Period after the onset (ns), ``None`` = all.
        fusion: ``"sum"`` or ``"max"``.
        normalize: Per-source scaling: ``"null"`` (calibration against the pseudo-onset
            evidence), or ``"robust"``, ``"max"``, ``"rank"`` across nodes.
        metric_floor: Floor of a metric's scale relative to its level.
        gap_attribution: ``"explain"`` or ``"median"`` (also for the edge metrics).
        structure_statistic: ``"z"`` or ``"relative"``.
        log_statistic: ``"z"`` or ``"relative"``.
        shift_margin: Standard errors taken off each latency, gap and edge-metric shift.
        null_split: Where the pseudo-onset splits the data before the onset.
        min_levels: Source -> lowest chance level; missing names take
            :data:`DEFAULT_MIN_LEVELS`.
        node_rule: Entity -> node rule for the frames; ``None`` (default): the rule of
            the telemetry scored (the view's) or fitted on.
    """

    def __init__(
        self,
        weights: Mapping[str, float] | None = None,
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
        node_rule: str | None = None,
    ) -> None:
        self.weights = weights
        self.pre = pre
        self.post = post
        self.fusion = fusion
        self.normalize = normalize
        self.metric_floor = metric_floor
        self.gap_attribution = gap_attribution
        self.structure_statistic = structure_statistic
        self.log_statistic = log_statistic
        self.shift_margin = shift_margin
        self.null_split = null_split
        self.min_levels = min_levels
        self.node_rule = node_rule

    def fit(self, reference=None) -> MultiSourceEvidence:
        """Keep a fault-free reference (spans, logs) and pre-compute its span table.

        Args:
            reference: Fault-free :class:`~graphad.ingest.telemetry.Telemetry` (e.g.
                ``Nezha.normal_period()``),
                or ``None``.

        Returns:
            ``self``.
        """
        self.reference_ = reference
        spans = reference.spans if reference is not None else pd.DataFrame()
        rule = self.node_rule
        if rule is None:
            rule = getattr(reference, "node_rule", "identity")
        self.reference_spans_ = span_table(spans, rule) if len(spans) else None
        self.patterns_ = self.patterns_null_ = None
        if dict(DEFAULT_WEIGHTS, **(self.weights or {}))["pattern"] > 0 and len(spans):
            lines = _span_log_lines(reference.logs)
            self.patterns_ = EventPatternEvidence(node_rule=rule).fit(spans, lines)
            self.patterns_null_ = self._pattern_null(spans, lines, rule)
        return self

    def _rule(self, view: CaseView):
        """The node rule for ``view``: this part's own, else the view's."""
        return view.node_rule if self.node_rule is None else self.node_rule

    def _pattern_null(self, spans: pd.DataFrame, lines: pd.DataFrame | None, rule):
        """Pattern ``z`` of the reference's later traces against its earlier ones.

        The chance level of the ``pattern`` source is taken from the fault-free
        reference itself (halves of its traces by start time) rather than from the
        period before the onset, which may hold an earlier fault at the same service.
        ``None`` when the reference has too few distinct times to split.
        """
        first = spans.groupby("trace_id")["start_ns"].transform("min").to_numpy()
        split = pseudo_onset(first, self.null_split)
        if split is None:
            return None
        early = first < split
        half_lines = late_lines = None
        if lines is not None:
            early_ids = set(spans["span_id"].astype(str).to_numpy()[early])
            in_early = lines["span_id"].astype(str).isin(early_ids)
            half_lines, late_lines = lines[in_early], lines[~in_early]
        half = EventPatternEvidence(node_rule=rule).fit(spans[early], half_lines)
        return half.score(spans[~early], late_lines)["z"].clip(lower=0.0)

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
        rule = self._rule(view)
        frames: list[tuple[str, pd.DataFrame, FrameScorer]] = [
            ("metric", view.metrics, functools.partial(self._metric_scores, rule=rule)),
            ("log", view.logs, functools.partial(self._log_scores, rule=rule)),
            ("edge", view.edge_metrics, functools.partial(self._edge_scores, rule=rule)),
        ]
        if len(view.metrics):
            self._frame_evidence(*frames[0], onset, null, out, chance)
        if len(view.spans):
            self._span_evidence(view, onset, null, out, chance)
            if getattr(self, "patterns_", None) is not None:
                self._pattern_evidence(view, onset, null, out, chance)
        for name, frame, scorer in frames[1:]:
            if len(frame):
                self._frame_evidence(name, frame, scorer, onset, null, out, chance)
        return out, chance

    def score(self, view: CaseView) -> EvidenceScores:
        """Every source's evidence of ``view``, calibrated and fused.

        Args:
            view: The case view (with an onset; without one every node scores 0).

        Returns:
            :class:`EvidenceScores`.
        """
        evidence, null = self.evidence_and_null(view, self.normalize == "null")
        min_levels = dict(DEFAULT_MIN_LEVELS, **(self.min_levels or {}))
        fused, table = fuse_scores(
            evidence,
            dict(DEFAULT_WEIGHTS, **(self.weights or {})),
            method=self.normalize,
            how=self.fusion,
            nodes=view.nodes or None,
            null=null,
            min_levels=min_levels,
        )
        levels = {}
        if self.normalize == "null":
            for name in evidence:
                level = float(null[name].max()) if name in null and len(null[name]) else 0.0
                level = max(level if np.isfinite(level) else 0.0, min_levels.get(name, 0.0))
                if level > 0:
                    levels[name] = level
        items = {}
        if "metric" in evidence and view.onset_ns is not None:
            _, details = self._metric_scores(
                view.metrics,
                view.onset_ns,
                self.pre,
                self.post,
                rule=self._rule(view),
                return_details=True,
            )
            items["metric"] = _metric_items(view.metrics, details, view.onset_ns)
        null_max = {k: float(v.max()) for k, v in null.items() if len(v)}
        return EvidenceScores(fused, table, evidence, levels, items, null_max)

    def _frame_evidence(self, name, frame, scorer, onset, null, out, chance) -> None:
        """Evidence of a ``ts_ns`` frame at the onset and at the pseudo-onset.

        ``scorer(frame, onset, pre, post)`` gives node scores; at the pseudo-onset it sees
        only the rows before the onset (within ``pre``), unclipped.
        """
        out[name] = scorer(frame, onset, self.pre, self.post)
        if not null:
            return
        before, _ = split_by_onset(frame["ts_ns"].to_numpy(), onset, self.pre)
        earlier = frame[before]
        pseudo = pseudo_onset(earlier["ts_ns"].to_numpy(), self.null_split)
        if pseudo is not None:
            chance[name] = scorer(earlier, pseudo, None, None)

    def _metric_scores(self, metrics, onset, pre, post, *, rule, return_details=False):
        return metric_deviation_scores(
            metrics,
            onset,
            node_rule=rule,
            pre_ns=pre,
            post_ns=post,
            min_scale=self.metric_floor,
            return_details=return_details,
        )

    def _edge_scores(self, edge_metrics, onset, pre, post, *, rule) -> pd.Series:
        return edge_metric_scores(
            edge_metrics,
            onset,
            node_rule=rule,
            pre_ns=pre,
            post_ns=post,
            margin=self.shift_margin,
            attribution=self.gap_attribution,
        )

    def _log_scores(self, logs, onset, pre, post, *, rule) -> pd.Series:
        ref = getattr(self, "reference_", None)
        ref_logs = ref.logs if ref is not None else None
        return log_scores(
            logs,
            onset,
            node_rule=rule,
            reference=ref_logs if ref_logs is not None and len(ref_logs) else None,
            pre_ns=pre,
            post_ns=post,
            statistic=self.log_statistic,
        )

    def _pattern_evidence(self, view, onset, null, out, chance) -> None:
        """Event-pattern ``z`` after the onset and after a pseudo-onset before it."""
        spans, logs = view.spans, _span_log_lines(view.logs)
        starts = spans["start_ns"].to_numpy()
        log_times = logs["ts_ns"].to_numpy() if logs is not None else None

        def score(lo, hi):
            keep = (starts >= lo) & (starts < hi)
            lines = None
            if logs is not None:
                lines = logs[(log_times >= lo) & (log_times < hi)]
            return self.patterns_.score(spans[keep], lines)["z"].clip(lower=0.0)

        end = onset + self.post if self.post is not None else np.iinfo(np.int64).max
        out["pattern"] = score(onset, end)
        if not null:
            return
        if getattr(self, "patterns_null_", None) is not None:
            chance["pattern"] = self.patterns_null_
            return
        earlier, _ = split_by_onset(starts, onset, self.pre)
        pseudo = pseudo_onset(starts[earlier], self.null_split)
        if pseudo is not None:
            chance["pattern"] = score(pseudo, onset)

    def _reference_spans(self) -> pd.DataFrame | None:
        return getattr(self, "reference_spans_", None)

    def _span_evidence(self, view, onset, null, out, chance) -> None:
        """Span evidence at the onset (into ``out``) and at the pseudo-onset."""
        rule = self._rule(view)
        table = view.span_table(rule)
        starts = table["start_ns"].to_numpy()
        reference = self._reference_spans()
        options = {
            "gap_attribution": self.gap_attribution,
            "structure_statistic": self.structure_statistic,
            "shift_margin": self.shift_margin,
        }
        before, after = split_by_onset(starts, onset, self.pre, self.post)
        full, b, a = with_reference(table, before, after, reference, rule)
        out.update(span_scores_from_table(full, b, a, **options))
        if not null:
            return
        earlier, _ = split_by_onset(starts, onset, self.pre)
        pseudo = pseudo_onset(starts[earlier], self.null_split)
        if pseudo is None:
            return
        b0, a0 = earlier & (starts < pseudo), earlier & (starts >= pseudo)
        full, b, a = with_reference(table, b0, a0, reference, rule)
        chance.update(span_scores_from_table(full, b, a, **options))


def _span_log_lines(logs: pd.DataFrame | None) -> pd.DataFrame | None:
    """The log lines that name their span (``span_id`` and ``message``), else ``None``."""
    if logs is None or not len(logs) or not {"span_id", "message"} <= set(logs.columns):
        return None
    return logs
