"""A user's own telemetry (issue 16): short captures, wide files as pandas writes them,
no answer when there is none (exit 3), times with dates, what was chosen said."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from graphad.cli.main import main
from graphad.graph import DynamicGraph

from .conftest import SHORT_START_NS, write_short_traces


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


# ------------------------------------------------------------------ windows that fit
def test_build_chooses_windows_from_a_short_capture(short_traces, tmp_path, capsys):
    out = tmp_path / "g.pt"
    assert main(["build", "--traces", str(short_traces), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert (
        "windows: step 1s, window 5s (5 steps), chosen from the data (the data spans 44.8s "
        "(2024-01-01T16:22:07Z - 16:22:51.818Z)); set --window / --step to change"
    ) in text
    graph = DynamicGraph.load(out)
    assert graph.spec.step == 10**9 and graph.num_steps == 5 and len(graph) == 41
    assert "windows end 2024-01-01T16:22:12Z .. 2024-01-01T16:22:52Z" in text


def test_a_window_longer_than_the_data_is_said_in_user_terms(short_traces, tmp_path, capsys):
    args = ["build", "--traces", str(short_traces), "--window", "5min", "-o", str(tmp_path / "g")]
    assert main(args) == 2
    assert _one_line(capsys) == (
        "graphad: error: field '--window': the data spans 44.8s (2024-01-01T16:22:07Z - "
        "16:22:51.818Z); --window 5min is longer: pass --window 10s"
    )


def test_a_given_window_gets_a_step_that_divides_it(short_traces, tmp_path, capsys):
    out = tmp_path / "g.pt"
    assert main(["build", "--traces", str(short_traces), "--window", "10s", "-o", str(out)]) == 0
    assert "windows: step 1s, chosen from the data" in capsys.readouterr().out
    assert DynamicGraph.load(out).num_steps == 10
    args = ["build", "--traces", str(short_traces), "--window", "15s", "--step", "10s"]
    assert main([*args, "-o", str(out)]) == 2
    assert _one_line(capsys) == (
        "graphad: error: field '--step': --window 15s is not a whole number of --step 10s "
        "steps (expected e.g. --step 5s)"
    )


def test_rca_detects_the_onset_of_a_short_capture(short_traces, tmp_path, capsys):
    assert main(["rca", "--traces", str(short_traces), "--detect"]) == 0
    out = capsys.readouterr().out
    # the db slows down 30 s in (16:22:37); the library's estimate, on 10 s steps
    assert "estimated onset: 2024-01-01T16:22:40Z (change point of the system's anomaly" in out
    ranked = [line.split() for line in out.splitlines() if line[:4].strip().isdigit()]
    assert ranked[0][1] == "db"
    # 25 s are too few 10 s steps: the steps are then chosen from the data (500 ms)
    shorter = write_short_traces(tmp_path / "25s.csv", seconds=25, fault_at=15)
    assert main(["rca", "--traces", str(shorter), "--detect"]) == 0
    assert "estimated onset: 2024-01-01T16:22:22Z (change point of 500ms steps)" in (
        capsys.readouterr().out
    )


def test_rca_step_sets_the_estimation_steps(short_traces, capsys):
    args = ["rca", "--traces", str(short_traces), "--detect", "--step"]
    assert main([*args, "1s"]) == 0
    assert "estimated onset: 2024-01-01T16:22:37Z (change point of 1s steps)" in (
        capsys.readouterr().out
    )
    assert main([*args, "30s"]) == 3  # 2 steps of 30 s do not hold a change point
    line = _one_line(capsys)
    assert line.startswith("graphad: no answer: no onset can be estimated: the data span 44.8s")
    assert "pass --onset TIME or a smaller --step" in line
    assert main(["rca", "--traces", str(short_traces), "--onset", "0", "--step", "1s"]) == 2
    assert "--step sets the steps of onset estimation" in _one_line(capsys)


# -------------------------------------------------------------- no answer -> exit 3
def test_onset_outside_the_data_is_no_answer(short_traces, capsys):
    args = ["rca", "--traces", str(short_traces), "--onset", "2025-01-01"]
    assert main(args) == 3
    assert _one_line(capsys) == (
        "graphad: no answer: the onset 2025-01-01T00:00:00Z lies outside the data (44.8s "
        "(2024-01-01T16:22:07Z - 16:22:51.818Z)); --force ranks anyway"
    )
    assert main([*args, "--force", "--format", "json", "-q"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out[out.index("{") :])
    assert result["flagged"].startswith("the onset 2025-01-01T00:00:00Z lies outside")
    assert result["onset"] == "2025-01-01T00:00:00Z"


def test_a_detector_without_alarms_gives_no_answer(tmp_path, capsys):
    spans = write_short_traces(tmp_path / "calm.csv", fault_at=1000)  # no fault at all
    graph, model = tmp_path / "calm.pt", tmp_path / "m.pt"
    assert main(["build", "--traces", str(spans), "-o", str(graph), "-q"]) == 0
    fit = ["fit", str(graph), "--detector", "RobustZScore", "-o", str(model), "-q"]
    assert main([*fit, "--train-end", "2024-01-01T16:22:52Z"]) == 0
    rca = ["rca", str(graph), "--model", str(model), "--onset", "2024-01-01T16:22:49.5Z"]
    capsys.readouterr()
    assert main(rca) == 3
    assert _one_line(capsys) == (
        "graphad: no answer: the detector raised no alarm: 0 of 3 windows after the onset "
        "score above its threshold 2.668 (highest 1.552); --force ranks anyway"
    )
    assert main([*rca, "--force", "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("FLAGGED (--force): the detector raised no alarm")


def test_baro_without_metrics_gives_no_answer(short_traces, capsys):
    args = ["rca", "--traces", str(short_traces), "--onset", "2024-01-01T16:22:37Z"]
    assert main([*args, "--ranker", "baro"]) == 3
    assert "BaroRanker ranks from metrics and none were given" in _one_line(capsys)


def test_all_zero_scores_are_no_answer(capsys):
    from graphad.cli.rca import _no_answer
    from graphad.rca import RCAResult

    flat = RCAResult(["a", "b"], [0.0, 0.0])
    assert _no_answer(flat, None, None, None) == "no node shows any evidence (every score is 0)"
    assert _no_answer(RCAResult(["a"], [1.0]), 5, (0, 10), None) is None


# ------------------------------------------------------------------- dates in times
@pytest.mark.parametrize(
    "value, problem",
    [
        ("16:22:07", "a time without a date"),
        ("2999-01-01", "time out of range"),
        ("1e30", "unreadable time"),
        ("99999999999999999999", "time out of range"),
    ],
)
def test_times_need_a_date_and_a_range(value, problem, short_traces, tmp_path, capsys):
    assert main(["rca", "--traces", str(short_traces), "--onset", value]) == 2
    line = _one_line(capsys)
    assert line.startswith("graphad: error: field '--onset': " + problem), line


def test_train_end_without_a_date_is_an_error(jaeger_graph, tmp_path, capsys):
    out = tmp_path / "m.pt"
    args = ["fit", str(jaeger_graph), "--detector", "RobustZScore", "-o", str(out)]
    assert main([*args, "--train-end", "00:07"]) == 2
    assert "field '--train-end': a time without a date" in _one_line(capsys)
    assert not out.exists()


def test_fit_says_what_it_trains_on_and_warns(jaeger_graph, tmp_path, capsys):
    args = ["fit", str(jaeger_graph), "--detector", "RobustZScore", "-o", str(tmp_path / "m")]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "training on 9 windows ending 2024-01-01T00:03:00Z .. 2024-01-01T00:11:00Z" in (
        captured.out
    )
    warnings = captured.err.strip().splitlines()
    assert warnings[0].startswith("graphad: warning: no --train-end: training on all 9 windows")
    assert warnings[1].startswith("graphad: warning: training on only 9 windows")


# ------------------------------------------------------------------ inputs as they come
def _pandas_wide(path, start_s: int, node_shift: str | None = None):
    """Two services' cpu over 40 minutes, written by pandas with its index column, and
    a constant 'region' column that is not a metric."""
    rng = np.random.default_rng(1)
    minutes = np.arange(40)
    frame = pd.DataFrame(
        {
            "timestamp": start_s + 60 * minutes,
            "carts": 0.2 + rng.normal(0, 0.01, 40),
            "orders": 0.3 + rng.normal(0, 0.01, 40),
        }
    )
    if node_shift:
        frame.loc[minutes >= 30, node_shift] += 0.5
    frame["region"] = 7
    frame.to_csv(path)  # index=True: pandas' "Unnamed: 0" column
    return path


def test_a_folder_of_one_file_per_metric(tmp_path, capsys):
    start_s = 1_704_067_200
    folder = tmp_path / "capture"
    folder.mkdir()
    _pandas_wide(folder / "cpu.csv", start_s, node_shift="carts")
    _pandas_wide(folder / "memory.csv", start_s)
    args = [
        "rca",
        "--metrics",
        str(folder),
        "--wide-file-is",
        "metric",
        "--metric-exclude",
        "region",
        "--onset",
        "2024-01-01T00:29:30Z",
        "--format",
        "json",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    result = json.loads(out[out.index("{") :])
    # the index column pandas wrote is recognised and counted, not read as a node
    assert [r["node"] for r in result["ranking"]] == ["carts", "orders"]
    assert out.count("index_column: 1 (e.g. column 'Unnamed: 0'") == 2


def test_build_adds_call_graph_edges_from_a_file(tmp_path, capsys):
    start_s = 1_704_067_200
    metrics = _pandas_wide(tmp_path / "cpu.csv", start_s)
    calls = tmp_path / "calls.csv"
    calls.write_text("caller,callee\norders,carts\norders,payment\n")
    out = tmp_path / "g.pt"
    args = ["build", "--metrics", str(metrics), "--wide-file-is", "metric"]
    args += ["--metric-exclude", "region", "--call-graph", str(calls), "-o", str(out)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "call edges from --call-graph / --edge-metrics: 1 added, 1 name a node outside" in (text)
    graph = DynamicGraph.load(out)
    assert graph.vocab.names == ["carts", "orders"]
    assert all(w.edge_index.tolist() == [[1], [0]] for w in graph)


def test_span_mapping_errors_hint_trace_columns(tmp_path, capsys):
    table = tmp_path / "spans.csv"
    pd.DataFrame({"TraceID": ["t"], "SpanID": ["a"], "Pod": ["web"]}).to_csv(table, index=False)
    assert main(["build", "--traces", str(table), "-o", str(tmp_path / "g.pt")]) == 2
    line = _one_line(capsys)
    assert str(table) in line and "--trace-columns" in line


def test_the_short_capture_starts_where_the_messages_say():
    assert str(np.datetime64(SHORT_START_NS, "ns")) == "2024-01-01T16:22:07.000000000"


# --------------------------------------------------------------------- why, not who
def test_each_ranked_node_says_why(sim_files, capsys):
    args = ["rca", "--traces", str(sim_files["spans"]), "--metrics", str(sim_files["metrics"])]
    args += ["--onset", str(sim_files["onset"]), "--top", "2"]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip().startswith("1 "))
    why = []
    for line in lines[first + 1 :]:
        if not line.startswith("      "):
            break
        why.append(line.strip())
    assert 1 <= len(why) <= 4  # up to 3 evidence lines and a path
    assert any("calibrated" in line for line in why), why
    assert main([*args, "--format", "json", "-q"]) == 0
    result = json.loads(capsys.readouterr().out)
    top = result["ranking"][0]
    assert top["evidence"] and {"source", "item", "before", "after", "calibrated"} <= set(
        top["evidence"][0]
    )
    assert result["evidence_above_chance"] is True


@pytest.mark.parametrize("rule, errors", [("nonzero", 1.0), ("http", 0.0)])
def test_status_rule_reads_http_codes(rule, errors, tmp_path):
    table = tmp_path / "spans.csv"
    pd.DataFrame(
        {
            "TraceID": ["t", "t"],
            "SpanID": ["a", "b"],
            "Parent": ["", "a"],
            "Pod": ["web", "db"],
            "Start": [SHORT_START_NS, SHORT_START_NS + 10**8],
            "Dur": [5_000_000, 1_000_000],
            "http_status": [200, 200],  # both succeeded
        }
    ).to_csv(table, index=False)
    mapping = "trace_id=TraceID,span_id=SpanID,parent_id=Parent,service=Pod,start_ns=Start"
    mapping += ",duration_ns=Dur,status=http_status"
    out = tmp_path / "g.pt"
    args = ["build", "--traces", str(table), "--trace-columns", mapping, "--status-rule", rule]
    assert main([*args, "-o", str(out), "-q"]) == 0
    graph = DynamicGraph.load(out)
    errors_column = graph.edge_feature_names.index("errors")
    calls = [w.edge_attr[:, errors_column] for w in graph if w.edge_attr.numel()]
    assert calls and max(float(c.max()) for c in calls) == errors


def test_build_edge_metrics_become_edge_features(tmp_path, capsys):
    start_s = 1_704_067_200
    metrics = _pandas_wide(tmp_path / "cpu.csv", start_s)
    edges = tmp_path / "edges.csv"
    rows = [(start_s + 60 * m, "orders", "carts", "rpc_ms", 5.0 + m) for m in range(40)]
    pd.DataFrame(rows, columns=["timestamp", "src", "dst", "metric", "value"]).to_csv(
        edges, index=False
    )
    out = tmp_path / "g.pt"
    args = ["build", "--metrics", str(metrics), "--wide-file-is", "metric"]
    args += ["--metric-exclude", "region", "--edge-metrics", str(edges), "-o", str(out)]
    assert main(args) == 0
    graph = DynamicGraph.load(out)
    assert graph.edge_feature_names[-1] == "edge_metric:rpc_ms"
    window = graph[len(graph) - 1]
    assert window.edge_index.tolist() == [[1], [0]]  # orders -> carts
    assert float(window.edge_attr[0, -1]) > 5.0  # the edge's mean rpc_ms in the window
