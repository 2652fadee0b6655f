import numpy as np
import pandas as pd
import pytest
import torch

from graphad.exceptions import GraphadInputError, SchemaError, UnknownNodeError
from graphad.graph import (
    EDGE_FEATURES,
    SPAN_FEATURES,
    DynamicGraph,
    NodeVocab,
    WindowSpec,
    build_dynamic_graph,
)
from graphad.ingest.telemetry import Telemetry

SPEC = WindowSpec.of(20, stride=10, step=10)  # windows [0, 20) and [10, 30), T = 2


def _validate_all(graph):
    for window in graph:
        window.validate(raise_on_error=True)
        assert window.x.dtype == torch.float32
        assert window.window_start.dtype == window.window_end.dtype == torch.long
        assert all(
            "index" not in key and "batch" not in key
            for key in window.keys()
            if key != "edge_index"
        )


# ------------------------------------------------------------------ spans, exact values
def test_spans_exact_values(tiny_spans):
    g = build_dynamic_graph(tiny_spans, spec=SPEC)
    _validate_all(g)
    assert g.vocab.names == ["api", "db", "web"]
    assert g.feature_names == list(SPAN_FEATURES)
    assert g.edge_feature_names == list(EDGE_FEATURES)
    assert len(g) == 2 and tuple(g.x.shape) == (2, 3, 2, 6)
    w0, w1 = g
    assert (int(w0.window_start), int(w0.window_end)) == (0, 20)
    assert (int(w1.window_start), int(w1.window_end)) == (10, 30)
    # web: a (10 ms) in step 0, d (6 ms) in step 1; api's client span f is no request
    assert w0.x[2].tolist() == [[1, 0, 10, 10, 10, 10], [1, 0, 6, 6, 6, 6]]
    assert w0.x[0].tolist() == [[1, 0, 4, 4, 4, 4], [1, 0, 2, 2, 2, 2]]
    assert w0.x[1].tolist() == [[1, 1, 2, 2, 2, 2], [1, 0, 3, 3, 3, 3]]
    assert w1.x[0].tolist() == [[1, 0, 2, 2, 2, 2], [0, 0, 0, 0, 0, 0]]
    assert w1.x[2].tolist() == [[1, 0, 6, 6, 6, 6], [1, 1, 8, 8, 8, 8]]
    # edges: api->db (c, error, 2 ms); web->api (b 4 ms + e 2 ms); orphan i makes none
    assert w0.edge_index.tolist() == [[0, 2], [1, 0]]
    assert w0.edge_attr.tolist() == [[1, 1, 2], [2, 0, 3]]
    assert w1.edge_index.tolist() == [[2, 2], [0, 1]]
    assert w1.edge_attr.tolist() == [[1, 0, 2], [1, 0, 1]]
    assert w0.node_mask.tolist() == w1.node_mask.tolist() == [True, True, True]
    assert g.meta["granularity"] == "entity"
    assert g.meta["start_ns"] == 0 and g.meta["end_ns"] == 30


def test_telemetry_and_frames_give_the_same_graph(tiny_spans):
    # a Telemetry joins its spans' parents once; an object copy of the frame is joined afresh
    plain = tiny_spans.astype({c: object for c in ("trace_id", "span_id", "parent_id")})
    a = build_dynamic_graph(Telemetry(spans=tiny_spans), spec=SPEC)
    b = build_dynamic_graph(plain, spec=SPEC)
    for wa, wb in zip(a, b, strict=True):
        assert wa.edge_index.tolist() == wb.edge_index.tolist()
        assert wa.edge_attr.tolist() == wb.edge_attr.tolist()
        assert torch.equal(wa.x, wb.x)


def test_spans_latency_quantiles_in_one_step():
    spans = pd.DataFrame(
        {
            "trace_id": list("tttt"),
            "span_id": list("abcd"),
            "parent_id": [""] * 4,
            "service": ["s"] * 4,
            "start_ns": [0, 1, 2, 3],
            "duration_ns": [1_000_000, 2_000_000, 3_000_000, 10_000_000],
            "status": [0, 0, 0, 0],
        }
    )
    g = build_dynamic_graph(spans, spec=WindowSpec.of(10))
    row = g[0].x[0, 0].double()
    expected = np.quantile([1, 2, 3, 10], [0.5, 0.9, 0.99])
    np.testing.assert_allclose(row[:3].numpy(), [4, 0, 4])
    np.testing.assert_allclose(row[3:].numpy(), expected, rtol=1e-6)


