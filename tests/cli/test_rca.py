import json

import pytest

from graphad.cli.main import main


def test_rca_table_from_graph_and_scores(jaeger_graph, scored, capsys):
    assert (
        main(
            [
                "rca",
                str(jaeger_graph),
                "--scores",
                str(scored[1]),
                "--onset",
                "2024-01-01T00:08:00Z",
                "--top",
                "3",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["rank", "node", "score"]
    assert len(lines) == 2 + 3
    assert {line.split()[1] for line in lines[2:]} <= {
        "authservice",
        "database",
        "frontend",
        "userservice",
    }


def test_rca_json_with_detected_onset(jaeger_graph, scored, tmp_path, capsys):
    out = tmp_path / "rca.json"
    assert (
        main(
            [
                "rca",
                str(jaeger_graph),
                "--model",
                str(scored[0]),
                "--detect",
                "--ranker",
                "score",
                "--format",
                "json",
                "-o",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.read_text())
    assert printed["method"] == "score" and len(printed["ranking"]) == 4
    assert printed["onset_ns"] is not None


def test_rca_from_telemetry_ranks_every_service(sim_files, capsys):
    assert (
        main(
            [
                "rca",
                "--traces",
                str(sim_files["spans"]),
                "--metrics",
                str(sim_files["metrics"]),
                "--onset",
                str(sim_files["onset"]),
                "--format",
                "json",
                "-q",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    ranking = [r["node"] for r in result["ranking"]]
    assert result["method"] == "graphad"  # the multi-source ranker by default
    assert result["onset_ns"] == sim_files["onset"]
    assert len(ranking) == len(set(ranking)) == 5
    scores = [r["score"] for r in result["ranking"]]
    assert scores == sorted(scores, reverse=True)
    # the command ranks exactly as the library does on the same files
    from graphad import ingest
    from graphad.datasets.base import FaultCase
    from graphad.rca import MultiSourceRanker

    spans, _ = ingest.read_traces(sim_files["spans"])
    metrics, _ = ingest.read_metrics(sim_files["metrics"])
    case = FaultCase(
        case_id="lib",
        system="",
        onset_ns=sim_files["onset"],
        root_cause="",
        fault_type="",
        spans=spans,
        metrics=metrics,
    )
    library = MultiSourceRanker().rank(case)
    assert ranking == library.nodes
    assert scores == pytest.approx(library.scores, abs=1e-3)
    # the simulated CPU fault (spans and metrics only; accuracy over many faults is
    # measured by benchmarks/sim_rca.py)
    assert ranking.index(sim_files["root_cause"]) < 3


def test_rca_from_telemetry_with_estimated_onset(sim_files, capsys):
    assert (
        main(
            [
                "rca",
                "--traces",
                str(sim_files["spans"]),
                "--metrics",
                str(sim_files["metrics"]),
                "--detect",
                "--ranker",
                "baro",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "estimated onset:" in out and "rank  node" in out


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--ranker", "nope", "--onset", "0"], "Could not resolve 'nope'"),
        (["--onset", "yesterday-ish"], "unreadable time"),
        (["--onset", "0"], "a graph needs its node scores"),
    ],
)
def test_rca_bad_input(extra, message, jaeger_graph, capsys):
    assert main(["rca", str(jaeger_graph), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("graphad: error: ") and message in err


def test_rca_needs_graph_or_telemetry(capsys):
    assert main(["rca", "--onset", "0"]) == 2
    assert "give either a graph or telemetry files" in capsys.readouterr().err


def test_rca_needs_onset_or_detect(jaeger_graph, capsys):
    assert main(["rca", str(jaeger_graph)]) == 2
    assert "one of the arguments --onset --detect is required" in capsys.readouterr().err
