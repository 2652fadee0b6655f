"""Small heads on top of node embeddings: projection (for contrastive losses), forecast,
and the forecast of a node from its graph neighbours.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ProjectionHead", "ForecastHead", "NeighbourForecast"]


class ProjectionHead(nn.Module):
    r"""SimCLR projection ``g(h) = W_2 ReLU(W_1 h)``; contrastive losses act on ``g(h)``.

    Args:
        in_channels: Embedding size.
        hidden_channels: Hidden width.
        out_channels: Projection size.

    Shapes:
        - **input:** ``[..., in]``
        - **output:** ``[..., out]``

    Example:
        >>> import torch
        >>> ProjectionHead(8, 16, 4)(torch.zeros(3, 8)).shape
        torch.Size([3, 4])

    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels
        self.lin1 = nn.Linear(in_channels, hidden_channels)
        self.lin2 = nn.Linear(hidden_channels, out_channels)

    def reset_parameters(self) -> None:
        """Re-initialise both layers."""
        self.lin1.reset_parameters()
        self.lin2.reset_parameters()

    def forward(self, h: Tensor) -> Tensor:
        """Project."""
        return self.lin2(F.relu(self.lin1(h)))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, {self.hidden_channels}, "
            f"{self.out_channels})"
        )


class ForecastHead(nn.Module):
    r"""Predict a node's next ``horizon`` steps of ``F`` features from its embedding.

    .. math::
        \hat{x}_{i} = W_2\,\mathrm{ReLU}(W_1 z_i) \in R^{horizon \times F}

    Args:
        in_channels: Embedding size.
        hidden_channels: Hidden width.
        num_features: Features per step ``F``.
        horizon: Steps predicted (default ``1``).

    Shapes:
        - **input:** ``[M, in]``
        - **output:** ``[M, horizon, F]``

    Example:
        >>> import torch
        >>> ForecastHead(8, 16, 3, horizon=2)(torch.zeros(5, 8)).shape
        torch.Size([5, 2, 3])

    """

    def __init__(
        self, in_channels: int, hidden_channels: int, num_features: int, horizon: int = 1
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.num_features = num_features
        self.horizon = horizon
        self.mlp = ProjectionHead(in_channels, hidden_channels, horizon * num_features)

    def reset_parameters(self) -> None:
        """Re-initialise the MLP."""
        self.mlp.reset_parameters()

    def forward(self, z: Tensor) -> Tensor:
        """Forecast ``[M, horizon, F]``."""
        return self.mlp(z).view(*z.shape[:-1], self.horizon, self.num_features)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, {self.num_features}, "
            f"horizon={self.horizon})"
        )


class NeighbourForecast(nn.Module):
    r"""Predict each node's next step from its graph neighbours only (never from itself).

    .. math::
        m_i = \sum_{j \ne i} \tilde A_{ij} h_j, \qquad
        \hat{x}_i = \mathrm{MLP}([m_i ; e_i]) \in R^{F}

    with ``Ã`` the adjacency without self-loops, renormalised so each row sums to 1, and
    ``e_i`` a learned embedding of node ``i`` (the MLP is shared; ``e_i`` tells it *which*
    node's value to read from the neighbours' states). A node whose value its learned
    neighbours no longer predict scores high: a broken relation, not only an unusual
    value.

    Args:
        in_channels: Size of the node states ``h``.
        num_nodes: ``N`` (nodes per graph).
        num_features: Features per step ``F``.
        hidden_channels: MLP width.

    Shapes:
        - **input:** ``h [B * N, d]``, ``edge_index [2, E]`` (edge ``j -> i``),
          ``edge_weight [E]``
        - **output:** ``[B * N, F]``

    Example:
        >>> import torch
        >>> head = NeighbourForecast(4, num_nodes=3, num_features=2)
        >>> ei = torch.tensor([[0, 1, 2, 0], [1, 0, 0, 0]])
        >>> head(torch.randn(3, 4), ei, torch.ones(4)).shape
        torch.Size([3, 2])

    """

    def __init__(
        self, in_channels: int, num_nodes: int, num_features: int, hidden_channels: int = 32
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.num_nodes = num_nodes
        self.num_features = num_features
        self.node_embedding = nn.Embedding(num_nodes, in_channels)
        self.mlp = ProjectionHead(2 * in_channels, hidden_channels, num_features)

    def forward(self, h: Tensor, edge_index: Tensor, edge_weight: Tensor) -> Tensor:
        """Neighbour forecast ``[B * N, F]``."""
        src, dst = edge_index
        keep = src != dst
        src, dst, w = src[keep], dst[keep], edge_weight[keep].to(h.dtype)
        total = h.shape[0]
        norm = torch.zeros(total, dtype=h.dtype, device=h.device).index_add_(0, dst, w)
        message = torch.zeros_like(h).index_add_(0, dst, w[:, None] * h[src])
        message = message / norm.clamp_min(1e-12)[:, None]
        ids = torch.arange(total, device=h.device) % self.num_nodes
        return self.mlp(torch.cat([message, self.node_embedding(ids)], -1))

    def forward_dense(self, h: Tensor, adjacency: Tensor) -> Tensor:
        """The same forecast from a dense adjacency: ``h [B, N, d]``, ``adjacency
        [B, N, N]`` (row ``i`` holds ``A_i·``) -> ``[B, N, F]``.
        """
        n = h.shape[1]
        eye = torch.eye(n, dtype=torch.bool, device=h.device)
        weights = adjacency.to(h.dtype).masked_fill(eye, 0.0)
        weights = weights / weights.sum(-1, keepdim=True).clamp_min(1e-12)
        ids = torch.arange(n, device=h.device)
        own = self.node_embedding(ids).expand(h.shape[0], -1, -1)
        return self.mlp(torch.cat([weights @ h, own], -1))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, num_nodes={self.num_nodes}, "
            f"num_features={self.num_features})"
        )
