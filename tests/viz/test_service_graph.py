import matplotlib
import networkx as nx
import numpy as np
import pytest
from PIL import Image

from graphad.exceptions import GraphadInputError
from graphad.rca import RCAResult
from graphad.viz import graph_layout, plot_service_graph

from .conftest import png_size


def test_renders_png_of_expected_size(tmp_path, graph, scores):
    fig = plot_service_graph(
        graph,
        scores[6],
        window=6,
        vmin=0,
        vmax=3,
        ranking=RCAResult(["redis", "cart"], [2.0, 1.0]),
        figsize=(5, 4),
        dpi=60,
        title="window 6",
    )
    path = tmp_path / "graph.png"
    fig.savefig(path)
    assert png_size(path) == (300, 240)


def test_rank_labels_are_drawn(graph, scores):
    fig = plot_service_graph(graph, scores[6], window=6, ranking=["redis", "cart", "x"], top_k=2)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "#1" in texts and "#2" in texts and "#3" not in texts
    assert {"frontend", "checkout", "cart", "redis"} <= set(texts)


def test_node_colours_follow_scores_on_a_fixed_scale(tmp_path):
    graph = nx.DiGraph([("low", "high")])
    graph.add_node("mid")
    pos = {"low": (0.0, 0.0), "high": (1.0, 0.0), "mid": (0.5, 1.0)}
    fig = plot_service_graph(
        graph,
        {"low": 0.0, "high": 10.0, "mid": 5.0},
        pos=pos,
        vmin=0.0,
        vmax=10.0,
        cmap="viridis",
        colorbar=False,
        figsize=(4, 3),
        dpi=80,
    )
    path = tmp_path / "colours.png"
    fig.savefig(path)
    ax = fig.axes[0]
    image = np.asarray(Image.open(path).convert("RGB")).astype(int)
    height = image.shape[0]
    viridis = matplotlib.colormaps["viridis"]
    for node, fraction in (("low", 0.0), ("mid", 0.5), ("high", 1.0)):
        x, y = ax.transData.transform(pos[node])
        pixel = image[int(round(height - y)), int(round(x))]
        expected = np.round(np.array(viridis(fraction)[:3]) * 255).astype(int)
        assert np.abs(pixel - expected).max() <= 3, (node, pixel, expected)


def test_scores_outside_the_fixed_scale_are_clipped(tmp_path):
    graph = nx.DiGraph([("a", "b")])
    pos = {"a": (0.0, 0.0), "b": (1.0, 0.0)}
    fig = plot_service_graph(
        graph, [50.0, -3.0], pos=pos, vmin=0, vmax=1, cmap="viridis", colorbar=False, dpi=50
    )
    collection = fig.axes[0].collections[0]
    faces = collection.get_facecolors()
    viridis = matplotlib.colormaps["viridis"]
    assert np.allclose(faces[0], viridis(1.0)) and np.allclose(faces[1], viridis(0.0))


def test_missing_scores_are_grey_and_layout_is_reused(graph):
    pos = graph_layout(graph)
    fig = plot_service_graph(graph, {"redis": 1.0}, window=0, pos=pos)
    faces = fig.axes[0].collections[0].get_facecolors()
    assert np.allclose(faces[0], (0.85, 0.85, 0.85, 1.0))
    assert np.allclose(faces[3], (1.0, 1.0, 1.0, 1.0))  # redis absent in window 0: hollow


def test_bad_inputs():
    graph = nx.DiGraph([("a", "b")])
    with pytest.raises(GraphadInputError, match="scores and node names differ in length"):
        plot_service_graph(graph, [1.0, 2.0, 3.0])
    with pytest.raises(GraphadInputError, match="layout has no position"):
        plot_service_graph(graph, [1.0, 2.0], pos={"a": (0, 0)})
    with pytest.raises(GraphadInputError, match="Could not resolve 'nope'"):
        plot_service_graph(graph, [1.0, 2.0], cmap="nope")


def test_log_colour_scale(tmp_path):
    graph = nx.DiGraph([("a", "b")])
    fig = plot_service_graph(
        graph, {"a": 0.0, "b": 100.0}, vmin=0, vmax=100, scale="log", cmap="viridis", colorbar=False
    )
    norm = fig.axes[0].collections[0].norm
    assert type(norm).__name__ == "SymLogNorm"
    assert float(norm(100.0)) == pytest.approx(1.0)
    assert 0.3 < float(norm(1.0)) < 0.4  # log: 1 is a third of the way to 100
    with pytest.raises(GraphadInputError, match="Could not resolve 'sqrt'"):
        plot_service_graph(graph, [1.0, 2.0], scale="sqrt")


def test_labels_can_be_given_and_alternate_in_a_row():
    graph = nx.DiGraph()
    graph.add_nodes_from(["a", "b", "c"])
    pos = {"a": (0.0, 0.0), "b": (1.0, 0.0), "c": (2.0, 0.0)}
    fig = plot_service_graph(graph, None, pos=pos, colorbar=False)
    offsets = [t.xyann[1] for t in fig.axes[0].texts]
    assert offsets[0] == offsets[2] != offsets[1]
    from graphad.viz import draw_service_graph, new_figure

    ax = new_figure((2, 2)).add_subplot()
    draw_service_graph(ax, graph, None, pos=pos, labels={"a": "A!"})
    assert [t.get_text() for t in ax.texts] == ["A!", "b", "c"]


def test_service_graph_rings_the_true_cause():
    import networkx as nx

    from graphad.viz import plot_service_graph

    g = nx.DiGraph([("web", "api"), ("api", "db")])
    fig = plot_service_graph(g, {"web": 0.1, "api": 0.2, "db": 2.0}, truth="db")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["true root cause"]
    bar = fig.axes[1]
    assert " ".join(bar.get_ylabel().split()) == "node anomaly score (higher = more anomalous)"
