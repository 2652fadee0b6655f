"""Raw telemetry -> canonical, validated long frames (spans, metrics, edge metrics, log events).

Readers, each returning ``(frame, IngestReport)``:

* :func:`read_traces`: OTLP JSON (document or JSON lines), Jaeger JSON, Zipkin v2 JSON,
  span CSV/TSV/Parquet or a DataFrame with a column mapping;
* :func:`read_metrics`: long or wide tables, Prometheus ``query_range`` JSON;
* :func:`read_edge_metrics`: per call-graph edge samples (``src -> dst``), long tables or
  wide ones with a column per ``<src><separator><dst>`` edge;
* :func:`read_logs`: raw lines or table rows, templates mined with Drain3
  (:func:`mine_templates`); :func:`read_event_sequences` reads pre-parsed sessions.

The frames travel together as a :class:`Telemetry` (with the call graph, the report and
the node rule); an :class:`Incident` adds the onset, a :class:`FaultCase` the truth.

Files may be ``.gz``, ``.xz``, ``.zst`` or ``.bz2`` compressed; timestamps in s/ms/us/ns
or ISO 8601 become int64 nanoseconds UTC (:func:`to_ns`).
"""

from graphad.ingest.io import open_text, read_json_documents, read_table
from graphad.ingest.logs import (
    make_template_miner,
    mine_templates,
    read_event_sequences,
    read_logs,
)
from graphad.ingest.metrics import (
    parse_prometheus,
    read_edge_metrics,
    read_metrics,
    wide_to_long,
)
from graphad.ingest.report import IngestReport
from graphad.ingest.schema import (
    EDGE_METRIC_COLUMNS,
    LOG_COLUMNS,
    METRIC_COLUMNS,
    SPAN_CODE_COLUMNS,
    SPAN_COLUMNS,
    empty_edge_metrics,
    normalize_edge_metrics,
    normalize_logs,
    normalize_metrics,
    normalize_spans,
    validate_edge_metrics,
    validate_logs,
    validate_metrics,
    validate_spans,
)
from graphad.ingest.telemetry import FaultCase, Incident, Telemetry, read_telemetry
from graphad.ingest.time import to_ns
from graphad.ingest.traces import (
    detect_trace_format,
    parse_jaeger,
    parse_otlp,
    parse_zipkin,
    read_traces,
    sample_traces,
)

__all__ = [
    "Telemetry",
    "Incident",
    "FaultCase",
    "read_telemetry",
    "read_traces",
    "sample_traces",
    "read_metrics",
    "read_edge_metrics",
    "read_logs",
    "read_event_sequences",
    "mine_templates",
    "make_template_miner",
    "detect_trace_format",
    "parse_otlp",
    "parse_jaeger",
    "parse_zipkin",
    "parse_prometheus",
    "wide_to_long",
    "open_text",
    "read_json_documents",
    "read_table",
    "IngestReport",
    "SPAN_COLUMNS",
    "SPAN_CODE_COLUMNS",
    "METRIC_COLUMNS",
    "EDGE_METRIC_COLUMNS",
    "LOG_COLUMNS",
    "validate_spans",
    "validate_metrics",
    "validate_edge_metrics",
    "validate_logs",
    "normalize_spans",
    "normalize_metrics",
    "normalize_edge_metrics",
    "normalize_logs",
    "empty_edge_metrics",
    "to_ns",
]
