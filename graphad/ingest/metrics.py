"""Metric readers: long tables, wide tables, Prometheus ``query_range`` JSON -> metrics frame.

Every reader returns the canonical long metrics frame ``ts_ns, node, metric, value`` of
:mod:`graphad.ingest.schema` and an :class:`~graphad.ingest.report.IngestReport`. A value
that is not a finite number (``NaN``, ``+Inf``, text) is kept as ``NaN`` and counted as
``non_finite_value``; samples out of time order are sorted and counted as ``out_of_order``.
:func:`read_edge_metrics` reads samples measured on a call-graph edge ``src -> dst``
into the edge-metrics frame ``ts_ns, src, dst, metric, value``, from long tables or wide
ones with a column per ``<src><separator><dst>`` edge (an empty cell of a wide table is
no sample: dropped, counted as ``no_calls``).

Layouts:

* **long**: one row per sample, columns ``timestamp|ts_ns|time, node, metric, value``, or
  any names through ``columns=`` (canonical name -> the table's name).
* **wide**: a time column and one column per metric. Which node a column belongs to is a
  rule: a fixed ``node="web"``, a ``node_column="pod"`` holding the node of each row, a
  ``separator="/"`` splitting column names ``"web/cpu"`` into node and metric, or a
  ``column_rule`` callable ``column -> (node, metric)`` (``None`` skips the column).
* **prometheus**: the JSON answer of ``/api/v1/query_range`` (``resultType`` ``matrix``)
  or ``/api/v1/query`` (``vector``): the node is the first of ``node_label`` present among
  a series' labels, the metric its ``__name__`` (plus its remaining labels, so that two
  series never share a name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from graphad.exceptions import GraphadInputError, ParseError, SchemaError
from graphad.ingest.io import (
    COMPRESSION_SUFFIXES,
    PathLike,
    check_source,
    inner_suffix,
    read_json_documents,
    read_table,
)
from graphad.ingest.report import IngestReport
from graphad.ingest.schema import (
    EDGE_METRIC_COLUMNS,
    METRIC_COLUMNS,
    columns_text,
    rename_columns,
    require_column,
    validate_edge_metrics,
    validate_metrics,
)
from graphad.ingest.time import TimeUnit, to_ns

__all__ = [
    "METRIC_FORMATS",
    "TIME_COLUMN_NAMES",
    "EDGE_METRIC_FORMATS",
    "read_metrics",
    "read_edge_metrics",
    "wide_to_long",
    "parse_prometheus",
]

#: Formats (layouts) :func:`read_metrics` understands.
METRIC_FORMATS = ("auto", "long", "wide", "prometheus")
#: Formats (layouts) :func:`read_edge_metrics` understands.
EDGE_METRIC_FORMATS = ("auto", "long", "wide")
#: Column names taken as the time column when none is named (compared lower-cased).
TIME_COLUMN_NAMES = ("ts_ns", "timestamp", "time", "ts", "datetime", "date")

ColumnRule = Callable[[str], "tuple[str, str] | None"]
_MAX_EPOCH_S = 9.2e9  # int64 nanoseconds reach 2262-04-11


def read_metrics(
    source: PathLike | pd.DataFrame,
    format: str = "auto",
    *,
    columns: Mapping[str, str] | None = None,
    time_unit: TimeUnit = "auto",
    time_format: str | None = None,
    time_column: str | None = None,
    node: str | None = None,
    node_column: str | None = None,
    separator: str | None = None,
    column_rule: ColumnRule | None = None,
    exclude: Sequence[str] = (),
    node_label: str | Sequence[str] = "instance",
    metric_name: str | None = None,
    metric_labels: str | Sequence[str] = "rest",
) -> tuple[pd.DataFrame, IngestReport]:
    """Read metric samples from a file or a frame into the canonical metrics frame.

    Args:
        source: A path (CSV/TSV plain or compressed, Parquet, JSON) or a ``DataFrame``.
        format: One of :data:`METRIC_FORMATS`. ``"auto"``: ``.json`` -> Prometheus; a
            table with (mapped) ``node``, ``metric`` and ``value`` columns -> long;
            another table -> wide.
        columns: Long/wide tables: canonical name -> the table's column name, e.g.
            ``{"ts_ns": "timestamp", "node": "pod"}``.
        time_unit: Unit of numeric timestamps (``"auto"`` infers it from magnitude).
        time_format: A ``strftime`` format for text timestamps that are not ISO 8601.
        time_column: Wide tables: the time column (default: ``columns["ts_ns"]``, else
            the first column named as in :data:`TIME_COLUMN_NAMES`).
        node: Wide tables: one fixed node name for every column.
        node_column: Wide tables: a column holding the node of each row.
        separator: Wide tables: column names are ``"<node><separator><metric>"`` (split
            at the first separator).
        column_rule: Wide tables: ``column -> (node, metric)``, or ``None`` to skip it.
            A wide *file* given none of these four rules is one node named after the
            file (``host-1.csv.gz`` -> ``"host-1"``); a wide frame needs a rule.
        exclude: Wide tables: columns that are not metrics (besides time and node).
        node_label: Prometheus: label(s) naming the node, the first one present wins.
        metric_name: Prometheus: the name of series without ``__name__`` (e.g. the
            result of ``rate(...)``).
        metric_labels: Prometheus: labels appended to the metric name as
            ``name{a="x",b="y"}``: ``"rest"`` for every label but the name and the
            node label, or a list of label names (``[]`` for none).

    Returns:
        ``(metrics, report)``: columns ``ts_ns, node, metric, value`` sorted by time,
        and the report (``non_finite_value``, ``out_of_order``, ``non_numeric_column``).

    Raises:
        ParseError: The file cannot be parsed (e.g. a Prometheus error answer).
        SchemaError: A needed column or label is missing, or no node rule was given for
            a wide table.
        GraphadInputError: A timestamp or name is unreadable; the message names the
            file, the record and the field.

    Example:
        >>> wide = pd.DataFrame({"time": [0, 60], "web/cpu": [0.5, 0.7],
        ...                      "db/cpu": [0.1, float("nan")]})
        >>> metrics, report = read_metrics(wide, separator="/", time_unit="s")
        >>> metrics.values.tolist()[:2]
        [[0, 'web', 'cpu', 0.5], [0, 'db', 'cpu', 0.1]]
        >>> dict(report.counts)
        {'non_finite_value': 1}
    """
    name = check_source(source, format, METRIC_FORMATS, "metrics")
    is_json = not isinstance(source, pd.DataFrame) and inner_suffix(source) in (
        ".json",
        ".jsonl",
        ".ndjson",
    )
    if format == "prometheus" or (format == "auto" and is_json):
        if isinstance(source, pd.DataFrame):
            raise GraphadInputError(
                "a DataFrame is not a Prometheus JSON answer",
                source=name,
                field="format",
                expected="'long' or 'wide' for a DataFrame",
                found=repr(format),
            )
        read = IngestReport(name)
        metrics, report = parse_prometheus(
            read_json_documents(source, read),
            source=name,
            node_label=node_label,
            metric_name=metric_name,
            metric_labels=metric_labels,
        )
        return metrics, read.merge(report)
    read = IngestReport(name)
    frame = source if isinstance(source, pd.DataFrame) else read_table(source, report=read)
    renamed = rename_columns(frame, columns, name)
    if format == "auto":
        format = "long" if {"node", "metric", "value"} <= set(renamed.columns) else "wide"
    if format == "long":
        metrics, report = _read_long(renamed, columns, time_unit, time_format, time_column, name)
        return metrics, read.merge(report)
    wide_time = time_column or (columns or {}).get("ts_ns")
    rules = (node, node_column or (columns or {}).get("node"), separator, column_rule)
    if all(rule is None for rule in rules) and not isinstance(source, pd.DataFrame):
        node = _file_stem(source)  # a wide file without a rule: the file is the node
    metrics, report = wide_to_long(
        frame,
        time_column=wide_time,
        node=node,
        node_column=node_column or (columns or {}).get("node"),
        separator=separator,
        column_rule=column_rule,
        exclude=exclude,
        time_unit=time_unit,
        time_format=time_format,
        source=name,
    )
    return metrics, read.merge(report)


def _file_stem(path: PathLike) -> str:
    name = Path(path).name
    for suffix in (*COMPRESSION_SUFFIXES, ".csv", ".tsv", ".parquet", ".pq"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


def _find_time_column(frame: pd.DataFrame, given: str | None, source: str) -> str:
    if given is not None:
        require_column(frame, given, f"time column '{given}'", source)
        return given
    lowered = {str(c).lower(): c for c in frame.columns}
    for candidate in TIME_COLUMN_NAMES:
        if candidate in lowered:
            return lowered[candidate]
    raise SchemaError(
        "no time column",
        source=source,
        field="ts_ns",
        expected=f"a column named one of {list(TIME_COLUMN_NAMES)} or time_column=...",
        found=columns_text(frame),
    )


def _times(values: pd.Series, unit: TimeUnit, fmt: str | None, source: str, field: str):
    return to_ns(values, unit, source=source, field=field, format=fmt)


def _require_long(
    frame: pd.DataFrame,
    needed: Sequence[str],
    canonical: Sequence[str],
    columns: Mapping[str, str] | None,
    source: str,
) -> None:
    """Raise :class:`SchemaError` naming the user's column of the first absent ``needed``."""
    for name in needed:
        if name not in frame.columns:
            raise SchemaError(
                "required field missing",
                source=source,
                field=(columns or {}).get(name, name),
                expected=f"columns {list(canonical)} (or mapped through columns=)",
                found=columns_text(frame),
            )


