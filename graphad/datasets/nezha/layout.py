"""Where the files of a Nezha dataset are: day folders, file names, columns.

See :mod:`graphad.datasets.nezha` for the layout.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from graphad.exceptions import GraphadInputError
from graphad.graph.rules import k8s_service

__all__ = [
    "NEZHA_SPAN_COLUMNS",
    "EDGE_METRIC_FILES",
    "SOURCES",
    "SYSTEM_ALIASES",
    "Day",
    "find_file",
    "scan_day",
    "minute_name",
    "minutes_between",
    "is_ip",
    "check_sources",
]

#: Canonical span field -> Nezha trace column (the end time gives the duration).
NEZHA_SPAN_COLUMNS = {
    "trace_id": "TraceID",
    "span_id": "SpanID",
    "parent_id": "ParentID",
    "service": "PodName",
    "operation": "OperationName",
    "start_ns": "StartTimeUnixNano",
}
SPAN_END = "EndTimeUnixNano"
#: Stems of the per-edge metric files of a day's ``metric/`` folder (columns ``time,
#: timestamp, <caller>_<callee>, ...``); the stem is the metric name in ``edge_metrics``.
EDGE_METRIC_FILES = ("source_50", "destination_50")
#: The telemetry sources a case or a normal period can read (the default: all of them).
SOURCES = ("metrics", "spans", "logs", "edge_metrics")
EDGE_TIME_COLUMNS = ("time", "timestamp")
#: Readable names accepted for the upstream tags (names only; no logic depends on them).
SYSTEM_ALIASES = {"onlineboutique": "hipster", "trainticket": "ts"}
NON_METRIC_COLUMNS = ("Time", "TimeStamp", "PodName")
CSV_SUFFIX = r"\.csv(?:\.(?:xz|gz|bz2|zst))?$"
METRIC_FILE = re.compile(r"^(?P<pod>.+)_metric" + CSV_SUFFIX)
MINUTE_FILE = re.compile(r"^(?P<hh>\d{2})_(?P<mm>\d{2})_(?P<kind>trace|log|traceid)" + CSV_SUFFIX)
MINUTE_NS = 60 * 1_000_000_000
#: Raw trace / log minute files a dataset object keeps in memory (most recent first).
CACHE_FILES = 24


@dataclass
class Day:
    """One day folder: where its files are and which pods and services it has."""

    name: str
    path: Path
    kind: str  # "rca" or "construct"
    pods: list[str]
    services: frozenset
    minutes: dict[str, dict[str, Path]] = field(default_factory=dict)  # kind -> HH_MM -> path
    edge_files: dict[str, Path] = field(default_factory=dict)  # EDGE_METRIC_FILES stem -> path


def find_file(folder: Path, stem: str) -> Path | None:
    """The CSV file ``<stem>.csv`` (or a compressed one) in ``folder``, if any."""
    for path in sorted(folder.glob(stem + ".csv*")):
        if re.search(CSV_SUFFIX, path.name):
            return path
    return None


def scan_day(path: Path, kind: str) -> Day | None:
    """The :class:`Day` of a day folder, ``None`` when it has no metric file."""
    metric_dir = path / "metric"
    pods = []
    if metric_dir.is_dir():
        for file in sorted(metric_dir.iterdir()):
            match = METRIC_FILE.match(file.name)
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
            match = MINUTE_FILE.match(file.name)
            if match and match.group("kind") == sub:
                minutes[sub][f"{match.group('hh')}_{match.group('mm')}"] = file
    services = frozenset(k8s_service(pods).tolist())
    edge_files = {stem: find_file(metric_dir, stem) for stem in EDGE_METRIC_FILES}
    edge_files = {stem: file for stem, file in edge_files.items() if file is not None}
    return Day(path.name, path, kind, pods, services, minutes, edge_files)


def minute_name(ns: int) -> str:
    """``HH_MM`` of a time (ns UTC), as minute files are named."""
    stamp = pd.Timestamp(int(ns), unit="ns", tz="UTC")
    return f"{stamp.hour:02d}_{stamp.minute:02d}"


def minutes_between(start_ns: int, end_ns: int) -> list[str]:
    """Names of the minute files that can hold spans starting in ``[start_ns, end_ns)``."""
    first = start_ns // MINUTE_NS
    last = (end_ns - 1) // MINUTE_NS + 1
    return [minute_name(m * MINUTE_NS) for m in range(first, last + 1)]


def is_ip(text: str) -> bool:
    """Whether ``text`` is an IP address (optionally with a port)."""
    try:
        ipaddress.ip_address(text.split(":")[0] if text.count(":") == 1 else text)
    except ValueError:
        return False
    return True


def check_sources(sources: Iterable[str]) -> tuple[str, ...]:
    """The telemetry sources asked for, checked against :data:`SOURCES`."""
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
