"""Fast OTLP readers: the same spans and report as the reference parser."""

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from graphad.exceptions import GraphadError, ParseError
from graphad.ingest import read_traces
from graphad.ingest.io import read_json_documents
from graphad.ingest.otlp_fast import (
    parse_otlp_proto,
    read_otlp_json_arrow,
    to_otlp_proto,
    to_otlp_requests,
)
from graphad.ingest.traces import parse_otlp

pytest.importorskip("pyarrow.json")

DATA = Path(__file__).parent / "data"


def _spans(n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    trace = rng.integers(0, n // 4, n)
    frame = pd.DataFrame(
        {
            "trace_id": [f"{t:032X}" for t in trace],  # upper case: read as lower case
            "span_id": [f"{i:016x}" for i in range(n)],
            "parent_id": ["" if i % 4 == 0 else f"{i - 1:016x}" for i in range(n)],
            "service": rng.choice(["web", "db", "cart"], n),
            "operation": rng.choice(["GET /", "query"], n),
            "start_ns": rng.integers(10**18, 10**18 + 10**11, n),
            "duration_ns": rng.integers(0, 10**8, n),
            "status": (rng.random(n) < 0.1).astype(np.int8),
            "kind": rng.choice(["server", "client", "internal", ""], n),
        }
    )
    frame.loc[7, "duration_ns"] = -5  # repaired (negative_duration)
    frame.loc[9, ["trace_id", "span_id"]] = frame.loc[8, ["trace_id", "span_id"]]  # duplicate
    frame.loc[13, "parent_id"] = "ffffffffffffffff"  # orphan_span
    return frame


def _write_lines(path: Path, requests: list[dict]) -> Path:
    text = "\n".join(json.dumps(r) for r in requests) + "\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def _reference(path: Path):
    return parse_otlp(read_json_documents(path), source=str(path))


@pytest.mark.parametrize("name", ["spans.jsonl", "spans.jsonl.gz"])
def test_arrow_json_lines_match_the_reference_parser(tmp_path, name):
    requests = to_otlp_requests(_spans(), spans_per_request=50)
    del requests[2]["resourceSpans"][1]["resource"]  # service_unknown, with its location
    requests[4]["resourceSpans"][0]["resource"]["attributes"] = []
    path = _write_lines(tmp_path / name, requests)
    fast = read_otlp_json_arrow(path)
    assert fast is not None
    spans, report = _reference(path)
    pd.testing.assert_frame_equal(fast[0], spans)
    assert fast[1].to_dict() == report.to_dict()
    for kind in ("service_unknown", "negative_duration", "duplicate_span_id", "orphan_span"):
        assert report.counts[kind] > 0, (kind, report)
    routed, routed_report = read_traces(path)  # read_traces takes the fast path
    pd.testing.assert_frame_equal(routed, spans)
    assert routed_report.to_dict() == report.to_dict()


def test_arrow_declines_what_it_cannot_read(tmp_path):
    for name in ("otlp.json", "otlp_lines.jsonl", "otlp_missing_trace_id.json", "jaeger.json"):
        assert read_otlp_json_arrow(DATA / name) is None  # pretty, mixed kinds, missing, Jaeger
    requests = to_otlp_requests(_spans(40))
    base64_ids = json.loads(json.dumps(requests))
    base64_ids[0]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] = (
        "AAECAwQFBgcICQoLDA0ODw=="
    )
    path = _write_lines(tmp_path / "b64.jsonl", base64_ids)
    assert read_otlp_json_arrow(path) is None
    spans, _ = read_traces(path)  # the reference parser converts the base64 id
    assert spans["trace_id"].str.fullmatch("[0-9a-f]{32}").all()
    assert "000102030405060708090a0b0c0d0e0f" in set(spans["trace_id"])
    bad = json.loads(json.dumps(requests))
    del bad[0]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["startTimeUnixNano"]
    with pytest.raises(Exception, match="startTimeUnixNano"):
        read_traces(_write_lines(tmp_path / "bad.jsonl", bad))


@pytest.mark.parametrize("first", [b"null", b"[]", b"3", b'  "resourceSpans"'])
def test_arrow_declines_a_line_that_is_not_an_object(tmp_path, first):
    # found by the slow fuzz run: Arrow's JSON reader crashed the process (SIGSEGV) on a
    # file whose first line is a bare null; such files go to the reference reader
    lines = json.dumps(to_otlp_requests(_spans(10))[0]).encode()
    path = tmp_path / "first.jsonl"
    path.write_bytes(first + b"\n" + lines + b"\n")
    assert read_otlp_json_arrow(path) is None
    with pytest.raises(GraphadError, match="first.jsonl"):  # named, not a crash
        read_traces(path)


def test_protobuf_payloads_and_files(tmp_path):
    requests = to_otlp_requests(_spans(), spans_per_request=100)
    del requests[1]["resourceSpans"][0]["resource"]
    json_path = _write_lines(tmp_path / "spans.jsonl", requests)
    spans, report = _reference(json_path)
    payloads = to_otlp_proto(requests)
    got, got_report = parse_otlp_proto(payloads, source=str(json_path))
    pd.testing.assert_frame_equal(got, spans)
    assert got_report.to_dict() == report.to_dict()
    framed = b"".join(len(p).to_bytes(4, "big") + p for p in payloads)  # file exporter
    (tmp_path / "spans.binpb").write_bytes(framed)
    from_file, file_report = read_traces(tmp_path / "spans.binpb")
    pd.testing.assert_frame_equal(from_file, spans)
    assert file_report.counts == report.counts
    (tmp_path / "one.pb").write_bytes(payloads[0])  # one OTLP/HTTP body
    one, one_report = read_traces(tmp_path / "one.pb")
    assert one_report.n_records == 100 and one_report.n_kept == len(one) == 99  # a duplicate
    (tmp_path / "junk.pb").write_bytes(b"\xff\xff\xff")
    with pytest.raises(ParseError, match="not an OTLP protobuf"):
        read_traces(tmp_path / "junk.pb")
