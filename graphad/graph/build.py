"""Canonical frames (spans, metrics, log events) -> a :class:`DynamicGraph`.

The builder puts every record on one global grid of steps (floor division of its time),
computes dense ``[S, N, F]`` feature tables and a per-step edge table with vectorised
group-bys (:mod:`graphad.graph.features`), and then cuts the windows of a
:class:`~graphad.graph.window.WindowSpec` out of them; the only loop is over windows, and
it only slices precomputed arrays. A span counts in the step of its start time (its
duration is its latency, it is not spread over later steps); metric samples and log
events count in the step of their timestamp.

Features per node and step, in this order (each group only when its source is given):

* spans (server side, see :mod:`graphad.graph.features`): ``span:req_count``,
  ``span:error_count``, ``span:latency_mean_ms``, ``span:latency_p50_ms``,
  ``span:latency_p90_ms``, ``span:latency_p99_ms`` (latencies 0 in steps without requests);
* metrics: ``metric:<name>`` for each metric (sorted), the mean of the samples in the step.
  Steps without a sample are filled (``metric_fill="ffill"``: the last earlier value inside
  the built range, 0 before the first one; ``"zero"``: 0) and flagged by the mask:
  ``mask:metrics`` (``metric_mask="node"``, 1 when the node has any sample in the step),
  ``mask:metric:<name>`` per metric (``"per_metric"``) or none (``"none"``);
* logs: ``log:<template>`` counts per step (templates sorted; with ``max_templates`` only
  the most frequent are kept and the rest are summed into ``log:other``).

Edge features: ``calls``, ``errors``, ``latency_ms`` of the calls seen in the spans, then,
with edge metrics, ``edge_metric:<name>`` for each edge metric (sorted): the mean of its
samples for that caller -> callee pair in the window (0 without a sample). An edge that
only the edge metrics know (no call in the spans) is an edge of the window too, with 0
calls; edge-metric samples also mark both of their nodes present.

Node granularity: ``"entity"`` makes one node per entity (a service with
``node_rule="service"``, a pod with ``"identity"``); ``"metric"`` makes one node per
(entity, feature) series, named ``"<entity>/<metric>"`` for metrics and
``"<entity>/span:<feature>"``, ``"<entity>/log:<template>"`` otherwise, each with ``F = 1``
(feature ``"value"``), no mask features, and an ``observed [N, T]`` bool attribute that is
False where a metric value was filled. Call edges of the entity graph are lifted to every
feature the two entities share (``a/f -> b/f``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data

from graphad.exceptions import GraphadInputError, SchemaError, UnknownNodeError
from graphad.graph import features as feat
from graphad.graph.calls import span_parents
from graphad.graph.dynamic import DynamicGraph
from graphad.graph.rules import NodeRule, resolve_node_rule
from graphad.graph.vocab import NodeVocab
from graphad.graph.window import WindowSpec
from graphad.ingest.schema import require_columns
from graphad.ingest.telemetry import Telemetry

__all__ = ["build_dynamic_graph", "metric_node_name", "split_metric_node"]

_GRANULARITIES = ("entity", "metric")
_FILLS = ("ffill", "zero")
_MASKS = ("node", "per_metric", "none")
_OTHER = "other"


def metric_node_name(entity: str, feature: str) -> str:
    """Name of a ``granularity="metric"`` node.

    Example:
        >>> metric_node_name("cart", "metric:cpu"), metric_node_name("cart", "span:req_count")
        ('cart/cpu', 'cart/span:req_count')
    """
    short = feature[len("metric:") :] if feature.startswith("metric:") else feature
    return f"{entity}/{short}"


def split_metric_node(name: str) -> tuple[str, str]:
    """Inverse of :func:`metric_node_name`: ``(entity, feature name)``.

    Raises:
        GraphadInputError: The name has no ``/``.

    Example:
        >>> split_metric_node("cart/cpu"), split_metric_node("cart/log:GET /x")
        (('cart', 'metric:cpu'), ('cart', 'log:GET /x'))
    """
    entity, sep, short = str(name).partition("/")
    if not sep or not entity or not short:
        raise GraphadInputError(
            "not a metric-granularity node name",
            field="vocab",
            expected="'<entity>/<metric>'",
            found=repr(name),
        )
    if short.startswith(("span:", "log:")):
        return entity, short
    return entity, f"metric:{short}"


# --------------------------------------------------------------------------- inputs
@dataclass
class _Source:
    """One input frame reduced to integer codes (entity codes index ``names``)."""

    ts: np.ndarray
    codes: np.ndarray
    names: np.ndarray  # entity name of each code, after the node rule


def _check_frame(frame, required: Sequence[str], what: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise GraphadInputError(
            f"{what} must be a pandas DataFrame",
            source=what,
            expected="a canonical frame (see graphad.ingest.schema)",
            found=type(frame).__name__,
        )
    require_columns(frame, required, what)
    return frame


def _entity_source(
    frame: pd.DataFrame, column: str, ts_column: str, rule: NodeRule, what: str
) -> _Source:
    codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
    if (codes < 0).any():
        row = int(np.flatnonzero(codes < 0)[0])
        raise GraphadInputError(
            "empty value",
            source=what,
            record=row + 1,
            field=column,
            expected="a node name",
            found=repr(frame[column].iloc[row]),
        )
    names = rule(pd.Series(np.asarray(uniques, dtype=object))).astype(str).to_numpy()
    ts = frame[ts_column].to_numpy()
    if ts.dtype.kind not in "iu":
        raise SchemaError(
            "timestamps must be int64 ns",
            source=what,
            field=ts_column,
            expected="an integer column (use graphad.ingest to convert)",
            found=str(ts.dtype),
        )
    return _Source(ts.astype(np.int64, copy=False), codes.astype(np.int64), names)


# --------------------------------------------------------------------------- builder
def build_dynamic_graph(
    spans: Telemetry | pd.DataFrame | None = None,
    metrics: pd.DataFrame | None = None,
    logs: pd.DataFrame | None = None,
    *,
    spec: WindowSpec,
    edge_metrics: pd.DataFrame | None = None,
    node_rule: str | NodeRule | None = None,
    vocab: NodeVocab | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
    granularity: str = "entity",
    features: Sequence[str] | None = None,
    metric_fill: str = "ffill",
    metric_mask: str = "node",
    max_templates: int | None = None,
    max_steps: int = 500_000,
    engine: str = "pandas",
    client=None,
) -> DynamicGraph:
    """Build one PyG ``Data`` per window from a :class:`~graphad.ingest.telemetry.Telemetry`
    (or any combination of canonical frames).

    Each window holds ``x [N, T, F]`` float32, ``edge_index [2, E]`` (caller -> callee calls
    observed in the window, sorted), ``edge_attr [E, D]`` (calls, errors, mean latency in
    ms, then one column per edge metric), ``node_mask [N]`` (any span, metric sample, log
    event or edge-metric sample for the node in the window), ``window_start`` and
    ``window_end`` (``[1]`` int64 ns) and ``node_names`` (the vocabulary's names, a list
    shared by every window, so a window taken out of the graph still knows its nodes).
    See the module notes for the features and granularities.

    Args:
        spans: A :class:`~graphad.ingest.telemetry.Telemetry` (its frames, node rule and
            call table are used; the frame arguments must then be ``None``), or canonical
            spans (``trace_id, span_id, parent_id, service, start_ns, duration_ns,
            status`` and optionally ``kind``).
        metrics: Canonical metrics (``ts_ns, node, metric, value``).
        logs: Canonical log events (``ts_ns, node, template, count``).
        spec: How to cut windows (``spec.anchor`` pins the grid to a time, e.g. an onset).
        edge_metrics: Canonical edge metrics (``ts_ns, src, dst, metric, value``).
        node_rule: Maps raw names (``service``/``node``/``src``/``dst`` columns) to
            entities: ``"identity"``/``"pod"``, ``"service"`` (Kubernetes pod -> service)
            or a callable on a ``pd.Series``; ``None``: the telemetry's rule
            (``"identity"`` for frames).
        vocab: Fixes the node set and order (names at the chosen granularity). Names in the
            data that it lacks follow its ``unknown`` rule (``"ignore"``: dropped and
            counted in ``graph.meta["dropped_unknown"]``; ``"add"``: appended to a copy).
            Default: the sorted names found in the data.
        start_ns: Start of the first window (default: the earliest record, floored to a
            step boundary: a multiple of ``spec.step``, shifted onto ``spec.anchor``).
        end_ns: Exclusive end of the data (default: the latest record + 1 ns, rounded up
            to a step boundary). Only whole windows are made.
        granularity: ``"entity"`` or ``"metric"``.
        features: Fixes the feature set and order at entity granularity, e.g. the
            ``feature_names`` of a training graph; metrics/templates it lacks are dropped
            (templates go to ``log:other`` when that is listed) and counted in
            ``graph.meta["dropped_features"]``.
        metric_fill: ``"ffill"`` or ``"zero"`` for steps without a metric sample.
        metric_mask: ``"node"``, ``"per_metric"`` or ``"none"`` (entity granularity).
        max_templates: Keep only this many log templates (most frequent first).
        max_steps: Refuse time ranges of more steps than this (a guard against a wrong
            timestamp stretching the range over years; the feature tables are dense).
        engine: ``"pandas"`` (one process, the default) or ``"dask"``: spans (files, a
            Dask or pandas frame) are aggregated in partitions on Dask with mergeable
            statistics (:func:`graphad.graph.scale.build_dynamic_graph_dask`; spans only,
            entity granularity, quantiles within the sketch's relative accuracy).
        client: The ``distributed.Client`` of ``engine="dask"`` (``None``: the current one).

    Returns:
        The :class:`DynamicGraph`; ``meta`` records the granularity, node rule, time
        range, records outside the range and dropped records.

    Shapes:
        - **per window:** ``x [N, T, F]`` (``T = spec.num_steps``), ``edge_index [2, E]``,
          ``edge_attr [E, D]`` (``D = 3 +`` edge metrics), ``node_mask [N]``, ``window_start [1]``,
          ``window_end [1]``; at ``granularity="metric"`` also ``observed [N, T]``.
        - **graph:** ``W = len(graph)`` windows; ``graph.x`` is ``[W, N, T, F]``.

    Raises:
        GraphadInputError: No source, a malformed frame, a bad option, or a time range
            shorter than one window.
        UnknownNodeError: A name is not in ``vocab`` and its rule is ``"error"``.

    Example:
        >>> spans = pd.DataFrame({"trace_id": ["t", "t"], "span_id": ["a", "b"],
        ...     "parent_id": ["", "a"], "service": ["web", "db"], "start_ns": [0, 6],
        ...     "duration_ns": [4_000_000, 1_000_000], "status": [0, 1]})
        >>> g = build_dynamic_graph(spans, spec=WindowSpec.of(10, step=5))
        >>> g.vocab.names, tuple(g[0].x.shape), g[0].edge_index.tolist()
        (['db', 'web'], (2, 2, 6), [[1], [0]])
        >>> g[0].edge_attr.tolist(), g[0].node_names
        ([[1.0, 1.0, 1.0]], ['db', 'web'])
    """
    if engine != "pandas":  # a partitioned engine (graphad.graph.scale): spans only
        from graphad.graph.scale.build import run_engine

        options = dict(spec=spec, node_rule=node_rule, vocab=vocab, start_ns=start_ns)
        options.update(end_ns=end_ns, max_steps=max_steps, granularity=granularity)
        others = dict(metrics=metrics, logs=logs, edge_metrics=edge_metrics, features=features)
        return run_engine(engine, client, spans, others, **options)
    _check_options(spec, granularity, metric_fill, metric_mask, max_templates)
    parents_of: Telemetry | pd.DataFrame | None = spans
    if isinstance(spans, Telemetry):
        telemetry = spans
        if metrics is not None or logs is not None or edge_metrics is not None:
            raise GraphadInputError(
                "give a Telemetry or frames, not both",
                field="metrics/logs/edge_metrics",
                expected="None beside a Telemetry",
                found="a frame",
            )
        spans, metrics, logs, edge_metrics = (
            _or_none(telemetry.spans),
            _or_none(telemetry.metrics),
            _or_none(telemetry.logs),
            _or_none(telemetry.edge_metrics),
        )
        if node_rule is None:
            node_rule = telemetry.node_rule
    if node_rule is None:
        node_rule = "identity"
    if spans is None and metrics is None and logs is None and edge_metrics is None:
        raise GraphadInputError(
            "no telemetry given",
            field="spans/metrics/logs/edge_metrics",
            expected="a Telemetry or at least one canonical frame",
            found="None",
        )
    rule = resolve_node_rule(node_rule)
    sources = {}
    if spans is not None:
        _check_frame(
            spans,
            ("trace_id", "span_id", "parent_id", "service", "start_ns", "duration_ns", "status"),
            "spans",
        )
        sources["spans"] = _entity_source(spans, "service", "start_ns", rule, "spans")
    if metrics is not None:
        _check_frame(metrics, ("ts_ns", "node", "metric", "value"), "metrics")
        sources["metrics"] = _entity_source(metrics, "node", "ts_ns", rule, "metrics")
    if logs is not None:
        _check_frame(logs, ("ts_ns", "node", "template"), "logs")
        sources["logs"] = _entity_source(logs, "node", "ts_ns", rule, "logs")
    if edge_metrics is not None:
        _check_frame(edge_metrics, ("ts_ns", "src", "dst", "metric", "value"), "edge_metrics")
        sources["edge_metrics"] = _edge_source(edge_metrics, rule)

    start, end = _time_range(sources, spec, start_ns, end_ns)
    _check_steps(sources, spec, start, end, max_steps)
    bounds = spec.window_bounds(start, end)
    if len(bounds) == 0:
        raise GraphadInputError(
            "time range shorter than one window",
            field="spec.size",
            expected=f"at most end - start = {end - start} ns",
            found=spec.size,
        )

    meta = {
        "granularity": granularity,
        "node_rule": node_rule
        if isinstance(node_rule, str) or node_rule is None
        else getattr(node_rule, "__name__", repr(node_rule)),
        "start_ns": int(start),
        "end_ns": int(end),
        "sources": sorted(sources),
        "outside_range": {
            k: int(((s.ts < start) | (s.ts >= end)).sum()) for k, s in sources.items()
        },
    }
    entity_vocab, entity_ids, dropped = _entity_vocab(sources, vocab, granularity)
    table = _Tables(
        spans,
        metrics,
        logs,
        edge_metrics,
        parents_of,
        sources,
        entity_ids,
        len(entity_vocab),
        features if granularity == "entity" else None,
        metric_fill,
        metric_mask if granularity == "entity" else "none",
        max_templates,
    )
    if granularity == "entity":
        meta["dropped_unknown"] = dropped
        meta["dropped_features"] = table.dropped_features
        windows = _entity_windows(table, bounds, spec, start)
        return DynamicGraph(
            entity_vocab, windows, table.feature_names, table.edge_feature_names, spec, meta
        )
    node_vocab, columns, meta_nodes = _metric_nodes(table, entity_vocab, vocab)
    meta.update(meta_nodes)
    windows = _metric_windows(table, columns, bounds, spec, start)
    return DynamicGraph(node_vocab, windows, ["value"], table.edge_feature_names, spec, meta)


def _or_none(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """A telemetry frame as a source: ``None`` when it is missing or empty."""
    return frame if frame is not None and len(frame) else None


def _edge_source(frame: pd.DataFrame, rule: NodeRule) -> _Source:
    """Edge metrics as a source: ``codes`` holds the callers, then the callees (``[2n]``)."""
    both = pd.concat([frame["src"], frame["dst"]], ignore_index=True)
    codes, uniques = pd.factorize(both, use_na_sentinel=True)
    if (codes < 0).any():
        row = int(np.flatnonzero(codes < 0)[0])
        raise GraphadInputError(
            "empty value",
            source="edge_metrics",
            record=row % len(frame) + 1,
            field="src" if row < len(frame) else "dst",
            expected="a node name",
            found="missing",
        )
    names = rule(pd.Series(np.asarray(uniques, dtype=object))).astype(str).to_numpy()
    ts = frame["ts_ns"].to_numpy()
    if ts.dtype.kind not in "iu":
        raise SchemaError(
            "timestamps must be int64 ns",
            source="edge_metrics",
            field="ts_ns",
            expected="an integer column (use graphad.ingest to convert)",
            found=str(ts.dtype),
        )
    return _Source(ts.astype(np.int64, copy=False), codes.astype(np.int64), names)


def _check_options(spec, granularity, metric_fill, metric_mask, max_templates) -> None:
    if not isinstance(spec, WindowSpec):
        raise GraphadInputError(
            "spec must be a WindowSpec",
            field="spec",
            expected="WindowSpec.of(size, stride, step)",
            found=type(spec).__name__,
        )
    spec.check()
    for name, value, choices in (
        ("granularity", granularity, _GRANULARITIES),
        ("metric_fill", metric_fill, _FILLS),
        ("metric_mask", metric_mask, _MASKS),
    ):
        if value not in choices:
            raise GraphadInputError(
                f"Could not resolve '{value}' among choices {list(choices)}", field=name
            )
    if max_templates is not None and int(max_templates) < 1:
        raise GraphadInputError(
            "max_templates must be positive",
            field="max_templates",
            expected=">= 1 or None",
            found=max_templates,
        )


def _time_range(sources: dict, spec: WindowSpec, start_ns, end_ns) -> tuple[int, int]:
    stamps = [s.ts for s in sources.values() if len(s.ts)]
    if (start_ns is None or end_ns is None) and not stamps:
        raise GraphadInputError(
            "no records to infer the time range from",
            field="start_ns/end_ns",
            expected="non-empty frames or explicit start_ns and end_ns",
            found="empty frames",
        )
    if start_ns is None:
        start_ns = spec.grid_start(min(int(t.min()) for t in stamps))
    if end_ns is None:
        end_ns = spec.grid_end(max(int(t.max()) for t in stamps) + 1)
    return int(start_ns), int(end_ns)


def _check_steps(sources: dict, spec: WindowSpec, start: int, end: int, max_steps: int) -> None:
    steps = -(-(end - start) // spec.step)
    if steps <= max_steps:
        return
    extremes = {k: (int(s.ts.min()), int(s.ts.max())) for k, s in sources.items() if len(s.ts)}
    latest = max(extremes, key=lambda k: extremes[k][1]) if extremes else None
    earliest = min(extremes, key=lambda k: extremes[k][0]) if extremes else None
    raise GraphadInputError(
        f"time range of {steps} steps is longer than max_steps={max_steps} (earliest record "
        f"in {earliest}, latest in {latest}); is a timestamp wrong? pass start_ns/end_ns "
        "or a larger max_steps",
        source=latest,
        field="start_ns/end_ns",
        expected=f"at most {max_steps} steps of {spec.step} ns",
        found=f"[{start}, {end})",
    )


def _entity_vocab(sources: dict, vocab: NodeVocab | None, granularity: str):
    """The entity vocabulary, entity id per record of each source, dropped counts."""
    found = sorted(set().union(*(set(s.names) for s in sources.values())))
    dropped = {k: 0 for k in sources}
    if granularity == "metric":
        extra = {split_metric_node(n)[0] for n in vocab} if vocab is not None else set()
        entity_vocab = NodeVocab(sorted(set(found) | extra))
    elif vocab is None:
        entity_vocab = NodeVocab(found)
    else:
        entity_vocab = NodeVocab.from_dict(vocab.to_dict())  # never mutate the caller's
    ids = {}
    for key, source in sources.items():
        try:
            per_code = entity_vocab.encode(source.names)
        except UnknownNodeError as error:
            raise UnknownNodeError(
                error.problem,
                source=key,
                field=error.field,
                expected=error.expected,
                found=error.found,
            ) from None
        ids[key] = per_code[source.codes] if len(source.codes) else source.codes
        dropped[key] = int((ids[key] < 0).sum())
    return entity_vocab, ids, dropped


# --------------------------------------------------------------------------- tables
class _Tables:
    """Per-record codes of every source, ready to aggregate on any grid origin."""

    def __init__(
        self,
        spans,
        metrics,
        logs,
        edge_metrics,
        parents_of,
        sources,
        ids,
        num_entities,
        features,
        metric_fill,
        metric_mask,
        max_templates,
    ):
        self.num_entities = num_entities
        self.sources = sources
        self.ids = ids
        self.metric_fill = metric_fill
        self.metric_mask = metric_mask
        self.dropped_features = {}
        self.order: list[int] | None = None  # feature columns picked by ``features``
        wanted = _parse_features(features) if features is not None else None
        self.has_spans = spans is not None and (wanted is None or wanted["span"])
        if spans is not None:
            self._prepare_spans(spans, parents_of)
        self.edge_metric_names: list[str] = []
        if edge_metrics is not None:
            self._prepare_edge_metrics(edge_metrics)
        self.edge_feature_names = list(feat.EDGE_FEATURES) + [
            f"edge_metric:{m}" for m in self.edge_metric_names
        ]
        self.metric_names: list[str] = []
        if metrics is not None:
            self._prepare_metrics(metrics, wanted)
        self.templates: list[str] = []
        if logs is not None:
            self._prepare_logs(logs, wanted, max_templates)
        self.feature_names = self._feature_names()
        if wanted is not None:
            self._check_wanted(features)

    # -- spans
    def _prepare_spans(self, spans: pd.DataFrame, parents_of) -> None:
        node = self.ids["spans"]
        self.span_request = feat.request_mask(
            spans["kind"] if "kind" in spans.columns else None, len(spans)
        )
        parent = span_parents(parents_of)  # a Telemetry computes its rows once
        self.span_src = np.where(parent >= 0, node[np.maximum(parent, 0)], -1)
        self.span_duration = spans["duration_ns"].to_numpy().astype(np.int64, copy=False)
        self.span_status = (spans["status"].to_numpy() != 0).astype(np.float64)

    # -- edge metrics
    def _prepare_edge_metrics(self, edge_metrics: pd.DataFrame) -> None:
        codes, names = pd.factorize(edge_metrics["metric"].astype(str), sort=True)
        self.edge_metric_names = list(names)
        self.edge_metric_codes = codes.astype(np.int64)
        self.edge_metric_values = pd.to_numeric(edge_metrics["value"], errors="coerce").to_numpy(
            dtype=np.float64
        )

    # -- metrics
    def _prepare_metrics(self, metrics: pd.DataFrame, wanted) -> None:
        codes, names = pd.factorize(metrics["metric"].astype(str), sort=True)
        names = list(names)
        if wanted is not None:
            keep = wanted["metric"]
            lookup = pd.Index(keep).get_indexer(names) if names else np.zeros(0, int)
            lost = [n for n, i in zip(names, lookup, strict=True) if i < 0]
            if lost:
                self.dropped_features["metrics"] = int(
                    np.isin(codes, np.flatnonzero(lookup < 0)).sum()
                )
            codes = np.where(codes >= 0, lookup[np.maximum(codes, 0)], -1) if len(codes) else codes
            names = list(keep)
        self.metric_names = names
        self.metric_codes = codes.astype(np.int64)
        self.metric_values = pd.to_numeric(metrics["value"], errors="coerce").to_numpy(
            dtype=np.float64
        )
        if wanted is not None:
            self.metric_mask = wanted["mask"] if wanted["mask"] is not None else "none"

    # -- logs
    def _prepare_logs(self, logs: pd.DataFrame, wanted, max_templates) -> None:
        counts = (
            logs["count"].to_numpy(dtype=np.float64)
            if "count" in logs.columns
            else np.ones(len(logs))
        )
        codes, names = pd.factorize(logs["template"].astype(str), sort=True)
        names = list(names)
        if wanted is not None:
            keep, other = wanted["log"], wanted["log_other"]
        elif max_templates is not None and len(names) > max_templates:
            totals = np.bincount(codes, weights=counts, minlength=len(names))
            order = np.lexsort((np.array(names, dtype=object), -totals))
            keep, other = sorted(names[i] for i in order[:max_templates]), True
        else:
            keep, other = names, False
        lookup = pd.Index(keep).get_indexer(names) if names else np.zeros(0, int)
        if other:
            lookup = np.where(lookup >= 0, lookup, len(keep))
        elif (lookup < 0).any():
            self.dropped_features["logs"] = int(np.isin(codes, np.flatnonzero(lookup < 0)).sum())
        self.templates = list(keep) + ([_OTHER] if other else [])
        self.log_codes = lookup[codes].astype(np.int64) if len(codes) else codes
        self.log_counts = counts

    def _feature_names(self) -> list[str]:
        names = list(feat.SPAN_FEATURES) if self.has_spans else []
        names += [f"metric:{m}" for m in self.metric_names]
        if "metrics" in self.sources or self.metric_names:
            if self.metric_mask == "node":
                names.append("mask:metrics")
            elif self.metric_mask == "per_metric":
                names += [f"mask:metric:{m}" for m in self.metric_names]
        names += [f"log:{t}" for t in self.templates]
        return names

    def _check_wanted(self, features) -> None:
        missing = [f for f in features if f not in self.feature_names]
        if missing:
            raise GraphadInputError(
                "requested feature cannot be built from these sources",
                field="features",
                expected=f"one of {self.feature_names[:8]}",
                found=repr(missing[0]),
            )
        self.order = [self.feature_names.index(f) for f in features]
        self.feature_names = list(features)

    # -- aggregation on one grid
    def compute(self, origin: int, step: int, num_steps: int) -> dict:
        """Dense tables on the grid ``origin + k * step``, ``k < num_steps``."""
        n = self.num_entities
        blocks, present = [], np.zeros((num_steps, n), dtype=np.int64)
        out = {"edges": None, "metric_observed": None}
        if "spans" in self.sources:
            s = feat.step_ids(self.sources["spans"].ts, origin, step, num_steps)
            node = self.ids["spans"]
            present += feat.presence(s, node, num_steps, n)
            if self.has_spans:
                req = self.span_request
                blocks.append(
                    feat.span_features(
                        s[req],
                        node[req],
                        self.span_duration[req],
                        self.span_status[req],
                        num_steps,
                        n,
                    )
                )
            out["edges"] = feat.span_edges(
                s, self.span_src, node, self.span_duration, self.span_status, n
            )
        if "metrics" in self.sources:
            s = feat.step_ids(self.sources["metrics"].ts, origin, step, num_steps)
            node = self.ids["metrics"]
            present += feat.presence(s, node, num_steps, n)
            mean, seen = feat.metric_features(
                s, node, self.metric_codes, self.metric_values, num_steps, n, len(self.metric_names)
            )
            values = (
                feat.forward_fill(mean, seen)
                if self.metric_fill == "ffill"
                else np.where(seen, mean, 0.0)
            )
            blocks.append(values)
            if self.metric_mask == "node":
                blocks.append(seen.any(axis=2, keepdims=True).astype(np.float64))
            elif self.metric_mask == "per_metric":
                blocks.append(seen.astype(np.float64))
            out["metric_observed"] = seen
        if "edge_metrics" in self.sources:
            s = feat.step_ids(self.sources["edge_metrics"].ts, origin, step, num_steps)
            ends = self.ids["edge_metrics"]
            present += feat.presence(np.concatenate([s, s]), ends, num_steps, n)
            half = len(s)
            out["edge_metrics"] = feat.edge_metric_table(
                s,
                ends[:half],
                ends[half:],
                self.edge_metric_codes,
                self.edge_metric_values,
                n,
                len(self.edge_metric_names),
            )
        if "logs" in self.sources:
            s = feat.step_ids(self.sources["logs"].ts, origin, step, num_steps)
            node = self.ids["logs"]
            present += feat.presence(s, node, num_steps, n)
            counts = feat.log_features(
                s, node, self.log_codes, self.log_counts, num_steps, n, len(self.templates)
            )
            blocks.append(counts)
            out["log_counts"] = counts
        x = np.concatenate(blocks, axis=2) if blocks else np.zeros((num_steps, n, 0))
        if self.order is not None:
            x = x[:, :, self.order]
        out["x"] = x.astype(np.float32)
        out["present"] = present
        return out


def _parse_features(features: Sequence[str]) -> dict:
    """Which span/metric/log features a fixed feature list asks for."""
    wanted = {"span": False, "metric": [], "mask": None, "log": [], "log_other": False}
    per_metric = []
    for name in features:
        name = str(name)
        if name in feat.SPAN_FEATURES:
            wanted["span"] = True
        elif name == "mask:metrics":
            wanted["mask"] = "node"
        elif name.startswith("mask:metric:"):
            per_metric.append(name[len("mask:metric:") :])
        elif name.startswith("metric:"):
            wanted["metric"].append(name[len("metric:") :])
        elif name == f"log:{_OTHER}":
            wanted["log_other"] = True
        elif name.startswith("log:"):
            wanted["log"].append(name[len("log:") :])
        else:
            raise GraphadInputError(
                "unknown feature name",
                field="features",
                expected="'span:*', 'metric:*', 'mask:*' or 'log:*'",
                found=repr(name),
            )
    if per_metric:
        wanted["mask"] = "per_metric"
        wanted["metric"] = sorted(set(wanted["metric"]) | set(per_metric))
    else:
        wanted["metric"] = sorted(set(wanted["metric"]))
    wanted["log"] = sorted(set(wanted["log"]))
    return wanted


# --------------------------------------------------------------------------- windows
def _grids(bounds: np.ndarray, spec: WindowSpec, start: int):
    """Group windows by the phase of their start on the step grid (usually one group)."""
    offsets = (bounds[:, 0] - start) % spec.step
    for offset in np.unique(offsets):
        rows = np.flatnonzero(offsets == offset)
        origin = start + int(offset)
        first = (bounds[rows, 0] - origin) // spec.step
        yield rows, origin, first, int(first.max()) + spec.num_steps


def _window_data(x_slice: np.ndarray, present: np.ndarray, edge_index, edge_attr, bound) -> Data:
    return Data(
        x=torch.from_numpy(np.ascontiguousarray(x_slice.transpose(1, 0, 2))),
        edge_index=torch.from_numpy(edge_index),
        edge_attr=torch.from_numpy(edge_attr.astype(np.float32)),
        node_mask=torch.from_numpy(present),
        window_start=torch.tensor([int(bound[0])], dtype=torch.long),
        window_end=torch.tensor([int(bound[1])], dtype=torch.long),
    )  # node_names: attached by DynamicGraph


def _entity_windows(table: _Tables, bounds, spec: WindowSpec, start: int) -> list[Data]:
    windows: list[Data | None] = [None] * len(bounds)
    steps = spec.num_steps
    n = table.num_entities
    for rows, origin, first, num_steps in _grids(bounds, spec, start):
        tabs = table.compute(origin, spec.step, num_steps)
        cum = np.concatenate([np.zeros((1, n), np.int64), np.cumsum(tabs["present"], 0)])
        for row, s0 in zip(rows, first, strict=True):
            present = (cum[s0 + steps] - cum[s0]) > 0
            edge_index, edge_attr = _edges(tabs, s0, s0 + steps, n)
            windows[row] = _window_data(
                tabs["x"][s0 : s0 + steps], present, edge_index, edge_attr, bounds[row]
            )
    return windows


def _edges(tabs: dict, first: int, end: int, n: int):
    """Edges of steps ``[first, end)``: calls from spans, then the edge-metric columns."""
    edges = tabs["edges"]
    if edges is None:
        edge_index, attr = np.zeros((2, 0), np.int64), np.zeros((0, len(feat.EDGE_FEATURES)))
    else:
        edge_index, attr = edges.window(first, end, n)
    table = tabs.get("edge_metrics")
    if table is None:
        return edge_index, attr
    metric_index, metric_attr = table.window(first, end, n)
    return feat.merge_edges(edge_index, attr, metric_index, metric_attr, n)


# --------------------------------------------------------------------------- metric nodes
@dataclass
class _Columns:
    """Where each metric-granularity node comes from: entity and entity-level feature."""

    entity: np.ndarray
    feature: np.ndarray
    node_of: np.ndarray  # [num_entities, F] node id or -1


def _series_present(table: _Tables, entity_names: list[str]) -> list[str]:
    """Names of the (entity, feature) series found in the data, sorted."""
    names = set()
    if table.has_spans:
        node = table.ids["spans"][table.span_request]
        for e in np.unique(node[node >= 0]):
            names.update(metric_node_name(entity_names[e], f) for f in feat.SPAN_FEATURES)
    if "metrics" in table.sources:
        node, codes = table.ids["metrics"], table.metric_codes
        ok = (node >= 0) & (codes >= 0)
        for pair in np.unique(node[ok] * len(table.metric_names) + codes[ok]):
            e, m = divmod(int(pair), len(table.metric_names))
            names.add(metric_node_name(entity_names[e], f"metric:{table.metric_names[m]}"))
    if "logs" in table.sources:
        node, codes = table.ids["logs"], table.log_codes
        ok = (node >= 0) & (codes >= 0)
        for pair in np.unique(node[ok] * len(table.templates) + codes[ok]):
            e, t = divmod(int(pair), len(table.templates))
            names.add(metric_node_name(entity_names[e], f"log:{table.templates[t]}"))
    return sorted(names)


def _metric_nodes(table: _Tables, entity_vocab: NodeVocab, vocab: NodeVocab | None):
    entity_names = entity_vocab.names
    found = _series_present(table, entity_names)
    if vocab is None:
        node_vocab = NodeVocab(found)
        dropped = []
    else:
        node_vocab = NodeVocab.from_dict(vocab.to_dict())
        ids = node_vocab.encode(found)  # raises for "error", appends for "add"
        dropped = [name for name, i in zip(found, ids, strict=True) if i < 0]
    feature_ids = {name: i for i, name in enumerate(table.feature_names)}
    entity = np.zeros(len(node_vocab), np.int64)
    feature = np.zeros(len(node_vocab), np.int64)
    node_of = np.full((len(entity_names), len(table.feature_names)), -1, np.int64)
    for i, name in enumerate(node_vocab.names):
        e_name, f_name = split_metric_node(name)
        if f_name not in feature_ids:  # e.g. a metric the data lacks: all zeros, absent
            feature[i] = -1
        else:
            feature[i] = feature_ids[f_name]
        entity[i] = entity_vocab[e_name]
        if feature[i] >= 0:
            node_of[entity[i], feature[i]] = i
    meta = {
        "entities": [entity_names[e] for e in entity],
        "dropped_unknown": _dropped_series(table, dropped, entity_names),
    }
    return node_vocab, _Columns(entity, feature, node_of), meta


def _dropped_series(table: _Tables, dropped: list[str], entity_names: list[str]) -> dict:
    """Records of series left out by an ``unknown="ignore"`` vocabulary."""
    counts = {k: 0 for k in table.sources}
    if not dropped:
        return counts
    entity_ids = {name: i for i, name in enumerate(entity_names)}
    lost = [split_metric_node(n) for n in dropped]
    for e_name, f_name in lost:
        e = entity_ids[e_name]
        if f_name == feat.SPAN_FEATURES[0]:
            node = table.ids["spans"]
            counts["spans"] += int(((node == e) & table.span_request).sum())
        elif f_name.startswith("metric:"):
            m = table.metric_names.index(f_name[len("metric:") :])
            counts["metrics"] += int(
                ((table.ids["metrics"] == e) & (table.metric_codes == m)).sum()
            )
        elif f_name.startswith("log:"):
            t = table.templates.index(f_name[len("log:") :])
            counts["logs"] += int(((table.ids["logs"] == e) & (table.log_codes == t)).sum())
    counts["series"] = len(dropped)
    return counts


def _metric_windows(
    table: _Tables, columns: _Columns, bounds, spec: WindowSpec, start: int
) -> list[Data]:
    windows: list[Data | None] = [None] * len(bounds)
    steps = spec.num_steps
    n_entities = table.num_entities
    valid = columns.feature >= 0
    feature = np.maximum(columns.feature, 0)
    names = table.feature_names
    is_metric = np.array([names[f].startswith("metric:") for f in feature], dtype=bool)
    is_log = np.array([names[f].startswith("log:") for f in feature], dtype=bool)
    metric_col = np.array(
        [
            table.metric_names.index(names[f][7:]) if m else 0
            for f, m in zip(feature, is_metric, strict=True)
        ],
        dtype=np.int64,
    )
    log_col = np.array(
        [
            table.templates.index(names[f][4:]) if lg else 0
            for f, lg in zip(feature, is_log, strict=True)
        ],
        dtype=np.int64,
    )
    for rows, origin, first, num_steps in _grids(bounds, spec, start):
        tabs = table.compute(origin, spec.step, num_steps)
        x = tabs["x"][:, columns.entity, feature] * valid  # [S, N]
        observed = np.ones_like(x, dtype=bool)
        entity_present = tabs["present"][:, columns.entity] > 0  # [S, N]
        present = entity_present.copy()
        if tabs["metric_observed"] is not None and is_metric.any():
            seen = tabs["metric_observed"][:, columns.entity, metric_col]
            observed = np.where(is_metric, seen, observed)
            present = np.where(is_metric, seen, present)
        if "log_counts" in tabs and is_log.any():
            present = np.where(is_log, tabs["log_counts"][:, columns.entity, log_col] > 0, present)
        present &= valid
        cum = np.concatenate([np.zeros((1, len(feature)), np.int64), np.cumsum(present, 0)])
        for row, s0 in zip(rows, first, strict=True):
            edge_index, edge_attr = _lift_edges(
                *_edges(tabs, s0, s0 + steps, n_entities), columns.node_of
            )
            data = _window_data(
                x[s0 : s0 + steps, :, None],
                (cum[s0 + steps] - cum[s0]) > 0,
                edge_index,
                edge_attr,
                bounds[row],
            )
            data.observed = torch.from_numpy(np.ascontiguousarray(observed[s0 : s0 + steps].T))
            windows[row] = data
    return windows


def _lift_edges(edge_index: np.ndarray, edge_attr: np.ndarray, node_of: np.ndarray):
    """Entity edges ``a -> b`` to series edges ``a/f -> b/f`` for every shared feature."""
    src = node_of[edge_index[0]]  # [E, F]
    dst = node_of[edge_index[1]]
    keep = (src >= 0) & (dst >= 0)
    edge_rows = np.nonzero(keep)[0]
    lifted = np.stack([src[keep], dst[keep]]).astype(np.int64)
    attr = edge_attr[edge_rows]
    order = np.lexsort((lifted[1], lifted[0]))
    return lifted[:, order], attr[order]
