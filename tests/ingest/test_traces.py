"""Trace readers on tiny hand-made files of every format, bad files, and real Nezha spans."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from graphad.exceptions import GraphadInputError, ParseError, SchemaError
from graphad.ingest import (
    SPAN_CODE_COLUMNS,
    SPAN_COLUMNS,
    detect_trace_format,
    read_traces,
    sample_traces,
)

DATA = Path(__file__).parent / "data"
NEZHA_COLUMNS = {
    "trace_id": "TraceID",
    "span_id": "SpanID",
    "parent_id": "ParentID",
    "service": "PodName",
    "operation": "OperationName",
    "start_ns": "StartTimeUnixNano",
}
T0 = 1661140921000000000


def test_otlp_json():
    spans, report = read_traces(DATA / "otlp.json")
    assert list(spans.columns) == [*SPAN_COLUMNS, *SPAN_CODE_COLUMNS]
    assert spans["span_id"].tolist() == [
        "eee19b7ec3c1b174",
        "eee19b7ec3c1b175",
        "eee19b7ec3c1b176",
        "eee19b7ec3c1b177",  # written in base64, turned into hex
    ]
    assert spans["trace_id"].unique().tolist() == ["5b8efff798038103d269b633813fc60c"]
    assert spans["parent_id"].tolist() == [
        "",
        "eee19b7ec3c1b174",
        "eee19b7ec3c1b175",
        "eee19b7ec3c1b176",
    ]
    assert spans["service"].tolist() == ["frontend", "frontend", "cartservice", "cartservice"]
    assert spans["operation"].tolist() == ["GET /cart", "cart.Get", "cart.Get", "redis GET"]
    assert spans["start_ns"].tolist() == [T0, T0 + 10_000_000, T0 + 20_000_000, T0 + 30_000_000]
    assert spans["duration_ns"].tolist() == [250_000_000, 190_000_000, 170_000_000, 10_000_000]
    assert spans["status"].tolist() == [0, 1, 1, 0]
    assert spans["kind"].tolist() == ["server", "client", "server", "client"]
    assert spans["start_ns"].dtype == np.int64 and spans["status"].dtype == np.int8
    assert report.n_records == 4 and report.n_kept == 4 and report.n_problems == 0


def test_otlp_json_lines_and_unknown_service():
    spans, report = read_traces(DATA / "otlp_lines.jsonl")
    assert spans[["service", "operation", "start_ns", "duration_ns", "kind"]].values.tolist() == [
        ["unknown_service", "db.query", 1000, 500, "internal"],
        ["web", "GET /", 2000, 600, "server"],
    ]
    assert dict(report.counts) == {"service_unknown": 1, "out_of_order": 1}
    assert report.examples["service_unknown"] == ["line 2, resourceSpans[0]"]


def test_jaeger_json():
    spans, report = read_traces(DATA / "jaeger.json")
    assert spans[["span_id", "parent_id", "service", "operation"]].values.tolist() == [
        ["00000000000000a1", "", "web", "HTTP GET /"],
        ["00000000000000a2", "00000000000000a1", "db", "SELECT"],
        ["00000000000000a3", "00000000000000a1", "web", "publish"],  # FOLLOWS_FROM
    ]
    assert spans["start_ns"].tolist() == [T0, T0 + 1_000_000, T0 + 4_000_000]
    assert spans["duration_ns"].tolist() == [5_000_000, 2_000_000, 500_000]
    assert spans["status"].tolist() == [0, 1, 0]
    assert spans["kind"].tolist() == ["server", "client", "producer"]
    assert report.n_problems == 0


def test_jaeger_inline_process_and_unknown_process():
    from graphad.ingest import parse_jaeger

    trace = {
        "traceID": "t",
        "spans": [
            {
                "traceID": "t",
                "spanID": "a",
                "operationName": "op",
                "startTime": 1,
                "duration": 2,
                "process": {"serviceName": "inline"},
                "tags": [],
            },
            {
                "traceID": "t",
                "spanID": "b",
                "operationName": "op",
                "startTime": 3,
                "duration": 4,
                "processID": "p9",
                "tags": [{"key": "otel.status_code", "value": "ERROR"}],
            },
        ],
    }
    spans, report = parse_jaeger([trace], source="inline.json")
    assert spans[["service", "status"]].values.tolist() == [
        ["inline", 0],
        ["unknown_service", 1],
    ]
    assert dict(report.counts) == {"service_unknown": 1}
    assert report.examples["service_unknown"] == ["trace.spans[1]"]


def test_zipkin_json_shared_span_and_missing_duration():
    spans, report = read_traces(DATA / "zipkin.json")
    assert spans[["span_id", "parent_id", "service", "kind", "status"]].values.tolist() == [
        ["86154a4ba6e91385", "", "frontend", "server", 0],
        ["4d1e00c0db9010db", "86154a4ba6e91385", "frontend", "client", 0],
        ["4d1e00c0db9010db:server", "4d1e00c0db9010db", "backend", "server", 1],
        ["5e2f11d1ec0121ec", "4d1e00c0db9010db:server", "backend", "client", 0],
    ]
    assert spans["duration_ns"].tolist() == [8_000_000, 5_000_000, 3_000_000, 0]
    assert dict(report.counts) == {"shared_span": 1, "missing_duration": 1}


def test_span_csv_canonical_names_are_nanoseconds():
    spans, report = read_traces(DATA / "spans.csv")
    assert spans[["span_id", "start_ns", "duration_ns", "status", "kind"]].values.tolist() == [
        ["a", 1000, 500, 0, "server"],
        ["c", 1050, 200, 0, "server"],
        ["b", 1100, 300, 1, "client"],
    ]
    assert dict(report.counts) == {"out_of_order": 1}


def test_span_csv_with_nezha_mapping():
    spans, report = read_traces(
        DATA / "nezha_spans.csv", columns=NEZHA_COLUMNS, end_column="EndTimeUnixNano"
    )
    assert spans["parent_id"].tolist() == ["", "d1062631dc4949a1", "5684afbee8a3f761"]
    assert spans["duration_ns"].tolist() == [160845821, 6764204, 4000000]
    assert spans["service"].iloc[2] == "productcatalogservice-668d5f85fb-wckp8"
    assert dict(report.counts) == {"status_unknown": 3}


def test_recoverable_problems_are_counted_and_repaired():
    spans, report = read_traces(DATA / "spans_recoverable.csv")
    assert spans[["span_id", "parent_id", "start_ns", "duration_ns"]].values.tolist() == [
        ["a", "", 100, 50],
        ["c", "zz", 110, 10],  # orphan: kept
        ["b", "a", 120, 0],  # negative duration -> 0; its duplicate (121) dropped
    ]
    assert dict(report.counts) == {
        "negative_duration": 1,
        "duplicate_span_id": 1,
        "orphan_span": 1,
        "out_of_order": 1,
    }
    assert report.n_records == 4 and report.n_kept == 3
    assert report.examples["orphan_span"] == ["record 4"]


def test_gzip_csv_and_parquet_read_the_same(tmp_path):
    expected, _ = read_traces(DATA / "spans.csv")
    gz = tmp_path / "spans.csv.gz"
    with open(DATA / "spans.csv", "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    from_gz, _ = read_traces(gz)
    pd.testing.assert_frame_equal(from_gz, expected)
    pytest.importorskip("pyarrow")
    parquet = tmp_path / "spans.parquet"
    pd.read_csv(DATA / "spans.csv", dtype={"parent_id": str}).to_parquet(parquet)
    from_parquet, _ = read_traces(parquet)
    pd.testing.assert_frame_equal(from_parquet, expected)


@pytest.mark.parametrize("suffix", [".xz", ".bz2", ".zst"])
def test_compressed_json(tmp_path, suffix):
    import bz2
    import lzma

    raw = (DATA / "jaeger.json").read_bytes()
    if suffix == ".xz":
        packed = lzma.compress(raw)
    elif suffix == ".bz2":
        packed = bz2.compress(raw)
    else:
        zstandard = pytest.importorskip("zstandard")
        packed = zstandard.ZstdCompressor().compress(raw)
    path = tmp_path / f"trace.json{suffix}"
    path.write_bytes(packed)
    spans, _ = read_traces(path)
    assert spans["operation"].tolist() == ["HTTP GET /", "SELECT", "publish"]


def test_dataframe_input_and_explicit_format(tmp_path):
    frame = pd.read_csv(DATA / "nezha_spans.csv")
    spans, _ = read_traces(frame, columns=NEZHA_COLUMNS, end_column="EndTimeUnixNano")
    assert len(spans) == 3
    # a Zipkin file without a .json suffix, format given explicitly
    path = tmp_path / "spans.dump"
    path.write_text((DATA / "zipkin.json").read_text())
    spans, _ = read_traces(path, format="zipkin")
    assert len(spans) == 4
    spans, _ = read_traces(path)  # detected from the content
    assert len(spans) == 4


def test_detect_trace_format():
    assert detect_trace_format([json.loads((DATA / "otlp.json").read_text())]) == "otlp"
    assert detect_trace_format([json.loads((DATA / "jaeger.json").read_text())]) == "jaeger"
    assert detect_trace_format([json.loads((DATA / "zipkin.json").read_text())]) == "zipkin"


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("name", "error", "pattern"),
    [
        (
            "bad_syntax.json",
            ParseError,
            r"bad_syntax\.json, record line 2, column 16: invalid JSON",
        ),
        (
            "bad_lines.jsonl",
            ParseError,
            r"bad_lines\.jsonl, record line 3, column \d+: invalid JSON",
        ),
        (
            "otlp_missing_trace_id.json",
            SchemaError,
            r"record resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\], field 'traceId': "
            r"required field missing \(expected a hex trace id, got no such field\)",
        ),
        (
            "otlp_bad_kind.json",
            ParseError,
            r"spans\[0\], field 'kind': unknown span kind \(expected 0\.\.5 .*, got 9\)",
        ),
        (
            "otlp_bad_time.json",
            GraphadInputError,
            r"field 'startTimeUnixNano': value is not an integer .*got 'soon'\)",
        ),
        (
            "unknown_traces.json",
            ParseError,
            r"unknown_traces\.json, record 1: unrecognised trace format \(expected OTLP JSON"
            r".*got an object with keys \['items', 'kind'\]\)",
        ),
        (
            "spans_missing_column.csv",
            SchemaError,
            r"spans_missing_column\.csv, field 'span_id': span table lacks 1 column: 'span_id'",
        ),
        (
            "spans_bad_start.csv",
            GraphadInputError,
            r"spans_bad_start\.csv, record 2, field 'start_ns': unreadable timestamp "
            r"\(expected an epoch number in unit 'ns', got 'abc'\)",
        ),
    ],
)
def test_bad_trace_files(name, error, pattern):
    with pytest.raises(error, match=pattern):
        read_traces(DATA / name)


def test_bad_arguments():
    with pytest.raises(GraphadInputError, match=r"Could not resolve 'xml'"):
        read_traces(DATA / "spans.csv", format="xml")
    with pytest.raises(ParseError, match=r"missing\.json: file not found"):
        read_traces(DATA / "missing.json")
    with pytest.raises(SchemaError, match=r"'TraceId' \(mapped for 'trace_id'\)"):
        read_traces(DATA / "nezha_spans.csv", columns={"trace_id": "TraceId"})
    with pytest.raises(GraphadInputError, match=r"expected a path or a pandas DataFrame"):
        read_traces(42)


# ----------------------------------------------------------------------------- real data


def test_real_nezha_trace_minute(shared_data):
    path = shared_data / "nezha/rca_data/2022-08-22/trace/04_02_trace.csv.xz"
    spans, report = read_traces(path, columns=NEZHA_COLUMNS, end_column="EndTimeUnixNano")
    assert len(spans) == 22345 and report.n_records == 22345
    assert list(spans.columns) == [*SPAN_COLUMNS, *SPAN_CODE_COLUMNS]
    assert (spans["duration_ns"] >= 0).all()
    assert spans["start_ns"].is_monotonic_increasing
    assert spans["start_ns"].min() > 1_661_000_000 * 10**9  # 2022, in nanoseconds
    assert (spans["parent_id"] == "").sum() > 0  # "root" spelled parents became roots
    assert spans["service"].str.contains("-").all()  # pod names, kept as they are
    raw = pd.read_csv(path, usecols=["Duration"])
    # Nezha's Duration column is in microseconds; end - start agrees with it.
    assert np.allclose(np.sort(spans["duration_ns"] // 1000), np.sort(raw["Duration"]), atol=1)


def test_sample_traces_keeps_whole_traces_by_id():
    ids = [f"{i:032x}" for i in range(4000)]
    spans = pd.DataFrame({"trace_id": np.repeat(ids, 3), "span_id": np.arange(12000)})
    tenth = sample_traces(spans, 0.1)
    fifth = sample_traces(spans, 0.2)
    # whole traces, about the asked share, the same choice every time, nested
    assert (tenth.groupby("trace_id").size() == 3).all()
    assert abs(tenth["trace_id"].nunique() / 4000 - 0.1) < 0.02
    assert abs(fifth["trace_id"].nunique() / 4000 - 0.2) < 0.02
    assert sample_traces(spans, 0.1).equals(tenth)
    assert set(tenth["trace_id"]) <= set(fifth["trace_id"])
    assert sample_traces(spans, 1.0).equals(spans)
    other = sample_traces(spans, 0.1, seed=1)  # another seed, another (independent) sample
    overlap = len(set(other["trace_id"]) & set(tenth["trace_id"])) / tenth["trace_id"].nunique()
    assert abs(overlap - 0.1) < 0.05
    assert list(tenth.index) == list(range(len(tenth)))


@pytest.mark.parametrize("fraction", [0, -0.5, 1.5])
def test_sample_traces_bad_fraction(fraction):
    spans = pd.DataFrame({"trace_id": ["a"], "span_id": ["x"]})
    with pytest.raises(GraphadInputError, match="fraction"):
        sample_traces(spans, fraction)


def test_sample_traces_needs_trace_ids():
    with pytest.raises(GraphadInputError, match="trace_id"):
        sample_traces(pd.DataFrame({"span_id": ["x"]}), 0.5)


def test_ragged_row_is_dropped_and_counted():
    # Regression: a row with more fields than the header aborted the whole file.
    spans, report = read_traces(DATA / "spans_ragged.csv")
    assert spans["span_id"].tolist() == ["a"]
    assert report.counts["malformed_row"] == 1
    assert report.examples["malformed_row"] == ["line 3"]
    assert report.n_records == 2 and report.n_kept == 1
    assert report.n_records == report.n_kept + report.n_dropped
