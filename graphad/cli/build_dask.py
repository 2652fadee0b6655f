"""``graphad build --scheduler ADDRESS`` / ``--workers N``: spans built on Dask."""

from __future__ import annotations

import argparse
from pathlib import Path

from graphad.exceptions import GraphadInputError
from graphad.graph.window import WindowSpec

__all__ = ["run_dask"]


def run_dask(args: argparse.Namespace, columns: dict | None, console) -> int:
    """Build the graph of ``args.traces`` on a Dask cluster and save it.

    The cluster is the scheduler at ``args.scheduler`` or, with ``args.workers``, a local
    cluster of that many single-threaded worker processes (closed at the end).

    Raises:
        GraphadInputError: Metrics or logs were given, or metric granularity (the Dask
            engine builds spans only), or no trace files.
    """
    from graphad.cli._common import parse_time
    from graphad.graph.scale.build import build_dynamic_graph_dask

    others = args.metrics or args.logs or getattr(args, "edge_metrics", None)
    if others or args.granularity != "entity" or not args.traces:
        raise GraphadInputError(
            "--scheduler/--workers build spans only",
            field="--metrics/--logs/--edge-metrics/--granularity",
            expected="--traces only, --granularity entity",
            found=f"{len(args.metrics)} metric, {len(args.logs)} log files, "
            f"granularity {args.granularity}",
        )
    if args.window is None:
        raise GraphadInputError(
            "--scheduler/--workers need the windows given (the data is not read first)",
            field="--window",
            expected="e.g. --window 5min --step 1min",
            found="none",
        )
    spec = WindowSpec.of(args.window, stride=args.stride, step=args.step)
    from distributed import Client, LocalCluster

    cluster = None
    if args.scheduler:
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(
            n_workers=int(args.workers),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        )
        client = Client(cluster)
    try:
        console.info(f"dask: {client}")
        graph = build_dynamic_graph_dask(
            args.traces,
            spec=spec,
            client=client,
            node_rule=args.node_rule,
            start_ns=parse_time(args.start, "--start"),
            end_ns=parse_time(args.end, "--end"),
            columns=columns,
            end_column=args.end_column,
        )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    report = graph.meta.get("ingest", {})
    console.info(f"ingestion: {report.get('n_records', 0)} spans read, {report.get('counts', {})}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    graph.save(out)
    console.info(
        f"graph: {len(graph)} windows x {graph.num_nodes} nodes x {graph.num_steps} steps x "
        f"{graph.num_features} features, {graph.edge_union().shape[1]} distinct edges"
    )
    console.result(f"wrote {out}")
    return 0
