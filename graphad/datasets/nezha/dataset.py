"""The :class:`Nezha` dataset: fault cases and fault-free periods as telemetry."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from graphad.datasets.nezha.layout import (
    CACHE_FILES,
    MINUTE_NS,
    NEZHA_SPAN_COLUMNS,
    SOURCES,
    SPAN_END,
    SYSTEM_ALIASES,
    Day,
    check_sources,
    find_file,
    minutes_between,
    scan_day,
)
from graphad.datasets.nezha.readers import (
    LOG_SPAN_COLUMNS,
    FrameCache,
    add_read_repairs,
    concat_frames,
    count_repairs,
    dependency_edges,
    drain_miner,
    read_day_edge_metrics,
    read_day_metrics,
    read_log_file,
    read_trace_file,
    slice_report,
)
from graphad.exceptions import GraphadInputError, ParseError
from graphad.graph.rules import k8s_service
from graphad.graph.window import parse_duration
from graphad.ingest.logs import read_logs
from graphad.ingest.report import IngestReport
from graphad.ingest.schema import (
    empty_edge_metrics,
    empty_logs,
    empty_metrics,
    empty_spans,
    normalize_spans,
)
from graphad.ingest.telemetry import FaultCase, Telemetry

__all__ = ["Nezha", "CASE_BEFORE", "CASE_AFTER", "NODE_RULE"]

logger = logging.getLogger(__name__)

#: The window of a fault case (:meth:`Nezha.cases`): this long before the onset and after
#: it; the benchmark ranks on it.
CASE_BEFORE = "10min"
CASE_AFTER = "5min"

#: How Nezha's entity names (Kubernetes pods) become nodes: their service.
NODE_RULE = "service"


class Nezha:
    """Fault cases of the Nezha datasets, for any system in the Nezha layout.

    Args:
        root: The dataset folder (holding ``rca_data/`` and usually ``construct_data/``).
        system: Restrict to one system (see :attr:`systems`; the readable names
            ``"OnlineBoutique"`` and ``"TrainTicket"`` are accepted for ``"hipster"`` and
            ``"ts"``). ``None`` keeps every system.

    Raises:
        GraphadInputError: ``root`` has no day folder with metric files, or ``system`` is
            unknown.

    Example:
        >>> from graphad.datasets.demo import demo_root
        >>> data = Nezha(demo_root())  # the bundled one-fault excerpt
        >>> data.systems, len(data), data.faults()["root_cause"].tolist()
        (['hipster'], 1, ['shippingservice'])
    """

    def __init__(self, root: str | Path, system: str | None = None) -> None:
        self.root = Path(root)
        rca = self._scan("rca_data", "rca")
        construct = self._scan("construct_data", "construct")
        if not rca and not construct:
            raise GraphadInputError(
                "no Nezha day folder found",
                source=str(self.root),
                expected="rca_data/<day>/metric/<pod>_metric.csv files",
                found="none",
            )
        self._days = rca + construct
        self._system_of = self._name_systems()
        self.system = None if system is None else self._resolve_system(system)
        #: Dataset-level problems (e.g. a fault's two time fields disagreeing).
        self.report = IngestReport(str(self.root))
        self._faults = self._read_faults()
        self.report.n_records = self.report.n_kept = len(self._faults)
        self._graphs: dict[tuple, nx.DiGraph] = {}
        self._edge_name_cache: dict[str, tuple[str, ...]] = {}
        #: Frames read so far (days of metrics and edge metrics, raw minute files).
        self._days_read = FrameCache(8)
        self._files_read = FrameCache(CACHE_FILES)

    # ------------------------------------------------------------------ discovery
    def _scan(self, folder: str, kind: str) -> list[Day]:
        base = self.root / folder
        if not base.is_dir():
            return []
        days = [scan_day(path, kind) for path in sorted(base.iterdir()) if path.is_dir()]
        return [day for day in days if day is not None]

    def _tags(self) -> dict[str, frozenset]:
        tags = {}
        for path in sorted((self.root / "construct_data").glob("root_cause_*.json")):
            labels = _load_json(path, "a JSON object {service: {fault type: label}}")
            if isinstance(labels, dict):
                tags[path.stem[len("root_cause_") :]] = frozenset(labels)
        return tags

    def _name_systems(self) -> dict[tuple[str, str], str]:
        """Group days whose service sets overlap (>= half of the smaller) and name them."""
        days = sorted(self._days, key=lambda d: (d.name, d.kind))
        parent = list(range(len(days)))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i, a in enumerate(days):
            for j in range(i):
                b = days[j]
                if len(a.services & b.services) >= 0.5 * min(len(a.services), len(b.services)):
                    parent[root(i)] = root(j)
        groups: dict[int, list[Day]] = {}
        for i, day in enumerate(days):
            groups.setdefault(root(i), []).append(day)
        tags, names = self._tags(), {}
        for members in groups.values():
            services = frozenset().union(*(d.services for d in members))
            best, score = None, 0.0
            for tag, tagged in tags.items():
                jaccard = len(services & tagged) / len(services | tagged)
                if jaccard > score:
                    best, score = tag, jaccard
            name = best if best is not None else f"system-{members[0].name}"
            while name in names.values():
                name = f"{name}-{members[0].name}"
            for day in members:
                names[(day.kind, day.name)] = name
        return names

    def _system(self, day: Day) -> str:
        return self._system_of[(day.kind, day.name)]

    def _resolve_system(self, system: str) -> str:
        key = SYSTEM_ALIASES.get(system.lower(), system)
        if key not in self.systems:
            raise GraphadInputError(
                "unknown system",
                source=str(self.root),
                field="system",
                expected=f"one of {self.systems}",
                found=repr(system),
            )
        return key

    @property
    def systems(self) -> list[str]:
        """Names of the systems found under ``root``, sorted."""
        return sorted(set(self._system_of.values()))

    def services(self, system: str | None = None) -> list[str]:
        """Service names of a system (from its metric file names), sorted."""
        return sorted(set().union(*(d.services for d in self._days_of(system))))

    def days(self, system: str | None = None, kind: str = "rca") -> list[str]:
        """Day folder names of a system, ``kind`` ``"rca"`` or ``"construct"``."""
        return [d.name for d in self._days_of(system) if d.kind == kind]

    def _days_of(self, system: str | None) -> list[Day]:
        chosen = self._resolve_system(system) if system is not None else self.system
        return [d for d in self._days if chosen is None or self._system(d) == chosen]

    def _day(self, name: str, kind: str) -> Day:
        for day in self._days:
            if day.name == name and day.kind == kind:
                return day
        raise GraphadInputError(
            "unknown day",
            source=str(self.root),
            field="day",
            expected=f"one of {[d.name for d in self._days if d.kind == kind]}",
            found=repr(name),
        )

    # ------------------------------------------------------------------ faults
    def _read_faults(self) -> pd.DataFrame:
        rows = []
        for day in self._days:
            if day.kind != "rca":
                continue
            lists = sorted(day.path.glob("*fault_list*.json"))
            for path in lists:
                rows.extend(self._fault_rows(day, path))
        columns = [
            "case_id",
            "system",
            "day",
            "onset_ns",
            "root_cause",
            "root_cause_entity",
            "fault_type",
            "inject_time",
        ]
        frame = pd.DataFrame(rows, columns=columns)
        frame = frame.sort_values(["system", "onset_ns"], kind="stable").reset_index(drop=True)
        return frame

    def _fault_rows(self, day: Day, path: Path) -> list[dict]:
        content = _load_json(path, "{hour: [fault records]}")
        records = (
            content
            if isinstance(content, list)
            else [r for key in sorted(content) for r in (content[key] or [])]
        )
        rows = []
        for number, record in enumerate(records, start=1):
            for key in ("inject_pod", "inject_type"):
                if not isinstance(record, dict) or not record.get(key):
                    raise ParseError(
                        "fault record lacks a field",
                        source=str(path),
                        record=number,
                        field=key,
                        expected="a non-empty string",
                        found=repr(record),
                    )
            if record.get("inject_time"):
                onset = pd.Timestamp(record["inject_time"], tz="UTC").value
                stamp = pd.to_numeric(record.get("inject_timestamp"), errors="coerce")
                if pd.notna(stamp) and abs(float(stamp) * 1e9 - onset) > 60e9:
                    self.report.add(
                        "inject_timestamp_mismatch",
                        1,
                        f"{path.name} record {number}: inject_time used",
                    )
            elif record.get("inject_timestamp"):
                onset = int(float(record["inject_timestamp"])) * 1_000_000_000
            else:
                raise ParseError(
                    "fault record lacks its time",
                    source=str(path),
                    record=number,
                    field="inject_time",
                    expected="'YYYY-MM-DD HH:MM:SS' (UTC)",
                    found=repr(record),
                )
            pod = str(record["inject_pod"])
            stamp = pd.Timestamp(onset, unit="ns", tz="UTC")
            rows.append(
                {
                    "case_id": stamp.strftime("%Y-%m-%dT%H:%M:%S"),
                    "system": self._system(day),
                    "day": day.name,
                    "onset_ns": int(onset),
                    "root_cause": k8s_service([pod]).iloc[0],
                    "root_cause_entity": pod,
                    "fault_type": str(record["inject_type"]),
                    "inject_time": record.get("inject_time", ""),
                }
            )
        return rows

    def faults(self, system: str | None = None) -> pd.DataFrame:
        """The fault list: ``case_id, system, day, onset_ns, root_cause, root_cause_entity,
        fault_type, inject_time``, one row per fault, by system then onset.
        """
        chosen = self._resolve_system(system) if system is not None else self.system
        if chosen is None:
            return self._faults.copy()
        return self._faults[self._faults["system"] == chosen].reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.faults())

    def __iter__(self) -> Iterator[FaultCase]:
        return self.cases()

    def __repr__(self) -> str:
        return f"Nezha('{self.root}', systems={self.systems}, faults={len(self)})"

    # ------------------------------------------------------------------ graph
    def call_graph(self, system: str | None = None, day: str | None = None) -> nx.DiGraph | None:
        """The true service call graph from ``dependency.csv`` (caller -> callee).

        Rows whose source or target is not a service of the system (IP addresses, the load
        generator) are dropped; the services of a system are those named by its metric
        files and its fault list, and each is a node. Edge attribute ``weight`` is the
        file's ``Weight`` column (1 when absent). ``None`` when no day of the system has a
        ``dependency.csv`` (then derive a graph from spans, e.g.
        :func:`graphad.graph.call_graph`).

        Args:
            system: The system (default: the selected one, else the first).
            day: Read this day's file (default: every day of the system, united).
        """
        if system is None and self.system is None and day is None:
            system = self.systems[0]
        key = (system, day)
        if key not in self._graphs:
            self._graphs[key] = self._read_call_graph(system, day)
        graph = self._graphs[key]
        return None if graph is None else graph.copy()

    def _read_call_graph(self, system: str | None, day: str | None) -> nx.DiGraph | None:
        days = self._days_of(system) if day is None else [self._day(day, "rca")]
        names = {self._system(d) for d in days}
        faults = self._faults[self._faults["system"].isin(names)]
        services = set().union(*(d.services for d in days)) | set(faults["root_cause"])
        files = [p for p in (find_file(d.path / "metric", "dependency") for d in days) if p]
        if not files:
            return None
        graph = nx.DiGraph()
        graph.add_nodes_from(sorted(services))
        for path in files:
            for source, target, weight in dependency_edges(path):
                if source in services and target in services and source != target:
                    graph.add_edge(source, target, weight=weight)
        return graph

    # ------------------------------------------------------------------ cases
    def cases(
        self,
        system: str | None = None,
        before: str | int = CASE_BEFORE,
        after: str | int = CASE_AFTER,
        sources: Iterable[str] = SOURCES,
    ) -> Iterator[FaultCase]:
        """Yield every fault of the system(s) with the telemetry around it.

        Args:
            system: Restrict to one system (default: the one given at construction).
            before: Time kept before the onset (``"10min"`` or ns).
            after: Time kept after the onset.
            sources: Which of ``"metrics"``, ``"spans"``, ``"logs"``, ``"edge_metrics"``
                to read (default: all).

        Yields:
            :class:`~graphad.datasets.base.FaultCase`, in onset order, with frames in
            ``[onset - before, onset + after)``.
        """
        for row in self.faults(system).itertuples(index=False):
            yield self._case(row, before, after, sources)

    def case(
        self,
        case_id: str,
        before: str | int = CASE_BEFORE,
        after: str | int = CASE_AFTER,
        sources: Iterable[str] = SOURCES,
    ) -> FaultCase:
        """One fault case by its id (e.g. ``"2022-08-22T03:53:54"``); see :meth:`cases`."""
        faults = self.faults()
        match = faults[faults["case_id"] == case_id]
        if match.empty:
            raise GraphadInputError(
                "unknown case",
                source=str(self.root),
                field="case_id",
                expected=f"one of {faults['case_id'].head(3).tolist()}...",
                found=repr(case_id),
            )
        return self._case(next(match.itertuples(index=False)), before, after, sources)

    def _case(self, row, before, after, sources) -> FaultCase:
        sources = check_sources(sources)
        day = self._day(row.day, "rca")
        start = row.onset_ns - parse_duration(before)
        end = row.onset_ns + parse_duration(after)
        telemetry = self._telemetry(day, start, end, sources)
        detail = self._root_cause_detail(row.system, row.root_cause, row.fault_type)
        meta = {
            "day": row.day,
            "inject_time": row.inject_time,
            "start_ns": start,
            "end_ns": end,
            **({"root_cause_detail": detail} if detail is not None else {}),
            **telemetry["meta"],
        }
        return FaultCase(
            case_id=row.case_id,
            system=row.system,
            onset_ns=int(row.onset_ns),
            root_cause=row.root_cause,
            fault_type=row.fault_type,
            spans=telemetry["spans"],
            metrics=telemetry["metrics"],
            logs=telemetry["logs"],
            edge_metrics=telemetry["edge_metrics"],
            call_graph=self.call_graph(row.system),
            root_cause_entity=row.root_cause_entity,
            report=telemetry["report"],
            node_rule=NODE_RULE,
            start_ns=start,
            end_ns=end,
            meta=meta,
        )

    @functools.cached_property
    def _root_cause_labels(self) -> dict:
        labels = {}
        for path in sorted((self.root / "construct_data").glob("root_cause_*.json")):
            labels[path.stem[len("root_cause_") :]] = json.loads(path.read_text("utf-8"))
        return labels

    def _root_cause_detail(self, system: str, service: str, fault_type: str):
        labels = self._root_cause_labels.get(system, {})
        entry = labels.get(service, {}) if isinstance(labels, dict) else {}
        return entry.get(fault_type) if isinstance(entry, dict) else None

    # ------------------------------------------------------------------ normal periods
    def normal_period(
        self,
        day: str | None = None,
        *,
        system: str | None = None,
        sources: Iterable[str] = SOURCES,
        before: str | int = 0,
        after: str | int = 0,
    ) -> Telemetry:
        """The fault-free telemetry of ``construct_data`` (Nezha's normal baseline).

        A construct day's normal period is the span of the minutes its ``trace/``, ``log/``
        and ``traceid/`` files name, ``[first - 1 min, last + 1 min)``, widened by
        ``before`` / ``after``. With no such file (or a day folder not named
        ``YYYY-MM-DD``) the whole range of its metric files is used (upstream may then
        include fault times; check ``meta``).

        Args:
            day: A construct day folder name, a system name, or ``None`` for every
                construct day of the system (frames concatenated).
            system: The system when ``day`` is ``None`` (default: the selected one, else
                the first).
            sources: Which of ``"metrics"``, ``"spans"``, ``"logs"``, ``"edge_metrics"``
                to read (default: all).
            before: Extra time kept before the period.
            after: Extra time kept after the period.

        Returns:
            :class:`~graphad.ingest.telemetry.Telemetry` (``meta["periods"]`` lists the
            ``(day, start_ns, end_ns)`` ranges).

        Raises:
            GraphadInputError: Unknown day, or the system has no construct day.
        """
        sources = check_sources(sources)
        if day is not None and SYSTEM_ALIASES.get(day.lower(), day) in self.systems:
            day, system = None, day  # normal_period("hipster") names a system
        if day is not None:
            days = [self._day(day, "construct")]
        else:
            chosen = system or self.system or self.systems[0]
            days = [d for d in self._days_of(chosen) if d.kind == "construct"]
            if not days:
                raise GraphadInputError(
                    "system has no fault-free (construct_data) day",
                    source=str(self.root),
                    field="system",
                    expected="a construct_data/<day> folder",
                    found=repr(chosen),
                )
        parts, periods = [], []
        for d in days:
            start, end = self._normal_range(d, sources)
            start -= parse_duration(before)
            end += parse_duration(after)
            periods.append((d.name, start, end))
            parts.append(self._telemetry(d, start, end, sources))
        report = IngestReport()
        for part in parts:
            report.merge(part["report"])
        meta = {
            "periods": periods,
            "files": [f for p in parts for f in p["meta"]["files"]],
            "missing": {
                k: [m for p in parts for m in p["meta"]["missing"][k]] for k in ("trace", "log")
            },
        }
        system_name = self._system(days[0])
        return Telemetry(
            system=system_name,
            node_rule=NODE_RULE,
            start_ns=min(p[1] for p in periods),
            end_ns=max(p[2] for p in periods),
            spans=concat_frames([p["spans"] for p in parts], empty_spans),
            metrics=concat_frames([p["metrics"] for p in parts], empty_metrics),
            logs=concat_frames([p["logs"] for p in parts], empty_logs),
            edge_metrics=concat_frames([p["edge_metrics"] for p in parts], empty_edge_metrics),
            call_graph=self.call_graph(system_name),
            report=report,
            meta=meta,
        )

    def _normal_range(self, day: Day, sources: tuple[str, ...]) -> tuple[int, int]:
        names = sorted(set().union(*(day.minutes[k] for k in day.minutes)))
        date = pd.to_datetime(day.name, utc=True, errors="coerce", format="%Y-%m-%d")
        if names and pd.notna(date):
            date = date.value
            stamps = [date + (int(n[:2]) * 60 + int(n[3:])) * MINUTE_NS for n in names]
            return min(stamps) - MINUTE_NS, max(stamps) + MINUTE_NS
        metrics, _ = self._day_metrics(day)
        ts = metrics["ts_ns"]
        return int(ts.min()), int(ts.max()) + 1

    # ------------------------------------------------------------------ reading
    def _telemetry(self, day: Day, start: int, end: int, sources: tuple[str, ...]) -> dict:
        report = IngestReport(str(day.path))
        files, missing = [], {"trace": [], "log": []}
        metrics, spans, logs = empty_metrics(), empty_spans(), empty_logs()
        if "metrics" in sources:
            day_frame, fixed = self._day_metrics(day)
            ts = day_frame["ts_ns"].to_numpy()
            lo, hi = np.searchsorted(ts, start, "left"), np.searchsorted(ts, end, "left")
            metrics = day_frame.iloc[lo:hi].reset_index(drop=True)
            report.merge(slice_report(f"{day.path}/metric", metrics, fixed[lo:hi]))
            files.extend(str(day.path / "metric" / f"{p}_metric.csv") for p in day.pods)
        minutes = minutes_between(start, end)
        collected = set(day.minutes["traceid"]) or None
        for kind, wanted in (("trace", "spans"), ("log", "logs")):
            if wanted not in sources:
                continue
            present = [day.minutes[kind][m] for m in minutes if m in day.minutes[kind]]
            absent = [
                m
                for m in minutes
                if m not in day.minutes[kind] and (collected is None or m in collected)
            ]
            if collected is None and kind == "log":
                absent = []  # without traceid/ we cannot tell a lost log file from none
            for m in absent:
                missing[kind].append(f"{day.name}/{kind}/{m}_{kind}.csv")
            report.add(
                f"missing_{kind}_file", len(absent), missing[kind][-len(absent)] if absent else None
            )
            files.extend(str(p) for p in present)
            if kind == "trace":
                spans, part = self._spans(present, start, end)
            else:
                logs, part = self._logs(present, start, end, day)
            if part is not None:
                report.merge(part)
        edge_metrics = empty_edge_metrics()
        if "edge_metrics" in sources and day.edge_files:
            edge_metrics, part = self._edge_metrics(day, start, end)
            report.merge(part)
            files.extend(str(p) for p in day.edge_files.values())
        report.source = str(day.path)
        report.n_kept = len(metrics) + len(spans) + len(logs) + len(edge_metrics)
        meta = {"files": files, "missing": missing}
        return {
            "spans": spans,
            "metrics": metrics,
            "logs": logs,
            "edge_metrics": edge_metrics,
            "report": report,
            "meta": meta,
        }

    def _day_metrics(self, day: Day) -> tuple[pd.DataFrame, np.ndarray]:
        """All metric samples of a day and their repaired-time flags (read once)."""
        key = ("metrics", str(day.path / "metric"), tuple(day.pods))
        return self._days_read.get(key, lambda: read_day_metrics(*key[1:]))

    def _edge_names(self, system: str) -> tuple[str, ...]:
        """The service names that split the edge-metric columns of a system: those of its
        metric files, its fault list and its ``dependency.csv`` files (IPs left out).
        """
        if system not in self._edge_name_cache:
            days = self._days_of(system)
            names = set().union(*(d.services for d in days))
            names |= set(self._faults.loc[self._faults["system"] == system, "root_cause"])
            for path in (find_file(d.path / "metric", "dependency") for d in days):
                if path is not None:
                    names |= {n for edge in dependency_edges(path) for n in edge[:2]}
            self._edge_name_cache[system] = tuple(sorted(names))
        return self._edge_name_cache[system]

    def _edge_metrics(self, day: Day, start: int, end: int) -> tuple[pd.DataFrame, IngestReport]:
        """The day's edge metrics in ``[start, end)``, empty cells dropped (counted)."""
        files = tuple((stem, str(path)) for stem, path in day.edge_files.items())
        names = self._edge_names(self._system(day))
        data = self._days_read.get(
            ("edge_metrics", files, names), lambda: read_day_edge_metrics(files, names)
        )
        ts = data.frame["ts_ns"].to_numpy()
        lo, hi = np.searchsorted(ts, start, "left"), np.searchsorted(ts, end, "left")
        frame, fixed = data.frame.iloc[lo:hi].reset_index(drop=True), data.fixed[lo:hi]
        ts = data.absent["ts_ns"].to_numpy()
        absent = data.absent.iloc[np.searchsorted(ts, start) : np.searchsorted(ts, end)]
        source = f"{day.path}/metric/{{{','.join(day.edge_files)}}}"
        report = IngestReport(source, n_records=len(frame) + len(absent))
        for name, column, splits in data.unresolved:
            why = "no split" if splits == 0 else f"{splits} splits"
            report.add(
                "unresolved_edge_column",
                1,
                f"{name} column {column!r} ({why} into two known services; left out)",
            )
        if len(absent):
            row = absent.iloc[0]
            when = pd.Timestamp(int(row["ts_ns"]), unit="ns", tz="UTC")
            report.add(
                "no_calls",
                len(absent),
                f"{row['metric']} {row['src']}_{row['dst']} at {when:%Y-%m-%d %H:%M:%S}",
            )
        count_repairs(report, frame, fixed, "edge_metrics")
        report.n_kept = len(frame)
        return frame, report

    def _spans(self, paths: list[Path], start: int, end: int):
        if not paths:
            return empty_spans(), None
        parts = [self._files_read.get(str(p), lambda p=p: read_trace_file(str(p))) for p in paths]
        raw = pd.concat([frame for frame, _ in parts], ignore_index=True)
        begin = pd.to_numeric(raw[NEZHA_SPAN_COLUMNS["start_ns"]], errors="coerce")
        keep = ((begin >= start) & (begin < end)).to_numpy()
        source = f"{paths[0].parent}/{{{','.join(p.name.split('_trace')[0] for p in paths)}}}"
        spans, report = normalize_spans(
            raw.loc[keep],
            NEZHA_SPAN_COLUMNS,
            time_unit="ns",
            end_column=SPAN_END,
            source=source,
        )
        report.n_records = len(raw)
        report.add("outside_time_range", int((~keep).sum()), "spans of neighbouring minutes")
        add_read_repairs(report, parts)
        return spans, report

    def _logs(self, paths: list[Path], start: int, end: int, day: Day):
        if not paths:
            return empty_logs(), None
        parts = [self._files_read.get(str(p), lambda p=p: read_log_file(str(p))) for p in paths]
        raw = pd.concat([frame for frame, _ in parts], ignore_index=True)
        ts = pd.to_numeric(raw["TimeUnixNano"], errors="coerce")
        keep = ((ts >= start) & (ts < end)).to_numpy()
        source = f"{paths[0].parent}/{{{','.join(p.name.split('_log')[0] for p in paths)}}}"
        if not keep.any():
            report = IngestReport(source, n_records=len(raw))
            report.add("outside_time_range", len(raw), "lines of neighbouring minutes")
            return empty_logs(), add_read_repairs(report, parts)
        columns = {"ts_ns": "TimeUnixNano", "node": "PodName", "message": "Log"}
        # the span that wrote each line and the line itself, for span-level evidence
        columns.update({v: k for k, v in LOG_SPAN_COLUMNS.items() if k in raw.columns})
        logs, report = read_logs(
            raw.loc[keep].reset_index(drop=True),
            "table",
            columns=columns,
            time_unit="ns",
            json_field="log.message",
            keep_message=True,
            miner=drain_miner(self._drain_config(day)),
        )
        report.source = source
        report.n_records = len(raw)
        report.add("outside_time_range", int((~keep).sum()), "lines of neighbouring minutes")
        return logs, add_read_repairs(report, parts)

    def _drain_config(self, day: Day) -> Path | None:
        system = self._system(day)
        path = self.root / "log_template" / f"drain3_{system}.ini"
        return path if path.is_file() else None


def _load_json(path: Path, expected: str) -> object:
    """The JSON document in ``path``; unreadable JSON raises ParseError naming ``expected``."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ParseError(
            "unreadable JSON",
            source=str(path),
            record=error.lineno,
            expected=expected,
            found=error.msg,
        ) from error
