r"""Per-node, per-feature robust normalisation of windows (median / IQR of training data).

.. math::
    \tilde{x}_{i,t,f} = \frac{x_{i,t,f} - \mathrm{median}_i f}{\max(\mathrm{IQR}_{i,f}, \epsilon)}
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from graphad.exceptions import GraphadInputError

__all__ = ["robust_stats", "robust_scale", "RobustScale"]


def robust_stats(x: Tensor, eps: float = 1e-3) -> tuple[Tensor, Tensor]:
    """Median and IQR per node and feature over all windows and steps.

    Args:
        x: ``[W, N, T, F]`` windows (or ``[S, N, F]`` samples).
        eps: Floor of the scale, so constant series do not divide by zero.

    Returns:
        ``(center, scale)``, each ``[N, F]``.

    Example:
        >>> c, s = robust_stats(torch.arange(5.0).view(5, 1, 1))
        >>> c.item(), s.item()
        (2.0, 2.0)
    """
    if x.dim() not in (3, 4):
        raise GraphadInputError(
            "expected windows [W, N, T, F] or samples [S, N, F]",
            field="x",
            expected="3 or 4 dimensions",
            found=f"{x.dim()} dimensions",
        )
    flat = x.transpose(0, 1).reshape(x.shape[1], -1, x.shape[-1]).float()  # [N, S, F]
    if flat.shape[1] > 200_000:  # quantiles of a strided subsample are enough
        flat = flat[:, :: flat.shape[1] // 100_000]
    q = torch.quantile(flat, torch.tensor([0.25, 0.5, 0.75]), dim=1)  # [3, N, F]
    return q[1], (q[2] - q[0]).clamp_min(eps)


def robust_scale(x: Tensor, center: Tensor, scale: Tensor) -> Tensor:
    """Apply ``(x - center) / scale`` with ``center, scale: [N, F]`` to ``[..., N, T, F]``.

    Example:
        >>> robust_scale(torch.ones(1, 2, 1), torch.zeros(1, 1), torch.full((1, 1), 2.0))
        tensor([[[0.5000],
                 [0.5000]]])
    """
    return (x - center.unsqueeze(-2)) / scale.unsqueeze(-2)


class RobustScale(BaseTransform):
    """Normalise ``data.x`` (``[N, T, F]``) with fixed robust statistics.

    Args:
        center: ``[N, F]`` medians (e.g. from :func:`robust_stats` of training windows).
        scale: ``[N, F]`` IQRs.

    Example:
        >>> t = RobustScale(torch.zeros(1, 1), torch.full((1, 1), 2.0))
        >>> t(Data(x=torch.ones(1, 2, 1))).x.flatten().tolist()
        [0.5, 0.5]
    """

    def __init__(self, center: Tensor, scale: Tensor) -> None:
        self.center = center
        self.scale = scale

    def forward(self, data: Data) -> Data:
        """Return a normalised copy."""
        out = copy.copy(data)
        out.x = robust_scale(data.x, self.center, self.scale)
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_nodes={self.center.shape[0]})"
