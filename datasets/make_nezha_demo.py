"""Cut the bundled demo excerpt (graphad/datasets/data/nezha_demo) out of the Nezha data.

Reproducible: ``python datasets/make_nezha_demo.py`` (defaults below) rewrites the folder
from ``../shared/data/nezha`` byte-for-byte the same way. See ``datasets/nezha_demo.md``.

What is kept, in the same Nezha layout so that ``graphad.datasets.Nezha`` reads it:

* the one fault record of ``--case`` in ``rca_data/<day>/<day>-fault_list.json``;
* every pod's metric rows from ``--before`` minutes before to ``--after`` minutes after the
  onset (all columns), the rows of the per-edge latency files (``EDGE_METRIC_FILES``:
  ``source_50``, ``destination_50``) of the same minutes, cell text unchanged, and
  ``dependency.csv``;
* the trace files upstream has for the minutes from ``--trace-before`` minutes before to
  ``--trace-after`` minutes after the onset (the window of a benchmark case, see
  ``Nezha.cases``), keeping ``--percent`` of the traces, whole
  (:func:`graphad.ingest.sample_traces`: by a hash of the trace id); the ``traceid/``
  files of those minutes, restricted to the kept traces;
* ``construct_data/root_cause_hipster.json`` (the system tag and finer labels) and the
  upstream MIT licence.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pandas as pd

from graphad.datasets.nezha import EDGE_METRIC_FILES, metric_times
from graphad.ingest import sample_traces
from graphad.ingest.report import IngestReport

REPO = Path(__file__).resolve().parents[1]


def _kept(trace_ids: pd.Series, percent: int) -> pd.Series:
    ids = pd.DataFrame({"trace_id": trace_ids.astype(str).unique()})
    return trace_ids.astype(str).isin(set(sample_traces(ids, percent / 100)["trace_id"]))


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, compression={"method": "xz", "preset": 9})


def main() -> None:
    """Write the excerpt (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=REPO.parent / "shared/data/nezha")
    parser.add_argument("--out", type=Path, default=REPO / "graphad/datasets/data/nezha_demo")
    parser.add_argument("--case", default="2022-08-23 15:47:43", help="inject_time (UTC)")
    parser.add_argument("--before", type=int, default=60, help="minutes of metrics before")
    parser.add_argument("--after", type=int, default=10, help="minutes of metrics after")
    parser.add_argument("--trace-before", type=int, default=10, help="minutes of traces before")
    parser.add_argument("--trace-after", type=int, default=5, help="minutes of traces after")
    parser.add_argument("--percent", type=int, default=20, help="percent of traces kept")
    args = parser.parse_args()

    day = args.case[:10]
    src = args.source / "rca_data" / day
    faults = json.loads((src / f"{day}-fault_list.json").read_text())
    record = next(r for rs in faults.values() for r in rs if r["inject_time"] == args.case)
    onset = int(pd.Timestamp(args.case, tz="UTC").value)
    start, end = onset - args.before * 60 * 10**9, onset + args.after * 60 * 10**9

    if args.out.exists():
        shutil.rmtree(args.out)
    dst = args.out / "rca_data" / day
    (dst / "traceid").mkdir(parents=True)
    hour = args.case[11:13]
    (dst / f"{day}-fault_list.json").write_text(json.dumps({hour: [record]}, indent=4) + "\n")

    for path in sorted((src / "metric").glob("*_metric.csv.xz")):
        frame = pd.read_csv(path)
        # the loader's own clock check (one upstream file has 1861... for 1661...)
        ts = metric_times(frame, str(path), IngestReport()) * 10**9
        _write_csv(frame[(ts >= start) & (ts < end)], dst / "metric" / path.name)
    for stem in EDGE_METRIC_FILES:
        path = src / "metric" / f"{stem}.csv.xz"
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)  # cells as they are
        clock = metric_times(frame, str(path), IngestReport(), stamp="timestamp", clock="time")
        ts = clock * 10**9
        _write_csv(frame[(ts >= start) & (ts < end)], dst / "metric" / path.name)
    shutil.copyfile(src / "metric" / "dependency.csv.xz", dst / "metric" / "dependency.csv.xz")

    minute = pd.Timestamp(onset, unit="ns", tz="UTC").floor("min")
    offsets = range(-args.trace_before, args.trace_after + 1)
    names = [(minute + pd.Timedelta(minutes=k)).strftime("%H_%M") for k in offsets]
    for name in names:
        trace = src / "trace" / f"{name}_trace.csv.xz"
        if not trace.exists():
            continue
        frame = pd.read_csv(trace, dtype=str, keep_default_na=False)
        _write_csv(frame[_kept(frame["TraceID"], args.percent)], dst / "trace" / trace.name)
        ids = pd.read_csv(src / "traceid" / f"{name}_traceid.csv.xz", header=None, dtype=str)
        kept = ids[_kept(ids[0], args.percent)]
        kept.to_csv(
            dst / "traceid" / f"{name}_traceid.csv.xz",
            index=False,
            header=False,
            compression={"method": "xz", "preset": 9},
        )

    construct = args.out / "construct_data"
    construct.mkdir()
    shutil.copyfile(
        args.source / "construct_data" / "root_cause_hipster.json",
        construct / "root_cause_hipster.json",
    )
    shutil.copyfile(args.source / "LICENSE", args.out / "LICENSE")
    commit = (args.source / "SOURCE_COMMIT.txt").read_text().strip()
    (args.out / "SOURCE.txt").write_text(
        f"IntelligentDDS/Nezha {commit}; excerpt of fault {args.case} UTC "
        f"({record['inject_pod']}, {record['inject_type']}); made by "
        f"datasets/make_nezha_demo.py --before {args.before} --after {args.after} "
        f"--trace-before {args.trace_before} --trace-after {args.trace_after} "
        f"--percent {args.percent}\n"
    )


if __name__ == "__main__":
    main()
