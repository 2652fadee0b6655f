r"""Contrastive and regularising losses as pure functions (METHODS.md sections 1-2).

Every function takes embeddings and returns a scalar loss (mean over instances); cosine
similarity is used throughout and ``τ`` is the temperature.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from graphad.exceptions import GraphadInputError

__all__ = [
    "info_nce",
    "nt_xent",
    "cross_scale_loss",
    "alignment_loss",
    "temporal_smoothness",
]


def _same_shape(a: Tensor, b: Tensor, name: str) -> None:
    if a.shape != b.shape or a.dim() != 2:
        raise GraphadInputError(
            "embeddings must be matching [M, d] tensors",
            field=name,
            expected=f"shape {tuple(a.shape)} (two-dimensional)",
            found=tuple(b.shape),
        )


def info_nce(
    anchor: Tensor, positive: Tensor, negatives: Tensor | None = None, tau: float = 0.1
) -> Tensor:
    r"""InfoNCE (CRL-BSAD eq. 4).

    .. math::
        \ell_i = -\log \frac{e^{s(z_i, z_i^+)/\tau}}
                 {e^{s(z_i, z_i^+)/\tau} + \sum_k e^{s(z_i, z_k^-)/\tau}}

    Args:
        anchor: ``[M, d]``.
        positive: ``[M, d]``; row ``i`` is the positive of anchor ``i``.
        negatives: ``[M, K, d]`` negatives per anchor; ``None`` uses the other rows of
            ``positive`` (in-batch negatives, ``K = M - 1``).
        tau: Temperature.

    Returns:
        Mean of ``ℓ_i``.

    Example:
        >>> a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> round(float(info_nce(a, a, tau=1.0)), 4)   # -log(e / (e + 1))
        0.3133

    """
    _same_shape(anchor, positive, "positive")
    a = F.normalize(anchor, dim=-1)
    p = F.normalize(positive, dim=-1)
    if negatives is None:
        logits = a @ p.T / tau  # [M, M], diagonal = positives
        target = torch.arange(a.shape[0], device=a.device)
        return F.cross_entropy(logits, target)
    if negatives.dim() != 3 or negatives.shape[0] != a.shape[0]:
        raise GraphadInputError(
            "negatives must be [M, K, d]",
            field="negatives",
            expected=f"[{a.shape[0]}, K, {a.shape[1]}]",
            found=tuple(negatives.shape),
        )
    n = F.normalize(negatives, dim=-1)
    pos = (a * p).sum(-1, keepdim=True)  # [M, 1]
    neg = torch.einsum("md,mkd->mk", a, n)
    logits = torch.cat([pos, neg], dim=1) / tau
    return -torch.log_softmax(logits, dim=1)[:, 0].mean()


def nt_xent(z1: Tensor, z2: Tensor, tau: float = 0.1) -> Tensor:
    r"""NT-Xent (SimCLR): InfoNCE over the ``2M`` views, every other view a negative.

    .. math::
        \ell_{i} = -\log \frac{e^{s(z_i, z_{i'})/\tau}}{\sum_{k \ne i} e^{s(z_i, z_k)/\tau}}

    averaged over all ``2M`` views, with ``i'`` the other view of instance ``i``.

    Args:
        z1: First views ``[M, d]``.
        z2: Second views ``[M, d]``.
        tau: Temperature.

    Returns:
        Scalar loss.

    Example:
        >>> z = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> round(float(nt_xent(z, z, tau=1.0)), 4)   # -log(e / (e + 1 + 1))
        0.5514

    """
    _same_shape(z1, z2, "z2")
    m = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=-1)
    logits = z @ z.T / tau
    logits = logits.masked_fill(torch.eye(2 * m, dtype=torch.bool, device=z.device), float("-inf"))
    target = torch.cat([torch.arange(m, 2 * m), torch.arange(m)]).to(z.device)
    return F.cross_entropy(logits, target)


def _check_scales(scales: Sequence[Tensor]) -> None:
    if len(scales) < 2:
        raise GraphadInputError(
            "need embeddings at two or more scales",
            field="scales",
            expected=">= 2 tensors",
            found=len(scales),
        )
    for s in scales[1:]:
        _same_shape(scales[0], s, "scales")


def cross_scale_loss(scales: Sequence[Tensor], tau: float = 0.1) -> Tensor:
    r"""CSCD cross-scale loss (UCL): adjacent scales of one instance are positives.

    .. math::
        L = \frac{1}{m-1}\sum_{i=1}^{m-1} \mathrm{InfoNCE}(z^{(s_i)}, z^{(s_{i+1})})

    with in-batch negatives (the other instances at scale ``s_{i+1}``).

    Args:
        scales: ``m >= 2`` tensors ``[M, d]``, ordered from fine to coarse.
        tau: Temperature.

    Returns:
        Scalar loss.

    Example:
        >>> a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> round(float(cross_scale_loss([a, a, a], tau=1.0)), 4)
        0.3133

    """
    _check_scales(scales)
    losses = [info_nce(scales[i], scales[i + 1], tau=tau) for i in range(len(scales) - 1)]
    return torch.stack(losses).mean()


def alignment_loss(scales: Sequence[Tensor], z_global: Tensor | None = None) -> Tensor:
    r"""CSCD global alignment: pull every scale towards the global embedding.

    .. math::
        L_{align} = \frac{1}{M}\sum_{n} \sum_i \lVert z^{(s_i)}_n - z^{global}_n \rVert^2

    Args:
        scales: ``m`` tensors ``[M, d]``.
        z_global: ``[M, d]`` aggregate ``g(z^{(s_1..s_m)})``; default: their mean.

    Returns:
        Scalar loss.

    Example:
        >>> a, b = torch.zeros(1, 2), torch.tensor([[2.0, 0.0]])
        >>> float(alignment_loss([a, b]))   # mean (1, 0): 1 + 1
        2.0

    """
    _check_scales(scales)
    stacked = torch.stack(list(scales))  # [m, M, d]
    target = stacked.mean(0) if z_global is None else z_global
    return ((stacked - target.unsqueeze(0)) ** 2).sum(dim=(0, 2)).mean()


def temporal_smoothness(z: Tensor) -> Tensor:
    r"""Temporal smoothness of consecutive representations (CRL-BSAD eq. 5).

    .. math::
        L_{smooth} = \frac{1}{T-1} \sum_{t=1}^{T-1} \lVert z_{t+1} - z_t \rVert^2

    Args:
        z: ``[T, ..., d]``: representations at ``T`` consecutive times; squared norms are
            taken over the last axis and averaged over the middle axes (e.g. nodes).

    Returns:
        Scalar loss (0 when ``T < 2``).

    Example:
        >>> float(temporal_smoothness(torch.tensor([[0.0], [1.0], [3.0]])))  # (1 + 4) / 2
        2.5

    """
    if z.shape[0] < 2:
        return z.sum() * 0.0
    diff = ((z[1:] - z[:-1]) ** 2).sum(-1)  # [T-1, ...]
    return diff.reshape(diff.shape[0], -1).mean(1).sum() / (z.shape[0] - 1)
