"""Canonical telemetry frames and their validation.

Every reader in :mod:`graphad.ingest` returns one of these long pandas frames, checked
here (names and dtypes):

============ =================================================================== =====
frame        columns                                                             notes
============ =================================================================== =====
spans        trace_id, span_id, parent_id, service, operation, start_ns,         [1]
             duration_ns, status, kind (+ span_code, parent_code)
metrics      ts_ns, node, metric, value
edge metrics ts_ns, src, dst, metric, value                                      [2]
log events   ts_ns, node, template, count
============ =================================================================== =====

[1] ``parent_id`` is ``""`` for a root span; ``status`` is 1 for an error and 0 otherwise
(inputs without a status column get 0 everywhere, counted as ``status_unknown``);
``kind`` is ``"server"``, ``"client"``, ``"internal"``, ``"producer"``, ``"consumer"`` or
``""`` when unknown. Timestamps are int64 nanoseconds since the epoch, UTC.
:func:`validate_spans` appends two int64 columns, ``span_code`` and ``parent_code``: the
span -> parent join it computed, as labels that survive filtering and reordering (see
:func:`graphad.ingest.parents.code_columns`); change ids only by validating again.

[2] Samples measured on a call-graph edge ``src -> dst`` (caller -> callee) rather than on
one node, e.g. the RPC latency of the calls from ``src`` to ``dst`` as the caller or the
callee sees it; ``src`` / ``dst`` are raw entity names, like ``node`` of metrics.

Fatal problems (a required field missing, a value that cannot be read) raise
:class:`~graphad.exceptions.SchemaError` / :class:`~graphad.exceptions.GraphadInputError`
naming the source, the record (1-based row of the frame) and the field. Recoverable ones are
repaired as documented on each function and counted in the returned
:class:`~graphad.ingest.report.IngestReport`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import product

import numpy as np
import pandas as pd

from graphad.exceptions import GraphadInputError, SchemaError
from graphad.ingest._arrow import may_need_strip
from graphad.ingest.parents import SPAN_CODE_COLUMNS, code_columns, id_codes, join_codes
from graphad.ingest.report import IngestReport
from graphad.ingest.time import TimeUnit, infer_unit, to_ns

__all__ = [
    "SPAN_COLUMNS",
    "METRIC_COLUMNS",
    "EDGE_METRIC_COLUMNS",
    "LOG_COLUMNS",
    "SPAN_KINDS",
    "ROOT_PARENT_IDS",
    "validate_spans",
    "validate_metrics",
    "validate_edge_metrics",
    "validate_logs",
    "normalize_spans",
    "normalize_metrics",
    "normalize_edge_metrics",
    "normalize_logs",
    "check_mapped_columns",
    "require_column",
    "require_columns",
    "rename_columns",
    "SPAN_CODE_COLUMNS",
    "empty_spans",
    "empty_metrics",
    "empty_edge_metrics",
    "empty_logs",
]

SPAN_COLUMNS = (
    "trace_id",
    "span_id",
    "parent_id",
    "service",
    "operation",
    "start_ns",
    "duration_ns",
    "status",
    "kind",
)
METRIC_COLUMNS = ("ts_ns", "node", "metric", "value")
EDGE_METRIC_COLUMNS = ("ts_ns", "src", "dst", "metric", "value")
LOG_COLUMNS = ("ts_ns", "node", "template", "count")
SPAN_KINDS = ("", "server", "client", "internal", "producer", "consumer")
#: Parent-id spellings that mean "this span is a root" (after stripping, lower-cased).
ROOT_PARENT_IDS = frozenset({"", "root", "none", "null", "nan", "0", "0000000000000000"})
# Every upper/lower-case spelling of a non-empty root id: membership is then one exact
# look-up instead of lower-casing every id first. (The same set: no character outside
# A-Z lower-cases to a letter of these words.)
_ROOT_SPELLINGS = frozenset(
    "".join(chars)
    for word in ROOT_PARENT_IDS - {""}
    for chars in product(*({c.lower(), c.upper()} for c in word))
)

_REQUIRED_SPAN = ("trace_id", "span_id", "service", "start_ns", "duration_ns")

#: Earliest plausible record time of an input in epoch time: 1990-01-01 UTC, in ns.
PLAUSIBLE_START_NS = 631_152_000 * 10**9
#: A record more than this after its input's median time is implausible (at least; see
#: :func:`implausible_times`).
PLAUSIBLE_AFTER_MEDIAN_NS = 86_400 * 10**9
#: Span status rules (see :func:`normalize_spans`).
STATUS_RULES = ("nonzero", "http", "otel")
_OTEL_ERROR_NAMES = frozenset({"2", "error", "status_code_error"})


def columns_text(frame: pd.DataFrame, limit: int = 20) -> str:
    """The columns of ``frame`` for a message: ``"columns ['a', 'b']"``, at most ``limit``.

    Example:
        >>> columns_text(pd.DataFrame(columns=list("abc")), limit=2)
        "columns ['a', 'b', ...] (3 in all)"
    """
    names = [str(c)[:40] for c in frame.columns[:limit]]
    if len(frame.columns) <= limit:
        return f"columns {names}"
    shown = ", ".join(repr(n) for n in names)
    return f"columns [{shown}, ...] ({len(frame.columns)} in all)"


def implausible_times(ts: np.ndarray) -> np.ndarray:
    """Which times lie outside the plausible range of their input.

    A time is implausible when it is before 1990-01-01 (:data:`PLAUSIBLE_START_NS`; for an
    input whose median time is before 1990, i.e. relative times, before 0), or later than
    the median time plus the larger of one day (:data:`PLAUSIBLE_AFTER_MEDIAN_NS`) and
    twice the distance from the 1st percentile to the median (so that a capture of many
    days keeps its last days).

    Args:
        ts: Times in ns, int64 ``[n]``.

    Returns:
        bool ``[n]``.

    Example:
        >>> day = 86_400 * 10**9
        >>> t0 = 1_700_000_000 * 10**9
        >>> implausible_times(np.array([t0, t0 + 1, t0 + 2 * day, 5])).tolist()
        [False, False, True, True]
    """
    ts = np.asarray(ts, dtype=np.int64)
    if len(ts) == 0:
        return np.zeros(0, dtype=bool)
    median = float(np.median(ts))
    lower = PLAUSIBLE_START_NS if median >= PLAUSIBLE_START_NS else 0
    early = ts < lower
    low = float(np.percentile(ts[~early], 1)) if (~early).any() else median
    upper = median + max(PLAUSIBLE_AFTER_MEDIAN_NS, 2.0 * (median - low))
    return early | (ts.astype(np.float64) > upper)


def drop_implausible(
    columns: dict[str, np.ndarray | pd.Series], ts: str, report: IngestReport
) -> dict[str, np.ndarray | pd.Series]:
    """``columns`` without the rows whose ``ts`` column is implausible.

    They are counted as ``implausible_time`` (see :func:`implausible_times`).
    """
    bad = implausible_times(np.asarray(columns[ts]))
    if not bad.any():
        return columns
    first = int(np.flatnonzero(bad)[0])
    report.add(
        "implausible_time",
        int(bad.sum()),
        f"record {first + 1} ({_iso(np.asarray(columns[ts])[first])}; dropped)",
    )
    keep = np.flatnonzero(~bad)
    return {
        name: (
            values.iloc[keep].reset_index(drop=True)
            if isinstance(values, pd.Series)
            else np.asarray(values)[keep]
        )
        for name, values in columns.items()
    }


def _iso(ns: int) -> str:
    try:
        return pd.Timestamp(int(ns), unit="ns", tz="UTC").isoformat()
    except (ValueError, OverflowError):  # pragma: no cover - int64 always fits
        return f"{int(ns)} ns"


def empty_spans() -> pd.DataFrame:
    """An empty, correctly typed spans frame (with its code columns)."""
    spans = _typed_spans(pd.DataFrame({c: [] for c in SPAN_COLUMNS}))
    for column in SPAN_CODE_COLUMNS:
        spans[column] = np.zeros(0, dtype=np.int64)
    return spans


def empty_metrics() -> pd.DataFrame:
    """An empty, correctly typed metrics frame."""
    return pd.DataFrame(
        {
            "ts_ns": np.array([], dtype=np.int64),
            "node": np.array([], dtype=object),
            "metric": np.array([], dtype=object),
            "value": np.array([], dtype=np.float64),
        }
    )


def empty_edge_metrics() -> pd.DataFrame:
    """An empty, correctly typed edge-metrics frame (columns :data:`EDGE_METRIC_COLUMNS`)."""
    return pd.DataFrame(
        {
            "ts_ns": np.array([], dtype=np.int64),
            "src": np.array([], dtype=object),
            "dst": np.array([], dtype=object),
            "metric": np.array([], dtype=object),
            "value": np.array([], dtype=np.float64),
        }
    )


def empty_logs() -> pd.DataFrame:
    """An empty, correctly typed log-events frame."""
    return pd.DataFrame(
        {
            "ts_ns": np.array([], dtype=np.int64),
            "node": np.array([], dtype=object),
            "template": np.array([], dtype=object),
            "count": np.array([], dtype=np.int64),
        }
    )


def require_columns(frame: pd.DataFrame, columns: Sequence[str], source: str) -> None:
    """Raise :class:`SchemaError` (``"required field missing"``, naming the first absent
    column) unless ``frame`` has every one of ``columns``.

    Args:
        frame: The table.
        columns: The columns it must have.
        source: Name of the input for messages.
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            "required field missing"
            + (f" (all missing: {', '.join(missing)})" if len(missing) > 1 else ""),
            source=source,
            field=missing[0],
            expected=f"columns {list(columns)}",
            found=columns_text(frame),
        )


