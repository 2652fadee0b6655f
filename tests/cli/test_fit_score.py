import numpy as np
import pandas as pd
import pytest

from graphad.cli.main import main
from graphad.detectors import BaseDetector


def test_fit_and_score_a_wide_table(wide_csv, tmp_path, capsys):
    model = tmp_path / "model.pt"
    assert (
        main(
            [
                "fit",
                str(wide_csv),
                "--detector",
                "RobustZScore",
                "--window-size",
                "5",
                "--train-end",
                "79",
                "-o",
                str(model),
            ]
        )
        == 0
    )
    detector = BaseDetector.load(model)
    assert type(detector).__name__ == "RobustZScore"
    assert detector.window_size == 5 and len(detector.train_scores_) == 76
    scores = tmp_path / "scores.parquet"
    assert main(["score", str(model), str(wide_csv), "-o", str(scores), "-q"]) == 0
    table = pd.read_parquet(scores)
    assert table.columns.tolist() == ["window_end", "window_score", "a", "b", "c"]
    assert table["window_end"].tolist() == list(range(4, 120))
    after = table[table["window_end"] >= 100]
    assert (after["window_score"] > detector.threshold_).all()
    assert (after["b"] > after[["a", "c"]].max(axis=1)).all()


def test_fit_a_graph_and_score_to_stdout(jaeger_graph, tmp_path, capsys):
    model = tmp_path / "model.pt"
    assert (
        main(
            [
                "fit",
                str(jaeger_graph),
                "--detector",
                "robustzscore",
                "--train-end",
                "2024-01-01T00:07:00Z",
                "-o",
                str(model),
                "-q",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["score", str(model), str(jaeger_graph)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "window_end,window_score,authservice,database,frontend,userservice"
    assert len(lines) == 10


def test_fit_params_are_passed(wide_csv, tmp_path):
    model = tmp_path / "m.pt"
    assert (
        main(
            [
                "fit",
                str(wide_csv),
                "--detector",
                "RobustZScore",
                "--param",
                "contamination=0.05",
                "-o",
                str(model),
                "-q",
            ]
        )
        == 0
    )
    assert BaseDetector.load(model).contamination == 0.05


@pytest.mark.parametrize(
    "args, message",
    [
        (["--detector", "Nope"], "Could not resolve 'Nope'"),
        (["--detector", "RobustZScore", "--param", "bogus=1"], "unknown parameter 'bogus'"),
        (["--detector", "RobustZScore", "--param", "novalue"], "unreadable parameter"),
        (["--detector", "RobustZScore", "--train-end", "-5"], "no rows before --train-end"),
    ],
)
def test_fit_bad_input(args, message, wide_csv, tmp_path, capsys):
    assert main(["fit", str(wide_csv), *args, "-o", str(tmp_path / "m.pt")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("graphad: error: ") and message in err


def test_fit_non_numeric_table(tmp_path, capsys):
    path = tmp_path / "t.csv"
    pd.DataFrame({"time": ["a", "b"], "x": [1.0, 2.0]}).to_csv(path, index=False)
    assert main(["fit", str(path), "--detector", "RobustZScore", "-o", "m.pt"]) == 2
    err = capsys.readouterr().err
    assert f"{path}, field 'time': non-numeric column" in err


def test_score_with_a_mismatched_input(wide_csv, tmp_path, capsys):
    model = tmp_path / "m.pt"
    assert main(["fit", str(wide_csv), "--detector", "RobustZScore", "-o", str(model), "-q"]) == 0
    other = tmp_path / "other.csv"
    pd.DataFrame(np.zeros((30, 2)), columns=["a", "b"]).to_csv(other, index=False)
    assert main(["score", str(model), str(other)]) == 2
    assert "windows do not match the training windows" in capsys.readouterr().err


def test_plugin_detector_from_a_file(wide_csv, tmp_path):
    from .conftest import EXAMPLES_DATA

    plugin = str(EXAMPLES_DATA.parent / "custom_detector.py")
    model = tmp_path / "m.pt"
    assert (
        main(
            [
                "fit",
                str(wide_csv),
                "--plugin",
                plugin,
                "--detector",
                "MedianShift",
                "-o",
                str(model),
                "-q",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "score",
                str(model),
                str(wide_csv),
                "--plugin",
                plugin,
                "-o",
                str(tmp_path / "s.csv"),
                "-q",
            ]
        )
        == 0
    )
    assert pd.read_csv(tmp_path / "s.csv").shape == (113, 5)


def test_missing_plugin(wide_csv, capsys):
    assert (
        main(["fit", str(wide_csv), "--plugin", "nowhere.py", "--detector", "x", "-o", "m.pt"]) == 2
    )
    assert capsys.readouterr().err.strip() == "graphad: error: nowhere.py: no such file"
    assert (
        main(
            [
                "fit",
                str(wide_csv),
                "--plugin",
                "no_such_module_xyz",
                "--detector",
                "x",
                "-o",
                "m.pt",
            ]
        )
        == 2
    )
    assert "cannot import plugin" in capsys.readouterr().err


def test_a_graph_scored_in_chunks_gives_the_same_table(jaeger_graph, tmp_path, monkeypatch):
    import graphad.cli.score as score
    from graphad.cli._common import read_windows

    model = tmp_path / "model.pt"
    args = ["fit", str(jaeger_graph), "--detector", "robustzscore"]
    assert main([*args, "--train-end", "2024-01-01T00:07:00Z", "-o", str(model), "-q"]) == 0
    detector = score.load_detector(str(model))
    data = read_windows(jaeger_graph)
    whole = score.score_input(detector, data)
    monkeypatch.setattr(score, "SCORE_CHUNK", 3)  # 10 windows: chunks of 3, 3, 3, 1
    chunked = score.score_input(detector, data, progress=True)
    pd.testing.assert_frame_equal(whole, chunked)
