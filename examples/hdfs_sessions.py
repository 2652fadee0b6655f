"""HDFS log sessions as graphs: event types are nodes, transitions are edges.

    python examples/hdfs_sessions.py --root ../shared/data/hdfs --out figs/

Turns event-id sessions into PyG graphs (one per session), draws a normal and an
abnormal session side by side, and scores sessions with DeepLog (next-event LSTM)
trained on normal sessions only; prints AUC-ROC / AUC-PR and the F1 at the training
threshold.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import networkx as nx
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D

from graphad.datasets import load_hdfs_sessions, session_graph
from graphad.detectors import DeepLog
from graphad.eval import auc_pr, auc_roc, f1_at_threshold
from graphad.viz import add_colorbar, draw_service_graph, graph_layout, new_figure


def to_networkx(data) -> nx.DiGraph:
    """A session graph with its transition counts as edge weights."""
    g = nx.DiGraph()
    present = data.node_mask.nonzero().view(-1).tolist()
    g.add_nodes_from(f"E{i + 1}" for i in present)
    pairs = zip(data.edge_index.t().tolist(), data.edge_attr.view(-1).tolist(), strict=True)
    for (a, b), w in pairs:
        g.add_edge(f"E{a + 1}", f"E{b + 1}", weight=w)
    return g


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="../shared/data/hdfs")
    parser.add_argument("--out", default="figures/hdfs_sessions")
    parser.add_argument("--small", action="store_true", help="quick run (for the tests)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    sessions = load_hdfs_sessions(args.root)
    rng = np.random.default_rng(0)
    n_train, n_test = (300, 200) if args.small else (len(sessions.train) - 500, 2000)
    order = rng.permutation(len(sessions.train))
    train = [sessions.train[i] for i in order[:n_train]]
    normal = [sessions.train[i] for i in order[-(n_test // 2) :]]  # held out, never trained on
    abnormal = [
        sessions.test_abnormal[i]
        for i in rng.choice(len(sessions.test_abnormal), n_test // 2, replace=False)
    ]
    print(
        f"{len(train)} training sessions, {len(normal)} normal + {len(abnormal)} abnormal "
        f"test sessions, {sessions.num_events} event types"
    )

    graphs = [session_graph(s, sessions.num_events) for s in (normal[0], abnormal[0])]
    nx_graphs = [to_networkx(g) for g in graphs]
    union = nx.compose_all(nx_graphs)
    pos = graph_layout(union, "spring", seed=0)
    fig = new_figure((10.0, 4.5))
    titles = ("normal session", "abnormal session")
    counts = [
        {n: float(g.out_degree(n, weight="weight") + g.in_degree(n, weight="weight")) for n in g}
        for g in nx_graphs
    ]
    top = max(max(c.values(), default=1.0) for c in counts)  # one colour scale for both
    axes = fig.subplots(1, 2)
    for ax, g, count, title in zip(axes, nx_graphs, counts, titles, strict=True):
        draw_service_graph(
            ax,
            g,
            count,
            pos={n: pos[n] for n in g},
            cmap="Purples",
            vmin=0,
            vmax=top,
            title=title,
            node_size=300.0,
        )
    mappable = ScalarMappable(Normalize(0, top), "Purples")
    add_colorbar(fig, mappable, "transitions into and out of the event", ax=list(axes), shrink=0.7)
    fig.legend(
        handles=[Line2D([], [], color="0.45", linewidth=2.5, label="transition; width = count")],
        loc="outside lower center",
        frameon=False,
        fontsize=8,
    )
    fig.savefig(out / "sessions.png")

    detector = DeepLog(epochs=1 if args.small else 10, random_state=0).fit(train)
    test = normal + abnormal
    labels = np.r_[np.zeros(len(normal)), np.ones(len(abnormal))]
    scores = detector.score_windows(test).numpy()
    print(
        f"DeepLog: AUC-ROC {auc_roc(labels, scores):.3f}, AUC-PR {auc_pr(labels, scores):.3f}"
        f", F1 at the training threshold "
        f"{f1_at_threshold(labels, scores, detector.threshold_).f1:.3f}"
    )
    print("wrote", out / "sessions.png")


if __name__ == "__main__":
    main()
