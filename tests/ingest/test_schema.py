import numpy as np
import pandas as pd
import pytest

from graphad.exceptions import GraphadInputError, SchemaError
from graphad.ingest import (
    EDGE_METRIC_COLUMNS,
    SPAN_CODE_COLUMNS,
    SPAN_COLUMNS,
    empty_edge_metrics,
    normalize_edge_metrics,
    normalize_metrics,
    normalize_spans,
    validate_edge_metrics,
    validate_logs,
    validate_metrics,
    validate_spans,
)
from graphad.ingest.schema import ROOT_PARENT_IDS, empty_metrics, empty_spans


def _spans(**overrides):
    base = {
        "trace_id": ["t1", "t1", "t1", "t2"],
        "span_id": ["a", "b", "c", "d"],
        "parent_id": ["root", "a", "a", "x"],
        "service": ["web", "api", "db", "web"],
        "operation": ["GET /", "call", "query", "GET /"],
        "start_ns": [0, 10, 20, 5],
        "duration_ns": [100, 50, -3, 7],
        "status": [0, 1, 0, 2],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def test_validate_spans_repairs_and_counts():
    spans, report = validate_spans(_spans(), "spans.csv")
    assert tuple(spans.columns) == SPAN_COLUMNS + SPAN_CODE_COLUMNS
    # sorted by start: a(0), d(5), b(10), c(20)
    assert spans["span_id"].tolist() == ["a", "d", "b", "c"]
    assert spans["parent_id"].tolist() == ["", "x", "a", "a"]
    assert spans["duration_ns"].tolist() == [100, 7, 50, 0]
    assert spans["status"].tolist() == [0, 1, 1, 0]
    assert spans["kind"].tolist() == [""] * 4
    assert dict(report.counts) == {
        "negative_duration": 1,
        "orphan_span": 1,
        "out_of_order": 1,
    }
    assert (report.n_records, report.n_kept) == (4, 4)
    assert "spans.csv: 4 records read, 4 kept" in str(report)


def test_duplicate_span_ids_keep_first():
    spans, report = validate_spans(
        _spans(span_id=["a", "a", "c", "d"], parent_id=["", "", "a", ""])
    )
    assert spans["service"].tolist() == ["web", "web", "db"]
    assert report.counts["duplicate_span_id"] == 1 and report.n_kept == 3


def test_missing_required_field_names_it():
    with pytest.raises(
        SchemaError, match=r"spans.csv, field 'duration_ns': required field missing"
    ):
        validate_spans(_spans().drop(columns="duration_ns"), "spans.csv")


def test_bad_value_names_record_and_field():
    with pytest.raises(GraphadInputError, match=r"record 2, field 'start_ns'.*got 'soon'"):
        validate_spans(_spans(start_ns=[0, "soon", 1, 2]), "s.csv")
    with pytest.raises(GraphadInputError, match=r"record 3, field 'service': empty value"):
        validate_spans(_spans(service=["web", "api", None, "web"]), "s.csv")
    with pytest.raises(GraphadInputError, match=r"unknown span kind.*'sideways'"):
        validate_spans(_spans(kind=["server", "client", "sideways", ""]))


def test_kind_spellings_normalised():
    spans, _ = validate_spans(_spans(kind=["SPAN_KIND_SERVER", "client", "", "Internal"]))
    assert sorted(spans["kind"].tolist()) == ["", "client", "internal", "server"]


def test_normalize_spans_with_mapping_and_end_column():
    raw = pd.DataFrame(
        {
            "TraceID": ["t"],
            "SpanID": ["s"],
            "ParentID": ["root"],
            "PodName": ["web-1"],
            "OperationName": ["op"],
            "StartTimeUnixNano": [1661140374351773094],
            "EndTimeUnixNano": [1661140374362982609],
        }
    )
    spans, report = normalize_spans(
        raw,
        {
            "trace_id": "TraceID",
            "span_id": "SpanID",
            "parent_id": "ParentID",
            "service": "PodName",
            "operation": "OperationName",
            "start_ns": "StartTimeUnixNano",
        },
        end_column="EndTimeUnixNano",
    )
    assert spans.loc[0, "duration_ns"] == 11209515
    assert spans.loc[0, "start_ns"] == 1661140374351773094
    assert report.counts["status_unknown"] == 1


def test_normalize_spans_mapping_to_missing_column():
    with pytest.raises(SchemaError, match="lacks 1 column: 'Pod' .mapped for 'service'."):
        normalize_spans(_spans(), {"service": "Pod"}, source="x.csv")


def test_normalize_spans_names_every_missing_column_at_once():
    frame = pd.DataFrame({"TraceID": ["t"], "Start": [1]})
    with pytest.raises(SchemaError) as caught:
        normalize_spans(frame, {"trace_id": "TraceID", "span_id": "SpanId"}, source="x.csv")
    message = str(caught.value)
    assert "lacks 4 columns: 'SpanId' (mapped for 'span_id'), 'service', 'start_ns'" in message
    assert "'duration_ns'" in message and "--trace-columns" in message


@pytest.mark.parametrize(
    "rule, values, expected",
    [
        ("nonzero", [0, 200, 500], [0, 1, 1]),
        ("http", [200, 404, 500, 503], [0, 0, 1, 1]),
        (
            "otel",
            ["0", "1", "2", "STATUS_CODE_ERROR", "Error", "STATUS_CODE_OK"],
            [0, 0, 1, 1, 1, 0],
        ),
        ("otel", [0, 1, 2], [0, 0, 1]),
    ],
)
def test_status_rules(rule, values, expected):
    n = len(values)
    frame = pd.DataFrame(
        {
            "trace_id": ["t"] * n,
            "span_id": [f"s{i}" for i in range(n)],
            "service": ["web"] * n,
            "start_ns": range(n),
            "duration_ns": [1] * n,
            "status": values,
        }
    )
    spans, _ = validate_spans(frame, status_rule=rule)
    assert spans["status"].tolist() == expected


def test_unknown_status_rule():
    with pytest.raises(GraphadInputError, match="Could not resolve 'grpc'"):
        validate_spans(_spans(), status_rule="grpc")


def test_validate_metrics_keeps_non_finite_as_nan():
    raw = pd.DataFrame(
        {
            "ts_ns": [2, 1, 3],
            "node": ["a", "a", "b"],
            "metric": ["cpu"] * 3,
            "value": [1.0, "oops", np.inf],
        }
    )
    metrics, report = validate_metrics(raw, "m.csv")
    assert metrics["ts_ns"].tolist() == [1, 2, 3]
    assert np.isnan(metrics["value"].to_numpy()[[0, 2]]).all()
    assert dict(report.counts) == {"non_finite_value": 2, "out_of_order": 1}


def test_normalize_metrics_converts_seconds():
    raw = pd.DataFrame(
        {"timestamp": [1, 2], "node": ["a", "a"], "metric": ["m", "m"], "value": [0.0, 1.0]}
    )
    metrics, _ = normalize_metrics(raw, {"ts_ns": "timestamp"}, time_unit="s")
    assert metrics["ts_ns"].tolist() == [10**9, 2 * 10**9]


def test_validate_edge_metrics_like_metrics():
    raw = pd.DataFrame(
        {
            "value": [0.5, "oops", np.inf, 2],
            "ts_ns": [2, 1, 3, 1],
            "src": ["web", "web", " api ", "web"],
            "dst": ["db", "api", "db", "db"],
            "metric": ["p50"] * 4,
        }
    )
    edges, report = validate_edge_metrics(raw, "e.csv")
    assert tuple(edges.columns) == EDGE_METRIC_COLUMNS
    assert edges["ts_ns"].tolist() == [1, 1, 2, 3]  # stable sort
    assert edges[["src", "dst"]].values.tolist() == [
        ["web", "api"],
        ["web", "db"],
        ["web", "db"],
        ["api", "db"],
    ]
    values = edges["value"].to_numpy()
    assert np.isnan(values[[0, 3]]).all() and values[[1, 2]].tolist() == [2.0, 0.5]
    assert dict(report.counts) == {"non_finite_value": 2, "out_of_order": 2}
    assert report.examples["non_finite_value"] == ["record 2"]
    assert (report.n_records, report.n_kept) == (4, 4)
    assert edges["ts_ns"].dtype == np.int64 and edges["value"].dtype == np.float64


def test_validate_edge_metrics_bad_input_names_it():
    raw = pd.DataFrame({"ts_ns": [1], "src": ["a"], "metric": ["m"], "value": [1.0]})
    with pytest.raises(SchemaError, match="'dst'"):
        validate_edge_metrics(raw, "e.csv")
    raw = raw.assign(dst=[""])
    with pytest.raises(GraphadInputError, match=r"e.csv.*record 1, field 'dst': empty value"):
        validate_edge_metrics(raw, "e.csv")


def test_normalize_edge_metrics_maps_and_converts():
    raw = pd.DataFrame(
        {"t": [60, 0], "caller": ["a", "a"], "callee": ["b", "c"], "metric": "lat", "value": 1}
    )
    edges, report = normalize_edge_metrics(
        raw, {"ts_ns": "t", "src": "caller", "dst": "callee"}, time_unit="s", source="x"
    )
    assert edges.values.tolist() == [
        [0, "a", "c", "lat", 1.0],
        [60 * 10**9, "a", "b", "lat", 1.0],
    ]
    assert dict(report.counts) == {"out_of_order": 1}


def test_empty_edge_metrics():
    empty = empty_edge_metrics()
    assert tuple(empty.columns) == EDGE_METRIC_COLUMNS and empty.empty
    edges, report = validate_edge_metrics(empty)
    assert edges.empty and tuple(edges.columns) == EDGE_METRIC_COLUMNS
    assert report.n_problems == 0
    # the same dtypes as the node metrics frame
    assert empty["value"].dtype == empty_metrics()["value"].dtype == np.float64


def test_validate_logs():
    raw = pd.DataFrame(
        {"ts_ns": [1, 2], "node": ["a", "b"], "template": ["x <*>", "y"], "count": [3, -1]}
    )
    with pytest.raises(GraphadInputError, match=r"record 2, field 'count': negative event count"):
        validate_logs(raw, "l.csv")
    logs, report = validate_logs(raw.assign(count=[3, 0]))
    assert logs["count"].tolist() == [3, 0] and report.n_problems == 0


# validate_spans is vectorised (integer codes for ids); it must agree with the
# documented repairs applied one record at a time.


def _reference(frame: pd.DataFrame) -> tuple[list[tuple], dict]:
    """The documented repairs, one record at a time."""
    counts: dict[str, int] = {}
    seen, rows = set(), []
    for rec in frame.itertuples(index=False):
        parent = "" if str(rec.parent_id).strip().lower() in ROOT_PARENT_IDS else rec.parent_id
        if parent == rec.span_id:
            counts["self_parent"] = counts.get("self_parent", 0) + 1
            parent = ""
        duration = rec.duration_ns
        if duration < 0:
            counts["negative_duration"] = counts.get("negative_duration", 0) + 1
            duration = 0
        if (rec.trace_id, rec.span_id) in seen:
            counts["duplicate_span_id"] = counts.get("duplicate_span_id", 0) + 1
            continue
        seen.add((rec.trace_id, rec.span_id))
        rows.append((rec.trace_id, rec.span_id, parent, rec.service, rec.start_ns, duration))
    ids = {r[1] for r in rows}
    traces_of: dict[str, set] = {}
    for r in rows:
        traces_of.setdefault(r[1], set()).add(r[0])
    shared = sum(1 for r in rows if len(traces_of[r[1]]) > 1)
    if shared:
        counts["span_id_across_traces"] = shared
    orphans = sum(1 for r in rows if r[2] and r[2] not in ids)
    if orphans:
        counts["orphan_span"] = orphans
    descents = sum(1 for a, b in zip(rows, rows[1:], strict=False) if b[4] < a[4])
    if descents:
        counts["out_of_order"] = descents
    rows.sort(key=lambda r: r[4])  # stable
    # A cycle of parent links (within a trace) loses the link of its earliest span.
    row_of = {(r[0], r[1]): i for i, r in reversed(list(enumerate(rows)))}
    cuts = set()
    for i in range(len(rows)):
        path, j = [], i
        while j is not None and j not in path:
            path.append(j)
            j = row_of.get((rows[j][0], rows[j][2])) if rows[j][2] else None
        if j is not None:  # j is on a cycle: the cycle is path[path.index(j):]
            cycle = path[path.index(j) :]
            cut = min(cycle, key=lambda k: (rows[k][4], k))
            if not any(k in cuts for k in cycle):
                cuts.add(cut)
                rows[cut] = (*rows[cut][:2], "", *rows[cut][3:])
    if cuts:
        counts["parent_cycle"] = len(cuts)
    return rows, counts


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_validate_spans_matches_reference(seed):
    rng = np.random.default_rng(seed)
    n = 300
    span_ids = [f"s{i}" for i in rng.integers(0, 250, n)]  # some duplicates
    parents = rng.choice(["root", "", "null"] + [f"s{i}" for i in range(300)], n)
    frame = pd.DataFrame(
        {
            "trace_id": [f"t{i}" for i in rng.integers(0, 3, n)],
            "span_id": span_ids,
            "parent_id": parents,
            "service": rng.choice(["web", "db", "cache"], n),
            "start_ns": rng.integers(0, 50, n),
            "duration_ns": rng.integers(-3, 20, n),
            "status": rng.integers(0, 2, n),
        }
    )
    spans, report = validate_spans(frame, "random")
    rows, counts = _reference(frame)
    got = list(
        spans[
            ["trace_id", "span_id", "parent_id", "service", "start_ns", "duration_ns"]
        ].itertuples(index=False, name=None)
    )
    assert got == rows
    assert dict(report.counts) == counts
    assert report.n_kept == len(rows)
    text = empty_spans()["span_id"].dtype  # pandas' string dtype, as in every canonical frame
    assert all(spans[c].dtype == text for c in ("trace_id", "span_id", "parent_id", "kind"))


def test_empty_frame():
    spans, report = validate_spans(empty_spans())
    assert len(spans) == 0 and list(spans.columns) == list(empty_spans().columns)
    assert report.n_problems == 0
