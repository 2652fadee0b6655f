"""Fast OTLP readers: JSON lines through Arrow's JSON reader, and OTLP protobuf.

**OTLP JSON lines** (the collector's file exporter: one ``ExportTraceServiceRequest`` per
line) are parsed by ``pyarrow.json`` into nested Arrow lists with a fixed schema (only the
fields the spans frame needs; others are skipped by the C++ parser), then flattened with
Arrow compute kernels: there is no Python loop per span. The result, and the report, are
those of :func:`graphad.ingest.traces.parse_otlp` (the same validation runs on the same
columns). The fast path declines, and the caller falls back to ``parse_otlp``, for
anything outside the OTLP/JSON encoding the collector writes: a pretty-printed document,
kinds or status codes as strings, times as numbers, base64 or odd-length ids, a missing
required field, the legacy ``instrumentationLibrarySpans``, a ``service.name`` that is not
a string. The fallback then raises its precise errors or does its repairs.

**OTLP protobuf** (the collector's default wire format): a file holding one serialised
``ExportTraceServiceRequest`` (an OTLP/HTTP payload), or the file exporter's ``proto``
format (each message preceded by its length as a 4-byte big-endian integer). Parsed with
``opentelemetry-proto``; ids are bytes and become hex.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from graphad.exceptions import ParseError
from graphad.ingest.io import PathLike, source_name
from graphad.ingest.report import IngestReport

__all__ = [
    "read_otlp_json_arrow",
    "parse_otlp_proto",
    "read_otlp_proto",
    "to_otlp_requests",
    "to_otlp_proto",
]

_UNKNOWN_SERVICE = "unknown_service"
_KINDS = np.array(["", "internal", "server", "client", "producer", "consumer"], dtype=object)


#: A line whose first non-blank character does not open a JSON object.
_NOT_AN_OBJECT_LINE = re.compile(rb"(?m)^[ \t\r]*[^{ \t\r\n]")


def _schema():
    import pyarrow as pa

    span = pa.struct(
        [
            ("traceId", pa.string()),
            ("spanId", pa.string()),
            ("parentSpanId", pa.string()),
            ("name", pa.string()),
            ("kind", pa.int64()),
            ("startTimeUnixNano", pa.string()),
            ("endTimeUnixNano", pa.string()),
            ("status", pa.struct([("code", pa.int64())])),
        ]
    )
    attribute = pa.struct(
        [("key", pa.string()), ("value", pa.struct([("stringValue", pa.string())]))]
    )
    resource_spans = pa.struct(
        [
            ("resource", pa.struct([("attributes", pa.list_(attribute))])),
            ("scopeSpans", pa.list_(pa.struct([("spans", pa.list_(span))]))),
            ("instrumentationLibrarySpans", pa.list_(pa.struct([]))),
        ]
    )
    return pa.schema([("resourceSpans", pa.list_(resource_spans))])


class _Declined(Exception):
    """The input is outside what the fast path handles (the caller falls back)."""


def read_otlp_json_arrow(
    path: PathLike, *, use_threads: bool = True
) -> tuple[pd.DataFrame, IngestReport] | None:
    """Read an OTLP JSON lines file with Arrow, or ``None`` when the fast path declines.

    Args:
        path: A plain, ``.gz``, ``.bz2`` or ``.zst`` file.
        use_threads: Let Arrow parse blocks on several threads.

    Returns:
        ``(spans, report)`` exactly as :func:`graphad.ingest.traces.parse_otlp` gives them,
        or ``None`` (see the module notes).
    """
    try:
        import pyarrow as pa
        import pyarrow.json as pa_json
    except ImportError:  # pragma: no cover - pyarrow is optional
        return None
    if not isinstance(path, (str, os.PathLike)):
        return None
    import io

    from graphad.exceptions import GraphadError
    from graphad.ingest.io import read_bytes

    source = source_name(path)
    try:
        data = read_bytes(path)
    except GraphadError:  # a damaged file: the reference reader names the problem
        return None
    if b'"resourceSpans"' not in data[: 1 << 16]:
        return None  # another JSON format: no need to parse it twice
    if _NOT_AN_OBJECT_LINE.search(data):
        # a line that is not one JSON object (pretty-printed JSON, a bare null, a list):
        # the reference reader; Arrow's reader crashes the process on a leading `null`
        return None
    options = pa_json.ParseOptions(explicit_schema=_schema(), unexpected_field_behavior="ignore")
    try:
        table = pa_json.read_json(
            io.BytesIO(data),
            read_options=pa_json.ReadOptions(use_threads=use_threads, block_size=1 << 24),
            parse_options=options,
        )
        del data
        return _spans(table, source, pa)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, _Declined):
        return None


def _flat(array):
    """``(values, parent index of each value)`` of a list array (nulls contribute none)."""
    import pyarrow.compute as pc

    return pc.list_flatten(array), pc.list_parent_indices(array).to_numpy()


def _spans(table, source: str, pa) -> tuple[pd.DataFrame, IngestReport]:
    import pyarrow.compute as pc

    from graphad.ingest.schema import validate_spans

    documents = table.column("resourceSpans").combine_chunks()
    if documents.null_count or len(documents) == 0:
        raise _Declined  # not OTLP (another JSON format), or an empty file
    resources, doc_of_resource = _flat(documents)
    legacy = resources.field("instrumentationLibrarySpans")
    if pc.any(pc.greater(pc.list_value_length(legacy), 0)).as_py():
        raise _Declined
    # service.name of each resource
    attributes, resource_of_attribute = _flat(resources.field("resource").field("attributes"))
    is_name = pc.fill_null(pc.equal(attributes.field("key"), "service.name"), False)
    is_name = is_name.to_numpy(zero_copy_only=False)
    names = attributes.field("value").field("stringValue").to_numpy(zero_copy_only=False)
    if pd.isna(names[is_name]).any():
        raise _Declined  # a non-string service name: the slow path converts it
    service = np.full(len(resources), None, dtype=object)
    rows = np.flatnonzero(is_name)
    owner, first = np.unique(resource_of_attribute[rows], return_index=True)
    service[owner] = names[rows[first]]
    missing = pd.isna(service) | (service == "")
    service[missing] = _UNKNOWN_SERVICE
    # spans
    scopes, resource_of_scope = _flat(resources.field("scopeSpans"))
    spans, scope_of_span = _flat(scopes.field("spans"))
    resource_of_span = resource_of_scope[scope_of_span]
    report = IngestReport(source)
    many = len(documents) > 1
    _count_unknown(report, missing, resource_of_scope, scope_of_span, doc_of_resource, many)

    trace_id = _hex(spans.field("traceId"), 32, pc)
    span_id = _hex(spans.field("spanId"), 16, pc)
    parent = pc.fill_null(spans.field("parentSpanId"), "")
    if not pc.all(pc.is_in(pc.utf8_length(parent), pa.array([0, 16], pa.int32()))).as_py():
        raise _Declined
    times = [spans.field(k) for k in ("startTimeUnixNano", "endTimeUnixNano")]
    if any(t.null_count for t in times):
        raise _Declined
    start, end = (pc.cast(t, pa.int64()).to_numpy() for t in times)
    kind = pc.fill_null(spans.field("kind"), 0).to_numpy()
    if len(kind) and (kind.min() < 0 or kind.max() > 5):
        raise _Declined
    code = pc.fill_null(spans.field("status").field("code"), 0).to_numpy()
    frame = pd.DataFrame(
        {
            "trace_id": pd.array(trace_id, dtype="str"),
            "span_id": pd.array(span_id, dtype="str"),
            "parent_id": pd.array(pc.utf8_lower(parent), dtype="str"),
            "service": pd.array(service[resource_of_span], dtype="str"),
            "operation": pd.array(pc.fill_null(spans.field("name"), ""), dtype="str"),
            "start_ns": start,
            "duration_ns": end - start,
            "status": (code == 2).astype(np.int8),
            "kind": pd.array(_KINDS[kind], dtype="str"),
        }
    )
    spans_out, checked = validate_spans(frame, source)  # as parse_otlp's _finish
    report.n_records += len(frame)
    report.n_kept = checked.n_kept
    report.absorb(checked)
    return spans_out, report


def _hex(ids, width: int, pc):
    """Lower-case hex ids, or decline (a missing, empty or base64 id: the slow path)."""
    if ids.null_count or not pc.all(pc.equal(pc.utf8_length(ids), width)).as_py():
        raise _Declined
    return pc.utf8_lower(ids)


def _count_unknown(report, missing, resource_of_scope, scope_of_span, doc_of_resource, many):
    """``service_unknown``, counted per scope as :func:`parse_otlp` does (with examples)."""
    spans_per_scope = np.bincount(scope_of_span, minlength=len(resource_of_scope))
    first_of_doc = np.searchsorted(doc_of_resource, doc_of_resource)  # per resource
    for scope in np.flatnonzero(missing[resource_of_scope] & (spans_per_scope > 0)):
        r = resource_of_scope[scope]
        prefix = f"line {doc_of_resource[r] + 1}, " if many else ""
        report.add(
            "service_unknown",
            int(spans_per_scope[scope]),
            f"{prefix}resourceSpans[{r - first_of_doc[r]}]",
        )


# --------------------------------------------------------------------------- protobuf
def _requests(data: bytes, source: str) -> list:
    """The ``ExportTraceServiceRequest`` messages of a payload or a length-prefixed file."""
    try:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "OTLP protobuf needs 'opentelemetry-proto': pip install 'graphad[otlp]'"
        ) from error
    from google.protobuf.message import DecodeError

    messages, offset = [], 0
    framed = len(data) >= 4 and int.from_bytes(data[:4], "big") + 4 <= len(data)
    while framed and offset < len(data):  # the file exporter's framing, when it fits
        size = int.from_bytes(data[offset : offset + 4], "big")
        if offset + 4 + size > len(data):
            framed, messages = False, []
            break
        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(data[offset + 4 : offset + 4 + size])
        except DecodeError:
            framed, messages = False, []
            break
        messages.append(request)
        offset += 4 + size
    if framed and messages:
        return messages
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(data)
    except DecodeError as error:
        raise ParseError(
            "not an OTLP protobuf trace request",
            source=source,
            expected="a serialised ExportTraceServiceRequest (or length-prefixed ones)",
            found=str(error),
        ) from None
    return [request]


def parse_otlp_proto(
    payloads: Sequence[bytes] | bytes, source: str = "<otlp-proto>"
) -> tuple[pd.DataFrame, IngestReport]:
    """Spans of OTLP protobuf payloads (``ExportTraceServiceRequest``), as ``parse_otlp``.

    Args:
        payloads: One payload, or several (e.g. the bodies of OTLP/HTTP requests); each
            may also be a file exporter stream of length-prefixed messages.
        source: Name of the input for messages and the report.

    Returns:
        ``(spans, report)`` as :func:`graphad.ingest.read_traces`.

    Raises:
        ParseError: A payload is not an OTLP trace request.
    """
    from graphad.ingest.traces import _Columns, _finish, _otlp_kind

    if isinstance(payloads, (bytes, bytearray, memoryview)):
        payloads = [bytes(payloads)]
    report = IngestReport(source)
    out = _Columns()
    requests = [r for data in payloads for r in _requests(bytes(data), source)]
    many = len(requests) > 1
    for d, request in enumerate(requests, start=1):
        for r, resource_spans in enumerate(request.resource_spans):
            service = None
            for attribute in resource_spans.resource.attributes:
                if attribute.key == "service.name":
                    service = attribute.value.string_value
                    break
            prefix = f"line {d}, " if many else ""
            for s, scope in enumerate(resource_spans.scope_spans):
                spans = scope.spans
                if not service and len(spans):
                    report.add("service_unknown", len(spans), f"{prefix}resourceSpans[{r}]")
                name = service or _UNKNOWN_SERVICE
                for k, span in enumerate(spans):
                    kind = _KINDS[span.kind] if 0 <= span.kind <= 5 else None
                    if kind is None:
                        where = f"{prefix}resourceSpans[{r}].scopeSpans[{s}].spans[{k}]"
                        kind = _otlp_kind(span.kind, where, source)  # raises ParseError
                    out.append(
                        span.trace_id.hex(),
                        span.span_id.hex(),
                        span.parent_span_id.hex(),
                        name,
                        span.name,
                        span.start_time_unix_nano,
                        span.end_time_unix_nano - span.start_time_unix_nano,
                        int(span.status.code == 2),
                        str(kind),
                    )
    return _finish(out, report, source)


def read_otlp_proto(path: PathLike) -> tuple[pd.DataFrame, IngestReport]:
    """Read an OTLP protobuf file (plain or compressed); see :func:`parse_otlp_proto`."""
    from graphad.ingest.io import read_bytes

    return parse_otlp_proto(read_bytes(path), source=source_name(path))


# --------------------------------------------------------------------------- writers
def to_otlp_requests(spans: pd.DataFrame, spans_per_request: int = 1000) -> list[dict]:
    """Canonical spans -> OTLP/JSON ``ExportTraceServiceRequest`` documents.

    Consecutive spans of one service share a ``resourceSpans`` entry; each request holds
    up to ``spans_per_request`` spans. Ids are written as they are (hex), times as
    strings, kinds and status codes as integers, as the collector's file exporter does.
    For tests, benchmarks and handing synthetic data to OTLP tools.

    Args:
        spans: Canonical spans (see :mod:`graphad.ingest.schema`).
        spans_per_request: Spans per document.

    Returns:
        One dict per request.

    Example:
        >>> spans = pd.DataFrame({"trace_id": ["ab" * 16], "span_id": ["cd" * 8],
        ...     "parent_id": [""], "service": ["web"], "operation": ["GET"],
        ...     "start_ns": [5], "duration_ns": [3], "status": [1], "kind": ["server"]})
        >>> span = to_otlp_requests(spans)[0]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
        >>> span["kind"], span["endTimeUnixNano"], span["status"]
        (2, '8', {'code': 2})
    """
    kinds = {k: i for i, k in enumerate(_KINDS)}
    columns = {c: spans[c].tolist() for c in spans.columns}
    kind = columns.get("kind", [""] * len(spans))
    requests = []
    for lo in range(0, len(spans), spans_per_request):
        resources: list[dict] = []
        last = None
        for i in range(lo, min(lo + spans_per_request, len(spans))):
            service = columns["service"][i]
            if service != last:
                attrs = [{"key": "service.name", "value": {"stringValue": service}}]
                resources.append({"resource": {"attributes": attrs}, "scopeSpans": [{"spans": []}]})
                last = service
            span = {
                "traceId": columns["trace_id"][i],
                "spanId": columns["span_id"][i],
                "name": columns["operation"][i] if "operation" in columns else "",
                "kind": kinds.get(str(kind[i]).lower(), 0),
                "startTimeUnixNano": str(columns["start_ns"][i]),
                "endTimeUnixNano": str(columns["start_ns"][i] + columns["duration_ns"][i]),
            }
            if columns["parent_id"][i]:
                span["parentSpanId"] = columns["parent_id"][i]
            if columns["status"][i]:
                span["status"] = {"code": 2}
            resources[-1]["scopeSpans"][0]["spans"].append(span)
        requests.append({"resourceSpans": resources})
    return requests


def to_otlp_proto(requests: list[dict]) -> list[bytes]:
    """OTLP/JSON documents (hex ids, as :func:`to_otlp_requests` writes) -> protobuf.

    Returns:
        One serialised ``ExportTraceServiceRequest`` per document.
    """
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    out = []
    for document in requests:
        request = ExportTraceServiceRequest()
        for resource_spans in document["resourceSpans"]:
            target = request.resource_spans.add()
            for attribute in resource_spans.get("resource", {}).get("attributes", []):
                item = target.resource.attributes.add()
                item.key = attribute["key"]
                item.value.string_value = attribute["value"]["stringValue"]
            for scope in resource_spans["scopeSpans"]:
                scope_out = target.scope_spans.add()
                for span in scope["spans"]:
                    s = scope_out.spans.add()
                    s.trace_id = bytes.fromhex(span["traceId"])
                    s.span_id = bytes.fromhex(span["spanId"])
                    s.parent_span_id = bytes.fromhex(span.get("parentSpanId", ""))
                    s.name = span.get("name", "")
                    s.kind = int(span.get("kind", 0))
                    s.start_time_unix_nano = int(span["startTimeUnixNano"])
                    s.end_time_unix_nano = int(span["endTimeUnixNano"])
                    s.status.code = int(span.get("status", {}).get("code", 0))
        out.append(request.SerializeToString())
    return out
