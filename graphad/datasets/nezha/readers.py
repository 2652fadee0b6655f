"""Readers of Nezha's files: per-pod metrics, wide edge metrics, trace and log minutes.

Each returns canonical frames (:mod:`graphad.ingest.schema`) with their repairs counted;
nothing is cached here: :class:`~graphad.datasets.nezha.Nezha` keeps what it read in a
:class:`FrameCache` of its own.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from graphad.datasets.nezha.layout import (
    EDGE_TIME_COLUMNS,
    NEZHA_SPAN_COLUMNS,
    NON_METRIC_COLUMNS,
    SPAN_END,
    find_file,
    is_ip,
)
from graphad.exceptions import GraphadInputError, ParseError
from graphad.ingest.io import read_table
from graphad.ingest.metrics import read_edge_metrics
from graphad.ingest.report import IngestReport
from graphad.ingest.schema import empty_edge_metrics, empty_metrics, normalize_metrics
from graphad.ingest.time import to_ns
from graphad.utils import import_optional

__all__ = [
    "FrameCache",
    "read_csv",
    "metric_times",
    "read_day_metrics",
    "split_edge",
    "EdgeDay",
    "read_day_edge_metrics",
    "read_trace_file",
    "read_log_file",
    "add_read_repairs",
    "drain_miner",
    "dependency_edges",
    "slice_report",
    "count_repairs",
    "concat_frames",
]


class FrameCache:
    """Frames read by one dataset object, the least recently used dropped first.

    Args:
        maxsize: Entries kept.

    Example:
        >>> cache = FrameCache(1)
        >>> cache.get("a", lambda: 1), cache.get("a", lambda: 2), cache.get("b", lambda: 3)
        (1, 1, 3)
        >>> len(cache)
        1
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable, read: Callable[[], Any]) -> Any:
        """The entry for ``key``, read with ``read()`` the first time."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = read()
        self._items[key] = value
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)


def read_csv(path: Path, report: IngestReport | None = None, **kwargs) -> pd.DataFrame:
    """``pd.read_csv`` whose failures are a :class:`ParseError` naming the file.

    With a ``report``, rows of the wrong field count (a record cut short, the next glued
    on) are dropped and counted there (``malformed_row``, by
    :func:`graphad.ingest.io.read_table`) and the rest is read.
    """
    try:
        return pd.read_csv(path, **kwargs)
    except pd.errors.ParserError as error:
        if report is None or "Expected" not in str(error):
            raise _unreadable(path, error) from error
        return read_table(path, report=report, **kwargs)
    except (UnicodeDecodeError, EOFError, OSError) as error:
        raise _unreadable(path, error) from error


def _unreadable(path: Path, error: Exception) -> ParseError:
    return ParseError(
        "unreadable CSV file",
        source=str(path),
        expected="a CSV table",
        found=f"{type(error).__name__}: {error}",
    )


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


def read_day_metrics(metric_dir: str, pods: tuple[str, ...]) -> tuple[pd.DataFrame, np.ndarray]:
    """All metric samples of a day, long and sorted by time (read once, cached).

    Returns the frame and a bool array marking samples whose time was repaired.
    """
    frames, repaired = [], []
    for pod in pods:
        path = find_file(Path(metric_dir), f"{pod}_metric")
        raw = read_csv(path)
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
        names = [c for c in raw.columns if c not in NON_METRIC_COLUMNS]
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


def split_edge(column: str, names: frozenset) -> list[tuple[str, str]]:
    """Every split of ``<caller>_<callee>`` at an ``_`` where both halves are in ``names``.

    Example:
        >>> split_edge("front_end_cart", frozenset({"front_end", "front", "end_cart", "cart"}))
        [('front', 'end_cart'), ('front_end', 'cart')]
        >>> split_edge("frontend_cart", frozenset({"frontend", "cart"}))
        [('frontend', 'cart')]
    """
    splits = []
    for i, char in enumerate(column):
        if char == "_" and column[:i] in names and column[i + 1 :] in names:
            splits.append((column[:i], column[i + 1 :]))
    return splits


#: Joins caller and callee in the column names handed to :func:`read_edge_metrics` (no
#: service name holds it).
_EDGE_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class EdgeDay:
    """A day's edge metrics, long and sorted by time, before the case slices it.

    ``frame`` holds the samples (:func:`graphad.ingest.read_edge_metrics` read them);
    ``fixed`` flags samples whose time was repaired; ``absent`` lists the empty cells (no
    call in that minute: ``ts_ns, src, dst, metric``, sorted by time) so that a slice can
    count them; ``unresolved`` names the columns left out, as ``(file name, column,
    number of splits into two known names)``.
    """

    frame: pd.DataFrame
    fixed: np.ndarray
    absent: pd.DataFrame
    unresolved: tuple[tuple[str, str, int], ...]


def read_day_edge_metrics(files: tuple[tuple[str, str], ...], names: tuple[str, ...]) -> EdgeDay:
    """All edge-metric samples of a day.

    A column ``<caller>_<callee>`` is split where both halves are in ``names`` (service
    names may hold ``_`` themselves); times are checked against the ``time`` column
    (:func:`metric_times`); the wide table is then read by
    :func:`graphad.ingest.read_edge_metrics`.

    Args:
        files: ``(metric name, path)`` of each edge-metric file of the day.
        names: The known service names that column names are split by.

    Raises:
        ParseError: A file lacks its ``timestamp`` column or holds a column of text.
        GraphadInputError: A timestamp is not a number.
    """
    known = frozenset(names)
    parts, unresolved = [], []
    for metric, path in files:
        raw = read_csv(Path(path), dtype=str, keep_default_na=False)
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
            if column in EDGE_TIME_COLUMNS:
                continue
            splits = split_edge(str(column), known)
            if len(splits) == 1:
                edges.append((column, *splits[0]))
            else:
                unresolved.append((Path(path).name, str(column), len(splits)))
        wide = pd.DataFrame({"timestamp": stamps})
        for column, src, dst in edges:
            wide[f"{src}{_EDGE_SEPARATOR}{dst}"] = raw[column].to_numpy(dtype=object)
        frame, _ = read_edge_metrics(
            wide,
            "wide",
            separator=_EDGE_SEPARATOR,
            metric=metric,
            time_unit="s",
            time_column="timestamp",
        )
        n, k = len(raw), len(edges)
        text = raw[[c for c, _, _ in edges]].to_numpy(dtype=object)
        empty = pd.DataFrame(text).apply(lambda c: c.astype(str).str.strip().eq(""))
        empty = empty.to_numpy(dtype=bool).reshape(n, k)
        order = np.argsort(stamps, kind="stable")  # the reader's order: time, row, column
        kept = (~empty)[order]
        if int(kept.sum()) != len(frame):
            raise ParseError(
                "edge metric file holds a column that is not numbers",
                source=path,
                expected="numbers or empty cells in every edge column",
                found=f"{len(frame)} samples read of {int(kept.sum())} filled cells",
            )
        sample_fixed = np.repeat(fixed[order], kept.sum(axis=1))
        cells = empty.reshape(-1)
        absent = pd.DataFrame(
            {
                "ts_ns": to_ns(pd.Series(np.repeat(stamps, k)[cells]), "s"),
                "src": np.tile(np.array([s for _, s, _ in edges], dtype=object), n)[cells],
                "dst": np.tile(np.array([d for _, _, d in edges], dtype=object), n)[cells],
                "metric": metric,
            }
        )
        absent = absent.iloc[np.argsort(absent["ts_ns"].to_numpy(), kind="stable")]
        parts.append((frame, sample_fixed, absent))
    if not parts:
        return EdgeDay(empty_edge_metrics(), np.zeros(0, bool), _no_absent(), ())
    frame = pd.concat([p[0] for p in parts], ignore_index=True)
    order = np.argsort(frame["ts_ns"].to_numpy(), kind="stable")
    absent = pd.concat([p[2] for p in parts], ignore_index=True)
    absent = absent.iloc[np.argsort(absent["ts_ns"].to_numpy(), kind="stable")]
    return EdgeDay(
        frame.iloc[order].reset_index(drop=True),
        np.concatenate([p[1] for p in parts])[order],
        absent.reset_index(drop=True),
        tuple(unresolved),
    )


def _no_absent() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts_ns": np.zeros(0, np.int64),
            "src": np.zeros(0, object),
            "dst": np.zeros(0, object),
            "metric": np.zeros(0, object),
        }
    )


def read_trace_file(path: str) -> tuple[pd.DataFrame, IngestReport]:
    """The span columns of one trace minute file, as text, and what reading repaired."""
    columns = [*NEZHA_SPAN_COLUMNS.values(), SPAN_END]
    read = IngestReport(path)
    frame = read_csv(
        Path(path),
        read,
        dtype={c: str for c in columns[:5]},
        usecols=lambda c: c in columns,
        keep_default_na=False,
    )
    return frame, read


def read_log_file(path: str) -> tuple[pd.DataFrame, IngestReport]:
    """The ``TimeUnixNano, PodName, Log`` columns of one log minute file, as text, and what
    reading repaired.
    """
    read = IngestReport(path)
    frame = read_csv(Path(path), read, dtype=str, keep_default_na=False)
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


def add_read_repairs(
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


def drain_miner(config: Path | None):
    """A Drain3 miner configured by the dataset's own ``drain3_<tag>.ini``, if any."""
    if config is None:
        return None  # read_logs then builds graphad's default miner
    drain3 = import_optional("drain3", "logs")
    from drain3.template_miner_config import TemplateMinerConfig

    settings = TemplateMinerConfig()
    settings.load(str(config))
    settings.profiling_enabled = False
    return drain3.TemplateMiner(config=settings)


