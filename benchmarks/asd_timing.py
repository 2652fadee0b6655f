"""Fit / score time of the detectors on synthetic servers of a given size.

A synthetic server: ``metrics`` series mixed from 6 latent daily / weekly / short cycles
plus AR(1) noise (so the metrics are correlated, as a server's are), ``steps`` training
and ``steps`` test steps. Prints wall and CPU seconds of ``fit`` and of scoring every test
step, per torch thread count.

Usage::

    python benchmarks/asd_timing.py --size 28000x38 --threads 1 2
    python benchmarks/asd_timing.py --size 100000x100 --threads 1 --detectors CRLBSAD
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import torch

from graphad.detectors import CRLBSAD, UCL, KNNDetector, PCADetector

DETECTORS = {"CRLBSAD": CRLBSAD, "UCL": UCL, "KNNDetector": KNNDetector, "PCADetector": PCADetector}


def synthetic_server(steps: int, metrics: int, seed: int = 0) -> np.ndarray:
    """``[steps, metrics]`` correlated series with cycles and AR(1) noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)[:, None]
    periods = np.array([288.0, 2016.0, 48.0, 96.0, 12.0, 577.0])
    latent = np.sin(2 * np.pi * t / periods + rng.uniform(0, 2 * np.pi, periods.size))
    mix = rng.normal(size=(periods.size, metrics)) * (rng.random((periods.size, metrics)) < 0.5)
    noise = np.zeros((steps, metrics))
    eps = rng.normal(scale=0.1, size=(steps, metrics))
    for i in range(1, steps):  # AR(1), phi = 0.8
        noise[i] = 0.8 * noise[i - 1] + eps[i]
    return (latent @ mix + noise).astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="28000x38", help="STEPSxMETRICS")
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--detectors", default="CRLBSAD,UCL,KNNDetector,PCADetector")
    parser.add_argument("--no-score", action="store_true", help="time fit only")
    parser.add_argument("--param", action="append", default=[], help="NAME=VALUE (int/float)")
    args = parser.parse_args(argv)
    steps, metrics = map(int, args.size.lower().split("x"))
    series = synthetic_server(2 * steps, metrics)
    columns = [f"m{i}" for i in range(metrics)]
    train = pd.DataFrame(series[:steps], columns=columns)
    print(
        f"synthetic server {steps} train + {steps} test steps x {metrics} metrics; "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {platform.machine()}"
    )
    print("| detector | threads | fit s | fit cpu s | score s | score cpu s |")
    print("|---|---|---|---|---|---|")
    for name in args.detectors.split(","):
        for threads in args.threads:
            torch.set_num_threads(threads)
            detector = DETECTORS[name](random_state=0) if name != "PCADetector" else PCADetector()
            if hasattr(detector, "num_threads"):
                detector.set_params(num_threads=threads)
            for item in args.param:
                key, _, value = item.partition("=")
                detector.set_params(**{key: float(value) if "." in value else int(value)})
            wall, cpu = time.perf_counter(), time.process_time()
            detector.fit(train)
            fit_s, fit_cpu = time.perf_counter() - wall, time.process_time() - cpu
            score_s = score_cpu = float("nan")
            if not args.no_score:
                window = int(detector.window_size)
                test = pd.DataFrame(series[steps - window + 1 :], columns=columns)
                wall, cpu = time.perf_counter(), time.process_time()
                detector.score_windows(test)
                score_s, score_cpu = time.perf_counter() - wall, time.process_time() - cpu
            label = " ".join([name, *args.param])
            print(
                f"| {label} | {threads} | {fit_s:.1f} | {fit_cpu:.1f} | {score_s:.1f} | "
                f"{score_cpu:.1f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
