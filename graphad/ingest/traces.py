"""Trace readers: OTLP JSON, Jaeger JSON, Zipkin v2 JSON, span CSV/Parquet -> spans frame.

All readers return the canonical spans frame of :mod:`graphad.ingest.schema` and an
:class:`~graphad.ingest.report.IngestReport`. JSON is parsed record by record (that is its
nature), but columns are collected as Python lists and turned into one frame at the end;
CSV and Parquet go through pandas (the pyarrow CSV engine when available, else the C
parser) and the vectorised :func:`~graphad.ingest.schema.normalize_spans`.

Format-specific conventions:

* **OTLP JSON** (the OpenTelemetry collector's file exporter, one
  ``ExportTraceServiceRequest`` per document or per line): ``resourceSpans[].resource``
  attribute ``service.name`` is the service (``"unknown_service"`` when absent, counted as
  ``service_unknown``); ``scopeSpans[]`` (or the older ``instrumentationLibrarySpans[]``)
  ``.spans[]`` hold ``traceId``/``spanId``/``parentSpanId`` in hex (base64 ids, as written
  by proto-JSON encoders, are converted to hex), ``startTimeUnixNano``/``endTimeUnixNano``
  as strings or numbers, ``status.code`` 2 (or ``"STATUS_CODE_ERROR"``) is an error, and
  ``kind`` is 0..5 or a ``SPAN_KIND_*`` string.
* **Jaeger JSON** (UI download or ``/api/traces``): ``data[].spans[]`` with ``traceID``,
  ``spanID``, ``operationName``, ``references`` (the first ``CHILD_OF``, else the first
  ``FOLLOWS_FROM``, is the parent), ``startTime``/``duration`` in microseconds,
  ``processID`` -> ``processes[pid].serviceName`` (or an inline ``process``); tag
  ``error=true`` (or ``otel.status_code=ERROR``) is an error, tag ``span.kind`` the kind.
* **Zipkin v2 JSON**: a list of spans with ``traceId``, ``id``, ``parentId``, ``name``,
  ``timestamp``/``duration`` in microseconds, ``localEndpoint.serviceName``, ``kind`` and
  an ``error`` tag (any value) for errors. A span without ``duration`` gets 0
  (``missing_duration``). The server half of a *shared* span (B3 propagation, same id as
  its client half in the same input) gets the id ``"<id>:server"`` and the client half as
  its parent (its children in the server's service point to it), so that caller -> callee
  stays visible.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from graphad.exceptions import GraphadError, GraphadInputError, ParseError, SchemaError
from graphad.ingest import otlp_fast
from graphad.ingest.io import (
    PathLike,
    inner_suffix,
    read_json_documents,
    read_table,
    source_name,
)
from graphad.ingest.report import IngestReport
from graphad.ingest.schema import (
    SPAN_COLUMNS,
    normalize_spans,
    require_columns,
    validate_spans,
)
from graphad.ingest.time import TimeUnit

__all__ = [
    "TRACE_FORMATS",
    "read_traces",
    "sample_traces",
    "detect_trace_format",
    "parse_otlp",
    "parse_jaeger",
    "parse_zipkin",
]

#: Formats :func:`read_traces` understands.
TRACE_FORMATS = ("auto", "otlp", "otlp_proto", "jaeger", "zipkin", "csv", "parquet", "frame")

_TABLE_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_OTLP_KINDS = {0: "", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
# Every spelling of an OTLP span kind -> the canonical kind (the fast path's table).
_OTLP_KIND_NAMES = {
    **_OTLP_KINDS,
    **{str(code): kind for code, kind in _OTLP_KINDS.items()},
    **{f"SPAN_KIND_{(kind or 'unspecified').upper()}": kind for kind in _OTLP_KINDS.values()},
    None: "",
    "": "",
}
_ID_COLUMNS = ("trace_id", "span_id", "parent_id", "service", "operation", "kind")
_UNKNOWN_SERVICE = "unknown_service"


class _Columns:
    """Span columns collected as lists (one append per span, one frame at the end)."""

    def __init__(self) -> None:
        self.data: dict[str, list] = {c: [] for c in SPAN_COLUMNS}

    def append(
        self,
        trace_id,
        span_id,
        parent_id,
        service,
        operation,
        start,
        duration,
        status,
        kind,
    ) -> None:
        d = self.data
        d["trace_id"].append(trace_id)
        d["span_id"].append(span_id)
        d["parent_id"].append(parent_id)
        d["service"].append(service)
        d["operation"].append(operation)
        d["start_ns"].append(start)
        d["duration_ns"].append(duration)
        d["status"].append(status)
        d["kind"].append(kind)

    def frame(self, report: IngestReport) -> pd.DataFrame:
        """The spans as a frame; a time beyond int64 nanoseconds drops its span
        (``implausible_time``, which it is: past the year 2262).
        """
        d = self.data
        start, duration = _int64_or_none(d["start_ns"]), _int64_or_none(d["duration_ns"])
        keep = None
        if start is None or duration is None:
            wide = np.array(
                [
                    _INT64_MIN <= a <= _INT64_MAX and _INT64_MIN <= b <= _INT64_MAX
                    for a, b in zip(d["start_ns"], d["duration_ns"], strict=True)
                ],
                dtype=bool,
            )
            bad = int(np.flatnonzero(~wide)[0])
            report.add(
                "implausible_time",
                int((~wide).sum()),
                f"record {bad + 1} (a time beyond int64 nanoseconds; dropped)",
            )
            keep = np.flatnonzero(wide)
            start = np.array([d["start_ns"][i] for i in keep], dtype=np.int64)
            duration = np.array([d["duration_ns"][i] for i in keep], dtype=np.int64)
        columns = {c: np.array(d[c], dtype=object) for c in _ID_COLUMNS}
        status = np.array(d["status"], dtype=np.int8)
        if keep is not None:
            columns = {c: v[keep] for c, v in columns.items()}
            status = status[keep]
        return pd.DataFrame(
            {**columns, "start_ns": start, "duration_ns": duration, "status": status},
            columns=list(SPAN_COLUMNS),
        )


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _int64_or_none(values: list) -> np.ndarray | None:
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        return None


def read_traces(
    source: PathLike | pd.DataFrame,
    format: str = "auto",
    *,
    columns: Mapping[str, str] | None = None,
    time_unit: TimeUnit = "auto",
    end_column: str | None = None,
    status_rule: str = "nonzero",
) -> tuple[pd.DataFrame, IngestReport]:
    """Read spans from a file or a frame into the canonical spans frame.

    Args:
        source: A path (plain or ``.gz``/``.xz``/``.zst``/``.bz2``) or a ``DataFrame``.
        format: One of :data:`TRACE_FORMATS`. ``"auto"`` uses the suffix (``.csv``,
            ``.tsv``, ``.parquet``) and otherwise the JSON content (``resourceSpans`` ->
            OTLP, ``data[].spans`` / ``processes`` -> Jaeger, a list of spans with ``id``
            -> Zipkin).
        columns: For tables: canonical name -> the table's column name, e.g. for Nezha
            ``{"trace_id": "TraceID", "span_id": "SpanID", "parent_id": "ParentID",
            "service": "PodName", "operation": "OperationName",
            "start_ns": "StartTimeUnixNano"}``. Unmapped names are looked up as they are.
        time_unit: For tables: unit of the time columns (``"auto"`` infers it from the
            magnitude of the start times; an unmapped ``start_ns`` column is taken as
            nanoseconds, as its name says).
        end_column: For tables: the column holding the end time, when the table has no
            duration column (the duration is then end - start).
        status_rule: For tables: how the status column tells an error: ``"nonzero"``
            (any value but 0, the default), ``"http"`` (an HTTP status code >= 500) or
            ``"otel"`` (OpenTelemetry's status code 2 / ``"ERROR"``).

    Returns:
        ``(spans, report)``: the canonical spans frame (columns
        :data:`~graphad.ingest.schema.SPAN_COLUMNS`, sorted by start time) and the report
        of recoverable problems (see :func:`~graphad.ingest.schema.validate_spans`).

    Raises:
        ParseError: The file cannot be parsed, or its format is not recognised.
        SchemaError: A required field is missing.
        GraphadInputError: A value is unreadable; the message names file, record, field.

    Example:
        >>> frame = pd.DataFrame({"TraceID": ["t", "t"], "SpanID": ["a", "b"],
        ...     "ParentID": ["root", "a"], "PodName": ["web-1", "db-1"],
        ...     "Start": [1000, 1200], "End": [1900, 1500]})
        >>> spans, report = read_traces(frame, columns={"trace_id": "TraceID",
        ...     "span_id": "SpanID", "parent_id": "ParentID", "service": "PodName",
        ...     "start_ns": "Start"}, time_unit="ns", end_column="End")
        >>> spans[["service", "parent_id", "duration_ns"]].values.tolist()
        [['web-1', '', 900], ['db-1', 'a', 300]]
    """
    if format not in TRACE_FORMATS:
        raise GraphadInputError(
            f"Could not resolve '{format}' among choices {list(TRACE_FORMATS)}",
            source=source_name(source),
            field="format",
        )
    name = source_name(source)
    if isinstance(source, pd.DataFrame):
        if format not in ("auto", "frame", "csv", "parquet"):
            raise GraphadInputError(
                "a DataFrame was given with a JSON trace format",
                source=name,
                field="format",
                expected="'auto' or 'frame' for a DataFrame",
                found=repr(format),
            )
        return _normalize_table(source, columns, time_unit, end_column, name, status_rule)
    if not isinstance(source, (str, os.PathLike)):
        raise GraphadInputError(
            "cannot read traces from this object",
            field="source",
            expected="a path or a pandas DataFrame",
            found=type(source).__name__,
        )
    if format == "auto":
        format = _TABLE_SUFFIXES.get(inner_suffix(source), "json")
    read = IngestReport(name)  # what reading the file itself repaired
    if format in ("csv", "parquet", "frame"):
        frame = read_table(source, dtype=_span_dtypes(columns), report=read)
        spans, report = _normalize_table(frame, columns, time_unit, end_column, name, status_rule)
        return spans, read.merge(report)
    if format == "otlp_proto" or (format == "json" and inner_suffix(source) in (".pb", ".binpb")):
        return otlp_fast.read_otlp_proto(source)
    if format in ("json", "otlp"):  # OTLP JSON lines: Arrow, no Python loop (None: declined)
        fast = otlp_fast.read_otlp_json_arrow(source)
        if fast is not None:
            return fast
    documents = read_json_documents(source, read)
    if format == "json":
        format = detect_trace_format(documents, source=name)
    parser = {"otlp": parse_otlp, "jaeger": parse_jaeger, "zipkin": parse_zipkin}[format]
    spans, report = parser(documents, source=name)
    return spans, read.merge(report)


def _normalize_table(
    frame: pd.DataFrame,
    columns: Mapping[str, str] | None,
    time_unit: TimeUnit,
    end_column: str | None,
    source: str,
    status_rule: str = "nonzero",
) -> tuple[pd.DataFrame, IngestReport]:
    if time_unit == "auto" and "start_ns" not in (columns or {}) and "start_ns" in frame:
        time_unit = "ns"  # an unmapped 'start_ns' column is nanoseconds by its name
    return normalize_spans(
        frame,
        columns,
        time_unit=time_unit,
        end_column=end_column,
        source=source,
        status_rule=status_rule,
    )


def _span_dtypes(columns: Mapping[str, str] | None) -> dict:
    """Text dtypes for id-like columns, so that ids such as ``0123`` keep their zeros."""
    columns = dict(columns or {})
    return {
        columns.get(c, c): str
        for c in ("trace_id", "span_id", "parent_id", "service", "operation", "kind")
    }


def detect_trace_format(documents: list[object], source: str = "<json>") -> str:
    """Tell OTLP, Jaeger and Zipkin JSON apart from the parsed documents.

    Args:
        documents: Parsed JSON documents (see :func:`graphad.ingest.io.read_json_documents`).
        source: Name of the input for messages.

    Returns:
        ``"otlp"``, ``"jaeger"`` or ``"zipkin"``.

    Raises:
        ParseError: None of the three shapes fits.

    Example:
        >>> detect_trace_format([{"resourceSpans": []}])
        'otlp'
        >>> detect_trace_format([[{"traceId": "a", "id": "b", "name": "get"}]])
        'zipkin'
    """
    first = documents[0] if documents else None
    if isinstance(first, dict):
        if "resourceSpans" in first:
            return "otlp"
        if "data" in first or ("spans" in first and ("processes" in first or "traceID" in first)):
            return "jaeger"
        if "traceId" in first and "id" in first:
            return "zipkin"
        found = f"an object with keys {sorted(first)[:8]}"
    elif isinstance(first, list):
        head = first[0] if first else None
        if head is None:
            return "zipkin"
        if isinstance(head, dict) and "spans" in head and "processes" in head:
            return "jaeger"
        if isinstance(head, dict) and "id" in head and "traceId" in head:
            return "zipkin"
        found = f"a list of {type(head).__name__}" + (
            f" with keys {sorted(head)[:8]}" if isinstance(head, dict) else ""
        )
    else:
        found = type(first).__name__
    raise ParseError(
        "unrecognised trace format",
        source=source,
        record=1,
        expected="OTLP JSON (resourceSpans), Jaeger JSON (data[].spans) or Zipkin v2 JSON",
        found=found,
    )


# --------------------------------------------------------------------------- helpers


def _field(obj: dict, key: str, where: str, source: str, expected: str = "a value") -> Any:
    try:
        value = obj[key]
    except (KeyError, TypeError):
        found = "no such field" if isinstance(obj, dict) else type(obj).__name__
        raise SchemaError(
            "required field missing",
            source=source,
            record=where,
            field=key,
            expected=expected,
            found=found,
        ) from None
    if value is None or value == "":
        raise SchemaError(
            "required field empty",
            source=source,
            record=where,
            field=key,
            expected=expected,
            found=repr(value),
        )
    return value


def _int_field(obj: dict, key: str, where: str, source: str, expected: str) -> int:
    """``obj[key]`` as an int, with :func:`_field`'s and :func:`_as_int`'s errors."""
    return _as_int(_field(obj, key, where, source, expected), where, key, source)


def _as_int(value: Any, where: str, key: str, source: str) -> int:
    try:
        if isinstance(value, float):
            if not np.isfinite(value):
                raise ValueError
            return int(round(value))
        if isinstance(value, (dict, list)):
            raise TypeError
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise GraphadInputError(
            "value is not an integer",
            source=source,
            record=where,
            field=key,
            expected="an integer (as a number or a string)",
            found=repr(value),
        ) from None


def _list(obj: dict, key: str, where: str, source: str) -> list:
    if not isinstance(obj, dict):
        raise ParseError(
            "not a JSON object",
            source=source,
            record=where,
            expected=f"an object with a list '{key}'",
            found=type(obj).__name__,
        )
    value = obj.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(
            "field is not a list",
            source=source,
            record=where,
            field=key,
            expected="a JSON array",
            found=type(value).__name__,
        )
    return value


def _hex_id(value: Any, nbytes: int) -> str:
    """OTLP ids: hex as they are; a base64 id of the right length is turned into hex."""
    text = str(value)
    if len(text) == 2 * nbytes:
        return text.lower()
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text.lower()
    return raw.hex() if len(raw) == nbytes else text.lower()


def _otlp_value(value: Any) -> Any:
    """The Python value of an OTLP ``AnyValue`` (``{"stringValue": "x"}`` -> ``"x"``)."""
    if not isinstance(value, dict) or not value:
        return value
    kind, inner = next(iter(value.items()))
    if kind == "intValue":
        try:
            return int(inner)
        except (TypeError, ValueError):
            return inner
    if kind == "arrayValue":
        values = inner.get("values") if isinstance(inner, dict) else None
        return [_otlp_value(v) for v in values] if isinstance(values, list) else inner
    return inner


def _otlp_attribute(attributes: list, key: str) -> Any:
    if not isinstance(attributes, list):
        return None
    for item in attributes:
        if isinstance(item, dict) and item.get("key") == key:
            return _otlp_value(item.get("value"))
    return None


def _otlp_kind(value: Any, where: str, source: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str) and not value.lstrip("-").isdigit():
        kind = value.lower().replace("span_kind_", "")
        kind = "" if kind == "unspecified" else kind
        if kind in _OTLP_KINDS.values():
            return kind
    elif isinstance(value, str) or (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and np.isfinite(float(value) if abs(value) < 1e300 else np.inf)
        and value == int(value)
    ):
        kind = _OTLP_KINDS.get(int(value)) if len(str(value)) < 20 else None
        if kind is not None:
            return kind
    raise ParseError(
        "unknown span kind",
        source=source,
        record=where,
        field="kind",
        expected="0..5 or SPAN_KIND_{UNSPECIFIED,INTERNAL,SERVER,CLIENT,PRODUCER,CONSUMER}",
        found=repr(value),
    )


def _otlp_status(status: Any) -> int:
    if not isinstance(status, dict):
        return 0
    code = status.get("code", 0)
    return int(code in (2, "2", "STATUS_CODE_ERROR"))


def _finish(columns: _Columns, report: IngestReport, source: str):
    n_parsed = len(columns.data["span_id"])
    spans, checked = validate_spans(columns.frame(report), source)
    # The parser's own counts come first; validation adds its repairs and the totals.
    report.n_records += n_parsed
    report.n_kept = checked.n_kept
    report.absorb(checked)
    return spans, report


def _where(prefix: str, r: int, s: int, k: int) -> str:
    return f"{prefix}resourceSpans[{r}].scopeSpans[{s}].spans[{k}]"


def _text_id(value: Any) -> str:
    """An id as text: JSON strings and integers only (anything else is a malformed span)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"an id is a {type(value).__name__}, not a string")


