"""Readers never crash, never hang, and account for every record (issue 18).

A seeded-mutation fuzzer (``fuzzing.py`` next to this file) mutates the small valid
fixtures of every reader; each read must end in a frame whose report accounts for every
record, a :class:`~graphad.exceptions.GraphadError`, or a
:class:`~graphad.exceptions.ResourceLimitError`, within the time limit. The default run
tries 150 mutations per reader; ``-m slow`` tries 2,000. Below, every bug the
fuzzer found is a named regression test with its minimal input.
"""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest

from graphad.exceptions import GraphadInputError, ParseError
from graphad.ingest import read_edge_metrics, read_logs, read_metrics, read_traces

from .fuzzing import READERS, check_frame, fuzz

pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.ParserWarning")

#: Mutations per reader in the default run (the whole module stays under ~30 s).
DEFAULT_EXAMPLES = 150


@pytest.mark.parametrize("reader", sorted(READERS))
def test_unmutated_fixture_is_read_and_accounted(reader, tmp_path):
    name, data, read = READERS[reader]
    path = tmp_path / name
    path.write_bytes(data)
    frame, report = read(path)
    assert len(frame) > 0
    assert check_frame(frame, report) == ""


@pytest.mark.parametrize("reader", sorted(READERS))
def test_fuzz_default(reader, tmp_path):
    counts, failures = fuzz(reader, DEFAULT_EXAMPLES, tmp_path, seed=1, limit_s=10.0)
    assert not failures, [(i, o.kind, o.detail, content[:200]) for i, o, content in failures]
    assert counts.pop("slowest_ms") < 10_000
    assert sum(counts.values()) == DEFAULT_EXAMPLES


@pytest.mark.slow
@pytest.mark.parametrize("reader", sorted(READERS))
def test_fuzz_slow(reader, tmp_path):
    counts, failures = fuzz(reader, 2000, tmp_path, seed=0, limit_s=10.0)
    assert not failures, [(i, o.kind, o.detail, content[:200]) for i, o, content in failures]


# ----------------------------------------------------------------- minimal regressions


def _otlp(span: dict, scope: object = None) -> dict:
    base = {
        "traceId": "0af7651916cd43dd8448eb211c80319c",
        "spanId": "b7ad6b7169203331",
        "name": "GET /",
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000000000500",
    }
    base.update(span)
    scopes = [{"spans": [base]}] if scope is None else [scope]
    return {"resourceSpans": [{"resource": {}, "scopeSpans": scopes}]}


def _write(tmp_path, name: str, content: str | bytes):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


@pytest.mark.parametrize("kind", ["NaN", "-Infinity", "2.7", '{"a": 1}', "[2]"])
def test_otlp_odd_span_kind_is_an_error(tmp_path, kind):
    # NaN / inf raised ValueError / OverflowError; 2.7 silently became "server".
    text = json.dumps(_otlp({"kind": "KIND"})).replace('"KIND"', kind)
    with pytest.raises(ParseError, match=r"spans\[0\], field 'kind': unknown span kind"):
        read_traces(_write(tmp_path, "t.json", text))


def test_otlp_scope_that_is_a_number_is_an_error_not_zero_spans(tmp_path):
    path = _write(tmp_path, "t.json", json.dumps(_otlp({}, scope=0)))
    with pytest.raises(ParseError, match=r"scopeSpans\[0\]: not a JSON object"):
        read_traces(path)


def test_otlp_resource_spans_entry_that_is_a_number(tmp_path):
    path = _write(tmp_path, "t.json", json.dumps({"resourceSpans": [3]}))
    with pytest.raises(ParseError, match=r"resourceSpans\[0\]: not an OTLP ResourceSpans"):
        read_traces(path)


@pytest.mark.parametrize("field, value", [("traceId", ["a"]), ("name", {"a": 1})])
def test_otlp_ids_and_names_of_the_wrong_type(tmp_path, field, value):
    path = _write(tmp_path, "t.json", json.dumps(_otlp({field: value})))
    with pytest.raises(ParseError, match=r"spans\[0\]: malformed span"):
        read_traces(path)


