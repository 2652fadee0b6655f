import numpy as np
import pytest

from graphad.exceptions import GraphadInputError
from graphad.viz import label_segments, plot_window_scores

from .conftest import png_size


def test_label_segments():
    assert label_segments([1, 1, 0, 0, 1, 1, 1]) == [(0, 1), (4, 6)]
    assert label_segments([0, 0]) == []


def test_timeline_png(tmp_path, graph, scores):
    window = scores.max(axis=1)
    labels = (np.arange(len(window)) >= 4).astype(int)
    fig = plot_window_scores(
        window,
        times=graph.window_end,
        labels=labels,
        threshold=1.5,
        onset=int(graph.window_end[4]) - 1,
        figsize=(6, 2),
        dpi=50,
    )
    path = tmp_path / "timeline.png"
    fig.savefig(path)
    assert png_size(path) == (300, 100)
    alarms = fig.axes[0].collections[0]
    assert len(alarms.get_offsets()) == 4


def test_bad_labels():
    with pytest.raises(GraphadInputError, match="labels and scores differ in length"):
        plot_window_scores([0.1, 0.2], labels=[0, 1, 1])