def slice_report(source: str, metrics: pd.DataFrame, fixed: np.ndarray) -> IngestReport:
    """The report of a slice of a day's metrics: non-finite values and repaired times."""
    report = IngestReport(source, n_records=len(metrics), n_kept=len(metrics))
    count_repairs(report, metrics, fixed, "metrics")
    return report


#: How a repaired sample is named in the report, per kind of samples:
#: ``(timestamp mismatch example, non-finite value example)`` from the sample's row.
_REPAIR_EXAMPLES: dict[str, tuple[Callable[[pd.Series], str], Callable[[pd.Series], str]]] = {
    "metrics": (
        lambda row: f"{row['node']}: TimeStamp disagrees with Time; Time used",
        lambda row: f"{row['node']} {row['metric']}",
    ),
    "edge_metrics": (
        lambda row: f"{row['metric']}: timestamp disagrees with time; time used",
        lambda row: f"{row['metric']} {row['src']}_{row['dst']}",
    ),
}


def count_repairs(
    report: IngestReport, samples: pd.DataFrame, fixed: np.ndarray, kind: str
) -> None:
    """Count a slice's repaired times and non-finite values in ``report``.

    Args:
        report: Where to count.
        samples: The slice (``metrics`` or ``edge_metrics``, canonical).
        fixed: ``[len(samples)]`` bool, the samples whose time was repaired.
        kind: ``"metrics"`` or ``"edge_metrics"``: how the example of each names its
            first row.
    """
    mismatch, value = _REPAIR_EXAMPLES[kind]
    if fixed.any():
        row = samples.iloc[int(np.flatnonzero(fixed)[0])]
        report.add("timestamp_mismatch", int(fixed.sum()), mismatch(row))
    missing = samples["value"].isna().to_numpy()
    if missing.any():
        row = samples.iloc[int(np.flatnonzero(missing)[0])]
        report.add("non_finite_value", int(missing.sum()), value(row))


def concat_frames(frames: list[pd.DataFrame], empty) -> pd.DataFrame:
    """The non-empty frames concatenated, else ``empty()``."""
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else empty()


def dependency_edges(path: Path) -> list[tuple[str, str, float]]:
    """``(source, target, weight)`` rows of a ``dependency.csv`` (IP ends left out)."""
    frame = read_csv(path, dtype=str, keep_default_na=False)
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
        if is_ip(t) or is_ip(s):
            continue
        edges.append((s, t, float(w)))
    return edges
