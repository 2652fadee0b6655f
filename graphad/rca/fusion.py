"""Fusing node evidence from several sources into one root-cause score.

The rule (documented in ``benchmarks/RESULTS_rca.md`` and ablated there):

1. **per-source calibration against a null** (``method="null"``, the default of
   :class:`graphad.rca.rankers.MultiSourceRanker`): the same evidence is computed at a
   *pseudo-onset* inside the fault-free period before the onset (first half of the
   reference against its second half); its largest node score is the level that source
   reaches by chance. A source's scores become ``u = log1p(s / max(null))``: how many
   times above its own chance level a node stands, with diminishing returns, so sources
   with different units (robust z of a metric, shift of a latency, a Poisson z of call
   counts) can be added without hand-set weights. Sources whose scores are z
   statistics (standard-error units) take a chance level of at least 1 (``min_levels``):
   a one-sided share test is exactly 0 for most patterns in fault-free data, and a
   level near 0 would make any blip look infinitely significant. Any other source
   without a usable null (no pre-onset data, or a null of 0) falls back to (2);
2. **robust normalisation across nodes** (``method="robust"``):
   ``u = max(0, (s - median(s)) / (1.4826 * MAD(s) + eps * median(s) + eps))``, i.e. how
   many robust standard deviations a node stands out from the other nodes *in that
   source*, capped at ``cap`` so a degenerate source (MAD = 0) cannot drown the others
   (``log1p`` of it in the ``"null"`` fallback, to match the scale of (1));
3. **weighted sum** over the sources present for the case (a missing source adds 0);
4. optionally a propagation-aware re-ranking (see
   :class:`graphad.rca.rankers.PageRankRanker`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from graphad.exceptions import GraphadInputError

__all__ = ["normalize_scores", "calibrate_scores", "fuse_scores"]

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


def calibrate_scores(
    scores: pd.Series, null: pd.Series | None, cap: float = 10.0, min_level: float = 0.0
) -> pd.Series:
    """Scores in units of their chance level: ``log1p(s / max(max(null), min_level))``.

    Args:
        scores: Node scores of one source.
        null: The same source's node scores at a pseudo-onset in fault-free data. When
            absent, empty or all zero and ``min_level`` is 0, the robust normalisation
            across nodes is used instead (``log1p`` of :func:`normalize_scores`).
        cap: Cap of that fallback.
        min_level: Lowest chance level. For a source whose scores are z statistics
            (standard-error units) a level below 1 is noise, not a chance level.

    Returns:
        Calibrated scores, same index.

    Example:
        >>> s = pd.Series({"a": 1.0, "b": 12.0})
        >>> calibrate_scores(s, pd.Series({"a": 2.0, "b": 3.0})).round(3).to_dict()
        {'a': 0.288, 'b': 1.609}
        >>> calibrate_scores(s, pd.Series({"a": 0.0, "b": 0.1}), min_level=1.0).round(3).to_dict()
        {'a': 0.693, 'b': 2.565}
    """
    values = scores.astype(float).fillna(0.0).clip(lower=0.0)
    level = float(null.astype(float).fillna(0.0).max()) if null is not None and len(null) else 0.0
    level = max(level if np.isfinite(level) else 0.0, min_level)
    if level <= 0:
        return np.log1p(normalize_scores(values, "robust", cap))
    return np.log1p(values / level)


def fuse_scores(
    sources: Mapping[str, pd.Series],
    weights: Mapping[str, float] | None = None,
    *,
    method: str = "robust",
    how: str = "sum",
    cap: float = 10.0,
    nodes: list[str] | None = None,
    null: Mapping[str, pd.Series] | None = None,
    min_levels: Mapping[str, float] | None = None,
) -> tuple[pd.Series, pd.DataFrame]:
    """Combine per-source node scores (see the module docstring for the rule).

    Args:
        sources: Source name -> node scores. Empty series are skipped.
        weights: Source name -> weight (default 1 for every source).
        method: ``"null"`` (:func:`calibrate_scores` against ``null``) or a
            normalisation of :func:`normalize_scores`.
        how: ``"sum"`` (weighted sum) or ``"max"`` (weighted max).
        cap: Cap of the robust normalisation.
        nodes: All candidate nodes (missing scores count as 0); default: the union.
        null: Source name -> node scores at a pseudo-onset in fault-free data (for
            ``method="null"``).
        min_levels: Source name -> lowest chance level (``min_level`` of
            :func:`calibrate_scores`; default 0).

    Returns:
        ``(fused, table)``: fused node scores sorted best first, and the normalised
        per-source table ``[nodes, sources]``.

    Example:
        >>> fused, _ = fuse_scores({"m": pd.Series({"a": 1.0, "b": 9.0, "c": 1.1}),
        ...                         "s": pd.Series({"a": 0.1, "b": 0.1, "c": 0.1})})
        >>> fused.index[0]
        'b'
    """
    if method not in ("null", "robust", "max", "rank"):
        raise GraphadInputError(
            f"Could not resolve '{method}' among choices ['max', 'null', 'rank', 'robust']",
            field="method",
        )
    weights = dict(weights or {})
    present = {k: v for k, v in sources.items() if v is not None and len(v)}
    index = pd.Index(
        nodes
        if nodes is not None
        else sorted(set().union(*[set(v.index) for v in present.values()]))
    )
    table = pd.DataFrame(index=index)
    for name, series in present.items():
        values = series.reindex(index).fillna(0.0)
        if method == "null":
            floor = float((min_levels or {}).get(name, 0.0))
            scaled = calibrate_scores(values, (null or {}).get(name), cap, floor)
        else:
            scaled = normalize_scores(values, method, cap)
        table[name] = scaled * float(weights.get(name, 1.0))
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
