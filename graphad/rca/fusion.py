"""Fusing node evidence from several sources into one root-cause score.

The rule (documented in ``benchmarks/RESULTS_rca.md`` and ablated there):

1. **per-source robust normalisation across nodes**: each source's scores ``s`` become
   ``u = max(0, (s - median(s)) / (1.4826 * MAD(s) + eps * median(s) + eps))``, i.e. how
   many robust standard deviations a node stands out from the other nodes *in that
   source*; a source that singles out one node speaks loudly, a source that moves every
   node by the same amount (load change) says nothing. ``u`` is then capped at ``cap``
   so a single degenerate source (MAD = 0) cannot drown the others;
2. **weighted sum** over the sources present for the case (a missing source adds 0);
3. optionally a propagation-aware re-ranking (see
   :class:`graphad.rca.rankers.PageRankRanker`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from graphad.exceptions import GraphadInputError

__all__ = ["normalize_scores", "fuse_scores"]

_EPS = 1e-6


def normalize_scores(scores: pd.Series, method: str = "robust", cap: float = 10.0) -> pd.Series:
    """Normalise one source's node scores across nodes.

    Args:
        scores: Node scores of one source (NaN counts as 0).
        method: ``"robust"`` (robust z across nodes, clipped at 0, capped at ``cap``),
            ``"max"`` (divide by the largest score) or ``"rank"`` (``1 - (rank-1)/N``).
        cap: Upper bound of the robust z.

    Returns:
        Normalised scores, same index.

    Example:
        >>> s = pd.Series({"a": 1.0, "b": 1.2, "c": 0.8, "d": 5.0})
        >>> normalize_scores(s).round(2).to_dict()
        {'a': 0.0, 'b': 0.34, 'c': 0.0, 'd': 10.0}
    """
    values = scores.astype(float).fillna(0.0)
    if values.empty:
        return values
    if method == "max":
        top = values.max()
        return values / top if top > 0 else values * 0.0
    if method == "rank":
        ranks = values.rank(ascending=False, method="min")
        return 1.0 - (ranks - 1.0) / len(values)
    if method != "robust":
        raise GraphadInputError(
            f"Could not resolve '{method}' among choices ['max', 'rank', 'robust']", field="method"
        )
    median = float(values.median())
    mad = float((values - median).abs().median()) * 1.4826
    scale = mad + _EPS * abs(median) + _EPS
    return ((values - median) / scale).clip(lower=0.0, upper=cap)


def fuse_scores(
    sources: Mapping[str, pd.Series],
    weights: Mapping[str, float] | None = None,
    *,
    method: str = "robust",
    how: str = "sum",
    cap: float = 10.0,
    nodes: list[str] | None = None,
) -> tuple[pd.Series, pd.DataFrame]:
    """Combine per-source node scores (see the module docstring for the rule).

    Args:
        sources: Source name -> node scores. Empty series are skipped.
        weights: Source name -> weight (default 1 for every source).
        method: Normalisation, see :func:`normalize_scores`.
        how: ``"sum"`` (weighted sum) or ``"max"`` (weighted max).
        cap: Cap of the robust normalisation.
        nodes: All candidate nodes (missing scores count as 0); default: the union.

    Returns:
        ``(fused, table)``: fused node scores sorted best first, and the normalised
        per-source table ``[nodes, sources]``.

    Example:
        >>> fused, _ = fuse_scores({"m": pd.Series({"a": 1.0, "b": 9.0, "c": 1.1}),
        ...                         "s": pd.Series({"a": 0.1, "b": 0.1, "c": 0.1})})
        >>> fused.index[0]
        'b'
    """
    weights = dict(weights or {})
    present = {k: v for k, v in sources.items() if v is not None and len(v)}
    index = pd.Index(
        nodes
        if nodes is not None
        else sorted(set().union(*[set(v.index) for v in present.values()]))
    )
    table = pd.DataFrame(index=index)
    for name, series in present.items():
        table[name] = normalize_scores(series.reindex(index).fillna(0.0), method, cap) * float(
            weights.get(name, 1.0)
        )
    if table.shape[1] == 0:
        fused = pd.Series(np.zeros(len(index)), index=index)
    elif how == "sum":
        fused = table.sum(axis=1)
    elif how == "max":
        fused = table.max(axis=1)
    else:
        raise GraphadInputError(
            f"Could not resolve '{how}' among choices ['max', 'sum']", field="how"
        )
    return fused.sort_values(ascending=False, kind="stable"), table
