"""GDN's graph attention layer (Deng & Hooi, AAAI 2021): node embeddings in the attention."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import softmax

__all__ = ["GraphDeviationLayer"]


class GraphDeviationLayer(MessagePassing):
    r"""GDN's graph attention: embeddings take part in the attention coefficients.

    .. math::
        z_i = \mathrm{ReLU}\Big(\sum_{j \in \mathcal{N}(i) \cup \{i\}}
        \alpha_{ij} W x_j\Big),\quad
        \alpha_{ij} = \mathrm{softmax}_j\,\mathrm{LeakyReLU}\big(a^\top
        (v_i \oplus W x_i \oplus v_j \oplus W x_j)\big)

    Args:
        in_channels: Input size per node.
        out_channels: Output size per node.
        embedding_dim: Size ``d`` of the node embeddings.
        negative_slope: LeakyReLU slope.

    Shapes:
        input: ``x`` ``[N, in_channels]``, ``emb`` ``[N, d]``, ``edge_index`` ``[2, E]``
        (without self-loops; they are added).
        output: ``[N, out_channels]``.

    Example:
        >>> layer = GraphDeviationLayer(4, 8, embedding_dim=3)
        >>> layer
        GraphDeviationLayer(4, 8, embedding_dim=3)
        >>> layer(torch.randn(5, 4), torch.randn(5, 3), torch.tensor([[0, 1], [1, 2]])).shape
        torch.Size([5, 8])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        embedding_dim: int,
        negative_slope: float = 0.2,
    ) -> None:
        super().__init__(aggr="add", node_dim=0)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.embedding_dim = embedding_dim
        self.negative_slope = negative_slope
        self.lin = nn.Linear(in_channels, out_channels, bias=False)
        self.att_i = nn.Parameter(torch.empty(out_channels + embedding_dim))
        self.att_j = nn.Parameter(torch.empty(out_channels + embedding_dim))
        self.bias = nn.Parameter(torch.empty(out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the weights."""
        self.lin.reset_parameters()
        bound = 1.0 / math.sqrt(self.out_channels + self.embedding_dim)
        nn.init.uniform_(self.att_i, -bound, bound)
        nn.init.uniform_(self.att_j, -bound, bound)
        nn.init.zeros_(self.bias)

    def forward(self, x: Tensor, emb: Tensor, edge_index: Tensor) -> Tensor:
        """Attend over neighbours (and self)."""
        n = x.shape[0]
        loops = torch.arange(n, device=x.device)
        edge_index = torch.cat([edge_index, torch.stack([loops, loops])], dim=1)
        h = self.lin(x)
        g = torch.cat([emb, h], dim=-1)
        return torch.relu(self.propagate(edge_index, h=h, g=g) + self.bias)

    def message(
        self,
        h_j: Tensor,
        g_i: Tensor,
        g_j: Tensor,
        index: Tensor,
        ptr: Tensor | None,
        size_i: int | None,
    ) -> Tensor:
        """Weight each neighbour's transformed input by its attention coefficient."""
        score = (g_i * self.att_i).sum(-1) + (g_j * self.att_j).sum(-1)
        alpha = softmax(nn.functional.leaky_relu(score, self.negative_slope), index, ptr, size_i)
        return alpha.unsqueeze(-1) * h_j

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
            f"embedding_dim={self.embedding_dim})"
        )