def _long_times(
    frame: pd.DataFrame,
    column: str,
    columns: Mapping[str, str] | None,
    time_unit: TimeUnit,
    time_format: str | None,
    source: str,
) -> np.ndarray:
    """The ``ts_ns`` of a long table's time ``column``; errors name the user's column."""
    user_field = (columns or {}).get("ts_ns", column)
    if time_unit == "auto" and column == "ts_ns" and "ts_ns" not in (columns or {}):
        time_unit = "ns"  # an unmapped 'ts_ns' column is nanoseconds by its name
    return _times(frame[column], time_unit, time_format, source, user_field)


def _read_long(
    frame: pd.DataFrame,
    columns: Mapping[str, str] | None,
    time_unit: TimeUnit,
    time_format: str | None,
    time_column: str | None,
    source: str,
) -> tuple[pd.DataFrame, IngestReport]:
    column = _find_time_column(frame, time_column, source)
    _require_long(frame, ("node", "metric", "value"), METRIC_COLUMNS, columns, source)
    ts = _long_times(frame, column, columns, time_unit, time_format, source)
    work = pd.DataFrame(
        {"ts_ns": ts, "node": frame["node"], "metric": frame["metric"], "value": frame["value"]}
    )
    return validate_metrics(work, source)


def _column_owner(
    column: str,
    node: str | None,
    separator: str | None,
    column_rule: ColumnRule | None,
    source: str,
) -> tuple[str, str] | None:
    if column_rule is not None:
        owner = column_rule(column)
        if owner is not None and (not isinstance(owner, tuple) or len(owner) != 2):
            raise GraphadInputError(
                "column_rule returned a bad value",
                source=source,
                field=column,
                expected="a (node, metric) tuple or None",
                found=repr(owner),
            )
        return owner
    if separator is not None:
        head, sep, tail = column.partition(separator)
        if not sep or not head or not tail:
            raise SchemaError(
                "column name does not hold a node and a metric",
                source=source,
                field=column,
                expected=f"'<node>{separator}<metric>'",
                found=repr(column),
            )
        return head, tail
    return (node, column) if node is not None else ("", column)


