r"""CRL-BSAD: contrastive representation learning with an adaptive adjacency (METHODS 1).

Each node's window is embedded step by step (``h_t = ReLU(W_e x_t + b_e)``), encoded at
several time scales and fused (``h_i``); an :class:`~graphad.nn.AdaptiveAdjacency` (row
softmax of cosine similarity over ``τ``, optionally mixed with the observed call graph)
links the nodes of the window, and a :class:`~graphad.nn.SpatioTemporalConv` gives
``z_i = σ(Σ_j A_ij W_g h_j + W_t h_i)``. Training minimises

.. math::
    L = L_{forecast} + \lambda_g L_{neighbour}
        + \lambda_c \big(L_{InfoNCE}(z, z^{+}) + \lambda_s L_{smooth}\big)

where ``L_neighbour`` is the error of predicting each node's next step from the states of
its learned neighbours only (:class:`~graphad.nn.NeighbourForecast`, self excluded), so the
adjacency has to find the nodes that explain each other; with ``z⁺`` the same node in
an augmented view of the window (jitter, scaling, local masking), in-batch negatives
(other nodes and windows), and ``L_smooth`` between each
window and its successor. Scores follow the rule of :mod:`graphad.detectors._contrastive`
(forecast error + deviation from the nearest training windows in the learned state space
+ the neighbour-forecast error, the ``"graph"`` part).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.utils import coalesce

from graphad.detectors._contrastive import ContrastiveDetector, scales_tuple, subset
from graphad.detectors.base import check_is_fitted, register_detector
from graphad.exceptions import GraphadInputError
from graphad.nn import (
    AdaptiveAdjacency,
    ForecastHead,
    MultiScaleTemporalEncoder,
    NeighbourForecast,
    ProjectionHead,
    SpatioTemporalConv,
    info_nce,
    temporal_smoothness,
)
from graphad.transforms.augment import random_series_view

__all__ = ["CRLBSAD", "CRLBSADNet"]


class CRLBSADNet(nn.Module):
    """The CRL-BSAD network: multi-scale encoder, adaptive adjacency, spatio-temporal conv.

    Args:
        num_features: Features per node and step ``F``.
        num_steps: Context steps per window (``T - 1``).
        hidden_channels: Embedding size ``d``.
        scales: Temporal pooling factors.
        tau: InfoNCE temperature.
        adjacency_tau: Temperature of the adaptive adjacency.
        top_k: Neighbours per node in the adjacency (``None``: all).
        prior_weight: Weight of the observed call graph in the adjacency.
        smooth_weight: ``λ_s``.
        max_pairs: Node-windows per contrastive loss (a random subset).
        augmentations: Series augmentations of the positive view.
        num_nodes: ``N``; builds the :class:`~graphad.nn.NeighbourForecast` head (each
            node's next step from its learned neighbours), ``None``: no such head.

    Shapes:
        - **input:** ``[B, N, T, F]``
        - **output:** ``embed -> [B, N, d]``, ``forecast -> [B, N, F]``
    """

    def __init__(
        self,
        num_features: int,
        num_steps: int,
        hidden_channels: int = 32,
        scales: Sequence[int] = (1, 2, 4),
        tau: float = 0.1,
        adjacency_tau: float = 0.5,
        top_k: int | None = None,
        prior_weight: float = 0.0,
        smooth_weight: float = 0.1,
        max_pairs: int | None = 512,
        augmentations: Sequence[str] = ("jitter", "scale", "mask"),
        num_nodes: int | None = None,
    ) -> None:
        super().__init__()
        self.encoder = MultiScaleTemporalEncoder(
            num_features, max(4, hidden_channels // 2), hidden_channels, num_steps, scales
        )
        self.adjacency = AdaptiveAdjacency(tau=adjacency_tau, k=top_k, prior_weight=prior_weight)
        self.conv = SpatioTemporalConv(hidden_channels, hidden_channels)
        self.head = ForecastHead(hidden_channels, hidden_channels, num_features)
        self.proj = ProjectionHead(hidden_channels, hidden_channels, hidden_channels)
        self.tau = tau
        self.smooth_weight = smooth_weight
        self.max_pairs = max_pairs
        self.augmentations = tuple(augmentations)
        self.neighbour = (
            NeighbourForecast(hidden_channels, num_nodes, num_features, hidden_channels)
            if num_nodes is not None
            else None
        )

    def embed(
        self, ctx: Tensor, edge_index: Tensor, with_graph: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        """Node embeddings ``z`` ``[B, N, d]`` of context windows ``[B, N, T, F]``; with
        ``with_graph`` also the neighbour forecast ``[B, N, F]`` of the next step (each
        node predicted from its learned neighbours' states, never its own).
        """
        b, n, t, f = ctx.shape
        h = self.encoder(ctx.reshape(b * n, t, f))
        if with_graph and self.neighbour is None:
            raise GraphadInputError(
                "this network was built without num_nodes: no neighbour forecast",
                field="num_nodes",
            )
        prior = edge_index if edge_index.numel() and self.adjacency.prior_weight > 0 else None
        if self.adjacency.k is None and prior is None:
            # dense rows, no call graph: batched matrix products, same values as the edges
            hb = h.view(b, n, -1)
            a = self.adjacency.dense(hb)
            z = self.conv.forward_dense(hb, a)
            return (z, self.neighbour.forward_dense(hb, a)) if with_graph else z
        ei, ew = self.adjacency(h.view(b, n, -1), prior_edge_index=prior)
        z = self.conv(h, ei, ew).view(b, n, -1)
        if not with_graph:
            return z
        return z, self.neighbour(h, ei, ew).view(b, n, -1)

    def forecast(self, z: Tensor) -> Tensor:
        """Next-step forecast ``[B, N, F]``."""
        return self.head(z)[..., 0, :]

    def contrastive_loss(
        self,
        ctx: Tensor,
        nxt: Tensor | None,
        edge_index: Tensor,
        generator: torch.Generator,
        z: Tensor,
    ) -> Tensor:
        """InfoNCE between ``z`` and an augmented view, plus temporal smoothness."""
        view = random_series_view(ctx, generator, kinds=self.augmentations)
        z_pos = self.embed(view, edge_index)
        a, p = self.proj(z).flatten(0, 1), self.proj(z_pos).flatten(0, 1)
        pick = subset(generator, a.shape[0], self.max_pairs, a.device)
        if pick is not None:
            a, p = a[pick], p[pick]
        loss = info_nce(a, p, tau=self.tau)
        if nxt is not None and self.smooth_weight > 0:
            z_next = self.embed(nxt, edge_index)
            loss = loss + self.smooth_weight * temporal_smoothness(torch.stack([z, z_next]))
        return loss


@register_detector
class CRLBSAD(ContrastiveDetector):
    r"""CRL-BSAD detector: adaptive-adjacency contrastive encoder + forecast/neighbour score.

    Args:
        window_size: Steps per window when cutting a plain series (default ``16``).
        hidden_channels: Embedding size (default ``32``).
        scales: Temporal pooling factors of the multi-scale encoder.
        epochs: Training epochs.
        batch_size: Windows per step.
        max_windows: Training windows drawn per epoch (``None``: all; consecutive
            windows overlap almost entirely, so a sample per epoch loses little).
        lr: Adam learning rate.
        weight_decay: Adam weight decay.
        tau: InfoNCE temperature.
        adjacency_tau: Temperature of the adaptive adjacency.
        top_k: Neighbours per node in the adjacency (``None``: dense rows).
        prior_weight: Weight of the observed call graph (``batch.edge_index``).
        use_graph: Use the windows' observed edges as the prior.
        smooth_weight: Weight ``λ_s`` of temporal smoothness.
        contrastive_weight: Weight ``λ_c`` of the contrastive terms (0 ablates them).
        graph_weight: Weight ``λ_g`` of the neighbour-forecast loss (each node's next
            step predicted from its learned neighbours only; 0 ablates it).
        max_pairs: Node-windows per contrastive loss.
        scoring: Parts of the node scores, a subset of ``("forecast", "knn", "graph")``
            (``"graph"``: error of the neighbour forecast).
        window_scoring: Parts of the window scores (``None``: those of ``scoring``;
            parts not in ``scoring`` are ignored).
        knn_space: Node states for the neighbour part: ``"both"`` (embedding + newest
            values), ``"embedding"`` or ``"values"``.
        embedding_weight: Weight of the embedding block in the node states.
        knn_steps: Newest steps of each node in the node states (``L``).
        n_neighbors: ``k`` of the neighbour part.
        memory_size: Training windows kept for the neighbour part.
        normalize: ``"node"`` (each part centred and scaled by each node's training
            median / IQR; the default, chosen on ASD servers 1-6, see
            ``benchmarks/RESULTS_asd.md``) or ``"global"`` (one scale per part).
        window_reduce: ``"sum"`` or ``"max"`` of node scores.
        scaler: Input scaling, ``"minmax"`` or ``"robust"``.
        clip: Clip scaled inputs to ``±clip``.
        eps: Floor of the input scale.
        contamination: Share of anomalies for the quantile threshold.
        threshold: ``"dspot"`` (default: SPOT calibrated on the training scores, updated
            over the scored stream with a drift level of the last ``drift_depth`` normal
            scores; :meth:`predict` treats its windows as a stream in order),
            ``"spot"``, ``"pot"`` or ``"quantile"``. Chosen on ASD servers 1-6 (see
            ``benchmarks/RESULTS_asd.md``).
        risk: Exceedance probability of POT / SPOT / DSPOT (default ``0.02``, chosen on
            ASD servers 1-6).
        drift_depth: DSPOT's drift window in steps (default ``288``: one day of 5-minute
            steps).
        random_state: Seed.
        device: ``"auto"`` (CUDA with bfloat16 autocast when present), ``"cpu"``, ...
        num_threads: torch CPU threads while fitting/scoring (``None``: unchanged).
        verbose: Show a progress bar.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> series = np.sin(np.arange(300)[:, None] / 5 + np.arange(4)) + \
        ...     0.05 * rng.standard_normal((300, 4))
        >>> det = CRLBSAD(window_size=8, epochs=1, random_state=0).fit(series)
        >>> det.decision_function(series).shape
        torch.Size([293, 4])
    """

    _uses_next = True
    _dense_adjacency = True

    def __init__(
        self,
        window_size: int = 16,
        hidden_channels: int = 32,
        scales: Sequence[int] = (1, 2, 4),
        epochs: int = 10,
        batch_size: int = 128,
        max_windows: int | None = 2048,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        tau: float = 0.1,
        adjacency_tau: float = 0.5,
        top_k: int | None = None,
        prior_weight: float = 0.5,
        use_graph: bool = True,
        smooth_weight: float = 0.1,
        contrastive_weight: float = 1.0,
        graph_weight: float = 1.0,
        max_pairs: int | None = 512,
        scoring: Sequence[str] = ("forecast", "knn"),
        window_scoring: Sequence[str] | None = ("knn",),
        knn_space: str = "both",
        embedding_weight: float = 0.5,
        knn_steps: int = 5,
        n_neighbors: int = 5,
        memory_size: int = 4096,
        normalize: str = "node",
        window_reduce: str = "sum",
        scaler: str = "minmax",
        clip: float = 10.0,
        eps: float = 1e-3,
        contamination: float = 0.01,
        threshold: str = "dspot",
        risk: float = 0.02,
        drift_depth: int = 288,
        random_state: int | None = 0,
        device: str = "auto",
        num_threads: int | None = 1,
        verbose: bool = False,
    ) -> None:
        self.window_size = window_size
        self.hidden_channels = hidden_channels
        self.scales = scales
        self.epochs = epochs
        self.batch_size = batch_size
        self.max_windows = max_windows
        self.lr = lr
        self.weight_decay = weight_decay
        self.tau = tau
        self.adjacency_tau = adjacency_tau
        self.top_k = top_k
        self.prior_weight = prior_weight
        self.use_graph = use_graph
        self.smooth_weight = smooth_weight
        self.contrastive_weight = contrastive_weight
        self.graph_weight = graph_weight
        self.max_pairs = max_pairs
        self.scoring = scoring
        self.window_scoring = window_scoring
        self.knn_space = knn_space
        self.embedding_weight = embedding_weight
        self.knn_steps = knn_steps
        self.n_neighbors = n_neighbors
        self.memory_size = memory_size
        self.normalize = normalize
        self.window_reduce = window_reduce
        self.scaler = scaler
        self.clip = clip
        self.eps = eps
        self.contamination = contamination
        self.threshold = threshold
        self.risk = risk
        self.drift_depth = drift_depth
        self.random_state = random_state
        self.device = device
        self.num_threads = num_threads
        self.verbose = verbose

    @torch.no_grad()
    def learned_adjacency(self, windows: Any) -> tuple[Tensor, Tensor]:
        r"""The adaptive adjacency the fitted model learned, averaged over ``windows``.

        Each window gets its own adjacency (METHODS eq. 2, recomputed per window); this
        returns their mean :math:`\bar A_{ij} = \frac{1}{W} \sum_w A^{(w)}_{ij}`, so the
        weights of each row still sum to 1 (top-k rows may spread over more than ``k``
        neighbours once averaged).

        Args:
            windows: Windows in any form :meth:`fit` accepts.

        Returns:
            ``(edge_index, edge_weight)`` in PyG's message-passing convention, as
            :class:`~graphad.nn.AdaptiveAdjacency` returns it: an edge ``j -> i`` carries
            ``A_ij``, so the weights of the edges into each node sum to 1. For a matrix
            picture with row ``i`` = node ``i``, pass ``(edge_index.flip(0), edge_weight)``
            to :func:`graphad.viz.plot_adjacency`.

        Shapes:
            ``edge_index``: ``[2, E]`` with ``E <= N * N``; ``edge_weight``: ``[E]``.
        """
        check_is_fitted(self)
        batch = self._batch(windows)
        self._check_input(batch)
        device = self._device()
        n = batch.num_nodes
        prior = self.edge_index_.to(device)
        prior = prior if prior.numel() else None
        index, weight = [], []
        for xb in self._prepare(batch.x).split(1024):
            ctx = xb[:, :, :-1].to(device)
            b, _, t, f = ctx.shape
            h = self.model_.encoder(ctx.reshape(b * n, t, f)).view(b, n, -1)
            edge_index, edge_weight = self.model_.adjacency(h, prior_edge_index=prior)
            index.append((edge_index % n).cpu())
            weight.append(edge_weight.float().cpu())
        edge_index, edge_weight = coalesce(
            torch.cat(index, 1), torch.cat(weight), num_nodes=n, reduce="sum"
        )
        return edge_index, edge_weight / batch.num_windows

    def _build_model(self) -> nn.Module:
        return CRLBSADNet(
            self.n_features_,
            self.n_steps_ - 1,
            self.hidden_channels,
            scales_tuple(self.scales),
            tau=self.tau,
            adjacency_tau=self.adjacency_tau,
            top_k=self.top_k,
            prior_weight=self.prior_weight,
            smooth_weight=self.smooth_weight,
            max_pairs=self.max_pairs,
            num_nodes=self.n_nodes_,
        )