def test_otlp_start_beyond_int64_is_dropped_and_counted(tmp_path):
    # A start of 1e30 became INT64_MIN; now it is an implausible time, dropped.
    doc = _otlp({"startTimeUnixNano": 1e30})
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"].append(
        {**_otlp({})["resourceSpans"][0]["scopeSpans"][0]["spans"][0], "spanId": "b2"}
    )
    spans, report = read_traces(_write(tmp_path, "t.json", json.dumps(doc)))
    assert spans["span_id"].tolist() == ["b2"]
    assert report.counts["implausible_time"] == 1
    assert report.n_records == report.n_kept + report.n_dropped == 2


def _jaeger(span: dict) -> dict:
    base = {
        "traceID": "t1",
        "spanID": "a",
        "operationName": "GET",
        "references": [],
        "startTime": 1_700_000_000_000_000,
        "duration": 5,
        "processID": "p1",
        "tags": [],
    }
    base.update(span)
    return {
        "data": [{"traceID": "t1", "processes": {"p1": {"serviceName": "web"}}, "spans": [base]}]
    }


@pytest.mark.parametrize("change", [{"tags": 5}, {"processID": ["p1"]}, {"spanID": {"x": 1}}])
def test_jaeger_fields_of_the_wrong_type(tmp_path, change):
    path = _write(tmp_path, "t.json", json.dumps(_jaeger(change)))
    with pytest.raises(ParseError, match=r"data\[0\]\.spans\[0\]: malformed span"):
        read_traces(path)


def test_jaeger_duration_beyond_int64_is_dropped(tmp_path):
    # A duration of 9e19 µs wrapped around and was called negative.
    spans, report = read_traces(_write(tmp_path, "t.json", json.dumps(_jaeger({"duration": 9e19}))))
    assert len(spans) == 0 and report.counts["implausible_time"] == 1


def test_zipkin_span_that_is_a_string(tmp_path):
    doc = [{"traceId": "a", "id": "b", "timestamp": 1_700_000_000_000_000}, "x"]
    with pytest.raises(ParseError, match=r"span 1: not a Zipkin span"):
        read_traces(_write(tmp_path, "t.json", json.dumps(doc)))


def test_self_parent_and_cycles_are_repaired_and_counted(tmp_path):
    text = (
        "trace_id,span_id,parent_id,service,start_ns,duration_ns\n"
        "t,a,a,web,1700000000000000000,5\n"  # its own parent
        "t,b,c,web,1700000000000000001,5\n"  # b -> c -> b
        "t,c,b,db,1700000000000000002,5\n"
    )
    spans, report = read_traces(_write(tmp_path, "s.csv", text))
    assert spans["parent_id"].tolist() == ["", "", "b"]
    assert report.counts["self_parent"] == 1 and report.counts["parent_cycle"] == 1


def test_span_id_reused_across_traces_is_counted(tmp_path):
    text = (
        "trace_id,span_id,parent_id,service,start_ns,duration_ns\n"
        "t1,a,,web,1700000000000000000,5\n"
        "t2,a,,web,1700000000000000001,5\n"
    )
    spans, report = read_traces(_write(tmp_path, "s.csv", text))
    assert len(spans) == 2 and report.counts["span_id_across_traces"] == 2


@pytest.mark.parametrize("stamp", ["1e39", "1e11"])
def test_prometheus_time_out_of_range_is_an_error(tmp_path, stamp):
    # 1e39 silently became 0 ("invalid value in cast"), 1e11 s wrapped around.
    answer = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {"metric": {"__name__": "up", "instance": "web"}, "values": [[float(stamp), "1"]]}
            ],
        },
    }
    with pytest.raises(GraphadInputError, match="sample timestamp out of range"):
        read_metrics(_write(tmp_path, "p.json", json.dumps(answer)))


def test_wide_row_with_an_extra_field_is_dropped_not_shifted(tmp_path):
    # The extra field became an index: time read 0.5, web/cpu 100.0, db/cpu 7.0.
    text = "time,web/cpu,db/cpu\n1700000000,0.5,100\n1700000060,0.6,110,7\n1700000120,0.7,120\n"
    metrics, report = read_metrics(_write(tmp_path, "m.csv", text), separator="/")
    assert metrics["value"].tolist() == [0.5, 100.0, 0.7, 120.0]
    assert report.examples["malformed_row"] == ["line 3"]
    assert report.n_records == report.n_kept + report.n_dropped == 5


def test_pandas_written_wide_csv_index_is_not_a_metric(tmp_path):
    path = tmp_path / "m.csv"
    pd.DataFrame({"time": [1700000000, 1700000060], "cpu": [0.5, 0.7]}).to_csv(path)
    metrics, report = read_metrics(path, node="web")
    assert metrics["metric"].unique().tolist() == ["cpu"]
    assert report.counts["index_column"] == 1


