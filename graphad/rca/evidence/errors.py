"""Span error evidence: the rate of errors that start at a node."""

from __future__ import annotations

import numpy as np
import pandas as pd

from graphad.rca.evidence.stats import count_sides, share_rise, side_codes

_EPS = 1e-9


def span_error_scores(
    table: pd.DataFrame,
    before: np.ndarray,
    after: np.ndarray,
    *,
    min_count: int = 5,
) -> pd.Series:
    """Per node: how much the rate of errors that *start* at it rose (two-proportion z).

    An error starts at a span whose status is an error while no child's is: a caller
    whose span fails only because its callee's did is not charged (with a
    ``parent_row`` column; without it every error span counts). Per ``(node,
    operation)``, the share of such spans before (``p0``) and after (``p1``) gives
    ``max(0, p1 - p0) / sqrt(p (1 - p) (1/n0 + 1/n1))`` with the pooled share ``p``; a
    node scores its largest.

    Args:
        table: :func:`span_table` output (``status`` 1 = error).
        before: ``[n]`` mask of the reference spans.
        after: ``[n]`` mask of the post-onset spans.
        min_count: Spans an operation needs on both sides.

    Returns:
        Node scores (empty when no span has an error status).

    Example:
        >>> t = pd.DataFrame({"node": ["db"] * 8, "operation": "q",
        ...                   "status": [0, 0, 0, 0, 0, 1, 1, 1], "parent_row": -1})
        >>> side = np.arange(8) < 4
        >>> span_error_scores(t, side, ~side, min_count=4).round(3).to_dict()
        {'db': 2.191}
    """
    status = table["status"].to_numpy() != 0 if "status" in table.columns else np.zeros(0)
    if not status.any():
        return pd.Series(dtype=float)
    own = status.copy()
    if "parent_row" in table.columns:
        parent = table["parent_row"].to_numpy()
        failing_child = status & (parent >= 0)
        own[parent[failing_child]] = False  # the error came from below
    part = side_codes(before, after)
    frame = pd.DataFrame(
        {"node": table["node"], "operation": table["operation"], "own": own, "part": part}
    )
    frame = frame[frame["part"] >= 0]
    grouped = frame.groupby(["node", "operation", "part"])["own"]
    spans = count_sides(grouped.size().unstack(fill_value=0))
    errors = count_sides(grouped.sum().unstack(fill_value=0))
    n0, n1 = spans[0].to_numpy(dtype=float), spans[1].to_numpy(dtype=float)
    e0, e1 = errors[0].to_numpy(dtype=float), errors[1].to_numpy(dtype=float)
    z = share_rise(e0, e1, n0, n1)
    ok = (n0 >= min_count) & (n1 >= min_count)
    scores = pd.Series(np.where(ok, z, 0.0), index=spans.index.get_level_values(0))
    return scores.groupby(level=0).max()
