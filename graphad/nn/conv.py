r"""Spatio-temporal message passing over an (adaptive) weighted graph."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing

from graphad.utils import resolve

__all__ = ["SpatioTemporalConv"]

_ACTS: dict[str, Callable[[Tensor], Tensor]] = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "identity": lambda t: t,
    "elu": nn.functional.elu,
}


class SpatioTemporalConv(MessagePassing):
    r"""Aggregate neighbours with edge weights and add a self (temporal) channel.

    .. math::
        z_i = \sigma\Big(\sum_{j} A_{ij} W_g h_j + W_t h_i\Big)

    (CRL-BSAD eq. 3; the paper prints ``W_t + h_i``, read as ``W_t h_i``). ``A_ij`` is the
    weight of edge ``j -> i``, e.g. from :class:`~graphad.nn.AdaptiveAdjacency`; without
    weights every edge counts 1.

    Args:
        in_channels: Input size.
        out_channels: Output size.
        act: Activation ``σ`` by name (``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"elu"``,
            ``"identity"``) (default ``"relu"``).
        bias: Add a bias to the self channel (default ``True``).

    Shapes:
        - **input:** ``x [N, in]``, ``edge_index [2, E]``, ``edge_weight [E]`` (optional)
        - **output:** ``[N, out]``

    Example:
        >>> conv = SpatioTemporalConv(4, 8)
        >>> conv
        SpatioTemporalConv(4, 8, act=relu)
        >>> conv(torch.randn(3, 4), torch.tensor([[0, 1], [1, 2]])).shape
        torch.Size([3, 8])

    """

    def __init__(
        self, in_channels: int, out_channels: int, act: str = "relu", bias: bool = True
    ) -> None:
        super().__init__(aggr="add")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.act = act
        self._act = resolve(act, _ACTS, "act")
        self.lin_g = nn.Linear(in_channels, out_channels, bias=False)
        self.lin_t = nn.Linear(in_channels, out_channels, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise ``W_g`` and ``W_t``."""
        super().reset_parameters()
        self.lin_g.reset_parameters()
        self.lin_t.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        """Compute ``z``."""
        out = self.propagate(edge_index, x=self.lin_g(x), edge_weight=edge_weight)
        return self._act(out + self.lin_t(x))

    def forward_dense(self, x: Tensor, adjacency: Tensor) -> Tensor:
        """The same ``z`` from a dense adjacency: ``x [B, N, in]``, ``adjacency [B, N, N]``
        (row ``i`` holds ``A_i·``) -> ``[B, N, out]``; a batched matrix product in place of
        message passing over ``B N²`` edges.
        """
        return self._act(adjacency.to(x.dtype) @ self.lin_g(x) + self.lin_t(x))

    def message(self, x_j: Tensor, edge_weight: Tensor | None) -> Tensor:
        """Weight each neighbour message by ``A_ij``."""
        return x_j if edge_weight is None else edge_weight.view(-1, 1).to(x_j.dtype) * x_j

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}({self.in_channels}, {self.out_channels}, act={self.act})"
