r"""Temporal encoders: per-step embedding and a multi-scale encoder of node series.

A node's window ``x_i ∈ R^{T×F}`` becomes one vector ``h_i ∈ R^d``: each step is embedded
(``h_t = ReLU(W_e x_t + b_e)``, CRL-BSAD eq. 1), the sequence is average-pooled at several
time scales (end-aligned, so the newest step stays in the newest bucket), each scale is
encoded by a shared temporal convolution with a mean + last-step readout, and the scales
are fused by a linear layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

from graphad.exceptions import GraphadInputError

__all__ = ["StepEmbedding", "MultiScaleTemporalEncoder", "end_aligned_pool"]


def end_aligned_pool(x: Tensor, scale: int) -> Tensor:
    """Average-pool the time axis in buckets of ``scale`` steps, aligned to the last step.

    The first ``T mod scale`` steps are dropped so that the last bucket ends at the last
    step; when ``T < scale`` the whole sequence becomes one bucket.

    Args:
        x: ``[M, T, C]`` sequences.
        scale: Bucket length (``1`` returns ``x``).

    Returns:
        ``[M, ceil-free T // scale, C]`` (at least one step).

    Example:
        >>> end_aligned_pool(torch.arange(5.0).view(1, 5, 1), 2).flatten().tolist()
        [1.5, 3.5]

    """
    if scale < 1:
        raise GraphadInputError(
            "scale must be positive", field="scale", expected=">= 1", found=scale
        )
    if scale == 1:
        return x
    steps = x.shape[1]
    if steps < scale:
        return x.mean(dim=1, keepdim=True)
    usable = steps - steps % scale
    tail = x[:, steps - usable :]
    return tail.reshape(x.shape[0], usable // scale, scale, x.shape[2]).mean(dim=2)


class StepEmbedding(nn.Module):
    r"""Per-step embedding ``h_t = ReLU(W_e x_t + b_e)`` (CRL-BSAD eq. 1).

    Args:
        in_channels: Features per step ``F``.
        out_channels: Embedding size ``d``.

    Shapes:
        - **input:** ``[..., T, F]``
        - **output:** ``[..., T, d]``

    Example:
        >>> StepEmbedding(3, 8)(torch.zeros(2, 5, 3)).shape
        torch.Size([2, 5, 8])

    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.lin = nn.Linear(in_channels, out_channels)

    def reset_parameters(self) -> None:
        """Re-initialise ``W_e, b_e``."""
        self.lin.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        """Embed every step."""
        return F.relu(self.lin(x))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels})"


class MultiScaleTemporalEncoder(nn.Module):
    r"""Encode each node's window at several time scales and fuse them.

    .. math::
        z^{(s)} = W_s\,\mathrm{vec}\big(\mathrm{pool}_s(\mathrm{ReLU}(W_e x + b_e))\big)
        + b_s, \qquad h = W_f\,[z^{(s_1)} \Vert \dots \Vert z^{(s_m)}] + b_f

    The step embedding ``W_e`` is shared by all scales; each scale mixes its
    ``T_s = ⌊T / s⌋`` pooled steps with its own learned filter bank ``W_s`` (a linear map
    of the flattened pooled sequence, which is several times cheaper on a CPU than a
    temporal convolution of the same reach). Pooling is end-aligned, so the newest step
    always lands in the newest bucket.

    Args:
        in_channels: Features per step ``F``.
        hidden_channels: Step-embedding width.
        out_channels: Embedding size ``d`` (default ``hidden_channels``).
        num_steps: Steps per input window ``T``.
        scales: Pooling factors (default ``(1, 2, 4)``).

    Shapes:
        - **input:** ``[M, T, F]`` (``M`` node windows)
        - **output:** ``[M, d]``; :meth:`encode_scales` gives one ``[M, d]`` per scale.

    Example:
        >>> enc = MultiScaleTemporalEncoder(2, 16, 8, num_steps=12, scales=(1, 2))
        >>> enc
        MultiScaleTemporalEncoder(2, 8, num_steps=12, scales=(1, 2))
        >>> enc(torch.randn(10, 12, 2)).shape
        torch.Size([10, 8])
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int | None = None,
        num_steps: int = 16,
        scales: Sequence[int] = (1, 2, 4),
    ) -> None:
        super().__init__()
        if not scales or any(int(s) < 1 for s in scales):
            raise GraphadInputError(
                "scales must be positive integers",
                field="scales",
                expected="e.g. (1, 2, 4)",
                found=scales,
            )
        if num_steps < 1:
            raise GraphadInputError(
                "num_steps must be positive", field="num_steps", expected=">= 1", found=num_steps
            )
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels or hidden_channels
        self.num_steps = int(num_steps)
        self.scales = tuple(int(s) for s in scales)
        self.embed = StepEmbedding(in_channels, hidden_channels)
        self.mixers = nn.ModuleList(
            nn.Linear(max(1, self.num_steps // s) * hidden_channels, self.out_channels)
            for s in self.scales
        )
        self.fuse = nn.Linear(len(self.scales) * self.out_channels, self.out_channels)

    def reset_parameters(self) -> None:
        """Re-initialise every layer."""
        self.embed.reset_parameters()
        for layer in [*self.mixers, self.fuse]:
            layer.reset_parameters()

    def encode_scales(self, x: Tensor) -> list[Tensor]:
        """One embedding per scale, each ``[M, d]``."""
        if x.dim() != 3 or x.shape[-1] != self.in_channels or x.shape[1] != self.num_steps:
            raise GraphadInputError(
                "node windows must be [M, T, F]",
                field="x",
                expected=f"T = {self.num_steps}, F = {self.in_channels}",
                found=f"shape {tuple(x.shape)}",
            )
        h = self.embed(x)
        return [
            mixer(end_aligned_pool(h, s).flatten(1))
            for s, mixer in zip(self.scales, self.mixers, strict=True)
        ]

    def fuse_scales(self, scales: list[Tensor]) -> Tensor:
        """Fuse per-scale embeddings into ``[M, d]``."""
        return self.fuse(torch.cat(scales, dim=-1))

    def forward(self, x: Tensor) -> Tensor:
        """Fused multi-scale embedding ``[M, d]``."""
        return self.fuse_scales(self.encode_scales(x))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
            f"num_steps={self.num_steps}, scales={self.scales})"
        )
