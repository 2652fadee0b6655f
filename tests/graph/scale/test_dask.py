"""The Dask engine against the single-process builder (LocalCluster, 2 worker processes)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from graphad.exceptions import GraphadInputError, UnknownNodeError
from graphad.graph import NodeVocab, WindowSpec, build_dynamic_graph
from graphad.graph.features import request_mask
from graphad.graph.rules import resolve_node_rule
from graphad.ingest import IngestReport, read_traces

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pytest.importorskip("ddsketch")

from graphad.graph.scale import base_grid, build_dynamic_graph_dask, span_files  # noqa: E402

NEZHA = (
    Path(__file__).parents[4] / "shared" / "data" / "nezha" / "rca_data" / "2023-01-29" / "trace"
)
NEZHA_READ = {
    "columns": {
        "trace_id": "TraceID",
        "span_id": "SpanID",
        "parent_id": "ParentID",
        "service": "PodName",
        "operation": "OperationName",
        "start_ns": "StartTimeUnixNano",
    },
    "end_column": "EndTimeUnixNano",
}
ALPHA = 0.01
SPEC = WindowSpec.of("60s", stride="20s", step="10s")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="1GB",
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def _nezha_files() -> list[str]:
    files = [NEZHA / f"08_{m}_trace.csv.xz" for m in (43, 44, 45)]
    if not all(f.exists() for f in files):
        pytest.skip("Nezha trace files not available")
    return [str(f) for f in files]


def _single(files, read_options, **kwargs):
    frames, reports = zip(*[read_traces(f, **read_options) for f in files], strict=True)
    spans = pd.concat(frames, ignore_index=True)
    total = IngestReport()
    for report in reports:
        total.merge(report)
    return spans, total, build_dynamic_graph(spans, **kwargs)


def _lower_quantiles(spans, graph, rule) -> dict:
    """Exact 'lower' quantiles (the rank DDSketch answers) per (grid step, node)."""
    spans = spans[request_mask(spans.get("kind"), len(spans))]
    step = (spans["start_ns"].to_numpy() - graph.meta["start_ns"]) // graph.spec.step
    node = rule(spans["service"]).astype(str)
    frame = pd.DataFrame({"step": step, "node": node, "d": spans["duration_ns"].to_numpy()})
    grouped = frame.groupby(["step", "node"])["d"]
    return {q: grouped.quantile(q, interpolation="lower").to_dict() for q in (0.5, 0.9, 0.99)}


def _assert_same_graph(ref, got, spans=None, rule=None):
    assert got.vocab.names == ref.vocab.names
    assert got.feature_names == ref.feature_names
    assert got.edge_feature_names == ref.edge_feature_names
    assert len(got) == len(ref) > 0
    meta = {
        k: v
        for k, v in got.meta.items()
        if k not in ("engine", "relative_accuracy", "partitions", "ingest")
    }
    assert meta == ref.meta
    lower = _lower_quantiles(spans, ref, rule) if spans is not None else None
    checked = 0
    for a, b in zip(ref, got, strict=True):
        assert torch.equal(a.window_start, b.window_start)
        assert torch.equal(a.edge_index, b.edge_index)
        assert torch.equal(a.edge_attr, b.edge_attr)  # calls, errors, mean latency
        assert torch.equal(a.node_mask, b.node_mask)
        assert torch.equal(a.x[..., :3], b.x[..., :3])  # requests, errors, mean latency
        has = a.x[..., 0] > 0
        assert torch.equal(has, b.x[..., 3] > 0)
        if lower is None:
            continue
        first = (int(a.window_start) - ref.meta["start_ns"]) // ref.spec.step
        for j, q in enumerate((0.5, 0.9, 0.99)):
            nodes, steps = np.nonzero(has.numpy())
            names = ref.vocab.names
            exact = np.array(
                [lower[q][(first + t, names[n])] for n, t in zip(nodes, steps, strict=True)]
            )
            approx = b.x[nodes, steps, 3 + j].double().numpy()
            assert np.all(np.abs(approx - exact / 1e6) <= ALPHA * exact / 1e6 * (1 + 1e-6) + 1e-9)
            checked += len(nodes)
    if lower is not None:
        assert checked > 0


def test_real_files_match_single_process(client):
    files = _nezha_files()
    spans, report, ref = _single(files, NEZHA_READ, spec=SPEC, node_rule="service")
    got = build_dynamic_graph_dask(
        files, spec=SPEC, node_rule="service", client=client, **NEZHA_READ
    )
    _assert_same_graph(ref, got, spans, resolve_node_rule("service"))
    assert got.meta["ingest"] == report.to_dict()  # the sum of the files' reports
    assert got.meta["ingest"]["n_records"] == len(spans)


def _write_cross_file(tmp_path: Path) -> list[str]:
    """Three span files in which traces, and parents and children, straddle files."""
    rng = np.random.default_rng(0)
    rows = []
    for t in range(300):
        start = int(rng.integers(0, 50_000_000_000))
        a, b, c, d = (f"{t}{s}" for s in "abcd")
        rows.append((f"t{t}", a, "", "web", start, int(rng.integers(1, 9e7)), 0, "server"))
        rows.append((f"t{t}", b, a, "web", start + 5, int(rng.integers(1, 9e6)), 0, "client"))
        rows.append(
            (
                f"t{t}",
                c,
                b,
                f"db-{t % 3}",
                start + 9,
                int(rng.integers(0, 9e6)),
                int(t % 7 == 0),
                "server",
            )
        )
        if t % 10 == 0:  # a repeated (trace, span) pair: the first one is the parent
            rows.append((f"t{t}", b, a, "cache", start + 11, 40, 0, ""))
            rows.append((f"t{t}", d, b, "queue", start + 12, 50, 1, "consumer"))
    frame = pd.DataFrame(
        rows,
        columns=[
            "trace_id",
            "span_id",
            "parent_id",
            "service",
            "start_ns",
            "duration_ns",
            "status",
            "kind",
        ],
    )
    frame["operation"] = "op"
    frame = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    paths = []
    for i, part in enumerate(np.array_split(np.arange(len(frame)), 3)):
        path = tmp_path / f"part{i}.{'parquet' if i == 1 else 'csv'}"
        chunk = frame.iloc[part]
        chunk.to_parquet(path) if i == 1 else chunk.to_csv(path, index=False)
        paths.append(str(path))
    return paths


def test_cross_file_parents_vocab_and_report(client, tmp_path):
    files = _write_cross_file(tmp_path)
    spec = WindowSpec.of("20s", stride="10s", step="5s")
    vocab = NodeVocab(["db", "web", "queue"], unknown="ignore")
    spans, report, ref = _single(files, {}, spec=spec, node_rule="service", vocab=vocab)
    got = build_dynamic_graph(
        tmp_path, spec=spec, node_rule="service", vocab=vocab, engine="dask", client=client
    )
    _assert_same_graph(ref, got, spans, resolve_node_rule("service"))
    assert got.meta["dropped_unknown"]["spans"] > 0  # the cache spans
    assert sum(int(g.edge_attr[:, 0].sum()) for g in got) > 0
    assert got.meta["ingest"]["counts"] == dict(report.counts)
    assert report.counts["orphan_span"] > 0  # per-file orphans, joined across files here


def test_frame_input_with_explicit_range(client):
    rng = np.random.default_rng(3)
    n = 2000
    spans = pd.DataFrame(
        {
            "trace_id": [f"t{i // 4}" for i in range(n)],
            "span_id": [f"s{i % 4}" for i in range(n)],
            "parent_id": ["" if i % 4 == 0 else f"s{i % 4 - 1}" for i in range(n)],
            "service": rng.choice(["a", "b", "c"], n),
            "start_ns": rng.integers(0, 10_000, n),
            "duration_ns": rng.integers(0, 1000, n),
            "status": rng.integers(0, 2, n),
        }
    )
    spec = WindowSpec.of(900, stride=600, step=300)
    kw = dict(spec=spec, start_ns=150, end_ns=9_750)
    ref = build_dynamic_graph(spans, **kw)
    got = build_dynamic_graph_dask(spans, client=client, npartitions=4, **kw)
    assert base_grid(spec, 150, 9_750) == (150, 0)
    _assert_same_graph(ref, got)
    assert got.meta["outside_range"]["spans"] == ref.meta["outside_range"]["spans"] > 0


def test_options_it_cannot_do_are_refused():
    spans = pd.DataFrame(
        {
            "trace_id": ["t"],
            "span_id": ["a"],
            "parent_id": [""],
            "service": ["x"],
            "start_ns": [0],
            "duration_ns": [1],
            "status": [0],
        }
    )
    metrics = pd.DataFrame({"ts_ns": [0], "node": ["x"], "metric": ["cpu"], "value": [1.0]})
    with pytest.raises(GraphadInputError, match="engine='spark'"):
        build_dynamic_graph(spans, spec=SPEC, engine="spark")
    with pytest.raises(GraphadInputError, match="metrics"):
        build_dynamic_graph(spans, metrics, spec=SPEC, engine="dask")
    with pytest.raises(GraphadInputError, match="no span files"):
        span_files([])
    import dask

    with dask.config.set(scheduler="synchronous"), pytest.raises(UnknownNodeError):
        build_dynamic_graph_dask(spans, spec=WindowSpec.of(10), vocab=NodeVocab(["y"]))


def test_cli_build_on_a_scheduler(client, tmp_path):
    from graphad.cli.main import main
    from graphad.graph import DynamicGraph

    files = _write_cross_file(tmp_path)
    out = tmp_path / "g.pt"
    argv = ["build", "--traces", *files, "--window", "20s", "--step", "5s", "-o", str(out), "-q"]
    assert main([*argv, "--scheduler", client.scheduler.address]) == 0
    _, _, ref = _single(files, {}, spec=WindowSpec.of("20s", step="5s"))
    _assert_same_graph(ref, DynamicGraph.load(out))
    assert main([*argv, "--metrics", files[0], "--scheduler", client.scheduler.address]) == 2
