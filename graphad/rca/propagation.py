"""Propagation: personalised PageRank, the dependency graph of a case, explaining paths.

Anomalies spread from a callee to its callers; a random walk on the call graph (caller ->
callee, MonitorRank / MicroRCA style) finds the node the anomaly came from. Edge weights
(e.g. a learned adjacency's) are kept from the graph to the walk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from graphad.exceptions import ConvergenceError, GraphadInputError
from graphad.utils import resolve

if TYPE_CHECKING:
    from graphad.rca.view import CaseView

__all__ = ["personalized_pagerank", "graph_of", "propagation_scores", "explain_paths"]


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


def graph_of(view: CaseView, graph=None, node_rule: str | None = None) -> nx.DiGraph:
    """The dependency graph of a view: argument > case call graph > spans > windows > none.

    Args:
        view: The case view (its ``nodes`` name the ids of an ``edge_index``).
        graph: ``nx.DiGraph`` caller -> callee over node names (its ``weight`` edge
            attributes are kept), an ``edge_index`` ``[2, E]`` over node ids, or a pair
            ``(edge_index, edge_weight)`` (e.g. a learned adjacency): the weights become
            the edges' ``weight`` (duplicate edges add up).
        node_rule: The rule that named ``view.nodes`` (``None``: the view's
            ``node_rule``); call edges read from the spans name their nodes with it.

    Returns:
        Caller -> callee graph over node names.
    """
    if graph is not None:
        if isinstance(graph, nx.DiGraph):
            return graph
        edge_index, weight = graph if isinstance(graph, tuple) else (graph, None)
        ei = np.asarray(edge_index.detach().cpu() if torch.is_tensor(edge_index) else edge_index)
        ei = ei.reshape(2, -1)
        if weight is None:
            w = np.ones(ei.shape[1])
        else:
            w = np.asarray(weight.detach().cpu() if torch.is_tensor(weight) else weight, float)
            w = w.reshape(-1)
        if len(w) != ei.shape[1]:
            raise GraphadInputError(
                "one weight per edge is needed",
                field="graph",
                expected=f"{ei.shape[1]} edge weights",
                found=len(w),
            )
        g = nx.DiGraph()
        g.add_nodes_from(view.nodes)
        for (a, b), value in zip(ei.T.tolist(), w.tolist(), strict=True):
            u, v = view.nodes[a], view.nodes[b]
            previous = g[u][v]["weight"] if g.has_edge(u, v) else 0.0
            g.add_edge(u, v, weight=previous + float(value))
        return g
    if view.graph.number_of_edges():
        return view.graph
    if len(view.spans):
        table = view.span_table(node_rule)
        parents = table["parent_node"].to_numpy(dtype=object)
        nodes = table["node"].to_numpy(dtype=object)
        calls = (parents != "") & (parents != nodes)
        g = nx.DiGraph()
        g.add_edges_from(set(zip(parents[calls], nodes[calls], strict=True)))
        return g
    return view.graph


def propagation_scores(
    scores: pd.Series,
    graph: nx.DiGraph,
    *,
    alpha: float = 0.85,
    rho: float = 0.2,
    implementation: str = "scipy",
) -> pd.Series:
    r"""Propagation-aware re-ranking by a random walk on the call graph.

    Anomalies spread from a callee to its callers, so the walk goes against that
    direction (the reversed anomaly-propagation graph: caller -> callee), MonitorRank /
    MicroRCA style. For a call ``u -> v`` the walker moves to ``v`` with weight
    :math:`s_v`, back to ``u`` from ``v`` with weight :math:`\rho s_u`, and stays at
    ``u`` with weight :math:`\max(0, s_u - \max_{v} s_v)` -- a node whose callees are
    normal keeps the walker. The walk restarts in proportion to the scores
    (personalised PageRank, :func:`personalized_pagerank`).

    Args:
        scores: Non-negative node scores (the personalisation).
        graph: Caller -> callee graph over (a superset or subset of) the nodes; edge
            attribute ``weight`` (default 1) scales the moves along an edge.
        alpha: Damping.
        rho: Weight of the backward (callee -> caller) moves.
        implementation: ``"scipy"`` or ``"torch"``.

    Returns:
        Stationary probabilities, sorted best first.

    Example:
        >>> g = nx.DiGraph([("web", "api"), ("api", "db")])
        >>> s = pd.Series({"web": 0.9, "api": 0.6, "db": 0.05})
        >>> propagation_scores(s, g).index[0]
        'api'
    """
    s = scores.astype(float).clip(lower=0.0).fillna(0.0)
    nodes = list(s.index)
    pos = {n: i for i, n in enumerate(nodes)}
    edges = [
        (pos[u], pos[v], float(w))
        for u, v, w in graph.edges(data="weight", default=1.0)
        if u in pos and v in pos and u != v
    ]
    values = s.to_numpy()
    src, dst, weight = [], [], []
    best_callee = np.zeros(len(nodes))
    for u, v, w in edges:
        src += [u, v]
        dst += [v, u]
        weight += [w * values[v], rho * w * values[u]]
        best_callee[u] = max(best_callee[u], values[v])
    for i in range(len(nodes)):
        src.append(i)
        dst.append(i)
        weight.append(max(0.0, values[i] - best_callee[i]))
    if values.sum() <= 0:
        return s.sort_values(ascending=False, kind="stable")
    rank = personalized_pagerank(
        np.array([src, dst], dtype=np.int64).reshape(2, -1),
        np.array(weight),
        values + 1e-12,
        alpha=alpha,
        num_nodes=len(nodes),
        implementation=implementation,
    )
    return pd.Series(rank, index=nodes).sort_values(ascending=False, kind="stable")


def explain_paths(
    scores: pd.Series,
    graph: nx.DiGraph,
    *,
    top: int = 3,
    max_depth: int = 3,
    max_paths: int = 5,
) -> dict[str, list[list[str]]]:
    """Propagation paths that explain the top candidates.

    From a candidate, an anomaly travels to its callers; a path follows callers
    (caller <- callee edges, reversed) through nodes that scored above the median, and is
    kept when it ends at such a node.

    Args:
        scores: Ranking scores (best first or not).
        graph: Caller -> callee graph.
        top: Number of candidates explained.
        max_depth: Longest path (edges).
        max_paths: Paths kept per candidate, shortest first.

    Returns:
        ``{candidate: [[candidate, caller, caller's caller, ...], ...]}``.

    Example:
        >>> g = nx.DiGraph([("web", "api"), ("api", "db")])
        >>> s = pd.Series({"db": 3.0, "api": 2.0, "web": 1.5, "x": 0.0, "y": 0.0, "z": 0.0})
        >>> explain_paths(s, g)["db"]
        [['db', 'api'], ['db', 'api', 'web']]
    """
    ranked = scores.sort_values(ascending=False, kind="stable")
    level = float(ranked.median())
    hot = {n for n, v in ranked.items() if v > level}
    out: dict[str, list[list[str]]] = {}
    for candidate in list(ranked.index[:top]):
        if candidate not in graph:
            continue
        found: list[list[str]] = []
        frontier = [[candidate]]
        for _ in range(max_depth):
            frontier = [
                path + [caller]
                for path in frontier
                for caller in sorted(graph.predecessors(path[-1]))
                if caller in hot and caller not in path
            ]
            found.extend(frontier)
        out[str(candidate)] = [list(map(str, p)) for p in found[:max_paths]]
    return out
