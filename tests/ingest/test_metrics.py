"""Metric readers: long, wide and Prometheus JSON on tiny files, bad files, real Nezha;
edge-metric readers: long and wide tables."""

from __future__ import annotations

import gzip
import lzma
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from graphad.exceptions import GraphadInputError, ParseError, SchemaError
from graphad.ingest import (
    EDGE_METRIC_COLUMNS,
    METRIC_COLUMNS,
    read_edge_metrics,
    read_metrics,
    wide_to_long,
)

DATA = Path(__file__).parent / "data"
T = 1661144400000000000  # 2022-08-22T05:00:00Z
S = 1_000_000_000


def test_long_csv_with_iso_times():
    metrics, report = read_metrics(DATA / "metrics_long.csv")
    assert list(metrics.columns) == list(METRIC_COLUMNS)
    assert metrics[["ts_ns", "node", "metric"]].values.tolist() == [
        [T, "web", "cpu"],
        [T, "db", "cpu"],
        [T + 30 * S, "web", "mem"],
        [T + 60 * S, "web", "cpu"],
    ]
    assert metrics["value"].tolist()[:2] == [0.5, 0.25]
    assert metrics["value"].isna().tolist() == [False, False, True, True]
    assert dict(report.counts) == {"non_finite_value": 2, "out_of_order": 1}
    assert metrics["ts_ns"].dtype == np.int64 and metrics["value"].dtype == np.float64


def test_long_frame_with_mapping():
    frame = pd.DataFrame(
        {"when": [1.5, 2.5], "pod": ["a", "b"], "name": ["cpu", "cpu"], "v": [1, 2]}
    )
    metrics, report = read_metrics(
        frame,
        columns={"ts_ns": "when", "node": "pod", "metric": "name", "value": "v"},
        time_unit="s",
    )
    assert metrics.values.tolist() == [
        [1_500_000_000, "a", "cpu", 1.0],
        [2_500_000_000, "b", "cpu", 2.0],
    ]
    assert report.n_problems == 0


def test_wide_csv_with_separator():
    metrics, report = read_metrics(DATA / "metrics_wide.csv", separator="/")
    t = 1661140800 * S
    assert metrics.iloc[:, :3].values.tolist() == [
        [t, "web", "cpu"],
        [t, "web", "mem"],
        [t, "db", "cpu"],
        [t + 60 * S, "web", "cpu"],
        [t + 60 * S, "web", "mem"],
        [t + 60 * S, "db", "cpu"],
    ]
    assert metrics["value"].tolist()[:5] == [0.5, 100.0, 0.1, 0.6, 110.0]
    assert np.isnan(metrics["value"].iloc[5])
    assert dict(report.counts) == {"non_finite_value": 1}
    assert report.n_records == 6


def test_wide_rules_fixed_node_and_callable():
    frame = pd.DataFrame({"ts": [0, 60], "cpu": [1.0, 2.0], "mem": [3.0, 4.0]})
    metrics, _ = wide_to_long(frame, node="host-1", time_unit="s")
    assert metrics["node"].unique().tolist() == ["host-1"]
    assert metrics["metric"].tolist() == ["cpu", "mem", "cpu", "mem"]
    metrics, _ = wide_to_long(
        frame,
        column_rule=lambda c: None if c == "mem" else ("m-" + c, "value"),
        time_unit="s",
    )
    assert metrics[["node", "metric", "value"]].values.tolist() == [
        ["m-cpu", "value", 1.0],
        ["m-cpu", "value", 2.0],
    ]


def test_wide_csv_node_column_go_times_and_text_column():
    metrics, report = read_metrics(DATA / "metrics_pods.csv", node_column="PodName")
    assert metrics[["ts_ns", "node", "metric", "value"]].values.tolist() == [
        [1661140279607158889, "cart-5f6585d649-fnmft", "CpuUsage(m)", 1.5],
        [1661140279607158889, "cart-5f6585d649-fnmft", "MemoryUsage(Mi)", 200.0],
        [1661140279610000000, "web-579b9bff58-t2dbm", "CpuUsage(m)", 2.5],
        [1661140279610000000, "web-579b9bff58-t2dbm", "MemoryUsage(Mi)", 300.0],
    ]
    assert dict(report.counts) == {"non_numeric_column": 1}
    assert report.examples["non_numeric_column"] == ["column 'Note'"]


