"""Per-source node evidence for root-cause ranking: metrics, edge metrics, spans, logs.

Every function here compares the telemetry after a fault onset with a reference (the
period before the onset, or a fault-free period given by the user) and returns one
non-negative score per node (a ``pd.Series`` indexed by node name, higher = more
suspicious). Raw entity names (pods) are mapped to nodes (services) with a node rule
(:mod:`graphad.graph.rules`), so the same code serves any system.

Span evidence is decomposed so that a change is charged to the node that causes it:

* **self time**: a span's duration minus the time covered by its children, per
  ``(node, operation)`` -- CPU starvation or slow code of a node lengthens its own self
  time, not that of its callers;
* **network gap**: for an RPC pair (a span of node ``A`` whose only child is a span of
  another node ``B``), the client duration minus the server duration -- the time spent
  on the wire; it is charged to both ends, and a node scores by the *median* deviation over
  its incident edges, so the node whose every edge is slowed wins over its callers;
* **call structure**: for every span, the number of child calls of each
  ``(child node, child operation)`` it makes -- early returns and exceptions change what a
  node calls, charged to the calling node; the mix of entry operations counts too;
* **truncation**: a request that stops early (a span making fewer calls than its
  operation usually makes) stopped at its *last* call -- an error or a timeout of the
  callee ends the caller's work there -- so the node called last is charged.

Log evidence is the change of each node's template mix and of its share of the log
volume. Edge metrics (per ``caller -> callee`` series such as a service mesh's RPC
latency) are shifted like the span gaps and charged to the end that explains them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from graphad.exceptions import GraphadInputError
from graphad.graph.calls import span_parents
from graphad.graph.rules import NodeRule, resolve_node_rule
from graphad.ingest.schema import require_columns

__all__ = [
    "split_by_onset",
    "metric_deviation_scores",
    "edge_metric_scores",
    "span_table",
    "span_latency_scores",
    "span_gap_scores",
    "span_structure_scores",
    "span_error_scores",
    "span_truncation_scores",
    "span_scores",
    "span_scores_from_table",
    "with_reference",
    "log_scores",
]

_EPS = 1e-9

#: The evidence :func:`span_scores` returns.
SPAN_SOURCES = ("latency", "gap", "structure", "error", "truncation")


#: Standard error of a sample median in units of the spread: sqrt(pi / 2) / sqrt(n).
_MEDIAN_SE = float(np.sqrt(np.pi / 2))


def split_by_onset(
    times: np.ndarray | pd.Series,
    onset_ns: int,
    pre_ns: int | None = None,
    post_ns: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the samples before ``onset_ns`` and from it on, optionally clipped.

    Args:
        times: ``[n]`` int64 ns timestamps.
        onset_ns: The onset.
        pre_ns: Keep only the last ``pre_ns`` before the onset (``None``: all).
        post_ns: Keep only the first ``post_ns`` from the onset on (``None``: all).

    Returns:
        ``(before, after)`` boolean masks of shape ``[n]``.

    Example:
        >>> b, a = split_by_onset(np.array([0, 5, 10, 15]), 10, pre_ns=5)
        >>> b.tolist(), a.tolist()
        ([False, True, False, False], [False, False, True, True])
    """
    t = np.asarray(times, dtype=np.int64)
    before = t < onset_ns
    after = t >= onset_ns
    if pre_ns is not None:
        before &= t >= onset_ns - int(pre_ns)
    if post_ns is not None:
        after &= t < onset_ns + int(post_ns)
    return before, after


# ----------------------------------------------------------------------------- metrics
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
    node_rule: str | NodeRule | None = "service",
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
        node_rule: Entity -> node rule (default: Kubernetes pod -> service).
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


