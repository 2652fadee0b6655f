"""Span gap evidence: shifts of the network gap of RPC pairs, charged to the end that
explains them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from graphad.rca.evidence.stats import check_attribution, edge_node_scores, shift_scores

_EPS = 1e-9


def span_gap_scores(
    table: pd.DataFrame,
    before: np.ndarray,
    after: np.ndarray,
    *,
    min_count: int = 5,
    floor: float = 0.1,
    attribution: str = "explain",
    margin: float = 1.0,
) -> pd.Series:
    """Per node: how much the network gap of its incident RPC edges shifted.

    A network fault at a node slows every edge that touches it, while each of its peers
    sees only one slow edge among several. With ``attribution="median"`` a node scores
    the median shift over its incident edges. That is ambiguous for a leaf, whose only
    edge is slowed as much by a starved *caller* (client-side time counts in the gap)
    as by itself; ``attribution="explain"`` (default) first splits each edge's shift
    between its ends in proportion to how much each end's *other* edges shifted (see
    :func:`attribute_edges`), so the end that explains several slow edges takes them.

    Args:
        table: :func:`span_table` output.
        before: ``[n]`` mask of the reference spans.
        after: ``[n]`` mask of the post-onset spans.
        min_count: Pairs needed on both sides for an edge to count.
        floor: Lowest spread of the log gap.
        attribution: ``"explain"`` or ``"median"``.
        margin: Standard errors taken off each edge's shift (see :func:`shift_scores`).

    Returns:
        Node scores.
    """
    check_attribution(attribution)
    has_gap = table["gap_ns"].notna().to_numpy()
    if not has_gap.any():
        return pd.Series(dtype=float)
    sub = table[has_gap]
    keys = sub[["parent_node", "node"]].rename(columns={"parent_node": "src", "node": "dst"})
    edges = shift_scores(
        sub["gap_ns"], keys, before[has_gap], after[has_gap], min_count, floor, margin
    )
    return edge_node_scores(edges, attribution)
