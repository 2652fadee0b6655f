"""Score, propagation-aware and multi-source rankers."""

import json

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import torch
from torch_geometric.data import Data

from graphad.datasets import make_microservice_system
from graphad.datasets.base import FaultCase, Telemetry
from graphad.detectors import RobustZScore
from graphad.exceptions import GraphadInputError
from graphad.graph import NodeVocab, build_dynamic_graph
from graphad.graph.dynamic import DynamicGraph
from graphad.graph.window import WindowSpec
from graphad.rca import (
    DEFAULT_WEIGHTS,
    CaseView,
    MultiSourceEvidence,
    MultiSourceRanker,
    PageRankRanker,
    RCAResult,
    ScoreRanker,
    get_ranker,
    propagation_scores,
)
from graphad.rca.evidence import pseudo_onset
from graphad.rca.propagation import graph_of


def _planted_scores(system):
    """Scores where an upstream caller of the faulty service looks worse than it."""
    root = system.case.root_cause
    graph = system.call_graph
    callers = list(graph.predecessors(root))
    assert callers, "the planted service needs a caller"
    caller = callers[0]
    scores = {node: 0.05 for node in graph.nodes}
    scores[caller] = 1.0
    scores[root] = 0.7
    return scores, caller, root


def test_propagation_beats_score_on_simulator():
    system = make_microservice_system(n_services=8, duration="2h", random_state=1)
    scores, caller, root = _planted_scores(system)
    plain = ScoreRanker().rank(system.case, node_scores=scores)
    walk = PageRankRanker().rank(system.case, node_scores=scores, graph=system.call_graph)
    assert plain.nodes[0] == caller
    assert walk.nodes[0] == root
    assert isinstance(walk, RCAResult) and walk.method == "pagerank"


@pytest.mark.parametrize("implementation", ["scipy", "torch"])
def test_propagation_chain(implementation):
    graph = nx.DiGraph([("web", "api"), ("api", "db"), ("web", "auth")])
    scores = pd.Series({"web": 0.9, "api": 0.6, "db": 0.05, "auth": 0.05})
    ranked = propagation_scores(scores, graph, implementation=implementation)
    assert ranked.index[0] == "api"
    assert ranked.sum() == pytest.approx(1.0)


def _windows(scores: torch.Tensor, edges=((0, 1),)) -> DynamicGraph:
    vocab = NodeVocab(["web", "api", "db"])
    windows = []
    for i in range(scores.shape[0]):
        windows.append(
            Data(
                x=torch.zeros(3, 2, 1),
                edge_index=torch.tensor(edges, dtype=torch.long).t(),
                node_mask=torch.ones(3, dtype=torch.bool),
                window_start=torch.tensor([i * 10]),
                window_end=torch.tensor([i * 10 + 10]),
            )
        )
    return DynamicGraph(vocab, windows, ["v"])


def test_windows_with_node_scores_max_and_mean():
    scores = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [5.0, 1.0, 0.0], [1.0, 4.0, 0.0]])
    graph = _windows(scores)
    assert ScoreRanker(agg="max").rank(graph, scores, onset=20).nodes[0] == "web"
    assert ScoreRanker(agg="mean").rank(graph, scores, onset=20).nodes == ["web", "api", "db"]
    late = ScoreRanker(agg="mean").rank(graph, scores, onset=35)
    assert late.nodes[0] == "api" and late.onset_ns == 35


def test_windows_estimated_onset_and_learned_graph():
    scores = torch.zeros(8, 3)
    scores[5:, 0] = 1.0  # the caller looks worst
    scores[5:, 1] = 0.8  # its callee is the culprit
    graph = _windows(scores, edges=())
    learned = torch.tensor([[0], [1]])  # e.g. a learned adjacency web -> api
    result = PageRankRanker().rank(graph, scores, graph=(learned, torch.ones(1)), onset="estimated")
    assert result.onset_ns == 50  # end of the last normal window
    assert result.nodes[0] == "api"


def test_windows_without_scores_use_feature_deviation():
    windows = []
    for i in range(6):
        x = torch.ones(2, 1, 1)
        if i >= 4:
            x[1] = 9.0
        windows.append(
            Data(x=x, edge_index=torch.zeros(2, 0, dtype=torch.long), window_end=torch.tensor([i]))
        )
    assert ScoreRanker().rank(windows, onset=3, node_names=["a", "b"]).nodes == ["b", "a"]
    with pytest.raises(GraphadInputError, match="node names"):
        ScoreRanker().rank(windows, onset=3)  # never '0', '1' silently


