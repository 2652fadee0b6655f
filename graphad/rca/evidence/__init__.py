"""Per-node evidence for root-cause ranking, one module per kind of evidence.

Every scorer compares the telemetry after a fault onset with a reference (the period
before the onset, or a fault-free period) and returns one non-negative score per node (a
``pd.Series`` indexed by node name, higher = more suspicious). Raw entity names (pods)
are mapped to nodes (services) with a node rule (:mod:`graphad.graph.rules`).

* :mod:`~graphad.rca.evidence.metrics`: robust deviation of each metric;
* :mod:`~graphad.rca.evidence.edges`: shifts of per caller -> callee metrics;
* spans, over the span table of :mod:`~graphad.rca.evidence.spantable` (self time,
  parent node): :mod:`~graphad.rca.evidence.latency` (self-time shifts),
  :mod:`~graphad.rca.evidence.gap` (network gaps of RPC pairs),
  :mod:`~graphad.rca.evidence.structure` (what a node calls, its entry share),
  :mod:`~graphad.rca.evidence.errors` (errors that start at a node),
  :mod:`~graphad.rca.evidence.truncation` (requests that stop after calling a node),
  all at once with :mod:`~graphad.rca.evidence.spans`; a fault-free reference joins the
  span table through :mod:`~graphad.rca.evidence.reference`;
* :mod:`~graphad.rca.evidence.logs`: changes of the template mix and log volume;
* :mod:`~graphad.rca.evidence.patterns`: per-span event patterns (calls made, log
  templates written) against a fault-free reference, blamed on the deepest deviant
  span; :mod:`~graphad.rca.evidence.templates`: the bounded log-template set mined once
  on that reference;
* :mod:`~graphad.rca.evidence.stats`: the statistics they share (sides, shares, robust
  shifts with a standard-error margin, attribution of edge shifts to their ends);
* :mod:`~graphad.rca.evidence.multi`: :class:`MultiSourceEvidence`, every source against
  its chance level, fused (the evidence part of the rankers).

Adding a source: write ``<kind>.py`` here with a scorer ``(frame, onset_ns, *, node_rule,
pre_ns, post_ns, ...) -> pd.Series`` (node -> score >= 0, computed only from the rows it
is given, so that the same call at a pseudo-onset on the pre-onset rows is its chance
level); call it from :meth:`MultiSourceEvidence.evidence_and_null` (a ``ts_ns`` frame
through ``_frame_evidence(name, frame, scorer, ...)``, span-table evidence inside
``_span_evidence``), add ``name`` to :data:`DEFAULT_WEIGHTS` (1.0) and, if its scores are
z statistics, to :data:`DEFAULT_MIN_LEVELS` (1.0). Calibration (``log1p(score /
chance level)``) and fusion then need nothing more; item-level records (``node, item,
before, after, score``) go into :attr:`EvidenceScores.items` under the source's name.
"""

from graphad.rca.evidence.edges import edge_metric_scores
from graphad.rca.evidence.errors import span_error_scores
from graphad.rca.evidence.gap import span_gap_scores
from graphad.rca.evidence.latency import span_latency_scores
from graphad.rca.evidence.logs import log_scores
from graphad.rca.evidence.metrics import metric_deviation_scores
from graphad.rca.evidence.multi import (
    DEFAULT_MIN_LEVELS,
    DEFAULT_WEIGHTS,
    EvidenceScores,
    MultiSourceEvidence,
    pseudo_onset,
)
from graphad.rca.evidence.patterns import EventPatternEvidence, span_events
from graphad.rca.evidence.reference import with_reference
from graphad.rca.evidence.spans import SPAN_SOURCES, span_scores, span_scores_from_table
from graphad.rca.evidence.spantable import span_table
from graphad.rca.evidence.stats import split_by_onset
from graphad.rca.evidence.structure import span_structure_scores
from graphad.rca.evidence.templates import ReferenceTemplates
from graphad.rca.evidence.truncation import span_truncation_scores

__all__ = [
    "MultiSourceEvidence",
    "EvidenceScores",
    "DEFAULT_WEIGHTS",
    "DEFAULT_MIN_LEVELS",
    "pseudo_onset",
    "split_by_onset",
    "metric_deviation_scores",
    "edge_metric_scores",
    "span_table",
    "span_latency_scores",
    "span_gap_scores",
    "span_structure_scores",
    "span_error_scores",
    "span_truncation_scores",
    "span_scores",
    "span_scores_from_table",
    "SPAN_SOURCES",
    "with_reference",
    "log_scores",
    "EventPatternEvidence",
    "span_events",
    "ReferenceTemplates",
]
