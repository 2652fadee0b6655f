import json
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from graphad.datasets import Nezha
from graphad.exceptions import GraphadInputError, ParseError
from graphad.ingest.schema import (
    EDGE_METRIC_COLUMNS,
    LOG_COLUMNS,
    METRIC_COLUMNS,
    SPAN_CODE_COLUMNS,
    SPAN_COLUMNS,
)

DAY = "2023-01-29"
ONSET = pd.Timestamp("2023-01-29 10:05:30", tz="UTC").value // 10**9
PODS = {
    "ts-order-service": "ts-order-service-7d9f8b6c5d-abcde",
    "ts-user-service": "ts-user-service-5c4b8f9d7-x2k9q",
    "ts-ui-dashboard": "ts-ui-dashboard-6f7c9d8b5-qwert",
}


def _metric_file(pod: str, start: int, minutes: int) -> pd.DataFrame:
    rows = []
    for k in range(minutes):
        ts = start + 60 * k
        stamp = pd.Timestamp(ts, unit="s", tz="UTC").strftime("%Y-%m-%d %H:%M:%S.000000001")
        rows.append(
            {
                "Time": f"{stamp} +0000 UTC m=+{60 * k}.0",
                "TimeStamp": ts,
                "PodName": pod,
                "CpuUsageRate(%)": float(k),
                "MemoryUsage(Mi)": 100.0,
            }
        )
    return pd.DataFrame(rows)


def _span_rows(trace: str, start_ns: int) -> list[dict]:
    ui, order = PODS["ts-ui-dashboard"], PODS["ts-order-service"]
    return [
        {
            "TraceID": trace,
            "SpanID": trace + "a",
            "ParentID": "root",
            "PodName": ui,
            "OperationName": "GET /order",
            "StartTimeUnixNano": start_ns,
            "EndTimeUnixNano": start_ns + 5_000_000,
            "Duration": 5000,
        },
        {
            "TraceID": trace,
            "SpanID": trace + "b",
            "ParentID": trace + "a",
            "PodName": order,
            "OperationName": "getOrder",
            "StartTimeUnixNano": start_ns + 1_000_000,
            "EndTimeUnixNano": start_ns + 3_000_000,
            "Duration": 2000,
        },
    ]


def make_ts_layout(root: Path) -> Path:
    """A tiny Nezha-layout system with TrainTicket-like names (never hard-coded in graphad)."""
    day = root / "rca_data" / DAY
    (day / "metric").mkdir(parents=True)
    (day / "trace").mkdir()
    (day / "log").mkdir()
    (day / "traceid").mkdir()
    start = ONSET - 20 * 60 - 30  # 09:45:00
    for pod in PODS.values():
        _metric_file(pod, start, 30).to_csv(day / "metric" / f"{pod}_metric.csv", index=False)
    pd.DataFrame(
        {
            "Source": ["ts-ui-dashboard", "ts-order-service", "ts-order-service", "loadgenerator"],
            "Target": ["ts-order-service", "ts-user-service", "10.0.0.7", "ts-ui-dashboard"],
            "Weight": [1, 1, 1, 1],
        }
    ).to_csv(day / "metric" / "dependency.csv", index=False)
    faults = {
        "10": [
            {
                "inject_time": "2023-01-29 10:05:30",
                "inject_timestamp": str(ONSET),
                "inject_pod": PODS["ts-order-service"],
                "inject_type": "exception",
            }
        ]
    }
    (day / f"{DAY}-fault_list.json").write_text(json.dumps(faults))
    # collected minutes 10_05, 10_06, 10_07; the 10_06 trace file is lost
    for name, base in (("10_05", ONSET - 40), ("10_07", ONSET + 80)):
        rows = _span_rows(f"t{name}", base * 10**9) + _span_rows(f"u{name}", (base + 5) * 10**9)
        pd.DataFrame(rows).to_csv(day / "trace" / f"{name}_trace.csv", index=False)
    for name in ("10_05", "10_06", "10_07"):
        pd.DataFrame({"id": [f"t{name}"]}).to_csv(
            day / "traceid" / f"{name}_traceid.csv", index=False, header=False
        )
    inner = json.dumps({"message": "order 42 not found", "severity": "ERROR"})
    logs = pd.DataFrame(
        {
            "Timestamp": ["x"] * 3,
            "TimeUnixNano": [(ONSET + 10) * 10**9, (ONSET + 20) * 10**9, (ONSET + 25) * 10**9],
            "Node": ["10.0.0.1"] * 3,
            "PodName": [PODS["ts-order-service"]] * 3,
            "Container": ["c"] * 3,
            "TraceID": ["t"] * 3,
            "SpanID": ["s"] * 3,
            "Log": [
                json.dumps({"log": inner + "\n", "stream": "stdout"}),
                json.dumps({"log": json.dumps({"message": "order 7 not found"}) + "\n"}),
                "not json at all",
            ],
        }
    )
    logs.to_csv(day / "log" / "10_06_log.csv", index=False)
    construct = root / "construct_data"
    (construct / DAY / "metric").mkdir(parents=True)
    for pod in PODS.values():
        _metric_file(pod, start, 30).to_csv(
            construct / DAY / "metric" / f"{pod}_metric.csv", index=False
        )
    (construct / DAY / "traceid").mkdir()
    pd.DataFrame({"id": ["n"]}).to_csv(
        construct / DAY / "traceid" / "09_50_traceid.csv", index=False, header=False
    )
    labels = {"ts-order-service": {"exception": "order not found"}, "ts-user-service": {}}
    (construct / "root_cause_ts.json").write_text(json.dumps(labels))
    return root