def test_bad_inputs():
    scores = torch.zeros(4, 2)
    with pytest.raises(GraphadInputError, match="node_scores"):
        ScoreRanker().rank(_windows(torch.zeros(4, 3)), scores)
    with pytest.raises(GraphadInputError, match="case_or_windows"):
        ScoreRanker().rank("not a case")
    with pytest.raises(GraphadInputError, match="onset"):
        ScoreRanker().rank(_windows(torch.zeros(4, 3)), torch.zeros(4, 3), onset="soon")


def _span_case() -> FaultCase:
    """web calls api, api calls db; after the onset db's own time triples."""
    rows = []
    rng = np.random.default_rng(0)
    second = 1_000_000_000
    for i in range(200):
        start = i * second // 2
        slow = 3.0 if start >= 50 * second else 1.0
        db = int(2e6 * slow * rng.uniform(0.9, 1.1))
        api_self, web_self = int(1e6 * rng.uniform(0.9, 1.1)), int(1e6)
        trace = f"t{i}"
        rows += [
            (
                trace,
                "w",
                "",
                "web-7d9f8b6c5d-aaaaa",
                "GET /",
                start,
                web_self + 2 * 200_000 + api_self + db + 2 * 100_000,
            ),
            (
                trace,
                "wc",
                "w",
                "web-7d9f8b6c5d-aaaaa",
                "api.Get",
                start,
                200_000 + api_self + db + 100_000,
            ),
            (trace, "a", "wc", "api-7d9f8b6c5d-bbbbb", "api.Get", start, api_self + db + 100_000),
            (trace, "ac", "a", "api-7d9f8b6c5d-bbbbb", "db.Query", start, db + 100_000),
            (trace, "d", "ac", "db-7d9f8b6c5d-ccccc", "db.Query", start, db),
        ]
    spans = pd.DataFrame(
        rows,
        columns=[
            "trace_id",
            "span_id",
            "parent_id",
            "service",
            "operation",
            "start_ns",
            "duration_ns",
        ],
    )
    spans["status"] = 0
    spans["kind"] = ""
    return FaultCase(
        "toy",
        "toy",
        onset_ns=50 * second,
        root_cause="",
        fault_type="",
        spans=spans,
        node_rule="service",  # pod names: the data says how they map to services
    )


def test_multi_source_on_spans():
    case = _span_case()
    result = MultiSourceRanker().rank(case)
    assert result.nodes[0] == "db"
    assert set(result.extra["sources"]) >= {"latency", "gap", "structure"}
    walk = MultiSourceRanker(propagation=0.5).rank(case)
    assert walk.nodes[0] == "db"
    assert ScoreRanker().rank(case).nodes[0] == "db"
    case.onset_ns = None  # unknown onset: estimated from the span latencies
    unknown = MultiSourceRanker().rank(case)
    assert abs(unknown.onset_ns - 50 * 1_000_000_000) <= 10 * 1_000_000_000
    assert unknown.nodes[0] == "db"


def test_paths_explain_candidates():
    system = make_microservice_system(n_services=8, duration="2h", random_state=1)
    scores, caller, root = _planted_scores(system)
    walk = PageRankRanker().rank(system.case, node_scores=scores, graph=system.call_graph)
    assert [root, caller] in walk.paths[root]
    assert walk.to_dict()["paths"] == walk.paths


def test_call_graph_from_spans_uses_the_rankers_node_rule():
    # no call graph given: the walk reads the call edges from the spans, and must name
    # their ends like the candidates (pods here), or the walk has no edge among them
    system = make_microservice_system(5, duration="40min", pod_names=True, random_state=1)
    case = FaultCase(
        case_id="pods",
        system="",
        onset_ns=system.case.onset_ns,
        root_cause="",
        fault_type="",
        spans=system.spans,
        metrics=system.metrics,
    )
    pods = set(system.spans["service"])
    view = CaseView.from_case(case, node_rule=None)
    graph = graph_of(view, None, node_rule=None)
    assert set(view.nodes) == pods
    assert graph.number_of_edges() and set(graph.nodes) <= pods
    assert set(PageRankRanker(node_rule=None).rank(case).nodes) == pods


