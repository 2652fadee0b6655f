r"""GDN — Graph Deviation Network (Deng & Hooi, AAAI 2021), small and CPU-friendly.

Every node :math:`i` has a learned embedding :math:`v_i \in \mathbb{R}^d`. Its neighbours
are the ``topk`` nodes whose embeddings are most cosine-similar to its own (the learned
graph). From the window's first ``T - 1`` steps :math:`x_i` (times ``F`` features), a
graph attention layer with the embeddings inside the attention

.. math::
    g_i = v_i \oplus W x_i, \quad
    \pi_{ij} = \mathrm{LeakyReLU}(a^\top (g_i \oplus g_j)), \quad
    \alpha_{ij} = \mathrm{softmax}_{j \in \mathcal{N}(i) \cup \{i\}}(\pi_{ij}), \quad
    z_i = \mathrm{ReLU}\Big(\sum_{j} \alpha_{ij} W x_j\Big)

feeds a small MLP on :math:`z_i \circ v_i` that forecasts the window's last step
:math:`\hat s_i` (``F`` values). The deviation of node :math:`i` is
:math:`|s_i - \hat s_i|` (mean over features of the standardised values), normalised as a
robust z-score with the median and IQR of that node's errors on a held-out validation
split of the *training* windows (the paper uses test statistics; we do not). The window
score is the maximum over nodes, as in the paper.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from graphad.detectors.base import (
    BaseDetector,
    WindowBatch,
    check_is_fitted,
    register_detector,
)
from graphad.detectors.baselines import channel_stats
from graphad.exceptions import GraphadInputError
from graphad.nn.deviation import GraphDeviationLayer
from graphad.utils import resolve_device, seed_everything

__all__ = ["GDN", "GDNModel", "topk_embedding_graph"]

logger = logging.getLogger(__name__)


def topk_embedding_graph(embedding: Tensor, k: int) -> Tensor:
    """Learned graph: each node receives edges from its ``k`` most cosine-similar nodes.

    Args:
        embedding: ``[N, d]`` node embeddings.
        k: Neighbours per node (self excluded), ``1 <= k < N``.

    Returns:
        ``edge_index`` ``[2, N * k]``, source (neighbour) -> target (node).

    Example:
        >>> emb = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
        >>> topk_embedding_graph(emb, 1).tolist()
        [[1, 0, 1], [0, 1, 2]]
    """
    n = embedding.shape[0]
    unit = nn.functional.normalize(embedding, dim=-1)
    sim = unit @ unit.T
    sim = sim.masked_fill(torch.eye(n, dtype=torch.bool, device=sim.device), float("-inf"))
    neighbours = sim.topk(k, dim=1).indices  # [N, k]
    target = torch.arange(n, device=embedding.device).repeat_interleave(k)
    return torch.stack([neighbours.reshape(-1), target])


class GDNModel(nn.Module):
    """Embeddings + learned top-k graph + attention + forecasting MLP.

    Args:
        num_nodes: ``N``.
        in_channels: Input size per node (``(T - 1) * F``).
        out_channels: Forecast size per node (``F``).
        embedding_dim: Size ``d`` of node embeddings (also the attention width).
        hidden_channels: Hidden size of the output MLP.
        topk: Neighbours per node in the learned graph.

    Shapes:
        input: ``[B, N, in_channels]``; output: ``[B, N, out_channels]``.
    """

    def __init__(
        self,
        num_nodes: int,
        in_channels: int,
        out_channels: int,
        embedding_dim: int = 32,
        hidden_channels: int = 64,
        topk: int = 5,
    ) -> None:
        super().__init__()
        self.num_nodes = num_nodes
        self.topk = topk
        self.embedding = nn.Embedding(num_nodes, embedding_dim)
        nn.init.kaiming_uniform_(self.embedding.weight, a=math.sqrt(5))
        self.conv = GraphDeviationLayer(in_channels, embedding_dim, embedding_dim)
        self.norm = nn.LayerNorm(embedding_dim)
        self.out = nn.Sequential(
            nn.Linear(embedding_dim, hidden_channels),
            nn.ReLU(),
            nn.Linear(hidden_channels, out_channels),
        )

    def learned_graph(self) -> Tensor:
        """The current top-k graph ``[2, N * k]`` (source -> target)."""
        return topk_embedding_graph(self.embedding.weight.detach(), self.topk)

    def forward(self, x: Tensor) -> Tensor:
        """Forecast the next step of every node."""
        b, n, _ = x.shape
        emb = self.embedding.weight
        edge_index = (
            self.learned_graph()
            if self.topk > 0
            else torch.zeros(2, 0, dtype=torch.long, device=x.device)
        )
        offsets = (torch.arange(b, device=x.device) * n).repeat_interleave(edge_index.shape[1])
        batched = edge_index.repeat(1, b) + offsets
        z = self.conv(x.reshape(b * n, -1), emb.repeat(b, 1), batched).view(b, n, -1)
        z = self.norm(z) * emb
        return self.out(z)


@register_detector
class GDN(BaseDetector):
    """Graph Deviation Network: forecast each node from its learned neighbours.

    Args:
        embedding_dim: Node embedding size ``d``.
        hidden_channels: Hidden size of the forecasting MLP.
        topk: Neighbours per node in the learned graph (clipped to ``N - 1``).
        epochs: Training epochs.
        batch_size: Windows per optimisation step.
        lr: Adam learning rate.
        validation_split: Share of the training windows (the last ones) held out to
            estimate each node's error median / IQR (at least one window is held out).
        window_size: Steps per window for plain series (``T >= 2``; the first ``T - 1``
            steps predict the last).
        contamination: Share of training windows above ``threshold_``.
        threshold: ``"quantile"`` or ``"pot"``.
        random_state: Seed of initialisation and shuffling.
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``.
        verbose: Show a progress bar over epochs.

    Shapes:
        decision_function: ``[W, N, T, F]`` -> ``[W, N]``.
    """

    def __init__(
        self,
        embedding_dim: int = 32,
        hidden_channels: int = 64,
        topk: int = 5,
        epochs: int = 10,
        batch_size: int = 64,
        lr: float = 1e-3,
        validation_split: float = 0.2,
        window_size: int | None = 10,
        contamination: float = 0.01,
        threshold: str = "quantile",
        random_state: int | None = 0,
        device: str = "auto",
        verbose: bool = False,
    ) -> None:
        self.embedding_dim = embedding_dim
        self.hidden_channels = hidden_channels
        self.topk = topk
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.validation_split = validation_split
        self.window_size = window_size
        self.contamination = contamination
        self.threshold = threshold
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    # -- helpers ---------------------------------------------------------------------
    def _inputs(self, batch: WindowBatch) -> tuple[Tensor, Tensor]:
        """Standardised ``(history [W, N, (T-1)F], target [W, N, F])``."""
        z = (batch.x - self.center_[None, :, None, :]) / self.scale_[None, :, None, :]
        history = z[:, :, :-1].reshape(z.shape[0], z.shape[1], -1)
        return history, z[:, :, -1]

    def _build(self, num_nodes: int, steps: int, features: int) -> GDNModel:
        return GDNModel(
            num_nodes,
            (steps - 1) * features,
            features,
            int(self.embedding_dim),
            int(self.hidden_channels),
            min(int(self.topk), num_nodes - 1),
        )

    def _errors(self, batch: WindowBatch) -> Tensor:
        """Raw deviation ``|s - s_hat|`` averaged over features, ``[W, N]``."""
        history, target = self._inputs(batch)
        device = next(self.model_.parameters()).device
        self.model_.eval()
        out = []
        with torch.no_grad():
            for start in range(0, history.shape[0], 1024):
                pred = self.model_(history[start : start + 1024].to(device)).cpu()
                out.append((pred - target[start : start + 1024]).abs().mean(-1))
        return torch.cat(out)

    # -- contract --------------------------------------------------------------------
    def _fit(self, batch: WindowBatch) -> None:
        w, n, t, f = batch.x.shape
        if t < 2:
            raise GraphadInputError(
                "GDN forecasts the last step from the others",
                field="window_size",
                expected="T >= 2 steps",
                found=t,
            )
        if n < 2:
            raise GraphadInputError(
                "GDN learns a graph between nodes", field="x", expected="N >= 2 nodes", found=n
            )
        if w < 2:
            raise GraphadInputError(
                "GDN needs a validation split",
                field="windows",
                expected=">= 2 training windows",
                found=w,
            )
        generator = seed_everything(self.random_state)
        device = resolve_device(self.device)
        self.center_, self.scale_ = channel_stats(batch.x)
        history, target = self._inputs(batch)
        n_val = min(max(1, int(round(w * float(self.validation_split)))), w - 1)
        fit_idx = torch.arange(w - n_val)
        self.model_ = self._build(n, t, f).to(device)
        optimiser = torch.optim.Adam(self.model_.parameters(), lr=float(self.lr))
        self.history_: list[float] = []
        epochs = tqdm(range(int(self.epochs)), disable=not self.verbose, desc="GDN")
        for _ in epochs:
            self.model_.train()
            order = fit_idx[torch.randperm(fit_idx.numel(), generator=generator)]
            total = 0.0
            for start in range(0, order.numel(), int(self.batch_size)):
                idx = order[start : start + int(self.batch_size)]
                pred = self.model_(history[idx].to(device))
                loss = nn.functional.mse_loss(pred, target[idx].to(device))
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += loss.item() * idx.numel()
            self.history_.append(total / max(fit_idx.numel(), 1))
            logger.debug("GDN epoch loss %.5f", self.history_[-1])
        self.model_.cpu()
        val_errors = self._errors(batch)[w - n_val :]
        q = torch.quantile(
            val_errors.double(), torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64), dim=0
        )
        self.err_median_ = q[1].float()
        iqr = (q[2] - q[0]).float()
        self.err_iqr_ = torch.where(iqr > 1e-6, iqr, torch.full_like(iqr, 1e-6))
        self.model_.to(device)

    def _score_nodes(self, batch: WindowBatch) -> Tensor:
        return (self._errors(batch) - self.err_median_) / self.err_iqr_

    def learned_graph(self) -> Tensor:
        """The fitted top-k graph ``[2, N * k]`` between node ids (neighbour -> node)."""
        check_is_fitted(self, ("model_",))
        return self.model_.learned_graph().cpu()

    def _get_state(self) -> dict[str, Tensor]:
        state = {f"model.{k}": v for k, v in self.model_.state_dict().items()}
        state.update(
            center_=self.center_,
            scale_=self.scale_,
            err_median_=self.err_median_,
            err_iqr_=self.err_iqr_,
        )
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        self.center_, self.scale_ = state.pop("center_"), state.pop("scale_")
        self.err_median_, self.err_iqr_ = state.pop("err_median_"), state.pop("err_iqr_")
        self.model_ = self._build(self.n_nodes_, self.n_steps_, self.n_features_)
        self.model_.load_state_dict({k[len("model.") :]: v for k, v in state.items()})
        self.model_.to(resolve_device(self.device))