@pytest.fixture
def ts_root(tmp_path):
    return make_ts_layout(tmp_path / "nezha_ts")


def test_generic_system_naming_and_graph(ts_root):
    data = Nezha(ts_root)
    assert data.systems == ["ts"]
    assert data.services() == ["ts-order-service", "ts-ui-dashboard", "ts-user-service"]
    graph = data.call_graph()
    assert sorted(graph.edges) == [
        ("ts-order-service", "ts-user-service"),
        ("ts-ui-dashboard", "ts-order-service"),
    ]
    assert Nezha(ts_root, system="TrainTicket").system == "ts"
    assert data.report.n_problems == 0 and data.report.n_records == 1
    with pytest.raises(GraphadInputError, match="unknown system"):
        Nezha(ts_root, system="hipster")


def test_generic_case_frames(ts_root):
    data = Nezha(ts_root)
    (case,) = list(data.cases(before="10min", after="5min"))
    assert case.case_id == "2023-01-29T10:05:30"
    assert case.system == "ts"
    assert case.root_cause == "ts-order-service"
    assert case.root_cause_entity == PODS["ts-order-service"]
    assert case.fault_type == "exception"
    assert case.onset_ns == ONSET * 10**9
    assert case.meta["root_cause_detail"] == "order not found"
    # metrics: minutes 09:55:30 .. 10:10:00 -> samples at 09:56:00 .. 10:10:00 excluded end
    assert tuple(case.metrics.columns) == METRIC_COLUMNS
    assert case.metrics["ts_ns"].min() >= case.onset_ns - 600 * 10**9
    assert case.metrics["ts_ns"].max() < case.onset_ns + 300 * 10**9
    assert len(case.metrics) == 15 * 3 * 2
    # spans: 8 spans in the two present files, all inside the window
    assert tuple(case.spans.columns) == SPAN_COLUMNS + SPAN_CODE_COLUMNS
    assert len(case.spans) == 8
    assert set(case.spans["duration_ns"]) == {5_000_000, 2_000_000}
    assert case.report.counts["missing_trace_file"] == 1
    assert case.meta["missing"]["trace"] == [f"{DAY}/trace/10_06_trace.csv"]
    assert case.meta["missing"]["log"] == [f"{DAY}/log/10_05_log.csv", f"{DAY}/log/10_07_log.csv"]
    # logs: 3 lines, one not docker JSON (kept with its raw text, counted)
    assert tuple(case.logs.columns) == LOG_COLUMNS
    assert case.logs["count"].sum() == 3
    assert case.report.counts["json_field_missing"] == 1
    templates = case.logs.groupby("template")["count"].sum().to_dict()
    assert templates == {"order <NUM> not found": 2, "not json at all": 1}
    assert set(case.logs["node"]) == {PODS["ts-order-service"]}
    assert isinstance(case.call_graph, nx.DiGraph)


