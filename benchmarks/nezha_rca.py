"""Root-cause ranking on the Nezha fault cases (service level), with ablations.

Runs every fault case of ``--root`` (any system in the Nezha layout) through the rankers
with :func:`graphad.bench.run_rca_benchmark` (blinded cases, truth read only by the
scorer), with the true onset and with the estimated one, and prints AC@1/3/5, Avg@5, MRR
and seconds per case, overall and per fault type. Rankers that can use a fault-free
reference are fitted once on ``construct_data`` (``Nezha.normal_period``); the fitting
time is printed apart.

Usage::

    python benchmarks/nezha_rca.py --root ../shared/data/nezha
    python benchmarks/nezha_rca.py --root ../shared/data/nezha --ablation --lodo
    python benchmarks/nezha_rca.py --root ../shared/data/nezha --trace-percent 50 20 10 --samples 3
    python benchmarks/nezha_rca.py --root ../shared/data/nezha --onset-shift -120 -60 -30 30 60 120

``--onset-shift`` also ranks with the onset handed over that many seconds late (or
early, negative): how much an imprecise onset costs each ranker. ``--trace-percent`` also
ranks with only that share of the traces kept, whole
(:func:`graphad.ingest.sample_traces`, as a head-sampling tracer keeps them), in the cases
and in the fault-free reference alike; ``--samples`` draws that many independent samples.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import logging
import time

import pandas as pd

from graphad.bench import format_table, run_rca_benchmark
from graphad.ingest import sample_traces
from graphad.rca import (
    BaroRanker,
    MultiSourceEvidence,
    MultiSourceRanker,
    NSigmaRanker,
    PageRankRanker,
    RandomRanker,
    ScoreRanker,
)

MAIN = {
    "random": lambda: RandomRanker(random_state=0),
    "nsigma": lambda: NSigmaRanker(),
    "baro": lambda: BaroRanker(),
    "score": lambda: ScoreRanker(),
    "pagerank": lambda: PageRankRanker(),
    "graphad": lambda: MultiSourceRanker(),
}

_SPAN = ("latency", "gap", "structure", "truncation")
#: Rankers compared on sampled traces and on shifted onsets.
_VARIANT_RANKERS = ("nsigma", "baro", "pagerank", "graphad")
_MIN = 60_000_000_000
_EVIDENCE: dict = {}


#: MultiSourceEvidence arguments that act only after the evidence (fusion).
_FUSION_PARAMS = ("weights", "fusion", "normalize", "min_levels")


class _SharedEvidenceSources(MultiSourceEvidence):
    """Rows that differ only in fusion share each case's evidence (computed once).

    (Their seconds per case are therefore not meaningful; the main table times the real
    ranker.)
    """

    def evidence_and_null(self, view, null=True):
        evidence_params = {k: v for k, v in self.get_params().items() if k not in _FUSION_PARAMS}
        key = (view.case_id, view.onset_ns, null, repr(sorted(evidence_params.items())))
        if key not in _EVIDENCE:
            _EVIDENCE[key] = super().evidence_and_null(view, null)
        return _EVIDENCE[key]


def _SharedEvidence(propagation: float = 0.0, **evidence) -> MultiSourceRanker:  # noqa: N802
    """The graphad ranker whose evidence part shares each case's evidence."""
    return MultiSourceRanker(evidence=_SharedEvidenceSources(**evidence), propagation=propagation)


