r"""UCL: multi-view augmentation (MVAS) + cross-scale contrastive discrimination (METHODS 2).

One encoder embeds every node's window at several time scales (``z^{(s_i)} = f(s_i(x))``,
a shared step embedding followed by a per-scale temporal filter bank) and fuses them into
``z_global``; when the windows
carry an observed call graph, a :class:`~graphad.nn.SpatioTemporalConv` over it adds the
neighbours (the graph perturbation of MVAS drops edges with ``dropout_edge``). Training
minimises

.. math::
    L = L_{forecast} + \lambda_c\big(L_{NT\text{-}Xent}(g(z^{v_1}), g(z^{v_2}))
        + \lambda_{cs} L_{CSCD} + \lambda_{a} L_{align}\big)

where ``v_1, v_2`` are two MVAS views of the window (time shift, frequency-band masking,
local masking, segment replacement, jitter, scaling; one drawn per node), ``L_CSCD`` makes
adjacent scales of the same node-window positives against other node-windows, and
``L_align`` pulls every scale towards ``z_global``. Scores follow the rule of
:mod:`graphad.detectors._contrastive`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch_geometric.utils import dropout_edge

from graphad.detectors._contrastive import ContrastiveDetector, scales_tuple, subset
from graphad.detectors.base import register_detector
from graphad.nn import (
    ForecastHead,
    MultiScaleTemporalEncoder,
    ProjectionHead,
    SpatioTemporalConv,
    alignment_loss,
    cross_scale_loss,
    nt_xent,
)
from graphad.transforms.augment import random_series_view

__all__ = ["UCL", "UCLNet"]

_MVAS = ("shift", "frequency", "mask", "replace", "jitter", "scale")


def _batched_edges(edge_index: Tensor, b: int, n: int) -> Tensor:
    offsets = (torch.arange(b, device=edge_index.device) * n).repeat_interleave(edge_index.shape[1])
    return edge_index.repeat(1, b) + offsets


class UCLNet(nn.Module):
    """The UCL network: shared multi-scale encoder, optional graph layer, heads.

    Args:
        num_features: Features per node and step ``F``.
        num_steps: Context steps per window (``T - 1``).
        hidden_channels: Embedding size ``d``.
        scales: Down-sampling factors ``s_1..s_m`` (at least two).
        tau: Temperature of NT-Xent and CSCD.
        cscd_weight: ``λ_cs``.
        align_weight: ``λ_a``.
        edge_drop: Edge-dropping probability of the graph view.
        max_pairs: Node-windows per contrastive loss (a random subset).
        strength: Size of the MVAS perturbations.

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
        cscd_weight: float = 1.0,
        align_weight: float = 0.1,
        edge_drop: float = 0.2,
        max_pairs: int | None = 512,
        strength: float = 0.2,
    ) -> None:
        super().__init__()
        self.encoder = MultiScaleTemporalEncoder(
            num_features, max(4, hidden_channels // 2), hidden_channels, num_steps, scales
        )
        self.conv = SpatioTemporalConv(hidden_channels, hidden_channels)
        self.head = ForecastHead(hidden_channels, hidden_channels, num_features)
        self.proj = ProjectionHead(hidden_channels, hidden_channels, hidden_channels)
        self.tau = tau
        self.cscd_weight = cscd_weight
        self.align_weight = align_weight
        self.edge_drop = edge_drop
        self.max_pairs = max_pairs
        self.strength = strength

    def _scales(self, ctx: Tensor) -> list[Tensor]:
        b, n, t, f = ctx.shape
        return self.encoder.encode_scales(ctx.reshape(b * n, t, f))

    def _graph(self, z: Tensor, edge_index: Tensor, b: int, n: int) -> Tensor:
        if not edge_index.numel():
            return z
        edges = _batched_edges(edge_index, b, n)
        if self.training and self.edge_drop > 0:
            edges, _ = dropout_edge(edges, p=self.edge_drop, training=True)
        return self.conv(z, edges)

    def embed(self, ctx: Tensor, edge_index: Tensor) -> Tensor:
        """Node embeddings ``[B, N, d]`` of context windows ``[B, N, T, F]``."""
        b, n = ctx.shape[:2]
        z = self.encoder.fuse_scales(self._scales(ctx))
        return self._graph(z, edge_index, b, n).view(b, n, -1)

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
        """NT-Xent between two MVAS views + CSCD + alignment."""
        b, n = ctx.shape[:2]
        pick = subset(generator, b * n, self.max_pairs, ctx.device)
        loss = ctx.new_zeros(())
        projected = []
        for _ in range(2):
            view = random_series_view(ctx, generator, kinds=_MVAS, strength=self.strength)
            scales = self._scales(view)
            fused = self.encoder.fuse_scales(scales)
            g = self._graph(fused, edge_index, b, n)
            if pick is not None:
                scales, fused, g = [s[pick] for s in scales], fused[pick], g[pick]
            projected.append(self.proj(g))
            loss = loss + 0.5 * (
                self.cscd_weight * cross_scale_loss(scales, self.tau)
                + self.align_weight * alignment_loss(scales, fused)
            )
        return loss + nt_xent(projected[0], projected[1], self.tau)


@register_detector
class UCL(ContrastiveDetector):
    """UCL detector: MVAS + CSCD contrastive encoder + forecast/neighbour score.

    Args:
        window_size: Steps per window when cutting a plain series (default ``16``).
        hidden_channels: Embedding size.
        scales: Down-sampling factors (at least two).
        epochs: Training epochs.
        batch_size: Windows per step.
        max_windows: Training windows drawn per epoch (``None``: all; consecutive
            windows overlap almost entirely, so a sample per epoch loses little).
        lr: Adam learning rate.
        weight_decay: Adam weight decay.
        tau: Temperature of NT-Xent and CSCD.
        cscd_weight: Weight of the cross-scale loss.
        align_weight: Weight of the alignment loss.
        edge_drop: Edge-dropping probability of the graph view.
        strength: Size of the MVAS perturbations.
        use_graph: Use the windows' observed edges.
        contrastive_weight: Weight of all contrastive terms (0 ablates them).
        max_pairs: Node-windows per contrastive loss.
        scoring: Parts of the node scores, a subset of ``("forecast", "knn")``.
        window_scoring: Parts of the window scores (``None``: those of ``scoring``;
            parts not in ``scoring`` are ignored).
        knn_space: ``"both"``, ``"embedding"`` or ``"values"``.
        embedding_weight: Weight of the embedding block in the node states.
        knn_steps: Newest steps of each node in the node states (``L``).
        n_neighbors: ``k`` of the neighbour part.
        memory_size: Training windows kept for the neighbour part.
        normalize: ``"global"`` or ``"node"`` normalisation of the parts.
        window_reduce: ``"sum"`` or ``"max"`` of node scores.
        scaler: Input scaling, ``"minmax"`` or ``"robust"``.
        clip: Clip scaled inputs to ``±clip``.
        eps: Floor of the input scale.
        contamination: Share of anomalies for the quantile threshold.
        threshold: ``"quantile"`` or ``"pot"``.
        random_state: Seed.
        device: ``"auto"`` (CUDA with bfloat16 autocast when present), ``"cpu"``, ...
        num_threads: torch CPU threads while fitting/scoring (``None``: unchanged).
        verbose: Show a progress bar.

    Example:
        >>> import numpy as np
        >>> series = np.sin(np.arange(300)[:, None] / 5 + np.arange(3))
        >>> det = UCL(window_size=8, epochs=1, random_state=0).fit(series)
        >>> det.score_windows(series).shape
        torch.Size([293])
    """

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
        cscd_weight: float = 1.0,
        align_weight: float = 0.1,
        edge_drop: float = 0.2,
        strength: float = 0.2,
        use_graph: bool = True,
        contrastive_weight: float = 1.0,
        max_pairs: int | None = 512,
        scoring: Sequence[str] = ("forecast", "knn"),
        window_scoring: Sequence[str] | None = ("knn",),
        knn_space: str = "both",
        embedding_weight: float = 0.5,
        knn_steps: int = 5,
        n_neighbors: int = 5,
        memory_size: int = 4096,
        normalize: str = "global",
        window_reduce: str = "sum",
        scaler: str = "minmax",
        clip: float = 10.0,
        eps: float = 1e-3,
        contamination: float = 0.01,
        threshold: str = "quantile",
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
        self.cscd_weight = cscd_weight
        self.align_weight = align_weight
        self.edge_drop = edge_drop
        self.strength = strength
        self.use_graph = use_graph
        self.contrastive_weight = contrastive_weight
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
        self.random_state = random_state
        self.device = device
        self.num_threads = num_threads
        self.verbose = verbose

    def _build_model(self) -> nn.Module:
        scales = scales_tuple(self.scales)
        return UCLNet(
            self.n_features_,
            self.n_steps_ - 1,
            self.hidden_channels,
            scales,
            tau=self.tau,
            cscd_weight=self.cscd_weight,
            align_weight=self.align_weight,
            edge_drop=self.edge_drop,
            max_pairs=self.max_pairs,
            strength=self.strength,
        )