def test_plain_text_log_lines_of_java_services(ts_root):
    """TrainTicket-style lines: docker's ``log`` field is the text itself (no inner JSON);
    the text is kept (each line counted as ``json_field_missing``) and Drain3 masks the
    clock, ids and UUIDs, so two lines of one statement share a template."""
    lines = [
        "10:05:40.424 INFO  o.s.OrderServiceImpl#120 TraceID: 3f2a9c01d4e5b6a7 SpanID: 0a1b2c3d "
        "[getOrderById][Get Order By ID Success][OrderId: 5d0e1f2a-77aa-4c1b-9e8d-0123456789ab]",
        "10:05:51.007 INFO  o.s.OrderServiceImpl#120 TraceID: 9e8d7c6b5a4f3e2d SpanID: 4e5f6a7b "
        "[getOrderById][Get Order By ID Success][OrderId: 00aa11bb-2233-4c1b-9e8d-fedcba987654]",
        "10:05:52.101 ERROR o.s.OrderServiceImpl#131 TraceID: 1111aaaa2222bbbb SpanID: 5e6f7a8b "
        "[getOrderById][Get Order By ID Fail][Order Not Found, OrderId: "
        "00aa11bb-2233-4c1b-9e8d-fedcba987654]",
    ]
    pod = PODS["ts-order-service"]
    logs = pd.DataFrame(
        {
            "Timestamp": ["x"] * 3,
            "TimeUnixNano": [(ONSET + 10 + i) * 10**9 for i in range(3)],
            "Node": ["10.0.0.1"] * 3,
            "PodName": [pod] * 3,
            "Container": ["server"] * 3,
            "TraceID": ["t"] * 3,
            "SpanID": ["s"] * 3,
            "Log": [json.dumps({"log": line + "\n", "stream": "stdout"}) for line in lines],
        }
    )
    logs.to_csv(ts_root / "rca_data" / DAY / "log" / "10_06_log.csv", index=False)
    case = Nezha(ts_root).case("2023-01-29T10:05:30", sources=("logs",))
    assert case.report.counts["json_field_missing"] == 3
    templates = case.logs.groupby("template")["count"].sum()
    assert sorted(templates.tolist()) == [1, 2]
    success = templates.idxmax()
    assert "Get Order By ID Success" in success and "<UUID>" in success
    assert "3f2a9c01d4e5b6a7" not in success and "10:05:40" not in success


def test_sources_and_time_window(ts_root):
    data = Nezha(ts_root)
    case = data.case("2023-01-29T10:05:30", before="1min", after="30s", sources=("spans",))
    assert case.metrics.empty and case.logs.empty
    # only the u-trace of 10_05 (onset - 35 s) and nothing of 10_07 (onset + 80 s)
    assert sorted(case.spans["trace_id"].unique()) == ["t10_05", "u10_05"]
    with pytest.raises(GraphadInputError, match="unknown telemetry source"):
        data.case("2023-01-29T10:05:30", sources=("traces",))
    with pytest.raises(GraphadInputError, match="unknown case"):
        data.case("2023-01-29T10:00:00")


def test_normal_period(ts_root):
    period = Nezha(ts_root).normal_period()
    start = pd.Timestamp("2023-01-29 09:49", tz="UTC").value
    assert (period.start_ns, period.end_ns) == (start, start + 2 * 60 * 10**9)
    assert set(period.metrics["ts_ns"]) == {start, start + 60 * 10**9}
    assert len(period.metrics) == 2 * 3 * 2
    assert period.meta["periods"] == [(DAY, start, start + 2 * 60 * 10**9)]
    assert period.spans.empty
    same = Nezha(ts_root).normal_period("ts")
    assert (same.start_ns, same.end_ns) == (period.start_ns, period.end_ns)
    with pytest.raises(GraphadInputError, match="unknown day"):
        Nezha(ts_root).normal_period("2023-01-31")


def test_days_with_partial_service_sets_form_one_system(ts_root):
    day = ts_root / "construct_data" / DAY / "metric"
    (day / f"{PODS['ts-user-service']}_metric.csv").unlink()  # a day missing one pod
    other = ts_root / "construct_data" / "2023-01-30" / "metric"
    other.mkdir(parents=True)
    _metric_file("ts-order-service-5b67c48447-mv5hb", ONSET, 3).to_csv(
        other / "ts-order-service-5b67c48447-mv5hb_metric.csv", index=False
    )
    _metric_file("ts-ui-dashboard-5477b965f-2chkr", ONSET, 3).to_csv(
        other / "ts-ui-dashboard-5477b965f-2chkr_metric.csv", index=False
    )
    data = Nezha(ts_root)
    assert data.systems == ["ts"]
    assert data.days(kind="construct") == [DAY, "2023-01-30"]