def ablations() -> dict:
    """One row per source alone, per source left out, per evidence and fusion choice."""
    rows = {}
    every = ("metric", *_SPAN, "log", "edge")
    for source in every:
        weights = {k: (1.0 if k == source else 0.0) for k in every}
        rows[f"only {source}"] = lambda w=weights: _SharedEvidence(weights=w)
    for source in ("metric", *_SPAN, "edge"):
        rows[f"without {source}"] = lambda s=source: _SharedEvidence(weights={s: 0.0})
    rows["graphad (default)"] = lambda: _SharedEvidence()
    rows["weights of the previous release (metric, structure 0.25)"] = lambda: _SharedEvidence(
        weights={"metric": 0.25, "structure": 0.25}
    )
    rows["fusion: robust z across nodes, no null"] = lambda: _SharedEvidence(normalize="robust")
    rows["fusion: max-normalised"] = lambda: _SharedEvidence(normalize="max")
    rows["fusion: rank-normalised"] = lambda: _SharedEvidence(normalize="rank")
    rows["fusion: max instead of sum"] = lambda: _SharedEvidence(fusion="max")
    rows["null split at 1/3 of the pre-onset data"] = lambda: _SharedEvidence(null_split=1 / 3)
    rows["null split at 2/3 of the pre-onset data"] = lambda: _SharedEvidence(null_split=2 / 3)
    rows["gap: median over edges, no attribution"] = lambda: _SharedEvidence(
        gap_attribution="median"
    )
    plain = "latency / gap / edge: plain shift, no standard-error margin (until 03:56)"
    rows[plain] = lambda: _SharedEvidence(shift_margin=0.0)
    rows["structure: relative change, not z"] = lambda: _SharedEvidence(
        structure_statistic="relative"
    )
    rows["truncation: chance level not floored at 1"] = lambda: _SharedEvidence(
        min_levels={"truncation": 0.0}
    )
    rows["no chance-level floor for z sources"] = lambda: _SharedEvidence(
        min_levels=dict.fromkeys(("structure", "error", "truncation", "log"), 0.0)
    )
    rows["chance-level floor for truncation only"] = lambda: _SharedEvidence(
        min_levels=dict.fromkeys(("structure", "error", "log"), 0.0)
    )
    rows["post: only the first 3 min after the onset (until 2026-11-23 01:36)"] = lambda: (
        _SharedEvidence(post=3 * _MIN)
    )
    rows["reference: last 5 min before the onset only"] = lambda: _SharedEvidence(pre=5 * _MIN)
    rows["+ propagation 0.3"] = lambda: _SharedEvidence(propagation=0.3)
    rows["+ propagation 0.6"] = lambda: _SharedEvidence(propagation=0.6)
    return rows


def run(cases: list, normal, rankers: dict, onset: str = "true", fit: bool = True):
    """Run the harness and return the BenchResult."""
    built = {name: make() for name, make in rankers.items()}
    return run_rca_benchmark(cases, built, onset=onset, fit_data=normal if fit else None)


