import networkx as nx
import numpy as np
import pytest
from PIL import Image

from graphad.exceptions import GraphadInputError
from graphad.viz import plot_propagation, propagation_frames, save_propagation_gif

from .conftest import MINUTE, T0, png_size


def test_frames_start_at_onset_window(graph, scores):
    onset = T0 + 7 * MINUTE - MINUTE // 2  # inside window 4 (ends at T0 + 7 min)
    frames = propagation_frames(graph, scores, onset=onset, before=1, after=3)
    assert [f.index for f in frames] == [3, 4, 5, 6]
    assert frames[1].label.startswith("onset ")
    assert frames[1].scores["redis"] == 3.0 and frames[1].scores["cart"] == 0.1
    assert frames[0].graph.has_edge("checkout", "redis") is False  # window 3's own edges


def test_frames_centre_on_peak_without_onset(graph, scores):
    frames = propagation_frames(graph, scores, before=0, after=1)
    assert [f.index for f in frames] == [4]
    assert frames[0].label.startswith("peak")


def test_small_multiples_png(tmp_path, graph, scores):
    onset = T0 + 7 * MINUTE - 1
    fig = plot_propagation(
        graph,
        scores,
        onset=onset,
        before=2,
        after=4,
        ncols=3,
        panel_size=(2.0, 2.0),
        dpi=50,
        ranking=["redis"],
        truth="redis",
    )
    assert len(fig.axes) == 7  # 6 panels + colour bar
    path = tmp_path / "prop.png"
    fig.savefig(path, dpi=50)
    assert png_size(path)[0] == 300
    texts = [[t.get_text() for t in ax.texts] for ax in fig.axes[:6]]
    # rank badges only from the onset window (the third panel) on
    assert ["#1" in t for t in texts] == [False, False, True, True, True, True]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [
        "#1-#3: root-cause rank (from the onset on)",
        "true root cause",
        "call; width = calls",
    ]
    assert fig.axes[0].get_title() == "onset-2  23:11"
    assert fig._suptitle.get_text() == "2022-08-08 UTC"


def test_colour_scale_is_shared_across_panels(graph, scores):
    fig = plot_propagation(graph, scores, windows=[0, 7])
    first, last = (ax.collections[0] for ax in fig.axes[:2])
    assert first.norm.vmin == last.norm.vmin == 0.1
    assert first.norm.vmax == last.norm.vmax == 3.0


def test_gif_has_one_frame_per_window(tmp_path, graph, scores):
    path = tmp_path / "prop.gif"
    save_propagation_gif(graph, scores, path, windows=[3, 4, 5, 6], figsize=(3, 2), dpi=50)
    with Image.open(path) as image:
        assert image.format == "GIF"
        assert image.size == (150, 100)
        assert image.n_frames == 4


def test_static_graph_with_step_times():
    g = nx.DiGraph([("web", "db")])
    frames = propagation_frames(g, np.array([[0, 0], [0, 1], [1, 1]]), onset=0.5)
    assert [f.index for f in frames] == [0, 1, 2]


def test_bad_inputs(graph, scores):
    with pytest.raises(GraphadInputError, match="scores and windows differ in number"):
        propagation_frames(graph, scores[:3])
    with pytest.raises(GraphadInputError, match="window index out of range"):
        propagation_frames(graph, scores, windows=[99])
    with pytest.raises(GraphadInputError, match="wrong number of dimensions"):
        propagation_frames(graph, scores[0])
