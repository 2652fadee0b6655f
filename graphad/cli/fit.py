"""``graphad fit``: a dynamic graph or a wide CSV -> a fitted, saved detector."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from graphad.cli._common import (
    Console,
    WindowInput,
    add_common,
    add_plugins,
    load_plugins,
    parse_params,
    parse_time,
)
from graphad.exceptions import GraphadInputError

__all__ = ["register", "run", "make_detector", "training_part"]

_EPILOG = """\
examples:
  graphad fit graph.pt --detector CRLBSAD --param epochs=5 --train-end 2022-08-22T03:50Z \\
      -o model.pt
  graphad fit omi-1_train.csv.gz --detector RobustZScore --window-size 10 -o model.pt

  Detector names come from graphad.detectors.DETECTORS; --param NAME=VALUE sets any
  constructor argument (values are read as JSON when they can be). The threshold is
  fitted on the training windows only."""


def register(verbs: argparse._SubParsersAction) -> None:
    """Add the ``fit`` verb."""
    parser = verbs.add_parser(
        "fit",
        help="graph or CSV -> saved detector",
        description="Fit a detector on normal windows and save it (weights + JSON, "
        "loadable without unpickling code).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("data", help="a saved graph (.pt) or a wide table (CSV/Parquet)")
    parser.add_argument("--detector", required=True, help="detector name, e.g. CRLBSAD")
    parser.add_argument(
        "--param", action="append", metavar="NAME=VALUE", help="detector argument (repeatable)"
    )
    parser.add_argument(
        "--window-size",
        type=int,
        default=None,
        help="steps per window for a table (default: the detector's own)",
    )
    parser.add_argument("--time-column", default=None, help="a table's time column")
    parser.add_argument(
        "--train-end",
        default=None,
        help="fit on windows ending at or before this time (ISO or ns; for a table: a row index)",
    )
    parser.add_argument("-o", "--out", required=True, help="output model file (.pt)")
    add_plugins(parser)
    add_common(parser)
    parser.set_defaults(func=run)


def make_detector(
    name: str, params: dict[str, Any], window_size: int | None, is_graph: bool
) -> Any:
    """Instantiate a registered detector by name with CLI parameters."""
    import graphad.detectors as detectors
    from graphad.utils import resolve

    cls = resolve(name, detectors.DETECTORS, "detector")
    valid = set(cls._param_names())
    unknown = sorted(set(params) - valid)
    if unknown:
        raise GraphadInputError(
            f"unknown parameter '{unknown[0]}' of {cls.__name__}",
            field="--param",
            expected=f"one of {sorted(valid)}",
        )
    if not is_graph and window_size is not None and "window_size" in valid:
        params = {**params, "window_size": window_size}
    if "verbose" in valid and "verbose" not in params:
        params = {**params, "verbose": False}
    return cls(**params)


def training_part(data: WindowInput, train_end: int | None) -> Any:
    """The part of the input to fit on: windows (graph) or rows (table) up to ``train_end``."""
    if train_end is None:
        return data.windows
    if data.is_graph:
        ends = data.windows.window_end.numpy()
        keep = int(np.searchsorted(ends, train_end, side="right"))
        if keep == 0:
            raise GraphadInputError(
                "no window ends before --train-end",
                source=data.source,
                field="--train-end",
                found=train_end,
            )
        return data.windows[:keep]
    if data.times is not None:
        keep = int(np.searchsorted(np.asarray(data.times), train_end, side="right"))
    else:
        keep = int(train_end) + 1
    if keep < 1:
        raise GraphadInputError(
            "no rows before --train-end", source=data.source, field="--train-end", found=train_end
        )
    return data.windows.iloc[:keep]


def run(args: argparse.Namespace) -> int:
    """Execute ``graphad fit``."""
    from graphad.cli._common import read_windows

    load_plugins(args.plugin)
    console = Console(args.quiet)
    data = read_windows(args.data, args.time_column)
    detector = make_detector(
        args.detector, parse_params(args.param), args.window_size, data.is_graph
    )
    train = training_part(data, parse_time(args.train_end, "--train-end"))
    console.info(f"fitting {detector!r} on {args.data}")
    detector.fit(train)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    detector.save(out)
    console.info(
        f"threshold (fitted on {len(detector.train_scores_)} training windows): "
        f"{detector.threshold_:.4g}"
    )
    console.result(f"wrote {out}")
    return 0
