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
