import dataclasses
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from graphad.ingest import read_metrics, read_traces
from graphad.ingest.telemetry import FaultCase, Incident, Telemetry, read_telemetry


def _case(**kwargs):
    metrics = pd.DataFrame({"ts_ns": [1, 2], "node": "a", "metric": "cpu", "value": 1.0})
    return FaultCase(
        "c1",
        "shop",
        10,
        "cart",
        "cpu",
        metrics=metrics,
        call_graph=nx.DiGraph([("web", "cart")]),
        root_cause_entity="cart-abcde12-fghij",
        meta={"inject_time": "secret"},
        **kwargs,
    )


def test_fault_case_is_an_incident_is_telemetry():
    case = _case()
    assert isinstance(case, Incident) and isinstance(case, Telemetry)
    assert case.root_causes == ["cart"] and case.root_cause == "cart"
    assert case.node_rule == "identity" and case.system == "shop" and case.case_id == "c1"
    several = FaultCase("c", "s", 1, root_causes=["db", "cache"], fault_type="x")
    assert several.root_cause == "db" and several.root_causes == ["db", "cache"]
    assert FaultCase("c", "s", 1, "", "").root_causes == []
    # dataclasses.replace goes through the constructor and keeps the truth
    moved = dataclasses.replace(case, onset_ns=3)
    assert moved.root_causes == ["cart"] and moved.onset_ns == 3 and moved.meta == case.meta
    with pytest.raises(TypeError, match="unexpected"):
        FaultCase("c", "s", 1, "a", "b", no_such_field=1)


def test_blind_drops_the_truth_and_keeps_the_telemetry():
    case = _case(node_rule="service")
    view = case.blind(onset_ns=5)
    assert type(view) is Incident
    assert (view.onset_ns, view.meta, view.case_id, view.system) == (5, {}, "c1", "shop")
    assert view.metrics is case.metrics and view.call_graph is case.call_graph
    assert view.node_rule == "service" and view.report is case.report
    assert not hasattr(view, "root_cause") and not hasattr(view, "root_causes")
    assert case.blind().onset_ns == 10
    hidden = case.blind(hide_id=True).case_id
    assert hidden.startswith("case-") and "c1" not in hidden
    assert case.meta == {"inject_time": "secret"}  # the case is untouched


def test_crop_keeps_the_half_open_window():
    spans = pd.DataFrame({"start_ns": [0, 4, 5, 9, 10], "trace_id": list("abcde")})
    metrics = pd.DataFrame({"ts_ns": [3, 5, 10, 12], "node": "a", "metric": "m", "value": 1.0})
    case = FaultCase("c", "s", 5, "a", "cpu", spans=spans, metrics=metrics)
    window = case.crop(4, 10)
    assert type(window) is FaultCase and window.root_cause == "a"
    assert window.spans["trace_id"].tolist() == ["b", "c", "d"]
    assert window.metrics["ts_ns"].tolist() == [5]
    assert window.logs is case.logs
    assert (window.start_ns, window.end_ns) == (4, 10)
    assert window.crop(0, 8).start_ns == 4 and window.crop(0, 8).end_ns == 8
    assert case.crop(end_ns=5).spans["start_ns"].tolist() == [0, 4]
    assert case.crop().spans.equals(spans)
    assert len(case.spans) == 5  # the original is untouched


def test_crop_cuts_edge_metrics():
    edges = pd.DataFrame(
        {
            "ts_ns": [3, 4, 9, 10],
            "src": "front",
            "dst": ["cart", "cart", "pay", "pay"],
            "metric": "source_50",
            "value": [0.1, 0.2, 0.3, 0.4],
        }
    )
    case = FaultCase("c", "s", 5, "a", "cpu", edge_metrics=edges)
    window = case.crop(4, 10)
    assert window.edge_metrics["ts_ns"].tolist() == [4, 9]
    assert window.edge_metrics["value"].tolist() == [0.2, 0.3]
    assert window.edge_metrics.index.tolist() == [0, 1]
    assert case.crop(end_ns=4).edge_metrics["ts_ns"].tolist() == [3]
    assert len(case.edge_metrics) == 4
    assert case.blind().edge_metrics is case.edge_metrics
    assert Telemetry().edge_metrics.empty  # the default


def test_parent_rows_are_computed_once_per_object():
    spans = pd.DataFrame(
        {
            "trace_id": ["t", "t", "u"],
            "span_id": ["a", "b", "c"],
            "parent_id": ["", "a", "b"],
            "service": "s",
            "start_ns": [0, 1, 2],
            "duration_ns": 1,
            "status": 0,
        }
    )
    telemetry = Telemetry(spans=spans)
    rows = telemetry.parent_rows()
    assert rows.tolist() == [-1, 0, -1]  # a parent in another trace is no parent
    assert telemetry.parent_rows() is rows and not rows.flags.writeable
    cropped = telemetry.crop(1)
    assert cropped.parent_rows().tolist() == [-1, -1]  # recomputed on the new frame
    assert telemetry.with_onset(1).parent_rows().tolist() == [-1, 0, -1]
    assert np.array_equal(Telemetry().parent_rows(), np.zeros(0, dtype=np.int64))


def test_read_telemetry_reads_every_kind_and_merges_the_reports():
    data = Path(__file__).parent / "data"
    telemetry = read_telemetry(
        traces=[str(data / "otlp.json"), str(data / "jaeger.json")],
        metrics=str(data / "metrics_long.csv"),
        node_rule="service",
        system="shop",
    )
    spans_a = read_traces(str(data / "otlp.json"))[0]
    spans_b = read_traces(str(data / "jaeger.json"))[0]
    assert len(telemetry.spans) == len(spans_a) + len(spans_b)
    assert telemetry.spans["start_ns"].is_monotonic_increasing
    assert len(telemetry.metrics) == len(read_metrics(str(data / "metrics_long.csv"))[0])
    assert telemetry.edge_metrics.empty and telemetry.logs.empty
    assert (telemetry.node_rule, telemetry.system) == ("service", "shop")
    assert telemetry.report.n_records >= len(telemetry.spans) + len(telemetry.metrics)
    assert len(telemetry.meta["files"]) == 3