# -------------------------------------------------------------------------- edge metrics
def edge_metric_scores(
    edge_metrics: pd.DataFrame,
    onset_ns: int,
    *,
    node_rule: str | NodeRule | None = "service",
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
    the spread before, less one standard error: :func:`_shift_scores` with ``log``), an
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
        >>> t = np.repeat(np.arange(6), 3)
        >>> e = pd.DataFrame({"ts_ns": t, "src": ["web", "web", "api"] * 6,
        ...                   "dst": ["api", "db", "db"] * 6, "metric": "p50_s",
        ...                   "value": np.where((t >= 3) & (np.arange(18) % 3 > 0), 0.8, 0.1)})
        >>> s = edge_metric_scores(e, onset_ns=3, node_rule=None, margin=0.0)
        >>> s.round(2).to_dict()  # both edges into db slowed 8x: ln(8) / 0.1
        {'api': 0.0, 'db': 20.79, 'web': 0.0}
    """
    require_columns(edge_metrics, ("ts_ns", "src", "dst", "metric", "value"), "edge_metrics")
    _check_attribution(attribution)
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
    shifts = _shift_scores(values, keys, before, after, min_count, floor, margin, log="log")
    return _edge_node_scores(shifts, attribution)


# ------------------------------------------------------------------------------- spans
def span_table(spans: pd.DataFrame, node_rule: str | NodeRule | None = "service") -> pd.DataFrame:
    """Spans with their node, parent node, self time and RPC network gap.

    Args:
        spans: Canonical spans frame.
        node_rule: Entity (``service`` column, e.g. pod) -> node rule.

    Returns:
        A frame with ``trace_id`` (integer code), ``node, operation, start_ns,
        duration_ns, status, parent_node, parent_operation, self_ns, n_children, gap_ns,
        is_client, parent_row`` (``parent_node`` is ``""`` and ``parent_row`` -1 for a
        root, else the parent's row; ``gap_ns`` is NaN unless the span's parent is an RPC
        client span of another node with this span as its only child; ``is_client``
        marks such client spans, and spans whose ``kind`` says ``client`` or
        ``producer``: their time is spent waiting on another node even when the callee's
        span is missing). The four name columns are categoricals.

    Example:
        >>> s = pd.DataFrame({"trace_id": "t", "span_id": ["1", "2", "3"],
        ...                   "parent_id": ["", "1", "2"], "service": ["a", "a", "b"],
        ...                   "operation": ["GET", "b.Call", "b.Call"],
        ...                   "start_ns": [0, 10, 12], "duration_ns": [100, 50, 40]})
        >>> t = span_table(s, node_rule=None)
        >>> t[["node", "parent_node", "self_ns", "gap_ns"]].values.tolist()
        [['a', '', 50, nan], ['a', 'a', 10, nan], ['b', 'a', 40, 10.0]]
    """
    require_columns(
        spans, ("trace_id", "span_id", "parent_id", "service", "start_ns", "duration_ns"), "spans"
    )
    rule = resolve_node_rule(node_rule)
    trace_codes, _ = _factorize_text(spans["trace_id"])
    n = len(spans)
    entity_codes, entities = _factorize_text(spans["service"])
    node_names = np.asarray(rule(pd.Series(entities, dtype=object)).to_numpy(), dtype=object)
    node_of_entity, node_uniques = pd.factorize(node_names)
    node_codes, node_categories = _codes_with_blank(node_of_entity[entity_codes], node_uniques)
    operation_codes, operation_categories = _codes_with_blank(
        *_factorize_text(spans["operation"] if "operation" in spans else pd.Series([""] * n))
    )
    table = pd.DataFrame(
        {
            "trace_id": trace_codes,
            "node": pd.Categorical.from_codes(node_codes, node_categories),
            "operation": pd.Categorical.from_codes(operation_codes, operation_categories),
            "start_ns": spans["start_ns"].to_numpy(dtype=np.int64),
            "duration_ns": spans["duration_ns"].to_numpy(dtype=np.int64),
            "status": (spans["status"].to_numpy(dtype=np.int64) if "status" in spans else 0),
        }
    )
    position = span_parents(spans)  # duplicate ids: the first; a span is not its parent
    has_parent = position >= 0
    parent_pos = np.where(has_parent, position, 0)
    for column, codes, categories in (
        ("parent_node", node_codes, node_categories),
        ("parent_operation", operation_codes, operation_categories),
    ):
        blank = len(categories) - 1  # "" is the last category
        parent_codes = np.where(has_parent, codes[parent_pos] if n else codes, blank)
        table[column] = pd.Categorical.from_codes(parent_codes, categories)
    n = len(table)
    child_time = (
        np.bincount(
            position[has_parent], weights=table["duration_ns"].to_numpy()[has_parent], minlength=n
        )
        if n
        else np.zeros(0)
    )
    n_children = np.bincount(position[has_parent], minlength=n) if n else np.zeros(0, int)
    table["self_ns"] = np.maximum(table["duration_ns"].to_numpy() - child_time, 0).astype(np.int64)
    table["n_children"] = n_children.astype(np.int64)
    parent_duration = table["duration_ns"].to_numpy()[parent_pos]
    rpc = has_parent & ((node_codes[parent_pos] if n else node_codes) != node_codes)
    rpc &= n_children[parent_pos] == 1 if n else rpc
    gap = np.where(rpc, parent_duration - table["duration_ns"].to_numpy(), np.nan)
    table["gap_ns"] = np.where(gap >= 0, gap, np.nan) if n else gap
    # an RPC client span: its only child runs on another node (its self time is a gap)
    is_client = np.zeros(n, dtype=bool)
    if n:
        is_client[parent_pos[rpc]] = True
    if "kind" in spans.columns:
        is_client |= spans["kind"].isin(("client", "producer")).to_numpy()
    table["is_client"] = is_client
    table["parent_row"] = np.where(has_parent, position, -1).astype(np.int64)
    return table


_NAME_COLUMNS = ("node", "operation", "parent_node", "parent_operation")


def _factorize_text(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and unique texts of a column (Arrow strings are encoded in place)."""
    codes, uniques = pd.factorize(column.astype(str), use_na_sentinel=False)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)


