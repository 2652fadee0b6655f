"""Out-of-core graph building on Dask: spans/s and peak memory per worker, 1 vs N workers.

Generates ``--spans`` spans (default 50,000,000) of the seeded synthetic system of
``benchmarks/ingest.py`` as partitioned Parquet, ``--spans-per-file`` spans per file
(consecutive time slices; 10 % of each file's spans are moved into the next file, so that
parents and children of many traces sit in different files), then builds the dynamic graph
(window 30 s, stride 10 s, step 5 s) with ``build_dynamic_graph(files, engine="dask")`` on a
``LocalCluster`` of single-threaded worker processes with ``--memory-limit`` per worker,
once per entry of ``--workers``. The single-process builder on the first
``--reference-files`` files (all read into one process, then ``build_dynamic_graph``) is the
reference row; it runs in a child process so that its peak memory is its own.

Printed per row: spans, seconds, spans/s, peak RSS of the busiest worker (``ru_maxrss`` of
each worker process, which is fresh per cluster), and the speed-up over the first Dask row.

Run: ``nice -n 5 python benchmarks/ingest_dask.py --spans 50000000 --workers 1 2``
(``--spans 2000000 --spans-per-file 500000`` for a quick run; ``--dir`` keeps the files).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from ingest import make_spans  # the generator of benchmarks/ingest.py (same folder)

SPEC = ("30s", "10s", "5s")  # size, stride, step
FILE_SECONDS = 10.0  # each file covers this much time (1e5 spans/s at 1e6 spans per file)


def generate(folder: Path, num_spans: int, per_file: int, seed: int = 0) -> list[Path]:
    """Write the Parquet files (skipped when they are already there)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    num_files = max(1, -(-num_spans // per_file))
    paths = [folder / f"spans-{i:05d}.parquet" for i in range(num_files)]
    if all(p.exists() for p in paths):
        return paths
    rng = np.random.default_rng(seed)
    carry = None
    for i, path in enumerate(paths):
        frame = make_spans(per_file, num_services=50, duration_s=FILE_SECONDS, seed=seed + i)
        frame["start_ns"] += int(i * FILE_SECONDS * 1e9)
        moved = rng.random(len(frame)) < 0.1 if i + 1 < num_files else np.zeros(len(frame), bool)
        out = frame[~moved]
        if carry is not None:
            out = __import__("pandas").concat([carry, out], ignore_index=True)
        carry = frame[moved]
        pq.write_table(pa.Table.from_pandas(out, preserve_index=False), path)
    return paths


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_dask(files: list[Path], workers: int, memory_limit: str, pause: bool = True) -> dict:
    import dask
    from distributed import Client, LocalCluster

    from graphad.graph import WindowSpec, build_dynamic_graph

    size, stride, step = SPEC
    with (
        dask.config.set({"distributed.worker.memory.pause": 0.8 if pause else False}),
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=memory_limit,
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(lambda: __import__("graphad.graph.scale"))  # imports outside the timing
        start = time.perf_counter()
        graph = build_dynamic_graph(
            [str(f) for f in files],
            spec=WindowSpec.of(size, stride=stride, step=step),
            engine="dask",
            client=client,
        )
        seconds = time.perf_counter() - start
        peaks = client.run(_peak_rss_mb)
    spans = graph.meta["ingest"]["n_kept"]
    return {
        "engine": f"dask, {workers} worker{'s' if workers > 1 else ''}",
        "spans": spans,
        "seconds": seconds,
        "peak_mb": max(peaks.values()),
        "windows": len(graph),
        "calls": float(sum(g.edge_attr[:, 0].sum() for g in graph)),
    }


def run_reference(files: list[Path]) -> dict:
    import pandas as pd

    from graphad.graph import WindowSpec, build_dynamic_graph
    from graphad.ingest import read_traces

    size, stride, step = SPEC
    start = time.perf_counter()
    frames = [read_traces(f)[0] for f in files]
    spans = pd.concat(frames, ignore_index=True)
    del frames
    graph = build_dynamic_graph(spans, spec=WindowSpec.of(size, stride=stride, step=step))
    seconds = time.perf_counter() - start
    return {
        "engine": "single process",
        "spans": len(spans),
        "seconds": seconds,
        "peak_mb": _peak_rss_mb(),
        "windows": len(graph),
        "calls": float(sum(g.edge_attr[:, 0].sum() for g in graph)),
    }


def format_table(rows: list[dict]) -> str:
    lines = [
        "| engine | spans | seconds | spans/s | peak RSS per worker (MB) | speed-up |",
        "|---|---|---|---|---|---|",
    ]
    first = next((r for r in rows if r["engine"].startswith("dask")), None)
    for r in rows:
        rate = r["spans"] / r["seconds"]
        speed = (
            f"{rate / (first['spans'] / first['seconds']):.2f}"
            if r["engine"].startswith("dask") and first
            else "-"
        )
        lines.append(
            f"| {r['engine']} | {r['spans']:,} | {r['seconds']:.1f} | {rate:,.0f} | "
            f"{r['peak_mb']:,.0f} | {speed} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=50_000_000)
    parser.add_argument("--spans-per-file", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--memory-limit", default="3GB", help="per worker (default 3GB)")
    parser.add_argument("--reference-files", type=int, default=5)
    parser.add_argument(
        "--no-pause",
        action="store_true",
        help="workers never pause at 80%% of their memory limit (they spill and shuffle "
        "to disk; the nanny still restarts a worker at 95%%)",
    )
    parser.add_argument("--dir", default=None, help="folder for the files (default: temp)")
    parser.add_argument("--reference-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="graphad-dask-"))
    if args.reference_only:
        files = sorted(folder.glob("spans-*.parquet"))[: args.reference_files]
        print(json.dumps(run_reference(files)))
        return
    t0 = time.perf_counter()
    files = generate(folder, args.spans, args.spans_per_file)
    print(f"{len(files)} Parquet files in {folder} ({time.perf_counter() - t0:.0f} s)")
    rows = []
    if args.reference_files > 0:
        child = subprocess.run(
            [sys.executable, __file__, "--reference-only", "--dir", str(folder)]
            + ["--reference-files", str(args.reference_files)],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(format_table(rows), flush=True)
    for workers in args.workers:
        rows.append(run_dask(files, workers, args.memory_limit, pause=not args.no_pause))
        print(format_table(rows), flush=True)
    calls = {r["engine"]: r["calls"] for r in rows}
    print(f"calls summed over windows (equal across runs): {calls}")


if __name__ == "__main__":
    main()
