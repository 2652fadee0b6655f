"""The types every stage speaks: :class:`Telemetry`, :class:`Incident` and :class:`FaultCase`.

``Telemetry`` bundles the canonical frames of one system over one time range (spans,
metrics, edge metrics, log events; see :mod:`graphad.ingest.schema`) with the call graph
(if known), the ingestion report and the node rule (how an entity name in the frames maps
to a graph node: ``"identity"`` unless a dataset knows better, e.g. Kubernetes pod ->
service). An :class:`Incident` adds the time a fault began; a dataset's :class:`FaultCase`
adds the truth (root causes and fault type). Readers and loaders return these types, the
graph builder and the rankers take them.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from graphad.ingest.logs import read_logs
from graphad.ingest.metrics import read_edge_metrics, read_metrics
from graphad.ingest.parents import frame_parent_rows
from graphad.ingest.report import IngestReport
from graphad.ingest.schema import empty_edge_metrics, empty_logs, empty_metrics, empty_spans
from graphad.ingest.traces import read_traces

__all__ = ["Telemetry", "Incident", "FaultCase", "TIMED_FRAMES", "read_telemetry"]

#: The time-stamped frames of a :class:`Telemetry` and their time column.
TIMED_FRAMES = (
    ("spans", "start_ns"),
    ("metrics", "ts_ns"),
    ("logs", "ts_ns"),
    ("edge_metrics", "ts_ns"),
)


@dataclass(kw_only=True)
class Telemetry:
    """Canonical telemetry of one system over one time range.

    Frames keep raw entity names (e.g. pod names in ``spans.service`` and
    ``metrics.node``); :attr:`node_rule` says how they become graph nodes.

    Attributes:
        spans: Spans (``trace_id, span_id, parent_id, service, operation, start_ns,
            duration_ns, status``; may be empty).
        metrics: Metric samples ``ts_ns, node, metric, value`` (may be empty).
        edge_metrics: Per caller -> callee samples ``ts_ns, src, dst, metric, value``
            (may be empty).
        logs: Log events ``ts_ns, node, template, count`` (may be empty).
        call_graph: The true call graph, caller -> callee, if the data has one.
        report: Ingestion report of everything read.
        node_rule: Entity name -> node: ``"identity"`` (default), ``"service"``
            (Kubernetes pod -> service) or a callable on a ``pd.Series``.
        system: Name of the system, e.g. ``"OnlineBoutique"`` (``""`` when unknown).
        start_ns: Start of the observed range (ns UTC, inclusive), ``None`` if unknown.
        end_ns: End of the observed range (ns UTC, exclusive), ``None`` if unknown.
        meta: Extra facts (files read, missing files, ...).

    Example:
        >>> m = pd.DataFrame({"ts_ns": [0, 5, 10], "node": "a", "metric": "cpu",
        ...                   "value": [1.0, 2.0, 3.0]})
        >>> t = Telemetry(metrics=m).crop(5, 10)
        >>> t.metrics["ts_ns"].tolist(), t.start_ns, t.end_ns, t.node_rule
        ([5], 5, 10, 'identity')
    """

    spans: pd.DataFrame = field(default_factory=empty_spans)
    metrics: pd.DataFrame = field(default_factory=empty_metrics)
    edge_metrics: pd.DataFrame = field(default_factory=empty_edge_metrics)
    logs: pd.DataFrame = field(default_factory=empty_logs)
    call_graph: nx.DiGraph | None = None
    report: IngestReport = field(default_factory=IngestReport)
    node_rule: str | Callable[[pd.Series], pd.Series] = "identity"
    system: str = ""
    start_ns: int | None = None
    end_ns: int | None = None
    meta: dict = field(default_factory=dict)
    #: Row of each span's parent, computed once per object (see :meth:`parent_rows`).
    _parent_rows: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    def parent_rows(self) -> np.ndarray:
        """Row of each span's parent in :attr:`spans` (same trace), ``-1`` for none.

        Computed once per object (the frames of a ``Telemetry`` are not to be modified
        in place; :meth:`crop` and :func:`dataclasses.replace` make new objects).

        Returns:
            int64 ``[len(spans)]``, read-only.
        """
        if self._parent_rows is None or len(self._parent_rows) != len(self.spans):
            rows = frame_parent_rows(self.spans)  # the codes validation left, or the ids
            rows.flags.writeable = False
            self._parent_rows = rows
        return self._parent_rows

    def crop(self, start_ns: int | None = None, end_ns: int | None = None) -> Telemetry:
        """A copy with the time-stamped frames cut to ``[start_ns, end_ns)``.

        Spans are cut by ``start_ns``, the other frames by ``ts_ns``; everything else is
        shared, the object's type (e.g. :class:`FaultCase`) is kept.

        Args:
            start_ns: First time kept (``None``: no lower cut).
            end_ns: First time dropped (``None``: no upper cut).

        Returns:
            A new object of the same type; ``start_ns`` / ``end_ns`` narrowed.
        """
        frames = {}
        for name, column in TIMED_FRAMES:
            frame = getattr(self, name)
            if frame is not None and len(frame) and column in frame.columns:
                times = frame[column].to_numpy()
                keep = np.ones(len(frame), dtype=bool)
                if start_ns is not None:
                    keep &= times >= start_ns
                if end_ns is not None:
                    keep &= times < end_ns
                frame = frame[keep].reset_index(drop=True)
            frames[name] = frame
        lo = _bound(max, self.start_ns, start_ns)
        hi = _bound(min, self.end_ns, end_ns)
        return dataclasses.replace(self, start_ns=lo, end_ns=hi, **frames)

    def first_time(self) -> int | None:
        """Earliest span start, metric sample or log event (ns), ``None`` when empty."""
        times = []
        for name, column in TIMED_FRAMES[:3]:
            frame = getattr(self, name)
            if frame is not None and len(frame) and column in frame.columns:
                times.append(int(frame[column].min()))
        return min(times) if times else None

    def with_onset(self, onset_ns: int | None, case_id: str = "") -> Incident:
        """The same telemetry as an :class:`Incident` that began at ``onset_ns``."""
        return Incident(**_telemetry_fields(self), onset_ns=onset_ns, case_id=case_id)


def _bound(pick: Callable[[int, int], int], own: int | None, new: int | None) -> int | None:
    if new is None:
        return own
    return int(new) if own is None else int(pick(own, new))


def _telemetry_fields(telemetry: Telemetry) -> dict[str, Any]:
    return {f.name: getattr(telemetry, f.name) for f in dataclasses.fields(Telemetry) if f.init}


@dataclass(kw_only=True)
class Incident(Telemetry):
    """Telemetry around a fault, with the time the fault began.

    Attributes:
        onset_ns: Fault start (ns UTC); ``None`` when unknown (rankers then estimate it).
        case_id: An id of the incident (``""`` when it has none).

    Example:
        >>> Incident(onset_ns=10).onset_ns
        10
    """

    onset_ns: int | None = None
    case_id: str = ""


@dataclass(init=False, kw_only=True)
class FaultCase(Incident):
    """One injected (or observed) fault of a dataset: an :class:`Incident` and its truth.

    Attributes:
        root_causes: Root-cause nodes (at the level of the case's node rule, e.g.
            services), best known first; usually one.
        fault_type: e.g. ``"cpu_contention"``, ``"network_delay"``, ``"exception"``.
        root_cause_entity: The raw entity the fault was injected into (e.g. a pod).

    The first five arguments may be given by position:
    ``FaultCase(case_id, system, onset_ns, root_cause, fault_type, **telemetry)``;
    ``root_cause`` (one name) and ``root_causes`` (a list) are alternatives.

    Example:
        >>> case = FaultCase("c1", "shop", 10, "cart", "cpu", meta={"x": 1})
        >>> case.root_causes, case.root_cause, case.onset_ns
        (['cart'], 'cart', 10)
        >>> view = case.blind()
        >>> type(view).__name__, view.onset_ns, view.meta, view.case_id
        ('Incident', 10, {}, 'c1')
        >>> case.blind(hide_id=True).case_id
        'case-d0f631ca1ddb'
    """

    root_causes: list[str] = field(default_factory=list)
    fault_type: str = ""
    root_cause_entity: str | None = None

    def __init__(
        self,
        case_id: str = "",
        system: str = "",
        onset_ns: int | None = None,
        root_cause: str | None = None,
        fault_type: str = "",
        *,
        root_causes: list[str] | None = None,
        root_cause_entity: str | None = None,
        **telemetry: Any,
    ) -> None:
        if root_causes is None:
            root_causes = [root_cause] if root_cause else []
        elif root_cause and root_cause not in root_causes:
            root_causes = [root_cause, *root_causes]
        unknown = set(telemetry) - {f.name for f in dataclasses.fields(Telemetry) if f.init}
        if unknown:
            raise TypeError(f"FaultCase got unexpected keyword arguments {sorted(unknown)}")
        Incident.__init__(self, onset_ns=onset_ns, case_id=case_id, system=system, **telemetry)
        self.root_causes = [str(r) for r in root_causes]
        self.fault_type = fault_type
        self.root_cause_entity = root_cause_entity

    @property
    def root_cause(self) -> str:
        """The first root cause (``""`` when none is known)."""
        return self.root_causes[0] if self.root_causes else ""

    def blind(self, onset_ns: int | None = None, *, hide_id: bool = False) -> Incident:
        """The case without its answer, for a ranker to work on.

        The truth goes, and so does ``meta`` (it may hold fine-grained root-cause labels
        or the injection time); the frames, call graph, node rule, system and report stay.

        Args:
            onset_ns: The onset to hand over (``None``: the case's own ``onset_ns``).
            hide_id: Replace ``case_id`` by an opaque, stable digest of it (case ids such
                as ``"2022-08-22T03:53:54"`` carry the injection time; used when the
                onset is to be estimated).

        Returns:
            An :class:`Incident` (frames are shared, not copied; rankers must not modify
            them).
        """
        case_id = self.case_id
        if hide_id:
            case_id = "case-" + hashlib.sha256(str(case_id).encode()).hexdigest()[:12]
        fields = _telemetry_fields(self)
        fields["meta"] = {}
        onset = self.onset_ns if onset_ns is None else onset_ns
        return Incident(**fields, onset_ns=onset, case_id=case_id)


#: The readers behind :func:`read_telemetry`: frame -> (reader, time column, empty frame).
_READERS = {
    "spans": (read_traces, "start_ns", empty_spans),
    "metrics": (read_metrics, "ts_ns", empty_metrics),
    "edge_metrics": (read_edge_metrics, "ts_ns", empty_edge_metrics),
    "logs": (read_logs, "ts_ns", empty_logs),
}


def read_telemetry(
    traces: Any = None,
    metrics: Any = None,
    edge_metrics: Any = None,
    logs: Any = None,
    *,
    node_rule: str | Callable[[pd.Series], pd.Series] = "identity",
    system: str = "",
    options: dict[str, dict[str, Any]] | None = None,
) -> Telemetry:
    """Read telemetry files (or frames) into one :class:`Telemetry`.

    A thin wrapper over :func:`~graphad.ingest.read_traces`,
    :func:`~graphad.ingest.read_metrics`, :func:`~graphad.ingest.read_edge_metrics` and
    :func:`~graphad.ingest.read_logs`: each argument is a path, a ``DataFrame`` or a list
    of them; the frames of one kind are concatenated (stable by time) and every report is
    merged into the telemetry's.

    Args:
        traces: Span files.
        metrics: Metric files.
        edge_metrics: Edge-metric files (a wide one needs
            ``options={"edge_metrics": {"separator": "_"}}``).
        logs: Log files.
        node_rule: The telemetry's node rule.
        system: The system's name.
        options: Keyword arguments per reader, keyed ``"spans"``, ``"metrics"``,
            ``"edge_metrics"``, ``"logs"``.

    Returns:
        The :class:`Telemetry` (``meta["files"]`` names the sources read).

    Example:
        >>> m = pd.DataFrame({"ts_ns": [0, 1], "node": "a", "metric": "cpu", "value": 1.0})
        >>> t = read_telemetry(metrics=[m, m])
        >>> len(t.metrics), t.spans.empty, t.node_rule
        (4, True, 'identity')
    """
    options = options or {}
    given = {"spans": traces, "metrics": metrics, "edge_metrics": edge_metrics, "logs": logs}
    report = IngestReport()
    frames: dict[str, pd.DataFrame] = {}
    files: list[str] = []
    for kind, sources in given.items():
        reader, column, empty = _READERS[kind]
        if sources is None:
            frames[kind] = empty()
            continue
        if isinstance(sources, (str, pd.DataFrame)) or not isinstance(sources, (list, tuple)):
            sources = [sources]
        parts = []
        for source in sources:
            frame, part = reader(source, **options.get(kind, {}))
            report.merge(part)
            parts.append(frame)
            files.append(source if isinstance(source, str) else str(getattr(source, "name", kind)))
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        if len(parts) > 1 and len(frame):
            order = np.argsort(frame[column].to_numpy(), kind="stable")
            frame = frame.iloc[order].reset_index(drop=True)
        frames[kind] = frame
    return Telemetry(
        **frames, report=report, node_rule=node_rule, system=system, meta={"files": files}
    )
