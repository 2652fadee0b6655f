"""Vectorised per-(step, node) feature tables from canonical spans, metrics and log events.

Everything here works on plain integer codes and NumPy arrays (no Python loop per record):
times become step ids by floor division, (step, node) pairs become one group id, and the
aggregates are ``np.bincount`` sums or rank look-ups in one sorted array. The builder
(:func:`graphad.graph.build_dynamic_graph`) turns these dense ``[S, N, F]`` tables (``S``
steps on a global grid) into windows.

Span rules (server side):

* a span counts as a request of its own node when its ``kind`` is ``"server"``,
  ``"consumer"`` or unknown (``""``); ``"client"``, ``"producer"`` and ``"internal"`` spans
  do not count as requests (the callee's server span does), but they still make their node
  present;
* a call edge ``parent.node -> child.node`` is made for every span whose parent span is in
  the data (same trace) and whose node differs from the parent's node; its time is the
  child's start, its latency the child's duration and its error the child's status. With
  client spans, the server span's parent is the caller's client span, so the edge is still
  caller -> callee; without kinds, the parent span of a cross-node child is the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from graphad.ingest.parents import parent_rows

__all__ = [
    "SPAN_FEATURES",
    "EDGE_FEATURES",
    "REQUEST_KINDS",
    "step_ids",
    "request_mask",
    "grouped_quantiles",
    "parent_rows",
    "span_features",
    "EdgeTable",
    "span_edges",
    "EdgeMetricTable",
    "edge_metric_table",
    "merge_edges",
    "metric_features",
    "forward_fill",
    "log_features",
    "presence",
]

#: Node features computed from spans, in order.
SPAN_FEATURES = (
    "span:req_count",
    "span:error_count",
    "span:latency_mean_ms",
    "span:latency_p50_ms",
    "span:latency_p90_ms",
    "span:latency_p99_ms",
)
#: Edge features, in order: number of calls, erroneous calls, mean latency (ms).
EDGE_FEATURES = ("calls", "errors", "latency")
#: Span kinds that count as a request of the span's own node.
REQUEST_KINDS = frozenset({"", "server", "consumer"})
_QUANTILES = (0.5, 0.9, 0.99)
_NS_PER_MS = 1e6


def step_ids(ts_ns: np.ndarray, origin_ns: int, step_ns: int, num_steps: int) -> np.ndarray:
    """Step of each timestamp on the grid ``origin + k * step`` (``-1`` outside the grid).

    Args:
        ts_ns: Timestamps (int64 ns), shape ``[n]``.
        origin_ns: Start of step 0.
        step_ns: Step length.
        num_steps: Number of steps ``S`` in the grid.

    Returns:
        int64 step ids, shape ``[n]``, in ``[0, S)`` or ``-1``.

    Example:
        >>> step_ids(np.array([5, 10, 19, 30, 4]), 5, 10, 2).tolist()
        [0, 0, 1, -1, -1]
    """
    steps = (np.asarray(ts_ns, dtype=np.int64) - np.int64(origin_ns)) // np.int64(step_ns)
    return np.where((steps >= 0) & (steps < num_steps), steps, -1)


def request_mask(kind: pd.Series | None, num_spans: int) -> np.ndarray:
    """Which spans count as requests of their own node (kind in :data:`REQUEST_KINDS`).

    Args:
        kind: The spans' ``kind`` column, or ``None`` when the input has none (then every
            span counts). Missing values count as unknown (``""``).
        num_spans: Number of spans.

    Returns:
        bool ``[num_spans]``.

    Example:
        >>> request_mask(pd.Series(["server", "client", "", "internal", None]), 5).tolist()
        [True, False, True, False, True]
    """
    if kind is None:
        return np.ones(num_spans, dtype=bool)
    codes, kinds = pd.factorize(kind)  # missing -> code -1 -> the trailing True
    table = np.array([str(k).lower() in REQUEST_KINDS for k in kinds] + [True], dtype=bool)
    return table[codes]


def grouped_quantiles(
    group: np.ndarray, values: np.ndarray, quantiles, num_groups: int
) -> np.ndarray:
    """Quantiles of ``values`` within each group, vectorised (linear interpolation).

    Matches ``np.quantile(v, q)`` (method ``"linear"``) for every group; empty groups get 0.

    Args:
        group: Group id of each value, int in ``[0, num_groups)``, shape ``[n]``.
        values: Non-negative int64 (or float) values, shape ``[n]``.
        quantiles: The ``Q`` quantiles in ``[0, 1]``.
        num_groups: ``G``.

    Returns:
        float64 ``[G, Q]``.

    Example:
        >>> grouped_quantiles(np.array([0, 0, 0, 2]), np.array([30, 10, 20, 7]),
        ...                   [0.5, 0.75], 3).tolist()
        [[20.0, 25.0], [0.0, 0.0], [7.0, 7.0]]
    """
    group = np.asarray(group, dtype=np.int64)
    values = np.asarray(values)
    quantiles = np.asarray(quantiles, dtype=np.float64)
    out = np.zeros((num_groups, len(quantiles)), dtype=np.float64)
    if group.size == 0:
        return out
    sorted_group, sorted_values = _sort_by_group_then_value(group, values)
    counts = np.bincount(sorted_group, minlength=num_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    nonempty = np.flatnonzero(counts)
    first = starts[nonempty]
    last = counts[nonempty] - 1
    for j, q in enumerate(quantiles):
        position = q * last
        low = np.floor(position).astype(np.int64)
        high = np.minimum(low + 1, last)
        frac = position - low
        v_low = sorted_values[first + low].astype(np.float64)
        v_high = sorted_values[first + high].astype(np.float64)
        out[nonempty, j] = v_low + frac * (v_high - v_low)
    return out


def _sort_by_group_then_value(group: np.ndarray, values: np.ndarray):
    """Sort by (group, value); one int64 sort of a packed key when it cannot overflow."""
    if values.dtype.kind in "iu" and values.size and values.min() >= 0:
        span = int(values.max()) + 1
        if span * (int(group.max()) + 1) < 2**62:
            key = np.sort(group * np.int64(span) + values.astype(np.int64))
            return key // span, key % span
    order = np.lexsort((values, group))
    return group[order], values[order]


def span_features(
    step: np.ndarray,
    node: np.ndarray,
    duration_ns: np.ndarray,
    status: np.ndarray,
    num_steps: int,
    num_nodes: int,
) -> np.ndarray:
    """Request count, error count and latency mean / p50 / p90 / p99 (ms) per step and node.

    Only the request spans (see the module notes) should be passed; records with a step or
    node of ``-1`` are ignored. Steps without requests get 0 everywhere.

    Args:
        step: Step id of each span, shape ``[n]``.
        node: Node id of each span, shape ``[n]``.
        duration_ns: Span durations (int64 ns), shape ``[n]``.
        status: 1 for an error, else 0, shape ``[n]``.
        num_steps: ``S``.
        num_nodes: ``N``.

    Returns:
        float64 ``[S, N, 6]`` in the order of :data:`SPAN_FEATURES`.

    Example:
        >>> f = span_features(np.array([0, 0, 1]), np.array([1, 1, 0]),
        ...                   np.array([1_000_000, 3_000_000, 2_000_000]),
        ...                   np.array([0, 1, 0]), 2, 2)
        >>> f[0, 1].tolist()
        [2.0, 1.0, 2.0, 2.0, 2.8, 2.98]
    """
    keep = (step >= 0) & (node >= 0)
    group = step[keep].astype(np.int64) * num_nodes + node[keep]
    duration = np.asarray(duration_ns)[keep]
    size = num_steps * num_nodes
    out = np.zeros((size, len(SPAN_FEATURES)), dtype=np.float64)
    counts = np.bincount(group, minlength=size).astype(np.float64)
    out[:, 0] = counts
    out[:, 1] = np.bincount(group, weights=np.asarray(status)[keep], minlength=size)
    total = np.bincount(group, weights=duration, minlength=size)
    out[:, 2] = np.divide(total, counts, out=np.zeros(size), where=counts > 0) / _NS_PER_MS
    out[:, 3:] = grouped_quantiles(group, duration, _QUANTILES, size) / _NS_PER_MS
    return out.reshape(num_steps, num_nodes, len(SPAN_FEATURES))


@dataclass
class EdgeTable:
    """Call edges aggregated per (step, caller, callee), sorted by step then pair.

    Attributes:
        step: Step id, int64 ``[K]``.
        src: Caller node id, int64 ``[K]``.
        dst: Callee node id, int64 ``[K]``.
        calls: Number of calls, float64 ``[K]``.
        errors: Erroneous calls, float64 ``[K]``.
        latency_sum_ms: Sum of call latencies (ms), float64 ``[K]``.
    """

    step: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    calls: np.ndarray
    errors: np.ndarray
    latency_sum_ms: np.ndarray

    def __len__(self) -> int:
        return len(self.step)

    def window(self, first_step: int, end_step: int, num_nodes: int):
        """Edges of steps ``[first_step, end_step)``: ``(edge_index [2, E], attr [E, 3])``.

        Edges are sorted by (caller, callee); ``attr`` is calls, errors, mean latency (ms).
        """
        lo, hi = np.searchsorted(self.step, [first_step, end_step])
        pair = self.src[lo:hi] * num_nodes + self.dst[lo:hi]
        uniq, inverse = np.unique(pair, return_inverse=True)
        calls = np.bincount(inverse, weights=self.calls[lo:hi], minlength=len(uniq))
        errors = np.bincount(inverse, weights=self.errors[lo:hi], minlength=len(uniq))
        latency = np.bincount(inverse, weights=self.latency_sum_ms[lo:hi], minlength=len(uniq))
        edge_index = np.stack([uniq // num_nodes, uniq % num_nodes]).astype(np.int64)
        mean = np.divide(latency, calls, out=np.zeros(len(uniq)), where=calls > 0)
        return edge_index, np.stack([calls, errors, mean], axis=1)


def span_edges(
    step: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    duration_ns: np.ndarray,
    status: np.ndarray,
    num_nodes: int,
) -> EdgeTable:
    """Aggregate child spans into call edges per (step, caller, callee).

    Records with a ``-1`` step, caller or callee, or with ``src == dst``, are ignored.

    Args:
        step: Step of the child span's start, shape ``[n]``.
        src: Node of the parent span (caller), shape ``[n]``.
        dst: Node of the child span (callee), shape ``[n]``.
        duration_ns: Child span durations, shape ``[n]``.
        status: Child span status (1 = error), shape ``[n]``.
        num_nodes: ``N``.

    Returns:
        An :class:`EdgeTable`.

    Example:
        >>> t = span_edges(np.array([1, 0, 0]), np.array([0, 0, 0]), np.array([1, 1, 1]),
        ...                np.array([2e6, 4e6, 6e6]), np.array([0, 1, 0]), 2)
        >>> t.step.tolist(), t.calls.tolist(), t.errors.tolist(), t.latency_sum_ms.tolist()
        ([0, 1], [2.0, 1.0], [1.0, 0.0], [10.0, 2.0])
    """
    keep = (step >= 0) & (src >= 0) & (dst >= 0) & (src != dst)
    key = (step[keep].astype(np.int64) * num_nodes + src[keep]) * num_nodes + dst[keep]
    status = np.asarray(status)[keep]
    duration = np.asarray(duration_ns)[keep]
    dense = int(key.max(initial=-1)) + 1
    if dense <= max(4 * len(key), 1 << 20):  # few possible keys: count them all directly
        counts = np.bincount(key, minlength=dense)
        uniq = np.flatnonzero(counts)
        calls = counts[uniq].astype(np.float64)
        errors = np.bincount(key, weights=status, minlength=dense)[uniq]
        latency = np.bincount(key, weights=duration, minlength=dense)[uniq]
    else:
        uniq, inverse = np.unique(key, return_inverse=True)
        calls = np.bincount(inverse, minlength=len(uniq)).astype(np.float64)
        errors = np.bincount(inverse, weights=status, minlength=len(uniq))
        latency = np.bincount(inverse, weights=duration, minlength=len(uniq))
    pair = uniq % (num_nodes * num_nodes)
    return EdgeTable(
        step=(uniq // (num_nodes * num_nodes)).astype(np.int64),
        src=(pair // num_nodes).astype(np.int64),
        dst=(pair % num_nodes).astype(np.int64),
        calls=calls,
        errors=errors,
        latency_sum_ms=latency / _NS_PER_MS,
    )


@dataclass
class EdgeMetricTable:
    """Edge-metric samples summed per (step, caller, callee, metric), sorted by step.

    Attributes:
        step: Step id, int64 ``[K]``.
        pair: ``caller * N + callee``, int64 ``[K]``.
        metric: Metric id, int64 ``[K]``.
        total: Sum of the samples, float64 ``[K]``.
        count: Number of samples, float64 ``[K]``.
        num_metrics: ``M``.
    """

    step: np.ndarray
    pair: np.ndarray
    metric: np.ndarray
    total: np.ndarray
    count: np.ndarray
    num_metrics: int

    def window(self, first_step: int, end_step: int, num_nodes: int):
        """Pairs with samples in steps ``[first_step, end_step)`` and their means.

        Returns:
            ``(edge_index [2, E], attr [E, M])``, edges sorted by (caller, callee);
            ``attr`` is the mean of each metric's samples (0 without a sample).
        """
        lo, hi = np.searchsorted(self.step, [first_step, end_step])
        uniq, inverse = np.unique(self.pair[lo:hi], return_inverse=True)
        cell = inverse * self.num_metrics + self.metric[lo:hi]
        size = len(uniq) * self.num_metrics
        total = np.bincount(cell, weights=self.total[lo:hi], minlength=size)
        count = np.bincount(cell, weights=self.count[lo:hi], minlength=size)
        mean = np.divide(total, count, out=np.zeros(size), where=count > 0)
        edge_index = np.stack([uniq // num_nodes, uniq % num_nodes]).astype(np.int64)
        return edge_index, mean.reshape(len(uniq), self.num_metrics)


def edge_metric_table(
    step: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    metric: np.ndarray,
    value: np.ndarray,
    num_nodes: int,
    num_metrics: int,
) -> EdgeMetricTable:
    """Sum edge-metric samples per (step, caller, callee, metric).

    Samples with a ``-1`` step, node or metric, a non-finite value or ``src == dst`` are
    ignored.

    Args:
        step: Step of each sample, int ``[n]``.
        src: Caller node id, int ``[n]``.
        dst: Callee node id, int ``[n]``.
        metric: Metric id, int ``[n]``.
        value: Sample values, float ``[n]``.
        num_nodes: ``N``.
        num_metrics: ``M``.

    Returns:
        An :class:`EdgeMetricTable`.

    Example:
        >>> t = edge_metric_table(np.array([0, 0, 1]), np.array([0, 0, 0]),
        ...                       np.array([1, 1, 1]), np.array([0, 0, 0]),
        ...                       np.array([2.0, 4.0, 5.0]), 2, 1)
        >>> ei, attr = t.window(0, 2, 2)
        >>> ei.tolist(), attr.tolist()
        ([[0], [1]], [[3.6666666666666665]])
    """
    value = np.asarray(value, dtype=np.float64)
    keep = (step >= 0) & (src >= 0) & (dst >= 0) & (metric >= 0) & (src != dst)
    keep &= np.isfinite(value)
    pair = src[keep].astype(np.int64) * num_nodes + dst[keep]
    key = (step[keep].astype(np.int64) * num_nodes * num_nodes + pair) * num_metrics + metric[keep]
    uniq, inverse = np.unique(key, return_inverse=True)
    total = np.bincount(inverse, weights=value[keep], minlength=len(uniq))
    count = np.bincount(inverse, minlength=len(uniq)).astype(np.float64)
    cell = uniq // num_metrics
    return EdgeMetricTable(
        step=(cell // (num_nodes * num_nodes)).astype(np.int64),
        pair=(cell % (num_nodes * num_nodes)).astype(np.int64),
        metric=(uniq % num_metrics).astype(np.int64),
        total=total,
        count=count,
        num_metrics=int(num_metrics),
    )


def merge_edges(
    edge_index: np.ndarray,
    attr: np.ndarray,
    other_index: np.ndarray,
    other_attr: np.ndarray,
    num_nodes: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The union of two edge sets, their attribute columns side by side (0 where absent).

    Args:
        edge_index: ``[2, E]`` edges, attr ``[E, D]``.
        attr: Their attributes.
        other_index: ``[2, E']`` edges, other_attr ``[E', D']``.
        other_attr: Their attributes.
        num_nodes: ``N``.

    Returns:
        ``(edge_index [2, U], attr [U, D + D'])``, sorted by (caller, callee).

    Example:
        >>> ei, at = merge_edges(np.array([[0], [1]]), np.array([[1.0]]),
        ...                      np.array([[0, 1], [1, 0]]), np.array([[5.0], [6.0]]), 2)
        >>> ei.tolist(), at.tolist()
        ([[0, 1], [1, 0]], [[1.0, 5.0], [0.0, 6.0]])
    """
    a = edge_index[0].astype(np.int64) * num_nodes + edge_index[1]
    b = other_index[0].astype(np.int64) * num_nodes + other_index[1]
    union = np.union1d(a, b)
    out = np.zeros((len(union), attr.shape[1] + other_attr.shape[1]), dtype=np.float64)
    out[np.searchsorted(union, a), : attr.shape[1]] = attr
    out[np.searchsorted(union, b), attr.shape[1] :] = other_attr
    merged = np.stack([union // num_nodes, union % num_nodes]).astype(np.int64)
    return merged, out


def metric_features(
    step: np.ndarray,
    node: np.ndarray,
    metric: np.ndarray,
    value: np.ndarray,
    num_steps: int,
    num_nodes: int,
    num_metrics: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean of each metric per step and node, and whether it was observed there.

    NaN values are not observations. Records with a ``-1`` code are ignored.

    Args:
        step: Step ids, shape ``[n]``.
        node: Node ids, shape ``[n]``.
        metric: Metric ids, shape ``[n]``.
        value: Values, shape ``[n]``.
        num_steps: ``S``.
        num_nodes: ``N``.
        num_metrics: ``M``.

    Returns:
        ``(mean, observed)``: float64 ``[S, N, M]`` (NaN where not observed) and bool
        ``[S, N, M]``.

    Example:
        >>> mean, seen = metric_features(np.array([0, 0, 1]), np.array([0, 0, 0]),
        ...     np.array([0, 0, 0]), np.array([1.0, 3.0, np.nan]), 2, 1, 1)
        >>> mean[:, 0, 0].tolist(), seen[:, 0, 0].tolist()
        ([2.0, nan], [True, False])
    """
    value = np.asarray(value, dtype=np.float64)
    keep = (step >= 0) & (node >= 0) & (metric >= 0) & np.isfinite(value)
    group = (step[keep].astype(np.int64) * num_nodes + node[keep]) * num_metrics + metric[keep]
    size = num_steps * num_nodes * num_metrics
    counts = np.bincount(group, minlength=size).astype(np.float64)
    total = np.bincount(group, weights=value[keep], minlength=size)
    observed = counts > 0
    mean = np.full(size, np.nan)
    np.divide(total, counts, out=mean, where=observed)
    shape = (num_steps, num_nodes, num_metrics)
    return mean.reshape(shape), observed.reshape(shape)


def forward_fill(values: np.ndarray, observed: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """Carry the last observed value forward along axis 0; ``fill`` before the first one.

    Args:
        values: ``[S, ...]`` values.
        observed: ``[S, ...]`` bool, which values are real.
        fill: Value for positions with no observation at or before them.

    Returns:
        Array of ``values``' shape.

    Example:
        >>> forward_fill(np.array([np.nan, 2.0, np.nan, 5.0]),
        ...              np.array([False, True, False, True])).tolist()
        [0.0, 2.0, 2.0, 5.0]
    """
    steps = np.arange(values.shape[0]).reshape((-1,) + (1,) * (values.ndim - 1))
    last = np.maximum.accumulate(np.where(observed, steps, -1), axis=0)
    filled = np.take_along_axis(values, np.maximum(last, 0), axis=0)
    return np.where(last >= 0, filled, fill)


def log_features(
    step: np.ndarray,
    node: np.ndarray,
    template: np.ndarray,
    count: np.ndarray,
    num_steps: int,
    num_nodes: int,
    num_templates: int,
) -> np.ndarray:
    """Sum of template counts per step, node and template.

    Args:
        step: Step ids, shape ``[n]``.
        node: Node ids, shape ``[n]``.
        template: Template ids, shape ``[n]``.
        count: Event counts, shape ``[n]``.
        num_steps: ``S``.
        num_nodes: ``N``.
        num_templates: ``L``.

    Returns:
        float64 ``[S, N, L]``.

    Example:
        >>> log_features(np.array([0, 0, 1]), np.array([0, 0, 0]), np.array([1, 1, 0]),
        ...              np.array([2, 3, 1]), 2, 1, 2)[:, 0].tolist()
        [[0.0, 5.0], [1.0, 0.0]]
    """
    keep = (step >= 0) & (node >= 0) & (template >= 0)
    group = (step[keep].astype(np.int64) * num_nodes + node[keep]) * num_templates
    group = group + template[keep]
    size = num_steps * num_nodes * num_templates
    total = np.bincount(group, weights=np.asarray(count, dtype=np.float64)[keep], minlength=size)
    return total.reshape(num_steps, num_nodes, num_templates)


def presence(step: np.ndarray, node: np.ndarray, num_steps: int, num_nodes: int) -> np.ndarray:
    """Records per step and node, ``[S, N]`` int64 (``-1`` codes ignored).

    Example:
        >>> presence(np.array([0, 1, 1, -1]), np.array([1, 0, 0, 0]), 2, 2).tolist()
        [[0, 1], [2, 0]]
    """
    keep = (step >= 0) & (node >= 0)
    group = step[keep].astype(np.int64) * num_nodes + node[keep]
    return np.bincount(group, minlength=num_steps * num_nodes).reshape(num_steps, num_nodes)