def _unnamed(column: object) -> bool:
    """A column without a name in its file (pandas calls it ``"Unnamed: <i>"``)."""
    text = str(column).strip()
    return text == "" or (text.startswith("Unnamed: ") and text[9:].isdigit())


def _require_excluded(frame: pd.DataFrame, exclude: Sequence[str], source: str) -> None:
    """Every column named in ``exclude=`` must exist (a typo would exclude nothing)."""
    missing = [c for c in exclude if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"excluded column '{missing[0]}' not found",
            source=source,
            field=missing[0],
            expected="existing column names in exclude=",
            found=columns_text(frame),
        )


def wide_to_long(
    frame: pd.DataFrame,
    *,
    time_column: str | None = None,
    node: str | None = None,
    node_column: str | None = None,
    separator: str | None = None,
    column_rule: ColumnRule | None = None,
    exclude: Sequence[str] = (),
    time_unit: TimeUnit = "auto",
    time_format: str | None = None,
    source: str = "<frame>",
) -> tuple[pd.DataFrame, IngestReport]:
    """Turn a wide table (a time column + one column per metric) into long metrics.

    Exactly one node rule is given: ``node``, ``node_column``, ``separator`` or
    ``column_rule`` (see :func:`read_metrics`). A column whose values are all non-numeric
    is skipped and counted as ``non_numeric_column``; single non-numeric values become
    ``NaN`` (``non_finite_value``).

    Args:
        frame: The wide table.
        time_column: The time column (default: found by name, :data:`TIME_COLUMN_NAMES`).
        node: A fixed node for every metric column.
        node_column: A column holding each row's node.
        separator: Column names are ``"<node><separator><metric>"``.
        column_rule: ``column -> (node, metric)`` or ``None`` to skip the column.
        exclude: Further columns that are not metrics.
        time_unit: Unit of numeric timestamps.
        time_format: ``strftime`` format of text timestamps that are not ISO 8601.
        source: Name of the input for messages and the report.

    Returns:
        ``(metrics, report)``, samples ordered by time, then row, then column.

    Shapes:
        ``frame``: ``[T, 1 + M (+1)]`` -> metrics ``[T * M, 4]``.

    Example:
        >>> wide = pd.DataFrame({"ts": [1, 2], "pod": ["a", "b"], "cpu": [0.5, 0.6]})
        >>> metrics, _ = wide_to_long(wide, node_column="pod", time_unit="s")
        >>> metrics.values.tolist()
        [[1000000000, 'a', 'cpu', 0.5], [2000000000, 'b', 'cpu', 0.6]]
    """
    rules = [r for r in (node, node_column, separator, column_rule) if r is not None]
    if len(rules) != 1:
        raise SchemaError(
            "a wide metrics table needs exactly one node rule",
            source=source,
            field="node",
            expected="one of node=, node_column=, separator=, column_rule=",
            found=f"{len(rules)} given",
        )
    time_col = _find_time_column(frame, time_column, source)
    skip = {time_col, *exclude}
    if node_column is not None:
        require_column(frame, node_column, f"node column '{node_column}'", source)
        skip.add(node_column)
    _require_excluded(frame, exclude, source)
    report = IngestReport(source)
    value_columns, nodes, metrics, blocks = [], [], [], []
    for column in frame.columns:
        if column in skip:
            continue
        if _unnamed(column):
            report.add("unnamed_column", 1, f"column {str(column)!r} (no name; left out)")
            continue
        owner = _column_owner(str(column), node, separator, column_rule, source)
        if owner is None:
            continue
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            numeric = pd.to_numeric(values, errors="coerce")
            if numeric.isna().all() and values.notna().any():
                report.add("non_numeric_column", 1, f"column '{column}'")
                continue
            values = numeric
        value_columns.append(column)
        nodes.append(str(owner[0]))
        metrics.append(str(owner[1]))
        blocks.append(values.to_numpy(dtype=np.float64, na_value=np.nan))
    n_rows, n_cols = len(frame), len(value_columns)
    ts = _times(frame[time_col], time_unit, time_format, source, str(time_col))
    values = np.stack(blocks, axis=1) if blocks else np.empty((n_rows, 0))
    if node_column is not None:
        row_nodes = frame[node_column]
        node_values = np.repeat(row_nodes.to_numpy(dtype=object), n_cols)
    else:
        node_values = np.tile(np.array(nodes, dtype=object), n_rows)
    long = pd.DataFrame(
        {
            "ts_ns": np.repeat(ts, n_cols),
            "node": pd.Series(node_values, dtype=object),
            "metric": pd.Series(np.tile(np.array(metrics, dtype=object), n_rows), dtype=object),
            "value": values.reshape(-1),
        }
    )
    out, checked = validate_metrics(long, source)
    report.n_records = n_rows * n_cols
    report.n_kept = checked.n_kept
    report.absorb(checked)
    return out, report


