"""``graphad fit``: a dynamic graph or a wide CSV -> a fitted, saved detector."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from graphad.cli._common import (
    Console,
    WindowInput,
    add_common,
    add_plugins,
    iso,
    load_plugins,
    output_path,
    parse_params,
    parse_time,
    show_progress,
    write_atomic,
)
from graphad.exceptions import GraphadInputError

__all__ = ["register", "run", "make_detector", "training_part", "check_params"]

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
        help="fit on windows ending at or before this time (an ISO time with a date, or "
        "ns; for a table: a row index); without it every window is used (a warning)",
    )
    parser.add_argument("-o", "--out", required=True, help="output model file (.pt)")
    add_plugins(parser)
    add_common(parser)
    parser.set_defaults(func=run)


def check_params(cls: type, params: dict[str, Any]) -> None:
    """Refuse values a detector cannot use before any work: a count (an integer
    parameter whose default is >= 1) below 1, a non-integer count, a negative or
    non-finite rate or weight (a float parameter with a positive default).

    Raises:
        GraphadInputError: Naming ``--param NAME=VALUE``, what is expected and the value.
    """
    import inspect
    import math

    defaults = {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    for name, value in params.items():
        default = defaults.get(name)
        if isinstance(default, bool) or isinstance(value, bool):
            continue
        if isinstance(default, int) and default >= 1 and value is not None:
            if not isinstance(value, int) or value < 1:
                raise GraphadInputError(
                    f"bad value of {cls.__name__}'s '{name}'",
                    field=f"--param {name}",
                    expected="an integer >= 1",
                    found=repr(value),
                )
        elif isinstance(default, float) and default > 0 and value is not None:
            if not isinstance(value, (int, float)) or not math.isfinite(float(value)) or value < 0:
                raise GraphadInputError(
                    f"bad value of {cls.__name__}'s '{name}'",
                    field=f"--param {name}",
                    expected="a finite number >= 0",
                    found=repr(value),
                )


def make_detector(
    name: str,
    params: dict[str, Any],
    window_size: int | None,
    is_graph: bool,
    verbose: bool = False,
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
        params = {**params, "verbose": verbose}
    check_params(cls, params)
    return cls(**params)


def _data_range(data: WindowInput) -> str:
    if data.is_graph:
        ends = data.windows.window_end.numpy()
        return f"windows end {iso(ends[0])} .. {iso(ends[-1])}"
    if data.times is not None and len(data.times):
        return f"rows {data.times[0]} .. {data.times[-1]}"
    return f"rows 0 .. {len(data.windows) - 1}"


def training_part(data: WindowInput, train_end: int | None) -> Any:
    """The part of the input to fit on: windows (graph) or rows (table) up to ``train_end``."""
    if train_end is None:
        return data.windows
    if data.is_graph:
        ends = data.windows.window_end.numpy()
        keep = int(np.searchsorted(ends, train_end, side="right"))
        if keep == 0:
            raise GraphadInputError(
                f"no window ends at or before --train-end {iso(train_end)} "
                f"(the graph's {_data_range(data)})",
                source=data.source,
                field="--train-end",
            )
        return data.windows[:keep]
    if data.times is not None:
        keep = int(np.searchsorted(np.asarray(data.times), train_end, side="right"))
    else:
        keep = int(train_end) + 1
    if keep < 1:
        raise GraphadInputError(
            f"no rows before --train-end ({_data_range(data)})",
            source=data.source,
            field="--train-end",
            found=train_end,
        )
    return data.windows.iloc[:keep]


#: Fewer training windows than this earn a warning.
FEW_WINDOWS = 10


def _training_note(data: WindowInput, train: Any, given: bool, console: Console) -> None:
    """Say what is trained on; warn when --train-end is missing or training is small."""
    if data.is_graph:
        ends = train.window_end.numpy()
        what = f"{len(train)} windows ending {iso(ends[0])} .. {iso(ends[-1])}"
        count = len(train)
        total = len(data.windows)
    else:
        count = len(train)
        what = f"{count} rows"
        total = len(data.windows)
    console.info(f"training on {what} (of {total})")
    if not given:
        console.warn(
            f"no --train-end: training on all {total} "
            f"{'windows' if data.is_graph else 'rows'}, an incident in them included; "
            "pass --train-end with the time the normal period ends"
        )
    if data.is_graph and count < FEW_WINDOWS:
        console.warn(
            f"training on only {count} windows: the threshold is uncertain "
            f"(at least {FEW_WINDOWS} recommended; a smaller --window / --step in "
            "'graphad build' gives more)"
        )


def run(args: argparse.Namespace) -> int:
    """Execute ``graphad fit``."""
    from graphad.cli._common import read_windows

    load_plugins(args.plugin)
    console = Console(args.quiet)
    out = output_path(args.out, [args.data])
    data = read_windows(args.data, args.time_column)
    detector = make_detector(
        args.detector,
        parse_params(args.param),
        args.window_size,
        data.is_graph,
        verbose=show_progress(args.quiet),
    )
    train_end = parse_time(args.train_end, "--train-end")
    train = training_part(data, train_end)
    _training_note(data, train, train_end is not None, console)
    console.info(f"fitting {detector!r} on {args.data}")
    detector.fit(train)
    write_atomic(out, detector.save)
    console.info(
        f"threshold (fitted on {len(detector.train_scores_)} training windows): "
        f"{detector.threshold_:.4g}"
    )
    console.result(f"wrote {out}")
    return 0
