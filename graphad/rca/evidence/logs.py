"""Log evidence: changes of each node's template mix and of its share of the log volume."""

from __future__ import annotations

import pandas as pd

from graphad.exceptions import GraphadInputError
from graphad.graph.rules import NodeRule, resolve_node_rule
from graphad.ingest.schema import require_columns
from graphad.rca.evidence.stats import mean_of_top, share_change, split_by_onset

_EPS = 1e-9


def log_scores(
    logs: pd.DataFrame,
    onset_ns: int,
    *,
    node_rule: str | NodeRule | None = "identity",
    reference: pd.DataFrame | None = None,
    pre_ns: int | None = None,
    post_ns: int | None = None,
    min_count: int = 5,
    top: int = 3,
    statistic: str = "z",
) -> pd.Series:
    """Per node: how much the mix and the volume of its log templates changed.

    Two changes per node, measured like the call structure
    (:func:`span_structure_scores`):

    * template mix: for each template of a node, its share among the node's log events
      before (``p0``) and after (``p1``) the onset -- a new error template, or a normal
      one that vanished;
    * volume: the node's share of all log events of the system (a load change moves
      every node alike and cancels out).

    ``statistic="z"`` (default) measures each change by its significance, a
    two-proportion z ``|p1 - p0| / sqrt(p (1 - p) (1/n0 + 1/n1))`` with the pooled share
    ``p`` and the event counts ``n`` of each side, so that a new template seen thousands of
    times counts more than one seen twice; ``"relative"`` uses ``|p1 - p0| / max(p0,
    p1)`` in ``[0, 1]``.

    A node scores the mean of its ``top`` largest changes; templates
    with fewer than ``min_count`` events on both sides together are ignored.

    Args:
        logs: Canonical log events ``ts_ns, node, template, count``.
        onset_ns: Fault onset.
        node_rule: Entity -> node rule.
        reference: Optional fault-free log events added to the pre-onset events.
        pre_ns: Clip the pre-onset period to this long before the onset.
        post_ns: Clip the post-onset period to this long.
        min_count: Events a template needs.
        top: Number of largest changes averaged per node.
        statistic: ``"z"`` or ``"relative"``.

    Returns:
        Node scores (empty when there are no logs on one side).

    Example:
        >>> lg = pd.DataFrame({"ts_ns": [0, 1, 2, 10, 11], "node": ["a"] * 5,
        ...                    "template": ["ok", "ok", "ok", "ok", "error <*>"],
        ...                    "count": [3, 3, 3, 3, 6]})
        >>> log_scores(lg, onset_ns=10, node_rule=None, pre_ns=10, post_ns=10,
        ...            top=1, statistic="relative").round(2).to_dict()
        {'a': 1.0}
    """
    if statistic not in ("z", "relative"):
        raise GraphadInputError(
            f"Could not resolve '{statistic}' among choices ['relative', 'z']", field="statistic"
        )
    require_columns(logs, ("ts_ns", "node", "template", "count"), "logs")
    rule = resolve_node_rule(node_rule)
    frame = logs.assign(node=rule(logs["node"].astype(str)).to_numpy())
    before, after = split_by_onset(frame["ts_ns"].to_numpy(), onset_ns, pre_ns, post_ns)
    ref = frame[before]
    if reference is not None and len(reference):
        ref = pd.concat(
            [ref, reference.assign(node=rule(reference["node"].astype(str)).to_numpy())],
            ignore_index=True,
        )
    post = frame[after]
    if ref.empty or post.empty:
        return pd.Series(dtype=float)
    c0 = ref.groupby(["node", "template"])["count"].sum().astype(float)
    c1 = post.groupby(["node", "template"])["count"].sum().astype(float)
    index = c0.index.union(c1.index)
    c0, c1 = c0.reindex(index, fill_value=0.0), c1.reindex(index, fill_value=0.0)
    n0 = c0.groupby(level="node").transform("sum")
    n1 = c1.groupby(level="node").transform("sum")
    share = share_change(c0, c1, n0, n1, statistic).where((c0 + c1) >= min_count, 0.0)
    v0 = c0.groupby(level="node").sum()
    v1 = c1.groupby(level="node").sum()
    volume = share_change(v0, v1, v0.sum(), v1.sum(), statistic)
    every = pd.concat(
        [pd.Series(share.to_numpy(), index=share.index.get_level_values("node")), volume]
    )
    return mean_of_top(every, top)
