"""The CLI reference in docs/cli.md covers every verb and option of the parser."""

import argparse
from pathlib import Path

from graphad.cli.main import VERBS, build_parser

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _parsers():
    parser = build_parser()
    verbs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for verb in VERBS:
        sub = verbs.choices[verb]
        yield f"graphad {verb}", sub
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    yield f"graphad {verb} {name}", child


def test_every_verb_and_option_is_in_the_reference():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for title, parser in _parsers():
        assert f"## {title}\n" in text, title
        for action in parser._actions:
            for option in action.option_strings:
                assert option in text, (title, option)


def test_docs_link_every_tutorial_and_page():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for page in ("concepts.md", "demo.md", "methods.md", "cli.md", "api.md", "benchmarks.md"):
        assert f"]({page})" in index, page
    for tutorial in sorted((DOCS / "tutorials").glob("*.md")):
        assert f"](tutorials/{tutorial.name})" in index, tutorial.name
        example = (
            Path(__file__).resolve().parents[2] / "examples" / tutorial.name.replace(".md", ".py")
        )
        assert example.is_file(), example


def test_the_reference_is_regenerated():
    from graphad.cli.main import reference_markdown

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert text == reference_markdown() + "\n", (
        "docs/cli.md is out of date: python -c 'from graphad.cli.main import "
        "reference_markdown as r; print(r())' > docs/cli.md"
    )
