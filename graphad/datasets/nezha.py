"""The Nezha fault-injection datasets (IntelligentDDS/Nezha, FSE 2023), any system.

Layout read (every CSV may be plain ``.csv`` or compressed, e.g. ``.csv.xz``)::

    <root>/rca_data/<day>/<day>-fault_list.json     faults: {hour: [{inject_time, ...}]}
    <root>/rca_data/<day>/metric/<pod>_metric.csv    one file per pod, one row per minute
    <root>/rca_data/<day>/metric/dependency.csv      true call graph (Source, Target)
    <root>/rca_data/<day>/metric/source_50.csv       per-edge RPC latency, one row per minute
    <root>/rca_data/<day>/metric/destination_50.csv  (see EDGE_METRIC_FILES)
    <root>/rca_data/<day>/trace/<HH_MM>_trace.csv    spans collected around minute HH:MM
    <root>/rca_data/<day>/log/<HH_MM>_log.csv        container logs (docker JSON lines)
    <root>/rca_data/<day>/traceid/<HH_MM>_traceid.csv  one file per *collected* minute
    <root>/construct_data/<day>/...                  the same for fault-free periods
    <root>/construct_data/root_cause_<tag>.json      finer labels per service and fault type

**Systems.** Day folders are grouped into systems by the set of services their metric files
name (pod file names mapped with :func:`graphad.graph.rules.k8s_service`). A system is
named after the upstream tag whose ``construct_data/root_cause_<tag>.json`` shares the most
services with it (``"hipster"`` for OnlineBoutique, ``"ts"`` for TrainTicket); without such
a file it is called ``"system-<first day>"``. Nothing here knows any service name.

**Time.** ``inject_time`` is UTC. The trace (and log) file ``HH_MM`` holds the spans of
about the minute *ending* near ``HH:MM`` (e.g. ``03_54`` spans 03:53:19-03:54:20), so a
case reads every file named from the minute of its start to one minute after its end and
keeps the spans that *start* inside ``[onset - before, onset + after)``. Upstream collected
traces only for a few minutes around each fault; the ``traceid/`` folder names the minutes
collected, and a collected minute whose trace or log file is absent is counted as missing
(``missing_trace_file`` / ``missing_log_file`` in the report, listed in ``meta``).

**Edge metrics.** The files of :data:`EDGE_METRIC_FILES` in a day's ``metric/`` folder
(``source_50`` / ``destination_50``: the median latency, in seconds, of the calls of one
call-graph edge in one minute, measured at the caller and at the callee) have columns
``time, timestamp, <caller>_<callee>, ...``. They become the ``edge_metrics`` frame
(``ts_ns, src, dst, metric, value``; the metric is the file stem). A column name is split
where both halves are known service names of the system (those of its metric files, its
fault list and its ``dependency.csv``); a column with no such split or with several is
left out and counted as ``unresolved_edge_column`` (the column named in the report). An
empty cell means no call in that minute: it is not a sample and is counted as
``no_calls``. A day without these files has no edge metrics.

**Logs.** The ``Log`` column holds docker's JSON line; its ``"log"`` field is the message,
itself often a JSON document whose ``"message"`` field is the text (path ``log.message``,
followed by :func:`graphad.ingest.read_logs`; a line without it keeps its text and is
counted as ``json_field_missing``). Templates are mined with Drain3, configured by the
dataset's ``log_template/drain3_<tag>.ini`` when present (graphad's defaults otherwise).
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from graphad.datasets.base import FaultCase, TelemetryPeriod
from graphad.exceptions import GraphadInputError, ParseError
from graphad.graph.rules import k8s_service
from graphad.graph.window import parse_duration
from graphad.ingest.io import read_table
from graphad.ingest.logs import read_logs
from graphad.ingest.report import IngestReport
from graphad.ingest.schema import (
    empty_edge_metrics,
    empty_logs,
    empty_metrics,
    empty_spans,
    normalize_edge_metrics,
    normalize_metrics,
    normalize_spans,
)
from graphad.ingest.time import to_ns
from graphad.utils import import_optional

__all__ = [
    "Nezha",
    "NEZHA_SPAN_COLUMNS",
    "SYSTEM_ALIASES",
    "CASE_BEFORE",
    "CASE_AFTER",
    "EDGE_METRIC_FILES",
    "SOURCES",
    "metric_times",
]

logger = logging.getLogger(__name__)

#: The window of a fault case (:meth:`Nezha.cases`): this long before the onset and after
#: it; the benchmark ranks on it.
CASE_BEFORE = "10min"
CASE_AFTER = "5min"

#: Canonical span field -> Nezha trace column (the end time gives the duration).
NEZHA_SPAN_COLUMNS = {
    "trace_id": "TraceID",
    "span_id": "SpanID",
    "parent_id": "ParentID",
    "service": "PodName",
    "operation": "OperationName",
    "start_ns": "StartTimeUnixNano",
}
_SPAN_END = "EndTimeUnixNano"
#: Stems of the per-edge metric files of a day's ``metric/`` folder (columns ``time,
#: timestamp, <caller>_<callee>, ...``); the stem is the metric name in ``edge_metrics``.
EDGE_METRIC_FILES = ("source_50", "destination_50")
#: The telemetry sources a case or a normal period can read (the default: all of them).
SOURCES = ("metrics", "spans", "logs", "edge_metrics")
_EDGE_TIME_COLUMNS = ("time", "timestamp")
#: Readable names accepted for the upstream tags (names only; no logic depends on them).
SYSTEM_ALIASES = {"onlineboutique": "hipster", "trainticket": "ts"}
_NON_METRIC = ("Time", "TimeStamp", "PodName")
_CSV = r"\.csv(?:\.(?:xz|gz|bz2|zst))?$"
_METRIC_FILE = re.compile(r"^(?P<pod>.+)_metric" + _CSV)
_MINUTE_FILE = re.compile(r"^(?P<hh>\d{2})_(?P<mm>\d{2})_(?P<kind>trace|log|traceid)" + _CSV)
_MINUTE_NS = 60 * 1_000_000_000
_CACHE_FILES = 24


@dataclass
class _Day:
    """One day folder: where its files are and which pods and services it has."""

    name: str
    path: Path
    kind: str  # "rca" or "construct"
    pods: list[str]
    services: frozenset
    minutes: dict[str, dict[str, Path]] = field(default_factory=dict)  # kind -> HH_MM -> path
    edge_files: dict[str, Path] = field(default_factory=dict)  # EDGE_METRIC_FILES stem -> path


def _find(folder: Path, stem: str) -> Path | None:
    for path in sorted(folder.glob(stem + ".csv*")):
        if re.search(_CSV, path.name):
            return path
    return None


def _scan_day(path: Path, kind: str) -> _Day | None:
    metric_dir = path / "metric"
    pods = []
    if metric_dir.is_dir():
        for file in sorted(metric_dir.iterdir()):
            match = _METRIC_FILE.match(file.name)
            if match:
                pods.append(match.group("pod"))
    if not pods:
        return None
    minutes: dict[str, dict[str, Path]] = {"trace": {}, "log": {}, "traceid": {}}
    for sub in ("trace", "log", "traceid"):
        folder = path / sub
        if not folder.is_dir():
            continue
        for file in sorted(folder.iterdir()):
            match = _MINUTE_FILE.match(file.name)
            if match and match.group("kind") == sub:
                minutes[sub][f"{match.group('hh')}_{match.group('mm')}"] = file
    services = frozenset(k8s_service(pods).tolist())
    edge_files = {stem: _find(metric_dir, stem) for stem in EDGE_METRIC_FILES}
    edge_files = {stem: file for stem, file in edge_files.items() if file is not None}
    return _Day(path.name, path, kind, pods, services, minutes, edge_files)


def _read_csv(path: Path, report: IngestReport | None = None, **kwargs) -> pd.DataFrame:
    try:
        return pd.read_csv(path, **kwargs)
    except pd.errors.ParserError as error:
        if report is None or "Expected" not in str(error):
            raise ParseError(
                "unreadable CSV file",
                source=str(path),
                expected="a CSV table",
                found=f"{type(error).__name__}: {error}",
            ) from error
        # Rows of the wrong field count (a record cut short, the next glued on): the
        # ingest reader drops and counts them (malformed_row) and reads the rest.
        return read_table(path, report=report, **kwargs)
    except (UnicodeDecodeError, EOFError, OSError) as error:
        raise ParseError(
            "unreadable CSV file",
            source=str(path),
            expected="a CSV table",
            found=f"{type(error).__name__}: {error}",
        ) from error


_GO_TIME = r"^(\S+ \S+ [+-]\d{4})"
_MAX_CLOCK_GAP_S = 3600


def metric_times(
    raw: pd.DataFrame,
    source: str,
    report: IngestReport,
    *,
    stamp: str = "TimeStamp",
    clock: str = "Time",
) -> np.ndarray:
    """Epoch seconds of a Nezha metric file's rows, checked against its ``Time`` column.

    ``TimeStamp`` (epoch seconds) is used, except where the human-readable ``Time`` column
    (Go's ``2022-08-22 03:51:19.6 +0000 UTC m=+0.1``) disagrees with it by more than an
    hour: there ``Time`` (floored to the second) is used and the row is counted as
    ``timestamp_mismatch`` (upstream, one pod's file of 2022-08-22 has ``1861...`` for
    ``1661...``).

    Args:
        raw: The metric file as read, with ``TimeStamp`` and optionally ``Time``.
        source: File name for the report.
        report: Where repairs are counted.
        stamp: The epoch-seconds column (``"timestamp"`` in the edge-metric files).
        clock: The human-readable time column (``"time"`` in the edge-metric files).

    Returns:
        ``[n]`` float epoch seconds.

    Example:
        >>> raw = pd.DataFrame({"Time": ["2022-08-22 03:51:19.6 +0000 UTC m=+0.1"] * 2,
        ...                     "TimeStamp": [1661140279, 1861140279]})
        >>> r = IngestReport("m.csv")
        >>> metric_times(raw, "m.csv", r).tolist(), r.counts["timestamp_mismatch"]
        ([1661140279.0, 1661140279.0], 1)
        >>> r.examples["timestamp_mismatch"]
        ['m.csv record 2: TimeStamp 1861140279 vs Time 2022-08-22 03:51:19.6 +0000; Time used']
    """
    stamps = pd.to_numeric(raw[stamp], errors="coerce").to_numpy(dtype=float)
    if clock not in raw.columns:
        return stamps
    text = raw[clock].astype(str).str.extract(_GO_TIME)[0]
    parsed = pd.to_datetime(text, format="%Y-%m-%d %H:%M:%S.%f %z", utc=True, errors="coerce")
    seconds = (parsed.astype("datetime64[ns, UTC]").astype("int64") // 10**9).to_numpy(float)
    seconds[parsed.isna().to_numpy()] = np.nan
    mismatch = np.abs(stamps - seconds) > _MAX_CLOCK_GAP_S
    mismatch |= np.isnan(stamps) & ~np.isnan(seconds)
    if mismatch.any():
        row = int(np.flatnonzero(mismatch)[0])
        report.add(
            "timestamp_mismatch",
            int(mismatch.sum()),
            f"{source} record {row + 1}: {stamp} {raw[stamp].iloc[row]} vs "
            f"{clock} {text.iloc[row]}; {clock} used",
        )
        stamps = np.where(mismatch, seconds, stamps)
    return stamps


@functools.lru_cache(maxsize=8)
def _day_metrics(metric_dir: str, pods: tuple[str, ...]) -> tuple[pd.DataFrame, np.ndarray]:
    """All metric samples of a day, long and sorted by time (read once, cached).

    Returns the frame and a bool array marking samples whose time was repaired.
    """
    frames, repaired = [], []
    for pod in pods:
        path = _find(Path(metric_dir), f"{pod}_metric")
        raw = _read_csv(path)
        if "TimeStamp" not in raw.columns:
            raise ParseError(
                "metric file lacks its time column",
                source=str(path),
                field="TimeStamp",
                expected="a 'TimeStamp' column (epoch seconds)",
                found=f"columns {list(raw.columns)}",
            )
        file_report = IngestReport(str(path))
        stamps = metric_times(raw, str(path), file_report)
        fixed = stamps != pd.to_numeric(raw["TimeStamp"], errors="coerce").to_numpy(float)
        names = [c for c in raw.columns if c not in _NON_METRIC]
        wide = raw[names].assign(TimeStamp=stamps, _fixed=fixed)
        long = wide.melt(id_vars=["TimeStamp", "_fixed"], value_vars=names, var_name="metric")
        long.insert(1, "node", pod)
        metrics, _ = normalize_metrics(
            long.drop(columns="_fixed"),
            {"ts_ns": "TimeStamp"},
            time_unit="s",
            source=str(path),
        )
        order = np.argsort(to_ns(long["TimeStamp"], "s"), kind="stable")
        frames.append(metrics)
        repaired.append(long["_fixed"].to_numpy()[order])
    if not frames:
        return empty_metrics(), np.zeros(0, dtype=bool)
    frame = pd.concat(frames, ignore_index=True)
    flags = np.concatenate(repaired)
    order = np.argsort(frame["ts_ns"].to_numpy(), kind="stable")
    return frame.iloc[order].reset_index(drop=True), flags[order]


def _split_edge(column: str, names: frozenset) -> list[tuple[str, str]]:
    """Every split of ``<caller>_<callee>`` at an ``_`` where both halves are in ``names``.

    Example:
        >>> _split_edge("front_end_cart", frozenset({"front_end", "front", "end_cart", "cart"}))
        [('front', 'end_cart'), ('front_end', 'cart')]
        >>> _split_edge("frontend_cart", frozenset({"frontend", "cart"}))
        [('frontend', 'cart')]
    """
    splits = []
    for i, char in enumerate(column):
        if char == "_" and column[:i] in names and column[i + 1 :] in names:
            splits.append((column[:i], column[i + 1 :]))
    return splits


@dataclass(frozen=True)
class _EdgeDay:
    """A day's edge metrics, long and sorted by time, before the case slices it.

    ``frame`` keeps a row (value NaN) for every empty cell, flagged in ``no_calls``;
    ``fixed`` flags samples whose time was repaired; ``unresolved`` names the columns left
    out, as ``(file name, column, number of splits into two known names)``.
    """

    frame: pd.DataFrame
    no_calls: np.ndarray
    fixed: np.ndarray
    unresolved: tuple[tuple[str, str, int], ...]


@functools.lru_cache(maxsize=8)
def _day_edge_metrics(files: tuple[tuple[str, str], ...], names: tuple[str, ...]) -> _EdgeDay:
    """All edge-metric samples of a day (read once, cached).

    Args:
        files: ``(metric name, path)`` of each edge-metric file of the day.
        names: The known service names that column names are split by.
    """
    known = frozenset(names)
    parts, unresolved = [], []
    for metric, path in files:
        raw = _read_csv(Path(path), dtype=str, keep_default_na=False)
        if "timestamp" not in raw.columns:
            raise ParseError(
                "edge metric file lacks its time column",
                source=path,
                field="timestamp",
                expected="a 'timestamp' column (epoch seconds)",
                found=f"columns {list(raw.columns)}",
            )
        stamps = metric_times(raw, path, IngestReport(path), stamp="timestamp", clock="time")
        if np.isnan(stamps).any():
            row = int(np.flatnonzero(np.isnan(stamps))[0])
            raise GraphadInputError(
                "value is not a number",
                source=path,
                record=row + 1,
                field="timestamp",
                expected="epoch seconds",
                found=repr(raw["timestamp"].iloc[row]),
            )
        fixed = stamps != pd.to_numeric(raw["timestamp"], errors="coerce").to_numpy(float)
        edges = []
        for column in raw.columns:
            if column in _EDGE_TIME_COLUMNS:
                continue
            splits = _split_edge(str(column), known)
            if len(splits) == 1:
                edges.append((column, *splits[0]))
            else:
                unresolved.append((Path(path).name, str(column), len(splits)))
        n, k = len(raw), len(edges)
        text = raw[[c for c, _, _ in edges]].to_numpy(dtype=object).reshape(n * k)
        empty = pd.Series(text, dtype=object).str.strip().eq("").to_numpy(dtype=bool)
        long = pd.DataFrame(
            {
                "timestamp": np.repeat(stamps, k),
                "src": np.tile(np.array([s for _, s, _ in edges], dtype=object), n),
                "dst": np.tile(np.array([d for _, _, d in edges], dtype=object), n),
                "metric": metric,
                "value": np.where(empty, np.nan, text),
            }
        )
        order = np.argsort(long["timestamp"].to_numpy(), kind="stable")
        long = long.iloc[order].reset_index(drop=True)
        frame, _ = normalize_edge_metrics(long, {"ts_ns": "timestamp"}, time_unit="s", source=path)
        parts.append((frame, empty[order], np.repeat(fixed, k)[order]))
    if not parts:
        return _EdgeDay(empty_edge_metrics(), np.zeros(0, bool), np.zeros(0, bool), ())
    frame = pd.concat([p[0] for p in parts], ignore_index=True)
    order = np.argsort(frame["ts_ns"].to_numpy(), kind="stable")
    return _EdgeDay(
        frame.iloc[order].reset_index(drop=True),
        np.concatenate([p[1] for p in parts])[order],
        np.concatenate([p[2] for p in parts])[order],
        tuple(unresolved),
    )


@functools.lru_cache(maxsize=_CACHE_FILES)
def _raw_trace(path: str) -> tuple[pd.DataFrame, IngestReport]:
    columns = [*NEZHA_SPAN_COLUMNS.values(), _SPAN_END]
    read = IngestReport(path)
    frame = _read_csv(
        Path(path),
        read,
        dtype={c: str for c in columns[:5]},
        usecols=lambda c: c in columns,
        keep_default_na=False,
    )
    return frame, read


@functools.lru_cache(maxsize=_CACHE_FILES)
def _raw_log(path: str) -> tuple[pd.DataFrame, IngestReport]:
    read = IngestReport(path)
    frame = _read_csv(Path(path), read, dtype=str, keep_default_na=False)
    for column in ("TimeUnixNano", "PodName", "Log"):
        if column not in frame.columns:
            raise ParseError(
                "log file lacks a column",
                source=path,
                field=column,
                expected="columns TimeUnixNano, PodName, Log",
                found=f"columns {list(frame.columns)}",
            )
    return frame[["TimeUnixNano", "PodName", "Log"]], read


def _drain_miner(config: Path | None):
    """A Drain3 miner configured by the dataset's own ``drain3_<tag>.ini``, if any."""
    if config is None:
        return None  # read_logs then builds graphad's default miner
    drain3 = import_optional("drain3", "logs")
    from drain3.template_miner_config import TemplateMinerConfig

    settings = TemplateMinerConfig()
    settings.load(str(config))
    settings.profiling_enabled = False
    return drain3.TemplateMiner(config=settings)


def _minute_name(ns: int) -> str:
    stamp = pd.Timestamp(int(ns), unit="ns", tz="UTC")
    return f"{stamp.hour:02d}_{stamp.minute:02d}"


def _minutes_between(start_ns: int, end_ns: int) -> list[str]:
    """Names of the minute files that can hold spans starting in ``[start_ns, end_ns)``."""
    first = start_ns // _MINUTE_NS
    last = (end_ns - 1) // _MINUTE_NS + 1
    return [_minute_name(m * _MINUTE_NS) for m in range(first, last + 1)]


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

    # ------------------------------------------------------------------ discovery
    def _scan(self, folder: str, kind: str) -> list[_Day]:
        base = self.root / folder
        if not base.is_dir():
            return []
        days = [_scan_day(path, kind) for path in sorted(base.iterdir()) if path.is_dir()]
        return [day for day in days if day is not None]

    def _tags(self) -> dict[str, frozenset]:
        tags = {}
        for path in sorted((self.root / "construct_data").glob("root_cause_*.json")):
            try:
                labels = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as error:
                raise ParseError(
                    "unreadable JSON",
                    source=str(path),
                    record=error.lineno,
                    expected="a JSON object {service: {fault type: label}}",
                    found=error.msg,
                ) from error
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
        groups: dict[int, list[_Day]] = {}
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

    def _system(self, day: _Day) -> str:
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

    def _days_of(self, system: str | None) -> list[_Day]:
        chosen = self._resolve_system(system) if system is not None else self.system
        return [d for d in self._days if chosen is None or self._system(d) == chosen]

    def _day(self, name: str, kind: str) -> _Day:
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

    def _fault_rows(self, day: _Day, path: Path) -> list[dict]:
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ParseError(
                "unreadable JSON",
                source=str(path),
                record=error.lineno,
                expected="{hour: [fault records]}",
                found=error.msg,
            ) from error
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
        files = [p for p in (_find(d.path / "metric", "dependency") for d in days) if p]
        if not files:
            return None
        graph = nx.DiGraph()
        graph.add_nodes_from(sorted(services))
        for path in files:
            for source, target, weight in _dependency_edges(path):
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
        sources = _check_sources(sources)
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
    ) -> TelemetryPeriod:
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
            :class:`~graphad.datasets.base.TelemetryPeriod` (``meta["periods"]`` lists the
            ``(day, start_ns, end_ns)`` ranges).

        Raises:
            GraphadInputError: Unknown day, or the system has no construct day.
        """
        sources = _check_sources(sources)
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
        return TelemetryPeriod(
            system=system_name,
            start_ns=min(p[1] for p in periods),
            end_ns=max(p[2] for p in periods),
            spans=_concat([p["spans"] for p in parts], empty_spans),
            metrics=_concat([p["metrics"] for p in parts], empty_metrics),
            logs=_concat([p["logs"] for p in parts], empty_logs),
            edge_metrics=_concat([p["edge_metrics"] for p in parts], empty_edge_metrics),
            call_graph=self.call_graph(system_name),
            report=report,
            meta=meta,
        )

    def _normal_range(self, day: _Day, sources: tuple[str, ...]) -> tuple[int, int]:
        names = sorted(set().union(*(day.minutes[k] for k in day.minutes)))
        date = pd.to_datetime(day.name, utc=True, errors="coerce", format="%Y-%m-%d")
        if names and pd.notna(date):
            date = date.value
            stamps = [date + (int(n[:2]) * 60 + int(n[3:])) * _MINUTE_NS for n in names]
            return min(stamps) - _MINUTE_NS, max(stamps) + _MINUTE_NS
        metrics, _ = _day_metrics(str(day.path / "metric"), tuple(day.pods))
        ts = metrics["ts_ns"]
        return int(ts.min()), int(ts.max()) + 1

    # ------------------------------------------------------------------ reading
    def _telemetry(self, day: _Day, start: int, end: int, sources: tuple[str, ...]) -> dict:
        report = IngestReport(str(day.path))
        files, missing = [], {"trace": [], "log": []}
        metrics, spans, logs = empty_metrics(), empty_spans(), empty_logs()
        if "metrics" in sources:
            day_frame, fixed = _day_metrics(str(day.path / "metric"), tuple(day.pods))
            ts = day_frame["ts_ns"].to_numpy()
            lo, hi = np.searchsorted(ts, start, "left"), np.searchsorted(ts, end, "left")
            metrics = day_frame.iloc[lo:hi].reset_index(drop=True)
            report.merge(_slice_report(f"{day.path}/metric", metrics, fixed[lo:hi]))
            files.extend(str(day.path / "metric" / f"{p}_metric.csv") for p in day.pods)
        minutes = _minutes_between(start, end)
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

    def _edge_names(self, system: str) -> tuple[str, ...]:
        """The service names that split the edge-metric columns of a system: those of its
        metric files, its fault list and its ``dependency.csv`` files (IPs left out).
        """
        if system not in self._edge_name_cache:
            days = self._days_of(system)
            names = set().union(*(d.services for d in days))
            names |= set(self._faults.loc[self._faults["system"] == system, "root_cause"])
            for path in (_find(d.path / "metric", "dependency") for d in days):
                if path is not None:
                    names |= {n for edge in _dependency_edges(path) for n in edge[:2]}
            self._edge_name_cache[system] = tuple(sorted(names))
        return self._edge_name_cache[system]

    def _edge_metrics(self, day: _Day, start: int, end: int) -> tuple[pd.DataFrame, IngestReport]:
        """The day's edge metrics in ``[start, end)``, empty cells dropped (counted)."""
        files = tuple((stem, str(path)) for stem, path in day.edge_files.items())
        data = _day_edge_metrics(files, self._edge_names(self._system(day)))
        ts = data.frame["ts_ns"].to_numpy()
        lo, hi = np.searchsorted(ts, start, "left"), np.searchsorted(ts, end, "left")
        frame, no_calls, fixed = data.frame.iloc[lo:hi], data.no_calls[lo:hi], data.fixed[lo:hi]
        source = f"{day.path}/metric/{{{','.join(day.edge_files)}}}"
        report = IngestReport(source, n_records=len(frame))
        for name, column, splits in data.unresolved:
            why = "no split" if splits == 0 else f"{splits} splits"
            report.add(
                "unresolved_edge_column",
                1,
                f"{name} column {column!r} ({why} into two known services; left out)",
            )
        if no_calls.any():
            row = frame.iloc[int(np.flatnonzero(no_calls)[0])]
            when = pd.Timestamp(int(row["ts_ns"]), unit="ns", tz="UTC")
            report.add(
                "no_calls",
                int(no_calls.sum()),
                f"{row['metric']} {row['src']}_{row['dst']} at {when:%Y-%m-%d %H:%M:%S}",
            )
        frame = frame[~no_calls].reset_index(drop=True)
        _count_repairs(
            report,
            frame,
            fixed[~no_calls],
            mismatch=lambda row: f"{row['metric']}: timestamp disagrees with time; time used",
            value=lambda row: f"{row['metric']} {row['src']}_{row['dst']}",
        )
        report.n_kept = len(frame)
        return frame, report

    def _spans(self, paths: list[Path], start: int, end: int):
        if not paths:
            return empty_spans(), None
        parts = [_raw_trace(str(p)) for p in paths]
        raw = pd.concat([frame for frame, _ in parts], ignore_index=True)
        begin = pd.to_numeric(raw[NEZHA_SPAN_COLUMNS["start_ns"]], errors="coerce")
        keep = ((begin >= start) & (begin < end)).to_numpy()
        source = f"{paths[0].parent}/{{{','.join(p.name.split('_trace')[0] for p in paths)}}}"
        spans, report = normalize_spans(
            raw.loc[keep],
            NEZHA_SPAN_COLUMNS,
            time_unit="ns",
            end_column=_SPAN_END,
            source=source,
        )
        report.n_records = len(raw)
        report.add("outside_time_range", int((~keep).sum()), "spans of neighbouring minutes")
        _add_read_repairs(report, parts)
        return spans, report

    def _logs(self, paths: list[Path], start: int, end: int, day: _Day):
        if not paths:
            return empty_logs(), None
        parts = [_raw_log(str(p)) for p in paths]
        raw = pd.concat([frame for frame, _ in parts], ignore_index=True)
        ts = pd.to_numeric(raw["TimeUnixNano"], errors="coerce")
        keep = ((ts >= start) & (ts < end)).to_numpy()
        source = f"{paths[0].parent}/{{{','.join(p.name.split('_log')[0] for p in paths)}}}"
        if not keep.any():
            report = IngestReport(source, n_records=len(raw))
            report.add("outside_time_range", len(raw), "lines of neighbouring minutes")
            return empty_logs(), _add_read_repairs(report, parts)
        logs, report = read_logs(
            raw.loc[keep].reset_index(drop=True),
            "table",
            columns={"ts_ns": "TimeUnixNano", "node": "PodName", "message": "Log"},
            time_unit="ns",
            json_field="log.message",
            miner=_drain_miner(self._drain_config(day)),
        )
        report.source = source
        report.n_records = len(raw)
        report.add("outside_time_range", int((~keep).sum()), "lines of neighbouring minutes")
        return logs, _add_read_repairs(report, parts)

    def _drain_config(self, day: _Day) -> Path | None:
        system = self._system(day)
        path = self.root / "log_template" / f"drain3_{system}.ini"
        return path if path.is_file() else None