def test_fault_time_fields_disagreeing_are_reported(ts_root):
    path = ts_root / "rca_data" / DAY / f"{DAY}-fault_list.json"
    faults = json.loads(path.read_text())
    faults["10"][0]["inject_timestamp"] = str(ONSET - 540)  # copied from another fault
    path.write_text(json.dumps(faults))
    data = Nezha(ts_root)
    assert data.faults()["onset_ns"].tolist() == [ONSET * 10**9]  # inject_time wins
    assert data.report.counts["inject_timestamp_mismatch"] == 1


def test_no_dependency_file_means_no_call_graph(ts_root):
    (ts_root / "rca_data" / DAY / "metric" / "dependency.csv").unlink()
    data = Nezha(ts_root)
    assert data.call_graph() is None
    assert data.case("2023-01-29T10:05:30", sources=("metrics",)).call_graph is None


def test_bad_inputs(tmp_path, ts_root):
    with pytest.raises(GraphadInputError, match="no Nezha day folder"):
        Nezha(tmp_path / "nothing")
    path = ts_root / "rca_data" / DAY / f"{DAY}-fault_list.json"
    path.write_text('{"10": [{"inject_time": "2023-01-29 10:05:30"}]}')
    with pytest.raises(ParseError, match="inject_pod"):
        Nezha(ts_root)
    path.write_text("{not json")
    with pytest.raises(ParseError, match="unreadable JSON"):
        Nezha(ts_root)


# ---------------------------------------------------------------- the shared real data
@pytest.fixture(scope="module")
def nezha(shared_data):
    return Nezha(shared_data / "nezha")


def test_real_fault_list(nezha):
    assert nezha.systems == ["hipster", "ts"]
    assert len(nezha.faults()) == 56 + 28
    faults = nezha.faults("hipster")
    assert faults.groupby("day").size().to_dict() == {"2022-08-22": 24, "2022-08-23": 32}
    assert set(faults["fault_type"]) == {
        "cpu_contention",
        "cpu_consumed",
        "network_delay",
        "return",
        "exception",
    }
    services = set(nezha.services("hipster"))
    assert len(services) == 10 and set(faults["root_cause"]) <= services
    assert faults["onset_ns"].is_monotonic_increasing


def test_real_second_system_fault_list(nezha):
    faults = nezha.faults("ts")
    assert faults.groupby("day").size().to_dict() == {"2023-01-29": 28}
    assert faults["fault_type"].value_counts().to_dict() == {
        "exception": 13,
        "return": 11,
        "cpu_contention": 4,
    }
    assert set(faults["root_cause"]) <= set(nezha.services("ts"))
    assert faults["onset_ns"].is_monotonic_increasing


def test_real_call_graph(nezha):
    graph = nezha.call_graph()
    assert graph.number_of_edges() == 14
    assert graph.has_edge("frontend", "checkoutservice")
    assert all("." not in node for node in graph.nodes)  # no IP addresses


def test_real_case(nezha):
    case = nezha.case("2022-08-22T07:26:48", before="2min", after="2min")
    assert case.root_cause == "shippingservice" and case.fault_type == "cpu_contention"
    assert tuple(case.spans.columns) == SPAN_COLUMNS + SPAN_CODE_COLUMNS
    assert len(case.spans) > 10_000
    assert case.spans["start_ns"].between(case.onset_ns - 120e9, case.onset_ns + 120e9).all()
    assert case.metrics["node"].nunique() == 10  # adservice's skewed clock is repaired
    assert case.report.counts["timestamp_mismatch"] == 4 * 19
    graph = case.call_graph
    pods = set(case.spans["service"])
    from graphad.graph.rules import k8s_service

    assert set(k8s_service(sorted(pods))) <= set(graph.nodes)


def test_real_missing_minutes_reported(nezha):
    case = nezha.case("2022-08-22T04:10:20", before="0min", after="3min", sources=("spans",))
    assert case.meta["missing"]["trace"] == ["2022-08-22/trace/04_10_trace.csv"]
    assert case.report.counts["missing_trace_file"] == 1


def test_real_every_case_has_metrics(nezha):
    from graphad.graph.rules import k8s_service

    cases = list(nezha.cases(sources=("metrics",), before="3min", after="2min"))
    assert [c.system for c in cases].count("hipster") == 56 and len(cases) == 56 + 28
    for case in cases:
        n_nodes = len(nezha.services(case.system))
        assert case.metrics["node"].nunique() == n_nodes, case.case_id
        assert case.root_cause in set(k8s_service(case.metrics["node"].unique())), case.case_id
        if case.system == "hipster":  # the second system has no dependency.csv
            assert case.root_cause in case.call_graph


