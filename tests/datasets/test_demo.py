from pathlib import Path

import pandas as pd

from graphad.datasets import Nezha, demo_root, load_demo_case
from graphad.graph.rules import k8s_service
from graphad.ingest.schema import SPAN_CODE_COLUMNS, SPAN_COLUMNS


def test_demo_excerpt_is_small_and_complete():
    root = demo_root()
    size = sum(p.stat().st_size for p in Path(root).rglob("*") if p.is_file())
    assert size < 3 * 2**20
    assert (root / "LICENSE").is_file() and (root / "SOURCE.txt").is_file()
    assert Nezha(root).systems == ["hipster"]


def test_demo_case():
    case = load_demo_case()
    assert (case.root_cause, case.fault_type) == ("shippingservice", "cpu_contention")
    assert case.case_id == "2022-08-23T15:47:43"
    assert tuple(case.spans.columns) == SPAN_COLUMNS + SPAN_CODE_COLUMNS
    # the trace minutes upstream has within 10 min before and 5 min after the onset
    before = case.spans["start_ns"] < case.onset_ns
    assert before.sum() > 1_000 and (~before).sum() > 1_000
    # 60 minutes of metrics before, 10 after, for all 10 pods
    metrics = case.metrics
    assert metrics["node"].nunique() == 10
    assert metrics["ts_ns"].min() >= case.onset_ns - 3600 * 10**9
    assert metrics.groupby("node")["ts_ns"].nunique().min() >= 69
    # whole traces: every parent id is a span of the excerpt or the trace root
    parents = set(case.spans["parent_id"]) - {""}
    assert len(parents - set(case.spans["span_id"])) < 0.01 * len(parents)
    # the span services map onto the true call graph; the root cause and its caller slow
    # down the most (median span duration after / before: 1.42x and 1.32x, others < 1.12x)
    services = k8s_service(case.spans["service"])
    assert set(services) <= set(case.call_graph.nodes)
    latency = case.spans.assign(svc=services.values, after=~before)
    medians = latency.groupby(["svc", "after"])["duration_ns"].median().unstack()
    ratio = medians[True] / medians[False]
    assert set(ratio.nlargest(2).index) == {"shippingservice", "checkoutservice"}
    assert ("checkoutservice", "shippingservice") in case.call_graph.edges
    assert not case.report.counts.get("missing_trace_file")


def test_demo_cpu_metric_jumps():
    case = load_demo_case(sources=("metrics",))
    m = case.metrics
    cpu = m[(m["metric"] == "CpuUsageRate(%)")].pivot(index="ts_ns", columns="node", values="value")
    cpu.columns = k8s_service(pd.Series(cpu.columns)).tolist()
    jump = cpu[cpu.index >= case.onset_ns].max() / cpu[cpu.index < case.onset_ns].median()
    assert jump.idxmax() == "shippingservice"


def test_demo_case_builds_a_graph_inside_the_true_call_graph():
    from graphad.graph import WindowSpec, build_dynamic_graph

    case = load_demo_case(before="5min", after="3min")
    graph = build_dynamic_graph(
        case.spans, case.metrics, spec=WindowSpec.of("1min"), node_rule="service"
    )
    names = graph.vocab.names
    observed = {(names[u], names[v]) for u, v in graph.edge_union().t().tolist()}
    assert observed and observed <= set(case.call_graph.edges)
    assert "shippingservice" in names


def test_demo_edge_metrics_cover_the_metric_minutes():
    case = load_demo_case(sources=("metrics", "edge_metrics"))
    edges = case.edge_metrics
    assert set(edges["metric"]) == {"source_50", "destination_50"}
    assert set(zip(edges["src"], edges["dst"], strict=True)) <= set(case.call_graph.edges)
    minutes = edges.groupby("metric")["ts_ns"].nunique()
    per_pod = case.metrics.groupby("node")["ts_ns"].nunique()  # pods' clocks differ by ~1 s
    assert minutes.tolist() == [70, 70] and set(per_pod) == {70}
    assert edges["ts_ns"].min() >= case.metrics["ts_ns"].min() - 60 * 10**9
    assert edges["ts_ns"].max() <= case.metrics["ts_ns"].max() + 60 * 10**9
    # the caller's view includes the network, so it is not below the callee's (medians)
    by_file = edges.groupby("metric")["value"].median()
    assert by_file["source_50"] >= by_file["destination_50"]
