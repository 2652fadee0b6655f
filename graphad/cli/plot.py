"""``graphad plot``: a scores table (and the graph) -> pictures in a folder."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

import numpy as np

from graphad.cli._common import Console, add_common, check_file, parse_list, parse_time
from graphad.exceptions import GraphadInputError

if TYPE_CHECKING:
    from graphad.rca.result import RCAResult

__all__ = ["register", "run", "read_rca", "KINDS"]

#: Accepted ``--dpi`` range (a picture at 100,000 dpi would need terabytes).
_DPI = (10.0, 600.0)

#: Pictures ``plot`` can draw.
KINDS = ("heatmap", "timeline", "graph", "propagation", "gif", "rca")

_EPILOG = """\
examples:
  graphad plot scores.csv --graph graph.pt --onset 2022-08-22T03:53:54Z -o pictures/
  graphad plot scores.csv --kinds heatmap,timeline --model model.pt -o pictures/
  graphad plot scores.csv --graph graph.pt --rca rca.json --truth cartservice -o pics/

  heatmap and timeline need only the scores table (from 'graphad score'); graph,
  propagation and gif also need the graph (--graph); rca needs a ranking written by
  'graphad rca --format json -o rca.json'."""


def register(verbs: argparse._SubParsersAction) -> None:
    """Add the ``plot`` verb."""
    parser = verbs.add_parser(
        "plot",
        help="scores/graph -> pictures",
        description="Draw the score heat map, the window-score timeline, the service "
        "graph coloured by score, the anomaly propagation (PNG and GIF) and "
        "the root-cause bars.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("scores", help="a scores table written by 'graphad score'")
    parser.add_argument("--graph", default=None, help="the scored graph (.pt)")
    parser.add_argument("--rca", default=None, help="a ranking written by 'graphad rca' as JSON")
    parser.add_argument(
        "--kinds",
        default=None,
        help=f"comma-separated subset of {','.join(KINDS)} (default: all that the inputs allow)",
    )
    parser.add_argument("--onset", default=None, help="true onset (ISO time with a date, or ns)")
    parser.add_argument(
        "--model",
        default=None,
        help="the detector that wrote the scores: its fitted threshold is marked",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="window-score threshold to mark (default: the --model's)",
    )
    parser.add_argument(
        "--truth", default=None, help="the true root cause, if known (marked in every picture)"
    )
    parser.add_argument(
        "--window",
        type=int,
        default=None,
        help="window drawn by 'graph' (default: the highest-scoring)",
    )
    parser.add_argument(
        "--vmax",
        type=float,
        default=None,
        help="top of the colour scale (default: the highest score)",
    )
    parser.add_argument(
        "--dpi", type=float, default=100.0, help=f"dots per inch ({_DPI[0]:g}-{_DPI[1]:g})"
    )
    parser.add_argument("-o", "--out", default="graphad-plots", help="output folder")
    add_common(parser)
    parser.set_defaults(func=run)


def read_rca(path: str) -> RCAResult:
    """Read a ranking written by ``graphad rca --format json``."""
    from graphad.rca.result import RCAResult

    source = check_file(path)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
        ranking = data["ranking"]
        return RCAResult(
            [str(r["node"]) for r in ranking],
            [float(r["score"]) for r in ranking],
            method=str(data.get("method", "")),
            onset_ns=data.get("onset_ns"),
        )
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise GraphadInputError(
            "not a root-cause ranking",
            source=str(path),
            expected="JSON from 'graphad rca --format json'",
            found=type(error).__name__,
        ) from error


def _kinds(args: argparse.Namespace) -> list[str]:
    wanted = parse_list(args.kinds) or [
        k
        for k in KINDS
        if (k not in ("graph", "propagation", "gif") or args.graph) and (k != "rca" or args.rca)
    ]
    for kind in wanted:
        if kind not in KINDS:
            raise GraphadInputError(
                f"Could not resolve '{kind}' among choices {list(KINDS)}", field="--kinds"
            )
        if kind in ("graph", "propagation", "gif") and not args.graph:
            raise GraphadInputError(
                f"'{kind}' needs the graph", field="--graph", expected="a graph file (.pt)"
            )
        if kind == "rca" and not args.rca:
            raise GraphadInputError(
                "'rca' needs a ranking", field="--rca", expected="a JSON file from 'graphad rca'"
            )
    return wanted


def _structure(graph_path: str, names: list[str], ends: np.ndarray) -> Any:
    """The dynamic graph when it matches the scores row for row, else its union graph."""
    from graphad.graph import DynamicGraph
    from graphad.viz import union_graph

    graph = DynamicGraph.load(check_file(graph_path))
    if (
        len(graph) == len(ends)
        and np.array_equal(graph.window_end.numpy(), ends)
        and graph.vocab.names == names
    ):
        return graph
    union = union_graph(graph)
    union.add_nodes_from(names)
    return union.subgraph(names).copy()


def _threshold(args: argparse.Namespace) -> float | None:
    if args.threshold is not None:
        if not np.isfinite(args.threshold):
            raise GraphadInputError(
                "not a finite number", field="--threshold", found=args.threshold
            )
        return float(args.threshold)
    if args.model is None:
        return None
    from graphad.cli.score import load_detector

    return float(load_detector(args.model).threshold_)


def run(args: argparse.Namespace) -> int:
    """Execute ``graphad plot``."""
    from graphad import viz
    from graphad.cli._common import (
        SCORE_TIME,
        SCORE_WINDOW,
        iso,
        output_path,
        read_scores,
        write_atomic,
    )

    console = Console(args.quiet)
    if not _DPI[0] <= args.dpi <= _DPI[1]:
        raise GraphadInputError(
            "dots per inch out of range",
            field="--dpi",
            expected=f"{_DPI[0]:g} to {_DPI[1]:g}",
            found=f"{args.dpi:g}",
        )
    kinds = _kinds(args)
    out = output_path(args.out, folder=True)
    table = read_scores(args.scores)
    names = [c for c in table.columns if c not in (SCORE_TIME, SCORE_WINDOW)]
    node_scores = table[names].to_numpy(dtype=np.float64)
    window_scores = table[SCORE_WINDOW].to_numpy(dtype=np.float64)
    ends = table[SCORE_TIME].to_numpy(dtype=np.int64)
    onset = parse_time(args.onset)
    threshold = _threshold(args)
    ranking = read_rca(args.rca) if args.rca else None
    if onset is None and ranking is not None:
        onset = ranking.onset_ns
    written = []

    def save(fig: Any, name: str) -> None:
        path = out / name
        write_atomic(path, lambda target: fig.savefig(target, dpi=args.dpi, format="png"))
        written.append(path)

    if "heatmap" in kinds:
        save(
            viz.plot_score_heatmap(
                node_scores, names, times=ends, onset=onset, vmax=args.vmax, truth=args.truth
            ),
            "heatmap.png",
        )
    if "timeline" in kinds:
        save(
            viz.plot_window_scores(window_scores, times=ends, threshold=threshold, onset=onset),
            "timeline.png",
        )
    if any(k in kinds for k in ("graph", "propagation", "gif")):
        structure = _structure(args.graph, names, ends)
        common = {"node_names": names, "vmax": args.vmax, "ranking": ranking}
        if not hasattr(structure, "vocab"):
            common["times"] = ends
        if "graph" in kinds:
            index = args.window if args.window is not None else int(np.argmax(window_scores))
            if not -len(ends) <= index < len(ends):
                raise GraphadInputError(
                    "window index out of range",
                    field="--window",
                    expected=f"0..{len(ends) - 1}",
                    found=index,
                )
            end = int(ends[index])
            when = iso(end) if end > 10**17 else f"window {index % len(ends)}"
            save(
                viz.plot_service_graph(
                    structure,
                    node_scores[index],
                    window=index,
                    node_names=names,
                    vmax=args.vmax,
                    ranking=ranking if onset is None or end > onset else None,
                    title=f"window ending {when}",
                    truth=args.truth,
                ),
                "graph.png",
            )
        if "propagation" in kinds:
            save(
                viz.plot_propagation(
                    structure, node_scores, onset=onset, truth=args.truth, **common
                ),
                "propagation.png",
            )
        if "gif" in kinds:
            path = out / "propagation.gif"
            write_atomic(
                path,
                lambda target: viz.save_propagation_gif(
                    structure, node_scores, target, onset=onset, truth=args.truth, **common
                ),
            )
            written.append(path)
    if "rca" in kinds:
        save(viz.plot_rca(ranking, truth=args.truth), "rca.png")
    for path in written:
        console.result(str(path))
    return 0
