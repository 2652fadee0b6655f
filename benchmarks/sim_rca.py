"""Root-cause ranking on simulated faults, per fault kind and per evidence source.

The simulator (:func:`graphad.datasets.make_microservice_system`) injects one fault of a
known kind into a small system whose metrics, spans and logs all cover the onset -- the
situation the shared Nezha copy cannot show for logs (its log files stop before the
onsets). Every case goes through :func:`graphad.bench.run_rca_benchmark` (blinded
cases, true onset); the table gives AC@1 per fault kind for the statistical baselines,
the default graphad ranker, and graphad restricted to one source.

Usage::

    python benchmarks/sim_rca.py                 # 4 kinds x seeds 1-12, about 4 min
    python benchmarks/sim_rca.py --seeds 1-4
"""

from __future__ import annotations

import argparse
import logging

from graphad.bench import format_table, run_rca_benchmark
from graphad.datasets import make_microservice_system
from graphad.rca import BaroRanker, MultiSourceEvidence, MultiSourceRanker, NSigmaRanker

KINDS = ("cpu", "latency", "errors", "memory")
SOURCES = ("metric", "latency", "gap", "structure", "error", "truncation", "log")


def only(source: str, **options) -> MultiSourceRanker:
    """graphad with every source but ``source`` weighted 0."""
    weights = {name: float(name == source) for name in SOURCES}
    return MultiSourceRanker(evidence=MultiSourceEvidence(weights=weights, **options))


RANKERS = {
    "nsigma": NSigmaRanker,
    "baro": BaroRanker,
    "graphad": MultiSourceRanker,
    "graphad, log change as relative (first release)": lambda: MultiSourceRanker(
        evidence=MultiSourceEvidence(log_statistic="relative")
    ),
    **{f"only {s}": (lambda s=s: only(s)) for s in SOURCES},
    "only log, relative change": lambda: only("log", log_statistic="relative"),
}


def _seeds(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def _cases(seeds: list[int], services: int, duration: str, traces: float):
    for kind in KINDS:
        for seed in seeds:
            system = make_microservice_system(
                services,
                duration=duration,
                fault_type=kind,
                traces_per_step=traces,
                random_state=seed,
            )
            case = system.case
            case.case_id = f"{kind}-{seed}"
            yield case


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-12", help="seed range, e.g. 1-12")
    parser.add_argument("--services", type=int, default=5)
    parser.add_argument("--duration", default="40min")
    parser.add_argument("--traces-per-step", type=float, default=4.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    cases = list(_cases(_seeds(args.seeds), args.services, args.duration, args.traces_per_step))
    rankers = {label: make() for label, make in RANKERS.items()}
    result = run_rca_benchmark(cases, rankers, onset="true")
    print(format_table(result.tables["overall"]))
    print()
    table = result.tables["by_fault_type"]
    wide = table.pivot(index="ranker", columns="fault_type", values="AC@1")
    wide = wide.reindex(list(rankers)).reset_index()
    print(format_table(wide, title="AC@1 per fault kind"))


if __name__ == "__main__":
    main()
