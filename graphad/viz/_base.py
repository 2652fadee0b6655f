"""Shared helpers of the picture functions: figures without pyplot, scores, time axes.

Figures are created with :class:`matplotlib.figure.Figure` directly (no ``pyplot``), so
drawing never touches global state, never opens a window and works under any backend;
call ``fig.savefig(path)`` to write one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from graphad.exceptions import GraphadInputError
from graphad.utils import import_optional

__all__ = [
    "new_figure",
    "as_array",
    "score_map",
    "time_axis",
    "color_norm",
    "get_cmap",
    "as_time_value",
    "short_labels",
    "nice_ticks",
    "add_colorbar",
    "format_time_axis",
    "clock",
    "date_text",
    "truth_handle",
    "SCORE_LABEL",
]

#: Default colour-bar label of node anomaly scores.
SCORE_LABEL = "node anomaly score (higher = more anomalous)"

#: Nanosecond timestamps above this are read as epoch times (after 1973-03-03).
_EPOCH_NS = 10**17


def new_figure(figsize: tuple[float, float], dpi: float = 100.0) -> Any:
    """A fresh :class:`~matplotlib.figure.Figure` with constrained layout, no pyplot.

    Args:
        figsize: ``(width, height)`` in inches.
        dpi: Dots per inch of the figure (``savefig`` keeps it unless told otherwise).

    Returns:
        The figure; its saved size is ``figsize * dpi`` pixels.

    Example:
        >>> fig = new_figure((2, 1), dpi=50)
        >>> tuple(int(v) for v in fig.get_size_inches() * fig.dpi)
        (100, 50)
    """
    figure = import_optional("matplotlib.figure", "viz")
    return figure.Figure(figsize=figsize, dpi=dpi, layout="constrained")


def get_cmap(cmap: str | Any) -> Any:
    """Resolve a colormap name (or pass a Colormap through).

    Example:
        >>> get_cmap("viridis").name
        'viridis'
    """
    mpl = import_optional("matplotlib", "viz")
    if isinstance(cmap, str):
        try:
            return mpl.colormaps[cmap]
        except KeyError as error:
            raise GraphadInputError(
                f"Could not resolve '{cmap}' among matplotlib colormaps", field="cmap"
            ) from error
    return cmap


def color_norm(
    values: np.ndarray, vmin: float | None, vmax: float | None, scale: str = "linear"
) -> Any:
    """A fixed colour scale; missing ends come from the finite ``values``.

    Args:
        values: Scores the scale must cover when ``vmin``/``vmax`` are not given.
        vmin: Score drawn with the lowest colour.
        vmax: Score drawn with the highest colour.
        scale: ``"linear"``, or ``"log"`` (symmetric log, linear within ±1: for the
            heavy-tailed scores of z-score-like detectors).

    Returns:
        A :class:`matplotlib.colors.Normalize` (``vmax > vmin`` guaranteed).

    Example:
        >>> n = color_norm(np.array([1.0, 3.0]), None, None)
        >>> (n.vmin, n.vmax, float(n(2.0)))
        (1.0, 3.0, 0.5)
    """
    colors = import_optional("matplotlib.colors", "viz")
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    low = float(vmin) if vmin is not None else (float(finite.min()) if finite.size else 0.0)
    high = float(vmax) if vmax is not None else (float(finite.max()) if finite.size else 1.0)
    if not high > low:
        high = low + 1.0
    if scale == "log":
        return colors.SymLogNorm(linthresh=1.0, vmin=low, vmax=high)
    if scale != "linear":
        raise GraphadInputError(
            f"Could not resolve '{scale}' among choices ['linear', 'log']", field="scale"
        )
    return colors.Normalize(vmin=low, vmax=high)


def as_array(values: Any, name: str, ndim: int | None = None) -> np.ndarray:
    """Tensors, lists, Series and arrays -> float64 ``np.ndarray``, checking ``ndim``.

    Example:
        >>> as_array(torch.tensor([[1, 2]]), "scores", 2).tolist()
        [[1.0, 2.0]]
    """
    if torch.is_tensor(values):
        array = values.detach().cpu().double().numpy()
    else:
        try:
            array = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise GraphadInputError(
                "not numeric", field=name, expected="numbers", found=type(values).__name__
            ) from error
    if ndim is not None and array.ndim != ndim:
        raise GraphadInputError(
            f"'{name}' has the wrong number of dimensions",
            field=name,
            expected=f"{ndim} dimensions",
            found=f"{array.ndim} dimensions",
        )
    return array


def score_map(
    scores: Mapping[str, float] | Sequence[float] | np.ndarray | torch.Tensor | None,
    nodes: Sequence[str],
    node_names: Sequence[str] | None = None,
) -> dict[str, float]:
    """Scores as ``{node: score}`` for the ``nodes`` to draw (NaN where unknown).

    Args:
        scores: A mapping node -> score, or a vector aligned with ``node_names``
            (or with ``nodes`` when ``node_names`` is not given), or ``None``.
        nodes: The nodes that will be drawn.
        node_names: Names of the entries of a score vector.

    Returns:
        A dict with one float per node of ``nodes``.

    Example:
        >>> score_map([0.5, 2.0], ["b", "a"], node_names=["a", "b"])
        {'b': 2.0, 'a': 0.5}
    """
    if scores is None:
        return {n: float("nan") for n in nodes}
    if isinstance(scores, Mapping):
        return {n: float(scores.get(n, float("nan"))) for n in nodes}
    vector = as_array(scores, "scores", 1)
    names = list(node_names) if node_names is not None else list(nodes)
    if len(names) != vector.shape[0]:
        raise GraphadInputError(
            "scores and node names differ in length",
            field="scores",
            expected=f"{len(names)} scores",
            found=vector.shape[0],
        )
    lookup = dict(zip(names, vector.tolist(), strict=False))
    return {n: float(lookup.get(n, float("nan"))) for n in nodes}


def time_axis(times: Any, count: int) -> tuple[np.ndarray, bool]:
    """Positions of ``count`` points on a time axis.

    Epoch nanoseconds become ``datetime64[ns]`` (drawn as clock times); anything else
    (step indices) stays numeric. ``None`` gives ``0 .. count - 1``.

    Args:
        times: ``[count]`` times or ``None``.
        count: Expected length.

    Returns:
        ``(positions, is_datetime)``.

    Example:
        >>> time_axis(None, 3)[0].tolist(), time_axis([10**18], 1)[1]
        ([0, 1, 2], True)
    """
    if times is None:
        return np.arange(count), False
    raw = times.detach().cpu().numpy() if torch.is_tensor(times) else np.asarray(times)
    if raw.shape != (count,):
        raise GraphadInputError(
            "times do not match the scores",
            field="times",
            expected=f"{count} times",
            found=f"shape {raw.shape}",
        )
    if np.issubdtype(raw.dtype, np.datetime64):
        return raw.astype("datetime64[ns]"), True
    if raw.size and np.issubdtype(raw.dtype, np.integer) and raw.min() > _EPOCH_NS:
        return raw.astype("datetime64[ns]"), True
    return raw.astype(np.float64), False


def as_time_value(value: Any, is_datetime: bool) -> Any:
    """One time (ns int, datetime64, or step) in the units of a :func:`time_axis`."""
    if value is None:
        return None
    if is_datetime:
        if isinstance(value, (np.datetime64,)):
            return value.astype("datetime64[ns]")
        return np.datetime64(int(value), "ns")
    return float(value)


def _common_affix(names: list[str], suffix: bool) -> str:
    """The longest prefix (or suffix) shared by at least half of the names, and by at
    least three of them unless it ends at a separator; ``""`` if shorter than 3.
    """
    texts = [n[::-1] if suffix else n for n in names]
    best = ""
    for length in range(1, max(len(t) for t in texts)):
        counts: dict[str, int] = {}
        for t in texts:
            if len(t) > length:
                counts[t[:length]] = counts.get(t[:length], 0) + 1
        if not counts:
            break
        affix, count = max(counts.items(), key=lambda kv: kv[1])
        if count < 2 or count * 2 < len(texts):
            break
        if count >= 3 or affix[-1] in "-_.:/ ":
            best = affix
    if len(best) < 3:
        return ""
    return best[::-1] if suffix else best


def short_labels(names: Sequence[str], max_len: int = 12) -> dict[str, str]:
    """Short node labels for small pictures: drop an affix most names share, then cut.

    A prefix/suffix shared by at least half of the names (e.g. ``"ts-"`` and
    ``"-service"``; by at least three names unless it ends at a separator) is removed
    where something remains; labels longer than ``max_len`` end with an ellipsis.

    Args:
        names: Node names.
        max_len: Longest label.

    Returns:
        ``{name: label}``.

    Example:
        >>> short_labels(["cartservice", "adservice", "emailservice", "frontend"])
        {'cartservice': 'cart', 'adservice': 'ad', 'emailservice': 'email', 'frontend': 'frontend'}
        >>> short_labels(["cache", "authservice", "userservice", "orderservice"])["cache"]
        'cache'
        >>> short_labels(["ts-order-service", "ts-travel-plan-service"], 8)
        {'ts-order-service': 'order', 'ts-travel-plan-service': 'travel-…'}
    """
    names = [str(n) for n in names]
    if len(names) < 2:
        return {n: n if len(n) <= max_len else n[: max_len - 1] + "…" for n in names}
    prefix = _common_affix(names, suffix=False)
    suffix = _common_affix(names, suffix=True)
    out = {}
    for name in names:
        label = name
        if prefix and label.startswith(prefix) and len(label) > len(prefix):
            label = label[len(prefix) :]
        if suffix and label.endswith(suffix) and len(label) > len(suffix):
            label = label[: -len(suffix)]
        out[name] = label if len(label) <= max_len else label[: max_len - 1] + "…"
    return out


def nice_ticks(vmin: float, vmax: float, scale: str = "linear", most: int = 7) -> list[float]:
    """Colour-bar ticks at round values inside ``[vmin, vmax]``.

    Linear scales get steps of 1, 2 or 5 x 10^k; symmetric-log scales get 0 and
    1, 2, 5, 10, 20, 50, ... (thinned to at most ``most``), and their negatives.

    Example:
        >>> nice_ticks(0.0, 1.0)
        [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
        >>> nice_ticks(2.0, 60.0, "log")
        [2.0, 5.0, 10.0, 20.0, 50.0]
        >>> nice_ticks(0.0, 3000.0, "log")
        [0.0, 1.0, 10.0, 100.0, 1000.0]
    """
    low, high = float(vmin), float(vmax)
    if not np.isfinite(low) or not np.isfinite(high) or high <= low:
        return [low] if np.isfinite(low) else []
    if scale != "log":
        raw = (high - low) / max(most - 1, 1)
        power = 10.0 ** np.floor(np.log10(raw))
        step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
        first = np.ceil(low / step - 1e-9) * step
        ticks = np.arange(first, high + step * 1e-9, step)
        return [float(round(t, 12)) + 0.0 for t in ticks]
    top = max(abs(low), abs(high))
    decades = range(0, int(np.floor(np.log10(max(top, 1.0)))) + 1)
    for mantissas in ((1, 2, 5), (1, 3), (1,)):
        magnitudes = [m * 10.0**d for d in decades for m in mantissas]
        values = sorted({0.0, *magnitudes, *(-v for v in magnitudes)})
        ticks = [v for v in values if low - 1e-12 <= v <= high + 1e-12]
        if len(ticks) <= most:
            return ticks
    step = int(np.ceil(len(ticks) / most))
    return ticks[::step]


def add_colorbar(fig: Any, mappable: Any, label: str, wrap: int = 34, **kwargs: Any) -> Any:
    """A colour bar with round-valued ticks written as plain numbers.

    The label says what the colour is; ``(log scale)`` is added for a symmetric-log
    norm, and a long label is wrapped at ``wrap`` characters so that it fits a short bar.

    Args:
        fig: The figure.
        mappable: Anything with ``norm`` and ``cmap`` (a ``ScalarMappable``).
        label: What the colour shows, e.g. ``"node anomaly score"``.
        wrap: Longest label line, in characters (about 11 per inch of bar).
        **kwargs: Passed to ``fig.colorbar`` (``ax``, ``cax``, ``shrink``...).

    Returns:
        The colour bar.
    """
    import textwrap

    colors = import_optional("matplotlib.colors", "viz")
    norm = mappable.norm
    log = isinstance(norm, colors.SymLogNorm)
    text = textwrap.fill(label + (" (log scale)" if log else ""), max(int(wrap), 12))
    bar = fig.colorbar(mappable, label=text, **kwargs)
    ticks = nice_ticks(norm.vmin, norm.vmax, "log" if log else "linear")
    if ticks:
        bar.set_ticks(ticks, labels=[f"{t:g}" for t in ticks])
    bar.ax.minorticks_off()
    return bar


def clock(value: Any, seconds: bool = False) -> str:
    """``HH:MM`` (or ``HH:MM:SS``) UTC of an epoch-ns time or ``datetime64``.

    Example:
        >>> clock(1661269663000000000), clock(1661269663000000000, seconds=True)
        ('15:47', '15:47:43')
    """
    stamp = np.datetime64(value, "ns") if not isinstance(value, np.datetime64) else value
    text = str(stamp.astype("datetime64[s]"))[11:19]
    return text if seconds else text[:5]


def date_text(positions: np.ndarray) -> str:
    """The UTC date(s) of datetime positions, for a title: ``2022-08-23 UTC``.

    Example:
        >>> date_text(np.array([10**18, 10**18 + 86_400 * 10**9], dtype="datetime64[ns]"))
        '2001-09-09 - 2001-09-10 UTC'
    """
    days = np.asarray(positions).astype("datetime64[D]")
    first, last = str(days.min()), str(days.max())
    return f"{first} UTC" if first == last else f"{first} - {last} UTC"


def format_time_axis(ax: Any, positions: np.ndarray, is_datetime: bool) -> str:
    """Clock-time ticks (``HH:MM``; ``HH:MM:SS`` under 3 minutes) on a datetime x axis.

    Returns:
        The date text to put in the title (``""`` for a numeric axis).
    """
    if not is_datetime or not len(positions):
        return ""
    from matplotlib.dates import AutoDateLocator, DateFormatter

    values = np.asarray(positions).astype("datetime64[ns]").astype(np.int64)
    short = values.max() - values.min() < 180 * 10**9
    ax.xaxis.set_major_locator(AutoDateLocator(minticks=3, maxticks=8))
    ax.xaxis.set_major_formatter(DateFormatter("%H:%M:%S" if short else "%H:%M"))
    return date_text(positions)


def truth_handle() -> Any:
    """The legend entry of the ring drawn around the true root cause."""
    from matplotlib.lines import Line2D

    return Line2D(
        [],
        [],
        linestyle="none",
        marker="o",
        markersize=11,
        markerfacecolor="none",
        markeredgecolor="tab:green",
        markeredgewidth=2.2,
        label="true root cause",
    )
