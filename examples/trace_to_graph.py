"""Build a dynamic graph from a Jaeger or OTLP trace file and draw it.

    python examples/trace_to_graph.py --traces examples/data/jaeger_small.json --out figs/

Reads the traces (format detected from the content), prints the ingestion report and
the graph's shape, and saves the service graph of the busiest window (nodes coloured by
their request count per step, edges by call volume) and a heat map of request rates.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from graphad.graph import WindowSpec, build_dynamic_graph
from graphad.ingest import read_traces
from graphad.viz import graph_layout, plot_score_heatmap, plot_service_graph

DATA = Path(__file__).resolve().parent / "data" / "jaeger_small.json"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", default=str(DATA), help="Jaeger / OTLP / Zipkin JSON")
    parser.add_argument("--window", default="3min")
    parser.add_argument("--step", default="1min")
    parser.add_argument("--node-rule", default="identity", help="identity or service")
    parser.add_argument("--out", default="figures/trace_to_graph")
    parser.add_argument("--small", action="store_true", help="quick run (for the tests)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    spans, report = read_traces(args.traces)
    print(report)
    graph = build_dynamic_graph(
        spans, spec=WindowSpec.of(args.window, step=args.step), node_rule=args.node_rule
    )
    print(graph, "nodes:", graph.vocab.names)

    # The request count per step (or the first feature): its mean over each window.
    feature = next(
        (f for f in graph.feature_names if f.endswith("req_count")), graph.feature_names[0]
    )
    column = graph.feature_names.index(feature)
    rates = graph.x[..., column].mean(dim=2).numpy()  # [W, N]
    busiest = int(np.argmax([w.edge_attr[:, 0].sum() if w.edge_attr.numel() else 0 for w in graph]))
    pos = graph_layout(graph)
    end = np.datetime_as_string(graph.window_end.numpy()[busiest].astype("datetime64[ns]"), "s")
    fig = plot_service_graph(
        graph,
        rates[busiest],
        window=busiest,
        pos=pos,
        vmin=0,
        vmax=float(rates.max()),
        cmap="Blues",
        title=f"busiest window, ending {end}Z",
        label=f"{feature} per step (window mean)",
    )
    fig.savefig(out / "service_graph.png")
    fig = plot_score_heatmap(
        rates,
        graph.vocab.names,
        times=graph.window_end,
        cmap="Blues",
        title=f"{feature} per node and window",
        label=f"{feature} per step (window mean)",
    )
    fig.savefig(out / "requests_heatmap.png")
    print("wrote", out / "service_graph.png", out / "requests_heatmap.png")


if __name__ == "__main__":
    main()
