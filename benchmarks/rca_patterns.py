"""Event-pattern evidence (graphad.rca.evidence_patterns) on every Nezha system.

For each system of the Nezha folder: the fault-free period (``construct_data``) fits the
reference templates and span event patterns; each fault's spans and span-linked log
lines after the onset are scored. Printed per system: AC@k of the pattern evidence
alone, of graphad's multi-source ranker (spans + metrics + edge metrics, fitted on the
same period; logs left out, see below) and of the two fused (each ranking's scores
divided by its largest, then summed: equal weight, nothing tuned); per fault type; and
the seconds per case.

The canonical log frame keeps no span id, so this script reads the raw Nezha log files
itself (``TraceID``/``SpanID`` columns); a line pandas cannot split into the header's
fields is dropped and counted (one TrainTicket file holds a record cut short with the
next record on the same line).

    PYTHONPATH=. python benchmarks/rca_patterns.py --root ../shared/data/nezha
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
import torch

from graphad.datasets import Nezha
from graphad.eval.bench import blind_case
from graphad.rca import MultiSourceRanker
from graphad.rca.evidence_patterns import EventPatternEvidence

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
        return pd.DataFrame({"ts_ns": [], "span_id": [], "message": []})
    raw = pd.concat(parts, ignore_index=True)
    ts = pd.to_numeric(raw["TimeUnixNano"], errors="coerce")
    keep = (ts >= start) & (ts < end)
    raw = raw[keep]
    return pd.DataFrame(
        {
            "ts_ns": ts[keep].astype("int64").to_numpy(),
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


def fuse(a: dict[str, float], b: dict[str, float]) -> list[str]:
    """Nodes by the sum of both score sets, each divided by its largest positive value."""
    nodes = sorted(set(a) | set(b))

    def scaled(s):
        top = max([v for v in s.values() if v > 0], default=1.0)
        return {n: max(s.get(n, 0.0), 0.0) / top for n in nodes}

    sa, sb = scaled(a), scaled(b)
    return sorted(nodes, key=lambda n: -(sa[n] + sb[n]))


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
        graphad = MultiSourceRanker().fit(ref)
        print(
            f"{system}: reference {len(ref.spans)} spans, {len(ref_logs)} log lines, "
            f"{patterns.n_templates} templates, fit {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        for case in data.cases(system=system, sources=("spans", "metrics", "edge_metrics")):
            meta = case.meta
            folder = Path(args.root) / "rca_data" / meta["day"] / "log"
            logs = read_log_lines(
                minute_files(folder, case.onset_ns, meta["end_ns"]),
                case.onset_ns,
                meta["end_ns"],
                bad,
            )
            after = case.spans[case.spans["start_ns"] >= case.onset_ns]
            t = time.perf_counter()
            evidence = patterns.score(after, logs)
            t_pat = time.perf_counter() - t
            t = time.perf_counter()
            result = graphad.rank(blind_case(case))
            t_g = time.perf_counter() - t
            pat = evidence["z"].to_dict()
            gsc = dict(zip(result.nodes, result.scores, strict=True))
            dumped.append(
                {
                    "system": system,
                    "case": case.case_id,
                    "type": case.fault_type,
                    "root": case.root_cause,
                    "patterns": evidence,
                    "graphad": gsc,
                    "extra": result.extra,
                }
            )
            orders = {
                "patterns": sorted(pat, key=lambda n: -pat[n]),
                "graphad": list(result.nodes),
                "graphad+patterns": fuse(gsc, pat),
            }
            for name, order in orders.items():
                rows.append(
                    {
                        "system": system,
                        "case": case.case_id,
                        "type": case.fault_type,
                        "ranker": name,
                        "rank": rank_of(order, case.root_cause),
                        "s": t_pat + (t_g if name != "patterns" else 0.0),
                    }
                )
            print(
                f"  {case.case_id} {case.fault_type:15s} {case.root_cause:30s} "
                + " ".join(f"{n}={rows[-3 + i]['rank']}" for i, n in enumerate(orders)),
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
