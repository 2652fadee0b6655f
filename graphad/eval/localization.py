"""Localisation accuracy of per-node scores against per-node ground truth."""

from __future__ import annotations

import numpy as np

from graphad.exceptions import GraphadInputError

__all__ = ["hit_rate_at_p"]


def _as_matrix(values: object, name: str) -> np.ndarray:
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if array.ndim != 2:
        raise GraphadInputError(
            f"{name} must be two-dimensional",
            field=name,
            expected="shape [T, N]",
            found=f"shape {array.shape}",
        )
    return array


def hit_rate_at_p(
    node_scores: object, node_labels: object, p: float = 1.0, steps: object | None = None
) -> float:
    """HitRate@P%: how much of the true culprit set is among the top-scored nodes.

    For every step ``t`` with a non-empty ground-truth set ``G_t`` (the nodes that
    explain the anomaly), take the ``⌊p·|G_t|⌋`` nodes with the highest scores and count
    the share of ``G_t`` among them; the result is the mean over those steps (the
    OmniAnomaly / InterFusion definition; ``p = 1.0`` is HitRate@100%, ``1.5`` is
    HitRate@150%). Nodes tied at the cut share the remaining places: the expected hit
    rate under random tie-breaking, so constant scores earn no credit from node order.

    Args:
        node_scores: ``[T, N]`` per-node anomaly scores, higher = more anomalous.
        node_labels: ``[T, N]`` bool, the node is part of the explanation at step ``t``.
        p: Size of the top list relative to ``|G_t|``; ``p > 0``.
        steps: Optional ``[T]`` bool mask restricting the evaluation to some steps
            (e.g. the detected ones).

    Returns:
        The mean hit rate in ``[0, 1]``.

    Raises:
        GraphadInputError: Shapes differ, scores are not finite, ``p <= 0``, or no
            evaluated step has a ground-truth node.

    Example:
        >>> scores = [[0.9, 0.1, 0.5, 0.2],
        ...           [0.1, 0.8, 0.7, 0.9],
        ...           [0.3, 0.3, 0.3, 0.3]]
        >>> labels = [[1, 0, 0, 1],
        ...           [0, 1, 1, 0],
        ...           [0, 0, 0, 0]]
        >>> hit_rate_at_p(scores, labels, p=1.0)    # (1/2 + 1/2) / 2
        0.5
        >>> hit_rate_at_p(scores, labels, p=1.5)    # top 3: (2/2 + 2/2) / 2
        1.0
    """
    scores = _as_matrix(node_scores, "node_scores").astype(np.float64)
    labels = _as_matrix(node_labels, "node_labels").astype(bool)
    if scores.shape != labels.shape:
        raise GraphadInputError(
            "node_scores and node_labels differ in shape",
            field="node_labels",
            expected=f"shape {scores.shape}",
            found=f"shape {labels.shape}",
        )
    if not np.isfinite(scores).all():
        row = int(np.flatnonzero(~np.isfinite(scores).all(axis=1))[0])
        raise GraphadInputError(
            "non-finite node score",
            record=row,
            field="node_scores",
            expected="finite values",
            found="NaN/inf",
        )
    if not p > 0:
        raise GraphadInputError("p must be positive", field="p", expected="p > 0", found=p)
    keep = labels.any(axis=1)
    if steps is not None:
        mask = np.asarray(steps, dtype=bool)
        if mask.shape != (scores.shape[0],):
            raise GraphadInputError(
                "steps mask has the wrong shape",
                field="steps",
                expected=f"shape ({scores.shape[0]},)",
                found=f"shape {mask.shape}",
            )
        keep &= mask
    if not keep.any():
        raise GraphadInputError(
            "no evaluated step has a ground-truth node",
            field="node_labels",
            expected="at least one True row",
            found="none",
        )
    scores, labels = scores[keep], labels[keep]
    truth = labels.sum(axis=1)
    top = np.floor(p * truth + 1e-9).astype(np.int64)
    return float(np.mean(_expected_hits(scores, labels, top) / truth))


def _expected_hits(scores: np.ndarray, labels: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Culprits among the ``top`` best per row; ties at the cut share the free slots."""
    top = np.minimum(top, scores.shape[1])
    descending = -np.sort(-scores, axis=1)
    cut = descending[np.arange(scores.shape[0]), np.maximum(top - 1, 0)][:, None]
    above, tied = scores > cut, scores == cut
    free = top - above.sum(axis=1)
    hits = (above & labels).sum(axis=1) + (tied & labels).sum(axis=1) * free / tied.sum(axis=1)
    return np.where(top > 0, hits, 0.0)
