"""Shared statistics of the evidence sources: sides, shares, shifts, edge attribution."""

from __future__ import annotations

import numpy as np
import pandas as pd

from graphad.exceptions import GraphadInputError

_EPS = 1e-9

#: Standard error of a sample median in units of the spread: sqrt(pi / 2) / sqrt(n).
MEDIAN_SE = float(np.sqrt(np.pi / 2))


def split_by_onset(
    times: np.ndarray | pd.Series,
    onset_ns: int,
    pre_ns: int | None = None,
    post_ns: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the samples before ``onset_ns`` and from it on, optionally clipped.

    Args:
        times: ``[n]`` int64 ns timestamps.
        onset_ns: The onset.
        pre_ns: Keep only the last ``pre_ns`` before the onset (``None``: all).
        post_ns: Keep only the first ``post_ns`` from the onset on (``None``: all).

    Returns:
        ``(before, after)`` boolean masks of shape ``[n]``.

    Example:
        >>> b, a = split_by_onset(np.array([0, 5, 10, 15]), 10, pre_ns=5)
        >>> b.tolist(), a.tolist()
        ([False, True, False, False], [False, False, True, True])
    """
    t = np.asarray(times, dtype=np.int64)
    before = t < onset_ns
    after = t >= onset_ns
    if pre_ns is not None:
        before &= t >= onset_ns - int(pre_ns)
    if post_ns is not None:
        after &= t < onset_ns + int(post_ns)
    return before, after


def side_codes(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """``[n]`` side of each row: 0 before, 1 after, -1 neither."""
    return np.where(before, 0, np.where(after, 1, -1))


def share_variance(pooled, n0, n1):
    """Variance of the difference of two shares (pooled share ``pooled``, sizes ``n0, n1``)."""
    return pooled * (1 - pooled) * (1 / np.maximum(n0, 1) + 1 / np.maximum(n1, 1))


def shares(c0, c1, n0, n1):
    """Shares ``c / n`` of the two sides and the variance of their difference."""
    p0 = c0 / np.maximum(n0, _EPS)
    p1 = c1 / np.maximum(n1, _EPS)
    pooled = (c0 + c1) / np.maximum(n0 + n1, _EPS)
    return p0, p1, share_variance(pooled, n0, n1)


def share_change(c0, c1, n0, n1, statistic: str):
    """Change of a share ``c / n`` between two sides (:func:`change_statistic`: z or relative)."""
    return change_statistic(*shares(c0, c1, n0, n1), statistic)


def share_rise(c0, c1, n0, n1):
    """Rise of a share ``c / n`` as a one-sided two-proportion z (0 when it fell)."""
    p0, p1, var = shares(c0, c1, n0, n1)
    return np.maximum(p1 - p0, 0.0) / np.sqrt(np.maximum(var, _EPS))


def shift_scores(
    values: pd.Series,
    keys: pd.DataFrame,
    before: np.ndarray,
    after: np.ndarray,
    min_count: int,
    floor: float,
    margin: float = 1.0,
    log: str = "log1p",
) -> pd.DataFrame:
    """Robust shift of ``log1p(values)`` per key, less ``margin`` standard errors.

    ``score = max(|median after - median before| - margin * SE, 0) / spread before``,
    where the spreads are IQR / 1.349 of each side (at least ``floor``) and ``SE =
    1.2533 * sqrt(spread0^2 / n0 + spread1^2 / n1)`` is the standard error of a
    difference of two medians (1.2533 = sqrt(pi / 2)). With ``margin=1`` a shift
    measured on few spans counts only as far as it is sure; with many spans the SE
    vanishes and the score is the plain shift.

    ``log="log"`` takes ``log(values)`` instead, for values in any unit (seconds of
    latency, say) where ``log1p`` would not be scale-free; values <= 0 are left out.

    Returns a frame with the key columns and ``score, n_before, n_after``.
    """
    frame = keys.copy()
    raw = values.to_numpy(dtype=float)
    if log == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["v"] = np.where(raw > 0, np.log(np.where(raw > 0, raw, 1.0)), np.nan)
    else:
        frame["v"] = np.log1p(np.maximum(raw, 0.0))
    frame["part"] = side_codes(before, after)
    frame = frame[(frame["part"] >= 0) & np.isfinite(frame["v"])]
    cols = list(keys.columns)
    grouped = frame.groupby(cols + ["part"], sort=False)["v"]
    stats = grouped.quantile([0.25, 0.5, 0.75]).unstack(-1)
    stats["n"] = grouped.size()
    stats = stats.unstack("part")
    if (
        stats.empty
        or 0 not in stats.columns.get_level_values(1)
        or 1 not in stats.columns.get_level_values(1)
    ):
        return pd.DataFrame(columns=cols + ["score", "n_before", "n_after"])
    n0, n1 = stats[("n", 0)].fillna(0), stats[("n", 1)].fillna(0)
    spread0, spread1 = (
        np.maximum(((stats[(0.75, p)] - stats[(0.25, p)]) / 1.349).fillna(0.0), floor)
        for p in (0, 1)
    )
    error = MEDIAN_SE * np.sqrt(spread0**2 / n0.clip(lower=1) + spread1**2 / n1.clip(lower=1))
    delta = (stats[(0.5, 1)] - stats[(0.5, 0)]).abs()
    shift = np.maximum(delta - margin * error, 0.0) / spread0
    ok = (n0 >= min_count) & (n1 >= min_count)
    out = pd.DataFrame({"score": np.where(ok, shift, 0.0), "n_before": n0, "n_after": n1})
    return out.reset_index()


def change_statistic(
    before: np.ndarray, after: np.ndarray, var: np.ndarray, statistic: str
) -> np.ndarray:
    """``|after - before|`` as a z statistic (``/ sqrt(var)``) or relative to the larger."""
    diff = np.abs(after - before)
    if statistic == "z":
        return diff / np.sqrt(np.maximum(var, _EPS))
    return diff / np.maximum(np.maximum(before, after), _EPS)


def mean_of_top(changes: pd.Series, top: int) -> pd.Series:
    """Per node (index level 0): the mean of its ``top`` largest changes."""
    if top <= 1:
        return changes.groupby(level=0).max()
    return changes.groupby(level=0).apply(
        lambda v: float(np.sort(v.to_numpy())[::-1][:top].sum() / top)
    )


def attribute_edges(edges: pd.DataFrame) -> pd.Series:
    """Split each edge's shift between its two ends, then score nodes by the median share.

    An edge ``u -> v`` whose gap shifted is explained by whichever end also shifted its
    *other* edges: the share of ``u`` is ``d * m_u / (m_u + m_v)`` where ``m_x`` is the
    median shift of the other edges of ``x`` (the median of all edges for an end without
    other edges, i.e. "as normal as the system"). A node scores the median of its shares.

    Args:
        edges: Frame ``src, dst, score`` (one row per edge, ``score >= 0``).

    Returns:
        Node scores.
    """
    shift = edges["score"].to_numpy(dtype=float)
    ends = np.stack([edges["src"].to_numpy(dtype=object), edges["dst"].to_numpy(dtype=object)])
    typical = float(np.median(shift))
    incident: dict[str, list[int]] = {}
    for i, (u, v) in enumerate(ends.T):
        incident.setdefault(u, []).append(i)
        incident.setdefault(v, []).append(i)

    def others(node: str, edge: int) -> float:
        rest = [shift[j] for j in incident[node] if j != edge]
        return float(np.median(rest)) if rest else typical

    shares: dict[str, list[float]] = {n: [] for n in incident}
    for i, (u, v) in enumerate(ends.T):
        m_u, m_v = others(u, i), others(v, i)
        w_u = m_u / (m_u + m_v) if m_u + m_v > 0 else 0.5
        shares[u].append(shift[i] * w_u)
        shares[v].append(shift[i] * (1.0 - w_u))
    return pd.Series({n: float(np.median(v)) for n, v in shares.items()}, dtype=float)


def check_attribution(attribution: str) -> None:
    """Raise :class:`GraphadInputError` unless ``attribution`` is ``"explain"`` or ``"median"``."""
    if attribution not in ("explain", "median"):
        raise GraphadInputError(
            f"Could not resolve '{attribution}' among choices ['explain', 'median']",
            field="attribution",
        )


def edge_node_scores(edges: pd.DataFrame, attribution: str) -> pd.Series:
    """Node scores from per-edge shifts (``src, dst, score``; several rows per edge allowed).

    An edge scores its largest row; ``"explain"`` splits each edge between its ends
    (:func:`attribute_edges`), ``"median"`` gives a node the median over its edges.
    """
    if not len(edges):
        return pd.Series(dtype=float)
    edges = edges.groupby(["src", "dst"], as_index=False)["score"].max()
    if attribution == "explain":
        return attribute_edges(edges)
    incident = pd.concat(
        [
            edges[["src", "score"]].rename(columns={"src": "node"}),
            edges[["dst", "score"]].rename(columns={"dst": "node"}),
        ]
    )
    return incident.groupby("node")["score"].median()


def count_sides(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns 0 (before) and 1 (after) of a count table, added when absent."""
    return frame.reindex(columns=[0, 1], fill_value=0)
