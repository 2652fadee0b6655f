"""All span evidence of one case at once (latency, gap, structure, error, truncation)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from graphad.graph.rules import NodeRule
from graphad.rca.evidence.errors import span_error_scores
from graphad.rca.evidence.gap import span_gap_scores
from graphad.rca.evidence.latency import span_latency_scores
from graphad.rca.evidence.reference import with_reference
from graphad.rca.evidence.spantable import span_table
from graphad.rca.evidence.stats import split_by_onset
from graphad.rca.evidence.structure import span_structure_scores
from graphad.rca.evidence.truncation import span_truncation_scores

_EPS = 1e-9

#: The evidence :func:`span_scores` returns.
SPAN_SOURCES = ("latency", "gap", "structure", "error", "truncation")


def span_scores_from_table(
    table: pd.DataFrame,
    before: np.ndarray,
    after: np.ndarray,
    *,
    min_count: int = 5,
    gap_attribution: str = "explain",
    structure_statistic: str = "z",
    shift_margin: float = 1.0,
) -> dict[str, pd.Series]:
    """``{"latency", "gap", "structure", "error", "truncation"}`` scores of a table split.

    Args:
        table: :func:`span_table` output (the case's spans, plus any reference rows).
        before: ``[n]`` mask of the reference spans.
        after: ``[n]`` mask of the spans to compare with them.
        min_count: Spans a key needs on both sides.
        gap_attribution: See :func:`span_gap_scores`.
        structure_statistic: See :func:`span_structure_scores`.
        shift_margin: Standard errors taken off each latency and gap shift.

    Returns:
        A dict of node-score series.
    """
    return {
        "latency": span_latency_scores(
            table, before, after, min_count=min_count, margin=shift_margin
        ),
        "gap": span_gap_scores(
            table,
            before,
            after,
            min_count=min_count,
            attribution=gap_attribution,
            margin=shift_margin,
        ),
        "structure": span_structure_scores(
            table, before, after, min_count=min_count, statistic=structure_statistic
        ),
        "error": span_error_scores(table, before, after, min_count=min_count),
        "truncation": span_truncation_scores(table, before, after, min_count=min_count),
    }


def span_scores(
    spans: pd.DataFrame,
    onset_ns: int,
    *,
    node_rule: str | NodeRule | None = "identity",
    reference: pd.DataFrame | None = None,
    pre_ns: int | None = None,
    post_ns: int | None = None,
    min_count: int = 5,
    gap_attribution: str = "explain",
    structure_statistic: str = "z",
    shift_margin: float = 1.0,
) -> dict[str, pd.Series]:
    """All span evidence: ``{"latency", "gap", "structure", "error", "truncation"}``.

    Args:
        spans: Canonical spans around the onset.
        onset_ns: Fault onset.
        node_rule: Entity -> node rule.
        reference: Optional fault-free spans (or their :func:`span_table`, to reuse it)
            used as extra reference: they are added to the pre-onset spans.
        pre_ns: Clip the pre-onset reference to this long before the onset.
        post_ns: Clip the post-onset period to this long.
        min_count: Spans a key needs on both sides.
        gap_attribution: See :func:`span_gap_scores`.
        structure_statistic: See :func:`span_structure_scores`.
        shift_margin: Standard errors taken off each latency and gap shift.

    Returns:
        A dict of node-score series (empty series when there are no spans).
    """
    if not len(spans):
        return {k: pd.Series(dtype=float) for k in SPAN_SOURCES}
    table = span_table(spans, node_rule)
    before, after = split_by_onset(table["start_ns"].to_numpy(), onset_ns, pre_ns, post_ns)
    table, before, after = with_reference(table, before, after, reference, node_rule)
    return span_scores_from_table(
        table,
        before,
        after,
        min_count=min_count,
        gap_attribution=gap_attribution,
        structure_statistic=structure_statistic,
        shift_margin=shift_margin,
    )
