"""The ``graphad`` command: argument parsing, dispatch, and the error contract.

Exit codes: 0 success; 2 bad input (a :class:`~graphad.exceptions.GraphadInputError`, a
``ValueError`` from reading input, a missing file, a bad option, an unwritable output),
reported as ONE line ``graphad: error: <file>: <problem>`` on stderr; 3 no answer (e.g.
``rca`` found no evidence above chance, no alarm, or an onset outside the data), one
line ``graphad: no answer: <why>`` on stderr; 1 an internal failure; 130 interrupted.
``--debug`` prints the traceback as well.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from graphad import __version__
from graphad.exceptions import GraphadInputError

__all__ = ["main", "build_parser", "reference_markdown", "UsageError", "VERBS"]

#: The verbs, in the order ``graphad --help`` lists them.
VERBS = ("demo", "build", "fit", "score", "rca", "plot", "bench")

_DESCRIPTION = """\
graph-centric anomaly detection and root-cause analysis for backend systems.

Turn traces, metrics and logs into a dynamic graph, fit a detector on normal
windows, score every node and window, rank the root-cause service, and draw how
the anomaly spread. Start with 'graphad demo'."""

_EPILOG = """\
examples:
  graphad demo                                  # a real fault, end to end
  graphad build --traces spans.json -o graph.pt --window 5min --step 1min
  graphad fit graph.pt --detector RobustZScore -o model.pt
  graphad score model.pt graph.pt -o scores.csv
  graphad rca graph.pt --scores scores.csv --onset 2022-08-22T03:53:54Z
  graphad plot scores.csv --graph graph.pt -o pictures/

run 'graphad <verb> --help' for the options and an example of each verb."""


class UsageError(Exception):
    """A command line that argparse rejected (reported as one line, exit code 2)."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors raise instead of printing usage and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message, self.prog)


def build_parser() -> argparse.ArgumentParser:
    """The full ``graphad`` parser with one sub-parser per verb.

    Example:
        >>> build_parser().parse_args(["demo", "--simulate", "--quiet"]).simulate
        True
    """
    from graphad.cli import bench, build, demo, fit, plot, rca, score

    parser = _Parser(
        prog="graphad",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"graphad {__version__}")
    verbs = parser.add_subparsers(dest="command", metavar="<verb>", title="verbs")
    for module in (demo, build, fit, score, rca, plot, bench):
        module.register(verbs)
    return parser


def _help(parser: argparse.ArgumentParser) -> str:
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "92"
    try:
        return parser.format_help().rstrip()
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous


def reference_markdown() -> str:
    """The CLI reference (``docs/cli.md``): the ``--help`` of ``graphad`` and every verb.

    Example:
        >>> "## graphad demo" in reference_markdown()
        True
    """
    parser = build_parser()
    verbs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    parts = [
        "# CLI reference",
        "",
        "Generated from `--help` by `graphad.cli.main.reference_markdown()`; regenerate with",
        "",
        "```bash",
        "python -c 'from graphad.cli.main import reference_markdown as r; print(r())' "
        "> docs/cli.md",
        "```",
        "",
        "Exit codes: 0 success; 2 bad input or usage, or an output that cannot be "
        "written (one line on stderr: `graphad: error: <file>: <problem>`); 3 no answer: "
        "`graphad rca` found no evidence above chance, the detector raised no alarm, or "
        "the onset lies outside the data (one line on stderr: `graphad: no answer: "
        "<why>`; `--force` prints the flagged ranking anyway); 1 internal failure (add "
        "`--debug` for the traceback); 130 interrupted.",
        "",
        "Outputs are written atomically (a temporary file in the same folder, then a "
        "rename), never over one of the verb's own inputs. Times in tables and messages "
        "are ISO-8601 UTC. Progress bars appear on a terminal only (not in a pipe, not "
        "with `--quiet`).",
        "",
        "## graphad",
        "",
        "```text",
        _help(parser),
        "```",
    ]
    for verb in VERBS:
        sub = verbs.choices[verb]
        parts += ["", f"## graphad {verb}", "", "```text", _help(sub), "```"]
        nested = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
        for action in nested:
            for name, child in action.choices.items():
                parts += ["", f"### graphad {verb} {name}", "", "```text", _help(child), "```"]
    return "\n".join(parts) + "\n"


def _describe(error: BaseException) -> str:
    """One line naming the file and the problem."""
    if isinstance(error, (FileNotFoundError, IsADirectoryError, PermissionError)) and getattr(
        error, "filename", None
    ):
        text = f"{error.filename}: {error.strerror or type(error).__name__}"
    elif isinstance(error, GraphadInputError):
        text = ValueError.__str__(error)
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())


def _input_errors() -> tuple[type[BaseException], ...]:
    return (
        GraphadInputError,
        ValueError,
        FileNotFoundError,
        IsADirectoryError,
        PermissionError,
        NotADirectoryError,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``graphad`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit code.

    Args:
        argv: Arguments after the program name.

    Returns:
        0 on success, 2 for bad input or usage, 3 when there is no answer to give, 1 for
        an internal failure.

    Example:
        >>> main(["fit", "missing.pt", "--detector", "X", "-o", "m.pt", "--quiet"])
        2
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    from graphad.cli._common import NoAnswer

    debug = "--debug" in args_list
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except UsageError as error:
        print(
            f"graphad: error: {' '.join(str(error).split())} (see '{error.prog} --help')",
            file=sys.stderr,
        )
        return 2
    except SystemExit as done:  # --help / --version
        return int(done.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except NoAnswer as answer:
        print(f"graphad: no answer: {' '.join(str(answer).split())}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("graphad: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. 'graphad rca ... | head': stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except _input_errors() as error:
        if debug:
            traceback.print_exc()
        print(f"graphad: error: {_describe(error)}", file=sys.stderr)
        return 2
    except Exception as error:  # an internal failure: exit 1, traceback with --debug
        if debug:
            traceback.print_exc()
        print(
            f"graphad: internal error: {type(error).__name__}: {_describe(error)} "
            "(run again with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