def test_wide_file_without_rule_is_one_node(tmp_path):
    path = tmp_path / "host-1.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("timestamp,cpu,mem\n1661140800,0.5,10\n")
    metrics, _ = read_metrics(path)
    assert metrics.values.tolist() == [
        [1661140800 * S, "host-1", "cpu", 0.5],
        [1661140800 * S, "host-1", "mem", 10.0],
    ]
    with pytest.raises(SchemaError, match=r"needs exactly one node rule .*got 0 given"):
        read_metrics(pd.DataFrame({"timestamp": [1], "cpu": [1.0]}))


def test_gzip_wide_csv(tmp_path):
    path = tmp_path / "wide.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write((DATA / "metrics_wide.csv").read_text())
    expected, _ = read_metrics(DATA / "metrics_wide.csv", separator="/")
    metrics, _ = read_metrics(path, separator="/")
    pd.testing.assert_frame_equal(metrics, expected)


def test_prometheus_query_range():
    metrics, report = read_metrics(DATA / "prometheus.json", node_label=["pod", "instance"])
    t = 1661140800 * S
    name = 'container_cpu_usage_seconds_total{namespace="shop"}'
    assert metrics.iloc[:, :3].values.tolist() == [
        [t, "web-1", name],
        [t, "10.0.0.2:9100", "up"],
        [t + 15_500_000_000, "web-1", name],
        [t + 15_500_000_000, "10.0.0.2:9100", "up"],
    ]
    assert metrics["value"].tolist()[:2] == [0.5, 1.0]
    assert metrics["value"].iloc[2:].isna().all()  # "NaN" and "+Inf"
    assert dict(report.counts) == {"non_finite_value": 2}


def test_prometheus_metric_labels_and_vector():
    answer = (
        '{"status":"success","data":{"resultType":"vector","result":['
        '{"metric":{"__name__":"up","instance":"a","job":"node"},"value":[10,"1"]}]}}'
    )
    import json

    from graphad.ingest import parse_prometheus

    metrics, _ = parse_prometheus([json.loads(answer)], metric_labels=[])
    assert metrics.values.tolist() == [[10 * S, "a", "up", 1.0]]
    metrics, _ = parse_prometheus([json.loads(answer)])
    assert metrics["metric"].tolist() == ['up{job="node"}']


