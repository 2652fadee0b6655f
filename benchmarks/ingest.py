"""Ingestion + graph-building throughput on synthetic traces (spans per second).

Generates ``--spans`` spans (default 1,000,000) of a seeded synthetic system of
``--services`` services (layered call topology, random fan-out, lognormal latencies, child
spans nested inside their parents, 1 % errors), writes them as CSV and Parquet into a
temporary folder, then times, per format and with one torch / Arrow thread (after
``--warmup`` untimed runs, best of ``--repeat``):

* read: ``graphad.ingest.read_traces`` (file -> validated canonical spans frame);
* build: ``graphad.graph.build_dynamic_graph`` (spans -> one PyG ``Data`` per window);
* end-to-end: read + build.

Run: ``python benchmarks/ingest.py`` (``--spans 100000`` for a quick run, ``--profile``
for a cProfile of the end-to-end path of the first format). The untimed warm-up run keeps
the first touch of fresh process memory (page faults, about 0.3 s for 10^6 spans on a
small VM) out of the throughput; ``--warmup 0`` measures a cold process.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from graphad.graph import WindowSpec, build_dynamic_graph

try:  # the reader of the ingest stage
    from graphad.ingest import read_traces
except ImportError:  # pragma: no cover - older trees: the module before it was exported
    from graphad.ingest.traces import read_traces


# ----------------------------------------------------------------------------- data
def make_topology(num_services: int, rng: np.random.Generator) -> np.ndarray:
    """Callees of each service, ``[S, K]`` (-1 padded): a layered DAG where every service
    is reachable from the entry services (layer 0) and calls 0-5 deeper services."""
    num_entries = max(1, num_services // 25)
    layers = np.concatenate(
        [
            np.zeros(num_entries, np.int64),
            np.sort(rng.integers(1, 5, size=num_services - num_entries)),
        ]
    )
    callees: list[set[int]] = [set() for _ in range(num_services)]
    for s in range(num_entries, num_services):
        shallower = np.flatnonzero(layers == layers[s] - 1)
        if len(shallower) == 0:
            shallower = np.flatnonzero(layers < layers[s])
        callees[int(rng.choice(shallower))].add(s)
    for s in range(num_services):
        deeper = np.flatnonzero(layers > layers[s])
        extra = (
            rng.choice(deeper, size=min(len(deeper), int(rng.integers(0, 3))), replace=False)
            if len(deeper)
            else []
        )
        callees[s].update(int(c) for c in extra)
    width = max(len(c) for c in callees)
    out = np.full((num_services, max(width, 1)), -1, dtype=np.int64)
    for s, c in enumerate(callees):
        out[s, : len(c)] = sorted(c)
    return out


def _traces(num_traces: int, callees: np.ndarray, duration_s: float, rng: np.random.Generator):
    """Whole traces, level by level: ``(trace, span, parent, service, start, duration)``."""
    num_entries = max(1, callees.shape[0] // 25)
    fan_out = callees.shape[1]
    service = rng.integers(0, num_entries, size=num_traces)
    trace = np.arange(num_traces)
    start = rng.uniform(0, duration_s * 1e9, size=num_traces).astype(np.int64)
    duration = rng.lognormal(np.log(50e6), 0.6, size=num_traces).astype(np.int64) + 1000
    parent = np.full(num_traces, -1)
    levels, next_id = [], 0
    while len(service):
        ids = np.arange(next_id, next_id + len(service))
        next_id += len(service)
        levels.append((trace, ids, parent, service, start, duration))
        cand = callees[service]  # [n, K]
        times = rng.choice([0, 1, 1, 2], size=cand.shape) * (cand >= 0)  # calls per callee
        rows = np.repeat(np.repeat(np.arange(len(service)), fan_out), times.reshape(-1))
        frac = rng.uniform(0.1, 0.6, size=len(rows))
        offset = rng.uniform(0.0, 0.3, size=len(rows))
        trace, parent, service = (
            trace[rows],
            ids[rows],
            np.repeat(cand.reshape(-1), times.reshape(-1)),
        )
        start = start[rows] + (offset * duration[rows]).astype(np.int64)
        duration = (frac * duration[rows]).astype(np.int64) + 1000
    return tuple(np.concatenate(c) for c in zip(*levels, strict=True))


def make_spans(
    num_spans: int, num_services: int = 50, duration_s: float = 600.0, seed: int = 0
) -> pd.DataFrame:
    """About ``num_spans`` spans (whole traces) of a seeded synthetic system."""
    rng = np.random.default_rng(seed)
    callees = make_topology(num_services, rng)
    pilot = len(_traces(500, callees, duration_s, np.random.default_rng(seed + 1))[0]) / 500
    num_traces = max(1, int(num_spans / pilot))
    trace, span, parent, service, start, duration = _traces(num_traces, callees, duration_s, rng)
    trace_hex = _hex(rng.integers(0, 2**63, size=num_traces), 32)
    span_hex = _hex(rng.integers(0, 2**63, size=len(span)), 16)
    parent_ids = np.where(parent >= 0, span_hex[np.maximum(parent, 0)], "")
    frame = pd.DataFrame(
        {
            "trace_id": trace_hex[trace],
            "span_id": span_hex[span],
            "parent_id": parent_ids,
            "service": np.array([f"service-{i:02d}" for i in range(num_services)])[service],
            "operation": np.array([f"op-{i % 7}" for i in range(num_services)])[service],
            "start_ns": start + 1_700_000_000_000_000_000,
            "duration_ns": duration,
            "status": (rng.random(len(span)) < 0.01).astype(np.int8),
            "kind": "server",
        }
    )
    return frame.sort_values("start_ns", kind="stable").reset_index(drop=True)


def _hex(values: np.ndarray, width: int) -> np.ndarray:
    text = np.char.zfill(np.char.mod("%x", values), width // 2)
    if width > 16:
        text = np.char.add(text, text[::-1])
    return text.astype(object)


# ----------------------------------------------------------------------------- timing
def _timed(fn, repeat: int, warmup: int = 0):
    """Best time of ``repeat`` calls of ``fn`` after ``warmup`` untimed ones, and its result.

    The previous result is dropped before each call, so that every call starts from the
    same memory state (instead of the second one paying for two results at once).
    """
    for _ in range(warmup):
        fn()
    best, result = float("inf"), None
    for _ in range(repeat):
        result = None
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def run(
    num_spans: int, num_services: int, repeat: int, profile: bool, warmup: int = 1
) -> list[dict]:
    torch.set_num_threads(1)
    try:
        import pyarrow

        pyarrow.set_cpu_count(1)
        pyarrow.set_io_thread_count(1)
    except ImportError:
        pass
    frame = make_spans(num_spans, num_services)
    spec = WindowSpec.of("60s", stride="60s", step="10s")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        paths = {"csv": Path(folder) / "spans.csv", "parquet": Path(folder) / "spans.parquet"}
        frame.to_csv(paths["csv"], index=False)
        frame.to_parquet(paths["parquet"], index=False)
        for fmt, path in paths.items():
            read_s, (spans, _) = _timed(lambda p=path: read_traces(p), repeat, warmup)
            build_s, graph = _timed(
                lambda s=spans: build_dynamic_graph(s, spec=spec), repeat, warmup
            )
            n = len(spans)
            rows.append(
                {
                    "format": fmt,
                    "spans": n,
                    "MB": path.stat().st_size / 2**20,
                    "windows": len(graph),
                    "nodes": graph.num_nodes,
                    "read_s": read_s,
                    "build_s": build_s,
                    "read": n / read_s,
                    "build": n / build_s,
                    "end_to_end": n / (read_s + build_s),
                }
            )
            if profile and fmt == "csv":
                profiler = cProfile.Profile()
                profiler.enable()
                spans, _ = read_traces(path)
                build_dynamic_graph(spans, spec=spec)
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return rows


def format_table(rows: list[dict]) -> str:
    header = (
        f"{'format':8} {'spans':>9} {'MB':>6} {'windows':>7} {'nodes':>5} "
        f"{'read s':>7} {'build s':>7} {'read/s':>11} {'build/s':>11} {'e2e/s':>11}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['format']:8} {r['spans']:>9,} {r['MB']:>6.1f} {r['windows']:>7} "
            f"{r['nodes']:>5} {r['read_s']:>7.3f} {r['build_s']:>7.3f} "
            f"{r['read']:>11,.0f} {r['build']:>11,.0f} {r['end_to_end']:>11,.0f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs before timing")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    rows = run(args.spans, args.services, args.repeat, args.profile, args.warmup)
    print(
        f"graphad ingest benchmark: {args.services} services, torch threads = "
        f"{torch.get_num_threads()}, Arrow CPU threads = 1, best of {args.repeat} after "
        f"{args.warmup} warm-up, CPUs visible = {os.cpu_count()}"
    )
    print(format_table(rows))


if __name__ == "__main__":
    main()
