"""Event-pattern evidence (graphad.rca.evidence.patterns) on every Nezha system.

For each system of the Nezha folder: the fault-free period (``construct_data``) fits the
reference templates and span event patterns; each fault's spans and span-linked log
lines after the onset are scored. Printed per system: AC@k of the pattern evidence
alone, of graphad's multi-source ranker with its defaults (spans + metrics + edge
metrics, fitted on the same period; logs left out, see below), and of the same ranker
with the ``pattern`` source switched on (weight 1 like every other source, calibrated
against its chance level like them; the span-linked log lines handed over as the
case's logs, the ``log`` source weighted 0 as in the default run, which has no logs);
per fault type; and the seconds per case.

The canonical log frame keeps no span id, so this script reads the raw Nezha log files
itself (``TraceID``/``SpanID`` columns); a line pandas cannot split into the header's
fields is dropped and counted (one TrainTicket file holds a record cut short with the
next record on the same line).

    PYTHONPATH=. python benchmarks/rca_patterns.py --root ../shared/data/nezha
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import pandas as pd
import torch

from graphad.datasets import Nezha
from graphad.rca import MultiSourceRanker
from graphad.rca.evidence import MultiSourceEvidence
from graphad.rca.evidence.patterns import EventPatternEvidence

LOG_COLUMNS = ["TimeUnixNano", "PodName", "TraceID", "SpanID", "Log"]


def _message(raw: str) -> str:
    try:
        return str(json.loads(raw).get("log", ""))
    except (ValueError, AttributeError):
        return str(raw)


def read_log_lines(paths: list[Path], start: int, end: int, bad: list[int]) -> pd.DataFrame:
    """Span-linked log lines in ``[start, end)``; unsplittable lines counted in ``bad``."""
    parts = []
    for path in paths:

        def skip(_line):
            bad[0] += 1
            return None

        frame = pd.read_csv(path, dtype=str, on_bad_lines=skip, engine="python")
        parts.append(frame[[c for c in LOG_COLUMNS if c in frame.columns]])
    if not parts:
        return pd.DataFrame({"ts_ns": [], "node": [], "span_id": [], "message": []})
    raw = pd.concat(parts, ignore_index=True)
    ts = pd.to_numeric(raw["TimeUnixNano"], errors="coerce")
    keep = (ts >= start) & (ts < end)
    raw = raw[keep]
    return pd.DataFrame(
        {
            "ts_ns": ts[keep].astype("int64").to_numpy(),
            "node": raw["PodName"].astype(str).to_numpy(),
            "span_id": raw["SpanID"].astype(str).to_numpy(),
            "message": raw["Log"].map(_message).to_numpy(),
        }
    )


def minute_files(folder: Path, start: int, end: int) -> list[Path]:
    minutes = pd.date_range(
        pd.Timestamp(start, unit="ns", tz="UTC").floor("min"),
        pd.Timestamp(end, unit="ns", tz="UTC"),
        freq="min",
    )
    paths = [folder / f"{m:%H_%M}_log.csv.xz" for m in minutes]
    return [p for p in paths if p.exists()]


def rank_of(order: list[str], truth: str) -> int:
    return order.index(truth) + 1 if truth in order else 10**6


def with_lines(period, lines: pd.DataFrame):
    """The period / case with its span-linked log lines as ``logs`` (``node`` = pod,
    ``template`` = the message; the ``log`` source is weighted 0 where these are used).
    """
    logs = lines.assign(template=lines["message"], count=1)
    return dataclasses.replace(period, logs=logs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default="../shared/data/nezha")
    parser.add_argument("--dump", help="write every case's per-node scores to this pickle")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = Nezha(args.root)
    rows, dumped = [], []
    for system in data.systems:
        ref = data.normal_period(system=system, sources=("spans", "metrics", "edge_metrics"))
        bad = [0]
        log_paths = []
        for day, _, _ in ref.meta["periods"]:
            log_paths += minute_files(
                Path(args.root) / "construct_data" / day / "log", ref.start_ns, ref.end_ns
            )
        ref_logs = read_log_lines(log_paths, ref.start_ns, ref.end_ns, bad)
        t0 = time.perf_counter()
        patterns = EventPatternEvidence().fit(ref.spans, ref_logs)
        rankers = {
            "graphad": MultiSourceRanker().fit(ref),
            "graphad+pattern": MultiSourceRanker(
                evidence=MultiSourceEvidence(weights={"pattern": 1.0, "log": 0.0})
            ).fit(with_lines(ref, ref_logs)),
        }
        print(
            f"{system}: reference {len(ref.spans)} spans, {len(ref_logs)} log lines, "
            f"{patterns.n_templates} templates, fit {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        for case in data.cases(system=system, sources=("spans", "metrics", "edge_metrics")):
            meta = case.meta
            folder = Path(args.root) / "rca_data" / meta["day"] / "log"
            logs = read_log_lines(
                minute_files(folder, meta["start_ns"], meta["end_ns"]),
                meta["start_ns"],
                meta["end_ns"],
                bad,
            )
            after = case.spans["start_ns"] >= case.onset_ns
            t = time.perf_counter()
            evidence = patterns.score(case.spans[after], logs[logs["ts_ns"] >= case.onset_ns])
            seconds = {"patterns": time.perf_counter() - t}
            orders = {"patterns": list(evidence.index)}
            extra = {}
            for name, ranker in rankers.items():
                blind = (case if name == "graphad" else with_lines(case, logs)).blind()
                t = time.perf_counter()
                result = ranker.rank(blind)
                seconds[name] = time.perf_counter() - t
                orders[name] = list(result.nodes)
                extra[name] = result.extra
            dumped.append(
                {
                    "system": system,
                    "case": case.case_id,
                    "type": case.fault_type,
                    "root": case.root_cause,
                    "patterns": evidence,
                    "extra": extra,
                }
            )
            for name, order in orders.items():
                rows.append(
                    {
                        "system": system,
                        "case": case.case_id,
                        "type": case.fault_type,
                        "ranker": name,
                        "rank": rank_of(order, case.root_cause),
                        "s": seconds[name],
                    }
                )
            print(
                f"  {case.case_id} {case.fault_type:15s} {case.root_cause:30s} "
                + " ".join(f"{n}={rank_of(o, case.root_cause)}" for n, o in orders.items()),
                flush=True,
            )
        print(f"{system}: {bad[0]} log lines dropped (not splittable into the header fields)")
    if args.dump:
        pd.to_pickle(dumped, args.dump)
    frame = pd.DataFrame(rows)
    for k in (1, 3, 5):
        frame[f"AC@{k}"] = frame["rank"] <= k
    print("\n| system | ranker | AC@1 | AC@3 | AC@5 | s/case |\n|---|---|---|---|---|---|")
    for (system, ranker), g in frame.groupby(["system", "ranker"], sort=False):
        print(
            f"| {system} | {ranker} | {g['AC@1'].mean():.3f} | {g['AC@3'].mean():.3f} "
            f"| {g['AC@5'].mean():.3f} | {g['s'].mean():.2f} |"
        )
    types = sorted(frame["type"].unique())
    print("\nAC@1 per fault type\n| system | ranker | " + " | ".join(types) + " |")
    for (system, ranker), g in frame.groupby(["system", "ranker"], sort=False):
        per = g.groupby("type")["AC@1"].mean()
        cells = [f"{per[t]:.2f}" if t in per else "-" for t in sorted(frame["type"].unique())]
        print(f"| {system} | {ranker} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