def test_kind_client_server_pair_gives_caller_to_callee_edge():
    spans = pd.DataFrame(
        {
            "trace_id": ["t"] * 3,
            "span_id": ["s1", "c1", "s2"],
            "parent_id": ["", "s1", "c1"],
            "service": ["web", "web", "api"],
            "start_ns": [0, 1, 2],
            "duration_ns": [5_000_000, 3_000_000, 2_000_000],
            "status": [0, 0, 0],
            "kind": ["server", "client", "server"],
        }
    )
    g = build_dynamic_graph(spans, spec=WindowSpec.of(10))
    assert g.vocab.names == ["api", "web"]
    assert g[0].edge_index.tolist() == [[1], [0]]
    assert g[0].edge_attr.tolist() == [[1, 0, 2]]
    assert g[0].x[:, 0, 0].tolist() == [1, 1]  # the client span is not a request


def test_node_rule_service_merges_pods():
    spans = pd.DataFrame(
        {
            "trace_id": ["t"] * 3,
            "span_id": list("abc"),
            "parent_id": ["", "a", "a"],
            "service": ["web-5f6585d649-fnmft", "cart-579f59597d-wc2lz", "web-5f6585d649-xxxxx"],
            "start_ns": [0, 1, 2],
            "duration_ns": [1, 1, 1],
            "status": [0, 0, 0],
        }
    )
    g = build_dynamic_graph(spans, spec=WindowSpec.of(10), node_rule="service")
    assert g.vocab.names == ["cart", "web"]
    assert g[0].edge_index.tolist() == [[1], [0]]  # web pod -> web pod is no call
    assert g[0].x[1, 0, 0].item() == 2


# ------------------------------------------------------------------ metrics and logs
def test_metrics_resampled_filled_and_masked(tiny_metrics):
    g = build_dynamic_graph(metrics=tiny_metrics, spec=SPEC)
    _validate_all(g)
    assert g.vocab.names == ["cache", "db", "web"]
    assert g.feature_names == ["metric:cpu", "metric:mem", "mask:metrics"]
    w0, w1 = g
    assert w0.x[2].tolist() == [[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]]  # mean, then ffill
    assert w0.x[1].tolist() == [[0.0, 0.0, 0.0], [0.0, 7.0, 1.0]]
    assert w1.x[2].tolist() == [[1.0, 0.0, 0.0], [3.0, 0.0, 1.0]]
    assert w1.x[0].tolist() == [[9.0, 0.0, 0.0], [9.0, 0.0, 0.0]]
    assert w0.node_mask.tolist() == [True, True, True]
    assert w1.node_mask.tolist() == [False, True, True]
    assert w0.edge_index.shape == (2, 0) and w0.edge_attr.shape == (0, 3)


