"""Log readers: raw lines and rows -> Drain3 templates; sessions; bad files; real logs."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from graphad.exceptions import GraphadInputError, ParseError, SchemaError
from graphad.ingest import (
    LOG_COLUMNS,
    make_template_miner,
    mine_templates,
    read_event_sequences,
    read_logs,
)

needs_drain3 = pytest.mark.skipif(
    importlib.util.find_spec("drain3") is None, reason="drain3 (graphad[logs]) not installed"
)

DATA = Path(__file__).parent / "data"
T = 1661145522000000000  # 2022-08-22T05:18:42Z
MS = 1_000_000
HDFS_PATTERN = r"^(?P<ts>\d{6} \d{6}) \d+ \w+ (?P<node>[^:]+): "


@needs_drain3
def test_mine_templates_masks_and_aligns():
    templates = mine_templates(
        [
            "connect to 10.0.0.1:8080 failed",
            "request 3f2a9c1b7e6d4f00 done in 12 ms",
            "connect to 10.0.0.7:443 failed",
            "user 123e4567-e89b-12d3-a456-426614174000 logged in",
            "request 00aa11bb22cc33dd done in 7 ms",
        ]
    )
    assert templates == [
        "connect to <IP> failed",
        "request <HEX> done in <NUM> ms",
        "connect to <IP> failed",
        "user <UUID> logged in",
        "request <HEX> done in <NUM> ms",
    ]
    assert mine_templates([]) == []


@needs_drain3
def test_shared_miner_keeps_templates_across_calls():
    miner = make_template_miner()
    first = mine_templates(["disk sda full", "disk sdb full"], miner=miner)
    second = mine_templates(["disk sdc full"], miner=miner)
    assert first == ["disk <*> full", "disk <*> full"]
    assert second == ["disk <*> full"]
    with pytest.raises(GraphadInputError, match=r"field 'sim_th': miner options given together"):
        mine_templates(["x"], miner=miner, sim_th=0.5)


@needs_drain3
def test_raw_lines_with_iso_prefixes_and_stack_trace():
    events, report = read_logs(DATA / "app.log")
    assert list(events.columns) == list(LOG_COLUMNS)
    assert events.values.tolist() == [
        [T - 2 * 3600 * 10**9 + 3_000 * MS, "app", "WARN disk <NUM> percent full", 1],
        [T + 908 * MS, "app", "INFO user <NUM> logged in", 1],
        [T + 1_100 * MS, "app", "ERROR payment failed for order <NUM>", 1],
        [T + 2_250 * MS, "app", "INFO user <NUM> logged in", 1],
    ]
    assert dict(report.counts) == {
        "blank_line": 1,
        "continuation_line": 2,
        "unparsed_log_line": 1,
        "out_of_order": 1,
    }
    assert report.examples["unparsed_log_line"] == ["line 1"]
    assert report.examples["continuation_line"] == ["line 4"]
    assert report.n_records == 8 and report.n_kept == 4


@needs_drain3
def test_raw_lines_fixed_node_and_bins(tmp_path):
    events, _ = read_logs(DATA / "app.log", node="shop", bin_ns=60 * 10**9)
    assert events.values.tolist() == [
        [T - 2 * 3600 * 10**9 - 42 * 10**9, "shop", "WARN disk <NUM> percent full", 1],
        [T - 42 * 10**9, "shop", "ERROR payment failed for order <NUM>", 1],
        [T - 42 * 10**9, "shop", "INFO user <NUM> logged in", 2],
    ]
    gz = tmp_path / "app.log.gz"
    with gzip.open(gz, "wt") as handle:
        handle.write((DATA / "app.log").read_text())
    from_gz, _ = read_logs(gz)
    expected, _ = read_logs(DATA / "app.log")
    pd.testing.assert_frame_equal(from_gz, expected)


@needs_drain3
def test_csv_rows_with_json_messages():
    events, report = read_logs(
        DATA / "docker_logs.csv",
        columns={"ts_ns": "Timestamp", "node": "Pod", "message": "Log"},
        json_field="log.message",
    )
    assert events.values.tolist() == [
        [1661145522908318000, "cart-1", "cart <NUM> updated", 1],
        [1661145523000000000, "cart-1", "cart <NUM> updated", 1],
        [1661145583000000000, "web-2", "plain text line from web", 1],
    ]
    assert dict(report.counts) == {"json_field_missing": 1}


@needs_drain3
def test_message_callable_and_empty_message():
    rows = pd.DataFrame(
        {
            "time": ["2022-08-22T05:18:42Z", "2022-08-22T05:18:43Z", "2022-08-22T05:18:44Z"],
            "node": ["a", "a", "b"],
            "message": ["[req 1] GET /", "[req 2] GET /", "[req 3]"],
        }
    )
    events, report = read_logs(rows, message=lambda text: text.split("]", 1)[-1])
    assert events["template"].tolist() == ["GET /", "GET /", "<empty>"]
    assert dict(report.counts) == {"empty_message": 1}


@needs_drain3
def test_rows_with_unreadable_times_are_counted():
    rows = pd.DataFrame(
        {"ts": ["2022-08-22T05:18:42Z", "later"], "node": ["a", "a"], "msg": ["x 1", "x 2"]}
    )
    events, report = read_logs(rows)
    assert events["template"].tolist() == ["x <NUM>"]
    assert dict(report.counts) == {"unparsed_log_line": 1}
    assert report.examples["unparsed_log_line"] == ["record 2"]


def test_event_sequences():
    assert read_event_sequences(DATA / "sessions.txt") == [
        ["5", "5", "22", "11"],
        ["9", "26"],
        [],
        ["3"],
    ]


@needs_drain3
def test_bad_log_inputs():
    with pytest.raises(
        ParseError,
        match=r"no_timestamps\.log, record line 1, field 'ts': "
        r"no line has a readable timestamp .*got 'hello'\)",
    ):
        read_logs(DATA / "no_timestamps.log")
    with pytest.raises(GraphadInputError, match=r"time pattern has no 'ts' group"):
        read_logs(DATA / "app.log", time_pattern=r"^(\d+)")
    with pytest.raises(GraphadInputError, match=r"field 'time_pattern': invalid time pattern"):
        read_logs(DATA / "app.log", time_pattern=r"^(?P<ts>[")
    with pytest.raises(SchemaError, match=r"field 'message': required field missing"):
        read_logs(pd.DataFrame({"ts": [1], "node": ["a"]}))
    with pytest.raises(SchemaError, match=r"mapped column 'Msg' \(for 'message'\) not found"):
        read_logs(DATA / "docker_logs.csv", columns={"message": "Msg"})
    with pytest.raises(ParseError, match=r"record 1, field 'when': no row has a readable"):
        read_logs(
            pd.DataFrame({"when": ["?"], "node": ["a"], "message": ["m"]}),
            columns={"ts_ns": "when"},
        )
    with pytest.raises(GraphadInputError, match=r"field 'bin_ns': bin width must be positive"):
        read_logs(DATA / "app.log", bin_ns=0)
    with pytest.raises(ParseError, match=r"nothing\.txt: file not found"):
        read_event_sequences(DATA / "nothing.txt")


# ----------------------------------------------------------------------------- real data


@needs_drain3
def test_real_loghub_hdfs_templates(shared_data):
    root = shared_data / "loghub_2k/HDFS"
    events, report = read_logs(
        root / "HDFS_2k.log", time_pattern=HDFS_PATTERN, time_format="%y%m%d %H%M%S"
    )
    truth = pd.read_csv(root / "HDFS_2k.log_templates.csv")
    assert report.n_records == 2000 and len(events) == 2000
    assert report.counts.get("unparsed_log_line", 0) == 0
    n_templates = events["template"].nunique()
    assert len(truth) <= n_templates <= len(truth) + 4  # 14 true templates
    assert events["node"].nunique() == 6  # the logging components
    structured = pd.read_csv(root / "HDFS_2k.log_structured.csv")
    # the largest mined groups match the largest true groups
    mined_sizes = sorted(events["template"].value_counts().tolist(), reverse=True)[:5]
    true_sizes = sorted(structured["EventId"].value_counts().tolist(), reverse=True)[:5]
    assert mined_sizes == true_sizes


@needs_drain3
def test_real_nezha_log_rows(shared_data):
    path = shared_data / "nezha/rca_data/2022-08-22/log/05_19_log.csv.xz"
    events, report = read_logs(
        path,
        columns={"ts_ns": "TimeUnixNano", "node": "PodName", "message": "Log"},
        json_field="log.message",
        sim_th=0.6,
    )
    raw = pd.read_csv(path, usecols=["PodName"])
    assert report.n_records == len(raw) == len(events)
    assert sorted(events["node"].unique()) == sorted(raw["PodName"].unique())
    assert 20 <= events["template"].nunique() <= 150
    assert events["template"].str.contains("<HEX>").mean() > 0.9  # trace ids masked
    assert events["ts_ns"].is_monotonic_increasing


def test_real_hdfs_sessions(shared_data):
    sessions = read_event_sequences(shared_data / "hdfs/hdfs/hdfs_train")
    # 4854 line ends ("\r\n"), and a last session without one: 4855 sessions, as logdeep
    # counts them (``wc -l`` says 4854).
    assert len(sessions) == 4855
    assert sessions[0][:4] == ["5", "5", "5", "22"]
    assert all(s for s in sessions)
    assert sessions[-1][-3:] == ["21", "21", "21"]
    assert {e for s in sessions for e in s} <= {str(i) for i in range(1, 29)}


@needs_drain3
def test_span_ids_and_messages_kept_per_line():
    rows = pd.DataFrame(
        {
            "time": [3_000_000_000, 1_000_000_000, 2_000_000_000],
            "pod": ["web-1", "web-1", "db-0"],
            "text": ["user 17 logged in", "user 4 logged in", "query done"],
            "TraceID": ["t1", "t0", None],
            "SpanID": ["s1", "s0", ""],
        }
    )
    columns = {"ts_ns": "time", "node": "pod", "message": "text"}
    events, _ = read_logs(rows, columns={**columns, "trace_id": "TraceID", "span_id": "SpanID"})
    assert tuple(events.columns) == LOG_COLUMNS + ("trace_id", "span_id")
    # sorted by time, ids travel with their line; a missing id is ""
    assert events["span_id"].tolist() == ["s0", "", "s1"]
    assert events["trace_id"].tolist() == ["t0", "", "t1"]
    kept, _ = read_logs(rows, columns=columns, keep_message=True)
    assert tuple(kept.columns) == LOG_COLUMNS + ("message",)
    assert kept["message"].tolist() == ["user 4 logged in", "query done", "user 17 logged in"]
    # binned events count lines: no per-line column survives
    binned, _ = read_logs(rows, columns=columns, keep_message=True, bin_ns=10**10)
    assert tuple(binned.columns) == LOG_COLUMNS