def show(result, title: str, by_type: bool = True) -> None:
    """Print the overall and per-fault-type tables."""
    print(f"\n## {title}\n")
    print(format_table(result.tables["overall"]))
    if by_type:
        table = result.tables["by_fault_type"]
        pivot = table.pivot(index="ranker", columns="fault_type", values="AC@1")
        order = list(dict.fromkeys(result.tables["overall"]["ranker"]))
        pivot = pivot.reindex(order).reset_index()
        print("\nAC@1 per fault type\n")
        print(format_table(pivot))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default="../shared/data/nezha")
    parser.add_argument("--system", default=None)
    parser.add_argument("--ablation", action="store_true", help="also print the ablation")
    parser.add_argument(
        "--lodo", action="store_true", help="leave-one-day-out check of the ablation choices"
    )
    parser.add_argument(
        "--no-fit", action="store_true", help="do not use the fault-free construct_data reference"
    )
    parser.add_argument("--json", default=None, help="write the main result as JSON")
    parser.add_argument(
        "--trace-percent",
        type=float,
        nargs="*",
        default=[],
        help="also rank with only this percentage of the traces kept (e.g. 50 20 10)",
    )
    parser.add_argument("--samples", type=int, default=1, help="samples per --trace-percent")
    parser.add_argument(
        "--onset-shift",
        type=float,
        nargs="*",
        default=[],
        help="also rank with the onset this many seconds late (negative: early)",
    )
    parser.add_argument(
        "--skip-main", action="store_true", help="only the --trace-percent / --onset-shift tables"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from graphad.datasets import Nezha

    began = time.perf_counter()
    data = Nezha(args.root, system=args.system)
    cases = list(data.cases())
    try:
        normal = data.normal_period()
    except Exception as error:  # a system without construct_data: pre-onset only
        print(f"no fault-free reference ({error}); using pre-onset data only")
        normal = None
    print(f"loaded {len(cases)} cases in {time.perf_counter() - began:.1f} s")
    fit = not args.no_fit and normal is not None
    if args.trace_percent:
        sampled_traces(cases, normal, fit, args.trace_percent, args.samples)
    if args.onset_shift:
        shifted_onsets(cases, normal, fit, args.onset_shift)
    if args.skip_main:
        return

    result = run(cases, normal, MAIN, "true", fit)
    show(result, "true onset")
    if args.json:
        result.to_json(args.json)
    estimated = run(
        cases,
        normal,
        {k: MAIN[k] for k in ("random", "nsigma", "baro", "graphad")},
        "estimated",
        fit,
    )
    show(estimated, "estimated onset (graphad.rca.estimate_onset)")
    if args.ablation:
        show(run(cases, normal, ablations(), "true", fit), "ablation (true onset)")
    if args.lodo:
        leave_one_day_out(cases, normal, fit)


def sampled_traces(cases: list, normal, fit: bool, percents: list, samples: int) -> None:
    """Rank with only a share of the traces kept (true onset), per share and sample."""
    rankers = {k: MAIN[k] for k in _VARIANT_RANKERS}
    rows = []
    for percent, seed in itertools.product(percents, range(samples)):
        keep = [_with_traces(case, percent / 100, seed) for case in cases]
        reference = _with_traces(normal, percent / 100, seed) if normal is not None else None
        overall = run(keep, reference, rankers, "true", fit).tables["overall"]
        rows.append(overall.assign(traces=f"{percent:g} %", seed=seed))
    table = pd.concat(rows, ignore_index=True)
    columns = ["AC@1", "AC@3", "AC@5", "Avg@5", "MRR"]
    print("\n## only a share of the traces kept (true onset)\n")
    print(format_table(table[["traces", "seed", "ranker", "cases", *columns, "s/case"]]))
    if samples > 1:
        mean = table.groupby(["traces", "ranker"], sort=False)[columns].agg(["mean", "min", "max"])
        summary = pd.DataFrame(
            {
                c: [f"{m:.3f} ({lo:.3f}-{hi:.3f})" for m, lo, hi in mean[c].to_numpy()]
                for c in columns
            },
            index=mean.index,
        ).reset_index()
        print(f"\nmean (min-max) over {samples} samples\n")
        print(format_table(summary))


def shifted_onsets(cases: list, normal, fit: bool, shifts: list) -> None:
    """Rank with the onset handed over ``shift`` seconds late (negative: early)."""
    rankers = {k: MAIN[k] for k in _VARIANT_RANKERS}
    rows = []
    for shift in shifts:
        moved = [dataclasses.replace(c, onset_ns=c.onset_ns + int(shift * 1e9)) for c in cases]
        overall = run(moved, normal, rankers, "true", fit).tables["overall"]
        rows.append(overall.assign(shift=f"{shift:+g} s"))
    table = pd.concat(rows, ignore_index=True)
    print("\n## onset handed over late (+) or early (-)\n")
    columns = ["shift", "ranker", "cases", "AC@1", "AC@3", "AC@5", "Avg@5", "MRR", "s/case"]
    print(format_table(table[columns]))


def _with_traces(case, fraction: float, seed: int):
    if case.spans is None or not len(case.spans):
        return case
    return dataclasses.replace(case, spans=sample_traces(case.spans, fraction, seed))


def leave_one_day_out(cases: list, normal, fit: bool) -> None:
    """Choose the source weights on one day, report them on the other day."""
    grid = {}
    for metric, gap, structure in itertools.product(
        (0.25, 0.5, 1.0), (0.5, 1.0, 2.0), (0.0, 0.25, 0.5, 1.0)
    ):
        weights = {"metric": metric, "latency": 1.0, "gap": gap, "structure": structure}
        grid[f"m={metric} g={gap} s={structure}"] = lambda w=weights: _SharedEvidence(weights=w)
    result = run(cases, normal, grid, "true", fit)
    frame = pd.DataFrame(result.records)
    frame["day"] = frame["case_id"].astype(str).str[:10]
    frame["hit1"] = frame["rank"] == 1
    frame["hit3"] = frame["rank"].fillna(99) <= 3
    acc = frame.groupby(["day", "ranker"])[["hit1", "hit3"]].mean()
    rows = []
    for day in sorted(frame["day"].unique()):
        for other in sorted(frame["day"].unique()):
            if other == day:
                continue
            chosen = acc.loc[other].sort_values(["hit1", "hit3"], ascending=False).index[0]
            default = "m=1.0 g=1.0 s=1.0"
            rows.append(
                {
                    "chosen on": other,
                    "weights chosen": chosen,
                    "reported on": day,
                    "AC@1": acc.loc[(day, chosen), "hit1"],
                    "AC@3": acc.loc[(day, chosen), "hit3"],
                    "default AC@1": acc.loc[(day, default), "hit1"],
                    "default AC@3": acc.loc[(day, default), "hit3"],
                }
            )
    print("\n## leave-one-day-out (weights grid chosen on one day, reported on the other)\n")
    print(format_table(pd.DataFrame(rows)))


if __name__ == "__main__":
    main()