def test_metric_fill_zero_and_per_metric_mask(tiny_metrics):
    g = build_dynamic_graph(
        metrics=tiny_metrics, spec=SPEC, metric_fill="zero", metric_mask="per_metric"
    )
    assert g.feature_names == ["metric:cpu", "metric:mem", "mask:metric:cpu", "mask:metric:mem"]
    assert g[0].x[2].tolist() == [[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    g = build_dynamic_graph(metrics=tiny_metrics, spec=SPEC, metric_mask="none")
    assert g.feature_names == ["metric:cpu", "metric:mem"]


def test_logs_counts_and_template_cap(tiny_logs):
    g = build_dynamic_graph(logs=tiny_logs, spec=SPEC)
    assert g.vocab.names == ["db", "web"]
    assert g.feature_names == ["log:GET <*>", "log:timeout"]
    assert g[0].x[1].tolist() == [[3.0, 0.0], [0.0, 0.0]]
    assert g[1].x[1].tolist() == [[0.0, 0.0], [0.0, 4.0]]
    capped = build_dynamic_graph(logs=tiny_logs, spec=SPEC, max_templates=1)
    assert capped.feature_names == ["log:timeout", "log:other"]
    assert capped[0].x[1].tolist() == [[0.0, 3.0], [0.0, 0.0]]


def test_all_sources_together(tiny_spans, tiny_metrics, tiny_logs):
    g = build_dynamic_graph(tiny_spans, tiny_metrics, tiny_logs, spec=SPEC)
    _validate_all(g)
    assert g.vocab.names == ["api", "cache", "db", "web"]
    assert g.feature_names == list(SPAN_FEATURES) + [
        "metric:cpu",
        "metric:mem",
        "mask:metrics",
        "log:GET <*>",
        "log:timeout",
    ]
    web = g[0].x[3]
    assert web[0].tolist() == [1, 0, 10, 10, 10, 10, 1.0, 0, 1, 3, 0]
    assert g[0].x[1, :, 6].tolist() == [9.0, 9.0]  # cache: metrics only
    assert g[0].x[1, :, :6].abs().sum() == 0
    assert g[0].edge_index.tolist() == [[0, 3], [2, 0]]  # ids shift with 'cache'
    assert g[1].node_mask.tolist() == [True, False, True, True]


def test_features_fix_the_feature_set(tiny_spans, tiny_metrics, tiny_logs):
    names = ["metric:mem", "metric:disk", "mask:metrics", "span:req_count", "log:timeout"]
    g = build_dynamic_graph(tiny_spans, tiny_metrics, tiny_logs, spec=SPEC, features=names)
    assert g.feature_names == names
    assert g[0].x[2].tolist() == [[0, 0, 0, 1, 0], [7, 0, 1, 1, 1]]  # db
    assert g.meta["dropped_features"] == {"metrics": 4, "logs": 2}
    with pytest.raises(GraphadInputError, match="unknown feature name"):
        build_dynamic_graph(tiny_spans, spec=SPEC, features=["cpu"])
    with pytest.raises(GraphadInputError, match="cannot be built"):
        build_dynamic_graph(tiny_spans, spec=SPEC, features=["log:timeout"])


# ------------------------------------------------------------------ vocabularies
def test_vocab_ignore_drops_and_counts(tiny_spans):
    vocab = NodeVocab(["web", "api"], unknown="ignore")
    g = build_dynamic_graph(tiny_spans, spec=SPEC, vocab=vocab)
    assert g.vocab.names == ["web", "api"]
    assert g.meta["dropped_unknown"] == {"spans": 3}
    assert g[0].edge_index.tolist() == [[0], [1]]
    assert g[0].edge_attr.tolist() == [[2, 0, 3]]


def test_vocab_add_appends_to_a_copy(tiny_spans):
    vocab = NodeVocab(["web"], unknown="add")
    g = build_dynamic_graph(tiny_spans, spec=SPEC, vocab=vocab)
    assert g.vocab.names == ["web", "api", "db"]
    assert vocab.names == ["web"]


def test_vocab_keeps_absent_nodes(tiny_spans):
    g = build_dynamic_graph(tiny_spans, spec=SPEC, vocab=NodeVocab(["api", "db", "web", "queue"]))
    assert g[0].node_mask.tolist() == [True, True, True, False]
    assert g[0].x[3].abs().sum() == 0
    _validate_all(g)


def test_vocab_error_names_source(tiny_spans):
    with pytest.raises(UnknownNodeError, match=r"spans.*unknown node.*'db'"):
        build_dynamic_graph(tiny_spans, spec=SPEC, vocab=NodeVocab(["web", "api"]))


# ------------------------------------------------------------------ time range
def test_explicit_range_and_outside_records(tiny_spans):
    g = build_dynamic_graph(tiny_spans, spec=WindowSpec.of(10), start_ns=10, end_ns=20)
    assert len(g) == 1
    assert g.meta["outside_range"] == {"spans": 5}
    assert g[0].x[:, 0, 0].tolist() == [1, 1, 1]
    assert g[0].edge_index.tolist() == [[2], [0]]


def test_stride_not_a_multiple_of_step(tiny_spans):
    spec = WindowSpec.of(10, stride=5, step=10)
    g = build_dynamic_graph(tiny_spans, spec=spec, end_ns=30)
    assert g.window_end.tolist() == [10, 15, 20, 25, 30]
    alone = build_dynamic_graph(tiny_spans, spec=WindowSpec.of(10), start_ns=5, end_ns=15)
    assert torch.equal(g[1].x, alone[0].x)
    assert torch.equal(g[1].edge_index, alone[0].edge_index)


def test_save_load_roundtrip(tmp_path, tiny_spans, tiny_metrics):
    g = build_dynamic_graph(tiny_spans, tiny_metrics, spec=SPEC)
    g.save(tmp_path / "g.pt")
    back = DynamicGraph.load(tmp_path / "g.pt")
    assert back.vocab == g.vocab and back.meta == g.meta
    assert torch.equal(back.x, g.x)


# ------------------------------------------------------------------ metric granularity
def test_metric_granularity(tiny_spans, tiny_metrics):
    g = build_dynamic_graph(tiny_spans, tiny_metrics, spec=SPEC, granularity="metric")
    _validate_all(g)
    names = g.vocab.names
    assert "web/cpu" in names and "db/mem" in names and "cache/cpu" in names
    assert "web/span:req_count" in names and "db/cpu" not in names
    assert len(names) == 3 * 6 + 3
    assert g.feature_names == ["value"] and g.num_features == 1
    w0 = g[0]
    web_cpu = names.index("web/cpu")
    assert w0.x[web_cpu, :, 0].tolist() == [1.0, 1.0]
    assert w0.observed[web_cpu].tolist() == [True, False]
    assert g[1].node_mask[names.index("cache/cpu")].item() is False
    assert g.meta["entities"][web_cpu] == "web"
    # web->api and api->db calls lifted to every span feature the entities share
    src, dst = w0.edge_index
    pairs = {(names[s], names[d]) for s, d in zip(src.tolist(), dst.tolist(), strict=True)}
    assert ("web/span:req_count", "api/span:req_count") in pairs
    assert ("api/span:latency_p99_ms", "db/span:latency_p99_ms") in pairs
    assert len(pairs) == w0.edge_index.size(1) == 2 * 6


def test_metric_granularity_with_vocab(tiny_metrics):
    vocab = NodeVocab(["web/cpu", "web/disk", "db/mem"], unknown="ignore")
    g = build_dynamic_graph(metrics=tiny_metrics, spec=SPEC, granularity="metric", vocab=vocab)
    assert g.vocab.names == ["web/cpu", "web/disk", "db/mem"]
    assert g[0].x[:, :, 0].tolist() == [[1.0, 1.0], [0.0, 0.0], [0.0, 7.0]]
    assert g[0].node_mask.tolist() == [True, False, True]
    assert g.meta["dropped_unknown"]["metrics"] == 1  # cache/cpu
    with pytest.raises(UnknownNodeError, match="cache/cpu"):
        build_dynamic_graph(
            metrics=tiny_metrics, spec=SPEC, granularity="metric", vocab=NodeVocab(["web/cpu"])
        )


# ------------------------------------------------------------------ bad input
def test_bad_inputs(tiny_spans):
    with pytest.raises(GraphadInputError, match="no telemetry given"):
        build_dynamic_graph(spec=SPEC)
    with pytest.raises(SchemaError, match="spans, field 'service': required field missing"):
        build_dynamic_graph(tiny_spans.drop(columns="service"), spec=SPEC)
    with pytest.raises(GraphadInputError, match="spec must be a WindowSpec"):
        build_dynamic_graph(tiny_spans, spec="10s")
    with pytest.raises(GraphadInputError, match="granularity.*Could not resolve 'pod'"):
        build_dynamic_graph(tiny_spans, spec=SPEC, granularity="pod")
    with pytest.raises(GraphadInputError, match="metric_fill"):
        build_dynamic_graph(tiny_spans, spec=SPEC, metric_fill="mean")
    with pytest.raises(GraphadInputError, match="max_templates"):
        build_dynamic_graph(tiny_spans, spec=SPEC, max_templates=0)
    with pytest.raises(GraphadInputError, match="shorter than one window"):
        build_dynamic_graph(tiny_spans, spec=WindowSpec.of(100, step=10))
    with pytest.raises(GraphadInputError, match="must be a pandas DataFrame"):
        build_dynamic_graph([1, 2], spec=SPEC)
    with pytest.raises(GraphadInputError, match="no records"):
        build_dynamic_graph(tiny_spans.iloc[:0], spec=SPEC)


def test_bad_values(tiny_spans, tiny_metrics):
    spans = tiny_spans.assign(start_ns=tiny_spans["start_ns"].astype(float))
    with pytest.raises(SchemaError, match="start_ns.*timestamps must be int64 ns"):
        build_dynamic_graph(spans, spec=SPEC)
    metrics = tiny_metrics.astype({"node": object})
    metrics.loc[2, "node"] = None
    with pytest.raises(GraphadInputError, match="metrics, record 3, field 'node'"):
        build_dynamic_graph(metrics=metrics, spec=SPEC)


def test_empty_frame_with_explicit_range(tiny_spans):
    g = build_dynamic_graph(
        tiny_spans.iloc[:0], spec=SPEC, start_ns=0, end_ns=20, vocab=NodeVocab(["web"])
    )
    assert g[0].x.shape == (1, 2, 6) and g[0].x.abs().sum() == 0
    assert g[0].node_mask.tolist() == [False]