# ---------------------------------------------------------------- per-edge metric files
def _go_time(ts: int) -> str:
    stamp = pd.Timestamp(ts, unit="s", tz="UTC").strftime("%Y-%m-%d %H:%M:%S.123456789")
    return f"{stamp} +0000 UTC m=+1.0"


def _edge_file(path: Path, stamps: list[int], columns: dict[str, list[str]], times=None) -> None:
    """A Nezha edge-metric file: ``time, timestamp, <caller>_<callee>...`` (cells as text)."""
    times = stamps if times is None else times
    frame = pd.DataFrame({"time": [_go_time(t) for t in times], "timestamp": stamps, **columns})
    frame.to_csv(path, index=False)


UI, ORDER, USER = "ts-ui-dashboard", "ts-order-service", "ts-user-service"


def add_edge_files(root: Path) -> None:
    """source_50 (a resolvable edge, one named only by dependency.csv, an unknown service,
    empty cells) and destination_50 (a skewed timestamp, a value that is not a number)."""
    metric = root / "rca_data" / DAY / "metric"
    _edge_file(
        metric / "source_50.csv",
        [ONSET - 700, ONSET - 70, ONSET + 30, ONSET + 300],
        {
            f"{UI}_{ORDER}": ["0.1", "0.011", "0.021", "1"],
            f"{ORDER}_ts-payment-service": ["0.2", "0.5", "", "1"],  # unknown callee
            f"loadgenerator_{UI}": ["0.3", "", "0.022", "1"],  # known from dependency.csv
            f"{ORDER}_{USER}": ["0.4", "0.013", "", "1"],
        },
    )
    _edge_file(
        metric / "destination_50.csv",
        [ONSET - 71 + 10**8, ONSET + 30],  # the first timestamp is off by years
        {f"{ORDER}_{USER}": ["0.012", "n/a"]},
        times=[ONSET - 71, ONSET + 30],
    )


def test_edge_metrics_of_a_case(ts_root):
    add_edge_files(ts_root)
    data = Nezha(ts_root)
    case = data.case("2023-01-29T10:05:30", sources=("edge_metrics",))
    assert case.metrics.empty and case.spans.empty and case.logs.empty
    edges = case.edge_metrics
    assert tuple(edges.columns) == EDGE_METRIC_COLUMNS
    assert edges["ts_ns"].dtype == "int64" and edges["value"].dtype == "float64"
    s = 10**9
    expected = [
        [(ONSET - 71) * s, ORDER, USER, "destination_50", 0.012],
        [(ONSET - 70) * s, UI, ORDER, "source_50", 0.011],
        [(ONSET - 70) * s, ORDER, USER, "source_50", 0.013],
        [(ONSET + 30) * s, UI, ORDER, "source_50", 0.021],
        [(ONSET + 30) * s, "loadgenerator", UI, "source_50", 0.022],
        [(ONSET + 30) * s, ORDER, USER, "destination_50", float("nan")],
    ]
    got = edges.values.tolist()
    assert [row[:4] for row in got] == [row[:4] for row in expected]
    assert edges["value"].iloc[:5].tolist() == [row[4] for row in expected[:5]]
    assert pd.isna(edges["value"].iloc[5])
    report = case.report
    assert dict(report.counts) == {
        "unresolved_edge_column": 1,
        "no_calls": 2,
        "timestamp_mismatch": 1,
        "non_finite_value": 1,
    }
    (unresolved,) = report.examples["unresolved_edge_column"]
    assert f"'{ORDER}_ts-payment-service'" in unresolved and "source_50.csv" in unresolved
    assert report.examples["no_calls"] == [
        "source_50 loadgenerator_ts-ui-dashboard at 2023-01-29 10:04:20"
    ]
    assert (report.n_records, report.n_kept) == (8, 6)  # 2 rows x 3 edges + 2 x 1, in window
    metric = ts_root / "rca_data" / DAY / "metric"
    assert case.meta["files"] == [str(metric / "source_50.csv"), str(metric / "destination_50.csv")]
    # the default sources read them too, and cases() gives the same frame
    (same,) = list(data.cases())
    assert same.edge_metrics.equals(edges)
    assert not same.metrics.empty and not same.spans.empty


