import json

import numpy as np
import pandas as pd
import pytest

from graphad.cli.bench import parse_method_params
from graphad.cli.main import main


@pytest.fixture(scope="module")
def mts_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("mts")
    rng = np.random.default_rng(0)
    for name in ("srv-1", "srv-2"):
        pd.DataFrame(rng.normal(size=(200, 3)), columns=["m1", "m2", "m3"]).to_csv(
            root / f"{name}_train.csv", index=False
        )
        test = pd.DataFrame(rng.normal(size=(100, 3)), columns=["m1", "m2", "m3"])
        test.loc[60:70, "m2"] += 8.0
        test["label"] = 0
        test.loc[60:70, "label"] = 1
        test.to_csv(root / f"{name}_test.csv", index=False)
    return root


def test_bench_mts_table_and_json(mts_root, tmp_path, capsys):
    out = tmp_path / "mts.json"
    assert (
        main(
            [
                "bench",
                "mts",
                "--root",
                str(mts_root),
                "--detectors",
                "RobustZScore",
                "--param",
                "RobustZScore:window_size=5",
                "--json",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "RobustZScore" in text and "AUC" in text.upper()
    data = json.loads(out.read_text())
    assert data["kind"] == "mts"


def test_bench_mts_json_format(mts_root, capsys):
    assert (
        main(
            [
                "bench",
                "mts",
                "--root",
                str(mts_root),
                "--detectors",
                "RobustZScore",
                "--entities",
                "srv-1",
                "--format",
                "json",
                "-q",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert {r["entity"] for r in data["records"] if "entity" in r} <= {"srv-1"}


def test_bench_rca_on_real_nezha(shared_data, capsys):
    assert (
        main(
            [
                "bench",
                "rca",
                "--dataset",
                "nezha",
                "--root",
                str(shared_data / "nezha"),
                "--rankers",
                "baro,random",
                "--limit",
                "2",
                "-q",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "AC@1" in text and "baro" in text


def test_bench_bad_input(tmp_path, capsys):
    assert main(["bench", "mts", "--root", str(tmp_path / "nope"), "--detectors", "x"]) == 2
    assert capsys.readouterr().err.strip() == f"graphad: error: {tmp_path / 'nope'}: no such folder"
    assert main(["bench"]) == 2
    assert (
        main(["bench", "mts", "--root", str(tmp_path), "--detectors", "x", "--param", "oops"]) == 2
    )
    assert "DETECTOR:NAME=VALUE" in capsys.readouterr().err


def test_parse_method_params():
    assert parse_method_params(["A:x=1", "B:y=[1, 2]"]) == {"A": {"x": 1}, "B": {"y": [1, 2]}}


def test_bench_logs_on_real_hdfs(shared_data, capsys):
    assert (
        main(
            [
                "bench",
                "logs",
                "--root",
                str(shared_data / "hdfs"),
                "--detectors",
                "DeepLog",
                "--param",
                "DeepLog:epochs=1",
                "--max-test",
                "100",
                "-q",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "DeepLog" in text and "AUC-ROC" in text


def test_bench_rca_metrics_only_view(shared_data, capsys):
    args = ["bench", "rca", "--root", str(shared_data / "nezha"), "--rankers", "nsigma"]
    assert main([*args, "--sources", "metrics", "--limit", "1", "--format", "json", "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"]["sources"] == ["metrics"]
    assert len(data["records"]) == 1 and data["records"][0]["rank"] is not None
