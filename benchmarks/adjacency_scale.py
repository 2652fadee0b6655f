"""Scale of AdaptiveAdjacency in top-k mode: time and peak memory for large N.

The issue's target: N = 20,000 nodes, d = 64, k = 16 runs forward in seconds and under
2 GB peak memory (the similarities are computed in row blocks, never as an N x N matrix).

Usage::

    python benchmarks/adjacency_scale.py                 # N = 20000, d = 64, k = 16
    python benchmarks/adjacency_scale.py --nodes 5000 20000 50000 --threads 2
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from graphad.nn import AdaptiveAdjacency


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB; Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[20000])
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--tau", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch threads {args.threads}; d = {args.dim}; k = {args.k}; tau = {args.tau}")
    print("| N | forward s | edges | peak RSS MB (process) | dense N x N would need MB |")
    print("|---|---|---|---|---|")
    adjacency = AdaptiveAdjacency(tau=args.tau, k=args.k)
    for n in args.nodes:
        x = torch.randn(n, args.dim, generator=torch.Generator().manual_seed(0))
        start = time.perf_counter()
        with torch.no_grad():
            edge_index, edge_weight = adjacency(x)
        seconds = time.perf_counter() - start
        rows = torch.zeros(n).index_add_(0, edge_index[1], edge_weight)
        assert torch.allclose(rows, torch.ones(n), atol=1e-4)
        print(
            f"| {n} | {seconds:.2f} | {edge_index.shape[1]} | {peak_rss_mb():.0f} | "
            f"{n * n * 4 / 2**20:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