def test_span_table_built_once_per_case(monkeypatch):
    # the evidence and the call graph read from the spans (propagation on, no call
    # graph given) share one span table
    system = make_microservice_system(5, duration="40min", random_state=1)
    case = system.case.blind()
    case.call_graph = None
    built = []
    original = CaseView.span_table

    def counted(self, rule="service"):
        if not self.has_span_table(rule):
            built.append(1)
        return original(self, rule)

    monkeypatch.setattr(CaseView, "span_table", counted)
    result = MultiSourceRanker(propagation=0.3).rank(case)
    assert len(built) == 1 and result.nodes


@pytest.mark.parametrize("fault_type", ["cpu", "latency", "errors"])
@pytest.mark.parametrize("seed", [1, 4])
def test_multi_source_ranks_simulated_faults_first(fault_type, seed):
    system = make_microservice_system(
        5, duration="40min", fault_type=fault_type, traces_per_step=4, random_state=seed
    )
    result = MultiSourceRanker().rank(system.case.blind())
    assert result.nodes[0] == system.case.root_cause
    assert set(result.extra["chance_level"]) >= {"metric", "latency", "gap"}


def test_no_chance_level_from_a_one_sample_reference():
    # two metric samples before the onset: a pseudo-onset would leave one sample as the
    # reference (IQR 0), so the metric source gets no chance level; the spans, with
    # many distinct times on both sides, still do
    system = make_microservice_system(5, duration="40min", fault_type="cpu", random_state=1)
    case = system.case.blind()
    times = np.unique(case.metrics["ts_ns"])
    first = times[times < case.onset_ns][-2]
    metrics = case.metrics[case.metrics["ts_ns"] >= first]
    case = FaultCase(
        case_id=case.case_id,
        system=case.system,
        onset_ns=case.onset_ns,
        root_cause="",
        fault_type="",
        spans=case.spans,
        metrics=metrics,
    )
    levels = MultiSourceRanker().rank(case).extra["chance_level"]
    assert "metric" not in levels and "latency" in levels
    assert pseudo_onset(np.array([0, 60, 120])) is None
    assert pseudo_onset(np.array([0, 60, 120, 180])) == 90


@pytest.mark.parametrize("seed", [4, 5])  # the relative change of the first release fails
def test_log_source_alone_finds_simulated_error_fault(seed):
    # Callers log their callee's failures too; the significance of a template change
    # (a frequent new error template) still points at the service where errors start.
    system = make_microservice_system(
        5, duration="40min", fault_type="errors", traces_per_step=4, random_state=seed
    )
    weights = dict.fromkeys(["metric", "latency", "gap", "structure", "error"], 0.0)
    result = MultiSourceRanker(evidence=MultiSourceEvidence(weights=weights)).rank(
        system.case.blind()
    )
    assert result.nodes[0] == system.case.root_cause
    assert result.extra["sources"]["log"][system.case.root_cause] > 0


def test_multi_source_uses_edge_metrics_where_traces_miss_the_calls():
    """A mesh's per-edge latencies alone: the service both slow edges lead to is first,
    its callers (each with other, normal edges) are not; the edges name the candidates."""
    minute = 60 * 10**9
    edges = [("web", "ads"), ("web", "cart"), ("web", "shop"), ("shop", "cart"), ("shop", "pay")]
    rows = []
    for t in range(15):
        for src, dst in edges:
            slow = 6.0 if t >= 10 and dst == "cart" else 1.0
            for metric in ("source_50", "destination_50"):
                rows.append((t * minute, src, dst, metric, (0.010 + 0.001 * (t % 3)) * slow))
    frame = pd.DataFrame(rows, columns=["ts_ns", "src", "dst", "metric", "value"])
    case = FaultCase("toy", "toy", 10 * minute, "cart", "network_delay", edge_metrics=frame)
    result = MultiSourceRanker().rank(case.blind())
    assert result.nodes[0] == "cart"
    assert sorted(result.nodes) == ["ads", "cart", "pay", "shop", "web"]
    assert set(result.extra["sources"]) == {"edge"}
    assert "edge" in result.extra["chance_level"]  # from a pseudo-onset before minute 10
    without = MultiSourceRanker(evidence=MultiSourceEvidence(weights={"edge": 0.0})).rank(
        case.blind()
    )
    assert max(without.scores) == 0.0


