"""ASD leave-servers-out protocol: choose on servers 1-6, report on 7-12, and the reverse.

Two steps, so that fitting (slow) happens once and every choice is made from cached scores:

``fit``: for each server and trained configuration, fit once and cache the *raw parts* of
the contrastive score rule (forecast, neighbour (kNN) and graph (neighbour-forecast)
errors, per window and node, for the training windows, scored with the temporal exclusion
zone, and for the test windows), or the baselines' training and test scores, plus the fit
and score seconds.

``report``: every scoring rule (parts x per-node / global normalisation x sum / max over
nodes) is recombined from the cache; the rule with the best mean (AUC-PR + VUS-PR) / 2 on
one half of the servers is reported on the other half, beside KNNDetector and PCADetector
on that half (their defaults, never tuned here). Then the ablation (each trained
configuration under the rule chosen on each half), and the threshold table: quantile,
POT, SPOT and DSPOT alarms on the test stream, with the thresholds' settings chosen on one
half and reported on the other, as F1 / precision / recall / FPR at the threshold,
point-adjusted F1 beside plain F1, and alarms per day (5-minute steps: 288 per day).

Usage::

    python benchmarks/asd_protocol.py fit --configs full,no-contrastive --servers 1-12
    python benchmarks/asd_protocol.py fit --configs KNNDetector,PCADetector
    python benchmarks/asd_protocol.py report
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from graphad.datasets.mts import MultivariateCSV
from graphad.detectors import CRLBSAD, UCL, KNNDetector, PCADetector
from graphad.detectors._contrastive import _PARTS
from graphad.detectors.threshold import SPOT, pot_threshold
from graphad.eval import auc_pr, hit_rate_at_p, point_adjusted_f1, vus_pr

ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "asd"
CACHE = Path.home() / ".cache" / "graphad" / "asd_protocol"
STEPS_PER_DAY = 288  # ASD: one step every 5 minutes

#: Trained configurations: name -> (class, constructor arguments).
CONFIGS: dict[str, tuple[type, dict]] = {
    "full": (CRLBSAD, {}),
    "no-contrastive": (CRLBSAD, {"contrastive_weight": 0.0}),
    "no-graph-loss": (CRLBSAD, {"graph_weight": 0.0}),
    "no-smooth": (CRLBSAD, {"smooth_weight": 0.0}),
    "uniform-adjacency": (CRLBSAD, {"adjacency_tau": 1e6}),
    "untrained": (CRLBSAD, {"epochs": 0}),
    "UCL": (UCL, {}),
    "KNNDetector": (KNNDetector, {}),
    "PCADetector": (PCADetector, {}),
}
BASELINES = ("KNNDetector", "PCADetector")
HALVES = {"1-6": [f"omi-{i}" for i in range(1, 7)], "7-12": [f"omi-{i}" for i in range(7, 13)]}

#: Scoring rules recombined from the cached parts: (window parts, normalisation, reduce).
RULE_PARTS = [
    ("knn",),
    ("knn", "graph"),
    ("knn", "forecast"),
    ("knn", "forecast", "graph"),
    ("graph",),
    ("forecast", "graph"),
]
RULES = list(itertools.product(RULE_PARTS, ("global", "node"), ("sum", "max")))


def _context(entity, window: int) -> pd.DataFrame:
    return pd.concat([entity.train.iloc[len(entity.train) - (window - 1) :], entity.test])


def fit_one(config: str, entity, threads: int) -> dict[str, np.ndarray]:
    """Fit one configuration on one server; return the arrays to cache."""
    cls, kwargs = CONFIGS[config]
    detector = cls(**kwargs)
    torch.set_num_threads(threads)
    if hasattr(detector, "num_threads"):
        detector.set_params(num_threads=threads)
    wall, cpu = time.perf_counter(), time.process_time()
    detector.fit(entity.train)
    fit_s, fit_cpu = time.perf_counter() - wall, time.process_time() - cpu
    series = _context(entity, int(detector.window_size))
    wall, cpu = time.perf_counter(), time.process_time()
    test_scores = detector.score_windows(series).double().numpy()
    score_s, score_cpu = time.perf_counter() - wall, time.process_time() - cpu
    out = {
        "fit_s": np.array(fit_s),
        "fit_cpu": np.array(fit_cpu),
        "score_s": np.array(score_s),
        "score_cpu": np.array(score_cpu),
        "train_window": detector.train_scores_.double().numpy(),
        "test_window": test_scores,
        "test_nodes": detector.decision_function(series).double().numpy(),
    }
    if config in BASELINES:
        return out
    device = detector._device()
    for split, frame, positions in (("train", entity.train, True), ("test", series, False)):
        batch = detector._batch(frame)
        x = detector._prepare(batch.x)
        pos = torch.arange(batch.num_windows) if positions else None
        parts = detector._raw_parts(x, device, pos, _PARTS)
        for name, values in parts.items():
            out[f"{split}_{name}"] = values.double().numpy()
    return out


def cache_path(cache: Path, config: str, server: str) -> Path:
    return cache / f"{config}__{server}.npz"


def cmd_fit(args: argparse.Namespace) -> int:
    data = MultivariateCSV(args.root)
    servers = [f"omi-{i}" for i in _parse_range(args.servers)]
    args.cache.mkdir(parents=True, exist_ok=True)
    for config in args.configs.split(","):
        if config not in CONFIGS:
            raise SystemExit(f"unknown config {config!r}; choose among {list(CONFIGS)}")
        for server in servers:
            path = cache_path(args.cache, config, server)
            if path.exists() and not args.force:
                continue
            out = fit_one(config, data.load(server), args.threads)
            np.savez(path, **out)
            print(
                f"{config:18s} {server:7s} fit {float(out['fit_s']):6.1f}s "
                f"(cpu {float(out['fit_cpu']):6.1f}) score {float(out['score_s']):5.2f}s",
                file=sys.stderr,
                flush=True,
            )
    return 0


def _parse_range(text: str) -> list[int]:
    chosen: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        chosen.extend(range(int(lo), int(hi or lo) + 1))
    return chosen


# -- recombining the parts ---------------------------------------------------------------
def _part_stats(train: np.ndarray, normalize: str) -> tuple[np.ndarray, np.ndarray]:
    if normalize == "node":
        q1, med, q3 = np.quantile(train, [0.25, 0.5, 0.75], axis=0)
        return med, np.maximum(q3 - q1, 1e-6)
    return np.zeros(train.shape[1]), np.full(train.shape[1], max(train.mean(), 1e-6))


def combine(blob, rule, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Window scores ``[W]`` and node scores ``[W, N]`` of a rule on a cached split."""
    parts, normalize, reduce = rule
    total = None
    for name in parts:
        center, scale = _part_stats(blob[f"train_{name}"], normalize)
        value = (blob[f"{split}_{name}"] - center) / scale
        total = value if total is None else total + value
    window = total.sum(1) if reduce == "sum" else total.max(1)
    return window, total


