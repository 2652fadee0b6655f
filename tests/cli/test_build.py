import pytest

from graphad.cli.main import main
from graphad.graph import DynamicGraph

from .conftest import EXAMPLES_DATA


def test_build_from_jaeger(jaeger_graph):
    graph = DynamicGraph.load(jaeger_graph)
    assert graph.vocab.names == ["authservice", "database", "frontend", "userservice"]
    assert graph.num_steps == 3 and len(graph) == 9
    assert graph.spec.step == 60 * 10**9


def test_build_prints_the_ingestion_report(tmp_path, capsys):
    out = tmp_path / "g.pt"
    assert (
        main(
            [
                "build",
                "--traces",
                str(EXAMPLES_DATA / "jaeger_small.json"),
                "--window",
                "2min",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "42 records read, 42 kept" in text
    assert f"wrote {out}" in text and "4 nodes" in text


def test_build_from_span_table_and_metrics(sim_files, tmp_path):
    out = tmp_path / "sim.pt"
    assert (
        main(
            [
                "build",
                "--traces",
                str(sim_files["spans"]),
                "--metrics",
                str(sim_files["metrics"]),
                "--node-rule",
                "service",
                "--window",
                "5min",
                "-o",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    graph = DynamicGraph.load(out)
    assert sim_files["root_cause"] in graph.vocab.names
    assert "cpu" in " ".join(graph.feature_names)


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "nothing to build from"),
        (["--traces", "missing.json"], "missing.json: no such file"),
        (
            ["--traces", str(EXAMPLES_DATA / "jaeger_small.json"), "--window", "1x"],
            "unreadable duration",
        ),
        (
            ["--traces", str(EXAMPLES_DATA / "jaeger_small.json"), "--window", "1h"],
            "the data spans 9.39min (2024-01-01T00:00:55.615Z - 00:10:19.119Z); "
            "--window 1h is longer: pass --window 2min",
        ),
    ],
)
def test_build_bad_input(args, message, tmp_path, capsys):
    assert main(["build", *args, "-o", str(tmp_path / "g.pt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("graphad: error: ") and message in err[0]


def test_build_bad_trace_file(tmp_path, capsys):
    bad = tmp_path / "traces.json"
    bad.write_text('{"data": [{"spans": "oops"}]}')
    assert main(["build", "--traces", str(bad), "-o", str(tmp_path / "g.pt")]) == 2
    assert str(bad) in capsys.readouterr().err
