"""Bad arguments and unwritable outputs end in exit 2 and one line naming the path; outputs
are written atomically and never over the verb's own input (issue 18, item 5)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from graphad.cli._common import write_atomic
from graphad.cli.main import main
from graphad.exceptions import GraphadInputError

FULL = Path("/dev/full")


def _one_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    err = [line for line in lines if not line.startswith("graphad: warning: ")]
    assert len(err) == 1, err
    assert err[0].startswith("graphad: error: "), err
    return err[0]


def _verbs(jaeger_graph, scored, out: str) -> dict[str, list[str]]:
    model, scores = (str(p) for p in scored)
    graph = str(jaeger_graph)
    return {
        "build": ["build", "--traces", graph.replace("graph.pt", "missing.json"), "-o", out],
        "fit": ["fit", graph, "--detector", "RobustZScore", "-o", out],
        "score": ["score", model, graph, "-o", out],
        "rca": ["rca", graph, "--scores", scores, "--onset", "2024-01-01T00:08Z", "--force"]
        + ["-o", out],
    }


@pytest.mark.parametrize("verb", ["fit", "score", "rca"])
def test_output_that_is_a_folder(verb, jaeger_graph, scored, tmp_path, capsys):
    args = _verbs(jaeger_graph, scored, str(tmp_path))[verb]
    assert main(args) == 2
    assert _one_line(capsys) == (
        f"graphad: error: {tmp_path}: is a folder, expected an output file name"
    )


@pytest.mark.parametrize("verb", ["fit", "score", "rca"])
def test_output_under_an_existing_file(verb, jaeger_graph, scored, tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    target = blocker / "out.pt"
    assert main(_verbs(jaeger_graph, scored, str(target))[verb]) == 2
    assert _one_line(capsys) == (
        f"graphad: error: {target}: cannot write under '{blocker}': it is a file, not a folder"
    )


@pytest.mark.skipif(not FULL.exists(), reason="no /dev/full")
@pytest.mark.parametrize("verb", ["score", "rca"])
def test_text_output_to_a_full_device(verb, jaeger_graph, scored, capsys):
    assert main(_verbs(jaeger_graph, scored, str(FULL))[verb]) == 2
    line = _one_line(capsys)
    assert line.startswith(f"graphad: error: {FULL}: cannot write"), line
    assert FULL.is_char_device()


@pytest.mark.skipif(not FULL.exists(), reason="no /dev/full")
def test_a_model_is_never_moved_onto_a_device(jaeger_graph, scored, capsys):
    # a model file is written next to its path and renamed into place: onto a device
    # that would replace the device itself, so it is refused before any work
    assert main(_verbs(jaeger_graph, scored, str(FULL))["fit"]) == 2
    assert _one_line(capsys) == (
        f"graphad: error: {FULL}: is not a regular file (a device or a pipe), expected an "
        "output file name"
    )
    assert FULL.is_char_device()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anyway")
def test_output_in_a_read_only_folder(jaeger_graph, scored, tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert main(_verbs(jaeger_graph, scored, str(folder / "m.pt"))["fit"]) == 2
        assert "is read-only" in _one_line(capsys)
    finally:
        folder.chmod(0o755)


def test_an_output_never_replaces_an_input(jaeger_graph, scored, tmp_path, capsys):
    model, scores = scored
    before = jaeger_graph.read_bytes()
    assert main(["score", str(model), str(jaeger_graph), "-o", str(jaeger_graph)]) == 2
    assert _one_line(capsys) == (
        f"graphad: error: {jaeger_graph}: refusing to overwrite an input file; "
        "choose another output name"
    )
    fit = ["fit", str(jaeger_graph), "--detector", "RobustZScore", "-o", str(jaeger_graph)]
    assert main(fit) == 2
    assert "refusing to overwrite an input file" in _one_line(capsys)
    assert jaeger_graph.read_bytes() == before


def test_a_graph_given_as_a_model(jaeger_graph, capsys):
    assert main(["score", str(jaeger_graph), str(jaeger_graph)]) == 2
    line = _one_line(capsys)
    assert line.startswith(f"graphad: error: {jaeger_graph}")
    assert "not a saved graphad detector" in line and "weights_only" not in line


def test_a_model_given_as_a_graph(scored, capsys):
    model = scored[0]
    assert main(["fit", str(model), "--detector", "RobustZScore", "-o", "x.pt"]) == 2
    line = _one_line(capsys)
    assert line.startswith(f"graphad: error: {model}") and "not a saved graphad dynamic" in line


@pytest.mark.parametrize(
    "args, message",
    [
        (["--onset", "2999-01-01"], "field '--onset': time out of range"),
        (["--onset", "1e30"], "field '--onset': unreadable time"),
        (["--onset", "2024-01-01T00:08Z", "--top", "-1"], "expected an integer >= 1"),
        (["--onset", "2024-01-01T00:08Z", "--top", "0"], "expected an integer >= 1"),
    ],
)
def test_bad_rca_arguments(args, message, jaeger_graph, scored, capsys):
    assert main(["rca", str(jaeger_graph), "--scores", str(scored[1]), *args]) == 2
    assert message in _one_line(capsys)


@pytest.mark.parametrize(
    "param, expected",
    [
        ("epochs=-1", "an integer >= 1"),
        ("window_size=0", "an integer >= 1"),
        ("window_size=2.5", "an integer >= 1"),
        ("lr=-0.1", "a finite number >= 0"),
    ],
)
def test_bad_detector_parameters(param, expected, jaeger_graph, tmp_path, capsys):
    args = ["fit", str(jaeger_graph), "--detector", "CRLBSAD", "--param", param]
    assert main([*args, "-o", str(tmp_path / "m.pt")]) == 2
    line = _one_line(capsys)
    assert f"field '--param {param.split('=')[0]}'" in line and expected in line
    assert not (tmp_path / "m.pt").exists()


def test_plot_dpi_out_of_range(scored, tmp_path, capsys):
    out = tmp_path / "pics"
    assert main(["plot", str(scored[1]), "--dpi", "100000", "-o", str(out)]) == 2
    assert _one_line(capsys) == (
        "graphad: error: field '--dpi': dots per inch out of range (expected 10 to 600, got 100000)"
    )
    assert not out.exists()


def test_plot_into_a_file_path(scored, tmp_path, capsys):
    blocker = tmp_path / "pics"
    blocker.write_text("x")
    assert main(["plot", str(scored[1]), "-o", str(blocker)]) == 2
    assert _one_line(capsys) == (
        f"graphad: error: {blocker}: is a file, expected a folder for the output"
    )


def test_bench_json_into_a_folder(tmp_path, capsys):
    args = ["bench", "mts", "--root", str(tmp_path), "--detectors", "RobustZScore"]
    assert main([*args, "--json", str(tmp_path)]) == 2
    assert "is a folder, expected an output file name" in _one_line(capsys)


# -------------------------------------------------------------------- atomic writes
def test_write_atomic_replaces_in_one_step(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old")

    def fail(target: Path) -> None:
        target.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(GraphadInputError, match="cannot write \\(No space left on device\\)"):
        write_atomic(path, fail)
    assert path.read_text() == "old"  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # no temp file left
    write_atomic(path, lambda target: target.write_text("new"))
    assert path.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    assert oct(path.stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode


def test_saved_outputs_leave_no_temporary_files(jaeger_graph, scored, tmp_path):
    out = tmp_path / "m.pt"
    assert main(["fit", str(jaeger_graph), "--detector", "RobustZScore", "-o", str(out), "-q"]) == 0
    assert main(["score", str(out), str(jaeger_graph), "-o", str(tmp_path / "s.csv"), "-q"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt", "s.csv"]
