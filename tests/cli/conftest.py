"""Inputs for the CLI tests: a small simulated system written as files, and a tiny series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from graphad.cli.main import main

EXAMPLES_DATA = Path(__file__).resolve().parents[2] / "examples" / "data"


@pytest.fixture(scope="session")
def sim_files(tmp_path_factory) -> dict:
    """Spans and metrics of a simulated fault as CSV files, with the truth."""
    from graphad.datasets import make_microservice_system

    system = make_microservice_system(
        5, duration="40min", fault_type="cpu", traces_per_step=4, pod_names=True, random_state=1
    )
    folder = tmp_path_factory.mktemp("sim")
    system.spans.to_csv(folder / "spans.csv", index=False)
    system.metrics.to_csv(folder / "metrics.csv.gz", index=False)
    return {
        "spans": folder / "spans.csv",
        "metrics": folder / "metrics.csv.gz",
        "onset": system.case.onset_ns,
        "root_cause": system.case.root_cause,
        "folder": folder,
    }


@pytest.fixture(scope="session")
def jaeger_graph(tmp_path_factory) -> Path:
    """The example Jaeger file built into a graph through the CLI."""
    out = tmp_path_factory.mktemp("graph") / "graph.pt"
    code = main(
        [
            "build",
            "--traces",
            str(EXAMPLES_DATA / "jaeger_small.json"),
            "--window",
            "3min",
            "--step",
            "1min",
            "-o",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    return out


@pytest.fixture(scope="session")
def wide_csv(tmp_path_factory) -> Path:
    """Three metrics over 120 steps; metric 'b' jumps at step 100 (label 1 from there)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(0.0, 1.0, (120, 3)), columns=["a", "b", "c"])
    frame.loc[100:, "b"] += 12.0
    frame["label"] = (np.arange(120) >= 100).astype(int)
    path = tmp_path_factory.mktemp("series") / "series.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def scored(jaeger_graph, tmp_path_factory):
    """A RobustZScore model fitted on the Jaeger graph and its scores: ``(model, scores)``."""
    folder = tmp_path_factory.mktemp("scored")
    model, scores = folder / "m.pt", folder / "s.csv"
    assert (
        main(
            [
                "fit",
                str(jaeger_graph),
                "--detector",
                "RobustZScore",
                "--train-end",
                "2024-01-01T00:07:00Z",
                "-o",
                str(model),
                "-q",
            ]
        )
        == 0
    )
    assert main(["score", str(model), str(jaeger_graph), "-o", str(scores), "-q"]) == 0
    return model, scores


#: 2024-01-01T16:22:07Z, the start of the short capture.
SHORT_START_NS = 1_704_126_127_000_000_000


def write_short_traces(path: Path, seconds: int = 45, fault_at: int = 30) -> Path:
    """A 45-second capture as a span CSV: web -> api -> db, a trace every 0.25 s;
    db slows from 5 ms to 60 ms at second ``fault_at``."""
    rng = np.random.default_rng(3)
    rows = []
    for k in range(seconds * 4):
        start = SHORT_START_NS + k * 250_000_000
        slow = k >= fault_at * 4
        db = int((60e6 if slow else 5e6) * np.exp(rng.normal(0, 0.05)))
        api = db + int(2e6 * np.exp(rng.normal(0, 0.05)))
        web = api + int(1e6 * np.exp(rng.normal(0, 0.05)))
        trace = f"t{k:04d}"
        rows += [
            [trace, f"{trace}-1", "", "web", "GET /", start, web, 0],
            [trace, f"{trace}-2", f"{trace}-1", "api", "query", start + 500_000, api, 0],
            [trace, f"{trace}-3", f"{trace}-2", "db", "select", start + 900_000, db, 0],
        ]
    columns = [
        "trace_id",
        "span_id",
        "parent_id",
        "service",
        "operation",
        "start_ns",
        "duration_ns",
        "status",
    ]
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def short_traces(tmp_path_factory) -> Path:
    """The 45-second span CSV of :func:`write_short_traces`."""
    return write_short_traces(tmp_path_factory.mktemp("short") / "spans.csv")
