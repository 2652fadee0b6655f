import pytest

from graphad.exceptions import GraphadInputError
from graphad.rca import RCAResult
from graphad.viz import plot_rca

from .conftest import png_size


def test_rca_bars(tmp_path):
    result = RCAResult(["redis", "cart", "frontend"], [3.0, 2.0, 1.0], method="pagerank")
    fig = plot_rca(result, k=2, truth="frontend", figsize=(4, 3), dpi=50)
    ax = fig.axes[0]
    assert [p.get_width() for p in ax.patches] == [3.0, 2.0]
    assert "truth 'frontend' at rank 3" in ax.get_title()
    path = tmp_path / "rca.png"
    fig.savefig(path)
    assert png_size(path) == (200, 150)


def test_truth_is_highlighted():
    fig = plot_rca(RCAResult(["a", "b"], [2.0, 1.0]), truth="b")
    first, second = fig.axes[0].patches
    assert first.get_facecolor() != second.get_facecolor()


def test_bad_inputs():
    with pytest.raises(GraphadInputError, match="expected an RCAResult"):
        plot_rca({"a": 1.0})
    with pytest.raises(GraphadInputError, match="k must be positive"):
        plot_rca(RCAResult(["a"], [1.0]), k=0)
