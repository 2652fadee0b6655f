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


def test_demo_export_writes_the_readme_files(tmp_path, capsys):
    import json

    import pandas as pd

    assert main(["demo", "--export", str(tmp_path / "sample")]) == 0
    out = capsys.readouterr().out
    folder = tmp_path / "sample"
    assert sorted(p.name for p in folder.iterdir()) == ["metrics.csv", "spans.csv", "truth.json"]
    assert f"wrote {folder / 'spans.csv'}" in out
    truth = json.loads((folder / "truth.json").read_text())
    assert truth["onset"] == "2024-01-01T01:57:00Z"  # the README's --onset
    assert truth["root_cause"] == "catalogservice"
    spans = pd.read_csv(folder / "spans.csv")
    assert {"trace_id", "span_id", "parent_id", "service", "start_ns"} <= set(spans.columns)


def test_demo_export_into_a_file_path(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["demo", "--export", str(blocker)]) == 2
    assert "is a file, expected a folder" in capsys.readouterr().err
