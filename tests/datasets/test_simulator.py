import networkx as nx
import pandas as pd
import pytest

from graphad.datasets import make_microservice_system, make_topology
from graphad.datasets.simulator import FAULT_TYPES, SIMULATED_METRICS
from graphad.exceptions import GraphadInputError
from graphad.graph.rules import k8s_service
from graphad.ingest.schema import (
    LOG_COLUMNS,
    METRIC_COLUMNS,
    SPAN_COLUMNS,
    validate_logs,
    validate_metrics,
    validate_spans,
)


def _ratio(sim, metric):
    """Mean of a metric during the fault over its mean before, per service."""
    frame = sim.metrics[sim.metrics["metric"] == metric]
    wide = frame.pivot(index="ts_ns", columns="node", values="value")
    onset, end = sim.case.onset_ns, sim.case.meta["end_ns"]
    during = wide[(wide.index >= onset) & (wide.index < end)].mean()
    return during / wide[wide.index < onset].mean()


@pytest.fixture(scope="module")
def sim():
    return make_microservice_system(random_state=0)


def test_frames_are_canonical(sim):
    assert tuple(sim.spans.columns) == SPAN_COLUMNS
    assert tuple(sim.metrics.columns) == METRIC_COLUMNS
    assert tuple(sim.logs.columns) == LOG_COLUMNS
    for validate, frame in (
        (validate_spans, sim.spans),
        (validate_metrics, sim.metrics),
        (validate_logs, sim.logs),
    ):
        _, report = validate(frame, "sim")
        assert report.n_problems == 0, str(report)
    assert 5_000 < len(sim.spans) <= 50_000
    assert len(sim.metrics) == 10 * 180 * len(SIMULATED_METRICS)
    assert set(sim.spans["service"]) <= set(sim.services)


def test_topology(sim):
    graph = sim.call_graph
    assert nx.is_directed_acyclic_graph(graph)
    assert sim.services[0] == "frontend" and graph.in_degree("frontend") == 0
    assert nx.descendants(graph, "frontend") == set(sim.services) - {"frontend"}
    assert any(graph.in_degree(s) >= 2 for s in graph)  # shared leaves
    # every span's parent is a caller of the span's service in the call graph
    spans = sim.spans.set_index("span_id")
    child = sim.spans[sim.spans["parent_id"] != ""]
    callers = spans.loc[child["parent_id"], "service"].to_numpy()
    assert all(graph.has_edge(u, v) for u, v in set(zip(callers, child["service"], strict=False)))


def test_determinism():
    a = make_microservice_system(6, duration="1h", random_state=7)
    b = make_microservice_system(6, duration="1h", random_state=7)
    c = make_microservice_system(6, duration="1h", random_state=8)
    pd.testing.assert_frame_equal(a.spans, b.spans)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    pd.testing.assert_frame_equal(a.logs, b.logs)
    assert a.case.root_cause == b.case.root_cause
    assert not a.metrics["value"].equals(c.metrics["value"])


@pytest.mark.parametrize("fault_type", FAULT_TYPES)
def test_fault_propagates_to_callers_only(fault_type):
    sim = make_microservice_system(12, duration="2h", fault_type=fault_type, random_state=3)
    root = sim.case.root_cause
    graph = sim.call_graph
    callers = nx.ancestors(graph, root)
    unrelated = set(graph) - callers - {root}
    metric = "error_rate" if fault_type == "errors" else "latency_p50"
    ratio = _ratio(sim, metric)
    assert callers and unrelated
    assert ratio[root] > 1.2
    assert all(ratio[c] > 1.05 for c in callers)
    assert all(abs(ratio[u] - 1.0) < 0.1 for u in unrelated)
    # the effect weakens away from the root cause: the root moves most
    assert ratio[root] == ratio.max()
    assert sorted(sim.case.meta["affected"]) == sorted(callers | {root})


def test_fault_specific_signals():
    cpu = make_microservice_system(8, duration="2h", fault_type="cpu", random_state=1)
    assert _ratio(cpu, "cpu")[cpu.case.root_cause] > 2
    leak = make_microservice_system(8, duration="2h", fault_type="memory", random_state=1)
    assert _ratio(leak, "memory")[leak.case.root_cause] > 1.5
    errors = make_microservice_system(8, duration="2h", fault_type="errors", random_state=1)
    during = errors.logs[errors.logs["ts_ns"] >= errors.case.onset_ns]
    failing = during[during["template"].str.contains("internal error")]
    assert failing.groupby("node")["count"].sum().idxmax() == errors.case.root_cause
    root_spans = errors.spans[errors.spans["service"] == errors.case.root_cause]
    after = root_spans["start_ns"] >= errors.case.onset_ns
    assert root_spans.loc[after, "status"].mean() > root_spans.loc[~after, "status"].mean() + 0.1


def test_span_latency_propagates():
    sim = make_microservice_system(
        10, duration="2h", fault_service="frontend", fault_type="latency", random_state=2
    )
    spans = sim.spans[sim.spans["service"] == "frontend"]
    after = (spans["start_ns"] >= sim.case.onset_ns) & (spans["start_ns"] < sim.case.meta["end_ns"])
    assert spans.loc[after, "duration_ns"].median() > spans.loc[~after, "duration_ns"].median() * 3


def test_options():
    sim = make_microservice_system(
        5,
        duration="30min",
        step="30s",
        fault_service="frontend",
        fault_start="10min",
        fault_duration="5min",
        pod_names=True,
        random_state=0,
    )
    assert sim.case.onset_ns == sim.start_ns + 600 * 10**9
    assert sim.case.meta["end_ns"] == sim.case.onset_ns + 300 * 10**9
    assert sim.metrics["ts_ns"].nunique() == 60
    entities = sorted(sim.metrics["node"].unique())
    assert sorted(k8s_service(entities)) == sorted(sim.services)
    assert k8s_service([sim.case.root_cause_entity]).iloc[0] == "frontend"
    g = make_topology(3, random_state=0)
    assert g.number_of_nodes() == 3


def test_bad_arguments():
    with pytest.raises(GraphadInputError, match="unknown fault type"):
        make_microservice_system(fault_type="disk")
    with pytest.raises(GraphadInputError, match="unknown service"):
        make_microservice_system(fault_service="nope")
    with pytest.raises(GraphadInputError, match="outside the simulated range"):
        make_microservice_system(duration="1h", fault_start="2h")
    with pytest.raises(GraphadInputError, match="too few services"):
        make_topology(1)
    with pytest.raises(GraphadInputError, match="shorter than one step"):
        make_microservice_system(duration="30s")
