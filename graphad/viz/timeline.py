"""Window-score timeline with the labelled anomaly periods and the detection threshold."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphad.exceptions import GraphadInputError
from graphad.viz._base import (
    as_array,
    as_time_value,
    format_time_axis,
    new_figure,
    nice_ticks,
    time_axis,
)

__all__ = ["plot_window_scores", "label_segments"]


def label_segments(labels: Any) -> list[tuple[int, int]]:
    """Runs of ones in a 0/1 label vector as ``(first, last)`` index pairs, inclusive.

    Example:
        >>> label_segments([0, 1, 1, 0, 1])
        [(1, 2), (4, 4)]
    """
    values = np.asarray(labels).astype(bool).astype(np.int8)
    padded = np.concatenate([[0], values, [0]])
    change = np.diff(padded)
    starts = np.flatnonzero(change == 1)
    ends = np.flatnonzero(change == -1) - 1
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=False)]


def plot_window_scores(
    scores: Any,
    *,
    times: Any = None,
    labels: Any = None,
    threshold: float | None = None,
    onset: Any = None,
    detected: Any = None,
    log_scale: bool = False,
    title: str | None = None,
    figsize: tuple[float, float] = (8.0, 3.0),
    dpi: float = 100.0,
) -> Any:
    """Timeline of window scores: labelled anomalies shaded, threshold and alarms marked.

    Args:
        scores: ``[W]`` window scores (higher = more anomalous).
        times: ``[W]`` window times (epoch ns are drawn as clock times).
        labels: ``[W]`` 0/1 ground truth; anomalous runs are shaded.
        threshold: Decision threshold (fitted on training data); windows above it are
            marked as alarms.
        onset: True onset time (units of ``times``).
        detected: Detected onset time.
        log_scale: Draw scores on a symmetric log scale (for heavy-tailed scores).
        title: Axes title.
        figsize: Inches.
        dpi: Dots per inch.

    Returns:
        The :class:`~matplotlib.figure.Figure`.

    Shapes:
        ``scores``, ``times``, ``labels``: ``[W]``.

    Example:
        >>> fig = plot_window_scores([0.1, 0.2, 3.0, 0.1], labels=[0, 0, 1, 0], threshold=1.0)
        >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        ['window score', 'threshold 1', 'alarm', 'labelled anomaly']
    """
    values = as_array(scores, "scores", 1)
    count = values.shape[0]
    positions, is_datetime = time_axis(times, count)
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    ax.plot(positions, values, color="tab:blue", linewidth=1.0, label="window score")
    if threshold is not None:
        ax.axhline(
            threshold,
            color="tab:red",
            linestyle="--",
            linewidth=1.0,
            label=f"threshold {threshold:.3g}",
        )
        alarm = values > threshold
        if alarm.any():
            ax.scatter(
                positions[alarm], values[alarm], color="tab:red", s=12, zorder=3, label="alarm"
            )
    if labels is not None:
        truth = as_array(labels, "labels", 1)
        if truth.shape[0] != count:
            raise GraphadInputError(
                "labels and scores differ in length",
                field="labels",
                expected=f"{count} labels",
                found=truth.shape[0],
            )
        for i, (first, last) in enumerate(label_segments(truth)):
            ax.axvspan(
                positions[first],
                positions[last],
                color="tab:orange",
                alpha=0.25,
                linewidth=0,
                label="labelled anomaly" if i == 0 else None,
            )
    for value, style, name in ((onset, "--", "onset"), (detected, ":", "detected")):
        at = as_time_value(value, is_datetime)
        if at is not None:
            ax.axvline(at, color="black", linestyle=style, linewidth=1.0, label=name)
    if log_scale:
        ax.set_yscale("symlog", linthresh=1.0)
        finite = values[np.isfinite(values)]
        if finite.size and finite.min() >= 0:
            ax.set_ylim(bottom=0.0)
        low, high = ax.get_ylim()
        ticks = nice_ticks(low, high, "log")
        if ticks:
            ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
        from matplotlib.ticker import NullLocator

        ax.yaxis.set_minor_locator(NullLocator())
    date = format_time_axis(ax, positions, is_datetime)
    ax.set_xlabel("window end (UTC)" if is_datetime else "window")
    ax.set_ylabel("window anomaly score" + (" (log scale)" if log_scale else ""))
    ax.legend(loc="upper left", fontsize=7, framealpha=0.8)
    heading = title or "window anomaly scores"
    ax.set_title(f"{heading}, {date}" if date else heading, fontsize=10)
    return fig