def _as_int64(frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
    series = frame[column]
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu":
        array = series.to_numpy()
        if array.dtype.kind == "u" and len(array) and array.max() > _INT64_MAX:
            row = int(np.argmax(array))
            raise _out_of_range(series, row, column, source)
        return array.astype(np.int64, copy=False)  # nothing to check
    values = pd.to_numeric(series, errors="coerce")
    floats = values.to_numpy(dtype=float, na_value=np.nan)
    bad = values.isna().to_numpy() | ~np.isfinite(floats)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise GraphadInputError(
            "value is not a number",
            source=source,
            record=row + 1,
            field=column,
            expected="an integer",
            found=repr(series.iloc[row]),
        )
    wide = np.abs(floats) >= 2.0**63
    if wide.any():
        raise _out_of_range(series, int(np.flatnonzero(wide)[0]), column, source)
    array = values.to_numpy()
    if array.dtype == object:  # Python ints (exact) that did not fit a numpy type
        return np.array([int(v) for v in array], dtype=np.int64)
    return array.astype(np.int64)


_INT64_MAX = 2**63 - 1


def _out_of_range(series: pd.Series, row: int, column: str, source: str) -> GraphadInputError:
    return GraphadInputError(
        "value out of range",
        source=source,
        record=row + 1,
        field=column,
        expected="an integer of at most 19 digits (int64; times between 1677 and 2262)",
        found=repr(series.iloc[row])[:40],
    )


def _as_str(frame: pd.DataFrame, column: str, source: str, allow_empty: bool) -> pd.Series:
    series = frame[column]
    missing = series.isna().to_numpy()
    text = series.astype(str)
    if may_need_strip(text):
        text = text.str.strip()
    if not allow_empty:
        bad = missing | (text == "").to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise GraphadInputError(
                "empty value",
                source=source,
                record=row + 1,
                field=column,
                expected="a non-empty string",
                found=repr(series.iloc[row]),
            )
    elif missing.any():
        # pandas >= 3 keeps missing values missing through astype(str) (then a cheap fillna
        # does it); older pandas spells them "nan" / "None".
        kept = (text.isna().to_numpy() == missing).all()
        text = pd.Series(text.array.fillna(""), copy=False) if kept else text.where(~missing, "")
    return text.reset_index(drop=True)


def _empty_text(n: int) -> pd.Series:
    """``n`` empty strings in the text dtype of the canonical frames."""
    return pd.Series([""], dtype=str).take(np.zeros(n, dtype=np.intp)).reset_index(drop=True)


def _typed_spans(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "trace_id": frame["trace_id"].astype(str),
            "span_id": frame["span_id"].astype(str),
            "parent_id": frame["parent_id"].astype(str),
            "service": frame["service"].astype(str),
            "operation": frame["operation"].astype(str),
            "start_ns": frame["start_ns"].astype(np.int64),
            "duration_ns": frame["duration_ns"].astype(np.int64),
            "status": frame["status"].astype(np.int8),
            "kind": frame["kind"].astype(str),
        }
    )
    return out.reset_index(drop=True)


