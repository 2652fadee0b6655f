"""Span structure evidence: changes of what each node calls and of its entry share."""

from __future__ import annotations

import numpy as np
import pandas as pd

from graphad.exceptions import GraphadInputError
from graphad.rca.evidence.stats import (
    change_statistic,
    count_sides,
    mean_of_top,
    share_change,
    side_codes,
)

_EPS = 1e-9


def _fanout_variance(
    parent_row: np.ndarray | None,
    pattern: np.ndarray,
    side: np.ndarray,
    m0: np.ndarray,
    m1: np.ndarray,
    n0: np.ndarray,
    n1: np.ndarray,
) -> np.ndarray:
    """Variance of ``m1 - m0`` for each fan-out pattern (Welch, or Poisson without rows).

    With the calls' ``parent_row``, the variance of the number of calls per parent span
    is measured on each side (spans without such a call count as 0), floored at
    ``1 / (n0 + n1)`` (as if one span made one call more) so that a pattern that never
    varied cannot divide by zero; without it (``None``), calls are taken as Poisson,
    ``m (1/n0 + 1/n1)`` with the pooled mean ``m``.

    Args:
        parent_row: ``[c]`` parent row of each call, or None.
        pattern: ``[c]`` pattern index of each call (into ``m0`` ...).
        side: ``[c]`` 0 before, 1 after.
        m0: ``[p]`` mean calls per parent span before.
        m1: ``[p]`` mean calls per parent span after.
        n0: ``[p]`` parent spans before.
        n1: ``[p]`` parent spans after.

    Returns:
        ``[p]`` variance of ``m1 - m0``.
    """
    n0, n1 = np.maximum(n0, 1), np.maximum(n1, 1)
    if parent_row is None:
        pooled = (m0 * n0 + m1 * n1) / (n0 + n1)
        return pooled * (1 / n0 + 1 / n1)
    n_patterns = len(m0)
    # one integer per (parent span, pattern, side): its count is that span's calls
    key = (parent_row.astype(np.int64) * n_patterns + pattern) * 2 + side
    keys, calls_per_span = np.unique(key, return_counts=True)
    squares = np.bincount(
        keys % (2 * n_patterns), weights=calls_per_span.astype(float) ** 2, minlength=2 * n_patterns
    ).reshape(n_patterns, 2)
    floor = 1.0 / (n0 + n1)
    v0 = np.maximum(squares[:, 0] / n0 - m0**2, floor)
    v1 = np.maximum(squares[:, 1] / n1 - m1**2, floor)
    return v0 / n0 + v1 / n1


def span_structure_scores(
    table: pd.DataFrame,
    before: np.ndarray,
    after: np.ndarray,
    *,
    min_count: int = 5,
    top: int = 3,
    statistic: str = "z",
) -> pd.Series:
    """Per node: how much what it calls, and how often it is entered, changed.

    Two changes per pattern:

    * fan-out: for every ``(node, operation)`` and each ``(child node, child operation)``
      it calls, the mean number of such calls per span, ``m0`` before and ``m1`` after
      (an early return or exception stops calls);
    * entry share: the share of each root ``(node, operation)`` (a span without a
      parent, where requests enter the system) among all root spans of its side,
      ``p0`` and ``p1`` (load changes cancel out). Calls into a node are decided by its
      callers, so a vanished callee operation is charged to the caller through the
      fan-out only.

    ``statistic="z"`` (default) measures a change by its significance: a Welch z for
    the fan-out, ``|m1 - m0| / sqrt(v0/n0 + v1/n1)`` with ``v`` the variance of the
    number of calls per parent span and ``n`` the parent span counts (needs the
    ``parent_row`` column of :func:`span_table`; without it the calls are taken as
    Poisson, ``v = m`` pooled), and a two-proportion z for the entry share -- a 7 %
    drop over thousands of requests counts, a 50 % change over six does not, and a
    pattern whose count varies a lot from request to request (user behaviour) needs a
    larger change.
    ``statistic="relative"`` uses ``|x1 - x0| / max(x0, x1)`` in ``[0, 1]``.

    A node scores the mean of its ``top`` largest pattern changes (a fault changes
    several patterns of its node at once, noise rarely does); patterns with fewer than
    ``min_count`` spans on a side are ignored.

    Args:
        table: :func:`span_table` output.
        before: ``[n]`` mask of the reference spans.
        after: ``[n]`` mask of the post-onset spans.
        min_count: Spans a pattern needs to count.
        top: Number of largest pattern changes averaged per node (1 = the maximum).
        statistic: ``"z"`` or ``"relative"``.

    Returns:
        Node scores.
    """
    if statistic not in ("z", "relative"):
        raise GraphadInputError(
            f"Could not resolve '{statistic}' among choices ['relative', 'z']", field="statistic"
        )
    part = side_codes(before, after)
    names = ["node", "operation", "parent_node", "parent_operation"]
    columns = [*names, "parent_row"] if "parent_row" in table.columns else names
    frame = table[columns].assign(part=part)[part >= 0]
    spans_per = count_sides(
        frame.groupby(["node", "operation", "part"]).size().unstack(fill_value=0)
    )
    totals = spans_per.sum(axis=0)
    if totals[0] == 0 or totals[1] == 0:
        return pd.Series(dtype=float)
    scores = []
    is_call = (frame["parent_node"] != "").to_numpy()
    calls = frame[is_call]
    if len(calls):
        grouped = calls.groupby(["parent_node", "parent_operation", "node", "operation"])
        pattern = grouped.ngroup().to_numpy()
        index = grouped.size().index
        side = calls["part"].to_numpy()
        counts = np.bincount(pattern * 2 + side, minlength=2 * len(index)).reshape(-1, 2)
        n_parent = spans_per.reindex(index.droplevel([2, 3]))
        n0 = n_parent[0].to_numpy(dtype=float)
        n1 = n_parent[1].to_numpy(dtype=float)
        m0 = counts[:, 0] / np.maximum(n0, 1)
        m1 = counts[:, 1] / np.maximum(n1, 1)
        rows = calls["parent_row"].to_numpy() if "parent_row" in calls.columns else None
        var = _fanout_variance(rows, pattern, side, m0, m1, n0, n1)
        ok = (n0 >= min_count) & (n1 >= min_count)
        change = change_statistic(m0, m1, var, statistic)
        scores.append(pd.Series(np.where(ok, change, 0.0), index=index.get_level_values(0)))
    roots = frame[~is_call]
    entries = count_sides(roots.groupby(["node", "operation", "part"]).size().unstack(fill_value=0))
    r0, r1 = float(entries[0].sum()), float(entries[1].sum())
    if len(entries) and r0 > 0 and r1 > 0:
        share = share_change(entries[0], entries[1], r0, r1, statistic).to_numpy()
        ok = (entries[0] + entries[1]) >= min_count
        scores.append(pd.Series(np.where(ok, share, 0.0), index=entries.index.get_level_values(0)))
    if not scores:
        return pd.Series(dtype=float)
    return mean_of_top(pd.concat(scores), top)
