import json

import pytest
from PIL import Image

from graphad.cli.main import main


@pytest.fixture(scope="module")
def scores_file(scored):
    return scored[1]


def test_plot_everything(jaeger_graph, scores_file, tmp_path, capsys):
    ranking = tmp_path / "rca.json"
    ranking.write_text(
        json.dumps(
            {
                "method": "score",
                "onset_ns": 1704067680000000000,
                "ranking": [
                    {"node": "userservice", "score": 2.0},
                    {"node": "database", "score": 1.0},
                ],
            }
        )
    )
    out = tmp_path / "pics"
    assert (
        main(
            [
                "plot",
                str(scores_file),
                "--graph",
                str(jaeger_graph),
                "--rca",
                str(ranking),
                "--truth",
                "userservice",
                "--threshold",
                "3",
                "--dpi",
                "50",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out.split()
    names = [
        "heatmap.png",
        "timeline.png",
        "graph.png",
        "propagation.png",
        "propagation.gif",
        "rca.png",
    ]
    assert printed == [str(out / n) for n in names]
    with Image.open(out / "heatmap.png") as image:
        assert image.size == (400, 225)  # 8 x 4.5 inches at 50 dpi
    with Image.open(out / "propagation.gif") as image:
        assert image.n_frames >= 2


def test_plot_scores_only(scores_file, tmp_path, capsys):
    assert main(["plot", str(scores_file), "--dpi", "40", "-o", str(tmp_path)]) == 0
    assert capsys.readouterr().out.split() == [
        str(tmp_path / "heatmap.png"),
        str(tmp_path / "timeline.png"),
    ]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--kinds", "gif"], "'gif' needs the graph"),
        (["--kinds", "rca"], "'rca' needs a ranking"),
        (["--kinds", "pie"], "Could not resolve 'pie'"),
        (["--rca", "missing.json"], "missing.json: no such file"),
    ],
)
def test_plot_bad_input(extra, message, scores_file, tmp_path, capsys):
    assert main(["plot", str(scores_file), *extra, "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("graphad: error: ") and message in err


def test_plot_rejects_a_table_that_is_not_scores(wide_csv, tmp_path, capsys):
    assert main(["plot", str(wide_csv), "-o", str(tmp_path)]) == 2
    assert f"{wide_csv}, field 'window_end': not a scores table" in capsys.readouterr().err


def test_plot_reads_the_threshold_from_the_model(scored, tmp_path, monkeypatch):
    from graphad import viz
    from graphad.cli.score import load_detector

    model, scores = scored
    drawn = {}
    original = viz.plot_window_scores

    def spy(*args, **kwargs):
        drawn.update(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(viz, "plot_window_scores", spy)
    out = tmp_path / "pics"
    args = ["plot", str(scores), "--kinds", "timeline", "--model", str(model), "-o", str(out)]
    assert main([*args, "-q"]) == 0
    assert drawn["threshold"] == load_detector(str(model)).threshold_
    assert (out / "timeline.png").stat().st_size > 1000
    assert main([*args, "--threshold", "2.5", "-q"]) == 0  # an explicit one wins
    assert drawn["threshold"] == 2.5