def validate_spans(
    frame: pd.DataFrame, source: str = "<frame>", *, status_rule: str = "nonzero"
) -> tuple[pd.DataFrame, IngestReport]:
    """Check a spans frame and return it in canonical form with a report.

    Repairs, each counted in the report under the name given:

    * no ``status`` column: status 0 for every span (``status_unknown``);
    * no ``operation`` / ``kind`` column: ``""`` (not counted, both are optional);
    * a parent id spelled as one of :data:`ROOT_PARENT_IDS`: ``""`` (a root);
    * a start time outside the plausible range (:func:`implausible_times`): the span is
      dropped (``implausible_time``);
    * negative ``duration_ns``: set to 0 (``negative_duration``);
    * a span that is its own parent: made a root (``self_parent``);
    * the same ``(trace_id, span_id)`` twice: the first is kept (``duplicate_span_id``);
    * a span id used in more than one trace: kept, parents being matched within their
      trace (``span_id_across_traces``);
    * a parent id that is no span's id: kept as it is (``orphan_span``);
    * spans not sorted by ``start_ns``: sorted, stable (``out_of_order``);
    * parent links that go round in a cycle: the cycle's earliest span is made a root
      (``parent_cycle``, one per cycle).

    Text columns come back in pandas' string dtype (``str``, Arrow-backed, with pandas >= 3
    and pyarrow).

    Args:
        frame: Spans with at least ``trace_id, span_id, service, start_ns, duration_ns``
            (times already in ns; use :func:`normalize_spans` to map and convert).
        source: Name of the input for messages and the report.
        status_rule: How the ``status`` column tells an error: ``"nonzero"`` (any value
            but 0), ``"http"`` (an HTTP status >= 500) or ``"otel"`` (an OpenTelemetry
            status code 2, or ``"ERROR"`` / ``"STATUS_CODE_ERROR"``).

    Returns:
        ``(spans, report)``: the canonical frame with columns :data:`SPAN_COLUMNS` and
        the code columns ``span_code, parent_code`` (the parent join, see
        :func:`~graphad.ingest.parents.code_columns`), and the
        ingestion report.

    Raises:
        SchemaError: A required column is missing.
        GraphadInputError: A required value is missing or not a number.

    Example:
        >>> raw = pd.DataFrame({"trace_id": ["t", "t"], "span_id": ["a", "b"],
        ...     "parent_id": ["root", "a"], "service": ["web", "db"],
        ...     "start_ns": [0, 5], "duration_ns": [10, -1]})
        >>> spans, report = validate_spans(raw, "demo")
        >>> spans["parent_id"].tolist(), spans["duration_ns"].tolist()
        (['', 'a'], [10, 0])
        >>> dict(report.counts)
        {'status_unknown': 2, 'negative_duration': 1}

    """
    require_columns(frame, _REQUIRED_SPAN, source)
    if status_rule not in STATUS_RULES:
        raise GraphadInputError(
            f"Could not resolve '{status_rule}' among choices {list(STATUS_RULES)}",
            source=source,
            field="status_rule",
        )
    report = IngestReport(source, n_records=len(frame))
    start_ns = _as_int64(frame, "start_ns", source)
    implausible = implausible_times(start_ns)
    if implausible.any():
        first = int(np.flatnonzero(implausible)[0])
        report.add(
            "implausible_time",
            int(implausible.sum()),
            f"record {first + 1} (start {_iso(start_ns[first])}; dropped)",
        )
        frame = frame.iloc[np.flatnonzero(~implausible)]
        start_ns = start_ns[~implausible]
    n = len(frame)
    trace_id = _as_str(frame, "trace_id", source, allow_empty=False)
    span_id = _as_str(frame, "span_id", source, allow_empty=False)
    service = _as_str(frame, "service", source, allow_empty=False)
    duration_ns = _as_int64(frame, "duration_ns", source)
    parent = _parent_ids(frame, source) if "parent_id" in frame.columns else _empty_text(n)
    operation = (
        _as_str(frame, "operation", source, allow_empty=True)
        if "operation" in frame.columns
        else _empty_text(n)
    )
    if "status" in frame.columns:
        status = _span_status(frame, status_rule, source)
    else:
        status = np.zeros(n, dtype=np.int8)
        report.add("status_unknown", n, "no status field")
    kind = _span_kinds(frame, source) if "kind" in frame.columns else _empty_text(n)

    negative = duration_ns < 0
    if negative.any():
        first = np.flatnonzero(negative)[0] + 1
        report.add("negative_duration", int(negative.sum()), f"record {first}")
        duration_ns = np.where(negative, 0, duration_ns)

    own = ((parent == span_id) & (parent != "")).to_numpy()
    if own.any():
        report.add(
            "self_parent", int(own.sum()), f"record {np.flatnonzero(own)[0] + 1} (made a root)"
        )
        parent = parent.where(~own, "")

    # Ids are compared through integer codes: hashing each string once is much faster
    # than set membership on 10^6 strings.
    span_codes, parent_codes, num_codes = id_codes(span_id, parent)
    trace_codes = pd.factorize(trace_id)[0].astype(np.int64)
    duplicated = _repeated_pairs(trace_codes, span_codes, num_codes)
    if duplicated is not None:
        first = np.flatnonzero(duplicated)[0] + 1
        report.add("duplicate_span_id", int(duplicated.sum()), f"record {first}")
    keep = ~duplicated if duplicated is not None else np.ones(n, dtype=bool)
    uses = np.bincount(span_codes[keep & (span_codes >= 0)], minlength=num_codes)
    if n and uses.max(initial=0) > 1:
        shared = keep & (span_codes >= 0) & (uses[np.maximum(span_codes, 0)] > 1)
        report.add(
            "span_id_across_traces",
            int(shared.sum()),
            f"record {np.flatnonzero(shared)[0] + 1} (kept; parents are matched per trace)",
        )

    # A parent id is an orphan's when no span has it (code -1 or a code no span uses).
    present = np.zeros(num_codes + 1, dtype=bool)
    present[span_codes] = True
    present[-1] = False  # the slot of code -1, which matches nothing
    has_parent = (parent != "").to_numpy()
    orphan = keep & has_parent & ~present[parent_codes]
    if orphan.any():
        report.add("orphan_span", int(orphan.sum()), f"record {np.flatnonzero(orphan)[0] + 1}")

    rows = np.flatnonzero(keep) if duplicated is not None else None  # None: all, in order
    starts = start_ns if rows is None else start_ns[rows]
    descents = int((np.diff(starts) < 0).sum()) if len(starts) > 1 else 0
    if descents:
        report.add("out_of_order", descents, "spans re-sorted by start_ns")
        order = np.argsort(starts, kind="stable")
        rows = order if rows is None else rows[order]
    if rows is not None:
        trace_codes, span_codes, parent_codes = (
            trace_codes[rows],
            span_codes[rows],
            parent_codes[rows],
        )
    parents = join_codes(trace_codes, span_codes, parent_codes, num_codes)
    cut = _cycle_cuts(parents, starts if rows is None else start_ns[rows])
    if len(cut):
        report.add(
            "parent_cycle",
            len(cut),
            f"record {int(cut[0] if rows is None else rows[cut[0]]) + 1} (made a root)",
        )
        parent = parent.copy()
        parent.iloc[cut if rows is None else rows[cut]] = ""
        parents[cut] = -1
    # The join travels with the frame: integer codes that later readers of the calls
    # (graphad.graph.calls) turn back into parent rows without hashing an id again.
    ends = (0, n - 1) if rows is None or not len(rows) else (int(rows[0]), int(rows[-1]))
    tagged = (str(trace_id.iat[ends[0]]), str(span_id.iat[ends[1]])) if n else ()
    span_code, parent_code = code_columns(parents, tagged)

    spans = _frame(
        {
            "trace_id": trace_id,
            "span_id": span_id,
            "parent_id": parent,
            "service": service,
            "operation": operation,
            "start_ns": start_ns,
            "duration_ns": duration_ns,
            "status": status,
            "kind": kind,
        },
        rows,
    )
    spans["span_code"] = span_code
    spans["parent_code"] = parent_code
    report.n_kept = len(spans)
    return spans, report


