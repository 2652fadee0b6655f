"""ASD benchmark: every detector over the 12 servers of ``../shared/data/asd``.

Protocol: fit on each server's training split; score every test step (the last
``window_size - 1`` training steps are prepended as context, so a window ends at every test
step; no labels are used for that); thresholds come from the training scores only. Reported
per detector (mean over servers): AUC-ROC, AUC-PR, VUS-PR, best F1 (oracle threshold, no
point adjustment), F1 at the detector's own training threshold, HitRate@100% / @150% of the
per-node scores against the interpretation labels, and fit / score seconds.

Rows named ``CRLBSAD:...`` / ``UCL:...`` are ablations of the scoring rule (see
``graphad/detectors/_contrastive.py``).

Usage::

    python benchmarks/asd.py                             # all detectors, 12 servers
    python benchmarks/asd.py --detectors CRLBSAD,KNNDetector --servers 1-3 --threads 1
    python benchmarks/asd.py --quick --json out.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import graphad.detectors.crl_bsad  # noqa: F401  (registers CRLBSAD)
import graphad.detectors.ucl  # noqa: F401  (registers UCL)
from graphad.detectors.base import DETECTORS
from graphad.eval import auc_pr, auc_roc, best_f1, f1_at_threshold, hit_rate_at_p, vus_pr

try:  # the baselines register themselves on import
    import graphad.detectors.baselines  # noqa: F401
except ImportError:  # pragma: no cover - written in parallel
    pass

try:
    from graphad.datasets import MultivariateCSV
except ImportError:  # pragma: no cover
    from graphad.datasets.mts import MultivariateCSV

ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "asd"

#: Row name -> (registered class, constructor arguments, arguments set after fitting).
#: Ablations of the scoring rule narrow ``scoring`` on the same fitted model (no refit);
#: "no-contrastive" trains without the contrastive terms; "raw values" skips training.
SPECS: dict[str, tuple[str, dict, dict]] = {
    "CRLBSAD": ("CRLBSAD", {}, {}),
    "CRLBSAD:forecast-only": ("CRLBSAD", {}, {"scoring": ("forecast",)}),
    "CRLBSAD:knn-only": ("CRLBSAD", {}, {"scoring": ("knn",)}),
    "CRLBSAD:no-contrastive": ("CRLBSAD", {"contrastive_weight": 0.0}, {}),
    "CRLBSAD:knn-embedding-only": ("CRLBSAD", {"knn_space": "embedding"}, {"scoring": ("knn",)}),
    "CRLBSAD:windows-from-both-parts": ("CRLBSAD", {}, {"window_scoring": None}),
    "UCL": ("UCL", {}, {}),
    "UCL:forecast-only": ("UCL", {}, {"scoring": ("forecast",)}),
    "UCL:windows-from-both-parts": ("UCL", {}, {"window_scoring": None}),
    "UCL:knn-only": ("UCL", {}, {"scoring": ("knn",)}),
    "UCL:no-contrastive": ("UCL", {"contrastive_weight": 0.0}, {}),
    "knn on raw values (untrained)": (
        "CRLBSAD",
        {"knn_space": "values", "epochs": 0},
        {"scoring": ("knn",)},
    ),
    "RobustZScore": ("RobustZScore", {}, {}),
    "PCADetector": ("PCADetector", {}, {}),
    "IForestDetector": ("IForestDetector", {}, {}),
    "KNNDetector": ("KNNDetector", {}, {}),
    "GDN": ("GDN", {}, {}),
}
DEFAULT_ROWS = [r for r in SPECS if r not in ("CRLBSAD:knn-embedding-only", "UCL:no-contrastive")]
QUICK_ROWS = ["CRLBSAD", "UCL", "KNNDetector"]
COLUMNS = [
    "AUC-ROC",
    "AUC-PR",
    "VUS-PR",
    "best F1",
    "F1@thr",
    "Hit@100",
    "Hit@150",
    "fit s",
    "score s",
    "fit cpu s",
    "score cpu s",
]


def parse_servers(text: str | None, entities: list[str]) -> list[str]:
    """``"1-3,7"`` or ``"omi-1,omi-2"`` -> entity names (default: all)."""
    if not text:
        return entities
    chosen = []
    for part in text.split(","):
        part = part.strip()
        if part in entities:
            chosen.append(part)
        elif "-" in part and all(p.isdigit() for p in part.split("-")):
            lo, hi = map(int, part.split("-"))
            chosen.extend(entities[i - 1] for i in range(lo, hi + 1))
        elif part.isdigit():
            chosen.append(entities[int(part) - 1])
        else:
            raise SystemExit(f"unknown server {part!r}; choose among {entities}")
    return chosen


def make_detector(row: str, quick: bool, seed: int):
    """Instantiate the (unfitted) detector of a table row."""
    name, kwargs, _ = SPECS[row]
    if name not in DETECTORS:
        raise SystemExit(f"detector {name!r} is not registered (have {sorted(DETECTORS)})")
    cls = DETECTORS[name]
    params = cls._param_names()
    kwargs = dict(kwargs)
    if "random_state" in params:
        kwargs.setdefault("random_state", seed)
    if quick and "epochs" in params and "epochs" not in kwargs:
        kwargs["epochs"] = 3
    if "verbose" in params:
        kwargs["verbose"] = False
    return cls(**kwargs)


def _timed(fn, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - wall, time.process_time() - cpu


_FITTED: dict[tuple, tuple] = {}


def fitted_detector(row: str, entity, quick: bool, seed: int):
    """Fit (or reuse, for rows that only change the scoring) the detector of a row."""
    name, kwargs, _ = SPECS[row]
    key = (name, json.dumps(kwargs, sort_keys=True), entity.name)
    if key not in _FITTED:
        for other in [k for k in _FITTED if k[2] != entity.name]:
            del _FITTED[other]  # keep one server's models at a time
        detector = make_detector(row, quick, seed)
        _, wall, cpu = _timed(detector.fit, entity.train)
        _FITTED[key] = (detector, wall, cpu, detector.get_params())
    detector, wall, cpu, params = _FITTED[key]
    detector.set_params(**{**params, **SPECS[row][2]})
    return detector, wall, cpu


def run_one(row: str, entity, quick: bool, seed: int) -> dict:
    """Fit and score one detector on one server; return its metrics."""
    detector, fit_s, fit_cpu = fitted_detector(row, entity, quick, seed)
    window = int(getattr(detector, "window_size", None) or 1)
    series = (
        pd.concat([entity.train.iloc[len(entity.train) - (window - 1) :], entity.test])
        if window > 1
        else entity.test
    )
    scores, score_s, score_cpu = _timed(detector.score_windows, series)
    scores = scores.numpy().astype(np.float64)
    node_scores = detector.decision_function(series).numpy().astype(np.float64)
    y = entity.test_labels
    labels = entity.node_labels
    # a row that narrows the scoring after fitting has no training threshold of its own
    # alarms as ``predict`` raises them (DSPOT: the threshold follows the scored stream)
    alarms = detector._alarms(scores).astype(np.float64)
    f1_thr = f1_at_threshold(y, alarms, 0.5).f1 if not SPECS[row][2] else float("nan")
    return {
        "AUC-ROC": auc_roc(y, scores),
        "AUC-PR": auc_pr(y, scores),
        "VUS-PR": vus_pr(y, scores),
        "best F1": best_f1(y, scores).f1,
        "F1@thr": f1_thr,
        "Hit@100": hit_rate_at_p(node_scores, labels, 1.0),
        "Hit@150": hit_rate_at_p(node_scores, labels, 1.5),
        "fit s": fit_s,
        "score s": score_s,
        "fit cpu s": fit_cpu,
        "score cpu s": score_cpu,
    }


def format_table(results: dict[str, dict[str, dict]]) -> str:
    """Markdown table of the mean over servers, one row per detector."""
    lines = ["| detector | " + " | ".join(COLUMNS) + " |", "|---|" + "---|" * len(COLUMNS)]
    for row, per_server in results.items():
        means = {c: np.mean([m[c] for m in per_server.values()]) for c in COLUMNS}
        cells = [
            "–"
            if not np.isfinite(means[c])
            else f"{means[c]:.1f}"
            if c.endswith(" s")
            else f"{means[c]:.3f}"
            for c in COLUMNS
        ]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--detectors", help=f"comma list among {DEFAULT_ROWS}")
    parser.add_argument("--servers", help="e.g. 1-12, 1,5,7 or omi-3 (default: all)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument(
        "--quick", action="store_true", help="3 servers, 3 epochs, the main rows only"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the per-server results")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    data = MultivariateCSV(args.root)
    rows = (
        args.detectors.split(",")
        if args.detectors
        else (QUICK_ROWS if args.quick else DEFAULT_ROWS)
    )
    unknown = [r for r in rows if r not in SPECS]
    if unknown:
        raise SystemExit(f"unknown detectors {unknown}; choose among {DEFAULT_ROWS}")
    servers = parse_servers(args.servers or ("1-3" if args.quick else None), data.entities)
    entities = {name: data.load(name) for name in servers}
    if args.json:  # partial results survive an interrupted run
        args.json.parent.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, dict]] = {row: {} for row in rows}
    for name, entity in entities.items():  # server-major: fitted models are reused
        for row in rows:
            results[row][name] = run_one(row, entity, args.quick, args.seed)
            print(
                f"{row:38s} {name:7s} "
                + " ".join(f"{c}={v:.3f}" for c, v in results[row][name].items()),
                file=sys.stderr,
                flush=True,
            )
            if args.json:
                args.json.write_text(json.dumps({"partial": True, "results": results}))
    header = (
        f"ASD, {len(servers)} servers, mean over servers; "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; torch threads "
        f"{args.threads}; {platform.processor() or platform.machine()}"
    )
    print(header)
    print(format_table(results))
    if args.json:
        args.json.write_text(json.dumps({"header": header, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
