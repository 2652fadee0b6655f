"""``graphad demo``: a real fault, end to end, in well under a minute.

ingest -> dynamic graph -> fit a detector on the pre-fault windows -> score every node
and window -> rank root causes -> draw. By default on the bundled excerpt of a real
Nezha OnlineBoutique fault (:func:`graphad.datasets.load_demo_case`); ``--simulate`` uses
the built-in microservice simulator instead.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from graphad.cli._common import Console, add_common
from graphad.exceptions import GraphadInputError

__all__ = [
    "register",
    "run",
    "DemoRun",
    "run_demo",
    "choose_spec",
    "first_alarm",
    "export_sample",
]

_EPILOG = """\
examples:
  graphad demo                       # the bundled real fault (Nezha OnlineBoutique)
  graphad demo --simulate --seed 3   # a simulated microservice fault instead
  graphad demo --out /tmp/pics --quiet
  graphad demo --export .            # spans.csv + metrics.csv for the README's commands

  Prints what was ingested, the graph size, when the anomaly started (detected vs
  true), the top-5 root-cause candidates next to the truth, and the paths of the
  pictures: propagation.png / propagation.gif, heatmap.png, timeline.png, rca.png,
  adjacency.png (learned adjacency next to the observed call graph)."""

#: Detector used when --detector is not given, and its training epochs (docs/demo.md).
DEFAULT_DETECTOR = "CRLBSAD"
DEFAULT_EPOCHS = 10


def register(verbs: argparse._SubParsersAction) -> None:
    """Add the ``demo`` verb."""
    parser = verbs.add_parser(
        "demo",
        help="a real fault, end to end (no arguments needed)",
        description="Ingest a fault case, build its dynamic graph, fit a detector on the "
        "pre-fault windows, score, rank root causes and draw the anomaly "
        "propagation.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--simulate",
        action="store_true",
        help="use the microservice simulator instead of the real fault",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--detector", default=None, help=f"detector name (default {DEFAULT_DETECTOR})"
    )
    parser.add_argument(
        "--ranker", default=None, help="ranker name (default: the best multi-source ranker)"
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="training epochs of a neural detector (default 10)"
    )
    parser.add_argument(
        "-o",
        "--out",
        default="graphad-demo",
        help="folder for the pictures (default ./graphad-demo/)",
    )
    parser.add_argument(
        "--export",
        default=None,
        metavar="DIR",
        help="only write sample telemetry (spans.csv, metrics.csv and truth.json of a "
        "simulated fault, --seed) to DIR for the README's command-line walk-through",
    )
    add_common(parser)
    parser.set_defaults(func=run)


@dataclass
class DemoRun:
    """Everything one demo run produced (returned by :func:`run_demo`, used by tests).

    Attributes:
        case: The fault case (with its truth).
        graph: The dynamic graph.
        detector: The fitted detector.
        node_scores: ``[W, N]`` node scores.
        window_scores: ``[W]`` window scores.
        train_windows: Number of pre-fault windows the detector was fitted on.
        detected_ns: End of the first window after the training period whose score
            exceeds the threshold (``None`` when there is none).
        result: The root-cause ranking.
        pictures: Written picture files.
        seconds: Wall-clock seconds per step.
    """

    case: Any
    graph: Any
    detector: Any
    node_scores: np.ndarray
    window_scores: np.ndarray
    train_windows: int
    detected_ns: int | None
    result: Any
    pictures: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def _clock(ns: int | None) -> str:
    from graphad.cli._common import iso

    return iso(ns)


def choose_spec(case: Any) -> Any:
    """Windows of 5 steps; a step is the metrics' sampling interval, rounded (else 1 min).

    Example:
        >>> import pandas as pd
        >>> from graphad.datasets.base import FaultCase
        >>> m = pd.DataFrame({"ts_ns": [0, 30 * 10**9, 60 * 10**9], "node": "a",
        ...                   "metric": "cpu", "value": 1.0})
        >>> choose_spec(FaultCase("c", "s", 0, "a", "cpu", metrics=m)).step // 10**9
        30
    """
    from graphad.graph import WindowSpec

    step = 60 * 10**9
    metrics = case.metrics
    if metrics is not None and len(metrics):
        stamps = np.unique(metrics["ts_ns"].to_numpy(dtype=np.int64))
        gaps = np.diff(stamps)
        gaps = gaps[gaps > 0]
        if gaps.size:
            step = _nice_step(int(np.median(gaps)))
    return WindowSpec.of(5 * step, stride=step, step=step)


_NICE_SECONDS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600)


def _nice_step(step_ns: int) -> int:
    """The round duration closest (in log scale) to a measured sampling interval.

    Example:
        >>> _nice_step(59_300_000_000) // 10**9
        60
    """
    seconds = max(step_ns / 1e9, 1e-9)
    best = min(_NICE_SECONDS, key=lambda s: abs(np.log(s / seconds)))
    return int(best * 10**9)


def first_alarm(
    window_scores: np.ndarray, ends: np.ndarray, threshold: float, start: int
) -> int | None:
    """End time of the first window from index ``start`` on scoring above ``threshold``.

    Example:
        >>> first_alarm(np.array([5.0, 0.1, 0.2, 3.0]), np.array([10, 20, 30, 40]), 1.0, 1)
        40
    """
    above = np.flatnonzero(window_scores[start:] > threshold)
    return int(ends[start + above[0]]) if above.size else None


def _load_case(simulate: bool, seed: int) -> Any:
    from graphad import datasets

    if simulate:
        maker = getattr(datasets, "make_microservice_system", None)
        if maker is None:
            raise RuntimeError("graphad.datasets.make_microservice_system is missing")
        return maker(random_state=seed, pod_names=True).case
    loader = getattr(datasets, "load_demo_case", None)
    if loader is None:
        raise RuntimeError(
            "graphad.datasets.load_demo_case is missing (the bundled "
            "real fault); try 'graphad demo --simulate'"
        )
    return loader()


def _pick_ranker(name: str | None) -> Any:
    from graphad.cli.rca import default_ranker_name, make_ranker

    return make_ranker(name or default_ranker_name("telemetry"))


def _make_detector(name: str | None, epochs: int | None, seed: int, verbose: bool) -> Any:
    from graphad.cli.fit import make_detector

    params: dict[str, Any] = {}
    import graphad.detectors as detectors
    from graphad.utils import resolve

    cls = resolve(name or DEFAULT_DETECTOR, detectors.DETECTORS, "detector")
    valid = set(cls._param_names())
    if "epochs" in valid:
        params["epochs"] = epochs if epochs is not None else DEFAULT_EPOCHS
    if "random_state" in valid:
        params["random_state"] = seed
    if "verbose" in valid:
        params["verbose"] = verbose
    return make_detector(cls.__name__, params, None, True)


def _ingestion_lines(case: Any) -> list[str]:
    lines = []
    spans, metrics, logs = case.spans, case.metrics, case.logs
    if spans is not None and len(spans):
        lines.append(
            f"  spans:   {len(spans):>8,} from {spans['service'].nunique()} "
            f"entities, {spans['trace_id'].nunique():,} traces"
        )
    if metrics is not None and len(metrics):
        lines.append(
            f"  metrics: {len(metrics):>8,} samples of "
            f"{metrics['metric'].nunique()} metrics on "
            f"{metrics['node'].nunique()} entities"
        )
    if logs is not None and len(logs):
        lines.append(
            f"  logs:    {int(logs['count'].sum()):>8,} lines in "
            f"{logs['template'].nunique()} templates"
        )
    edges = getattr(case, "edge_metrics", None)
    if edges is not None and len(edges):
        pairs = edges[["src", "dst"]].drop_duplicates()
        lines.append(
            f"  edges:   {len(edges):>8,} samples of {edges['metric'].nunique()} "
            f"metrics on {len(pairs)} call edges"
        )
    lines.append(f"  report:  {case.report}")
    return lines


def _draw(run: DemoRun, out: Path, onset: int) -> list[Path]:
    from graphad import viz

    out.mkdir(parents=True, exist_ok=True)
    graph, scores = run.graph, run.node_scores
    ends = graph.window_end.numpy()
    names = graph.vocab.names
    pos = viz.graph_layout(graph)
    # Fixed colour scale for every picture: from the typical pre-fault score (pale) to
    # the highest score (dark), on a symmetric log scale (scores are heavy-tailed).
    before = scores[: run.train_windows]
    finite = scores[np.isfinite(scores)]
    vmin = float(np.nanmedian(before)) if before.size else 0.0
    vmax = float(finite.max()) if finite.size else vmin + 1.0
    truth = run.case.root_cause
    title = f"{run.case.system or 'system'}: {run.case.fault_type} at {truth}"
    written = []

    def save(fig: Any, name: str) -> None:
        fig.savefig(out / name)
        written.append(out / name)

    label = f"node anomaly score ({type(run.detector).__name__})"
    common = {
        "onset": onset,
        "truth": truth,
        "label": label,
        "pos": pos,
        "vmin": vmin,
        "vmax": vmax,
        "scale": "log",
        "ranking": run.result,
        "before": 2,
        "after": 6,
    }
    save(viz.plot_propagation(graph, scores, title=title, **common), "propagation.png")
    viz.save_propagation_gif(graph, scores, out / "propagation.gif", title="propagation", **common)
    written.append(out / "propagation.gif")
    # Window scores may sum over nodes, so node cells get their own threshold: the 99 %
    # quantile of the node scores of the pre-fault (training) windows.
    node_threshold = float(np.nanquantile(before, 0.99)) if before.size else None
    save(
        viz.plot_score_heatmap(
            scores,
            names,
            times=ends,
            onset=onset,
            detected=run.detected_ns,
            threshold=node_threshold,
            vmin=vmin,
            vmax=vmax,
            scale="log",
            title="node anomaly scores",
            label=label,
            truth=truth,
        ),
        "heatmap.png",
    )
    labels = (ends > onset).astype(int)
    save(
        viz.plot_window_scores(
            run.window_scores,
            times=ends,
            labels=labels,
            threshold=run.detector.threshold_,
            onset=onset,
            detected=run.detected_ns,
            log_scale=True,
        ),
        "timeline.png",
    )
    save(viz.plot_rca(run.result, truth=truth), "rca.png")
    if hasattr(run.detector, "learned_adjacency"):
        # What the model learned around the fault, next to the calls it observed, both
        # as source -> target (edge_index order: caller -> callee)
        edge_index, edge_weight = run.detector.learned_adjacency(graph[run.train_windows :])
        save(
            viz.plot_adjacency(
                (edge_index, edge_weight),
                graph,
                node_names=names,
                title="learned adjacency after the onset vs. observed calls",
            ),
            "adjacency.png",
        )
    return written


def run_demo(
    simulate: bool = False,
    seed: int = 0,
    detector: str | None = None,
    ranker: str | None = None,
    epochs: int | None = None,
    out: str | Path = "graphad-demo",
    console: Console | None = None,
) -> DemoRun:
    """Run the whole demo and print its summary to ``console``.

    Args:
        simulate: Use the simulator instead of the bundled real fault.
        seed: Seed of the simulator and the detector.
        detector: Detector name (default :data:`DEFAULT_DETECTOR`).
        ranker: Ranker name (default: the multi-source ranker ``graphad``).
        epochs: Training epochs of a neural detector.
        out: Folder for the pictures.
        console: Where to print (default: stdout).

    Returns:
        The :class:`DemoRun`.
    """
    from graphad.datasets.nezha import CASE_AFTER, CASE_BEFORE
    from graphad.graph import build_dynamic_graph
    from graphad.graph.window import parse_duration

    console = console or Console()
    seconds: dict[str, float] = {}
    began = time.perf_counter()
    case = _load_case(simulate, seed)
    seconds["ingest"] = time.perf_counter() - began
    console.info(
        f"case {case.case_id} of {case.system or 'a system'} "
        f"({'simulated' if simulate else 'real, bundled excerpt'})"
    )
    console.info("ingested:")
    for line in _ingestion_lines(case):
        console.info(line)

    began = time.perf_counter()
    spec = choose_spec(case)
    graph = build_dynamic_graph(
        case.spans if len(case.spans) else None,
        case.metrics if len(case.metrics) else None,
        case.logs if len(case.logs) else None,
        spec=spec,
        node_rule=case.node_rule,  # pods -> services for Nezha and the pod-named simulator
    )
    ends = graph.window_end.numpy()
    train = int(np.searchsorted(ends, case.onset_ns, side="right"))
    seconds["graph"] = time.perf_counter() - began
    console.info(
        f"graph: {len(graph)} windows of {spec.num_steps} x "
        f"{spec.step // 10**9} s, {graph.num_nodes} nodes, "
        f"{graph.edge_union().shape[1]} call edges, {graph.num_features} features "
        "per node and step"
    )
    if train < 3:
        raise GraphadInputError(
            "too few windows before the fault to learn normal behaviour",
            source=case.case_id,
            expected=">= 3 pre-fault windows",
            found=train,
        )

    began = time.perf_counter()
    from graphad.cli._common import show_progress

    model = _make_detector(detector, epochs, seed, verbose=show_progress(console.quiet))
    console.info(f"fitting {type(model).__name__} on the {train} pre-fault windows")
    model.fit(graph[:train])
    seconds["fit"] = time.perf_counter() - began
    began = time.perf_counter()
    node_scores = model.decision_function(graph).numpy().astype(np.float64)
    window_scores = model.score_windows(graph).numpy().astype(np.float64)
    detected = first_alarm(window_scores, ends, model.threshold_, train)
    seconds["score"] = time.perf_counter() - began

    began = time.perf_counter()
    chosen = _pick_ranker(ranker)
    # the ranker sees the window of a benchmark case (``Nezha.cases``), so the demo shows
    # what ``graphad bench rca`` measures; the detector learned from all the history
    before, after = parse_duration(CASE_BEFORE), parse_duration(CASE_AFTER)
    window = case.crop(case.onset_ns - before, case.onset_ns + after)
    result = chosen.rank(window.blind())
    seconds["rca"] = time.perf_counter() - began
    run = DemoRun(
        case, graph, model, node_scores, window_scores, train, detected, result, seconds=seconds
    )
    began = time.perf_counter()
    run.pictures = _draw(run, Path(out), case.onset_ns)
    seconds["draw"] = time.perf_counter() - began
    _summary(run, console)
    return run


def _summary(run: DemoRun, console: Console) -> None:
    from graphad.cli._common import render_table

    case = run.case
    console.info("")
    console.info(f"anomaly onset:  true {_clock(case.onset_ns)}")
    if run.detected_ns is None:
        console.info(
            f"                detected: no window above the threshold {run.detector.threshold_:.3g}"
        )
    else:
        delay = (run.detected_ns - case.onset_ns) / 1e9
        console.info(
            f"                detected {_clock(run.detected_ns)} (end of the first "
            f"window above the threshold, {delay:+.0f} s)"
        )
    rows = []
    for i, (node, score) in enumerate(
        zip(run.result.nodes[:5], run.result.scores[:5], strict=True)
    ):
        rows.append([i + 1, node, score, "<- root cause" if node == case.root_cause else ""])
    console.info(
        f"root-cause candidates ({run.result.method or type(run.result).__name__}),"
        f" ground truth: {case.root_cause} ({case.fault_type})"
    )
    console.result(render_table(["rank", "node", "score", "truth"], rows))
    rank = run.result.rank_of(case.root_cause)
    console.info(f"the true root cause is ranked {rank if rank else 'nowhere'}")
    console.info("pictures:")
    for path in run.pictures:
        console.result(f"  {path}")
    total = sum(run.seconds.values())
    parts = ", ".join(f"{k} {v:.1f}" for k, v in run.seconds.items())
    console.info(f"done in {total:.1f} s ({parts})")


#: What ``--export`` writes, in order.
EXPORT_FILES = ("spans.csv", "metrics.csv", "truth.json")


def export_sample(folder: str | Path, seed: int = 0) -> list[Path]:
    """Write a simulated fault as the files the README's command-line block reads.

    ``spans.csv`` (canonical span table), ``metrics.csv`` (long metric table) and
    ``truth.json`` (onset, root cause, fault type) of
    :func:`graphad.datasets.make_microservice_system` with ``random_state=seed``: three
    hours from 2024-01-01T00:00Z, a latency fault from 01:57Z.

    Returns:
        The written paths.
    """
    import json

    from graphad.cli._common import iso, output_path, write_atomic
    from graphad.datasets import make_microservice_system

    out = output_path(folder, folder=True)
    system = make_microservice_system(random_state=seed)
    case = system.case
    truth = {
        "onset": iso(case.onset_ns),
        "onset_ns": int(case.onset_ns),
        "root_cause": case.root_cause,
        "fault_type": case.fault_type,
    }
    writers = {
        "spans.csv": lambda p: system.spans.to_csv(p, index=False),
        "metrics.csv": lambda p: system.metrics.to_csv(p, index=False),
        "truth.json": lambda p: p.write_text(json.dumps(truth, indent=2) + "\n"),
    }
    return [write_atomic(out / name, writers[name]) for name in EXPORT_FILES]


def run(args: argparse.Namespace) -> int:
    """Execute ``graphad demo``."""
    if args.export is not None:
        console = Console(args.quiet)
        for path in export_sample(args.export, args.seed):
            console.result(f"wrote {path}")
        console.info(
            "a simulated latency fault at 2024-01-01T01:57Z; try: graphad build "
            "--traces spans.csv --metrics metrics.csv -o graph.pt (README.md, 'The command line')"
        )
        return 0
    from graphad.cli._common import output_path

    output_path(args.out, folder=True)
    run_demo(
        simulate=args.simulate,
        seed=args.seed,
        detector=args.detector,
        ranker=args.ranker,
        epochs=args.epochs,
        out=args.out,
        console=Console(args.quiet),
    )
    return 0
