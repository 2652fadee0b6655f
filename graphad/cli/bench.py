"""``graphad bench``: the benchmark runners of :mod:`graphad.bench` from a terminal."""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from typing import Any

from graphad.cli._common import (
    Console,
    add_common,
    add_plugins,
    load_plugins,
    output_path,
    parse_list,
    parse_params,
    positive_int,
    show_progress,
    write_atomic,
)
from graphad.exceptions import GraphadInputError

__all__ = ["register", "run", "parse_method_params"]

_EPILOG = """\
examples:
  graphad bench rca --dataset nezha --root ../shared/data/nezha \\
      --rankers PageRankRanker,BaroRanker --json rca.json
  graphad bench mts --root ../shared/data/asd --detectors RobustZScore,CRLBSAD \\
      --param CRLBSAD:epochs=5
  graphad bench logs --root ../shared/data/hdfs --detectors DeepLog --max-test 2000

  How to read the tables: docs/benchmarks.md."""

_DATASETS = ("nezha",)


def register(verbs: argparse._SubParsersAction) -> None:
    """Add the ``bench`` verb and its three benchmarks."""
    parser = verbs.add_parser(
        "bench",
        help="run the benchmark harness (rca, mts, logs)",
        description="Run root-cause rankers over fault cases, or detectors over a "
        "multivariate-CSV folder or HDFS log sessions, and print the tables.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = parser.add_subparsers(dest="benchmark", metavar="<benchmark>", required=True)

    rca = kinds.add_parser(
        "rca",
        help="root-cause rankers over fault cases",
        epilog="example:\n  graphad bench rca --dataset nezha --root ../shared/data/nezha "
        "--rankers PageRankRanker,BaroRanker --limit 5",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rca.add_argument(
        "--dataset", choices=_DATASETS, default="nezha", help="dataset layout (default nezha)"
    )
    rca.add_argument("--root", required=True, help="dataset folder")
    rca.add_argument("--system", default=None, help="system name (default: all)")
    rca.add_argument("--rankers", required=True, help="comma-separated ranker names")
    rca.add_argument(
        "--onset",
        choices=("true", "estimated"),
        default="true",
        help="use the injected onset or estimate it (default true)",
    )
    rca.add_argument(
        "--node-rule", default=None, help="map ranked names before matching, e.g. service"
    )
    rca.add_argument("--limit", type=positive_int, default=None, help="only the first N cases")
    _outputs(rca)

    mts = kinds.add_parser(
        "mts",
        help="detectors over a multivariate-CSV folder (ASD layout)",
        epilog="example:\n  graphad bench mts --root ../shared/data/asd "
        "--detectors RobustZScore,KNNDetector --entities omi-1,omi-2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mts.add_argument("--root", required=True, help="folder of <entity>_train/_test.csv")
    mts.add_argument("--detectors", required=True, help="comma-separated detector names")
    mts.add_argument("--entities", default=None, help="comma-separated entity names")
    mts.add_argument(
        "--param",
        action="append",
        metavar="DETECTOR:NAME=VALUE",
        help="detector argument (repeatable)",
    )
    mts.add_argument(
        "--point-adjust",
        action="store_true",
        help="also report point-adjusted F1 (beside random scores)",
    )
    _outputs(mts)

    logs = kinds.add_parser(
        "logs",
        help="session detectors over HDFS log sessions",
        epilog="example:\n  graphad bench logs --root ../shared/data/hdfs "
        "--detectors DeepLog --max-test 2000",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    logs.add_argument("--root", required=True, help="folder with hdfs_train etc.")
    logs.add_argument("--detectors", default="DeepLog", help="comma-separated names")
    logs.add_argument(
        "--param",
        action="append",
        metavar="DETECTOR:NAME=VALUE",
        help="detector argument (repeatable)",
    )
    logs.add_argument(
        "--max-test", type=positive_int, default=None, help="subsample the test sessions"
    )
    _outputs(logs)
    parser.set_defaults(func=run, quiet=False, debug=False)


def _outputs(parser: argparse.ArgumentParser) -> None:
    add_plugins(parser)
    parser.add_argument(
        "--json", default=None, metavar="FILE", help="also write the full result as JSON"
    )
    parser.add_argument(
        "--format", choices=("table", "json"), default="table", help="what to print (default table)"
    )
    add_common(parser)


def parse_method_params(items: list[str] | None) -> dict[str, dict[str, Any]]:
    """``["CRLBSAD:epochs=3"]`` -> ``{"CRLBSAD": {"epochs": 3}}``.

    Example:
        >>> parse_method_params(["CRLBSAD:epochs=3", "CRLBSAD:lr=0.01"])
        {'CRLBSAD': {'epochs': 3, 'lr': 0.01}}
    """
    out: dict[str, dict[str, Any]] = {}
    for item in items or ():
        label, sep, rest = item.partition(":")
        if not sep or not label.strip():
            raise GraphadInputError(
                "unreadable parameter",
                field="--param",
                expected="DETECTOR:NAME=VALUE",
                found=repr(item),
            )
        out.setdefault(label.strip(), {}).update(parse_params([rest]))
    return out


def _folder(path: str) -> str:
    if not Path(path).is_dir():
        raise GraphadInputError("no such folder", source=str(path))
    return path


def _run_rca(args: argparse.Namespace) -> Any:
    from graphad.bench import run_rca_benchmark
    from graphad.datasets import Nezha

    dataset = Nezha(_folder(args.root), system=args.system)
    cases: Any = dataset
    if args.limit is not None:
        cases = list(itertools.islice(dataset.cases(), args.limit))
    # Rankers with a fault-free reference are fitted on each system's normal period
    # (Nezha's construct_data) where it has one, one copy per system; fitting time is
    # reported separately. A case that cannot be read is an error row, the run goes on.
    normal = {}
    for system in [dataset.system] if dataset.system else dataset.systems:
        try:
            normal[system] = dataset.normal_period(system=system)
        except GraphadInputError:
            pass
    return run_rca_benchmark(
        cases,
        parse_list(args.rankers),
        onset=args.onset,
        node_rule=args.node_rule,
        fit_data=normal or None,
        errors="record",
        verbose=show_progress(args.quiet),
    )


def _run_mts(args: argparse.Namespace) -> Any:
    from graphad.bench import run_mts_benchmark

    entities = parse_list(args.entities) or None
    return run_mts_benchmark(
        _folder(args.root),
        parse_list(args.detectors),
        entities=entities,
        params=parse_method_params(args.param),
        point_adjust=args.point_adjust,
        verbose=show_progress(args.quiet),
    )


def _run_logs(args: argparse.Namespace) -> Any:
    from graphad.bench import run_logs_benchmark

    return run_logs_benchmark(
        _folder(args.root),
        parse_list(args.detectors),
        params=parse_method_params(args.param),
        max_test=args.max_test,
        verbose=show_progress(args.quiet),
    )


def run(args: argparse.Namespace) -> int:
    """Execute ``graphad bench <benchmark>``."""
    load_plugins(args.plugin)
    console = Console(args.quiet)
    if args.json:
        output_path(args.json, special=True)
    runner = {"rca": _run_rca, "mts": _run_mts, "logs": _run_logs}[args.benchmark]
    result = runner(args)
    if args.json:
        write_atomic(args.json, lambda target: result.to_json(target))
    if args.format == "json":
        console.result(json.dumps(result.to_dict(), indent=2))
    else:
        console.result(result.format())
    if args.json:
        console.info(f"wrote {args.json}")
    return 0