# ------------------------------------------------------------------------- edge metrics


def read_edge_metrics(
    source: PathLike | pd.DataFrame,
    format: str = "auto",
    *,
    columns: Mapping[str, str] | None = None,
    time_unit: TimeUnit = "auto",
    time_format: str | None = None,
    time_column: str | None = None,
    separator: str | None = None,
    metric: str | None = None,
    exclude: Sequence[str] = (),
) -> tuple[pd.DataFrame, IngestReport]:
    """Read per call-graph edge metric samples into the canonical edge-metrics frame.

    Edge metrics are measured on an edge ``src -> dst`` (caller -> callee) rather than on
    one node, e.g. a service mesh's median RPC latency of the calls from ``src`` to
    ``dst`` seen at the caller or at the callee (Nezha's ``source_50.csv`` /
    ``destination_50.csv``).

    Layouts:

    * **long**: one row per sample, columns ``ts_ns`` (or a time column named as in
      :data:`TIME_COLUMN_NAMES`), ``src, dst, metric, value``, or any names through
      ``columns=``. Without a ``metric`` column, ``metric=`` names the metric of every
      row.
    * **wide**: a time column and one column per edge named
      ``"<src><separator><dst>"``; every column is one metric, named by ``metric=``, else
      after the file (``source_50.csv.xz`` -> ``"source_50"``). A column name holding the
      separator other than exactly once, or with an empty side, is left out and counted as
      ``unresolved_edge_column`` (the column named in the report); further time columns
      (named as in :data:`TIME_COLUMN_NAMES`, e.g. Nezha's ``time`` next to
      ``timestamp``) are left out and counted as ``extra_time_column``; a column of text
      only is left out and counted as ``non_numeric_column``. An empty (missing) cell
      is an absent sample, e.g. no call on that edge in that minute: it is dropped and
      counted as ``no_calls``.

    A value that is not a finite number (``+Inf``, text) is kept as ``NaN`` and counted
    as ``non_finite_value``; samples out of time order are sorted and counted as
    ``out_of_order`` (:func:`~graphad.ingest.schema.validate_edge_metrics`).

    Args:
        source: A path (CSV/TSV plain or compressed, Parquet) or a ``DataFrame``.
        format: One of :data:`EDGE_METRIC_FORMATS`. ``"auto"``: a table with (mapped)
            ``src``, ``dst`` and ``value`` columns -> long; another table -> wide.
        columns: Canonical name -> the table's column name, e.g. ``{"ts_ns": "t",
            "src": "caller", "dst": "callee"}`` (wide tables: only ``"ts_ns"``).
        time_unit: Unit of numeric timestamps (``"auto"`` infers it from magnitude).
        time_format: A ``strftime`` format for text timestamps that are not ISO 8601.
        time_column: The time column (default: ``columns["ts_ns"]``, else the first
            column named as in :data:`TIME_COLUMN_NAMES`).
        separator: Wide tables (required): what joins caller and callee in a column
            name, e.g. ``"_"`` for ``"frontend_cartservice"``.
        metric: The metric name of a wide table (default: the file stem; a wide frame
            needs it) or of a long table without a ``metric`` column.
        exclude: Wide tables: further columns that are not edges.

    Returns:
        ``(edge_metrics, report)``: columns ``ts_ns, src, dst, metric, value`` sorted by
        time (then row, then column), and the report (``unresolved_edge_column``,
        ``extra_time_column``, ``no_calls``, ``non_numeric_column``,
        ``non_finite_value``, ``out_of_order``). For a wide table ``n_records`` counts
        the cells of its edge columns, ``n_kept`` the samples returned.

    Shapes:
        Wide ``[T, 1 + E]`` -> edge metrics ``[<= T * E, 5]``.

    Raises:
        ParseError: The file cannot be read as a table.
        SchemaError: A needed column is missing; a wide table without ``separator``, a
            wide frame without ``metric``, a long table without a metric.
        GraphadInputError: A timestamp or name is unreadable; the message names the
            file, the record (1-based data row) and the field.

    Example:
        >>> wide = pd.DataFrame({"timestamp": [0, 60], "web_db": [0.004, 0.005],
        ...                      "web_cache": [0.001, None], "web_x_y": [1.0, 1.0]})
        >>> edges, report = read_edge_metrics(wide, separator="_", metric="p50", time_unit="s")
        >>> edges.values.tolist()[:2]
        [[0, 'web', 'db', 'p50', 0.004], [0, 'web', 'cache', 'p50', 0.001]]
        >>> edges["ts_ns"].tolist()
        [0, 0, 60000000000]
        >>> dict(report.counts)
        {'unresolved_edge_column': 1, 'no_calls': 1}
        >>> report.examples["unresolved_edge_column"]
        ["column 'web_x_y' ('_' occurs 2 times, not once; left out)"]
    """
    name = check_source(source, format, EDGE_METRIC_FORMATS, "edge metrics")
    read = IngestReport(name)
    frame = source if isinstance(source, pd.DataFrame) else read_table(source, report=read)
    renamed = rename_columns(frame, columns, name)
    if format == "auto":
        format = "long" if {"src", "dst", "value"} <= set(renamed.columns) else "wide"
    if format == "long":
        edges, report = _read_long_edges(
            renamed, columns, time_unit, time_format, time_column, metric, name
        )
        return edges, read.merge(report)
    if not separator:
        raise SchemaError(
            "a wide edge-metrics table needs a separator",
            source=name,
            field="separator",
            expected=(
                "separator= (the CLI's --edge-separator) joining caller and callee in the "
                f"column names, or a long table with columns {list(EDGE_METRIC_COLUMNS)} "
                "(mapped through columns=)"
            ),
            found=columns_text(frame),
        )
    if metric is None:
        if isinstance(source, pd.DataFrame):
            raise SchemaError(
                "a wide edge-metrics frame needs a metric name",
                source=name,
                field="metric",
                expected="metric='<name>' (a wide file is named after its stem)",
                found="a DataFrame and no metric=",
            )
        metric = _file_stem(source)
    edges, report = _wide_edges(
        frame,
        time_column or (columns or {}).get("ts_ns"),
        separator,
        metric,
        exclude,
        time_unit,
        time_format,
        name,
    )
    return edges, read.merge(report)


