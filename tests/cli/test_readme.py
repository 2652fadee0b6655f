"""The command-line block of README.md runs as written on the files it exports."""

from __future__ import annotations

import shlex
from pathlib import Path

from graphad.cli.main import main

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_commands() -> list[list[str]]:
    """The ``graphad`` lines of the README's command-line block, comments removed."""
    text = README.read_text(encoding="utf-8")
    block = text.split("## The command line", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [
        shlex.split(line, comments=True)
        for line in block.splitlines()
        if line.startswith("graphad")
    ]


def test_the_readme_block_runs(tmp_path, monkeypatch, capsys):
    commands = readme_commands()
    assert commands[0][:3] == ["graphad", "demo", "--export"]
    # 'bench' needs the shared data sets; tests/cli/test_bench.py runs it
    runnable = [c for c in commands if c[1] != "bench"]
    assert [c[1] for c in runnable] == ["demo", "build", "fit", "score", "rca", "plot"]
    monkeypatch.chdir(tmp_path)
    for command in runnable:
        assert main([*command[1:], "--quiet"]) == 0, command
    out = capsys.readouterr().out
    for name in ("spans.csv", "metrics.csv", "graph.pt", "model.pt", "scores.csv"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "pics" / "timeline.png").stat().st_size > 1000
    # the exported fault is found: its root cause ranks first from the detected onset
    assert "   1  catalogservice" in out
