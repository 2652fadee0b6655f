"""Metric evidence: robust deviation of each metric after the onset."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from graphad.exceptions import GraphadInputError
from graphad.graph.rules import NodeRule, resolve_node_rule
from graphad.ingest.schema import require_columns
from graphad.rca.evidence.stats import split_by_onset

_EPS = 1e-9


def _wide(metrics: pd.DataFrame, rule: NodeRule) -> pd.DataFrame:
    """``[T, (node, entity, metric)]`` table of metric values (mean over duplicates)."""
    frame = metrics[["ts_ns", "node", "metric", "value"]].copy()
    frame["entity"] = frame["node"].astype(str)
    frame["node"] = rule(frame["entity"]).to_numpy()
    wide = frame.pivot_table(
        index="ts_ns", columns=["node", "entity", "metric"], values="value", aggfunc="mean"
    )
    return wide.sort_index()


def _centre_scale(values: np.ndarray, scaler: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-column centre and scale (NaN for columns without reference values)."""
    if scaler not in ("robust", "standard"):
        raise GraphadInputError(
            f"Could not resolve '{scaler}' among choices ['robust', 'standard']", field="scaler"
        )
    if scaler == "robust":  # pandas skips NaN per column, vectorised (numpy's nan* loop)
        q25, centre, q75 = pd.DataFrame(values).quantile([0.25, 0.5, 0.75]).to_numpy()
        return centre, q75 - q25
    with warnings.catch_warnings():  # all-NaN columns are handled by the caller
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=0), np.nanstd(values, axis=0)


def metric_deviation_scores(
    metrics: pd.DataFrame,
    onset_ns: int,
    *,
    node_rule: str | NodeRule | None = "identity",
    reference: pd.DataFrame | None = None,
    scaler: str = "robust",
    pre_ns: int | None = None,
    post_ns: int | None = None,
    agg: str = "max",
    min_scale: float = 0.0,
    return_details: bool = False,
) -> pd.Series | tuple[pd.Series, pd.Series]:
    r"""Score nodes by how far their metrics move after the onset (BARO / N-Sigma).

    Each metric series is scaled with the reference period (the samples before the onset,
    or ``reference``): ``z = (x - median) / IQR`` (``scaler="robust"``, BARO) or
    ``z = (x - mean) / std`` (``"standard"``, N-Sigma); a zero scale becomes 1 as in
    scikit-learn's scalers. A metric scores ``max_t |z_t|`` (``agg="max"``) or
    ``mean_t |z_t|`` (``"mean"``) over the samples after the onset; a node scores the
    maximum over its metrics (and entities, e.g. the pods of a service).

    Args:
        metrics: Canonical metrics frame ``ts_ns, node, metric, value``.
        onset_ns: Fault onset.
        node_rule: Entity -> node rule (default: identity).
        reference: Optional fault-free metrics to scale with instead of the pre-onset
            samples.
        scaler: ``"robust"`` or ``"standard"``.
        pre_ns: Use only the last ``pre_ns`` before the onset as reference.
        post_ns: Use only the first ``post_ns`` after the onset.
        agg: ``"max"`` or ``"mean"`` over the post-onset samples.
        min_scale: Floor of the scale relative to ``|centre|`` (0: scikit-learn rule only).
            A floor stops a metric that never moved before from dominating.
        return_details: Also return the per-``(node, entity, metric)`` scores.

    Returns:
        Node scores ``pd.Series`` (sorted, best first); with ``return_details`` also the
        per-metric scores.

    Example:
        >>> m = pd.DataFrame({"ts_ns": [0, 1, 2, 3] * 2, "node": ["a"] * 4 + ["b"] * 4,
        ...                   "metric": "cpu", "value": [1, 2, 3, 9, 5, 5, 6, 6]})
        >>> metric_deviation_scores(m, onset_ns=3, node_rule=None).round(2).to_dict()
        {'a': 7.0, 'b': 2.0}
    """
    require_columns(metrics, ("ts_ns", "node", "metric", "value"), "metrics")
    rule = resolve_node_rule(node_rule)
    wide = _wide(metrics, rule)
    before, after = split_by_onset(wide.index.to_numpy(), onset_ns, pre_ns, post_ns)
    ref = (
        _wide(reference, rule).reindex(columns=wide.columns)
        if reference is not None
        else wide[before]
    )
    post = wide[after]
    if post.empty or ref.dropna(how="all").empty:
        empty = pd.Series(dtype=float)
        return (empty, empty) if return_details else empty
    values = ref.to_numpy(dtype=float)
    centre, scale = _centre_scale(values, scaler)
    scale = np.where(~np.isfinite(scale) | (scale < _EPS), 1.0, scale)
    if min_scale > 0:
        scale = np.maximum(scale, min_scale * np.abs(np.nan_to_num(centre)))
    z = np.abs(post.to_numpy(dtype=float) - centre) / scale
    z = np.where(np.isfinite(z), z, np.nan)
    with warnings.catch_warnings():  # a metric without post-onset values is all-NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        per_metric = np.nanmax(z, axis=0) if agg == "max" else np.nanmean(z, axis=0)
    details = pd.Series(np.nan_to_num(per_metric), index=post.columns)
    nodes = details.groupby(level="node").max().sort_values(ascending=False, kind="stable")
    return (nodes, details) if return_details else nodes