def _read_long_edges(
    frame: pd.DataFrame,
    columns: Mapping[str, str] | None,
    time_unit: TimeUnit,
    time_format: str | None,
    time_column: str | None,
    metric: str | None,
    source: str,
) -> tuple[pd.DataFrame, IngestReport]:
    column = _find_time_column(frame, time_column, source)
    has_metric = "metric" in frame.columns
    if has_metric and metric is not None:
        raise GraphadInputError(
            "metric named twice",
            source=source,
            field=(columns or {}).get("metric", "metric"),
            expected="a metric column or metric=..., not both",
            found=f"a metric column and metric={metric!r}",
        )
    needed = ("src", "dst", "value") if metric is not None else ("src", "dst", "metric", "value")
    _require_long(frame, needed, EDGE_METRIC_COLUMNS, columns, source)
    ts = _long_times(frame, column, columns, time_unit, time_format, source)
    work = pd.DataFrame(
        {
            "ts_ns": ts,
            "src": frame["src"].to_numpy(dtype=object),
            "dst": frame["dst"].to_numpy(dtype=object),
            "metric": frame["metric"].to_numpy(dtype=object) if has_metric else metric,
            "value": frame["value"].to_numpy(),
        }
    )
    return validate_edge_metrics(work, source)


def _wide_edges(
    frame: pd.DataFrame,
    time_column: str | None,
    separator: str,
    metric: str,
    exclude: Sequence[str],
    time_unit: TimeUnit,
    time_format: str | None,
    source: str,
) -> tuple[pd.DataFrame, IngestReport]:
    """A wide edge table (time + one column per ``<src><separator><dst>``) -> long."""
    time_col = _find_time_column(frame, time_column, source)
    _require_excluded(frame, exclude, source)
    report = IngestReport(source)
    skip = {time_col, *exclude}
    edges: list[tuple[str, str]] = []
    names: list[str] = []
    blocks: list[np.ndarray] = []
    absent: list[np.ndarray] = []
    for column in frame.columns:
        if column in skip:
            continue
        if _unnamed(column):
            report.add("unnamed_column", 1, f"column {str(column)!r} (no name; left out)")
            continue
        text = str(column)
        if text.strip().lower() in TIME_COLUMN_NAMES:
            report.add("extra_time_column", 1, f"column {text!r} (not an edge; left out)")
            continue
        times = text.count(separator)
        src, _, dst = text.partition(separator)
        if times != 1 or not src.strip() or not dst.strip():
            why = (
                f"{separator!r} occurs {times} times, not once"
                if times != 1
                else "an empty caller or callee"
            )
            report.add("unresolved_edge_column", 1, f"column {text!r} ({why}; left out)")
            continue
        values = frame[column]
        empty = values.isna().to_numpy(dtype=bool)
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            if not pd.api.types.is_bool_dtype(values):  # blank text is an empty cell too
                empty = empty | values.astype(str).str.strip().eq("").to_numpy(dtype=bool)
            numeric = pd.to_numeric(values.where(~empty), errors="coerce")
            if numeric.isna().all() and not empty.all():
                report.add("non_numeric_column", 1, f"column {text!r}")
                continue
            values = numeric
        edges.append((src, dst))
        names.append(text)
        blocks.append(values.to_numpy(dtype=np.float64, na_value=np.nan))
        absent.append(empty)
    n_rows, n_edges = len(frame), len(edges)
    ts = _times(frame[time_col], time_unit, time_format, source, str(time_col))
    values = np.stack(blocks, axis=1) if blocks else np.empty((n_rows, 0))
    no_calls = np.stack(absent, axis=1) if absent else np.zeros((n_rows, 0), dtype=bool)
    if no_calls.any():
        row, col = (int(i[0]) for i in np.nonzero(no_calls))
        report.add("no_calls", int(no_calls.sum()), f"record {row + 1}, column {names[col]!r}")
    keep = ~no_calls.reshape(-1)
    bad = ~np.isfinite(values) & ~no_calls
    if bad.any():  # located in the wide table, not in the long frame
        row, col = (int(i[0]) for i in np.nonzero(bad))
        report.examples["non_finite_value"] = [f"record {row + 1}, column {names[col]!r}"]
    long = pd.DataFrame(
        {
            "ts_ns": np.repeat(ts, n_edges)[keep],
            "src": np.tile(np.array([s for s, _ in edges], dtype=object), n_rows)[keep],
            "dst": np.tile(np.array([d for _, d in edges], dtype=object), n_rows)[keep],
            "metric": metric,
            "value": values.reshape(-1)[keep],
        }
    )
    out, checked = validate_edge_metrics(long, source)
    report.n_records = n_rows * n_edges
    report.n_kept = checked.n_kept
    for kind in report.examples:  # located in the wide table already
        checked.examples.pop(kind, None)
    report.absorb(checked)
    return out, report


