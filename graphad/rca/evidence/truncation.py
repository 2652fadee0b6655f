"""Span truncation evidence: requests that stop early right after calling a node."""

from __future__ import annotations

import numpy as np
import pandas as pd

from graphad.rca.evidence.spantable import name_codes
from graphad.rca.evidence.stats import count_sides, share_rise, side_codes

_EPS = 1e-9


def _callee_nodes(nodes: np.ndarray, table: pd.DataFrame) -> np.ndarray:
    """``[n]`` node code each span calls.

    Its own node, or, for a span with a child on another node (an RPC client span), that
    child's node.
    """
    parent = table["parent_row"].to_numpy()
    child = np.nonzero(parent >= 0)[0]
    remote = child[nodes[child] != nodes[parent[child]]]
    callee = nodes.copy()
    callee[parent[remote]] = nodes[remote]
    return callee


def _last_children(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the spans with children and, for each, the row of its last-started child."""
    parent = table["parent_row"].to_numpy()
    child = np.nonzero(parent >= 0)[0]
    order = np.lexsort((table["start_ns"].to_numpy()[child], parent[child]))
    child = child[order]
    last = np.r_[parent[child][1:] != parent[child][:-1], True] if len(child) else []
    return parent[child][last], child[last]


def span_truncation_scores(
    table: pd.DataFrame,
    before: np.ndarray,
    after: np.ndarray,
    *,
    min_count: int = 5,
) -> pd.Series:
    """Per node: how much more often requests stop early right after calling it.

    A span is *truncated* when it makes fewer calls than the median of its ``(node,
    operation)`` before the onset; its last-started child says where it stopped, and
    the node that child calls (the child's own node, or for an RPC client span the node
    of its server span) is charged -- an error or a timeout of a callee ends the
    caller's work there, which the structure source charges to the caller itself
    (:func:`span_structure_scores`); the two compete and the other sources decide.
    Spans carry no status in many trace exports, so this is how failing callees are
    seen without one. Per ``(node, operation)`` of the caller and callee node, the share
    of the caller's spans (those with children) truncated after calling it, ``p0``
    before and ``p1`` after, gives the one-sided two-proportion z
    ``max(0, p1 - p0) / sqrt(p (1 - p) (1/n0 + 1/n1))`` with the pooled share ``p``; a
    node scores its largest.

    Needs the ``parent_row`` column of :func:`span_table`.

    Args:
        table: :func:`span_table` output.
        before: ``[n]`` mask of the reference spans.
        after: ``[n]`` mask of the post-onset spans.
        min_count: Caller spans a pattern needs on both sides.

    Returns:
        Node scores (empty without parent links).

    Example:
        >>> t = pd.DataFrame({"node": ["web", "web", "db", "cache"] * 2, "operation": "get",
        ...                   "start_ns": [0, 1, 2, 3] * 2,
        ...                   "n_children": [3, 0, 0, 0, 2, 0, 0, 0],
        ...                   "parent_row": [-1, 0, 0, 0, -1, 4, 4, -1]})
        >>> side = np.arange(8) < 4  # before: web calls db, then cache; after: stops at db
        >>> span_truncation_scores(t, side, ~side, min_count=1).round(3).to_dict()
        {'db': 1.414}
    """
    if "parent_row" not in table.columns or not len(table):
        return pd.Series(dtype=float)
    callers, last = _last_children(table)
    part = side_codes(before, after)[callers]
    keep = part >= 0
    callers, last, part = callers[keep], last[keep], part[keep]
    nodes, names = name_codes(table["node"])
    calls = pd.DataFrame(
        {
            "node": nodes[callers],
            "operation": name_codes(table["operation"])[0][callers],
            "callee": _callee_nodes(nodes, table)[last],
            "n_children": table["n_children"].to_numpy()[callers],
            "part": part,
        }
    )
    usual = calls[calls["part"] == 0].groupby(["node", "operation"])["n_children"].median()
    usual = usual.rename("usual").reset_index()
    calls = calls.merge(usual, on=["node", "operation"], how="left")
    spans = count_sides(calls.groupby(["node", "operation", "part"]).size().unstack(fill_value=0))
    truncated = calls[calls["n_children"] < calls["usual"]]
    keys = ["node", "operation", "callee", "part"]
    stops = count_sides(truncated.groupby(keys).size().unstack(fill_value=0))
    if not len(stops):
        return pd.Series(dtype=float)
    n = spans.reindex(stops.index.droplevel(2), fill_value=0)
    n0, n1 = n[0].to_numpy(dtype=float), n[1].to_numpy(dtype=float)
    c0, c1 = stops[0].to_numpy(dtype=float), stops[1].to_numpy(dtype=float)
    z = share_rise(c0, c1, n0, n1)
    ok = (n0 >= min_count) & (n1 >= min_count)
    callee_names = names[stops.index.get_level_values("callee")]
    scores = pd.Series(np.where(ok, z, 0.0), index=callee_names)
    return scores[scores.index != ""].groupby(level=0).max()
