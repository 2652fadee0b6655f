"""Span latency evidence: shifts of self time per (node, operation)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from graphad.rca.evidence.stats import shift_scores

_EPS = 1e-9


def span_latency_scores(
    table: pd.DataFrame,
    before: np.ndarray,
    after: np.ndarray,
    *,
    min_count: int = 5,
    floor: float = 0.1,
    margin: float = 1.0,
) -> pd.Series:
    """Per node: the largest robust shift of the log self time of its operations.

    Args:
        table: :func:`span_table` output.
        before: ``[n]`` mask of the reference spans.
        after: ``[n]`` mask of the post-onset spans.
        min_count: Spans needed on both sides for a key to count.
        floor: Lowest spread of log self time (0.1 = a 10 % change is one unit).
        margin: Standard errors taken off each shift (see :func:`shift_scores`; 0 =
            the plain shift).

    Returns:
        Node scores.
    """
    own = ~table["is_client"].to_numpy()
    keys = table.loc[own, ["node", "operation"]]
    shifts = shift_scores(
        table.loc[own, "self_ns"], keys, before[own], after[own], min_count, floor, margin
    )
    return shifts.groupby("node")["score"].max() if len(shifts) else pd.Series(dtype=float)