def test_edge_column_split_needs_one_unique_split(tmp_path):
    """``a_b_c`` with services ``a``, ``a_b``, ``b_c``, ``c``: two splits, left out."""
    metric = tmp_path / "nezha" / "construct_data" / DAY / "metric"
    metric.mkdir(parents=True)
    for service in ("a", "a_b", "b_c", "c"):
        pod = f"{service}-5f6585d649-fnmft"
        _metric_file(pod, ONSET, 2).to_csv(metric / f"{pod}_metric.csv", index=False)
    _edge_file(metric / "source_50.csv", [ONSET], {"a_b_c": ["1"], "a_d": ["2"], "c_a": ["3"]})
    data = Nezha(tmp_path / "nezha")
    assert data.services() == ["a", "a_b", "b_c", "c"]
    period = data.normal_period(DAY)  # no minute files: the range of the metric files
    edges = period.edge_metrics
    assert edges[["src", "dst", "value"]].values.tolist() == [["c", "a", 3.0]]
    assert period.report.counts["unresolved_edge_column"] == 2
    assert period.report.examples["unresolved_edge_column"] == [
        "source_50.csv column 'a_b_c' (2 splits into two known services; left out)",
        "source_50.csv column 'a_d' (no split into two known services; left out)",
    ]


def test_edge_metric_files_absent_or_broken(ts_root, tmp_path):
    # no such file: an empty frame, nothing reported
    case = Nezha(ts_root).case("2023-01-29T10:05:30", sources=("edge_metrics",))
    assert case.edge_metrics.empty and tuple(case.edge_metrics.columns) == EDGE_METRIC_COLUMNS
    assert case.report.n_problems == 0 and case.meta["files"] == []
    # a file without its time column, or with a time that is no number: errors naming them
    metric = ts_root / "rca_data" / DAY / "metric"
    pd.DataFrame({"ts": [1], f"{UI}_{ORDER}": [0.1]}).to_csv(metric / "source_50.csv", index=False)
    with pytest.raises(ParseError, match=r"source_50.csv.*field 'timestamp'"):
        Nezha(ts_root).case("2023-01-29T10:05:30", sources=("edge_metrics",))
    pd.DataFrame({"timestamp": [ONSET, "soon"], f"{UI}_{ORDER}": [0.1, 0.2]}).to_csv(
        metric / "destination_50.csv", index=False
    )
    (metric / "source_50.csv").unlink()
    with pytest.raises(GraphadInputError, match=r"destination_50.csv.*record 2, field 'timestamp'"):
        Nezha(ts_root).case("2023-01-29T10:05:30", sources=("edge_metrics",))


def test_edge_metrics_of_a_normal_period(ts_root):
    start = pd.Timestamp("2023-01-29 09:49", tz="UTC").value // 10**9
    metric = ts_root / "construct_data" / DAY / "metric"
    _edge_file(
        metric / "source_50.csv", [start - 60, start, start + 60], {f"{UI}_{ORDER}": ["1", "2", ""]}
    )
    period = Nezha(ts_root).normal_period()
    assert period.edge_metrics.values.tolist() == [[start * 10**9, UI, ORDER, "source_50", 2.0]]
    assert period.report.counts["no_calls"] == 1
    assert str(metric / "source_50.csv") in period.meta["files"]
    assert Nezha(ts_root).normal_period(sources=("metrics",)).edge_metrics.empty


def test_real_edge_metrics(nezha):
    case = nezha.case("2022-08-23T15:47:43", sources=("edge_metrics",))
    edges = case.edge_metrics
    assert tuple(edges.columns) == EDGE_METRIC_COLUMNS
    assert set(edges["metric"]) == {"source_50", "destination_50"}
    services = set(nezha.services())
    assert set(edges["src"]) <= services and set(edges["dst"]) <= services
    pairs = set(zip(edges["src"], edges["dst"], strict=True))
    assert pairs <= set(case.call_graph.edges) and len(pairs) == 14  # every call edge
    assert edges["ts_ns"].between(case.meta["start_ns"], case.meta["end_ns"] - 1).all()
    assert edges["ts_ns"].is_monotonic_increasing and edges["value"].gt(0).all()
    # 15 minutes x 14 edges x 2 files, less the minutes without calls (counted)
    assert case.report.n_records == 15 * 14 * 2
    assert len(edges) + case.report.counts["no_calls"] == case.report.n_records
    assert "unresolved_edge_column" not in case.report.counts
