"""``graphad build``: telemetry files -> a saved dynamic graph (``.pt``, no pickled code)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from graphad.cli._common import Console, add_common, parse_time
from graphad.exceptions import GraphadInputError

if TYPE_CHECKING:
    import pandas as pd

    from graphad.ingest.report import IngestReport

__all__ = ["register", "run", "read_all"]

_EPILOG = """\
example:
  graphad build --traces traces.json --metrics metrics.csv.gz \\
      --window 5min --step 1min --node-rule service -o graph.pt

  Reads OTLP / Jaeger / Zipkin JSON or span tables (CSV, Parquet, compressed too),
  long/wide metric tables or Prometheus query_range JSON, and raw log lines; prints
  each ingestion report and writes the dynamic graph (load it with
  graphad.graph.DynamicGraph.load)."""


def register(verbs: argparse._SubParsersAction) -> None:
    """Add the ``build`` verb."""
    parser = verbs.add_parser(
        "build",
        help="telemetry files -> a saved dynamic graph",
        description="Read traces, metrics and logs and cut them into a dynamic graph "
        "(one PyG graph per time window) saved in a safe format.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--traces",
        nargs="+",
        default=[],
        metavar="FILE",
        help="span files (OTLP/Jaeger/Zipkin JSON, CSV, Parquet)",
    )
    parser.add_argument(
        "--metrics",
        nargs="+",
        default=[],
        metavar="FILE",
        help="metric files (long/wide CSV, Parquet, Prometheus JSON)",
    )
    parser.add_argument(
        "--logs",
        nargs="+",
        default=[],
        metavar="FILE",
        help="log files (raw lines or CSV rows; templates mined by Drain3)",
    )
    parser.add_argument(
        "--trace-columns",
        default=None,
        metavar="MAP",
        help="span table columns, e.g. 'trace_id=TraceID,service=PodName'",
    )
    parser.add_argument(
        "--end-column",
        default=None,
        help="span table column with end times (when there is no duration)",
    )
    parser.add_argument("--window", default="5min", help="window size (default 5min)")
    parser.add_argument("--step", default="1min", help="time step inside a window (default 1min)")
    parser.add_argument(
        "--stride", default=None, help="distance between windows (default: the step)"
    )
    parser.add_argument(
        "--node-rule",
        default="identity",
        help="entity -> node: identity, service (k8s pod -> service)",
    )
    parser.add_argument(
        "--granularity",
        choices=("entity", "metric"),
        default="entity",
        help="nodes are entities (services/pods) or single metrics",
    )
    parser.add_argument("--start", default=None, help="start time (ISO or ns)")
    parser.add_argument("--end", default=None, help="end time (ISO or ns)")
    parser.add_argument("-o", "--out", required=True, help="output graph file (.pt)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="build spans on this Dask cluster")
    parser.add_argument(
        "--workers", type=int, metavar="N", help="build spans on N local Dask workers"
    )
    add_common(parser)
    parser.set_defaults(func=run)


def _mapping(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    out = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep:
            raise GraphadInputError(
                "unreadable column map",
                field="--trace-columns",
                expected="canonical=column,...",
                found=repr(item),
            )
        out[key.strip()] = value.strip()
    return out


def read_all(
    paths: Sequence[str], reader: Callable, console: Console, **kwargs
) -> tuple[pd.DataFrame | None, IngestReport | None]:
    """Read several files with one reader; concatenate frames and merge reports."""
    import pandas as pd

    frames, total = [], None
    for path in paths:
        if not Path(path).is_file():
            raise GraphadInputError("no such file", source=str(path))
        frame, report = reader(path, **kwargs)
        console.info(f"  {report}")
        frames.append(frame)
        total = report if total is None else total.merge(report)
    if not frames:
        return None, None
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0], total


def run(args: argparse.Namespace) -> int:
    """Execute ``graphad build``."""
    from graphad import ingest
    from graphad.graph import WindowSpec, build_dynamic_graph

    console = Console(args.quiet)
    if not (args.traces or args.metrics or args.logs):
        raise GraphadInputError(
            "nothing to build from",
            field="--traces/--metrics/--logs",
            expected="at least one telemetry file",
        )
    spec = WindowSpec.of(args.window, stride=args.stride, step=args.step)
    if args.scheduler or args.workers:  # graphad[dask], docs/scale.md
        from graphad.cli.build_dask import run_dask

        return run_dask(args, spec, _mapping(args.trace_columns), console)
    console.info("ingestion:")
    spans, _ = read_all(
        args.traces,
        ingest.read_traces,
        console,
        columns=_mapping(args.trace_columns),
        end_column=args.end_column,
    )
    metrics, _ = read_all(args.metrics, ingest.read_metrics, console)
    logs, _ = read_all(args.logs, ingest.read_logs, console)
    graph = build_dynamic_graph(
        spans,
        metrics,
        logs,
        spec=spec,
        node_rule=args.node_rule,
        granularity=args.granularity,
        start_ns=parse_time(args.start, "--start"),
        end_ns=parse_time(args.end, "--end"),
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    graph.save(out)
    console.info(
        f"graph: {len(graph)} windows x {graph.num_nodes} nodes x "
        f"{graph.num_steps} steps x {graph.num_features} features, "
        f"{graph.edge_union().shape[1]} distinct edges"
    )
    console.result(f"wrote {out}")
    return 0
