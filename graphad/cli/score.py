"""``graphad score``: a saved detector + data -> a scores table (CSV / Parquet / JSON)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:
    import pandas as pd

from graphad.cli._common import (
    Console,
    WindowInput,
    add_common,
    add_plugins,
    load_plugins,
    output_path,
    read_windows,
    scores_frame,
    show_progress,
    write_frame,
)

__all__ = ["register", "run", "load_detector", "score_input"]

_EPILOG = """\
examples:
  graphad score model.pt graph.pt -o scores.csv
  graphad score model.pt omi-1_test.csv.gz -o scores.parquet

  The table has one row per window: window_end (an ISO-8601 UTC time, or the row
  index of a table), window_score, and one column per node (higher = more
  anomalous)."""


def register(verbs: argparse._SubParsersAction) -> None:
    """Add the ``score`` verb."""
    parser = verbs.add_parser(
        "score",
        help="saved detector + data -> scores CSV/Parquet",
        description="Score every node and every window with a saved detector.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", help="a detector saved by 'graphad fit' (.pt)")
    parser.add_argument("data", help="a saved graph (.pt) or a wide table (CSV/Parquet)")
    parser.add_argument("--time-column", default=None, help="a table's time column")
    parser.add_argument(
        "-o", "--out", default=None, help="output table (.csv, .parquet, .json); default: stdout"
    )
    parser.add_argument(
        "--format",
        choices=("csv", "parquet", "json"),
        default=None,
        help="output format (default: from the file suffix)",
    )
    add_plugins(parser)
    add_common(parser)
    parser.set_defaults(func=run)


def load_detector(path: str) -> Any:
    """Load a saved detector of any registered class.

    Raises:
        GraphadInputError: The file is missing or is not a detector saved by
            ``graphad fit`` (e.g. a graph file).
    """
    import graphad.detectors as detectors
    from graphad.cli._common import check_file
    from graphad.exceptions import GraphadInputError

    source = check_file(path)
    try:
        return detectors.BaseDetector.load(source)
    except GraphadInputError as error:
        text = ValueError.__str__(error)
        if "weights_only" in text:  # never pass on torch's advice to unpickle code
            raise GraphadInputError(
                "not a detector saved by 'graphad fit' (not a file of tensors and JSON)",
                source=str(path),
            ) from error
        raise
    except Exception as error:  # a valid torch file of another kind, e.g. a graph
        raise GraphadInputError(
            "not a detector saved by 'graphad fit' (is it a graph from 'graphad build'?)",
            source=str(path),
            found=f"{type(error).__name__}: {error}"[:120],
        ) from error


#: Windows of a saved graph scored at a time (one progress step each).
SCORE_CHUNK = 256


def score_input(detector: Any, data: WindowInput, progress: bool = False) -> pd.DataFrame:
    """Node and window scores of the input as a scores table.

    A saved graph is scored ``SCORE_CHUNK`` windows at a time, with a progress bar when
    ``progress`` (each window is scored on its own, so the chunks give the same scores);
    a table is scored in one go (its windows overlap across rows).
    """
    if data.is_graph:
        from tqdm.auto import tqdm

        graph = data.windows
        starts = range(0, max(len(graph), 1), SCORE_CHUNK)
        parts = [
            (
                detector.decision_function(graph[i : i + SCORE_CHUNK]),
                detector.score_windows(graph[i : i + SCORE_CHUNK]),
            )
            for i in tqdm(starts, desc="score", unit="chunk", disable=not progress)
        ]
        node_scores = torch.cat([p[0] for p in parts])
        window_scores = torch.cat([p[1] for p in parts])
    else:
        node_scores = detector.decision_function(data.windows)
        window_scores = detector.score_windows(data.windows)
    if data.is_graph:
        ends = data.windows.window_end
        names = data.windows.vocab.names
    else:
        size = detector.window_size
        rows = np.arange(size - 1, len(data.windows))
        ends = np.asarray(data.times)[rows] if data.times is not None else rows
        names = list(data.windows.columns)
    return scores_frame(node_scores, window_scores, names, ends)


def run(args: argparse.Namespace) -> int:
    """Execute ``graphad score``."""
    load_plugins(args.plugin)
    console = Console(args.quiet)
    if args.out is not None:
        output_path(args.out, [args.model, args.data], special=True)
    detector = load_detector(args.model)
    data = read_windows(args.data, args.time_column)
    frame = score_input(detector, data, progress=show_progress(args.quiet))
    alarms = int((frame["window_score"] > detector.threshold_).sum())
    where = write_frame(frame, args.out, args.format, console, times=data.is_graph)
    if where != "stdout":
        console.info(
            f"{len(frame)} windows scored, {alarms} above the threshold {detector.threshold_:.4g}"
        )
        console.result(f"wrote {where}")
    return 0
