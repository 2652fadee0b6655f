"""Raw telemetry -> canonical, validated long frames (spans, metrics, log events)."""

from graphad.ingest.report import IngestReport
from graphad.ingest.schema import (
    LOG_COLUMNS,
    METRIC_COLUMNS,
    SPAN_COLUMNS,
    normalize_logs,
    normalize_metrics,
    normalize_spans,
    validate_logs,
    validate_metrics,
    validate_spans,
)
from graphad.ingest.time import to_ns

__all__ = [
    "IngestReport",
    "SPAN_COLUMNS",
    "METRIC_COLUMNS",
    "LOG_COLUMNS",
    "validate_spans",
    "validate_metrics",
    "validate_logs",
    "normalize_spans",
    "normalize_metrics",
    "normalize_logs",
    "to_ns",
]