def _add_read_repairs(
    report: IngestReport, parts: list[tuple[pd.DataFrame, IngestReport]]
) -> IngestReport:
    """Add what reading the files repaired (e.g. ``malformed_row``) to ``report``."""
    for _, read in parts:
        report.n_records += read.n_records
        name = Path(read.source).name
        for kind, n in read.counts.items():
            examples = read.examples.get(kind) or [None]
            report.add(kind, n, f"{name} {examples[0]}" if examples[0] else name)
    return report


def _dependency_edges(path: Path) -> list[tuple[str, str, float]]:
    frame = _read_csv(path, dtype=str, keep_default_na=False)
    if frame.shape[1] < 2:
        raise ParseError(
            "dependency file has fewer than two columns",
            source=str(path),
            expected="Source,Target[,Weight]",
            found=f"columns {list(frame.columns)}",
        )
    source, target = frame.columns[0], frame.columns[1]
    weights = (
        pd.to_numeric(frame["Weight"], errors="coerce").fillna(1.0)
        if "Weight" in frame.columns
        else pd.Series(1.0, index=frame.index)
    )
    edges = []
    for s, t, w in zip(frame[source].str.strip(), frame[target].str.strip(), weights, strict=False):
        if _is_ip(t) or _is_ip(s):
            continue
        edges.append((s, t, float(w)))
    return edges


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split(":")[0] if text.count(":") == 1 else text)
    except ValueError:
        return False
    return True


