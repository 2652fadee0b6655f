"""Every example runs with --small and saves its figures (subprocess, cwd = tmp_path).

The five runs are started together (one subprocess each) and checked one by one, so the
wall time is close to that of the slowest example on a machine with spare cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
#: script -> (shared-data folder it reads or None, expected figure files)
CASES = {
    "trace_to_graph.py": (None, ["requests_heatmap.png", "service_graph.png"]),
    "asd_crlbsad.py": (
        "asd",
        ["heatmap_CRLBSAD.png", "timeline_CRLBSAD.png", "timeline_RobustZScore.png"],
    ),
    "nezha_rca.py": (
        "nezha",
        ["propagation.gif", "propagation.png", "rca_baro.png", "rca_graphad.png"],
    ),
    "hdfs_sessions.py": ("hdfs", ["sessions.png"]),
    "custom_detector.py": ("asd", ["timeline.png"]),
}


@pytest.fixture(scope="module")
def runs(shared_data, tmp_path_factory) -> dict:
    """Start every example with --small at once; return script -> (result, out folder)."""
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    started = {}
    for script, (data, _) in CASES.items():
        cwd = tmp_path_factory.mktemp(script.removesuffix(".py"))
        args = [sys.executable, str(EXAMPLES / script), "--small", "--out", str(cwd / "out")]
        if data is not None:
            args += ["--root", str(shared_data / data)]
        started[script] = (
            subprocess.Popen(
                args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            ),
            cwd / "out",
        )
    done = {}
    for script, (process, out) in started.items():
        stdout, stderr = process.communicate(timeout=600)
        done[script] = (process.returncode, stdout, stderr, out)
    return done


def test_every_example_is_tested():
    assert {p.name for p in EXAMPLES.glob("*.py")} == set(CASES)


@pytest.mark.parametrize("script", sorted(CASES))
def test_example_runs_and_saves_its_figures(script, runs):
    code, stdout, stderr, out = runs[script]
    assert code == 0, stderr[-3000:]
    files = sorted(p.name for p in out.iterdir())
    assert files == CASES[script][1]
    assert all((out / f).stat().st_size > 1000 for f in files)


def test_example_outputs(runs):
    assert "42 records read, 42 kept" in runs["trace_to_graph.py"][1]
    assert "VUS-PR" in runs["asd_crlbsad.py"][1]
    assert "truth 'shippingservice' at rank" in runs["nezha_rca.py"][1]
    assert "DeepLog: AUC-ROC" in runs["hdfs_sessions.py"][1]
    assert "MedianShift" in runs["custom_detector.py"][1]
