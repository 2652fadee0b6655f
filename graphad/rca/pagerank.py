"""Personalised PageRank on a weighted directed graph (scipy.sparse or torch sparse)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
import torch

from graphad.exceptions import ConvergenceError, GraphadInputError
from graphad.utils import resolve

__all__ = ["personalized_pagerank"]


def _check_inputs(
    edge_index: torch.Tensor | np.ndarray,
    weights: torch.Tensor | np.ndarray | Sequence[float] | None,
    personalization: torch.Tensor | np.ndarray | Sequence[float] | None,
    num_nodes: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    edges = np.asarray(edge_index.detach().cpu() if torch.is_tensor(edge_index) else edge_index)
    if edges.size == 0:
        edges = edges.reshape(2, 0)
    if edges.ndim != 2 or edges.shape[0] != 2:
        raise GraphadInputError(
            "Expected 'edge_index' to be of shape [2, E]",
            field="edge_index",
            expected="[2, E]",
            found=list(edges.shape),
        )
    edges = edges.astype(np.int64)
    if num_nodes is None:
        if personalization is not None:
            num_nodes = len(np.asarray(personalization))
        else:
            num_nodes = int(edges.max()) + 1 if edges.size else 0
    if edges.size and (edges.min() < 0 or edges.max() >= num_nodes):
        raise GraphadInputError(
            "edge_index refers to a node outside [0, num_nodes)",
            field="edge_index",
            expected=f"ids in [0, {num_nodes})",
            found=f"ids in [{edges.min()}, {edges.max()}]",
        )
    if weights is None:
        w = np.ones(edges.shape[1])
    else:
        w = np.asarray(
            weights.detach().cpu() if torch.is_tensor(weights) else weights, dtype=float
        ).reshape(-1)
    if w.shape[0] != edges.shape[1]:
        raise GraphadInputError(
            "one weight per edge is needed",
            field="weights",
            expected=f"{edges.shape[1]} weights",
            found=w.shape[0],
        )
    if (w < 0).any() or not np.isfinite(w).all():
        raise GraphadInputError(
            "edge weights must be finite and non-negative",
            field="weights",
            expected=">= 0",
            found=float(w.min()),
        )
    if personalization is None:
        p = np.ones(num_nodes)
    else:
        p = np.asarray(
            personalization.detach().cpu() if torch.is_tensor(personalization) else personalization,
            dtype=float,
        ).reshape(-1)
    if p.shape[0] != num_nodes:
        raise GraphadInputError(
            "one personalisation value per node is needed",
            field="personalization",
            expected=f"{num_nodes} values",
            found=p.shape[0],
        )
    if (p < 0).any() or not np.isfinite(p).all():
        raise GraphadInputError(
            "personalisation values must be finite and non-negative",
            field="personalization",
            expected=">= 0",
            found=float(p.min()),
        )
    p = p / p.sum() if p.sum() > 0 else np.full(num_nodes, 1.0 / max(num_nodes, 1))
    return edges, w, p, num_nodes


def _scipy_power(edges, w, p, n, alpha, tol, max_iter) -> np.ndarray:
    # Transition matrix M[dst, src] = w / out_weight(src); duplicate edges are summed.
    out = np.bincount(edges[0], weights=w, minlength=n)
    keep = out[edges[0]] > 0
    values = w[keep] / out[edges[0][keep]]
    matrix = sp.csr_matrix((values, (edges[1][keep], edges[0][keep])), shape=(n, n))
    dangling = out == 0
    x = p.copy()
    for _ in range(max_iter):
        last = x
        x = alpha * (matrix @ last + last[dangling].sum() * p) + (1.0 - alpha) * p
        if np.abs(x - last).sum() < n * tol:
            return x
    raise ConvergenceError(f"personalised PageRank did not converge in {max_iter} iterations")


def _torch_power(edges, w, p, n, alpha, tol, max_iter) -> np.ndarray:
    src = torch.as_tensor(edges[0])
    dst = torch.as_tensor(edges[1])
    weight = torch.as_tensor(w, dtype=torch.float64)
    out = torch.zeros(n, dtype=torch.float64).index_add_(0, src, weight)
    keep = out[src] > 0
    values = weight[keep] / out[src[keep]]
    matrix = torch.sparse_coo_tensor(
        torch.stack([dst[keep], src[keep]]), values, (n, n), check_invariants=True
    )
    matrix = matrix.coalesce()
    dangling = out == 0
    prior = torch.as_tensor(p, dtype=torch.float64)
    x = prior.clone()
    for _ in range(max_iter):
        last = x
        spread = torch.sparse.mm(matrix, last.view(-1, 1)).view(-1)
        x = alpha * (spread + last[dangling].sum() * prior) + (1.0 - alpha) * prior
        if float((x - last).abs().sum()) < n * tol:
            return x.numpy()
    raise ConvergenceError(f"personalised PageRank did not converge in {max_iter} iterations")


_IMPLEMENTATIONS = {"scipy": _scipy_power, "torch": _torch_power}


def personalized_pagerank(
    edge_index: torch.Tensor | np.ndarray,
    weights: torch.Tensor | np.ndarray | Sequence[float] | None = None,
    personalization: torch.Tensor | np.ndarray | Sequence[float] | None = None,
    alpha: float = 0.85,
    tol: float = 1e-10,
    max_iter: int = 1000,
    *,
    num_nodes: int | None = None,
    implementation: str = "scipy",
) -> np.ndarray:
    r"""Personalised PageRank by power iteration, NetworkX semantics.

    .. math::
        \mathbf{x} \leftarrow \alpha \left(M \mathbf{x} + (\mathbf{d}^\top\mathbf{x})\,
        \mathbf{p}\right) + (1 - \alpha)\,\mathbf{p}

    with :math:`M_{ji} = w_{ij} / \sum_k w_{ik}` for an edge :math:`i \to j`, the
    normalised personalisation :math:`\mathbf{p}`, and dangling nodes :math:`\mathbf{d}`
    (no out-weight) sending their mass along :math:`\mathbf{p}`, as
    ``networkx.pagerank(G, alpha, personalization=p)`` does.

    Args:
        edge_index: ``[2, E]`` source -> target node ids.
        weights: ``[E]`` non-negative edge weights (default 1); duplicates are summed.
        personalization: ``[N]`` non-negative restart weights (default uniform); all
            zero means uniform.
        alpha: Damping (probability of following an edge), default 0.85.
        tol: Convergence when the L1 change is below ``N * tol``.
        max_iter: Iteration limit.
        num_nodes: ``N`` (default: from ``personalization`` or ``edge_index``).
        implementation: ``"scipy"`` (scipy.sparse) or ``"torch"`` (torch sparse).

    Returns:
        ``np.ndarray`` float64 ``[N]``, summing to 1.

    Raises:
        ConvergenceError: No convergence within ``max_iter`` iterations.
        GraphadInputError: Shapes or values are invalid.

    Example:
        >>> r = personalized_pagerank([[0, 1], [1, 2]], personalization=[1.0, 0.0, 0.0])
        >>> [round(float(v), 4) for v in r]
        [0.3887, 0.3304, 0.2809]
    """
    if not 0.0 <= alpha < 1.0:
        raise GraphadInputError(
            "damping out of range", field="alpha", expected="0 <= alpha < 1", found=alpha
        )
    edges, w, p, n = _check_inputs(edge_index, weights, personalization, num_nodes)
    if n == 0:
        return np.zeros(0)
    run = resolve(implementation, _IMPLEMENTATIONS, "implementation")
    return run(edges, w, p, n, float(alpha), float(tol), int(max_iter))
