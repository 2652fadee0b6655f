"""Spans of any size -> a :class:`~graphad.graph.dynamic.DynamicGraph`, on Dask.

The single-process builder (:func:`graphad.graph.build_dynamic_graph`) holds every span in
memory. This engine reads many files (or the partitions of a Dask DataFrame) in parallel,
keeps per partition only the columns the graph needs, and reduces them to small mergeable
tables (:mod:`graphad.graph.scale.partials`): counts, error counts and latency sums per (step,
node) and per (step, caller, callee), and DDSketch bucket counts for the latency quantiles.
Partials merge by addition in a tree reduction, and the merged tables are cut into the same
windows as the single-process builder makes.

Exactness: counts, error counts, sums and means (node and edge features, presence, the
``meta`` counts) are identical to the single-process builder on the concatenation of the
same files in the same order; the p50 / p90 / p99 latencies are the sketch's answers, within
``relative_accuracy`` of the value of the rank ``floor(q * (n - 1))`` (the single-process
builder interpolates between that value and the next one).

Parent -> child joins: a call edge needs the parent span of each span, which may sit in
another file. The spans are therefore shuffled on ``trace_id`` (Dask's shuffle; with a
``distributed`` cluster its peer-to-peer shuffle, which spills to disk) so that each
partition holds whole traces; within a partition spans keep their original order, so that
with repeated ``(trace, span)`` ids the first one is the parent, as in one process.

Ingestion report: each file is read by :func:`graphad.ingest.read_traces`, and the report
is the sum of the files' reports (``graph.meta["ingest"]``). Per-file checks stay per
file: a span whose parent is in another file counts as ``orphan_span`` of its own file even
though the graph joins it to its parent.

Only spans at ``granularity="entity"`` are built this way; metrics, logs and edge metrics
are small next to spans and go through the single-process builder.
"""

from __future__ import annotations

import glob
import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from graphad.exceptions import GraphadInputError, UnknownNodeError
from graphad.graph import features as feat
from graphad.graph.dynamic import DynamicGraph
from graphad.graph.rules import resolve_node_rule
from graphad.graph.scale.partials import (
    EDGES,
    NODES,
    SKETCH,
    empty_partials,
    narrow_spans,
    span_partials,
)
from graphad.graph.scale.sketch import sketch_mapping, sketch_quantiles
from graphad.graph.vocab import NodeVocab
from graphad.graph.window import WindowSpec
from graphad.ingest.report import IngestReport
from graphad.ingest.telemetry import Telemetry

__all__ = ["build_dynamic_graph_dask", "run_engine", "span_files", "base_grid"]

_KEYS = ["table", "step", "node", "caller", "key"]
_VALUES = ["present", "req", "err", "dur"]
_QUANTILES = (0.5, 0.9, 0.99)
_NS_PER_MS = 1e6
_SPAN_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq", ".json", ".jsonl", ".ndjson")


def _require_dask():
    try:
        import dask
        import dask.dataframe as dd
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "engine='dask' needs dask[dataframe] and distributed: pip install 'graphad[dask]'"
        ) from error
    return dask, dd


