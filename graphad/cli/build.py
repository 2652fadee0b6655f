"""``graphad build``: telemetry files -> a saved dynamic graph (``.pt``, no pickled code)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from graphad.cli._common import Console, add_common, parse_list, parse_time
from graphad.exceptions import GraphadInputError

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from graphad.graph import WindowSpec
    from graphad.graph.dynamic import DynamicGraph
    from graphad.ingest.report import IngestReport

__all__ = [
    "register",
    "run",
    "read_all",
    "add_input_options",
    "read_telemetry_files",
    "read_edge_list",
    "metric_files",
    "choose_windows",
    "auto_step",
    "nice_duration",
    "add_edges",
    "TelemetryFiles",
]

_EPILOG = """\
example:
  graphad build --traces traces.json --metrics metrics.csv.gz \\
      --window 5min --step 1min --node-rule service -o graph.pt

  Reads OTLP / Jaeger / Zipkin JSON or span tables (CSV, Parquet, compressed too),
  long/wide metric tables or Prometheus query_range JSON, and raw log lines; prints
  each ingestion report and writes the dynamic graph (load it with
  graphad.graph.DynamicGraph.load)."""


def add_input_options(parser: argparse.ArgumentParser, edge_help: str | None = None) -> None:
    """The telemetry inputs shared by ``build`` and ``rca`` and the options to read them."""
    parser.add_argument(
        "--traces",
        nargs="+",
        default=[],
        metavar="FILE",
        help="span files (OTLP/Jaeger/Zipkin JSON, CSV, Parquet)",
    )
    parser.add_argument(
        "--metrics",
        nargs="+",
        default=[],
        metavar="FILE_OR_DIR",
        help="metric files (long/wide CSV, Parquet, Prometheus JSON), or folders of them "
        "(every table file in the folder, e.g. a capture of one file per metric)",
    )
    parser.add_argument(
        "--logs",
        nargs="+",
        default=[],
        metavar="FILE",
        help="log files (raw lines or CSV rows; templates mined by Drain3)",
    )
    parser.add_argument(
        "--edge-metrics",
        nargs="+",
        default=[],
        metavar="FILE",
        help=edge_help
        or "per-edge metric files (caller -> callee samples, e.g. RPC latency): long "
        "tables (ts_ns, src, dst, metric, value), or wide ones, a column per edge named "
        "<src><SEP><dst>, read with --edge-separator SEP",
    )
    parser.add_argument(
        "--edge-separator",
        default=None,
        metavar="SEP",
        help="what joins caller and callee in the edge column names of wide edge "
        "metric files, e.g. _ (default: none, the files are long tables)",
    )
    parser.add_argument(
        "--call-graph",
        default=None,
        metavar="FILE",
        help="the call graph as an edge list CSV with a caller and a callee column "
        "(src,dst / caller,callee / source,target, or the first two columns)",
    )
    wide = parser.add_argument_group("wide metric files (a time column + one column per series)")
    wide.add_argument(
        "--wide-file-is",
        choices=("node", "metric"),
        default="node",
        help="without --metric-node/--metric-separator: each wide file is one node "
        "(named after the file, columns are its metrics; the default) or one metric "
        "(named after the file, columns are nodes)",
    )
    wide.add_argument(
        "--metric-node", default=None, metavar="NAME", help="the node of every column"
    )
    wide.add_argument(
        "--metric-separator",
        default=None,
        metavar="SEP",
        help="column names are <node><SEP><metric>, e.g. '/' for web/cpu",
    )
    wide.add_argument(
        "--metric-exclude",
        default=None,
        metavar="COLS",
        help="comma-separated columns that are not metrics (besides the time column)",
    )
    spans = parser.add_argument_group("span tables (CSV / Parquet)")
    spans.add_argument(
        "--trace-columns",
        default=None,
        metavar="MAP",
        help="span table columns, e.g. 'trace_id=TraceID,service=PodName'",
    )
    spans.add_argument(
        "--end-column",
        default=None,
        help="span table column with end times (when there is no duration)",
    )
    spans.add_argument(
        "--status-rule",
        choices=("nonzero", "http", "otel"),
        default="nonzero",
        help="how a span table's status column tells an error: nonzero (any value but "
        "0, the default), http (an HTTP status code >= 500) or otel (OpenTelemetry "
        "status code 2 / ERROR)",
    )


def register(verbs: argparse._SubParsersAction) -> None:
    """Add the ``build`` verb."""
    parser = verbs.add_parser(
        "build",
        help="telemetry files -> a saved dynamic graph",
        description="Read traces, metrics and logs and cut them into a dynamic graph "
        "(one PyG graph per time window) saved in a safe format.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_input_options(
        parser,
        edge_help="per-edge metric files (caller -> callee samples): their edges join "
        "the graph's call edges and each metric becomes an edge feature "
        "(edge_metric:<name>, its mean in the window); long tables ts_ns, src, dst, "
        "metric, value, or wide ones read with --edge-separator",
    )
    parser.add_argument(
        "--window",
        default=None,
        help="window size, e.g. 5min (default: chosen from the data's time span)",
    )
    parser.add_argument(
        "--step",
        default=None,
        help="time step inside a window, e.g. 1min (default: chosen from the data)",
    )
    parser.add_argument(
        "--stride", default=None, help="distance between windows (default: the step)"
    )
    parser.add_argument(
        "--node-rule",
        default="identity",
        help="entity -> node: identity, service (k8s pod -> service)",
    )
    parser.add_argument(
        "--granularity",
        choices=("entity", "metric"),
        default="entity",
        help="nodes are entities (services/pods) or single metrics",
    )
    parser.add_argument("--start", default=None, help="start time (ISO or ns)")
    parser.add_argument("--end", default=None, help="end time (ISO or ns)")
    parser.add_argument("-o", "--out", required=True, help="output graph file (.pt)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="build spans on this Dask cluster")
    parser.add_argument(
        "--workers", type=int, metavar="N", help="build spans on N local Dask workers"
    )
    add_common(parser)
    parser.set_defaults(func=run)


def _mapping(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    out = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep:
            raise GraphadInputError(
                "unreadable column map",
                field="--trace-columns",
                expected="canonical=column,...",
                found=repr(item),
            )
        out[key.strip()] = value.strip()
    return out


def read_all(
    paths: Sequence[str], reader: Callable, console: Console, **kwargs
) -> tuple[pd.DataFrame | None, IngestReport | None]:
    """Read several files with one reader; concatenate frames and merge reports."""
    import pandas as pd

    frames, total = [], None
    for path in paths:
        if not Path(path).is_file():
            raise GraphadInputError("no such file", source=str(path))
        frame, report = reader(path, **kwargs)
        console.info(f"  {report}")
        frames.append(frame)
        total = report if total is None else total.merge(report)
    if not frames:
        return None, None
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0], total


_TABLE_FILES = (".csv", ".tsv", ".parquet", ".pq", ".json")


def metric_files(paths: Sequence[str]) -> list[str]:
    """``--metrics`` arguments with each folder replaced by its table files, sorted.

    Raises:
        GraphadInputError: A folder holds no table file.
    """
    out = []
    for item in paths:
        path = Path(item)
        if not path.is_dir():
            out.append(item)
            continue
        found = sorted(
            str(p)
            for p in path.iterdir()
            if p.is_file()
            and not p.name.startswith(".")
            and any(s.lower() in _TABLE_FILES for s in p.suffixes)
        )
        if not found:
            raise GraphadInputError(
                "no metric files in the folder",
                source=item,
                expected="files ending in .csv, .tsv, .parquet or .json (optionally .gz/.xz)",
            )
        out.extend(found)
    return out


def _metric_options(args: argparse.Namespace) -> dict:
    options: dict = {"exclude": tuple(parse_list(args.metric_exclude))}
    if args.metric_node is not None:
        options["node"] = args.metric_node
    if args.metric_separator is not None:
        options["separator"] = args.metric_separator
    return options


def file_stem(path: str | Path) -> str:
    """A file's name without its table and compression suffixes.

    Example:
        >>> file_stem("capture/cpu.csv.gz"), file_stem("memory.parquet")
        ('cpu', 'memory')
    """
    name = Path(path).name
    for suffix in (".gz", ".xz", ".bz2", ".zst", ".zip", ".csv", ".tsv", ".parquet", ".pq"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


def _read_metric_file(path: str, *, wide_file_is: str = "node", **options):
    from graphad import ingest

    if wide_file_is == "metric" and "node" not in options and "separator" not in options:
        stem = file_stem(path)
        options["column_rule"] = lambda column: (str(column), stem)
    return ingest.read_metrics(path, **options)


def _read_traces(path: str, **options):
    from graphad import ingest
    from graphad.exceptions import SchemaError

    try:
        return ingest.read_traces(path, **options)
    except SchemaError as error:
        if "--trace-columns" in str(error) or Path(path).suffix.lower() in (".json",):
            raise
        raise SchemaError(
            f"{ValueError.__str__(error)}; map the table's columns with --trace-columns "
            "'trace_id=...,span_id=...,parent_id=...,service=...,start_ns=...,duration_ns=...'"
        ) from error


def read_edge_list(path: str | Path) -> nx.DiGraph:
    """A call graph from an edge-list CSV: caller and callee columns, one edge per row.

    The columns are ``src``/``dst``, ``caller``/``callee``, ``source``/``target`` or
    ``parent``/``child``, else the first two columns.

    Example:
        >>> import tempfile, os
        >>> f = os.path.join(tempfile.mkdtemp(), "g.csv")
        >>> _ = open(f, "w").write("caller,callee" + chr(10) + "web,db" + chr(10) + "web,cache")
        >>> sorted(read_edge_list(f).edges)
        [('web', 'cache'), ('web', 'db')]

    Raises:
        GraphadInputError: The file is missing, unreadable or has fewer than two columns.
    """
    import networkx as nx

    from graphad.cli._common import _read_table, check_file

    path = check_file(path)
    frame = _read_table(path)
    lower = {str(c).lower(): c for c in frame.columns}
    for a, b in (("src", "dst"), ("caller", "callee"), ("source", "target"), ("parent", "child")):
        if a in lower and b in lower:
            pair = (lower[a], lower[b])
            break
    else:
        if frame.shape[1] < 2:
            raise GraphadInputError(
                "not an edge list",
                source=str(path),
                expected="a caller and a callee column",
                found=list(frame.columns),
            )
        pair = (frame.columns[0], frame.columns[1])
    rows = frame[list(pair)].dropna().astype(str)
    graph = nx.DiGraph()
    graph.add_edges_from(
        (a.strip(), b.strip()) for a, b in rows.itertuples(index=False) if a.strip() != b.strip()
    )
    if graph.number_of_edges() == 0:
        raise GraphadInputError(
            "no edges in the call graph file", source=str(path), field=f"{pair[0]}, {pair[1]}"
        )
    return graph


@dataclass
class TelemetryFiles:
    """The frames read from the telemetry options, merged per kind, with the report."""

    spans: pd.DataFrame | None
    metrics: pd.DataFrame | None
    logs: pd.DataFrame | None
    edge_metrics: pd.DataFrame | None
    call_graph: nx.DiGraph | None
    report: IngestReport

    def time_range(self) -> tuple[int, int] | None:
        """``(first, last)`` time (ns) over every frame, ``None`` without times."""
        import numpy as np

        stamps = []
        if self.spans is not None and len(self.spans):
            start = self.spans["start_ns"].to_numpy(dtype=np.int64)
            stamps += [start.min(), (start + self.spans["duration_ns"].to_numpy()).max()]
        for frame in (self.metrics, self.logs, self.edge_metrics):
            if frame is not None and len(frame):
                times = frame["ts_ns"].to_numpy(dtype=np.int64)
                stamps += [times.min(), times.max()]
        return (int(min(stamps)), int(max(stamps))) if stamps else None

    def sampling_step(self) -> int | None:
        """The median gap between metric sample times (ns), if there are metrics."""
        import numpy as np

        for frame in (self.metrics, self.edge_metrics):
            if frame is not None and len(frame):
                gaps = np.diff(np.unique(frame["ts_ns"].to_numpy(dtype=np.int64)))
                gaps = gaps[gaps > 0]
                if gaps.size:
                    return int(np.median(gaps))
        return None


def read_telemetry_files(args: argparse.Namespace, console: Console) -> TelemetryFiles:
    """Read every telemetry file named by the options of :func:`add_input_options`."""
    from graphad import ingest
    from graphad.ingest.report import IngestReport

    console.info("ingestion:")
    spans, r1 = read_all(
        args.traces,
        _read_traces,
        console,
        columns=_mapping(args.trace_columns),
        end_column=args.end_column,
        status_rule=args.status_rule,
    )
    metrics, r2 = read_all(
        metric_files(args.metrics),
        _read_metric_file,
        console,
        wide_file_is=args.wide_file_is,
        **_metric_options(args),
    )
    logs, r3 = read_all(args.logs, ingest.read_logs, console)
    edge_metrics, r4 = read_all(
        args.edge_metrics, ingest.read_edge_metrics, console, separator=args.edge_separator
    )
    report = IngestReport()
    for part in (r1, r2, r3, r4):
        if part is not None:
            report.merge(part)
    graph = read_edge_list(args.call_graph) if args.call_graph else None
    if graph is not None:
        console.info(
            f"  call graph {args.call_graph}: {graph.number_of_nodes()} nodes, "
            f"{graph.number_of_edges()} edges"
        )
    return TelemetryFiles(spans, metrics, logs, edge_metrics, graph, report)


_NICE_NS = tuple(
    int(round(s * 10**9))
    for s in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
    + (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600)
)


def nice_duration(ns: float) -> int:
    """The round duration (1 ms, 2 ms, 5 ms, ..., 1 s, 2 s, 5 s, ..., 1 h) closest in log
    scale to ``ns``.

    Example:
        >>> nice_duration(59.3e9) // 10**9, nice_duration(0.4e9) // 10**6
        (60, 500)
    """
    import math

    seconds = max(float(ns) / 1e9, 1e-9)
    return min(_NICE_NS, key=lambda d: abs(math.log(d / 1e9 / seconds)))


def auto_step(span_ns: int, sampling_ns: int | None = None) -> int:
    """A time step for data spanning ``span_ns``: the metrics' sampling interval
    (rounded), else about 1/60 of the span, at most 1 min, at least 1 s (less only for
    data spanning under 30 s).

    Example:
        >>> auto_step(45 * 10**9) // 10**9, auto_step(3 * 3600 * 10**9) // 10**9
        (1, 60)
        >>> auto_step(3600 * 10**9, sampling_ns=30 * 10**9) // 10**9
        30
    """
    if sampling_ns is not None and span_ns >= 15 * sampling_ns:
        return nice_duration(sampling_ns)
    floor = 10**9 if span_ns >= 30 * 10**9 else 10**6
    return max(min(nice_duration(span_ns / 60), 60 * 10**9), floor)


def _step_within(window: int, wanted: int) -> int:
    """The round step closest to ``wanted`` that divides ``window`` into >= 2 steps
    (``window`` itself when none does).

    Example:
        >>> _step_within(300 * 10**9, 60 * 10**9) // 10**9
        60
        >>> _step_within(45 * 10**9, 10 * 10**9) // 10**9
        15
    """
    import math

    fits = [d for d in _NICE_NS if d * 2 <= window and window % d == 0]
    if not fits:
        return window
    return min(fits, key=lambda d: abs(math.log(d / max(wanted, 1))))


def choose_windows(
    args: argparse.Namespace, span: tuple[int, int] | None, sampling_ns: int | None
) -> tuple[WindowSpec, str | None]:
    """The window spec from ``--window / --step / --stride``, or chosen from the data.

    Returns:
        ``(spec, note)``: the note says what was chosen (``None`` when all was given).

    Raises:
        GraphadInputError: A duration is unreadable, or the window is longer than the
            data (the message gives the data's time range and a window that fits).
    """
    from graphad.cli._common import human_duration, span_text
    from graphad.graph import WindowSpec
    from graphad.graph.window import parse_duration

    def duration(flag: str, text: str | None) -> int | None:
        if text is None:
            return None
        try:
            value = parse_duration(text)
        except GraphadInputError:
            raise GraphadInputError(
                "unreadable duration",
                field=flag,
                expected="a number and a unit: 500ms, 10s, 5min, 1h",
                found=repr(text),
            ) from None
        if value <= 0:
            raise GraphadInputError(
                "a duration must be positive", field=flag, expected="e.g. 10s", found=text
            )
        return value

    window = duration("--window", args.window)
    step = duration("--step", args.step)
    stride = duration("--stride", args.stride)
    length = span[1] - span[0] if span is not None else None
    chosen = []
    if step is None:
        step = auto_step(length, sampling_ns) if length else 60 * 10**9
        if window is not None:
            step = _step_within(window, step)
        chosen.append(f"step {human_duration(step)}")
    if window is None:
        window = 5 * step
        chosen.append(f"window {human_duration(window)} (5 steps)")
    if window < step:
        raise GraphadInputError(
            f"--window {args.window or human_duration(window)} is shorter than "
            f"--step {args.step or human_duration(step)}",
            field="--window",
            expected=f"at least {human_duration(step)}",
        )
    if length is not None and window > length:
        fit_window = nice_duration(length / 5)
        hint = f"--window {human_duration(fit_window)}"
        if step > fit_window:
            hint += f" --step {human_duration(nice_duration(fit_window / 5))}"
        raise GraphadInputError(
            f"the data spans {span_text(*span)}; "
            f"--window {args.window or human_duration(window)} is longer: pass {hint}",
            field="--window",
        )
    if window % step:
        hint = _step_within(window, step)
        raise GraphadInputError(
            f"--window {args.window or human_duration(window)} is not a whole number of "
            f"--step {args.step or human_duration(step)} steps",
            field="--step",
            expected=f"e.g. --step {human_duration(hint)}",
        )
    spec = WindowSpec.of(window, stride=stride, step=step)
    note = None
    if chosen:
        where = f"the data spans {span_text(*span)}" if span is not None else "no times"
        note = f"windows: {', '.join(chosen)}, chosen from the data ({where}); set " + (
            "--window / --step to change"
        )
    return spec, note


def add_edges(graph: DynamicGraph, pairs: set[tuple[str, str]]) -> tuple[DynamicGraph, int]:
    """Add static caller -> callee edges to every window (edge features 0 where not
    observed); pairs naming a node outside the graph are left out.

    Returns:
        ``(graph, left_out)``.
    """
    import torch

    from graphad.graph.dynamic import DynamicGraph

    index = {n: i for i, n in enumerate(graph.vocab.names)}
    known = sorted((index[a], index[b]) for a, b in pairs if a in index and b in index and a != b)
    left_out = len(pairs) - len(known)
    if not known:
        return graph, left_out
    static = torch.tensor(known, dtype=torch.long).t()
    windows = []
    for w in graph.windows:
        w = w.clone()
        n = graph.num_nodes
        have = set((w.edge_index[0] * n + w.edge_index[1]).tolist())
        codes = (static[0] * n + static[1]).tolist()
        new = [k for k, code in enumerate(codes) if code not in have]
        if new:
            extra = static[:, new]
            edge_index = torch.cat([w.edge_index, extra], dim=1)
            order = torch.argsort(edge_index[0] * n + edge_index[1])
            w.edge_index = edge_index[:, order]
            attr = getattr(w, "edge_attr", None)
            if attr is not None:
                extra_attr = torch.zeros(len(new), attr.shape[1], dtype=attr.dtype)
                w.edge_attr = torch.cat([attr, extra_attr], dim=0)[order]
        windows.append(w)
    return (
        DynamicGraph(
            graph.vocab,
            windows,
            graph.feature_names,
            graph.edge_feature_names,
            graph.spec,
            graph.meta,
        ),
        left_out,
    )


def run(args: argparse.Namespace) -> int:
    """Execute ``graphad build``."""
    from graphad.cli._common import iso, output_path, write_atomic
    from graphad.graph import build_dynamic_graph

    console = Console(args.quiet)
    if not (args.traces or args.metrics or args.logs or args.edge_metrics):
        raise GraphadInputError(
            "nothing to build from",
            field="--traces/--metrics/--logs/--edge-metrics",
            expected="at least one telemetry file",
        )
    if args.scheduler or args.workers:  # spans on Dask: graphad[dask], docs/scale.md
        from graphad.cli.build_dask import run_dask

        return run_dask(args, _mapping(args.trace_columns), console)
    inputs = [*args.traces, *args.metrics, *args.logs, *args.edge_metrics, args.call_graph]
    out = output_path(args.out, inputs)
    data = read_telemetry_files(args, console)
    start_ns, end_ns = parse_time(args.start, "--start"), parse_time(args.end, "--end")
    span = data.time_range()
    if span is not None:
        span = (start_ns if start_ns is not None else span[0], end_ns or span[1])
    spec, note = choose_windows(args, span, data.sampling_step())
    if note:
        console.info(note)
    frames = (data.spans, data.metrics, data.logs)
    if all(f is None or not len(f) for f in frames):
        raise GraphadInputError(
            "edge metrics alone give no node features; add --metrics, --traces or --logs",
            field="--edge-metrics",
        )
    graph = build_dynamic_graph(
        *frames,
        spec=spec,
        edge_metrics=data.edge_metrics,
        node_rule=args.node_rule,
        granularity=args.granularity,
        start_ns=start_ns,
        end_ns=end_ns,
    )
    pairs: set[tuple[str, str]] = set()
    if data.call_graph is not None:
        pairs |= {(str(a), str(b)) for a, b in data.call_graph.edges}
    if data.edge_metrics is not None and len(data.edge_metrics):
        pairs |= set(
            data.edge_metrics[["src", "dst"]].astype(str).drop_duplicates().itertuples(index=False)
        )
    if pairs:
        from graphad.graph.rules import resolve_node_rule

        rule = resolve_node_rule(args.node_rule)
        pairs = {(str(rule([a])[0]), str(rule([b])[0])) for a, b in pairs}
        graph, left_out = add_edges(graph, pairs)
        console.info(
            f"call edges from --call-graph / --edge-metrics: {len(pairs) - left_out} added"
            + (f", {left_out} name a node outside the graph (left out)" if left_out else "")
        )
    write_atomic(out, graph.save)
    ends = graph.window_end.numpy()
    console.info(
        f"graph: {len(graph)} windows x {graph.num_nodes} nodes x "
        f"{graph.num_steps} steps x {graph.num_features} features, "
        f"{graph.edge_union().shape[1]} distinct edges; windows end "
        f"{iso(ends[0])} .. {iso(ends[-1])}"
    )
    console.result(f"wrote {out}")
    return 0
