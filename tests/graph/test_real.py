"""The builder on real Nezha (OnlineBoutique) telemetry from ../shared/data."""

import pandas as pd
import pytest
import torch

from graphad.exceptions import GraphadInputError
from graphad.graph import WindowDataset, WindowSpec, build_dynamic_graph
from graphad.ingest import read_logs, read_metrics


@pytest.fixture(scope="module")
def nezha_metrics(nezha_day) -> pd.DataFrame:
    """Two pods' wide metric files (Time, TimeStamp, PodName, <metrics>) as long frames."""
    frames = []
    folder = nezha_day / "metric"
    # cartservice and checkoutservice (adservice's file has every TimeStamp 2e8 s late)
    for path in sorted(folder.glob("*_metric.csv.xz"))[1:3]:
        metrics, report = read_metrics(
            path, time_column="TimeStamp", node_column="PodName", exclude=["Time"], time_unit="s"
        )
        frames.append(metrics)
    return pd.concat(frames, ignore_index=True)


def test_nezha_spans_edges_are_true_calls(nezha_spans, nezha_dependency):
    g = build_dynamic_graph(
        nezha_spans, spec=WindowSpec.of("20s", stride="10s", step="5s"), node_rule="service"
    )
    assert g.num_nodes == 10 and not any("-" in n for n in g.vocab.names)
    assert len(g) >= 5 and g.num_steps == 4
    edges = {(g.vocab.names[s], g.vocab.names[d]) for s, d in g.edge_union().t().tolist()}
    assert edges <= nezha_dependency
    assert len(edges) >= 10
    total_requests = sum(w.x[:, :, 0].sum() for w in g[::2])  # disjoint windows
    assert 0 < total_requests <= len(nezha_spans)
    for window in g:
        window.validate(raise_on_error=True)
        assert torch.isfinite(window.x).all()
        assert (window.edge_attr[:, 0] >= 1).all()  # every edge carries calls


def test_nezha_pods_and_metric_granularity(nezha_spans):
    spec = WindowSpec.of("30s", step="10s")
    pods = build_dynamic_graph(nezha_spans, spec=spec, node_rule="identity")
    assert all("-" in n for n in pods.vocab.names)
    per_metric = build_dynamic_graph(
        nezha_spans, spec=spec, node_rule="service", granularity="metric"
    )
    assert per_metric.num_features == 1
    assert per_metric.num_nodes == 10 * 6
    for window in per_metric:
        window.validate(raise_on_error=True)


def test_nezha_wide_metrics_melted(nezha_metrics):
    g = build_dynamic_graph(
        metrics=nezha_metrics, spec=WindowSpec.of("10min", step="1min"), node_rule="service"
    )
    assert g.num_nodes == 2
    n_metrics = nezha_metrics["metric"].nunique()
    assert g.num_features == n_metrics + 1
    assert "metric:CpuUsageRate(%)" in g.feature_names
    mask = g.x[..., g.feature_names.index("mask:metrics")]
    assert mask.float().mean() > 0.9  # one sample per pod and minute
    for window in g:
        window.validate(raise_on_error=True)
        assert torch.isfinite(window.x).all()
    dataset = WindowDataset(g)
    assert len(dataset) == len(g) > 10
    by_metric = build_dynamic_graph(
        metrics=nezha_metrics, spec=WindowSpec.of("5min", step="1min"), granularity="metric"
    )
    assert by_metric.num_nodes == 2 * n_metrics
    assert any(n.endswith("/CpuUsageRate(%)") for n in by_metric.vocab.names)


def test_shifted_timestamps_are_refused_not_allocated(nezha_metrics):
    late = nezha_metrics.iloc[:3].assign(
        ts_ns=nezha_metrics["ts_ns"].iloc[:3] + 200_000_000 * 1_000_000_000
    )
    shifted = pd.concat([nezha_metrics, late], ignore_index=True)
    spec = WindowSpec.of("10min", step="1min")
    with pytest.raises(GraphadInputError, match="longer than max_steps.*timestamp wrong"):
        build_dynamic_graph(metrics=shifted, spec=spec)
    start = int(nezha_metrics["ts_ns"].min())
    g = build_dynamic_graph(
        metrics=shifted, spec=spec, start_ns=start, end_ns=start + 3_600_000_000_000
    )
    assert len(g) == 51 and g.meta["outside_range"]["metrics"] > 3


def test_nezha_spans_and_logs_together(nezha_day, nezha_dependency, read_nezha):
    logs, _ = read_logs(
        nezha_day / "log" / "05_19_log.csv.xz",
        json_field="log",
        columns={"ts_ns": "TimeUnixNano", "node": "PodName", "message": "Log"},
    )
    spans = read_nezha(nezha_day / "trace" / "05_19_trace.csv.xz")
    spec = WindowSpec.of("30s", stride="30s", step="10s")
    g = build_dynamic_graph(spans, logs=logs, spec=spec, node_rule="service", max_templates=10)
    assert g.feature_names[-1] == "log:other"
    assert sum(f.startswith("log:") for f in g.feature_names) == 11
    log_part = g.x[..., 6:]
    inside = (logs["ts_ns"] >= g.meta["start_ns"]) & (logs["ts_ns"] < int(g.window_end[-1]))
    assert int(log_part.sum()) == int(logs["count"][inside].sum())  # windows are disjoint
    edges = {(g.vocab.names[s], g.vocab.names[d]) for s, d in g.edge_union().t().tolist()}
    assert edges and edges <= nezha_dependency
