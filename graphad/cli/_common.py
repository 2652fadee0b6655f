"""Shared pieces of the ``graphad`` verbs: console output, input files, score tables.

The CLI is the only part of graphad that prints. Everything here is thin: files are read
with the library's readers, and the errors they raise travel up to
:func:`graphad.cli.main.main`, which turns them into one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from graphad.exceptions import GraphadInputError

if TYPE_CHECKING:  # heavy imports happen in the functions, so `graphad --help` is quick
    import pandas as pd
    import torch

    from graphad.graph.dynamic import DynamicGraph

__all__ = [
    "Console",
    "WindowInput",
    "parse_time",
    "parse_params",
    "parse_list",
    "read_windows",
    "scores_frame",
    "read_scores",
    "write_frame",
    "render_table",
    "check_file",
    "add_common",
    "add_plugins",
    "load_plugins",
    "SCORE_TIME",
    "SCORE_WINDOW",
]

#: Reserved columns of a scores table (every other column is a node).
SCORE_TIME = "window_end"
SCORE_WINDOW = "window_score"
_LABEL_COLUMNS = ("label", "labels", "is_anomaly", "anomaly")
_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")


class Console:
    """Where the CLI writes: results always go to stdout, progress only without --quiet.

    Args:
        quiet: Suppress progress and summary lines (results are still written).
        stream: Output stream (default ``sys.stdout``).
    """

    def __init__(self, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream = stream

    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stdout

    def info(self, text: str = "") -> None:
        """A progress or summary line (suppressed by ``--quiet``)."""
        if not self.quiet:
            print(text, file=self._out())

    def result(self, text: str) -> None:
        """A result (always written)."""
        print(text, file=self._out())


def add_common(parser: argparse.ArgumentParser) -> None:
    """Options every verb has: ``--quiet`` and ``--debug``."""
    group = parser.add_argument_group("general options")
    group.add_argument(
        "-q", "--quiet", action="store_true", help="print results only, no progress or summaries"
    )
    group.add_argument("--debug", action="store_true", help="show the full traceback of an error")


def add_plugins(parser: argparse.ArgumentParser) -> None:
    """``--plugin``: import user code (e.g. a module defining a registered detector)."""
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE_OR_FILE",
        help="import this Python module or .py file first, e.g. to "
        "register your own detector (repeatable)",
    )


def load_plugins(items: Sequence[str]) -> None:
    """Import each ``--plugin``: a ``.py`` file path or an importable module name.

    Raises:
        GraphadInputError: The file does not exist or the module cannot be imported.
    """
    import importlib
    import importlib.util

    for item in items:
        if item.endswith(".py"):
            path = Path(item)
            if not path.is_file():
                raise GraphadInputError("no such file", source=item)
            spec = importlib.util.spec_from_file_location(f"graphad_plugin_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            try:
                importlib.import_module(item)
            except ImportError as error:
                raise GraphadInputError(f"cannot import plugin ({error})", source=item) from error


def parse_time(text: str | None, field: str = "onset") -> int | None:
    """An integer (ns since the epoch, or a step index) or an ISO time -> int.

    Example:
        >>> parse_time("2022-08-22T03:53:54Z")
        1661140434000000000
        >>> parse_time("120"), parse_time(None)
        (120, None)
    """
    if text is None:
        return None
    import pandas as pd

    value = str(text).strip()
    if value.lstrip("-").isdigit():
        return int(value)
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as error:
        raise GraphadInputError(
            "unreadable time",
            field=field,
            expected="ns since the epoch, a step index or an ISO time",
            found=repr(text),
        ) from error
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value)


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_params(items: Sequence[str] | None) -> dict[str, Any]:
    """``["epochs=3", "lr=1e-3", "name=x"]`` -> ``{"epochs": 3, "lr": 0.001, "name": "x"}``.

    Example:
        >>> parse_params(["epochs=3", "scales=[1,2]", "mode=fast"])
        {'epochs': 3, 'scales': [1, 2], 'mode': 'fast'}
    """
    params: dict[str, Any] = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise GraphadInputError(
                "unreadable parameter", field="--param", expected="NAME=VALUE", found=repr(item)
            )
        params[key.strip()] = _value(raw.strip())
    return params


def parse_list(text: str | None) -> list[str]:
    """``"a, b,c"`` -> ``["a", "b", "c"]`` (empty for ``None``).

    Example:
        >>> parse_list("ScoreRanker, baro")
        ['ScoreRanker', 'baro']
    """
    return [part.strip() for part in (text or "").split(",") if part.strip()]


@dataclass
class WindowInput:
    """What a data file gave: windows for a detector and what is known about them.

    Attributes:
        windows: A :class:`DynamicGraph` or a wide ``[T, N]`` DataFrame of series.
        source: The file it came from.
        labels: ``[T]`` 0/1 point labels of a table's label column, if any.
        times: ``[T]`` step times of a table's time column, if any.
    """

    windows: DynamicGraph | pd.DataFrame
    source: str
    labels: np.ndarray | None = None
    times: np.ndarray | None = None

    @property
    def is_graph(self) -> bool:
        """Whether the input is a dynamic graph."""
        from graphad.graph.dynamic import DynamicGraph

        return isinstance(self.windows, DynamicGraph)


def _read_table(path: Path) -> pd.DataFrame:
    import pandas as pd

    suffixes = [s.lower() for s in path.suffixes]
    if ".parquet" in suffixes or ".pq" in suffixes:
        return pd.read_parquet(path)
    separator = "\t" if ".tsv" in suffixes else ","
    try:
        return pd.read_csv(path, sep=separator)
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise GraphadInputError(
            f"unreadable table ({error})".replace("\n", " "), source=str(path)
        ) from error


def check_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise GraphadInputError("no such file", source=str(path))
    if path.is_dir():
        raise GraphadInputError("is a folder, expected a file", source=str(path))
    return path


def read_windows(path: str | Path, time_column: str | None = None) -> WindowInput:
    """Read a saved dynamic graph (``.pt``) or a wide table of series (CSV / Parquet).

    A table has one numeric column per node (e.g. the ASD ``omi-1_test.csv.gz``); a
    ``label`` column is taken as point labels and a ``time_column`` as step times, neither
    becomes a node.

    Args:
        path: The file.
        time_column: Name of a table's time column.

    Returns:
        The :class:`WindowInput`.

    Raises:
        GraphadInputError: The file is missing or unreadable, or a table has a
            non-numeric node column.
    """
    import pandas as pd

    from graphad.graph.dynamic import DynamicGraph

    path = check_file(path)
    name = str(path)
    if path.suffix.lower() == ".pt":
        return WindowInput(DynamicGraph.load(path), name)
    if not any(s.lower() in _TABLE_SUFFIXES for s in path.suffixes):
        raise GraphadInputError(
            "unknown file type",
            source=name,
            expected="a saved graph (.pt) or a table (.csv, .tsv, .parquet, optionally .gz/.xz)",
            found=repr("".join(path.suffixes) or path.name),
        )
    frame = _read_table(path)
    labels = times = None
    for column in _LABEL_COLUMNS:
        if column in frame.columns:
            labels = frame.pop(column).to_numpy()
            break
    if time_column is not None:
        if time_column not in frame.columns:
            raise GraphadInputError(
                "time column not found",
                source=name,
                field=time_column,
                expected=f"one of {list(frame.columns)[:8]}",
            )
        times = frame.pop(time_column).to_numpy()
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            raise GraphadInputError(
                "non-numeric column (name the time column with --time-column)",
                source=name,
                field=str(column),
                expected="numbers",
                found=str(frame[column].dtype),
            )
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise GraphadInputError(
            "empty table",
            source=name,
            expected="rows and node columns",
            found=f"{frame.shape[0]} rows x {frame.shape[1]} columns",
        )
    frame.columns = [str(c) for c in frame.columns]
    return WindowInput(frame.astype(np.float32), name, labels, times)


def scores_frame(
    node_scores: torch.Tensor | np.ndarray,
    window_scores: Any,
    node_names: Sequence[str],
    window_end: Any,
) -> pd.DataFrame:
    """The scores table: ``window_end``, ``window_score`` and one column per node.

    Example:
        >>> scores_frame(np.array([[1.0, 2.0]]), [2.0], ["a", "b"], [60]).columns.tolist()
        ['window_end', 'window_score', 'a', 'b']
    """
    import pandas as pd
    import torch

    reserved = {SCORE_TIME, SCORE_WINDOW}.intersection(node_names)
    if reserved:
        raise GraphadInputError(
            "a node name clashes with a scores-table column", field="node", found=sorted(reserved)
        )
    nodes = node_scores.numpy() if torch.is_tensor(node_scores) else np.asarray(node_scores)
    window = window_scores.numpy() if torch.is_tensor(window_scores) else np.asarray(window_scores)
    ends = window_end.numpy() if torch.is_tensor(window_end) else np.asarray(window_end)
    frame = pd.DataFrame(nodes.astype(np.float64), columns=list(node_names))
    frame.insert(0, SCORE_WINDOW, window.astype(np.float64))
    frame.insert(0, SCORE_TIME, ends.astype(np.int64))
    return frame


def read_scores(path: str | Path) -> pd.DataFrame:
    """Read a scores table written by ``graphad score`` (CSV, Parquet or JSON records).

    Raises:
        GraphadInputError: The file is missing or is not a scores table.
    """
    import pandas as pd

    path = check_file(path)
    suffixes = [s.lower() for s in path.suffixes]
    if ".json" in suffixes:
        try:
            frame = pd.read_json(path, orient="records")
        except ValueError as error:
            raise GraphadInputError(f"unreadable JSON ({error})", source=str(path)) from error
    else:
        frame = _read_table(path)
    missing = [c for c in (SCORE_TIME, SCORE_WINDOW) if c not in frame.columns]
    if missing:
        raise GraphadInputError(
            "not a scores table (write one with 'graphad score')",
            source=str(path),
            field=missing[0],
            expected=f"columns {SCORE_TIME}, {SCORE_WINDOW}, <nodes>",
            found=list(frame.columns)[:6],
        )
    if frame.shape[1] < 3:
        raise GraphadInputError("scores table has no node columns", source=str(path))
    return frame


def write_frame(
    frame: pd.DataFrame, path: str | Path | None, fmt: str | None, console: Console
) -> str:
    """Write a table as CSV, Parquet or JSON (by ``fmt`` or the suffix); stdout if no path.

    Returns:
        Where it went (the path, or ``"stdout"``).
    """
    if path is None:
        if fmt == "json":
            console.result(frame.to_json(orient="records"))
        else:
            console.result(frame.to_csv(index=False).rstrip("\n"))
        return "stdout"
    path = Path(path)
    suffix = path.suffix.lower()
    fmt = fmt or {".parquet": "parquet", ".pq": "parquet", ".json": "json"}.get(suffix, "csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "json":
        frame.to_json(path, orient="records")
    else:
        frame.to_csv(path, index=False)
    return str(path)


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain fixed-width text table (numbers right-aligned, 4 significant decimals).

    Example:
        >>> print(render_table(["rank", "node"], [[1, "db"], [2, "api"]]))
        rank  node
        ----  ----
           1  db
           2  api
    """

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value)

    text = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in text]) for i, h in enumerate(headers)]
    numeric = [
        all(isinstance(row[i], (int, float)) for row in rows) and bool(rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out.extend(line(r) for r in text)
    return "\n".join(out)
