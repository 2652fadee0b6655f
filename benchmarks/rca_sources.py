"""graphad's ranker with and without one setting, beside N-Sigma and BARO, on every Nezha system.

One pass over the cases of every system (each case read once) through
``graphad.bench.run_rca_benchmark``, every ranker fitted on its system's fault-free
period (``construct_data``), as ``graphad bench rca`` does. Rankers: ``graphad`` (the
defaults), ``graphad+pattern`` (the ``pattern`` source at weight 1, reading the
span-linked log lines of the canonical log frame), ``graphad-flatscale`` (metrics flat
in the reference scored like the others, the rule before 2026-12-04), ``baro`` and
``nsigma``. ``--sources metrics`` gives the metrics-only view (spans, logs and edge
metrics not read).

    PYTHONPATH=. python benchmarks/rca_sources.py --root ../shared/data/nezha
    PYTHONPATH=. python benchmarks/rca_sources.py --root ../shared/data/nezha --sources metrics
"""

from __future__ import annotations

import argparse

import torch

from graphad.bench import format_table, run_rca_benchmark
from graphad.datasets import Nezha
from graphad.exceptions import GraphadInputError
from graphad.rca import MultiSourceRanker
from graphad.rca.evidence import MultiSourceEvidence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default="../shared/data/nezha")
    parser.add_argument("--sources", default=None, help="comma-separated, e.g. metrics")
    parser.add_argument("--no-pattern", action="store_true", help="leave graphad+pattern out")
    args = parser.parse_args()
    torch.set_num_threads(1)
    sources = tuple(args.sources.split(",")) if args.sources else None
    read = {"sources": sources} if sources else {}
    data = Nezha(args.root)
    normal = {}
    for system in data.systems:
        try:
            normal[system] = data.normal_period(system=system, **read)
        except GraphadInputError:
            pass
    rankers = {"graphad": MultiSourceRanker()}
    if not args.no_pattern:
        rankers["graphad+pattern"] = MultiSourceRanker(
            evidence=MultiSourceEvidence(weights={"pattern": 1.0})
        )
    rankers["graphad-flatscale"] = MultiSourceRanker(
        evidence=MultiSourceEvidence(metric_flat="scale")
    )
    rankers["baro"] = "baro"
    rankers["nsigma"] = "nsigma"
    result = run_rca_benchmark(
        data, rankers, fit_data=normal, errors="record", sources=sources, verbose=False
    )
    print(format_table(result.tables["by_system"]))
    errors = [r for r in result.records if r.get("error")]
    print(f"error rows: {len(errors)}")
    for r in errors[:5]:
        print(" ", r["case_id"], r["ranker"], r["error"][:160])


if __name__ == "__main__":
    main()
