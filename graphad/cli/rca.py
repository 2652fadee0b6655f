"""``graphad rca``: telemetry or scored windows + an onset -> ranked root causes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from graphad.cli._common import (
    Console,
    add_common,
    parse_time,
    read_scores,
    read_windows,
    render_table,
)
from graphad.exceptions import GraphadInputError
from graphad.utils import resolve

if TYPE_CHECKING:
    from graphad.rca.result import RCAResult

__all__ = ["register", "run", "make_ranker", "telemetry_case", "rank_graph"]

_EPILOG = """\
examples:
  # raw telemetry and the time it broke (or --detect to estimate it):
  graphad rca --traces spans.csv --metrics metrics.csv --onset 2022-08-22T03:53:54Z
  # per-edge RPC latency, one column per caller_callee edge (e.g. Nezha's source_50.csv):
  graphad rca --edge-metrics source_50.csv --edge-separator _ --onset 2022-08-22T03:53:54Z
  # a graph and its scores (from 'graphad score', or --model model.pt to score here):
  graphad rca graph.pt --scores scores.csv --detect --format json -o rca.json

  Ranker names come from graphad.rca.RANKERS. With telemetry files the ranker reads
  every source given (metrics, spans, logs, edge metrics); with a graph it ranks from
  the node scores of the windows after the onset and the observed call graph."""


def register(verbs: argparse._SubParsersAction) -> None:
    """Add the ``rca`` verb."""
    parser = verbs.add_parser(
        "rca",
        help="data + onset or detection -> ranked root causes",
        description="Rank the likely root-cause nodes of an anomaly.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "graph",
        nargs="?",
        default=None,
        help="a saved graph (.pt); or give telemetry with --traces etc.",
    )
    parser.add_argument("--scores", default=None, help="scores table of the graph")
    parser.add_argument("--model", default=None, help="saved detector to score the graph")
    parser.add_argument("--traces", nargs="+", default=[], metavar="FILE", help="span files")
    parser.add_argument("--metrics", nargs="+", default=[], metavar="FILE", help="metric files")
    parser.add_argument(
        "--edge-metrics",
        nargs="+",
        default=[],
        metavar="FILE",
        help="per-edge metric files (caller -> callee samples, e.g. RPC latency): long "
        "tables (ts_ns, src, dst, metric, value), or wide ones, a column per edge named "
        "<src><SEP><dst> and the file stem as the metric, read with --edge-separator SEP",
    )
    parser.add_argument(
        "--edge-separator",
        default=None,
        metavar="SEP",
        help="what joins caller and callee in the edge column names of wide edge "
        "metric files, e.g. _ (default: none, the files are long tables)",
    )
    parser.add_argument("--logs", nargs="+", default=[], metavar="FILE", help="log files")
    parser.add_argument(
        "--node-rule",
        default="identity",
        help="entity -> node for telemetry files: identity, service (k8s pod -> service)",
    )
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--onset", default=None, help="when it broke (ISO or ns)")
    when.add_argument(
        "--detect", action="store_true", help="estimate the onset from the anomaly scores"
    )
    parser.add_argument(
        "--ranker", default=None, help="ranker name (default: the best multi-source ranker)"
    )
    parser.add_argument("--top", type=int, default=5, help="candidates to show (default 5)")
    parser.add_argument(
        "--format", choices=("table", "json"), default="table", help="output format (default table)"
    )
    parser.add_argument("-o", "--out", default=None, help="also write the output here")
    add_common(parser)
    parser.set_defaults(func=run)


#: Default rankers, best first: the multi-source ranker for telemetry, PageRank on the
#: node scores for a scored graph.
DEFAULT_RANKERS = {
    "telemetry": ("graphad", "MultiSourceRanker", "pagerank", "baro"),
    "graph": ("pagerank", "PageRankRanker", "score"),
}


def default_ranker_name(mode: str) -> str:
    """The ranker used when ``--ranker`` is not given (``mode``: telemetry or graph)."""
    from graphad.rca import RANKERS

    for name in DEFAULT_RANKERS[mode]:
        try:
            resolve(name, RANKERS, "--ranker")
        except GraphadInputError:
            continue
        return name
    return sorted(RANKERS)[0]


def make_ranker(name: str) -> Any:
    """A ranker instance from its registered name or class name (:func:`graphad.utils.resolve`).

    Raises:
        GraphadInputError: No ranker has that name.
    """
    from graphad.rca import RANKERS

    spec = resolve(name, RANKERS, "--ranker")
    return spec() if isinstance(spec, type) else spec


def telemetry_case(args: argparse.Namespace, console: Console) -> Any:
    """An :class:`~graphad.ingest.telemetry.Incident` (onset unknown) from telemetry files."""
    from graphad import ingest
    from graphad.cli.build import read_all
    from graphad.ingest.report import IngestReport
    from graphad.ingest.telemetry import Incident

    console.info("ingestion:")
    spans, r1 = read_all(args.traces, ingest.read_traces, console)
    metrics, r2 = read_all(args.metrics, ingest.read_metrics, console)
    logs, r3 = read_all(args.logs, ingest.read_logs, console)
    edge_metrics, r4 = read_all(
        args.edge_metrics, ingest.read_edge_metrics, console, separator=args.edge_separator
    )
    report = IngestReport()
    for part in (r1, r2, r3, r4):
        if part is not None:
            report.merge(part)
    read = (("spans", spans), ("metrics", metrics), ("logs", logs), ("edge_metrics", edge_metrics))
    frames = {k: v for k, v in read if v is not None}
    return Incident(case_id="cli", report=report, node_rule=args.node_rule, **frames)


def _graph_scores(args: argparse.Namespace) -> tuple[Any, np.ndarray, np.ndarray]:
    from graphad.cli.score import load_detector, score_input

    data = read_windows(args.graph)
    if not data.is_graph:
        raise GraphadInputError("rca needs a saved graph (.pt)", source=args.graph)
    graph = data.windows
    if args.model:
        table = score_input(load_detector(args.model), data)
    elif args.scores:
        table = read_scores(args.scores)
    else:
        raise GraphadInputError(
            "a graph needs its node scores",
            field="--scores/--model",
            expected="a scores table or a saved detector",
        )
    missing = [n for n in graph.vocab.names if n not in table.columns]
    if missing or len(table) != len(graph):
        raise GraphadInputError(
            "scores do not match the graph",
            source=args.scores,
            expected=f"{len(graph)} rows with a column per node",
            found=f"{len(table)} rows, missing {missing[:3]}",
        )
    node_scores = table[graph.vocab.names].to_numpy(dtype=np.float64)
    return graph, node_scores, table["window_score"].to_numpy(dtype=np.float64)


def rank_graph(ranker: Any, graph: Any, node_scores: np.ndarray, onset: int | str) -> RCAResult:
    """Rank from a scored graph; ``onset`` in ns or ``"estimated"`` (from the scores)."""
    import torch

    scores = torch.tensor(np.array(node_scores, dtype=np.float32))
    return ranker.rank(graph, node_scores=scores, onset=onset)


def _output(result: RCAResult, args: argparse.Namespace, console: Console) -> None:
    if args.format == "json":
        text = json.dumps(result.to_dict(), indent=2)
    else:
        rows = [
            [i + 1, n, s]
            for i, (n, s) in enumerate(
                zip(result.nodes[: args.top], result.scores[: args.top], strict=True)
            )
        ]
        text = render_table(["rank", "node", "score"], rows)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    console.result(text)
    if args.out:
        console.info(f"wrote {args.out}")


def run(args: argparse.Namespace) -> int:
    """Execute ``graphad rca``."""
    console = Console(args.quiet)
    telemetry = bool(args.traces or args.metrics or args.logs or args.edge_metrics)
    if telemetry == bool(args.graph):
        raise GraphadInputError(
            "give either a graph or telemetry files",
            field="graph/--traces/--metrics/--logs/--edge-metrics",
        )
    mode = "telemetry" if telemetry else "graph"
    ranker = make_ranker(args.ranker or default_ranker_name(mode))
    onset: int | str = parse_time(args.onset) if args.onset is not None else "estimated"
    if telemetry:
        result = ranker.rank(telemetry_case(args, console), onset=onset)
    else:
        graph, node_scores, _ = _graph_scores(args)
        result = rank_graph(ranker, graph, node_scores, onset)
    if args.detect and result.onset_ns is not None:
        console.info(f"estimated onset: {np.datetime64(int(result.onset_ns), 'ns')}")
    _output(result, args, console)
    return 0
