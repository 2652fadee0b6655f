"""Records that dataset loaders return: fault cases and multivariate-series entities."""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

from graphad.ingest.report import IngestReport
from graphad.ingest.schema import empty_edge_metrics, empty_logs, empty_metrics, empty_spans

__all__ = ["FaultCase", "MTSEntity", "TelemetryPeriod"]


@dataclass
class FaultCase:
    """One injected (or observed) fault with the telemetry around it and the truth.

    Frames are canonical (see :mod:`graphad.ingest.schema`) and keep raw entity names
    (e.g. pod names in ``spans.service`` and ``metrics.node``, service names in
    ``edge_metrics.src`` / ``edge_metrics.dst``); map them to services with
    :func:`graphad.graph.rules.k8s_service` or another node rule.

    Attributes:
        case_id: Unique id within the dataset, e.g. ``"2022-08-22T03:53:54"``.
        system: System name, e.g. ``"OnlineBoutique"``.
        onset_ns: Fault start (ns UTC); ``None`` when unknown (rankers then estimate it).
        root_cause: Root-cause node at service level.
        fault_type: e.g. ``"cpu_contention"``, ``"network_delay"``, ``"exception"``.
        spans: Spans in the case's time range (may be empty).
        metrics: Metric samples in the case's time range (may be empty).
        logs: Log events (templates) in the case's time range (may be empty).
        edge_metrics: Per call-graph edge metric samples (e.g. RPC latency at the caller
            and at the callee), long format ``ts_ns, src, dst, metric, value``; may be
            empty.
        call_graph: The true service call graph, caller -> callee, if the data has one.
        root_cause_entity: The raw entity the fault was injected into (e.g. a pod).
        report: Ingestion report of everything read for the case.
        meta: Extra facts (files read, time range, ...).
        root_causes: Every true root-cause node when a fault has several (the first is
            ``root_cause``); defaults to ``[root_cause]``.

    """

    case_id: str
    system: str
    onset_ns: int | None
    root_cause: str
    fault_type: str
    spans: pd.DataFrame = field(default_factory=empty_spans)
    metrics: pd.DataFrame = field(default_factory=empty_metrics)
    logs: pd.DataFrame = field(default_factory=empty_logs)
    edge_metrics: pd.DataFrame = field(default_factory=empty_edge_metrics)
    call_graph: nx.DiGraph | None = None
    root_cause_entity: str | None = None
    report: IngestReport = field(default_factory=IngestReport)
    meta: dict = field(default_factory=dict)
    root_causes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.root_causes and self.root_cause:
            self.root_causes = [self.root_cause]
        elif self.root_causes and not self.root_cause:
            self.root_cause = self.root_causes[0]


@dataclass
class MTSEntity:
    """One entity (server) of a multivariate time-series dataset (the ASD layout).

    Attributes:
        name: Entity name, e.g. ``"omi-1"``.
        train: ``[T_train, N]`` training values, one column per metric (node).
        test: ``[T_test, N]`` test values, same columns.
        test_labels: ``[T_test]`` int 0/1 point labels.
        interpretation: Anomaly segments with the metrics that explain them:
            ``(start, end, [column names])``, rows of ``test``, both ends inclusive.

    """

    name: str
    train: pd.DataFrame
    test: pd.DataFrame
    test_labels: np.ndarray
    interpretation: list[tuple[int, int, list[str]]] = field(default_factory=list)

    @property
    def node_labels(self) -> np.ndarray:
        """``[T_test, N]`` bool: the metric explains an anomaly at that step.

        Example:
            >>> e = MTSEntity("s", pd.DataFrame({"a": [0.0]*3, "b": [0.0]*3}),
            ...               pd.DataFrame({"a": [0.0]*3, "b": [0.0]*3}),
            ...               np.array([0, 1, 1]), [(1, 2, ["b"])])
            >>> e.node_labels.astype(int).tolist()
            [[0, 0], [0, 1], [0, 1]]

        """
        labels = np.zeros(self.test.shape, dtype=bool)
        columns = {name: i for i, name in enumerate(self.test.columns)}
        for start, end, names in self.interpretation:
            for name in names:
                labels[start : end + 1, columns[name]] = True
        return labels


@dataclass
class TelemetryPeriod:
    """Telemetry of a time range without a labelled fault (e.g. a fault-free baseline).

    Attributes:
        system: System name.
        start_ns: Start of the range (ns UTC, inclusive).
        end_ns: End of the range (ns UTC, exclusive).
        spans: Spans starting in the range (may be empty).
        metrics: Metric samples in the range (may be empty).
        logs: Log events in the range (may be empty).
        edge_metrics: Per call-graph edge metric samples in the range, long format
            ``ts_ns, src, dst, metric, value`` (may be empty).
        call_graph: The true service call graph, caller -> callee, if the data has one.
        report: Ingestion report of everything read.
        meta: Extra facts (files read, missing files, ...).

    """

    system: str
    start_ns: int
    end_ns: int
    spans: pd.DataFrame = field(default_factory=empty_spans)
    metrics: pd.DataFrame = field(default_factory=empty_metrics)
    logs: pd.DataFrame = field(default_factory=empty_logs)
    edge_metrics: pd.DataFrame = field(default_factory=empty_edge_metrics)
    call_graph: nx.DiGraph | None = None
    report: IngestReport = field(default_factory=IngestReport)
    meta: dict = field(default_factory=dict)
