"""Small heads on top of node embeddings: projection (for contrastive losses), forecast."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ProjectionHead", "ForecastHead"]


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
