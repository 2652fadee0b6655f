"""Edge-metric evidence: shifts of per caller -> callee series, charged to the end
that explains them.
"""

from __future__ import annotations

import pandas as pd

from graphad.graph.rules import NodeRule, resolve_node_rule
from graphad.ingest.schema import require_columns
from graphad.rca.evidence.stats import (
    check_attribution,
    edge_node_scores,
    shift_scores,
    split_by_onset,
)

_EPS = 1e-9


def edge_metric_scores(
    edge_metrics: pd.DataFrame,
    onset_ns: int,
    *,
    node_rule: str | NodeRule | None = "identity",
    pre_ns: int | None = None,
    post_ns: int | None = None,
    min_count: int = 2,
    floor: float = 0.1,
    margin: float = 1.0,
    attribution: str = "explain",
) -> pd.Series:
    """Per node: how much the metrics of its call-graph edges shifted after the onset.

    Edge metrics are series per ``caller -> callee`` edge, such as the median RPC
    latency seen at the caller (it includes the network) and at the callee (its own
    handling time), sampled every minute by a service mesh. They cover every edge,
    including calls the traces miss. Each ``(src, dst, metric)`` series scores the
    robust shift of its log value (median after against median before, in units of
    the spread before, less one standard error: :func:`shift_scores` with ``log``), an
    edge scores its largest metric, and the edge shifts are charged to the ends that
    explain them as for the span network gaps (:func:`span_gap_scores`): a node whose
    every edge slowed takes them, its peers with one slow edge among several do not.

    Args:
        edge_metrics: Canonical edge metrics ``ts_ns, src, dst, metric, value``.
        onset_ns: Fault onset.
        node_rule: Entity -> node rule, applied to ``src`` and ``dst``.
        pre_ns: Use only the last ``pre_ns`` before the onset as reference.
        post_ns: Use only the first ``post_ns`` from the onset on.
        min_count: Samples a series needs on both sides (2: the least with a spread).
        floor: Lowest spread of the log value (0.1 = a 10 % change is one unit).
        margin: Standard errors taken off each shift (0 = the plain shift).
        attribution: ``"explain"`` or ``"median"`` (see :func:`span_gap_scores`).

    Returns:
        Node scores (empty without samples on both sides).

    Example:
        >>> import numpy as np
        >>> t = np.repeat(np.arange(6), 3)
        >>> e = pd.DataFrame({"ts_ns": t, "src": ["web", "web", "api"] * 6,
        ...                   "dst": ["api", "db", "db"] * 6, "metric": "p50_s",
        ...                   "value": np.where((t >= 3) & (np.arange(18) % 3 > 0), 0.8, 0.1)})
        >>> s = edge_metric_scores(e, onset_ns=3, node_rule=None, margin=0.0)
        >>> s.round(2).to_dict()  # both edges into db slowed 8x: ln(8) / 0.1
        {'api': 0.0, 'db': 20.79, 'web': 0.0}
    """
    require_columns(edge_metrics, ("ts_ns", "src", "dst", "metric", "value"), "edge_metrics")
    check_attribution(attribution)
    if not len(edge_metrics):
        return pd.Series(dtype=float)
    rule = resolve_node_rule(node_rule)
    keys = pd.DataFrame(
        {
            "src": rule(edge_metrics["src"].astype(str)).to_numpy(),
            "dst": rule(edge_metrics["dst"].astype(str)).to_numpy(),
            "metric": edge_metrics["metric"].astype(str).to_numpy(),
        }
    )
    before, after = split_by_onset(edge_metrics["ts_ns"].to_numpy(), onset_ns, pre_ns, post_ns)
    values = pd.Series(edge_metrics["value"].to_numpy(dtype=float))
    shifts = shift_scores(values, keys, before, after, min_count, floor, margin, log="log")
    return edge_node_scores(shifts, attribution)
