import numpy as np
import pytest

from graphad.exceptions import GraphadInputError
from graphad.viz import plot_score_heatmap

from .conftest import MINUTE, NAMES, T0, png_size


def test_heatmap_png_with_onset_and_threshold(tmp_path, graph, scores):
    fig = plot_score_heatmap(
        scores,
        NAMES,
        times=graph.window_end,
        onset=T0 + 6 * MINUTE,
        detected=T0 + 7 * MINUTE,
        threshold=1.5,
        figsize=(6, 3),
        dpi=50,
    )
    path = tmp_path / "heat.png"
    fig.savefig(path)
    assert png_size(path) == (300, 150)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["redis", "cart", "frontend", "checkout"]
    # every mark has a legend entry: outlined cells, the colour-bar threshold, the lines
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "score > threshold 1.5",
        "threshold (on the colour bar)",
        "onset",
        "detected",
    ]
    outlined = ax.collections[-1]
    assert len(outlined.get_paths()) == 4 + 3  # redis 4 windows + cart 3 above 1.5
    # clock times on the axis, the date in the title
    assert ax.get_title() == "node anomaly scores, 2022-08-08 UTC"
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and all(len(t) == 5 and t[2] == ":" for t in ticks), ticks


def test_heatmap_log_colour_bar_has_round_ticks_and_says_what_it_is(scores):
    fig = plot_score_heatmap(scores * 100, NAMES, scale="log", label="p90 latency (ms)")
    bar = fig.axes[1]
    assert bar.get_ylabel() == "p90 latency (ms) (log scale)"
    labels = [t.get_text() for t in bar.get_yticklabels()]
    assert labels == ["10", "20", "50", "100", "200"]


def test_heatmap_limits_rows_and_keeps_order(scores):
    fig = plot_score_heatmap(scores, NAMES, sort=None, max_nodes=2)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["frontend", "checkout"]


def test_bad_inputs(scores):
    with pytest.raises(GraphadInputError, match="scores and node names differ"):
        plot_score_heatmap(scores, NAMES[:2])
    with pytest.raises(GraphadInputError, match="Could not resolve 'size'"):
        plot_score_heatmap(scores, NAMES, sort="size")
    with pytest.raises(GraphadInputError, match="times do not match"):
        plot_score_heatmap(scores, NAMES, times=np.arange(3))


def test_heatmap_marks_the_true_cause(scores):
    fig = plot_score_heatmap(scores, NAMES, truth="cart")
    labels = {t.get_text(): t for t in fig.axes[0].get_yticklabels()}
    assert "cart (truth)" in labels and labels["cart (truth)"].get_fontweight() == "bold"
    assert "redis" in labels  # the others unchanged
