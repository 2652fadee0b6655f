"""Merging a fault-free reference period into the span table before the onset."""

from __future__ import annotations

import numpy as np
import pandas as pd

from graphad.graph.rules import NodeRule
from graphad.rca.evidence.spantable import NAME_COLUMNS, span_table

_EPS = 1e-9


def with_reference(
    table: pd.DataFrame,
    before: np.ndarray,
    after: np.ndarray,
    reference: pd.DataFrame | None,
    node_rule: str | NodeRule | None = "identity",
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
        for column in NAME_COLUMNS
        if isinstance(first[column].dtype, pd.CategoricalDtype)
        and isinstance(second[column].dtype, pd.CategoricalDtype)
    }
    table = pd.concat([first, second], ignore_index=True)
    for column, values in names.items():
        table[column] = values
    return table