def _parent_ids(frame: pd.DataFrame, source: str) -> pd.Series:
    """The ``parent_id`` column as text, every spelling of a root as ``""``."""
    parent = _as_str(frame, "parent_id", source, allow_empty=True)
    is_root = parent.isin(_ROOT_SPELLINGS).to_numpy()
    return parent.where(~is_root, "") if is_root.any() else parent


def _span_status(frame: pd.DataFrame, rule: str, source: str) -> np.ndarray:
    """The ``status`` column as 1 (error) / 0 under ``rule`` (see :func:`validate_spans`)."""
    if rule == "otel":
        text = (
            frame["status"].astype(str).str.strip().str.lower().str.replace(r"\.0$", "", regex=True)
        )
        return text.isin(_OTEL_ERROR_NAMES).to_numpy().astype(np.int8)
    codes = _as_int64(frame, "status", source)
    if rule == "http":
        return (codes >= 500).astype(np.int8)
    return (codes != 0).astype(np.int8)


def _cycle_cuts(parents: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Rows whose parent link to cut so that no parent chain goes round in a cycle.

    Pointer doubling finds, in ``O(n log n)``, the rows whose chain never reaches a root;
    each cycle among them then loses the link of its earliest span.

    Args:
        parents: Row of each row's parent, ``-1`` for none, int64 ``[n]``.
        starts: Start times, int64 ``[n]``.

    Returns:
        Sorted rows, int64 ``[c]`` (one per cycle).
    """
    n = len(parents)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    ancestor = parents.copy()
    for _ in range(int(np.ceil(np.log2(n + 1))) + 1):
        live = ancestor >= 0
        if not live.any():
            return np.zeros(0, dtype=np.int64)
        ancestor = np.where(live, ancestor[np.maximum(ancestor, 0)], -1)
    import networkx as nx

    stuck = np.flatnonzero(ancestor >= 0)
    graph = nx.DiGraph()
    graph.add_edges_from(zip(stuck.tolist(), parents[stuck].tolist(), strict=True))
    cuts = []
    for component in nx.weakly_connected_components(graph):
        cycle = [u for u, _ in nx.find_cycle(graph.subgraph(component))]
        cuts.append(min(cycle, key=lambda row: (starts[row], row)))
    return np.array(sorted(cuts), dtype=np.int64)


def _span_kinds(frame: pd.DataFrame, source: str) -> pd.Series:
    """The ``kind`` column in canonical spelling (normalised once per distinct value)."""
    kind = _as_str(frame, "kind", source, allow_empty=True)
    if kind.isin(SPAN_KINDS).all():
        return kind  # already canonical
    codes, uniques = pd.factorize(kind)
    names = pd.Series(uniques, dtype=kind.dtype).str.lower()
    names = names.str.replace("span_kind_", "", regex=False).replace("unspecified", "")
    bad = np.flatnonzero(~names.isin(SPAN_KINDS).to_numpy())
    if len(bad):
        row = int(np.flatnonzero(np.isin(codes, bad))[0])
        raise GraphadInputError(
            "unknown span kind",
            source=source,
            record=row + 1,
            field="kind",
            expected=f"one of {list(SPAN_KINDS)}",
            found=repr(frame["kind"].iloc[row]),
        )
    return names.take(codes).reset_index(drop=True)


def _repeated_pairs(
    trace_codes: np.ndarray, span_codes: np.ndarray, num_codes: int
) -> np.ndarray | None:
    """Which rows repeat an earlier ``(trace, span)`` pair; ``None`` when none does."""
    if np.bincount(span_codes, minlength=num_codes).max(initial=0) <= 1:
        return None  # span ids unique, so are the pairs
    key = trace_codes * num_codes + span_codes
    duplicated = pd.Series(key).duplicated(keep="first").to_numpy()
    return duplicated if duplicated.any() else None


def _frame(columns: dict[str, pd.Series | np.ndarray], rows: np.ndarray | None) -> pd.DataFrame:
    """The canonical frame of the given columns, taking ``rows`` (``None``: all, in order)."""
    out = {}
    for name, values in columns.items():
        values = values.array if isinstance(values, pd.Series) else values
        out[name] = values if rows is None else values.take(rows)
    return pd.DataFrame(out, copy=False)


def validate_metrics(
    frame: pd.DataFrame, source: str = "<frame>"
) -> tuple[pd.DataFrame, IngestReport]:
    """Check a long metrics frame and return it in canonical form with a report.

    Repairs: a value that is not a finite number (NaN, inf, text) becomes NaN and is kept
    (``non_finite_value``); a time outside the plausible range (:func:`implausible_times`)
    drops its row (``implausible_time``); rows not sorted by time are sorted
    (``out_of_order``).

    Args:
        frame: Columns ``ts_ns, node, metric, value`` (``ts_ns`` already in ns).
        source: Name of the input for messages and the report.

    Returns:
        ``(metrics, report)``.

    Raises:
        SchemaError: A required column is missing.
        GraphadInputError: A timestamp, node or metric is missing.

    Example:
        >>> raw = pd.DataFrame({"ts_ns": [1, 2], "node": ["a", "a"],
        ...                     "metric": ["cpu", "cpu"], "value": [0.5, float("inf")]})
        >>> metrics, report = validate_metrics(raw)
        >>> metrics["value"].isna().tolist(), dict(report.counts)
        ([False, True], {'non_finite_value': 1})

    """
    require_columns(frame, METRIC_COLUMNS, source)
    return _validate_samples(frame, ("node",), source)


def validate_edge_metrics(
    frame: pd.DataFrame, source: str = "<frame>"
) -> tuple[pd.DataFrame, IngestReport]:
    """Check a long edge-metrics frame and return it in canonical form with a report.

    The same checks and repairs as :func:`validate_metrics`, with the node replaced by the
    edge ``src -> dst``: a value that is not a finite number becomes NaN and is kept
    (``non_finite_value``); rows not sorted by time are sorted, stable
    (``out_of_order``).

    Args:
        frame: Columns ``ts_ns, src, dst, metric, value`` (``ts_ns`` already in ns), one
            row per (time, edge, metric) sample.
        source: Name of the input for messages and the report.

    Returns:
        ``(edge_metrics, report)``: the canonical frame with columns
        :data:`EDGE_METRIC_COLUMNS` (``ts_ns`` int64, ``src`` / ``dst`` / ``metric`` text,
        ``value`` float64), and the ingestion report.

    Raises:
        SchemaError: A required column is missing.
        GraphadInputError: A timestamp, ``src``, ``dst`` or metric is missing.

    Example:
        >>> raw = pd.DataFrame({"ts_ns": [2, 1], "src": ["web", "web"],
        ...     "dst": ["db", "db"], "metric": ["p50", "p50"], "value": [0.25, "n/a"]})
        >>> edges, report = validate_edge_metrics(raw)
        >>> edges["ts_ns"].tolist(), edges["value"].isna().tolist(), dict(report.counts)
        ([1, 2], [True, False], {'non_finite_value': 1, 'out_of_order': 1})

    """
    require_columns(frame, EDGE_METRIC_COLUMNS, source)
    return _validate_samples(frame, ("src", "dst"), source)


def _validate_samples(
    frame: pd.DataFrame, entities: tuple[str, ...], source: str
) -> tuple[pd.DataFrame, IngestReport]:
    """The shared body of :func:`validate_metrics` / :func:`validate_edge_metrics`:
    ``ts_ns``, the ``entities`` text columns, ``metric`` and ``value``, typed and sorted.
    """
    report = IngestReport(source, n_records=len(frame))
    values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        report.add("non_finite_value", int(bad.sum()), f"record {np.flatnonzero(bad)[0] + 1}")
        values = np.where(bad, np.nan, values)
    columns: dict[str, np.ndarray] = {"ts_ns": _as_int64(frame, "ts_ns", source)}
    for name in (*entities, "metric"):
        columns[name] = _as_str(frame, name, source, allow_empty=False).to_numpy(dtype=object)
    columns["value"] = values
    columns = drop_implausible(columns, "ts_ns", report)
    out = _sort_by_time(pd.DataFrame(columns), report)
    report.n_kept = len(out)
    return out, report


def validate_logs(
    frame: pd.DataFrame, source: str = "<frame>"
) -> tuple[pd.DataFrame, IngestReport]:
    """Check a log-events frame and return it in canonical form with a report.

    Repairs: a time outside the plausible range (:func:`implausible_times`) drops its row
    (``implausible_time``); rows not sorted by time are sorted (``out_of_order``). A
    missing ``count`` column means one event per row.

    Args:
        frame: Columns ``ts_ns, node, template`` and optionally ``count``.
        source: Name of the input for messages and the report.

    Returns:
        ``(log_events, report)``.

    Raises:
        SchemaError: A required column is missing.
        GraphadInputError: A value is missing, or a count is negative.

    Example:
        >>> raw = pd.DataFrame({"ts_ns": [3, 1], "node": ["a", "b"], "template": ["x", "y"]})
        >>> logs, report = validate_logs(raw)
        >>> logs["ts_ns"].tolist(), logs["count"].tolist(), dict(report.counts)
        ([1, 3], [1, 1], {'out_of_order': 1})

    """
    require_columns(frame, ("ts_ns", "node", "template"), source)
    report = IngestReport(source, n_records=len(frame))
    count = (
        _as_int64(frame, "count", source)
        if "count" in frame.columns
        else np.ones(len(frame), dtype=np.int64)
    )
    if (count < 0).any():
        row = int(np.flatnonzero(count < 0)[0])
        raise GraphadInputError(
            "negative event count",
            source=source,
            record=row + 1,
            field="count",
            expected="a count >= 0",
            found=int(count[row]),
        )
    columns = {
        "ts_ns": _as_int64(frame, "ts_ns", source),
        "node": _as_str(frame, "node", source, allow_empty=False).to_numpy(dtype=object),
        "template": _as_str(frame, "template", source, allow_empty=False).to_numpy(dtype=object),
        "count": count,
    }
    out = _sort_by_time(pd.DataFrame(drop_implausible(columns, "ts_ns", report)), report)
    report.n_kept = len(out)
    return out, report


def _sort_by_time(frame: pd.DataFrame, report: IngestReport) -> pd.DataFrame:
    ts = frame["ts_ns"].to_numpy()
    descents = int((np.diff(ts) < 0).sum()) if len(ts) > 1 else 0
    if descents:
        report.add("out_of_order", descents)
        frame = frame.sort_values("ts_ns", kind="stable").reset_index(drop=True)
    return frame


def check_mapped_columns(
    frame: pd.DataFrame, columns: Mapping[str, str] | None, source: str
) -> None:
    """Raise :class:`SchemaError` unless every mapped user column is in ``frame``.

    Args:
        frame: The user's table.
        columns: Canonical name -> the user's column name.
        source: Name of the input for messages.
    """
    for canonical, user in (columns or {}).items():
        require_column(frame, user, f"mapped column '{user}' (for '{canonical}')", source)


def require_column(frame: pd.DataFrame, column: str, description: str, source: str) -> None:
    """Raise :class:`SchemaError` (``"<description> not found"``) unless ``frame`` has ``column``.

    Args:
        frame: The user's table.
        column: The column it must have.
        description: How the message names it, e.g. ``"time column 'ts'"``.
        source: Name of the input for messages.
    """
    if column not in frame.columns:
        raise SchemaError(
            f"{description} not found",
            source=source,
            field=column,
            expected=f"a column named '{column}'",
            found=columns_text(frame),
        )


def rename_columns(
    frame: pd.DataFrame, columns: Mapping[str, str] | None, source: str
) -> pd.DataFrame:
    """Rename user columns to canonical ones; ``columns`` maps canonical -> user name.

    Example:
        >>> rename_columns(pd.DataFrame({"t": [1]}), {"ts_ns": "t"}, "x").columns.tolist()
        ['ts_ns']
    """
    if not columns:
        return frame
    check_mapped_columns(frame, columns, source)
    return frame.rename(columns={user: canonical for canonical, user in columns.items()})


def normalize_spans(
    frame: pd.DataFrame,
    columns: Mapping[str, str] | None = None,
    *,
    time_unit: TimeUnit = "auto",
    end_column: str | None = None,
    source: str = "<frame>",
    status_rule: str = "nonzero",
) -> tuple[pd.DataFrame, IngestReport]:
    """Map a user's span table onto the canonical schema, convert times, validate.

    Args:
        frame: The user's table, one row per span.
        columns: Canonical name -> the user's column name, e.g. Nezha's
            ``{"trace_id": "TraceID", "span_id": "SpanID", "parent_id": "ParentID",
            "service": "PodName", "operation": "OperationName",
            "start_ns": "StartTimeUnixNano"}``. Unmapped canonical names are looked up as
            they are.
        time_unit: Unit of the start time (and end time / duration) columns; ``"auto"``
            infers it from the magnitude of numeric start times and uses the same unit
            for the end time and the duration.
        end_column: Canonical ``"end_ns"`` may be mapped instead of ``duration_ns``; then
            the duration is ``end - start``. Given here as the *user's* column name.
        source: Name of the input for messages and the report.
        status_rule: See :func:`validate_spans`.

    Returns:
        ``(spans, report)`` as :func:`validate_spans`.

    Raises:
        SchemaError: Columns are missing; the message lists every missing column at
            once (mapped and unmapped) and how to map them.

    Example:
        >>> raw = pd.DataFrame({"TraceID": ["t"], "SpanID": ["a"], "ParentID": ["root"],
        ...     "PodName": ["web-1"], "Start": [1.0], "End": [1.5]})
        >>> spans, _ = normalize_spans(raw, {"trace_id": "TraceID", "span_id": "SpanID",
        ...     "parent_id": "ParentID", "service": "PodName", "start_ns": "Start"},
        ...     time_unit="s", end_column="End")
        >>> spans[["start_ns", "duration_ns"]].values.tolist()
        [[1000000000, 500000000]]

    """
    columns = dict(columns or {})
    if end_column is not None:
        columns["end_ns"] = end_column
    _require_span_columns(frame, columns, source)
    work = rename_columns(frame, columns, source)
    if time_unit == "auto" and pd.api.types.is_numeric_dtype(work["start_ns"]):
        # One unit for start, end and duration: the one the start times show.
        time_unit = infer_unit(work["start_ns"].to_numpy())
    start = to_ns(
        work["start_ns"],
        time_unit,
        source=source,
        field=columns.get("start_ns", "start_ns"),
    )
    work = work.assign(start_ns=start)
    if "end_ns" in work.columns:
        end = to_ns(work["end_ns"], time_unit, source=source, field=columns.get("end_ns", "end_ns"))
        work = work.assign(duration_ns=end - start)
    elif "duration_ns" in work.columns and time_unit not in ("auto", "ns", "iso"):
        factor = to_ns(np.array([1]), time_unit)[0]
        duration = pd.to_numeric(work["duration_ns"], errors="coerce") * factor
        work = work.assign(duration_ns=duration)
    return validate_spans(work, source, status_rule=status_rule)


def _require_span_columns(frame: pd.DataFrame, columns: Mapping[str, str], source: str) -> None:
    """Raise one :class:`SchemaError` naming every column a span table lacks."""
    present = set(frame.columns)
    missing = [
        f"'{user}' (mapped for '{canonical}')"
        for canonical, user in columns.items()
        if user not in present
    ]
    needed = [c for c in _REQUIRED_SPAN if not (c == "duration_ns" and "end_ns" in columns)]
    missing += [f"'{c}'" for c in needed if c not in columns and c not in present]
    if missing:
        raise SchemaError(
            f"span table lacks {len(missing)} column{'s' if len(missing) > 1 else ''}: "
            + ", ".join(missing),
            source=source,
            field=missing[0].split("'")[1],
            expected=(
                f"columns {list(_REQUIRED_SPAN)} (or 'end_ns' for 'duration_ns'), each "
                "mapped to the table's name with columns={'trace_id': 'TraceID', ...} "
                "(CLI: --trace-columns trace_id=TraceID,...)"
            ),
            found=columns_text(frame),
        )


def _with_ns_times(
    frame: pd.DataFrame, columns: Mapping[str, str] | None, time_unit: TimeUnit, source: str
) -> pd.DataFrame:
    """``frame`` with its columns mapped (``columns``) and ``ts_ns`` converted to ns."""
    work = rename_columns(frame, columns, source)
    require_columns(work, ("ts_ns",), source)
    field = (columns or {}).get("ts_ns", "ts_ns")
    return work.assign(ts_ns=to_ns(work["ts_ns"], time_unit, source=source, field=field))


def normalize_metrics(
    frame: pd.DataFrame,
    columns: Mapping[str, str] | None = None,
    *,
    time_unit: TimeUnit = "auto",
    source: str = "<frame>",
) -> tuple[pd.DataFrame, IngestReport]:
    """Map a long metrics table onto the canonical schema, convert times, validate.

    Args:
        frame: One row per (time, node, metric) sample.
        columns: Canonical name -> user's column name (e.g. ``{"ts_ns": "timestamp"}``).
        time_unit: Unit of the timestamp column.
        source: Name of the input for messages and the report.

    Returns:
        ``(metrics, report)`` as :func:`validate_metrics`.

    """
    work = _with_ns_times(frame, columns, time_unit, source)
    return validate_metrics(work, source)


def normalize_edge_metrics(
    frame: pd.DataFrame,
    columns: Mapping[str, str] | None = None,
    *,
    time_unit: TimeUnit = "auto",
    source: str = "<frame>",
) -> tuple[pd.DataFrame, IngestReport]:
    """Map a long edge-metrics table onto the canonical schema, convert times, validate.

    Args:
        frame: One row per (time, caller, callee, metric) sample.
        columns: Canonical name -> user's column name (e.g. ``{"ts_ns": "timestamp",
            "src": "caller", "dst": "callee"}``).
        time_unit: Unit of the timestamp column.
        source: Name of the input for messages and the report.

    Returns:
        ``(edge_metrics, report)`` as :func:`validate_edge_metrics`.

    Example:
        >>> raw = pd.DataFrame({"t": [60.0], "caller": ["web"], "callee": ["db"],
        ...                     "metric": ["p50"], "value": [0.003]})
        >>> edges, _ = normalize_edge_metrics(
        ...     raw, {"ts_ns": "t", "src": "caller", "dst": "callee"}, time_unit="s")
        >>> edges.values.tolist()
        [[60000000000, 'web', 'db', 'p50', 0.003]]

    """
    work = _with_ns_times(frame, columns, time_unit, source)
    return validate_edge_metrics(work, source)


def normalize_logs(
    frame: pd.DataFrame,
    columns: Mapping[str, str] | None = None,
    *,
    time_unit: TimeUnit = "auto",
    source: str = "<frame>",
) -> tuple[pd.DataFrame, IngestReport]:
    """Map a log-events table onto the canonical schema, convert times, validate.

    Args:
        frame: One row per (time, node, template) with an optional count.
        columns: Canonical name -> user's column name.
        time_unit: Unit of the timestamp column.
        source: Name of the input for messages and the report.

    Returns:
        ``(log_events, report)`` as :func:`validate_logs`.

    """
    work = _with_ns_times(frame, columns, time_unit, source)
    return validate_logs(work, source)