def test_rankers_take_their_evidence_as_a_part():
    assert get_ranker("graphad").get_params() == {
        "evidence": None,
        "propagation": 0.0,
        "onset": "given",
        "node_rule": None,  # the telemetry's rule
    }
    system = make_microservice_system(5, duration="40min", fault_type="cpu", random_state=1)
    only_metric = dict.fromkeys(DEFAULT_WEIGHTS, 0.0) | {"metric": 1.0}
    part = MultiSourceEvidence(weights=only_metric)
    ranker = PageRankRanker(evidence=part)
    reference = Telemetry(
        system="sim", start_ns=system.start_ns, end_ns=system.case.onset_ns, spans=system.spans
    )
    assert ranker.fit(reference) is ranker
    assert ranker.evidence is part and not hasattr(part, "reference_")  # the part is copied
    assert ranker.evidence_.reference_ is reference
    assert ranker.evidence_.get_params() == part.get_params()
    result = ranker.rank(system.case.blind())
    assert result.nodes[0] == system.case.root_cause
    assert max(result.extra["sources"]["latency"].values()) == 0.0  # weighted out
    assert max(result.extra["sources"]["metric"].values()) > 0.0


@pytest.mark.parametrize("fault_type", ["cpu", "errors"])
@pytest.mark.parametrize("seed", [1, 4])
def test_graph_path_ranks_a_simulated_fault_by_name(fault_type, seed):
    # telemetry -> dynamic graph -> detector node scores -> ranker -> the true cause by name
    system = make_microservice_system(5, duration="40min", fault_type=fault_type, random_state=seed)
    graph = build_dynamic_graph(
        system.spans, system.metrics, spec=WindowSpec.of("2min", stride="1min", step="1min")
    )
    onset = system.case.onset_ns
    train = [w for w in graph.windows if int(w.window_end) <= onset]
    scores = RobustZScore().fit(train).decision_function(list(graph.windows))
    result = PageRankRanker().rank(graph, scores, onset=onset)
    assert result.nodes[0] == system.case.root_cause
    assert result.onset_ns == onset  # the given onset, not an estimate
    assert result.evidence_above_chance is True and result.confidence > 1.0
    assert result.evidence[result.nodes[0]][0]["source"] == "node_scores"
    windows = list(graph.windows)  # a plain list: names from node_names=
    again = PageRankRanker().rank(windows, scores, onset=onset, node_names=graph.vocab)
    assert again.nodes == result.nodes


def test_no_evidence_is_said_not_to_be_an_answer():
    # every node repeats the same cycle before and after the onset: nothing changed
    minute = 60 * 10**9
    rows = [
        (t * minute, node, "cpu", float(t % 3)) for t in range(40) for node in ("web", "api", "db")
    ]
    metrics = pd.DataFrame(rows, columns=["ts_ns", "node", "metric", "value"])
    case = FaultCase("flat", "toy", 30 * minute, "", "", metrics=metrics)
    result = MultiSourceRanker(node_rule=None).rank(case)
    assert result.evidence_above_chance is False and result.confidence <= 1.0
    data = json.loads(json.dumps(result.to_dict()))
    assert data["evidence_above_chance"] is False
    windows = torch.tensor([[1.0, 2.0, 0.5]] * 8)  # same scores before and after
    flat = ScoreRanker().rank(_windows(windows), windows, onset=40)
    assert flat.evidence_above_chance is False and flat.confidence == pytest.approx(1.0)


def test_result_carries_evidence_records_and_paths():
    system = make_microservice_system(5, duration="40min", fault_type="cpu", random_state=1)
    result = MultiSourceRanker().rank(system.case.blind())
    assert result.evidence_above_chance is True and result.confidence > 1.0
    top = result.evidence[result.nodes[0]]
    assert 1 <= len(top) <= 3
    assert {"source", "item", "before", "after", "score", "calibrated", "chance_level"} <= set(
        top[0]
    )
    metric = [r for r in top if r["source"] == "metric"]
    assert metric and metric[0]["item"] and metric[0]["after"] != metric[0]["before"]
    data = json.loads(json.dumps(result.to_dict()))
    assert data["paths"] is not None  # the case has a call graph
    assert data["ranking"][0]["evidence"] == top
