import json

import numpy as np
import pandas as pd
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
                "--force",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    # the example's node scores after 00:08 stay below those before it: no answer, but
    # --force prints the ranking, flagged
    assert lines[0] == "onset: 2024-01-01T00:08:00Z; ranker: pagerank"
    assert lines[1].startswith("FLAGGED (--force): no node's evidence is above its chance")
    assert lines[2].split() == ["rank", "node", "score"]
    ranked = [line for line in lines[4:] if line.split()[0].isdigit()]
    assert [line.split()[0] for line in ranked] == ["1", "2", "3"]
    assert {line.split()[1] for line in ranked} <= {
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
                "--node-rule",
                "service",
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
        node_rule="service",
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


def _wide_edge_csv(path, onset_s: int) -> None:
    """Per-edge median latency a minute for 30 minutes; both edges into db slow 6x at
    the onset (minute 20); one minute without calls on api -> cart."""
    rng = np.random.default_rng(0)
    minutes = np.arange(30)
    base = {
        "web_api": 0.02,
        "web_cart": 0.015,
        "api_db": 0.004,
        "cart_db": 0.005,
        "api_cart": 0.008,
    }
    frame = pd.DataFrame({"timestamp": onset_s + 60 * (minutes - 20)})
    for edge, level in base.items():
        values = level * np.exp(rng.normal(0.0, 0.05, len(minutes)))
        if edge.endswith("_db"):
            values[minutes >= 20] *= 6.0
        frame[edge] = values
    frame.loc[3, "api_cart"] = np.nan
    frame.round(6).to_csv(path, index=False)


def test_rca_from_wide_edge_metrics(tmp_path, capsys):
    onset_s = 1_700_001_200
    path = tmp_path / "wide.csv"
    _wide_edge_csv(path, onset_s)
    args = ["rca", "--edge-metrics", str(path), "--edge-separator", "_"]
    assert main([*args, "--onset", str(onset_s * 10**9), "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert "150 records read, 149 kept; no_calls: 1 (e.g. record 4, column 'api_cart')" in out
    result = json.loads(out[out.index("{") :])
    ranking = [r["node"] for r in result["ranking"]]
    assert ranking[0] == "db" and sorted(ranking) == ["api", "cart", "db", "web"]
    assert set(result["extra"]["sources"]) == {"edge"}
    # the command ranks exactly as the library does on the same file
    from graphad.datasets.base import FaultCase
    from graphad.ingest import read_edge_metrics
    from graphad.rca import MultiSourceRanker

    edges, _ = read_edge_metrics(path, separator="_")
    assert edges["metric"].unique().tolist() == ["wide"]  # the file stem
    case = FaultCase(
        case_id="lib",
        system="",
        onset_ns=onset_s * 10**9,
        root_cause="",
        fault_type="",
        edge_metrics=edges,
    )
    assert MultiSourceRanker().rank(case).nodes == ranking


def test_rca_wide_edge_metrics_need_a_separator(tmp_path, capsys):
    path = tmp_path / "wide.csv"
    _wide_edge_csv(path, 1_700_001_200)
    assert main(["rca", "--edge-metrics", str(path), "--onset", "0"]) == 2
    err = capsys.readouterr().err
    assert "field 'separator': a wide edge-metrics table needs a separator" in err
    assert "--edge-separator" in err