def _text(value: Any) -> str:
    """A name as text (``None`` -> ``""``); objects and lists are malformed."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise TypeError(f"a name is a {type(value).__name__}, not a string")
    return str(value)


def _malformed_span(where: str, source: str, error: Exception) -> ParseError:
    """The error for a span whose JSON fields have unexpected types."""
    return ParseError(
        "malformed span",
        source=source,
        record=where,
        expected="a span object with fields of the documented types",
        found=f"{type(error).__name__}: {str(error)[:120]}",
    )


# --------------------------------------------------------------------------- OTLP


def _otlp_checked(span: Any, where: str, source: str) -> tuple[Any, Any, int, int, str]:
    """The required fields of one OTLP span, each checked with a precise error."""
    start = _int_field(span, "startTimeUnixNano", where, source, "a time in ns")
    end = _int_field(span, "endTimeUnixNano", where, source, "a time in ns")
    trace_id = _field(span, "traceId", where, source, "a hex trace id")
    span_id = _field(span, "spanId", where, source, "a hex span id")
    return trace_id, span_id, start, end, _otlp_kind(span.get("kind"), where, source)


def parse_otlp(
    documents: list[object], source: str = "<otlp>"
) -> tuple[pd.DataFrame, IngestReport]:
    """Turn parsed OTLP JSON documents (``ExportTraceServiceRequest``) into spans.

    Args:
        documents: One document per request (a whole file, or each line of JSON lines).
        source: Name of the input for messages and the report.

    Returns:
        ``(spans, report)`` as :func:`read_traces`.

    Raises:
        SchemaError: A span lacks ``traceId``, ``spanId``, ``startTimeUnixNano`` or
            ``endTimeUnixNano``; the record names the document line and the JSON path.
        ParseError: A document is not an OTLP request, or a kind is unknown.

    Example:
        >>> doc = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name",
        ...     "value": {"stringValue": "web"}}]}, "scopeSpans": [{"spans": [{
        ...     "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
        ...     "name": "GET /", "kind": 2, "startTimeUnixNano": "100",
        ...     "endTimeUnixNano": "250", "status": {"code": 2}}]}]}]}
        >>> spans, _ = parse_otlp([doc])
        >>> spans[["service", "operation", "duration_ns", "status", "kind"]].values.tolist()
        [['web', 'GET /', 150, 1, 'server']]
    """
    report = IngestReport(source)
    out = _Columns()
    many = len(documents) > 1
    for d, document in enumerate(documents, start=1):
        prefix = f"line {d}, " if many else ""
        if not isinstance(document, dict) or "resourceSpans" not in document:
            raise ParseError(
                "not an OTLP trace request",
                source=source,
                record=f"{prefix}document".strip(", "),
                field="resourceSpans",
                expected="an object with 'resourceSpans'",
                found=type(document).__name__
                if not isinstance(document, dict)
                else f"keys {sorted(document)[:8]}",
            )
        for r, resource_spans in enumerate(
            _list(document, "resourceSpans", prefix + "document", source)
        ):
            if not isinstance(resource_spans, dict):
                raise ParseError(
                    "not an OTLP ResourceSpans",
                    source=source,
                    record=f"{prefix}resourceSpans[{r}]",
                    expected="an object with 'resource' and 'scopeSpans'",
                    found=type(resource_spans).__name__,
                )
            resource = resource_spans.get("resource") or {}
            if not isinstance(resource, dict):
                raise ParseError(
                    "resource is not an object",
                    source=source,
                    record=f"{prefix}resourceSpans[{r}]",
                    field="resource",
                    expected="an object with 'attributes'",
                    found=type(resource).__name__,
                )
            service = _otlp_attribute(resource.get("attributes"), "service.name")
            scopes = _list(resource_spans, "scopeSpans", f"{prefix}resourceSpans[{r}]", source)
            scopes = scopes or _list(
                resource_spans,
                "instrumentationLibrarySpans",
                f"{prefix}resourceSpans[{r}]",
                source,
            )
            for s, scope in enumerate(scopes):
                spans = _list(scope, "spans", f"{prefix}resourceSpans[{r}].scopeSpans[{s}]", source)
                if service in (None, "") and spans:
                    report.add("service_unknown", len(spans), f"{prefix}resourceSpans[{r}]")
                name = str(service) if service not in (None, "") else _UNKNOWN_SERVICE
                for k, span in enumerate(spans):
                    try:  # fast path; any surprise is re-checked field by field below
                        trace_id, span_id = span["traceId"], span["spanId"]
                        start = int(span["startTimeUnixNano"])
                        end = int(span["endTimeUnixNano"])
                        code = span.get("kind", 0)
                        if type(code) not in (int, str):
                            raise TypeError("kind")
                        kind = _OTLP_KIND_NAMES[code]
                        if not trace_id or not span_id:
                            raise KeyError("traceId")
                    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
                        trace_id, span_id, start, end, kind = _otlp_checked(
                            span, _where(prefix, r, s, k), source
                        )
                    try:
                        parent = span.get("parentSpanId") or ""
                        status = span.get("status")
                        out.append(
                            _hex_id(_text_id(trace_id), 16),
                            _hex_id(_text_id(span_id), 8),
                            _hex_id(_text_id(parent), 8) if parent else "",
                            name,
                            _text(span.get("name")),
                            start,
                            end - start,
                            _otlp_status(status) if status else 0,
                            kind,
                        )
                    except (TypeError, ValueError, AttributeError) as error:
                        raise _malformed_span(_where(prefix, r, s, k), source, error) from None
    return _finish(out, report, source)


# --------------------------------------------------------------------------- Jaeger


def _jaeger_tags(tags: Any) -> dict:
    if isinstance(tags, dict):  # some exporters write tags as a plain object
        return tags
    if tags is None:
        return {}
    if not isinstance(tags, list):
        raise TypeError(f"tags is a {type(tags).__name__}, not a list")
    return {
        t["key"]: t.get("value")
        for t in tags
        if isinstance(t, dict) and isinstance(t.get("key"), str)
    }


def _is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _jaeger_parent(span: dict, where: str, source: str) -> str:
    references = _list(span, "references", where, source)
    for wanted in ("CHILD_OF", "FOLLOWS_FROM"):
        for ref in references:
            if isinstance(ref, dict) and str(ref.get("refType", "")).upper() == wanted:
                return str(ref.get("spanID") or "")
    return str(span.get("parentSpanID") or "")


def _jaeger_traces(documents: list[object], source: str) -> list[tuple[str, dict]]:
    traces = []
    many = len(documents) > 1
    for d, document in enumerate(documents, start=1):
        prefix = f"line {d}, " if many else ""
        if isinstance(document, dict) and "data" in document:
            items = document["data"]
            label = "data"
        elif isinstance(document, dict):
            items, label = [document], "trace"
        else:
            items, label = document, "trace"
        if not isinstance(items, list):
            raise ParseError(
                "not a Jaeger trace export",
                source=source,
                record=f"{prefix}document".strip(", "),
                field="data",
                expected="a list of traces",
                found=type(items).__name__,
            )
        for t, trace in enumerate(items):
            where = (
                f"{prefix}{label}[{t}]" if label == "data" or len(items) > 1 else f"{prefix}trace"
            )
            if not isinstance(trace, dict):
                raise ParseError(
                    "not a Jaeger trace",
                    source=source,
                    record=where,
                    expected="an object with 'spans' and 'processes'",
                    found=type(trace).__name__,
                )
            traces.append((where, trace))
    return traces


def parse_jaeger(
    documents: list[object], source: str = "<jaeger>"
) -> tuple[pd.DataFrame, IngestReport]:
    """Turn parsed Jaeger JSON (``{"data": [trace, ...]}``) into spans.

    Args:
        documents: Parsed documents: ``{"data": [...]}``, a single trace object, or a
            list of trace objects (one per document or per line).
        source: Name of the input for messages and the report.

    Returns:
        ``(spans, report)`` as :func:`read_traces`. A ``processID`` absent from
        ``processes`` gives the service ``"unknown_service"`` (``service_unknown``).

    Raises:
        SchemaError: A span lacks ``traceID``, ``spanID``, ``startTime`` or ``duration``.
        ParseError: The document is not a Jaeger export.

    Example:
        >>> doc = {"data": [{"traceID": "t1", "processes": {"p1": {"serviceName": "web"},
        ...     "p2": {"serviceName": "db"}}, "spans": [
        ...     {"traceID": "t1", "spanID": "a", "operationName": "GET", "references": [],
        ...      "startTime": 10, "duration": 5, "processID": "p1", "tags": []},
        ...     {"traceID": "t1", "spanID": "b", "operationName": "query", "references":
        ...      [{"refType": "CHILD_OF", "traceID": "t1", "spanID": "a"}], "startTime": 11,
        ...      "duration": 2, "processID": "p2",
        ...      "tags": [{"key": "error", "type": "bool", "value": True}]}]}]}
        >>> spans, _ = parse_jaeger([doc])
        >>> spans[["service", "parent_id", "start_ns", "duration_ns", "status"]].values.tolist()
        [['web', '', 10000, 5000, 0], ['db', 'a', 11000, 2000, 1]]
    """
    report = IngestReport(source)
    out = _Columns()
    for where_trace, trace in _jaeger_traces(documents, source):
        processes = trace.get("processes") or {}
        for k, span in enumerate(_list(trace, "spans", where_trace, source)):
            where = f"{where_trace}.spans[{k}]"
            try:
                if not isinstance(span, dict):
                    raise TypeError(f"a span is a {type(span).__name__}, not an object")
                pid = span.get("processID")
                process = processes.get(pid) if isinstance(processes, dict) else None
                if process is None and isinstance(span.get("process"), dict):
                    process = span["process"]  # Jaeger's internal model: the process inline
                service = (process or {}).get("serviceName") if isinstance(process, dict) else None
                if not service:
                    service = _UNKNOWN_SERVICE
                    report.add("service_unknown", 1, where)
                tags = _jaeger_tags(span.get("tags"))
                error = (
                    _is_true(tags.get("error"))
                    or str(tags.get("otel.status_code", "")).upper() == "ERROR"
                )
                kind = str(tags.get("span.kind") or "").lower()
                if kind not in _OTLP_KINDS.values():
                    raise ParseError(
                        "unknown span kind",
                        source=source,
                        record=where,
                        field="span.kind",
                        expected=f"one of {sorted(set(_OTLP_KINDS.values()) - {''})}",
                        found=repr(kind),
                    )
                start = _int_field(span, "startTime", where, source, "a time in µs")
                duration = _int_field(span, "duration", where, source, "a duration in µs")
                out.append(
                    _text_id(_field(span, "traceID", where, source, "a trace id")).lower(),
                    _text_id(_field(span, "spanID", where, source, "a span id")).lower(),
                    _jaeger_parent(span, where, source).lower(),
                    str(service),
                    _text(span.get("operationName")),
                    start * 1000,
                    duration * 1000,
                    int(error),
                    kind,
                )
            except GraphadError:
                raise
            except (TypeError, AttributeError, ValueError, KeyError) as error:
                raise _malformed_span(where, source, error) from None
    return _finish(out, report, source)


# --------------------------------------------------------------------------- Zipkin


def _zipkin_spans(documents: list[object], source: str) -> list[tuple[str, dict]]:
    spans = []
    many = len(documents) > 1
    for d, document in enumerate(documents, start=1):
        prefix = f"line {d}, " if many else ""
        items = document if isinstance(document, list) else [document]
        for k, span in enumerate(items):
            where = f"{prefix}span {k}" if isinstance(document, list) else f"line {d}"
            if not isinstance(span, dict):
                raise ParseError(
                    "not a Zipkin span",
                    source=source,
                    record=where,
                    expected="a JSON object",
                    found=type(span).__name__,
                )
            spans.append((where, span))
    return spans


def _zipkin_service(span: dict) -> str | None:
    endpoint = span.get("localEndpoint") or {}
    return endpoint.get("serviceName") if isinstance(endpoint, dict) else None


def parse_zipkin(
    documents: list[object], source: str = "<zipkin>"
) -> tuple[pd.DataFrame, IngestReport]:
    """Turn parsed Zipkin v2 JSON (a list of spans) into spans.

    Args:
        documents: Parsed documents: a list of spans, or one span per line.
        source: Name of the input for messages and the report.

    Returns:
        ``(spans, report)`` as :func:`read_traces`. Spans without ``duration`` get 0
        (``missing_duration``); spans without ``localEndpoint.serviceName`` get
        ``"unknown_service"`` (``service_unknown``).

    Raises:
        SchemaError: A span lacks ``traceId``, ``id`` or ``timestamp``.
        ParseError: The document is not a list of Zipkin spans.

    Example:
        >>> doc = [{"traceId": "t1", "id": "a", "name": "get /", "kind": "SERVER",
        ...         "timestamp": 10, "duration": 7, "localEndpoint": {"serviceName": "web"}},
        ...        {"traceId": "t1", "id": "b", "parentId": "a", "name": "select",
        ...         "kind": "CLIENT", "timestamp": 12, "duration": 3,
        ...         "localEndpoint": {"serviceName": "web"}, "tags": {"error": "timeout"}}]
        >>> spans, _ = parse_zipkin([doc])
        >>> spans[["span_id", "parent_id", "duration_ns", "status", "kind"]].values.tolist()
        [['a', '', 7000, 0, 'server'], ['b', 'a', 3000, 1, 'client']]
    """
    report = IngestReport(source)
    out = _Columns()
    items = _zipkin_spans(documents, source)
    unshared = {
        (str(span.get("traceId", "")).lower(), str(span.get("id", "")).lower())
        for _, span in items
        if not span.get("shared")
    }
    # (trace, shared id) -> service of the server half that gets renamed.
    servers = {
        (str(span.get("traceId", "")).lower(), str(span.get("id", "")).lower()): _zipkin_service(
            span
        )
        for _, span in items
        if span.get("shared")
    }
    servers = {key: value for key, value in servers.items() if key in unshared}
    for where, span in items:
        try:
            trace_id = _text_id(_field(span, "traceId", where, source, "a hex trace id")).lower()
            span_id = _text_id(_field(span, "id", where, source, "a hex span id")).lower()
            parent = str(span.get("parentId") or "").lower()
            service = _zipkin_service(span)
            if span.get("shared") and (trace_id, span_id) in servers:
                parent, span_id = span_id, f"{span_id}:server"
                report.add("shared_span", 1, where)
            elif (
                servers.get((trace_id, parent), None) not in (None, "")
                and servers[(trace_id, parent)] == service
            ):
                # A child of the server half, in the server's own service.
                parent = f"{parent}:server"
            if not service:
                service = _UNKNOWN_SERVICE
                report.add("service_unknown", 1, where)
            if span.get("duration") is None:
                duration = 0
                report.add("missing_duration", 1, where)
            else:
                duration = _as_int(span["duration"], where, "duration", source)
            kind = str(span.get("kind") or "").lower()
            if kind not in _OTLP_KINDS.values():
                raise ParseError(
                    "unknown span kind",
                    source=source,
                    record=where,
                    field="kind",
                    expected="SERVER, CLIENT, PRODUCER or CONSUMER",
                    found=repr(span.get("kind")),
                )
            tags = span.get("tags") or {}
            out.append(
                trace_id,
                span_id,
                parent,
                str(service),
                _text(span.get("name")),
                _int_field(span, "timestamp", where, source, "a time in µs") * 1000,
                duration * 1000,
                int(isinstance(tags, dict) and "error" in tags),
                kind,
            )
        except GraphadError:
            raise
        except (TypeError, AttributeError, ValueError, KeyError) as error:
            raise _malformed_span(where, source, error) from None
    return _finish(out, report, source)


def sample_traces(spans: pd.DataFrame, fraction: float, seed: int = 0) -> pd.DataFrame:
    """Keep a fraction of the traces, whole, as a head-sampling tracer would.

    A trace is kept when the BLAKE2b hash of ``"<seed>:<trace id>"``, read as a number in
    ``[0, 1)``, is below ``fraction``: the choice depends on the id (and the seed) alone,
    so the same traces are kept in every file and every run, a trace is never cut in
    parts, and the traces kept at a smaller fraction are among those kept at a larger
    one. Use it to see how a method fares on the sampled traces of a production tracer
    (``benchmarks/nezha_rca.py --trace-percent``), or to shrink a data set.

    Args:
        spans: Canonical spans frame (any frame with a ``trace_id`` column).
        fraction: Share of traces to keep, in ``(0, 1]``.
        seed: Another seed draws another, independent sample.

    Returns:
        The spans of the kept traces (a copy with a fresh index; ``fraction=1`` keeps all).

    Raises:
        GraphadInputError: ``fraction`` is outside ``(0, 1]`` or ``trace_id`` is missing.

    Example:
        >>> spans = pd.DataFrame({"trace_id": ["t1", "t1", "t2", "t3"], "span_id": list("abcd")})
        >>> sample_traces(spans, 0.5)["trace_id"].tolist()
        ['t3']
    """
    if not 0 < fraction <= 1:
        raise GraphadInputError(
            "the share of traces to keep is out of range",
            field="fraction",
            expected="a number in (0, 1]",
            found=repr(fraction),
        )
    require_columns(spans, ("trace_id",), "spans")
    codes, unique = pd.factorize(spans["trace_id"].astype(str))
    draws = np.fromiter(
        (_unit_hash(f"{seed}:{i}") for i in unique), dtype=np.float64, count=len(unique)
    )
    return spans[(draws < fraction)[codes]].reset_index(drop=True)


def _unit_hash(text: str) -> float:
    """A stable hash of ``text`` as a number in ``[0, 1)``."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64
