"""Shared pieces of the ``graphad`` verbs: console output, input files, score tables.

The CLI is the only part of graphad that prints. Everything here is thin: files are read
with the library's readers, and the errors they raise travel up to
:func:`graphad.cli.main.main`, which turns them into one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
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
    "iso_column",
    "NoAnswer",
    "iso",
    "human_duration",
    "span_text",
    "output_path",
    "write_atomic",
    "show_progress",
    "positive_int",
    "load_graph",
]

#: Reserved columns of a scores table (every other column is a node).
SCORE_TIME = "window_end"
SCORE_WINDOW = "window_score"
_LABEL_COLUMNS = ("label", "labels", "is_anomaly", "anomaly")
_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")


class NoAnswer(Exception):
    """The data hold no answer to give (no evidence, no alarm, onset outside the data).

    :func:`graphad.cli.main.main` prints it as one line and exits with status 3.
    """


def iso(ns: int | float | None) -> str:
    """ISO-8601 UTC time of ``ns`` since the epoch, to the second (``-`` for ``None``).

    Example:
        >>> iso(1661140434000000000), iso(None)
        ('2022-08-22T03:53:54Z', '-')
    """
    if ns is None:
        return "-"
    stamp = np.datetime64(int(ns), "ns")
    text = np.datetime_as_string(stamp, unit="ms")
    return (text[:-4] if text.endswith(".000") else text) + "Z"


def human_duration(ns: int | float) -> str:
    """A duration in the units of ``--window``: ``45s``, ``5min``, ``1.5h``, ``250ms``.

    Example:
        >>> human_duration(45 * 10**9), human_duration(300 * 10**9), human_duration(2.5e8)
        ('45s', '5min', '250ms')
    """
    value = float(ns)
    for unit, size in (("d", 86400e9), ("h", 3600e9), ("min", 60e9), ("s", 1e9), ("ms", 1e6)):
        if abs(value) >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value / 1e3:.3g}us" if abs(value) >= 1e3 else f"{int(value)}ns"


def span_text(start_ns: int, end_ns: int) -> str:
    """``45s (2024-01-01T16:22:07Z - 16:22:52Z)``: a time range for messages.

    Example:
        >>> span_text(0, 45 * 10**9)
        '45s (1970-01-01T00:00:00Z - 00:00:45Z)'
    """
    first, last = iso(start_ns), iso(end_ns)
    if first[:10] == last[:10]:
        last = last[11:]
    return f"{human_duration(end_ns - start_ns)} ({first} - {last})"


def show_progress(quiet: bool) -> bool:
    """Progress bars only on a terminal (stderr), never with ``--quiet`` or in a pipe."""
    try:
        return not quiet and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def positive_int(text: str) -> int:
    """``argparse`` type: an integer >= 1.

    Example:
        >>> positive_int("3")
        3
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def output_path(
    path: str | Path,
    inputs: Sequence[str | Path | None] = (),
    folder: bool = False,
    special: bool = False,
) -> Path:
    """Check an output path before any work: writable, not a folder, not an input.

    Args:
        path: The ``-o`` path (a file, or a folder when ``folder``).
        inputs: Input files the output must not replace.
        folder: The output is a folder of files.
        special: An existing special file (``/dev/null``, a pipe) may be written to
            directly (text outputs); otherwise it is refused, since a model or graph
            file is moved into place and would replace the device.

    Returns:
        The path.

    Raises:
        GraphadInputError: The path is a folder (a file for ``folder``), lies under a
            file, is in a folder that cannot be written, or is one of the inputs.
    """
    import os

    path = Path(path)
    name = str(path)
    if folder:
        if path.exists() and not path.is_dir():
            raise GraphadInputError("is a file, expected a folder for the output", source=name)
    elif path.is_dir():
        raise GraphadInputError("is a folder, expected an output file name", source=name)
    elif path.exists() and not path.is_file() and not special:
        raise GraphadInputError(
            "is not a regular file (a device or a pipe), expected an output file name",
            source=name,
        )
    for given in inputs:
        if given is None or folder:
            continue
        try:
            same = path.exists() and Path(given).exists() and path.samefile(given)
        except OSError:
            same = False
        if same:
            raise GraphadInputError(
                "refusing to overwrite an input file; choose another output name", source=name
            )
    parent = path if folder else path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise GraphadInputError(
            f"cannot write under '{parent}': it is a file, not a folder", source=name
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise GraphadInputError(f"cannot write: folder '{parent}' is read-only", source=name)
    return path


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Write a file through a temporary file in its folder and a rename.

    A reader never sees a half-written file and a failed write leaves the old file as
    it was. A path that exists and is not a regular file (``/dev/null``, a pipe) is
    written directly.

    Args:
        path: The output file.
        write: Writes the content to the path it is given.

    Returns:
        The path.

    Raises:
        GraphadInputError: The file cannot be written (no space, no permission, ...).
    """
    import os
    import tempfile

    path = Path(path)
    try:
        if path.exists() and not path.is_file():
            write(path)
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent
        )
        os.close(handle)
        try:
            write(Path(temp))
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(temp, 0o666 & ~mask)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise GraphadInputError(f"cannot write ({reason})", source=str(path)) from error
    except RuntimeError as error:  # torch.save reports write failures as RuntimeError
        text = " ".join(str(error).split())
        raise GraphadInputError(f"cannot write ({text[:120]})", source=str(path)) from error
    return path


def load_graph(path: str | Path) -> DynamicGraph:
    """A saved dynamic graph; any other file (e.g. a model) is a one-line input error."""
    from graphad.graph.dynamic import DynamicGraph

    path = check_file(path)
    try:
        return DynamicGraph.load(path)
    except GraphadInputError:
        raise
    except Exception as error:  # a valid torch file of another kind
        raise GraphadInputError(
            "not a graph saved by 'graphad build'",
            source=str(path),
            found=f"{type(error).__name__}: {error}",
        ) from error


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

    def warn(self, text: str) -> None:
        """A warning on stderr (written even with ``--quiet``)."""
        print(f"graphad: warning: {text}", file=sys.stderr)


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
    """An integer (ns since the epoch, or a step index) or an ISO time with a date -> int.

    Times without a time zone are UTC. A time without a date (``16:22:07``) is an
    error rather than "today".

    Example:
        >>> parse_time("2022-08-22T03:53:54Z")
        1661140434000000000
        >>> parse_time("120"), parse_time(None)
        (120, None)
    """
    if text is None:
        return None
    import re

    import pandas as pd

    value = str(text).strip()
    flag = field if field.startswith("-") else f"--{field}"
    if re.fullmatch(r"-?\d+", value):
        number = int(value)
        if not -(2**63) < number < 2**63:
            raise GraphadInputError(
                "time out of range",
                field=flag,
                expected="ns since the epoch (years 1678-2262) or a step index",
                found=value,
            )
        return number
    if re.fullmatch(r"[\d:.]+(Z|[+-]\d\d:?\d\d)?", value) and ":" in value:
        raise GraphadInputError(
            "a time without a date",
            field=flag,
            expected="a date and a time, e.g. 2024-01-01T16:22:07Z",
            found=repr(value),
        )
    try:
        stamp = pd.Timestamp(value)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        result = int(stamp.value)
    except (ValueError, TypeError, OverflowError) as error:
        raise GraphadInputError(
            "time out of range"
            if isinstance(error, OverflowError)
            or any(w in str(error).lower() for w in ("range", "bounds"))
            else "unreadable time",
            field=flag,
            expected="ns since the epoch, a step index or an ISO time (years 1678-2262)",
            found=repr(text),
        ) from error
    if stamp is pd.NaT:
        raise GraphadInputError(
            "unreadable time", field=flag, expected="a date and a time", found=repr(value)
        )
    if not re.search(r"\d{4}", value):
        raise GraphadInputError(
            "a time without a year",
            field=flag,
            expected="a date and a time, e.g. 2024-01-01T16:22:07Z",
            found=repr(value),
        )
    return result


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
    column = frame[SCORE_TIME]
    if not pd.api.types.is_numeric_dtype(column):
        try:
            stamps = pd.to_datetime(column, utc=True, format="ISO8601")
        except (ValueError, TypeError) as error:
            raise GraphadInputError(
                "unreadable window time",
                source=str(path),
                field=SCORE_TIME,
                expected="ISO-8601 times or integers",
                found=repr(column.iloc[0]),
            ) from error
        frame[SCORE_TIME] = stamps.astype("int64").to_numpy()
    return frame


def iso_column(ns: np.ndarray) -> np.ndarray:
    """ISO-8601 UTC strings of int ns times, exact to the ns they hold.

    Example:
        >>> iso_column(np.array([1661140434000000000, 1661140434500000000])).tolist()
        ['2022-08-22T03:53:54Z', '2022-08-22T03:53:54.500Z']
    """
    stamps = np.asarray(ns, dtype=np.int64).astype("datetime64[ns]")
    return np.char.add(np.datetime_as_string(stamps, unit="auto"), "Z")


def write_frame(
    frame: pd.DataFrame,
    path: str | Path | None,
    fmt: str | None,
    console: Console,
    times: bool = False,
) -> str:
    """Write a table as CSV, Parquet or JSON (by ``fmt`` or the suffix); stdout if no path.

    Args:
        frame: The table.
        path: Output file, or ``None`` for stdout.
        fmt: ``csv``, ``parquet`` or ``json`` (default: from the suffix).
        console: Where stdout goes.
        times: The ``window_end`` column holds ns since the epoch: written as ISO-8601
            UTC (:func:`read_scores` reads it back as ns).

    Returns:
        Where it went (the path, or ``"stdout"``).
    """
    if times and SCORE_TIME in frame.columns:
        frame = frame.copy()
        frame[SCORE_TIME] = iso_column(frame[SCORE_TIME].to_numpy())
    if path is None:
        if fmt == "json":
            console.result(frame.to_json(orient="records"))
        else:
            console.result(frame.to_csv(index=False).rstrip("\n"))
        return "stdout"
    path = Path(path)
    suffix = path.suffix.lower()
    fmt = fmt or {".parquet": "parquet", ".pq": "parquet", ".json": "json"}.get(suffix, "csv")

    def write(target: Path) -> None:
        if fmt == "parquet":
            frame.to_parquet(target, index=False)
        elif fmt == "json":
            frame.to_json(target, orient="records")
        else:
            frame.to_csv(target, index=False)

    write_atomic(path, write)
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