def _slice_report(source: str, metrics: pd.DataFrame, fixed: np.ndarray) -> IngestReport:
    """The report of a slice of a day's metrics: non-finite values and repaired times."""
    report = IngestReport(source, n_records=len(metrics), n_kept=len(metrics))
    _count_repairs(
        report,
        metrics,
        fixed,
        mismatch=lambda row: f"{row['node']}: TimeStamp disagrees with Time; Time used",
        value=lambda row: f"{row['node']} {row['metric']}",
    )
    return report


def _count_repairs(
    report: IngestReport,
    samples: pd.DataFrame,
    fixed: np.ndarray,
    *,
    mismatch: Callable[[pd.Series], str],
    value: Callable[[pd.Series], str],
) -> None:
    """Count a slice's repaired times and non-finite values in ``report``.

    The example of each names its first row, through ``mismatch(row)`` / ``value(row)``.
    """
    if fixed.any():
        row = samples.iloc[int(np.flatnonzero(fixed)[0])]
        report.add("timestamp_mismatch", int(fixed.sum()), mismatch(row))
    missing = samples["value"].isna().to_numpy()
    if missing.any():
        row = samples.iloc[int(np.flatnonzero(missing)[0])]
        report.add("non_finite_value", int(missing.sum()), value(row))


def _check_sources(sources: Iterable[str]) -> tuple[str, ...]:
    sources = (sources,) if isinstance(sources, str) else tuple(sources)
    allowed = SOURCES
    for item in sources:
        if item not in allowed:
            raise GraphadInputError(
                "unknown telemetry source",
                field="sources",
                expected=f"some of {list(allowed)}",
                found=repr(item),
            )
    return sources


def _concat(frames: list[pd.DataFrame], empty) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else empty()