class Cache:
    """Lazy loader of the cached npz files and the test labels."""

    def __init__(self, cache: Path, root: Path) -> None:
        self.cache, self.data = cache, MultivariateCSV(root)
        self._blobs: dict = {}
        self._entities: dict = {}

    def has(self, config: str, server: str) -> bool:
        return cache_path(self.cache, config, server).exists()

    def blob(self, config: str, server: str):
        key = (config, server)
        if key not in self._blobs:
            self._blobs[key] = dict(np.load(cache_path(self.cache, config, server)))
        return self._blobs[key]

    def entity(self, server: str):
        if server not in self._entities:
            self._entities[server] = self.data.load(server)
        return self._entities[server]


def _metrics(y: np.ndarray, window: np.ndarray) -> dict[str, float]:
    return {"AUC-PR": auc_pr(y, window), "VUS-PR": vus_pr(y, window)}


def rule_table(cache: Cache, config: str, servers: list[str]) -> dict:
    """Mean AUC-PR / VUS-PR over ``servers`` of every rule of a trained configuration."""
    table = {}
    for rule in RULES:
        rows = []
        for server in servers:
            blob = cache.blob(config, server)
            if f"train_{rule[0][0]}" not in blob:
                break
            rows.append(_metrics(cache.entity(server).test_labels, combine(blob, rule, "test")[0]))
        if len(rows) == len(servers):
            table[rule] = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    return table


def _objective(m: dict[str, float]) -> float:
    return 0.5 * (m["AUC-PR"] + m["VUS-PR"])


def _rule_name(rule) -> str:
    parts, normalize, reduce = rule
    return f"{'+'.join(parts)}, {normalize} norm, {reduce}"


