"""``graphad rca``: telemetry or scored windows + an onset -> ranked root causes."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

import numpy as np

from graphad.cli._common import (
    Console,
    NoAnswer,
    add_common,
    human_duration,
    iso,
    output_path,
    parse_time,
    positive_int,
    read_scores,
    read_windows,
    render_table,
    span_text,
    write_atomic,
)
from graphad.exceptions import GraphadInputError
from graphad.utils import resolve

if TYPE_CHECKING:
    from graphad.rca.result import RCAResult

__all__ = ["register", "run", "make_ranker", "telemetry_case", "rank_graph"]

_EPILOG = """\
examples:
  # raw telemetry and the time it broke (or --detect to estimate it):
  graphad rca --traces spans.csv --metrics metrics.csv --onset 2022-08-22T03:53:54Z
  # per-edge RPC latency, one column per caller_callee edge (e.g. Nezha's source_50.csv):
  graphad rca --edge-metrics source_50.csv --edge-separator _ --onset 2022-08-22T03:53:54Z
  # a graph and its scores (from 'graphad score', or --model model.pt to score here):
  graphad rca graph.pt --scores scores.csv --detect --format json -o rca.json

  Ranker names come from graphad.rca.RANKERS. With telemetry files the ranker reads
  every source given (metrics, spans, logs, edge metrics); with a graph it ranks from
  the node scores of the windows after the onset and the observed call graph."""


def register(verbs: argparse._SubParsersAction) -> None:
    """Add the ``rca`` verb."""
    from graphad.cli.build import add_input_options

    parser = verbs.add_parser(
        "rca",
        help="data + onset or detection -> ranked root causes",
        description="Rank the likely root-cause nodes of an anomaly. When the data hold "
        "no answer (no evidence above chance, no alarm, an onset outside the data) it "
        "says so in one line and exits with status 3; --force prints the flagged "
        "ranking anyway.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "graph",
        nargs="?",
        default=None,
        help="a saved graph (.pt); or give telemetry with --traces etc.",
    )
    parser.add_argument("--scores", default=None, help="scores table of the graph")
    parser.add_argument("--model", default=None, help="saved detector to score the graph")
    add_input_options(parser)
    parser.add_argument(
        "--node-rule",
        default="identity",
        help="entity -> node for telemetry files: identity, service (k8s pod -> service)",
    )
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--onset", default=None, help="when it broke (ISO time with a date, or ns)")
    when.add_argument(
        "--detect", action="store_true", help="estimate the onset from the anomaly scores"
    )
    parser.add_argument(
        "--step",
        default=None,
        help="telemetry with --detect: the time step of the series the onset is "
        "estimated on, e.g. 1s (default: 10s, or chosen from the data when it is short)",
    )
    parser.add_argument(
        "--ranker",
        default=None,
        help="ranker name (default: graphad, the multi-source ranker, for telemetry; "
        "pagerank for a scored graph)",
    )
    parser.add_argument(
        "--top", type=positive_int, default=5, help="candidates to show (default 5)"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="print the ranking even when the data hold no answer (flagged; exit 0)",
    )
    parser.add_argument(
        "--format", choices=("table", "json"), default="table", help="output format (default table)"
    )
    parser.add_argument("-o", "--out", default=None, help="also write the output here")
    add_common(parser)
    parser.set_defaults(func=run)


#: Default rankers, best first: the multi-source ranker for telemetry, PageRank on the
#: node scores for a scored graph.
DEFAULT_RANKERS = {
    "telemetry": ("graphad", "MultiSourceRanker", "pagerank", "baro"),
    "graph": ("pagerank", "PageRankRanker", "score"),
}


def default_ranker_name(mode: str) -> str:
    """The ranker used when ``--ranker`` is not given (``mode``: telemetry or graph)."""
    from graphad.rca import RANKERS

    for name in DEFAULT_RANKERS[mode]:
        try:
            resolve(name, RANKERS, "--ranker")
        except GraphadInputError:
            continue
        return name
    return sorted(RANKERS)[0]


def make_ranker(name: str) -> Any:
    """A ranker instance from its registered name or class name (:func:`graphad.utils.resolve`).

    Raises:
        GraphadInputError: No ranker has that name.
    """
    from graphad.rca import RANKERS

    spec = resolve(name, RANKERS, "--ranker")
    return spec() if isinstance(spec, type) else spec


def telemetry_case(args: argparse.Namespace, console: Console) -> Any:
    """An :class:`~graphad.ingest.telemetry.Incident` (onset unknown) from telemetry
    files, and the data's time range ``(first, last)`` in ns (``None`` without times).
    """
    from graphad.cli.build import read_telemetry_files
    from graphad.ingest.telemetry import Incident

    data = read_telemetry_files(args, console)
    read = (
        ("spans", data.spans),
        ("metrics", data.metrics),
        ("logs", data.logs),
        ("edge_metrics", data.edge_metrics),
    )
    frames = {k: v for k, v in read if v is not None}
    case = Incident(
        case_id="cli",
        report=data.report,
        node_rule=args.node_rule,
        call_graph=data.call_graph,
        **frames,
    )
    return case, data.time_range()


def _graph_scores(args: argparse.Namespace) -> tuple[Any, np.ndarray, np.ndarray, float | None]:
    """The graph, its ``[W, N]`` node and ``[W]`` window scores, and the detector's
    threshold (``None`` for a scores table).
    """
    from graphad.cli.score import load_detector, score_input

    data = read_windows(args.graph)
    if not data.is_graph:
        raise GraphadInputError("rca needs a saved graph (.pt)", source=args.graph)
    graph = data.windows
    threshold = None
    if args.model:
        detector = load_detector(args.model)
        table = score_input(detector, data)
        threshold = float(detector.threshold_)
    elif args.scores:
        table = read_scores(args.scores)
    else:
        raise GraphadInputError(
            "a graph needs its node scores",
            field="--scores/--model",
            expected="a scores table or a saved detector",
        )
    missing = [n for n in graph.vocab.names if n not in table.columns]
    if missing or len(table) != len(graph):
        raise GraphadInputError(
            "scores do not match the graph",
            source=args.scores or args.model,
            expected=f"{len(graph)} rows with a column per node",
            found=f"{len(table)} rows, missing {missing[:3]}",
        )
    node_scores = table[graph.vocab.names].to_numpy(dtype=np.float64)
    return graph, node_scores, table["window_score"].to_numpy(dtype=np.float64), threshold


def rank_graph(ranker: Any, graph: Any, node_scores: np.ndarray, onset: int | str) -> RCAResult:
    """Rank from a scored graph; ``onset`` in ns or ``"estimated"`` (from the scores)."""
    import torch

    scores = torch.tensor(np.array(node_scores, dtype=np.float32))
    return ranker.rank(graph, node_scores=scores, onset=onset)


def estimate_telemetry_onset(case: Any, span: tuple[int, int], step_ns: int) -> int:
    """The onset of telemetry estimated on a series of ``step_ns`` steps.

    Span latencies (median log duration per service, operation and step) when there
    are spans, else the metrics as sampled; a mean-shift change point of the system's
    per-step score (:func:`graphad.rca.onset.estimate_onset`).

    Raises:
        NoAnswer: Fewer than 3 steps, so no change point can be told.
    """
    from graphad.rca.onset import case_score_series, estimate_onset, span_latency_series

    spans = getattr(case, "spans", None)
    series = None
    if spans is not None and len(spans):
        series = case_score_series(span_latency_series(spans, step_ns=step_ns))
    metrics = getattr(case, "metrics", None)
    if (series is None or len(series) < 3) and metrics is not None and len(metrics):
        series = case_score_series(metrics)
    if series is None or len(series) < 3:
        raise NoAnswer(
            f"no onset can be estimated: the data span {span_text(*span)}, "
            f"{0 if series is None else len(series)} steps of {human_duration(step_ns)} "
            "(at least 3 needed); pass --onset TIME or a smaller --step"
        )
    return int(estimate_onset(series))


def _no_answer(
    result: RCAResult | None,
    onset: int | None,
    span: tuple[int, int] | None,
    alarms: str | None,
) -> str | None:
    """Why the ranking is no answer, or ``None`` when it is one."""
    if onset is not None and span is not None and not span[0] < onset < span[1]:
        return f"the onset {iso(onset)} lies outside the data ({span_text(*span)})"
    if alarms is not None:
        return alarms
    if result is None:
        return None
    confident = getattr(result, "evidence_above_chance", None)
    if confident is False:
        confidence = getattr(result, "confidence", None)
        strongest = (
            f" (the strongest is {confidence:.2g} x its chance level)"
            if confidence is not None
            else ""
        )
        return f"no node's evidence is above its chance level{strongest}"
    scores = np.asarray(result.scores, dtype=float)
    if scores.size == 0 or not np.any(np.nan_to_num(scores) > 0):
        return "no node shows any evidence (every score is 0)"
    return None


def _evidence_lines(result: RCAResult, node: str, limit: int = 3) -> list[str]:
    """Up to ``limit`` lines of a node's strongest evidence, then its propagation path.

    Example:
        >>> from graphad.rca import RCAResult
        >>> r = RCAResult(["db"], [2.0], paths={"db": [["db", "api"]]})
        >>> r.evidence = {"db": [{"source": "metrics", "item": "cpu", "before": 0.2,
        ...                       "after": 0.9, "score": 4.0, "calibrated": 3.0,
        ...                       "chance_level": 1.0}]}
        >>> _evidence_lines(r, "db")
        ['metrics: cpu 0.2 -> 0.9 (calibrated 3, chance 1)', 'path: db -> api']
    """
    records = (getattr(result, "evidence", None) or {}).get(node) or []
    lines = []
    for record in records[:limit]:
        item = record if isinstance(record, dict) else getattr(record, "__dict__", {})
        what = item.get("item") or item.get("name") or item.get("metric") or ""
        if isinstance(what, (list, tuple)):
            what = " -> ".join(map(str, what))
        before, after = item.get("before"), item.get("after")
        change = ""
        if before is not None and after is not None:
            change = f" {_number(before)} -> {_number(after)}"
        parts = []
        if item.get("calibrated") is not None:
            parts.append(f"calibrated {_number(item['calibrated'])}")
        elif item.get("score") is not None:
            parts.append(f"score {_number(item['score'])}")
        if item.get("chance_level") is not None:
            parts.append(f"chance {_number(item['chance_level'])}")
        tail = f" ({', '.join(parts)})" if parts else ""
        source = str(item.get("source", ""))
        head = f"{source}: {what}{change}" if what or change else source
        lines.append(f"{head}{tail}".strip())
    paths = (result.paths or {}).get(node) or []
    if paths and len(paths[0]) > 1:
        lines.append("path: " + " -> ".join(paths[0]))
    return lines


def _number(value: Any) -> str:
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return str(value)


def _output(
    result: RCAResult, args: argparse.Namespace, console: Console, flagged: str | None
) -> None:
    if args.format == "json":
        data = result.to_dict()
        data["onset"] = iso(result.onset_ns) if result.onset_ns is not None else None
        data["flagged"] = flagged
        text = json.dumps(data, indent=2, default=str)
    else:
        shown = list(zip(result.nodes[: args.top], result.scores[: args.top], strict=True))
        rows = [[i + 1, node, score] for i, (node, score) in enumerate(shown)]
        table = render_table(["rank", "node", "score"], rows).splitlines()
        lines = table[:2]
        for line, (node, _) in zip(table[2:], shown, strict=True):
            lines.append(line)
            lines.extend(f"      {why}" for why in _evidence_lines(result, node))
        if flagged:
            lines.insert(0, f"FLAGGED (--force): {flagged}")
        if result.onset_ns is not None and not args.detect:
            console.info(f"onset: {iso(result.onset_ns)}; ranker: {result.method or '-'}")
        text = "\n".join(lines)
    if args.out:
        write_atomic(args.out, lambda path: path.write_text(text + "\n", encoding="utf-8"))
    console.result(text)
    if args.out:
        console.info(f"wrote {args.out}")


def _graph_span(graph: Any) -> tuple[int, int]:
    ends = graph.window_end.numpy()
    size = graph.spec.size if graph.spec is not None else 0
    return int(ends[0]) - int(size), int(ends[-1])


def run(args: argparse.Namespace) -> int:
    """Execute ``graphad rca``."""
    console = Console(args.quiet)
    telemetry = bool(
        args.traces or args.metrics or args.logs or args.edge_metrics or args.call_graph
    )
    if telemetry == bool(args.graph):
        raise GraphadInputError(
            "give either a graph or telemetry files",
            field="graph/--traces/--metrics/--logs/--edge-metrics",
        )
    if args.step is not None and not (telemetry and args.detect):
        raise GraphadInputError(
            "--step sets the steps of onset estimation from telemetry (with --detect)",
            field="--step",
        )
    if args.out:
        inputs = [args.graph, args.scores, args.model, *args.traces, *args.metrics]
        output_path(
            args.out, [*inputs, *args.logs, *args.edge_metrics, args.call_graph], special=True
        )
    mode = "telemetry" if telemetry else "graph"
    ranker = make_ranker(args.ranker or default_ranker_name(mode))
    given = parse_time(args.onset) if args.onset is not None else None
    alarms = None
    if telemetry:
        case, span = telemetry_case(args, console)
        if type(ranker).__name__ in ("BaroRanker", "NSigmaRanker") and not len(
            case.metrics if case.metrics is not None else ()
        ):
            raise NoAnswer(
                f"{type(ranker).__name__} ranks from metrics and none were given "
                "(--metrics); use the default ranker for spans, logs or edge metrics"
            )
        if span is None:
            raise NoAnswer("the telemetry holds no samples")
        onset: int | str
        if given is not None:
            onset = given
        else:
            onset, how = _estimate(case, span, args.step)
            console.info(f"estimated onset: {iso(onset)} ({how})")
        why = _no_answer(None, int(onset), span, None)
        if why and not args.force:
            raise NoAnswer(f"{why}; --force ranks anyway")
        result = ranker.rank(case, onset=onset)
    else:
        graph, node_scores, window_scores, threshold = _graph_scores(args)
        span = _graph_span(graph)
        if given is not None and not span[0] < given < span[1] and not args.force:
            raise NoAnswer(f"{_no_answer(None, given, span, None)}; --force ranks anyway")
        ends = graph.window_end.numpy()
        if threshold is not None:
            late = ends > given if given is not None else np.ones(len(ends), dtype=bool)
            above = int((window_scores[late] > threshold).sum())
            if above == 0:
                top = float(np.nanmax(window_scores[late])) if late.any() else float("nan")
                alarms = (
                    f"the detector raised no alarm: 0 of {int(late.sum())} windows"
                    f"{' after the onset' if given is not None else ''} score above its "
                    f"threshold {threshold:.4g} (highest {top:.4g})"
                )
        result = rank_graph(ranker, graph, node_scores, given if given is not None else "estimated")
        if args.detect and result.onset_ns is not None:
            console.info(f"estimated onset: {iso(result.onset_ns)}")
    why = _no_answer(result, result.onset_ns, span, alarms)
    if why and not args.force:
        raise NoAnswer(f"{why}; --force ranks anyway")
    _output(result, args, console, why)
    return 0


def _estimate(case: Any, span: tuple[int, int], step_text: str | None) -> tuple[int, str]:
    """The onset of telemetry and how it was found.

    Without ``--step`` the library's estimate (:func:`graphad.rca.onset.estimate_onset`
    on the case, as the benchmarks measure it); when that has too few steps (a short
    capture), or with ``--step``, a change point on steps chosen from the data.
    """
    from graphad.rca.onset import estimate_onset

    if step_text is None:
        try:
            return int(estimate_onset(case)), "change point of the system's anomaly score"
        except GraphadInputError as error:
            if "too little telemetry" not in str(error):
                raise
    step = _step(step_text, span)
    onset = estimate_telemetry_onset(case, span, step)
    return onset, f"change point of {human_duration(step)} steps"


def _step(text: str | None, span: tuple[int, int]) -> int:
    """The onset-estimation step: ``--step``, else 10 s, or less for short data."""
    from graphad.cli.build import auto_step
    from graphad.graph.window import parse_duration

    if text is not None:
        try:
            step = parse_duration(text)
        except GraphadInputError:
            raise GraphadInputError(
                "unreadable duration",
                field="--step",
                expected="a number and a unit: 500ms, 10s, 1min",
                found=repr(text),
            ) from None
        if step <= 0:
            raise GraphadInputError("a duration must be positive", field="--step", found=text)
        return step
    default = 10 * 10**9
    length = span[1] - span[0]
    return default if length >= 12 * default else min(default, auto_step(length))