@pytest.mark.parametrize(
    ("name", "kwargs", "error", "pattern"),
    [
        (
            "prometheus_error.json",
            {},
            ParseError,
            r"prometheus_error\.json, record document, field 'status': Prometheus returned an "
            r"error \(expected status 'success', got bad_data: parse error at char 4\)",
        ),
        (
            "prometheus_no_node.json",
            {"node_label": "pod"},
            SchemaError,
            r"record data\.result\[0\], field 'pod': series has no node label .*"
            r"got labels \['__name__', 'job'\]",
        ),
        (
            "metrics_bad_time.csv",
            {},
            GraphadInputError,
            r"metrics_bad_time\.csv, record 2, field 'timestamp': unreadable timestamp "
            r".*got 'yesterday'\)",
        ),
        (
            "metrics_wide.csv",
            {"node": "x", "separator": "/"},
            SchemaError,
            r"field 'node': a wide metrics table needs exactly one node rule .*got 2 given",
        ),
        (
            "metrics_wide.csv",
            {"separator": ":"},
            SchemaError,
            r"field 'web/cpu': column name does not hold a node and a metric",
        ),
        (
            "metrics_wide.csv",
            {"node": "x", "time_column": "clock"},
            SchemaError,
            r"field 'clock': time column 'clock' not found",
        ),
        (
            "metrics_pods.csv",
            {"node_column": "Pod"},
            SchemaError,
            r"field 'Pod': node column 'Pod' not found",
        ),
    ],
)
def test_bad_metric_files(name, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        read_metrics(DATA / name, **kwargs)


def test_bad_metric_arguments():
    with pytest.raises(GraphadInputError, match=r"Could not resolve 'tall'"):
        read_metrics(DATA / "metrics_long.csv", format="tall")
    frame = pd.DataFrame({"t": [1], "x": [1.0]})
    with pytest.raises(SchemaError, match=r"field 'ts_ns': no time column"):
        read_metrics(frame, node="a")
    with pytest.raises(GraphadInputError, match=r"column_rule returned a bad value"):
        read_metrics(frame, time_column="t", column_rule=lambda c: "oops")


def test_real_nezha_pod_metrics_as_wide_csv(shared_data):
    metric_dir = shared_data / "nezha/rca_data/2022-08-22/metric"
    path = next(p for p in sorted(metric_dir.glob("*_metric.csv.xz")))
    raw = pd.read_csv(path)
    metrics, report = read_metrics(
        path, time_column="Time", node_column="PodName", exclude=["TimeStamp"]
    )
    n_metrics = raw.shape[1] - 3  # Time, TimeStamp, PodName
    assert len(metrics) == len(raw) * n_metrics == report.n_records
    assert metrics["node"].unique().tolist() == raw["PodName"].unique().tolist()
    assert metrics["metric"].nunique() == n_metrics
    # Go time strings parsed: 2022-08-22 in nanoseconds, one sample a minute
    assert pd.Timestamp(int(metrics["ts_ns"].iloc[0]), tz="UTC").date().isoformat() == (
        "2022-08-22"
    )
    steps = np.diff(np.unique(metrics["ts_ns"].to_numpy())) / 1e9
    assert 55 < np.median(steps) < 65


# ------------------------------------------------------------------------- edge metrics


def _edges(rows: list[list]) -> pd.DataFrame:
    """The canonical edge-metrics frame of ``[ts_ns, src, dst, metric, value]`` rows."""
    frame = pd.DataFrame(rows, columns=list(EDGE_METRIC_COLUMNS))
    frame["ts_ns"] = frame["ts_ns"].astype(np.int64)
    frame["value"] = frame["value"].astype(np.float64)
    return frame.astype({"src": object, "dst": object, "metric": object})


def _same(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(actual.columns) == list(EDGE_METRIC_COLUMNS)
    assert actual["ts_ns"].dtype == np.int64 and actual["value"].dtype == np.float64
    text = {"src": object, "dst": object, "metric": object}
    pd.testing.assert_frame_equal(actual.astype(text), expected)


def test_edge_metrics_long_csv_with_mapping(tmp_path):
    path = tmp_path / "edges.csv"
    path.write_text(
        "t,caller,callee,name,v\n"
        "60,web,db,p50_s,0.25\n"
        "0,web,db,p50_s,0.125\n"
        "0,web,cache,p50_s,n/a\n"
    )
    columns = {"ts_ns": "t", "src": "caller", "dst": "callee", "metric": "name", "value": "v"}
    edges, report = read_edge_metrics(path, columns=columns, time_unit="s")
    _same(
        edges,
        _edges(
            [
                [0, "web", "db", "p50_s", 0.125],
                [0, "web", "cache", "p50_s", np.nan],
                [60 * S, "web", "db", "p50_s", 0.25],
            ]
        ),
    )
    assert dict(report.counts) == {"non_finite_value": 1, "out_of_order": 1}
    assert (report.n_records, report.n_kept) == (3, 3)


def test_edge_metrics_long_frame_metric_argument():
    frame = pd.DataFrame(
        {
            "timestamp": ["2022-08-22T05:00:00Z", "2022-08-22T05:01:00Z"],
            "src": ["web", "web"],
            "dst": ["db", "db"],
            "value": [1.0, 2.0],
        }
    )
    edges, report = read_edge_metrics(frame, metric="calls")
    _same(edges, _edges([[T, "web", "db", "calls", 1.0], [T + 60 * S, "web", "db", "calls", 2.0]]))
    assert report.n_problems == 0
    with pytest.raises(SchemaError, match=r"field 'metric': required field missing"):
        read_edge_metrics(frame)  # long (src, dst, value) but no metric at all
    with pytest.raises(GraphadInputError, match=r"field 'metric': metric named twice"):
        read_edge_metrics(frame.assign(metric="x"), metric="calls")


def test_edge_metrics_wide_xz_with_separator(tmp_path):
    path = tmp_path / "source_50.csv.xz"
    text = (
        "time,timestamp,web_db,web_cache,web_x_y,nosep,_db\n"
        "2022-08-22 05:00:00.1 +0000 UTC m=+1.0,1661144400,0.004,,1,1,1\n"
        "2022-08-22 05:01:00.1 +0000 UTC m=+61.0,1661144460,,0.001,1,1,1\n"
        "2022-08-22 05:02:00.1 +0000 UTC m=+121.0,1661144520,0.006,inf,1,1,1\n"
    )
    with lzma.open(path, "wt") as handle:
        handle.write(text)
    edges, report = read_edge_metrics(path, separator="_")
    _same(
        edges,
        _edges(
            [
                [T, "web", "db", "source_50", 0.004],
                [T + 60 * S, "web", "cache", "source_50", 0.001],
                [T + 120 * S, "web", "db", "source_50", 0.006],
                [T + 120 * S, "web", "cache", "source_50", np.nan],
            ]
        ),
    )
    assert dict(report.counts) == {
        "extra_time_column": 1,
        "unresolved_edge_column": 3,
        "no_calls": 2,
        "non_finite_value": 1,
    }
    assert report.examples["unresolved_edge_column"] == [
        "column 'web_x_y' ('_' occurs 2 times, not once; left out)",
        "column 'nosep' ('_' occurs 0 times, not once; left out)",
        "column '_db' (an empty caller or callee; left out)",
    ]
    assert report.examples["extra_time_column"] == ["column 'time' (not an edge; left out)"]
    assert report.examples["no_calls"] == ["record 1, column 'web_cache'"]
    assert report.examples["non_finite_value"] == ["record 3, column 'web_cache'"]
    assert (report.n_records, report.n_kept) == (6, 4)  # 3 rows x 2 edges, 2 without calls
    # excluded columns are not counted; metric= names the metric instead of the stem
    edges, report = read_edge_metrics(
        path, separator="_", metric="p50", exclude=["time", "web_x_y", "nosep", "_db"]
    )
    assert edges["metric"].unique().tolist() == ["p50"]
    assert dict(report.counts) == {"no_calls": 2, "non_finite_value": 1}


def test_edge_metrics_wide_frame_blank_text_cells():
    frame = pd.DataFrame(
        {"ts": [0, 60], "a->b": ["0.5", " "], "a->c": ["x", "y"], "b->c": [1.0, 2.0]}
    )
    edges, report = read_edge_metrics(frame, separator="->", metric="m", time_unit="s")
    _same(
        edges,
        _edges([[0, "a", "b", "m", 0.5], [0, "b", "c", "m", 1.0], [60 * S, "b", "c", "m", 2.0]]),
    )
    assert dict(report.counts) == {"non_numeric_column": 1, "no_calls": 1}
    assert report.examples["no_calls"] == ["record 2, column 'a->b'"]


@pytest.mark.parametrize(
    ("text", "kwargs", "error", "pattern"),
    [
        (
            "timestamp,web_db\n1661144400,1\nyesterday,2\n",
            {"separator": "_"},
            GraphadInputError,
            r"edges\.csv, record 2, field 'timestamp': unreadable timestamp .*got 'yesterday'",
        ),
        (
            "t,caller,callee,metric,value\n0,web,db,p50,1\nsoon,web,db,p50,2\n",
            {"columns": {"ts_ns": "t", "src": "caller", "dst": "callee"}, "time_unit": "s"},
            GraphadInputError,
            r"edges\.csv, record 2, field 't': unreadable timestamp .*got 'soon'",
        ),
        (
            "timestamp,web_db\n1661144400,1\n",
            {},
            SchemaError,
            r"edges\.csv, field 'separator': a wide edge-metrics table needs a separator",
        ),
        (
            "t,caller,callee,metric,value\n0,web,db,p50,1\n",
            {"format": "long", "columns": {"ts_ns": "t", "src": "caller"}},
            SchemaError,
            r"edges\.csv, field 'dst': required field missing",
        ),
        (
            "timestamp,web_db\n1661144400,1\n",
            {"separator": "_", "exclude": ["time"]},
            SchemaError,
            r"field 'time': excluded column 'time' not found",
        ),
    ],
)
def test_bad_edge_metric_files(tmp_path, text, kwargs, error, pattern):
    path = tmp_path / "edges.csv"
    path.write_text(text)
    with pytest.raises(error, match=pattern):
        read_edge_metrics(path, **kwargs)


def test_bad_edge_metric_arguments():
    wide = pd.DataFrame({"timestamp": [1661144400], "web_db": [0.1]})
    with pytest.raises(
        SchemaError,
        match=r"<frame>, field 'metric': a wide edge-metrics frame needs a metric name",
    ):
        read_edge_metrics(wide, separator="_")
    with pytest.raises(GraphadInputError, match=r"Could not resolve 'prometheus'"):
        read_edge_metrics(wide, format="prometheus")
