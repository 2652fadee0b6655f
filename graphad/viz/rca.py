"""Bar chart of a root-cause ranking."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphad.exceptions import GraphadInputError
from graphad.rca.result import RCAResult
from graphad.viz._base import new_figure

__all__ = ["plot_rca"]


def plot_rca(
    result: RCAResult,
    *,
    k: int = 10,
    truth: str | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (6.0, 3.5),
    dpi: float = 100.0,
) -> Any:
    """Horizontal bars of the ``k`` best root-cause candidates, best on top.

    Args:
        result: The ranking.
        k: How many candidates to show.
        truth: The true root cause, drawn in another colour (and named in the title
            with its rank when it is not among the ``k`` shown).
        title: Axes title (default: the ranker's name).
        figsize: Inches.
        dpi: Dots per inch.

    Returns:
        The :class:`~matplotlib.figure.Figure`.

    Example:
        >>> r = RCAResult(["db", "api", "web"], [0.9, 0.5, 0.1], method="score")
        >>> fig = plot_rca(r, truth="api")
        >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
        ['#1 db', '#2 api (truth)', '#3 web']
    """
    if not isinstance(result, RCAResult):
        raise GraphadInputError(
            "expected an RCAResult", field="result", found=type(result).__name__
        )
    if k < 1:
        raise GraphadInputError("k must be positive", field="k", expected=">= 1", found=k)
    nodes = result.nodes[:k]
    scores = np.asarray(result.scores[:k], dtype=np.float64)
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    colors = ["tab:green" if n == truth else "tab:gray" for n in nodes]
    rows = np.arange(len(nodes))
    ax.barh(rows, scores, color=colors)
    names = [f"#{i + 1} {n}" + (" (truth)" if n == truth else "") for i, n in enumerate(nodes)]
    ax.set_yticks(rows, names, fontsize=8)
    ax.set_ylim(len(nodes) - 0.5, -0.5)
    ax.set_xlabel("root-cause score")
    heading = title or f"root-cause ranking ({result.method or 'ranker'})"
    if truth is not None and truth not in nodes:
        rank = result.rank_of(truth)
        heading += f"; truth '{truth}' " + (f"at rank {rank}" if rank else "not ranked")
    ax.set_title(heading, fontsize=10)
    return fig
