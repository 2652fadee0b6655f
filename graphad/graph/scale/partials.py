"""Per-partition partial aggregates of spans: small, mergeable tables.

A partition of spans (whole traces: the Dask builder shuffles on ``trace_id`` first) is
reduced to three tables keyed by *base step* (``(start_ns - phase) // base``, a grid that
every step of every window is a union of) and node name:

* ``nodes``: spans of any kind (``present``), request spans (``req``), erroneous
  request spans (``err``) and the sum of their durations (``dur``, int64 ns);
* ``sketch``: request spans (``req``) per DDSketch bucket (``key``, see
  :mod:`graphad.graph.scale.sketch`);
* ``edges``: calls ``caller -> callee`` (``req``: a span whose parent in the same trace
  sits on another node), their errors and the sum of their durations.

All columns are counts or sums, so partials of any number of partitions merge by adding
rows with equal keys, exactly; only the quantiles (answered from the merged sketch) are
approximate, within the sketch's relative accuracy. The rules (which spans are requests,
which make a call edge) are those of :mod:`graphad.graph.features`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from graphad.graph import features as feat
from graphad.graph.calls import span_parents
from graphad.graph.scale.sketch import sketch_keys

__all__ = ["NARROW_COLUMNS", "PARTIAL_COLUMNS", "narrow_spans", "span_partials"]

#: Columns a span partition carries through the shuffle.
NARROW_COLUMNS = (
    "trace_id",
    "span_id",
    "parent_id",
    "node",
    "start_ns",
    "duration_ns",
    "status",
    "request",
    "order",
)
#: Columns of the partial table: ``table`` is 0 (nodes), 1 (sketch) or 2 (edges).
PARTIAL_COLUMNS = ("table", "step", "node", "caller", "key", "present", "req", "err", "dur")
NODES, SKETCH, EDGES = 0, 1, 2
_ORDER_BITS = 40  # order = partition << 40 | row: partitions of up to 10^12 rows


def narrow_spans(spans: pd.DataFrame, rule, partition: int) -> pd.DataFrame:
    """The columns of a canonical spans frame that the aggregation needs.

    Args:
        spans: Canonical spans (one file or one partition).
        rule: The resolved node rule (``service`` -> node name).
        partition: Index of the partition; with the row it makes the ``order`` column,
            the position of the span in the concatenation of all partitions.

    Returns:
        A frame with :data:`NARROW_COLUMNS`.
    """
    codes, uniques = pd.factorize(spans["service"])
    names = rule(pd.Series(np.asarray(uniques, dtype=object))).astype(str).to_numpy()
    node = names[codes] if len(codes) else np.zeros(0, dtype=object)
    kind = spans["kind"] if "kind" in spans.columns else None
    return pd.DataFrame(
        {
            **{c: _text(spans[c]) for c in ("trace_id", "span_id", "parent_id")},
            "node": pd.array(node, dtype="str"),
            "start_ns": spans["start_ns"].to_numpy().astype(np.int64, copy=False),
            "duration_ns": spans["duration_ns"].to_numpy().astype(np.int64, copy=False),
            "status": (spans["status"].to_numpy() != 0).astype(np.int8),
            "request": feat.request_mask(kind, len(spans)),
            "order": (np.int64(partition) << _ORDER_BITS) + np.arange(len(spans), dtype=np.int64),
        },
        columns=list(NARROW_COLUMNS),
    )


def _text(column: pd.Series) -> np.ndarray:
    """Ids as a (pyarrow-backed, where pandas has it) string array, without Python objects."""
    return column.astype("str").array


def empty_partials() -> pd.DataFrame:
    """A partial table without rows (the ``meta`` of the Dask computation)."""
    return pd.DataFrame(
        {
            "table": pd.Series([], dtype=np.int8),
            "step": pd.Series([], dtype=np.int64),
            "node": pd.Series([], dtype="str"),
            "caller": pd.Series([], dtype="str"),
            "key": pd.Series([], dtype=np.int64),
            **{c: pd.Series([], dtype=np.int64) for c in ("present", "req", "err", "dur")},
        }
    )


def span_partials(
    part: pd.DataFrame, phase: int, base: int, mapping, *, joined: bool = True
) -> pd.DataFrame:
    """Partial aggregates of one partition of narrow spans.

    Args:
        part: Narrow spans (:func:`narrow_spans`) holding whole traces.
        phase: Time (ns) of a base-step boundary.
        base: Base step (ns).
        mapping: The DDSketch key mapping.
        joined: Find the callers (``False`` leaves the edge table empty).

    Returns:
        A frame with :data:`PARTIAL_COLUMNS`, one row per distinct key of each table.
    """
    if len(part) == 0:
        return empty_partials()
    part = part.sort_values("order", kind="stable")
    step = (part["start_ns"].to_numpy() - np.int64(phase)) // np.int64(base)
    codes, names = pd.factorize(part["node"])
    names = np.asarray(names, dtype=object)
    duration = part["duration_ns"].to_numpy()
    status = part["status"].to_numpy().astype(np.int64)
    request = part["request"].to_numpy()
    frames = []

    nodes = pd.DataFrame(
        {
            "step": step,
            "node": codes,
            "present": 1,
            "req": request.astype(np.int64),
            "err": status * request,
            "dur": duration * request,
        }
    )
    nodes = nodes.groupby(["step", "node"], sort=False, as_index=False).sum()
    frames.append(_named(nodes, NODES, names))

    sketch = pd.DataFrame(
        {
            "step": step[request],
            "node": codes[request],
            "key": sketch_keys(duration[request], mapping),
            "req": 1,
        }
    )
    sketch = sketch.groupby(["step", "node", "key"], sort=False, as_index=False).sum()
    frames.append(_named(sketch, SKETCH, names))

    if joined:
        parent = span_parents(part[["trace_id", "span_id", "parent_id"]])
        caller = np.where(parent >= 0, codes[np.maximum(parent, 0)], -1)
        call = (caller >= 0) & (caller != codes)
        edges = pd.DataFrame(
            {
                "step": step[call],
                "node": codes[call],
                "caller": caller[call],
                "req": 1,
                "err": status[call],
                "dur": duration[call],
            }
        )
        edges = edges.groupby(["step", "caller", "node"], sort=False, as_index=False).sum()
        frames.append(_named(edges, EDGES, names))
    return pd.concat(frames, ignore_index=True)[list(PARTIAL_COLUMNS)]


def _named(frame: pd.DataFrame, table: int, names: np.ndarray) -> pd.DataFrame:
    """Codes -> names and the columns every table shares."""
    out = pd.DataFrame(
        {
            "table": np.full(len(frame), table, dtype=np.int8),
            "step": frame["step"].to_numpy(np.int64),
            "node": pd.array(names[frame["node"].to_numpy()], dtype="str"),
            "caller": pd.array(
                names[frame["caller"].to_numpy()]
                if "caller" in frame
                else np.full(len(frame), "", dtype=object),
                dtype="str",
            ),
            "key": frame["key"].to_numpy(np.int64) if "key" in frame else 0,
        }
    )
    for column in ("present", "req", "err", "dur"):
        out[column] = frame[column].to_numpy(np.int64) if column in frame else 0
    return out
