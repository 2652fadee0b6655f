"""The one span -> parent -> call table: who called whom, span by span.

Every consumer of calls reads them here: the graph builder (call edges per window),
:func:`graphad.graph.convert.call_graph` (the service call graph) and the root-cause
evidence that walks spans (self time, caller / callee pairs). The parent of a span is the
span of the same trace whose ``span_id`` is its ``parent_id``. Validation does the join
once and leaves it in the canonical frame as integer code columns (``span_code``,
``parent_code``, :func:`graphad.ingest.parents.frame_parent_rows`), read back here in O(n);
a frame without them is joined on its ids. A :class:`~graphad.ingest.telemetry.Telemetry`
keeps the result per object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from graphad.graph.rules import NodeRule, resolve_node_rule
from graphad.ingest.parents import frame_parent_rows
from graphad.ingest.schema import require_columns
from graphad.ingest.telemetry import Telemetry

__all__ = ["SpanCalls", "span_parents", "span_calls"]

_ID_COLUMNS = ("trace_id", "span_id", "parent_id")


def span_parents(spans: pd.DataFrame | Telemetry) -> np.ndarray:
    """Row of each span's parent (same trace), ``-1`` for a root, an orphan or itself.

    Args:
        spans: A spans frame (``trace_id, span_id, parent_id``) or a
            :class:`~graphad.ingest.telemetry.Telemetry` (its rows, computed once).

    Returns:
        int64 ``[n]``; a span is never its own parent. With repeated ``(trace, span)``
        pairs the first one is the parent.

    Example:
        >>> spans = pd.DataFrame({"trace_id": ["t", "t", "t"], "span_id": ["a", "b", "c"],
        ...                       "parent_id": ["", "a", "c"]})
        >>> span_parents(spans).tolist()
        [-1, 0, -1]
    """
    if isinstance(spans, Telemetry):
        rows = spans.parent_rows()
    else:
        require_columns(spans, _ID_COLUMNS, "spans")
        rows = frame_parent_rows(spans)
    own = rows == np.arange(len(rows))
    return np.where(own, -1, rows) if own.any() else rows


@dataclass(frozen=True)
class SpanCalls:
    """Calls of a spans frame at node level.

    Attributes:
        names: Node names (after the node rule), sorted; ``node`` indexes them.
        node: int64 ``[n]`` node of each span (its ``service`` mapped by the rule).
        parent: int64 ``[n]`` row of each span's parent, ``-1`` without one.
        caller: int64 ``[n]`` node of each span's parent (the caller of the call the
            span serves), ``-1`` without one.
    """

    names: list[str]
    node: np.ndarray
    parent: np.ndarray
    caller: np.ndarray

    def callers_of(self, node: np.ndarray) -> np.ndarray:
        """The caller of each span in another node numbering ``node [n]`` (``-1``: none)."""
        return np.where(self.parent >= 0, node[np.maximum(self.parent, 0)], -1)


def span_calls(
    spans: pd.DataFrame | Telemetry,
    node_rule: str | NodeRule | Callable | None = None,
) -> SpanCalls:
    """The span -> parent -> caller table of a spans frame.

    Args:
        spans: A spans frame or a :class:`~graphad.ingest.telemetry.Telemetry`.
        node_rule: Entity -> node rule for ``service``; ``None``: the telemetry's
            ``node_rule`` (``"identity"`` for a plain frame).

    Returns:
        The :class:`SpanCalls`.

    Example:
        >>> spans = pd.DataFrame({"trace_id": ["t", "t"], "span_id": ["a", "b"],
        ...     "parent_id": ["", "a"], "service": ["web-0", "db-1"]})
        >>> calls = span_calls(spans, "service")
        >>> calls.names, calls.node.tolist(), calls.caller.tolist()
        (['db', 'web'], [1, 0], [-1, 1])
    """
    frame = spans.spans if isinstance(spans, Telemetry) else spans
    if node_rule is None:
        node_rule = spans.node_rule if isinstance(spans, Telemetry) else "identity"
    require_columns(frame, (*_ID_COLUMNS, "service"), "spans")
    codes, uniques = pd.factorize(frame["service"])
    mapped = resolve_node_rule(node_rule)(pd.Series(np.asarray(uniques, dtype=object)))
    mapped = mapped.astype(str).to_numpy()
    names = sorted(set(mapped))
    node = pd.Index(names).get_indexer(mapped)[codes] if len(codes) else codes
    node = np.asarray(node, dtype=np.int64)
    parent = span_parents(spans)
    caller = np.where(parent >= 0, node[np.maximum(parent, 0)], -1)
    return SpanCalls(names, node, parent, caller)