def _codes_with_blank(codes: np.ndarray, uniques) -> tuple[np.ndarray, pd.Index]:
    """Category codes and categories with ``""`` (no parent) as the last category.

    Categorical name columns let every group-by of the evidence skip hashing strings.
    """
    names = [str(u) for u in uniques]
    if "" in names:  # keep "" last: move it there
        blank = names.index("")
        order = np.array([i for i in range(len(names)) if i != blank] + [blank])
        remap = np.empty(len(names), dtype=np.int64)
        remap[order] = np.arange(len(names))
        return remap[np.asarray(codes, dtype=np.int64)], pd.Index(
            [names[i] for i in order], dtype=object
        )
    return np.asarray(codes, dtype=np.int64), pd.Index([*names, ""], dtype=object)


def _parts(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """``[n]`` side of each row: 0 before, 1 after, -1 neither."""
    return np.where(before, 0, np.where(after, 1, -1))


def _share_variance(pooled, n0, n1):
    """Variance of the difference of two shares (pooled share ``pooled``, sizes ``n0, n1``)."""
    return pooled * (1 - pooled) * (1 / np.maximum(n0, 1) + 1 / np.maximum(n1, 1))


def _shares(c0, c1, n0, n1):
    """Shares ``c / n`` of the two sides and the variance of their difference."""
    p0 = c0 / np.maximum(n0, _EPS)
    p1 = c1 / np.maximum(n1, _EPS)
    pooled = (c0 + c1) / np.maximum(n0 + n1, _EPS)
    return p0, p1, _share_variance(pooled, n0, n1)


def _share_change(c0, c1, n0, n1, statistic: str):
    """Change of a share ``c / n`` between two sides (:func:`_change`: z or relative)."""
    return _change(*_shares(c0, c1, n0, n1), statistic)


def _share_rise(c0, c1, n0, n1):
    """Rise of a share ``c / n`` as a one-sided two-proportion z (0 when it fell)."""
    p0, p1, var = _shares(c0, c1, n0, n1)
    return np.maximum(p1 - p0, 0.0) / np.sqrt(np.maximum(var, _EPS))


def _shift_scores(
    values: pd.Series,
    keys: pd.DataFrame,
    before: np.ndarray,
    after: np.ndarray,
    min_count: int,
    floor: float,
    margin: float = 1.0,
    log: str = "log1p",
) -> pd.DataFrame:
    """Robust shift of ``log1p(values)`` per key, less ``margin`` standard errors.

    ``score = max(|median after - median before| - margin * SE, 0) / spread before``,
    where the spreads are IQR / 1.349 of each side (at least ``floor``) and ``SE =
    1.2533 * sqrt(spread0^2 / n0 + spread1^2 / n1)`` is the standard error of a
    difference of two medians (1.2533 = sqrt(pi / 2)). With ``margin=1`` a shift
    measured on few spans counts only as far as it is sure; with many spans the SE
    vanishes and the score is the plain shift.

    ``log="log"`` takes ``log(values)`` instead, for values in any unit (seconds of
    latency, say) where ``log1p`` would not be scale-free; values <= 0 are left out.

    Returns a frame with the key columns and ``score, n_before, n_after``.
    """
    frame = keys.copy()
    raw = values.to_numpy(dtype=float)
    if log == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["v"] = np.where(raw > 0, np.log(np.where(raw > 0, raw, 1.0)), np.nan)
    else:
        frame["v"] = np.log1p(np.maximum(raw, 0.0))
    frame["part"] = _parts(before, after)
    frame = frame[(frame["part"] >= 0) & np.isfinite(frame["v"])]
    cols = list(keys.columns)
    grouped = frame.groupby(cols + ["part"], sort=False)["v"]
    stats = grouped.quantile([0.25, 0.5, 0.75]).unstack(-1)
    stats["n"] = grouped.size()
    stats = stats.unstack("part")
    if (
        stats.empty
        or 0 not in stats.columns.get_level_values(1)
        or 1 not in stats.columns.get_level_values(1)
    ):
        return pd.DataFrame(columns=cols + ["score", "n_before", "n_after"])
    n0, n1 = stats[("n", 0)].fillna(0), stats[("n", 1)].fillna(0)
    spread0, spread1 = (
        np.maximum(((stats[(0.75, p)] - stats[(0.25, p)]) / 1.349).fillna(0.0), floor)
        for p in (0, 1)
    )
    error = _MEDIAN_SE * np.sqrt(spread0**2 / n0.clip(lower=1) + spread1**2 / n1.clip(lower=1))
    delta = (stats[(0.5, 1)] - stats[(0.5, 0)]).abs()
    shift = np.maximum(delta - margin * error, 0.0) / spread0
    ok = (n0 >= min_count) & (n1 >= min_count)
    out = pd.DataFrame({"score": np.where(ok, shift, 0.0), "n_before": n0, "n_after": n1})
    return out.reset_index()


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
        margin: Standard errors taken off each shift (see :func:`_shift_scores`; 0 =
            the plain shift).

    Returns:
        Node scores.
    """
    own = ~table["is_client"].to_numpy()
    keys = table.loc[own, ["node", "operation"]]
    shifts = _shift_scores(
        table.loc[own, "self_ns"], keys, before[own], after[own], min_count, floor, margin
    )
    return shifts.groupby("node")["score"].max() if len(shifts) else pd.Series(dtype=float)


def _attribute_edges(edges: pd.DataFrame) -> pd.Series:
    """Split each edge's shift between its two ends, then score nodes by the median share.

    An edge ``u -> v`` whose gap shifted is explained by whichever end also shifted its
    *other* edges: the share of ``u`` is ``d * m_u / (m_u + m_v)`` where ``m_x`` is the
    median shift of the other edges of ``x`` (the median of all edges for an end without
    other edges, i.e. "as normal as the system"). A node scores the median of its shares.

    Args:
        edges: Frame ``src, dst, score`` (one row per edge, ``score >= 0``).

    Returns:
        Node scores.
    """
    shift = edges["score"].to_numpy(dtype=float)
    ends = np.stack([edges["src"].to_numpy(dtype=object), edges["dst"].to_numpy(dtype=object)])
    typical = float(np.median(shift))
    incident: dict[str, list[int]] = {}
    for i, (u, v) in enumerate(ends.T):
        incident.setdefault(u, []).append(i)
        incident.setdefault(v, []).append(i)

    def others(node: str, edge: int) -> float:
        rest = [shift[j] for j in incident[node] if j != edge]
        return float(np.median(rest)) if rest else typical

    shares: dict[str, list[float]] = {n: [] for n in incident}
    for i, (u, v) in enumerate(ends.T):
        m_u, m_v = others(u, i), others(v, i)
        w_u = m_u / (m_u + m_v) if m_u + m_v > 0 else 0.5
        shares[u].append(shift[i] * w_u)
        shares[v].append(shift[i] * (1.0 - w_u))
    return pd.Series({n: float(np.median(v)) for n, v in shares.items()}, dtype=float)


def _check_attribution(attribution: str) -> None:
    if attribution not in ("explain", "median"):
        raise GraphadInputError(
            f"Could not resolve '{attribution}' among choices ['explain', 'median']",
            field="attribution",
        )


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
    :func:`_attribute_edges`), so the end that explains several slow edges takes them.

    Args:
        table: :func:`span_table` output.
        before: ``[n]`` mask of the reference spans.
        after: ``[n]`` mask of the post-onset spans.
        min_count: Pairs needed on both sides for an edge to count.
        floor: Lowest spread of the log gap.
        attribution: ``"explain"`` or ``"median"``.
        margin: Standard errors taken off each edge's shift (see :func:`_shift_scores`).

    Returns:
        Node scores.
    """
    _check_attribution(attribution)
    has_gap = table["gap_ns"].notna().to_numpy()
    if not has_gap.any():
        return pd.Series(dtype=float)
    sub = table[has_gap]
    keys = sub[["parent_node", "node"]].rename(columns={"parent_node": "src", "node": "dst"})
    edges = _shift_scores(
        sub["gap_ns"], keys, before[has_gap], after[has_gap], min_count, floor, margin
    )
    return _edge_node_scores(edges, attribution)


def _edge_node_scores(edges: pd.DataFrame, attribution: str) -> pd.Series:
    """Node scores from per-edge shifts (``src, dst, score``; several rows per edge allowed).

    An edge scores its largest row; ``"explain"`` splits each edge between its ends
    (:func:`_attribute_edges`), ``"median"`` gives a node the median over its edges.
    """
    if not len(edges):
        return pd.Series(dtype=float)
    edges = edges.groupby(["src", "dst"], as_index=False)["score"].max()
    if attribution == "explain":
        return _attribute_edges(edges)
    incident = pd.concat(
        [
            edges[["src", "score"]].rename(columns={"src": "node"}),
            edges[["dst", "score"]].rename(columns={"dst": "node"}),
        ]
    )
    return incident.groupby("node")["score"].median()


def _change(before: np.ndarray, after: np.ndarray, var: np.ndarray, statistic: str) -> np.ndarray:
    """``|after - before|`` as a z statistic (``/ sqrt(var)``) or relative to the larger."""
    diff = np.abs(after - before)
    if statistic == "z":
        return diff / np.sqrt(np.maximum(var, _EPS))
    return diff / np.maximum(np.maximum(before, after), _EPS)


def _sides(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns 0 (before) and 1 (after) of a count table, added when absent."""
    return frame.reindex(columns=[0, 1], fill_value=0)


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
    part = _parts(before, after)
    names = ["node", "operation", "parent_node", "parent_operation"]
    columns = [*names, "parent_row"] if "parent_row" in table.columns else names
    frame = table[columns].assign(part=part)[part >= 0]
    spans_per = _sides(frame.groupby(["node", "operation", "part"]).size().unstack(fill_value=0))
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
        change = _change(m0, m1, var, statistic)
        scores.append(pd.Series(np.where(ok, change, 0.0), index=index.get_level_values(0)))
    roots = frame[~is_call]
    entries = _sides(roots.groupby(["node", "operation", "part"]).size().unstack(fill_value=0))
    r0, r1 = float(entries[0].sum()), float(entries[1].sum())
    if len(entries) and r0 > 0 and r1 > 0:
        share = _share_change(entries[0], entries[1], r0, r1, statistic).to_numpy()
        ok = (entries[0] + entries[1]) >= min_count
        scores.append(pd.Series(np.where(ok, share, 0.0), index=entries.index.get_level_values(0)))
    if not scores:
        return pd.Series(dtype=float)
    return _mean_of_top(pd.concat(scores), top)


def _mean_of_top(changes: pd.Series, top: int) -> pd.Series:
    """Per node (index level 0): the mean of its ``top`` largest changes."""
    if top <= 1:
        return changes.groupby(level=0).max()
    return changes.groupby(level=0).apply(
        lambda v: float(np.sort(v.to_numpy())[::-1][:top].sum() / top)
    )


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
    part = _parts(before, after)
    frame = pd.DataFrame(
        {"node": table["node"], "operation": table["operation"], "own": own, "part": part}
    )
    frame = frame[frame["part"] >= 0]
    grouped = frame.groupby(["node", "operation", "part"])["own"]
    spans = _sides(grouped.size().unstack(fill_value=0))
    errors = _sides(grouped.sum().unstack(fill_value=0))
    n0, n1 = spans[0].to_numpy(dtype=float), spans[1].to_numpy(dtype=float)
    e0, e1 = errors[0].to_numpy(dtype=float), errors[1].to_numpy(dtype=float)
    z = _share_rise(e0, e1, n0, n1)
    ok = (n0 >= min_count) & (n1 >= min_count)
    scores = pd.Series(np.where(ok, z, 0.0), index=spans.index.get_level_values(0))
    return scores.groupby(level=0).max()


def _name_codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and names of a name column.

    The column is categorical (as :func:`span_table` makes it) or plain text.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), column.cat.categories
    codes, names = pd.factorize(column)
    return codes, pd.Index(names)


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
    part = _parts(before, after)[callers]
    keep = part >= 0
    callers, last, part = callers[keep], last[keep], part[keep]
    nodes, names = _name_codes(table["node"])
    calls = pd.DataFrame(
        {
            "node": nodes[callers],
            "operation": _name_codes(table["operation"])[0][callers],
            "callee": _callee_nodes(nodes, table)[last],
            "n_children": table["n_children"].to_numpy()[callers],
            "part": part,
        }
    )
    usual = calls[calls["part"] == 0].groupby(["node", "operation"])["n_children"].median()
    usual = usual.rename("usual").reset_index()
    calls = calls.merge(usual, on=["node", "operation"], how="left")
    spans = _sides(calls.groupby(["node", "operation", "part"]).size().unstack(fill_value=0))
    truncated = calls[calls["n_children"] < calls["usual"]]
    keys = ["node", "operation", "callee", "part"]
    stops = _sides(truncated.groupby(keys).size().unstack(fill_value=0))
    if not len(stops):
        return pd.Series(dtype=float)
    n = spans.reindex(stops.index.droplevel(2), fill_value=0)
    n0, n1 = n[0].to_numpy(dtype=float), n[1].to_numpy(dtype=float)
    c0, c1 = stops[0].to_numpy(dtype=float), stops[1].to_numpy(dtype=float)
    z = _share_rise(c0, c1, n0, n1)
    ok = (n0 >= min_count) & (n1 >= min_count)
    callee_names = names[stops.index.get_level_values("callee")]
    scores = pd.Series(np.where(ok, z, 0.0), index=callee_names)
    return scores[scores.index != ""].groupby(level=0).max()


def span_scores_from_table(
    table: pd.DataFrame,
    before: np.ndarray,
    after: np.ndarray,
    *,
    min_count: int = 5,
    gap_attribution: str = "explain",
    structure_statistic: str = "z",
    shift_margin: float = 1.0,
) -> dict[str, pd.Series]:
    """``{"latency", "gap", "structure", "error", "truncation"}`` scores of a table split.

    Args:
        table: :func:`span_table` output (the case's spans, plus any reference rows).
        before: ``[n]`` mask of the reference spans.
        after: ``[n]`` mask of the spans to compare with them.
        min_count: Spans a key needs on both sides.
        gap_attribution: See :func:`span_gap_scores`.
        structure_statistic: See :func:`span_structure_scores`.
        shift_margin: Standard errors taken off each latency and gap shift.

    Returns:
        A dict of node-score series.
    """
    return {
        "latency": span_latency_scores(
            table, before, after, min_count=min_count, margin=shift_margin
        ),
        "gap": span_gap_scores(
            table,
            before,
            after,
            min_count=min_count,
            attribution=gap_attribution,
            margin=shift_margin,
        ),
        "structure": span_structure_scores(
            table, before, after, min_count=min_count, statistic=structure_statistic
        ),
        "error": span_error_scores(table, before, after, min_count=min_count),
        "truncation": span_truncation_scores(table, before, after, min_count=min_count),
    }


def span_scores(
    spans: pd.DataFrame,
    onset_ns: int,
    *,
    node_rule: str | NodeRule | None = "service",
    reference: pd.DataFrame | None = None,
    pre_ns: int | None = None,
    post_ns: int | None = None,
    min_count: int = 5,
    gap_attribution: str = "explain",
    structure_statistic: str = "z",
    shift_margin: float = 1.0,
) -> dict[str, pd.Series]:
    """All span evidence: ``{"latency", "gap", "structure", "error", "truncation"}``.

    Args:
        spans: Canonical spans around the onset.
        onset_ns: Fault onset.
        node_rule: Entity -> node rule.
        reference: Optional fault-free spans (or their :func:`span_table`, to reuse it)
            used as extra reference: they are added to the pre-onset spans.
        pre_ns: Clip the pre-onset reference to this long before the onset.
        post_ns: Clip the post-onset period to this long.
        min_count: Spans a key needs on both sides.
        gap_attribution: See :func:`span_gap_scores`.
        structure_statistic: See :func:`span_structure_scores`.
        shift_margin: Standard errors taken off each latency and gap shift.

    Returns:
        A dict of node-score series (empty series when there are no spans).
    """
    if not len(spans):
        return {k: pd.Series(dtype=float) for k in SPAN_SOURCES}
    table = span_table(spans, node_rule)
    before, after = split_by_onset(table["start_ns"].to_numpy(), onset_ns, pre_ns, post_ns)
    table, before, after = with_reference(table, before, after, reference, node_rule)
    return span_scores_from_table(
        table,
        before,
        after,
        min_count=min_count,
        gap_attribution=gap_attribution,
        structure_statistic=structure_statistic,
        shift_margin=shift_margin,
    )


def with_reference(
    table: pd.DataFrame,
    before: np.ndarray,
    after: np.ndarray,
    reference: pd.DataFrame | None,
    node_rule: str | NodeRule | None = "service",
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Append fault-free reference spans to a span table, on the "before" side.

    Args:
        table: :func:`span_table` of the case.
        before: ``[n]`` before mask.
        after: ``[n]`` after mask.
        reference: Reference spans or their :func:`span_table` (``None``: unchanged).
        node_rule: Entity -> node rule for raw reference spans.

    Returns:
        ``(table, before, after)`` with the reference rows appended.
    """
    if reference is None or not len(reference):
        return table, before, after
    ref = reference if "self_ns" in reference.columns else span_table(reference, node_rule)
    if "parent_row" in ref.columns:  # the reference's rows move behind the case's
        rows = ref["parent_row"].to_numpy()
        ref = ref.assign(parent_row=np.where(rows >= 0, rows + len(table), -1))
    table = _concat_tables(table, ref)
    before = np.concatenate([before, np.ones(len(ref), dtype=bool)])
    after = np.concatenate([after, np.zeros(len(ref), dtype=bool)])
    return table, before, after


def _concat_tables(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Two span tables one after the other, name columns kept categorical."""
    names = {
        column: pd.api.types.union_categoricals([first[column], second[column]], ignore_order=True)
        for column in _NAME_COLUMNS
        if isinstance(first[column].dtype, pd.CategoricalDtype)
        and isinstance(second[column].dtype, pd.CategoricalDtype)
    }
    table = pd.concat([first, second], ignore_index=True)
    for column, values in names.items():
        table[column] = values
    return table


# -------------------------------------------------------------------------------- logs
def log_scores(
    logs: pd.DataFrame,
    onset_ns: int,
    *,
    node_rule: str | NodeRule | None = "service",
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
    share = _share_change(c0, c1, n0, n1, statistic).where((c0 + c1) >= min_count, 0.0)
    v0 = c0.groupby(level="node").sum()
    v1 = c1.groupby(level="node").sum()
    volume = _share_change(v0, v1, v0.sum(), v1.sum(), statistic)
    every = pd.concat(
        [pd.Series(share.to_numpy(), index=share.index.get_level_values("node")), volume]
    )
    return _mean_of_top(every, top)
