import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graphad.cli.main import VERBS, main

REPO = Path(__file__).resolve().parents[2]


def _env() -> dict:
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def test_help_lists_every_verb(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for verb in VERBS:
        assert f"    {verb}" in text


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help_with_an_example(verb, capsys):
    assert main([verb, "--help"]) == 0
    text = capsys.readouterr().out
    assert "example" in text and f"graphad {verb}" in text


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("graphad ")


def test_no_verb_is_a_usage_error(capsys):
    assert main([]) == 2


def test_usage_error_is_one_line(capsys):
    assert main(["fit", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("graphad: error: the following arguments are required")


def test_unknown_verb(capsys):
    assert main(["explode"]) == 2
    assert "invalid choice: 'explode'" in capsys.readouterr().err


def test_missing_file_is_one_line_with_the_file(tmp_path, capsys):
    missing = tmp_path / "nope.pt"
    assert main(["score", str(missing), str(missing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"graphad: error: {missing}: no such file"]


def test_bad_file_content_names_the_file(tmp_path, capsys):
    bad = tmp_path / "model.pt"
    bad.write_text("not a model")
    assert main(["score", str(bad), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"graphad: error: {bad}: not a saved graphad detector")
    assert "weights_only" not in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback(tmp_path, capsys):
    bad = tmp_path / "model.pt"
    bad.write_text("not a model")
    assert main(["score", str(bad), str(bad), "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_internal_failure_exits_1(monkeypatch, capsys):
    import graphad.cli.score as score

    def boom(path):
        raise RuntimeError("kaput")

    monkeypatch.setattr(score, "load_detector", boom)
    assert main(["score", "m.pt", "d.pt"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("graphad: internal error: RuntimeError: kaput")


def test_python_dash_m_graphad_cli():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "graphad.cli",
            "fit",
            "missing.csv",
            "--detector",
            "RobustZScore",
            "-o",
            "m.pt",
        ],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "graphad: error: missing.csv: no such file"


@pytest.mark.skipif(
    shutil.which("graphad") is None, reason="the console script is installed by 'pip install -e .'"
)
def test_installed_console_script():
    done = subprocess.run(
        ["graphad", "--version"], capture_output=True, text=True, env=_env(), timeout=120
    )
    assert done.returncode == 0 and done.stdout.startswith("graphad ")
    done = subprocess.run(
        ["graphad", "plot", "missing.csv"], capture_output=True, text=True, env=_env(), timeout=120
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "graphad: error: missing.csv: no such file"


def test_console_script_entry_point_resolves():
    import importlib

    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["graphad"].partition(":")
    assert getattr(importlib.import_module(module), name) is main
