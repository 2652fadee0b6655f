from PIL import Image

from graphad.cli.main import main

PICTURES = ["propagation.png", "propagation.gif", "heatmap.png", "timeline.png", "rca.png"]


def _check_pictures(folder):
    for name in PICTURES:
        path = folder / name
        assert path.stat().st_size > 1000, name
    with Image.open(folder / "propagation.gif") as image:
        assert image.n_frames == 8


def test_demo_on_the_bundled_real_fault(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    for expected in (
        "ingested:",
        "edges:",
        "records read",
        "graph:",
        "anomaly onset:  true",
        "detected",
        "root-cause candidates",
        "ground truth:",
        "pictures:",
    ):
        assert expected in text
    # the bundled fault is one the benchmark ranks first (with or without the fault-free
    # reference, and with 5-20 % of its traces): the demo must too
    assert "the true root cause is ranked 1" in text
    for name in PICTURES:
        assert str(out / name) in text
    _check_pictures(out)


def test_demo_simulated_and_quiet(tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["demo", "--simulate", "--seed", "2", "--quiet", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "ingested:" not in text  # --quiet keeps only the results
    assert text.splitlines()[0].split() == ["rank", "node", "score", "truth"]
    _check_pictures(out)


def test_demo_bad_detector(tmp_path, capsys):
    assert main(["demo", "--detector", "nope", "-o", str(tmp_path), "-q"]) == 2
    assert "Could not resolve 'nope'" in capsys.readouterr().err