def span_files(source: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    """The span files of a path, a directory (its span files, sorted), a glob or a list.

    Raises:
        GraphadInputError: Nothing matches.

    Example:
        >>> span_files([])  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        ...
        graphad.exceptions.GraphadInputError: no span files found
    """
    items = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    files: list[str] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            files += sorted(
                str(p)
                for p in path.rglob("*")
                if p.is_file() and any(s in p.suffixes for s in _SPAN_SUFFIXES)
            )
        elif path.exists():
            files.append(str(path))
        else:
            files += sorted(glob.glob(str(item)))
    if not files:
        raise GraphadInputError(
            "no span files found",
            field="source",
            expected="a file, a directory of span files or a glob",
            found=repr([str(i) for i in items]),
        )
    return files


def base_grid(spec: WindowSpec, start_ns: int | None, end_ns: int | None) -> tuple[int, int]:
    """``(base, phase)``: the coarsest grid whose boundaries include every step boundary
    of every window, and the start and end of the data.

    Example:
        >>> base_grid(WindowSpec.of(6, stride=4, step=2), None, None)
        (2, 0)
        >>> base_grid(WindowSpec.of(6, stride=2, step=2), 3, None)
        (1, 0)
    """
    origin = spec.anchor if spec.anchor is not None else 0
    points = [p for p in (start_ns, end_ns) if p is not None]
    base = math.gcd(spec.size, spec.stride, spec.step, *(int(p) - origin for p in points))
    return base, origin % base


def _read_file(path: str, partition: int, node_rule, read_options: dict):
    """Read one file into narrow spans and its report (runs on a worker)."""
    from graphad.ingest.traces import read_traces

    spans, report = read_traces(path, **read_options)
    return narrow_spans(spans, resolve_node_rule(node_rule), partition), report


def _first(pair):
    return pair[0]


def _second(pair):
    return pair[1]


def _sum_reports(reports: list[IngestReport]) -> IngestReport:
    total = IngestReport()
    for report in reports:
        total.merge(report)
    return total


def _narrow_meta() -> pd.DataFrame:
    return narrow_spans(
        pd.DataFrame(
            {
                "trace_id": pd.Series([], dtype="str"),
                "span_id": pd.Series([], dtype="str"),
                "parent_id": pd.Series([], dtype="str"),
                "service": pd.Series([], dtype="str"),
                "start_ns": pd.Series([], dtype=np.int64),
                "duration_ns": pd.Series([], dtype=np.int64),
                "status": pd.Series([], dtype=np.int8),
            }
        ),
        resolve_node_rule("identity"),
        0,
    )


def _narrow_partition(frame: pd.DataFrame, node_rule, partition_info=None) -> pd.DataFrame:
    number = partition_info["number"] if partition_info else 0
    return narrow_spans(frame, resolve_node_rule(node_rule), number)


def _inputs(spans, node_rule, read_options: dict, npartitions: int | None):
    """``(narrow dask frame, delayed report or None)`` for every kind of input."""
    dask, dd = _require_dask()
    if isinstance(spans, Telemetry):
        others = [k for k in ("metrics", "logs", "edge_metrics") if len(getattr(spans, k))]
        if others:
            raise GraphadInputError(
                "engine='dask' builds from spans only",
                field=others[0],
                expected="a Telemetry without metrics, logs and edge metrics",
                found=f"{len(getattr(spans, others[0]))} rows",
            )
        spans = spans.spans
    if isinstance(spans, pd.DataFrame):
        narrow = narrow_spans(spans, resolve_node_rule(node_rule), 0)
        parts = npartitions or max(1, len(narrow) // 1_000_000)
        return dd.from_pandas(narrow, npartitions=parts, sort=False), None
    if isinstance(spans, dd.DataFrame):
        return spans.map_partitions(_narrow_partition, node_rule, meta=_narrow_meta()), None
    files = span_files(spans)
    reads = [
        dask.delayed(_read_file, pure=True)(path, i, node_rule, read_options)
        for i, path in enumerate(files)
    ]
    narrow = dd.from_delayed(
        [dask.delayed(_first)(r) for r in reads], meta=_narrow_meta(), verify_meta=False
    )
    report = dask.delayed(_sum_reports)([dask.delayed(_second)(r) for r in reads])
    return narrow, report


def build_dynamic_graph_dask(
    spans,
    *,
    spec: WindowSpec,
    client=None,
    node_rule=None,
    vocab: NodeVocab | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
    relative_accuracy: float = 0.01,
    npartitions: int | None = None,
    split_every: int = 8,
    max_steps: int = 500_000,
    format: str = "auto",
    columns: dict | None = None,
    time_unit: str = "auto",
    end_column: str | None = None,
) -> DynamicGraph:
    """Build the entity graph of spans on Dask (see the module notes).

    Args:
        spans: Span files (a path, a directory, a glob or a list of them, each read with
            :func:`graphad.ingest.read_traces`), a Dask DataFrame or a pandas DataFrame of
            canonical spans, or a :class:`~graphad.ingest.telemetry.Telemetry` (spans only).
        spec: How to cut windows.
        client: A ``distributed.Client``; ``None``: Dask's current scheduler.
        node_rule: As :func:`graphad.graph.build_dynamic_graph` (``None``: the telemetry's
            rule, else ``"identity"``); a callable must be picklable.
        vocab: Fixes the node set and order (as the single-process builder).
        start_ns: Start of the first window (default: the earliest span, on the grid).
        end_ns: Exclusive end of the data (default: after the latest span, on the grid).
        relative_accuracy: Relative accuracy of the latency quantiles (DDSketch ``alpha``).
        npartitions: Partitions after the shuffle on ``trace_id`` (default: as many as
            the input has).
        split_every: Fan-in of the tree reduction of the partials.
        max_steps: Refuse time ranges of more steps than this.
        format: Trace format of the files (:data:`graphad.ingest.traces.TRACE_FORMATS`).
        columns: Column mapping for span tables (as :func:`graphad.ingest.read_traces`).
        time_unit: Time unit for span tables.
        end_column: End-time column for span tables without a duration.

    Returns:
        The :class:`~graphad.graph.dynamic.DynamicGraph` the single-process builder makes
        (quantiles from the sketch); ``meta`` adds ``engine``, ``relative_accuracy``,
        ``partitions`` and, for files, ``ingest`` (the summed report as a dict).

    Raises:
        GraphadInputError: No spans, a bad option or a range shorter than one window.
        UnknownNodeError: A node is not in ``vocab`` and its rule is ``"error"``.
    """
    from graphad.graph import build as single

    dask, _ = _require_dask()
    single._check_options(spec, "entity", "ffill", "node", None)
    if node_rule is None:
        node_rule = spans.node_rule if isinstance(spans, Telemetry) else "identity"
    mapping = sketch_mapping(relative_accuracy)
    base, phase = base_grid(spec, start_ns, end_ns)
    read_options = {
        "format": format,
        "columns": columns,
        "time_unit": time_unit,
        "end_column": end_column,
    }
    narrow, report = _inputs(spans, node_rule, read_options, npartitions)
    parts = npartitions or narrow.npartitions
    if parts > 1:
        narrow = narrow.shuffle(on="trace_id", npartitions=parts)
    partials = narrow.map_partitions(span_partials, phase, base, mapping, meta=empty_partials())
    merged = partials.groupby(_KEYS, sort=False).sum(split_every=split_every)
    todo = [merged] if report is None else [merged, report]
    with warnings.catch_warnings():  # the reads are shared by the frame and the reports
        warnings.filterwarnings("ignore", "Computing mixed collections", UserWarning)
        if client is not None:
            results = client.gather(client.compute(todo))
        else:
            results = dask.compute(*todo)
    table = results[0].reset_index()
    meta_extra = {
        "engine": "dask",
        "relative_accuracy": float(relative_accuracy),
        "partitions": int(parts),
    }
    if report is not None:
        meta_extra["ingest"] = results[1].to_dict()
    return assemble_graph(
        table,
        spec=spec,
        base=base,
        phase=phase,
        mapping=mapping,
        node_rule=node_rule,
        vocab=vocab,
        start_ns=start_ns,
        end_ns=end_ns,
        max_steps=max_steps,
        meta_extra=meta_extra,
    )


def run_engine(engine: str, client, spans, others: dict, *, granularity: str, **options):
    """What ``build_dynamic_graph(..., engine=...)`` runs for an engine other than pandas.

    Raises:
        GraphadInputError: An unknown engine, or options the engine does not support
            (``others``: metrics, logs, edge metrics or a fixed feature list).
    """
    given = [name for name, value in others.items() if value is not None]
    if engine != "dask" or granularity != "entity" or given:
        raise GraphadInputError(
            f"engine={engine!r} with these options is not supported",
            field="engine" if engine != "dask" else (given or ["granularity"])[0],
            expected="'pandas', or 'dask' with spans only at granularity='entity'",
            found=f"{engine!r}, granularity={granularity!r}, also given: {given}",
        )
    return build_dynamic_graph_dask(spans, client=client, **options)


# --------------------------------------------------------------------------- assembly
def assemble_graph(
    table: pd.DataFrame,
    *,
    spec: WindowSpec,
    base: int,
    phase: int,
    mapping,
    node_rule,
    vocab: NodeVocab | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
    max_steps: int = 500_000,
    meta_extra: dict | None = None,
) -> DynamicGraph:
    """Merged partial tables -> the windows of the single-process builder.

    Args:
        table: Partials (:data:`graphad.graph.scale.partials.PARTIAL_COLUMNS`), merged or not.
        spec: How to cut windows.
        base: Base step the partials were made on.
        phase: A base-step boundary (ns).
        mapping: The sketch's key mapping.
        node_rule: The node rule (recorded in ``meta``).
        vocab: Fixes the node set and order.
        start_ns: Start of the first window.
        end_ns: Exclusive end of the data.
        max_steps: Refuse longer ranges.
        meta_extra: Added to ``meta``.

    Returns:
        The :class:`~graphad.graph.dynamic.DynamicGraph`.
    """
    from graphad.graph import build as single

    kind = table["table"].to_numpy()
    nodes = table[kind == NODES]
    if nodes.empty:
        raise GraphadInputError(
            "no spans to build a graph from",
            field="spans",
            expected="at least one span",
            found="0 spans",
        )
    steps = nodes["step"].to_numpy(np.int64)
    first_ts = int(steps.min()) * base + phase
    last_ts = (int(steps.max()) + 1) * base + phase - 1  # same grid step as the latest span
    start = int(start_ns) if start_ns is not None else spec.grid_start(first_ts)
    end = int(end_ns) if end_ns is not None else spec.grid_end(last_ts + 1)
    span_steps = -(-(end - start) // spec.step)
    if span_steps > max_steps:
        raise GraphadInputError(
            f"time range of {span_steps} steps is longer than max_steps={max_steps}; is a "
            "timestamp wrong? pass start_ns/end_ns or a larger max_steps",
            source="spans",
            field="start_ns/end_ns",
            expected=f"at most {max_steps} steps of {spec.step} ns",
            found=f"[{start}, {end})",
        )
    bounds = spec.window_bounds(start, end)
    if len(bounds) == 0:
        raise GraphadInputError(
            "time range shorter than one window",
            field="spec.size",
            expected=f"at most end - start = {end - start} ns",
            found=spec.size,
        )
    found = sorted(set(nodes["node"].astype(str)))
    if vocab is None:
        entity_vocab = NodeVocab(found)
    else:
        entity_vocab = NodeVocab.from_dict(vocab.to_dict())
    try:
        codes = entity_vocab.encode(found)
    except UnknownNodeError as error:
        raise UnknownNodeError(
            error.problem,
            source="spans",
            field=error.field,
            expected=error.expected,
            found=error.found,
        ) from None
    lookup = dict(zip(found, codes, strict=True))
    present = nodes["present"].to_numpy(np.int64)
    node_ids = _ids(nodes["node"], lookup)
    begin = steps * base + phase
    inside = (begin >= start) & (begin < end)
    meta = {
        "granularity": "entity",
        "node_rule": node_rule
        if isinstance(node_rule, str)
        else getattr(node_rule, "__name__", repr(node_rule)),
        "start_ns": start,
        "end_ns": end,
        "sources": ["spans"],
        "outside_range": {"spans": int(present[~inside].sum())},
        "dropped_unknown": {"spans": int(present[node_ids < 0].sum())},
        "dropped_features": {},
        **(meta_extra or {}),
    }
    merged = _MergedTables(table, lookup, len(entity_vocab), base, phase, mapping)
    windows = single._entity_windows(merged, bounds, spec, start)
    return DynamicGraph(
        entity_vocab, windows, merged.feature_names, merged.edge_feature_names, spec, meta
    )


class _MergedTables:
    """The ``compute`` of the single-process builder's tables, from merged partials."""

    feature_names = list(feat.SPAN_FEATURES)
    edge_feature_names = list(feat.EDGE_FEATURES)

    def __init__(self, table: pd.DataFrame, lookup: dict, num_entities: int, base, phase, mapping):
        self.num_entities = num_entities
        self.base, self.phase, self.mapping = int(base), int(phase), mapping
        kind = table["table"].to_numpy()
        self.parts = {}
        for code in (NODES, SKETCH, EDGES):
            part = table[kind == code]
            self.parts[code] = {
                "step": part["step"].to_numpy(np.int64),
                "node": _ids(part["node"], lookup),
                "caller": _ids(part["caller"], lookup) if code == EDGES else None,
                "key": part["key"].to_numpy(np.int64),
                **{c: part[c].to_numpy(np.int64) for c in _VALUES},
            }

    def _steps(self, step: np.ndarray, origin: int, step_ns: int, num_steps: int) -> np.ndarray:
        shift = origin - self.phase
        if shift % self.base or step_ns % self.base:  # cannot happen with base_grid
            raise GraphadInputError(
                "window grid is not on the partials' base grid",
                field="spec",
                expected=f"boundaries on {self.phase} + k * {self.base}",
                found=f"origin {origin}, step {step_ns}",
            )
        return feat.step_ids(step * self.base + self.phase, origin, step_ns, num_steps)

    def compute(self, origin: int, step: int, num_steps: int) -> dict:
        """Dense ``[S, N, F]`` features, presence and the edge table on one grid."""
        n = self.num_entities
        size = num_steps * n
        nodes = self.parts[NODES]
        s = self._steps(nodes["step"], origin, step, num_steps)
        ok = (s >= 0) & (nodes["node"] >= 0)
        group = s[ok] * n + nodes["node"][ok]
        present = np.bincount(group, weights=nodes["present"][ok], minlength=size)
        req = np.bincount(group, weights=nodes["req"][ok], minlength=size)
        err = np.bincount(group, weights=nodes["err"][ok], minlength=size)
        # int64 sums, then float: the same value as the single process's float sum
        dur = np.zeros(size, dtype=np.int64)
        np.add.at(dur, group, nodes["dur"][ok])
        x = np.zeros((size, len(feat.SPAN_FEATURES)), dtype=np.float64)
        x[:, 0] = req
        x[:, 1] = err
        x[:, 2] = np.divide(dur.astype(np.float64), req, out=np.zeros(size), where=req > 0)
        x[:, 2] /= _NS_PER_MS
        sketch = self.parts[SKETCH]
        s = self._steps(sketch["step"], origin, step, num_steps)
        ok = (s >= 0) & (sketch["node"] >= 0)
        x[:, 3:] = (
            sketch_quantiles(
                s[ok] * n + sketch["node"][ok],
                sketch["key"][ok],
                sketch["req"][ok],
                _QUANTILES,
                size,
                self.mapping,
            )
            / _NS_PER_MS
        )
        return {
            "x": x.reshape(num_steps, n, -1).astype(np.float32),
            "present": present.reshape(num_steps, n).astype(np.int64),
            "edges": self._edges(origin, step, num_steps),
            "metric_observed": None,
        }

    def _edges(self, origin: int, step: int, num_steps: int) -> feat.EdgeTable:
        n = self.num_entities
        edges = self.parts[EDGES]
        s = self._steps(edges["step"], origin, step, num_steps)
        src, dst = edges["caller"], edges["node"]
        ok = (s >= 0) & (src >= 0) & (dst >= 0) & (src != dst)
        key = (s[ok] * n + src[ok]) * n + dst[ok]
        uniq, inverse = np.unique(key, return_inverse=True)
        calls = np.bincount(inverse, weights=edges["req"][ok], minlength=len(uniq))
        errors = np.bincount(inverse, weights=edges["err"][ok], minlength=len(uniq))
        dur = np.zeros(len(uniq), dtype=np.int64)
        np.add.at(dur, inverse, edges["dur"][ok])
        pair = uniq % (n * n)
        return feat.EdgeTable(
            step=(uniq // (n * n)).astype(np.int64),
            src=(pair // n).astype(np.int64),
            dst=(pair % n).astype(np.int64),
            calls=calls,
            errors=errors,
            latency_sum_ms=dur.astype(np.float64) / _NS_PER_MS,
        )


def _ids(names: pd.Series, lookup: dict) -> np.ndarray:
    codes, uniques = pd.factorize(names.astype(str))
    table = np.array([lookup.get(u, -1) for u in uniques] + [-1], dtype=np.int64)
    return table[codes]
