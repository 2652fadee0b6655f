"""Fit / score time of the contrastive detectors on one ASD server vs torch threads.

Decides the default ``num_threads`` of CRLBSAD / UCL on evidence. Wall-clock times depend
on what else runs on the machine; CPU times are printed beside them.

Usage::

    python benchmarks/asd_threads.py --server omi-2 --threads 1 2
"""

from __future__ import annotations

import argparse
import os
import time

import pandas as pd

from graphad.detectors.crl_bsad import CRLBSAD
from graphad.detectors.ucl import UCL

try:
    from graphad.datasets import MultivariateCSV
except ImportError:  # pragma: no cover
    from graphad.datasets.mts import MultivariateCSV

from asd import ROOT  # noqa: E402  (benchmarks/asd.py beside this file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=str(ROOT))
    parser.add_argument("--server", default="omi-2")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--detectors", default="CRLBSAD,UCL")
    args = parser.parse_args(argv)
    entity = MultivariateCSV(args.root).load(args.server)
    classes = {"CRLBSAD": CRLBSAD, "UCL": UCL}
    print(
        f"{args.server}: {entity.train.shape[0]} training steps x {entity.train.shape[1]} "
        f"metrics, {entity.test.shape[0]} test steps; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print("| detector | threads | fit s | fit cpu s | score s | score cpu s |")
    print("|---|---|---|---|---|---|")
    for name in args.detectors.split(","):
        for threads in args.threads:
            det = classes[name](random_state=0, num_threads=threads, device="cpu")
            wall, cpu = time.perf_counter(), time.process_time()
            det.fit(entity.train)
            fit = (time.perf_counter() - wall, time.process_time() - cpu)
            series = pd.concat([entity.train.iloc[-(det.window_size - 1) :], entity.test])
            wall, cpu = time.perf_counter(), time.process_time()
            det.score_windows(series)
            score = (time.perf_counter() - wall, time.process_time() - cpu)
            print(
                f"| {name} | {threads} | {fit[0]:.1f} | {fit[1]:.1f} | {score[0]:.2f} | "
                f"{score[1]:.2f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