# --------------------------------------------------------------------------- Prometheus


def _series_name(
    labels: dict,
    node_key: str,
    metric_name: str | None,
    metric_labels: str | Sequence[str],
    where: str,
    source: str,
) -> str:
    name = labels.get("__name__") or metric_name
    if not name:
        raise SchemaError(
            "series has no metric name",
            source=source,
            record=where,
            field="__name__",
            expected="a '__name__' label or metric_name=...",
            found=f"labels {sorted(labels)}",
        )
    if metric_labels == "rest":
        extra = sorted(k for k in labels if k not in ("__name__", node_key))
    else:
        extra = [k for k in metric_labels if k in labels]
    if not extra:
        return str(name)
    inner = ",".join(f'{k}="{labels[k]}"' for k in extra)
    return f"{name}{{{inner}}}"


def parse_prometheus(
    documents: list[object],
    source: str = "<prometheus>",
    *,
    node_label: str | Sequence[str] = "instance",
    metric_name: str | None = None,
    metric_labels: str | Sequence[str] = "rest",
) -> tuple[pd.DataFrame, IngestReport]:
    """Turn parsed Prometheus HTTP API answers (``query_range`` / ``query``) into metrics.

    Timestamps (float seconds) are kept to the millisecond, Prometheus' resolution.
    Values ``"NaN"``, ``"+Inf"``, ``"-Inf"`` are kept as ``NaN`` (``non_finite_value``).

    Args:
        documents: Parsed answers, ``{"status": "success", "data": {"resultType":
            "matrix", "result": [{"metric": {...}, "values": [[ts, "v"], ...]}]}}``.
        source: Name of the input for messages and the report.
        node_label: See :func:`read_metrics`.
        metric_name: See :func:`read_metrics`.
        metric_labels: See :func:`read_metrics`.

    Returns:
        ``(metrics, report)``.

    Raises:
        ParseError: The answer is an error or not a matrix/vector.
        SchemaError: A series lacks the node label or a metric name.

    Example:
        >>> answer = {"status": "success", "data": {"resultType": "matrix", "result": [
        ...     {"metric": {"__name__": "up", "instance": "web:9090"},
        ...      "values": [[1.5, "1"], [16.5, "NaN"]]}]}}
        >>> metrics, report = parse_prometheus([answer])
        >>> metrics.values.tolist()[0], dict(report.counts)
        ([1500000000, 'web:9090', 'up', 1.0], {'non_finite_value': 1})
    """
    labels_wanted = [node_label] if isinstance(node_label, str) else list(node_label)
    stamps: list = []
    texts: list = []
    names: list[tuple[str, str]] = []
    lengths: list[int] = []
    many = len(documents) > 1
    for d, document in enumerate(documents, start=1):
        prefix = f"line {d}, " if many else ""
        result = _prometheus_result(document, prefix, source)
        for i, series in enumerate(result):
            where = f"{prefix}data.result[{i}]"
            labels = series.get("metric") if isinstance(series, dict) else None
            if not isinstance(labels, dict):
                raise ParseError(
                    "series without labels",
                    source=source,
                    record=where,
                    field="metric",
                    expected="an object of labels",
                    found=type(labels).__name__,
                )
            key = next((k for k in labels_wanted if labels.get(k)), None)
            if key is None:
                raise SchemaError(
                    "series has no node label",
                    source=source,
                    record=where,
                    field=labels_wanted[0],
                    expected=f"one of the labels {labels_wanted} (see node_label=)",
                    found=f"labels {sorted(labels)}",
                )
            name = _series_name(labels, key, metric_name, metric_labels, where, source)
            samples = series.get("values")
            if samples is None and "value" in series:
                samples = [series["value"]]
            if not isinstance(samples, list):
                raise ParseError(
                    "series without samples",
                    source=source,
                    record=where,
                    field="values",
                    expected="a list of [timestamp, value] pairs",
                    found=type(samples).__name__,
                )
            for j, sample in enumerate(samples):
                if not isinstance(sample, (list, tuple)) or len(sample) != 2:
                    raise ParseError(
                        "bad sample",
                        source=source,
                        record=f"{where}.values[{j}]",
                        expected="a [timestamp, value] pair",
                        found=repr(sample)[:60],
                    )
            stamps.extend(s[0] for s in samples)
            texts.extend(s[1] for s in samples)
            names.append((str(labels[key]), name))
            lengths.append(len(samples))
    seconds = pd.to_numeric(pd.Series(stamps, dtype=object), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    if not np.isfinite(seconds).all():
        row = int(np.flatnonzero(~np.isfinite(seconds))[0])
        raise GraphadInputError(
            "unreadable sample timestamp",
            source=source,
            record=f"sample {row + 1}",
            field="values",
            expected="epoch seconds",
            found=repr(stamps[row]),
        )
    outside = np.abs(seconds) >= _MAX_EPOCH_S
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        raise GraphadInputError(
            "sample timestamp out of range",
            source=source,
            record=f"sample {row + 1}",
            field="values",
            expected="epoch seconds between the years 1677 and 2262",
            found=repr(stamps[row])[:60],
        )
    ts = np.round(seconds * 1e3).astype(np.int64) * 1_000_000
    counts = np.array(lengths, dtype=np.int64)
    order = _series_major_order(ts, counts)
    frame = pd.DataFrame(
        {
            "ts_ns": ts,
            "node": pd.Series(
                np.repeat(np.array([n for n, _ in names], dtype=object), counts), dtype=object
            ),
            "metric": pd.Series(
                np.repeat(np.array([m for _, m in names], dtype=object), counts), dtype=object
            ),
            "value": pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce"),
        }
    )
    if order is not None:
        frame = frame.take(order).reset_index(drop=True)
    return validate_metrics(frame, source)


def _series_major_order(ts: np.ndarray, counts: np.ndarray) -> np.ndarray | None:
    """Time order of samples laid out series after series, when each series is sorted.

    Series-major order is how the API answers, not a disorder, so it is not counted as
    ``out_of_order``; a series whose own samples go back in time is left for validation
    to sort and count.
    """
    if len(ts) < 2:
        return None
    starts = np.cumsum(counts) - counts
    inside = np.ones(len(ts) - 1, dtype=bool)
    inside[starts[(starts > 0) & (starts < len(ts))] - 1] = False
    if (np.diff(ts)[inside] < 0).any():
        return None
    return np.argsort(ts, kind="stable")


def _prometheus_result(document: object, prefix: str, source: str) -> list:
    where = f"{prefix}document".strip(", ") if prefix else "document"
    if not isinstance(document, dict) or "data" not in document:
        if isinstance(document, dict) and document.get("status") == "error":
            raise ParseError(
                "Prometheus returned an error",
                source=source,
                record=where,
                field="status",
                expected="status 'success'",
                found=f"{document.get('errorType')}: {document.get('error')}",
            )
        raise ParseError(
            "not a Prometheus query answer",
            source=source,
            record=where,
            field="data",
            expected="an object with 'data.result'",
            found=f"keys {sorted(document)[:8]}"
            if isinstance(document, dict)
            else type(document).__name__,
        )
    if document.get("status", "success") != "success":
        raise ParseError(
            "Prometheus returned an error",
            source=source,
            record=where,
            field="status",
            expected="status 'success'",
            found=f"{document.get('errorType')}: {document.get('error')}",
        )
    data = document["data"]
    kind = data.get("resultType") if isinstance(data, dict) else None
    if kind not in ("matrix", "vector"):
        raise ParseError(
            "unsupported result type",
            source=source,
            record=where,
            field="data.resultType",
            expected="'matrix' (query_range) or 'vector' (query)",
            found=repr(kind),
        )
    result = data.get("result")
    if not isinstance(result, list):
        raise ParseError(
            "result is not a list",
            source=source,
            record=where,
            field="data.result",
            expected="a list of series",
            found=type(result).__name__,
        )
    return result