@pytest.mark.parametrize("when", ["2999-01-01T00:00:00Z", "1e30"])
def test_long_metric_time_out_of_range_is_an_error(tmp_path, when):
    # OutOfBoundsDatetime escaped for year 2999.
    text = f"timestamp,node,metric,value\n2023-01-01T00:00:00Z,web,cpu,1\n{when},web,cpu,2\n"
    if when == "1e30":
        text = "timestamp,node,metric,value\n1700000000,web,cpu,1\n1e30,web,cpu,2\n"
    with pytest.raises(GraphadInputError, match=r"record 2, .*timestamp out of range"):
        read_metrics(_write(tmp_path, "m.csv", text))


def test_far_future_metric_sample_is_dropped_and_counted(tmp_path):
    text = (
        "timestamp,node,metric,value\n1700000000,web,cpu,1\n1700000060,web,cpu,2\n"
        "2000000000,web,cpu,3\n"
    )
    metrics, report = read_metrics(_write(tmp_path, "m.csv", text))
    assert metrics["value"].tolist() == [1.0, 2.0]
    assert report.counts["implausible_time"] == 1


def test_log_line_past_2262_is_unparsed_not_a_crash(tmp_path):
    text = "2022-08-22T05:18:42Z user 1 in\n2999-01-01T00:00:00Z user 2 in\n"
    events, report = read_logs(_write(tmp_path, "app.log", text))
    assert len(events) == 1 and report.counts["unparsed_log_line"] == 1
    assert report.n_records == report.n_kept + report.n_dropped


def test_bad_utf8_in_a_table_name_is_replaced_and_counted(tmp_path):
    # UnicodeDecodeError escaped from the edge and log readers.
    content = b"timestamp,src,dst,metric,value\n1700000000,w\xffb,db,p50,1\n"
    edges, report = read_edge_metrics(_write(tmp_path, "e.csv", content))
    assert edges["src"].tolist() == ["w\ufffdb"] and report.counts["undecodable_byte"] == 1


def test_json_with_a_bom_is_read(tmp_path):
    path = _write(tmp_path, "t.json", b"\xef\xbb\xbf" + json.dumps(_otlp({})).encode())
    spans, _ = read_traces(path)
    assert len(spans) == 1


@pytest.mark.parametrize("line", ["," * 10_000_000, "a" * 10_000_000])
def test_ten_megabyte_line_is_read_within_seconds(tmp_path, line):
    # A 100k-separator line took 11.7 s and 1.4 GB; 1 M aborted the process.
    text = f"time,web/cpu\n1700000000,0.5\n{line}\n1700000060,0.6\n"
    start = time.perf_counter()
    metrics, report = read_metrics(_write(tmp_path, "m.csv", text), separator="/")
    assert time.perf_counter() - start < 10
    assert metrics["value"].tolist() == [0.5, 0.6]
    assert report.examples["malformed_row"] == ["line 3"]


def test_binned_log_events_are_accounted_as_events(tmp_path):
    text = (
        "2022-08-22T05:18:42Z user 1 in\n2022-08-22T05:18:43Z user 2 in\n\n"
        "2099-01-01T00:00:00Z user 3 in\n"
    )
    events, report = read_logs(_write(tmp_path, "app.log", text), bin_ns=60 * 10**9)
    assert events["count"].tolist() == [2]
    assert report.counts["implausible_time"] == 1 and report.counts["blank_line"] == 1
    assert report.n_records == 4 and report.n_kept == 2
    assert report.n_records == report.n_kept + report.n_dropped


def test_empty_times_are_errors_or_counted_never_zero(tmp_path):
    # An empty ISO time became INT64_MIN; an empty log-table time became 0, uncounted.
    text = "timestamp,node,metric,value\n2023-01-01T00:00:00Z,web,cpu,1\n,web,cpu,2\n"
    with pytest.raises(GraphadInputError, match=r"record 2, field 'timestamp'"):
        read_metrics(_write(tmp_path, "m.csv", text))
    rows = "time,node,message\n1700000000,web,a 1\n,web,a 2\n"
    events, report = read_logs(_write(tmp_path, "l.csv", rows), time_unit="s")
    assert events["ts_ns"].tolist() == [1700000000 * 10**9]
    assert report.counts["unparsed_log_line"] == 1
