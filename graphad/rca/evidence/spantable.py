"""The span table every span source reads: spans with their node, parent node and self time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from graphad.graph.calls import span_parents
from graphad.graph.rules import NodeRule, resolve_node_rule
from graphad.ingest.schema import require_columns

_EPS = 1e-9


def span_table(spans: pd.DataFrame, node_rule: str | NodeRule | None = "identity") -> pd.DataFrame:
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
    # graph/calls.py's span -> parent table: duplicate ids, the first is the parent; a
    # span is never its own parent
    position = span_parents(spans)
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


NAME_COLUMNS = ("node", "operation", "parent_node", "parent_operation")


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


def name_codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and names of a name column.

    The column is categorical (as :func:`span_table` makes it) or plain text.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), column.cat.categories
    codes, names = pd.factorize(column)
    return codes, pd.Index(names)