def _evaluate(cache: Cache, config: str, rule, servers: list[str]) -> dict[str, float]:
    rows = []
    for server in servers:
        blob, entity = cache.blob(config, server), cache.entity(server)
        if rule is None:
            window, nodes = blob["test_window"], blob["test_nodes"]
        else:
            window, nodes = combine(blob, rule, "test")
        row = _metrics(entity.test_labels, window)
        row["Hit@150"] = hit_rate_at_p(nodes, entity.node_labels, 1.5)
        row["fit s"] = float(blob["fit_s"])
        row["score s"] = float(blob["score_s"])
        rows.append(row)
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def _fmt(m: dict[str, float], keys) -> str:
    return " | ".join(f"{m[k]:.1f}" if k.endswith(" s") else f"{m[k]:.3f}" for k in keys)


# -- thresholds ----------------------------------------------------------------------------
def alarm_rule(name: str, params: dict, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """0/1 alarms of a threshold rule, fitted on training scores only."""
    if name == "quantile":
        return test > np.quantile(train, 1.0 - params["contamination"])
    level = min(0.98, 1.0 - 3.0 * params["risk"])  # the peaks start well below z_q
    if name == "pot":
        return test > pot_threshold(train, risk=params["risk"], level=level)
    spot = SPOT(risk=params["risk"], level=level, depth=params.get("depth", 0)).fit(train)
    return spot.run(test)[0]


RISKS = (0.05, 0.02, 0.01, 1e-3)
THRESHOLD_GRID = {
    "quantile": [{"contamination": c} for c in RISKS],
    "pot": [{"risk": r} for r in RISKS],
    "spot": [{"risk": r} for r in RISKS],
    "dspot": [{"risk": r, "depth": d} for r in RISKS for d in (50, 288)],
}


def threshold_metrics(y: np.ndarray, scores: np.ndarray, alarms: np.ndarray) -> dict:
    alarms = alarms.astype(bool)
    tp = float((alarms & (y == 1)).sum())
    fp = float((alarms & (y == 0)).sum())
    fn = float((~alarms & (y == 1)).sum())
    p = tp / max(tp + fp, 1)
    r = tp / max(tp + fn, 1)
    starts = int((alarms[1:] & ~alarms[:-1]).sum() + alarms[0])
    days = len(y) / STEPS_PER_DAY
    return {
        "F1": 2 * p * r / max(p + r, 1e-12),
        "P": p,
        "R": r,
        "FPR": fp / max((y == 0).sum(), 1),
        "PA-F1": point_adjusted_f1(y, alarms.astype(float), 0.5).f1,
        "alarms/day": starts / days,
        "false alarms/day": _false_alarm_runs(alarms, y) / days,
    }


def _false_alarm_runs(alarms: np.ndarray, y: np.ndarray) -> int:
    """Alarm runs that touch no labelled step."""
    runs, start = 0, None
    for i, a in enumerate(np.r_[alarms, False]):
        if a and start is None:
            start = i
        elif not a and start is not None:
            runs += int(not y[start:i].any())
            start = None
    return runs


def threshold_table(cache: Cache, config: str, rule, servers: list[str], name, params) -> dict:
    rows = []
    for server in servers:
        blob, y = cache.blob(config, server), cache.entity(server).test_labels
        if rule is None:
            train, test = blob["train_window"], blob["test_window"]
        else:
            train, test = combine(blob, rule, "train")[0], combine(blob, rule, "test")[0]
        rows.append(threshold_metrics(y, test, alarm_rule(name, params, train, test)))
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def _threshold_objective(m: dict) -> float:
    # the target: FPR <= .05 at recall >= .5; among settings meeting it, the best F1
    return m["F1"] + (1.0 if m["FPR"] <= 0.05 and m["R"] >= 0.5 else 0.0)


def cmd_report(args: argparse.Namespace) -> int:
    cache = Cache(args.cache, args.root)
    stamp = f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    print(f"ASD leave-servers-out; {stamp}; {platform.machine()}; cache {args.cache}")
    configs = [c for c in CONFIGS if all(cache.has(c, s) for s in HALVES["1-6"] + HALVES["7-12"])]
    print(f"configs cached on all 12 servers: {configs}\n")
    main = args.main
    chosen = {}
    print("## Leave-servers-out (rule chosen on one half, reported on the other)\n")
    keys = ["AUC-PR", "VUS-PR", "Hit@150", "fit s", "score s"]
    print("| chosen on | reported on | detector | rule | " + " | ".join(keys) + " |")
    print("|---|---|---|---|" + "---|" * len(keys))
    for pick, report in (("1-6", "7-12"), ("7-12", "1-6")):
        for config in [c for c in configs if c not in BASELINES and c in (main, "UCL")]:
            table = rule_table(cache, config, HALVES[pick])
            rule = max(table, key=lambda r: _objective(table[r]))
            chosen[(config, pick)] = rule
            m = _evaluate(cache, config, rule, HALVES[report])
            name = "CRLBSAD" if config == "full" else config
            print(f"| {pick} | {report} | {name} | {_rule_name(rule)} | {_fmt(m, keys)} |")
        for base in [b for b in BASELINES if b in configs]:
            m = _evaluate(cache, base, None, HALVES[report])
            print(f"| – | {report} | {base} | its defaults | {_fmt(m, keys)} |")
    print("\n## Ablation (trained configurations; each under the rule chosen for the main one)\n")
    print("| configuration | rule chosen on | reported on | AUC-PR | VUS-PR | Hit@150 | fit s |")
    print("|---|---|---|---|---|---|---|")
    for pick, report in (("1-6", "7-12"), ("7-12", "1-6")):
        rule = chosen.get((main, pick))
        if rule is None:
            continue
        for config in [c for c in configs if c not in BASELINES and c != "UCL"]:
            m = _evaluate(cache, config, rule, HALVES[report])
            cells = _fmt(m, ["AUC-PR", "VUS-PR", "Hit@150", "fit s"])
            print(f"| {config} | {pick} | {report} | {cells} |")
        for parts in RULE_PARTS:
            variant = (parts, rule[1], rule[2])
            if variant == rule:
                continue
            m = _evaluate(cache, main, variant, HALVES[report])
            print(
                f"| {main}, parts {'+'.join(parts)} | {pick} | {report} | "
                f"{_fmt(m, ['AUC-PR', 'VUS-PR', 'Hit@150', 'fit s'])} |"
            )
    print("\n## Thresholds (setting chosen on one half, reported on the other)\n")
    tkeys = ["F1", "P", "R", "FPR", "PA-F1", "alarms/day", "false alarms/day"]
    print("| detector | method | setting (chosen on) | reported on | " + " | ".join(tkeys) + " |")
    print("|---|---|---|---|" + "---|" * len(tkeys))
    for pick, report in (("1-6", "7-12"), ("7-12", "1-6")):
        subjects = [(main, chosen.get((main, pick)))] + [
            (b, None) for b in BASELINES if b in configs
        ]
        for config, rule in subjects:
            if config == main and rule is None:
                continue
            for method, grid in THRESHOLD_GRID.items():
                scored = [
                    (threshold_table(cache, config, rule, HALVES[pick], method, p), p) for p in grid
                ]
                best = max(scored, key=lambda item: _threshold_objective(item[0]))[1]
                m = threshold_table(cache, config, rule, HALVES[report], method, best)
                name = "CRLBSAD" if config == "full" else config
                setting = ", ".join(f"{k}={v:g}" for k, v in best.items())
                print(
                    f"| {name} | {method} | {setting} ({pick}) | {report} | "
                    + " | ".join(f"{m[k]:.3f}" if "day" not in k else f"{m[k]:.1f}" for k in tkeys)
                    + " |"
                )
    if args.json:
        args.json.write_text(
            json.dumps({str(k): _rule_name(v) for k, v in chosen.items()}, indent=1)
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--cache", type=Path, default=CACHE)
    sub = parser.add_subparsers(dest="command", required=True)
    fit = sub.add_parser("fit")
    fit.add_argument("--configs", default="full,KNNDetector,PCADetector")
    fit.add_argument("--servers", default="1-12")
    fit.add_argument("--threads", type=int, default=1)
    fit.add_argument("--force", action="store_true")
    report = sub.add_parser("report")
    report.add_argument("--main", default="full", help="trained configuration of the main rows")
    report.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    return cmd_fit(args) if args.command == "fit" else cmd_report(args)


if __name__ == "__main__":
    raise SystemExit(main())
