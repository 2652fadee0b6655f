r"""Shared machinery of the contrastive detectors (CRL-BSAD, UCL): training and scoring.

A contrastive representation alone does not rank anomalies; these detectors turn it into
scores with an explicit rule (METHODS.md, "the scoring rule"):

1. **Input normalisation.** Every node feature is scaled to the ``[0, 1]`` range of the
   training windows (``scaler="minmax"``; ``"robust"``: median / IQR, floored so
   near-constant series do not explode) and clipped to ``±clip``. Min-max keeps a metric
   that hardly moved in training from dominating the distances when it jitters.
2. **Forecast part.** A head trained jointly with the contrastive loss predicts the last
   step of every node from the window's first ``T - 1`` steps (the encoder never sees the
   step it predicts). Part value: mean absolute error over the node's features.
3. **Neighbour part.** Each window is described by its node states
   ``s_i = [w z_i ; x_{i,T-L+1..T}]`` (the learned node embedding of the context, scaled to
   unit RMS times ``embedding_weight``, and the node's ``L = knn_steps`` newest values). The ``k``
   nearest training windows are found jointly over all nodes (squared Euclidean distance
   summed over nodes) in a memory of up to ``memory_size`` training windows, and the
   node's part value is its deviation ``‖s_i − mean_nn s_i‖`` from those neighbours: it
   is large when a node's state was never seen *together with the states of the others*.
   Training values use a temporal exclusion zone (no neighbour within ``window_size``
   steps of the query), so they are not optimistic.
4. **Graph part** (networks with an adaptive adjacency, CRL-BSAD): mean absolute error
   of the node's next step predicted from its *learned neighbours* only
   (:class:`~graphad.nn.NeighbourForecast`); high when a relation between nodes breaks.
5. **Normalisation and fusion.** Each part is divided by the mean of its training
   values (``normalize="global"``: one scale per part, keeping the nodes' relative
   deviations; ``"node"``: centred and scaled by each node's training median / IQR). The
   node score is the sum over the parts in ``scoring``. The window score is the sum
   (``window_reduce="sum"``) or the maximum over nodes of the node scores restricted to
   the parts in ``window_scoring`` (default: the neighbour part alone, which ranks
   windows best on ASD, while the forecast part improves which nodes are blamed;
   ``None``: the same parts as the nodes). The statistics of every part are fitted, so
   ``set_params(scoring=...)`` after ``fit`` narrows the rule without refitting (the
   threshold stays that of the fitted rule).

``benchmarks/asd.py`` has one ablation row per part (forecast only, neighbours only,
neighbours on raw values only, no contrastive loss).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graphad.detectors.base import BaseDetector, WindowBatch
from graphad.exceptions import GraphadInputError
from graphad.transforms.normalize import robust_scale
from graphad.utils import resolve_device, seed_everything

__all__ = ["ContrastiveDetector", "knn_deviation", "num_threads", "subset", "scales_tuple"]

logger = logging.getLogger(__name__)

_PARTS = ("forecast", "knn", "graph")


@contextlib.contextmanager
def num_threads(n: int | None) -> Iterator[None]:
    """Temporarily set ``torch.set_num_threads(n)`` (``None``: leave it as it is)."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def knn_deviation(
    query: Tensor,
    memory: Tensor,
    k: int = 5,
    query_pos: Tensor | None = None,
    memory_pos: Tensor | None = None,
    exclusion: int = 0,
    chunk_size: int = 512,
) -> Tensor:
    r"""Per-node deviation of each query from the mean of its ``k`` nearest memory items.

    Neighbours are found jointly: ``d(q, m) = Σ_i ‖q_i − m_i‖²``. The deviation of node
    ``i`` is ``‖q_i − (1/k) Σ_{m ∈ nn(q)} m_i‖``.

    Args:
        query: ``[Q, N, D]`` node states.
        memory: ``[M, N, D]`` node states of training windows.
        k: Neighbours (at most the eligible memory size).
        query_pos: ``[Q]`` time positions of the queries (for the exclusion zone).
        memory_pos: ``[M]`` time positions of the memory items.
        exclusion: Memory items with ``|pos_m − pos_q| < exclusion`` are not neighbours.
        chunk_size: Queries per distance block (memory ``O(chunk · M)``).

    Returns:
        ``[Q, N]`` deviations.

    Example:
        >>> mem = torch.tensor([[[0.0]], [[1.0]], [[10.0]]])
        >>> round(knn_deviation(torch.tensor([[[0.4]]]), mem, k=2).item(), 4)
        0.1
    """
    if query.dim() != 3 or memory.dim() != 3 or query.shape[1:] != memory.shape[1:]:
        raise GraphadInputError(
            "query and memory must be [*, N, D] with the same N, D",
            field="query",
            expected=f"[Q, {tuple(memory.shape[1:])}]",
            found=tuple(query.shape),
        )
    k = max(1, min(int(k), memory.shape[0] - (1 if exclusion > 0 else 0)))
    flat_m = memory.reshape(memory.shape[0], -1)
    norm_m = (flat_m**2).sum(1)
    out = []
    for start in range(0, query.shape[0], chunk_size):
        q = query[start : start + chunk_size]
        flat_q = q.reshape(q.shape[0], -1)
        dist = (flat_q**2).sum(1, keepdim=True) + norm_m - 2 * flat_q @ flat_m.T
        if exclusion > 0 and query_pos is not None and memory_pos is not None:
            near = (
                query_pos[start : start + chunk_size, None] - memory_pos[None]
            ).abs() < exclusion
            dist = dist.masked_fill(near, float("inf"))
        idx = torch.topk(dist, k, dim=1, largest=False).indices  # [q, k]
        centre = memory[idx].mean(1)  # [q, N, D]
        out.append((q - centre).norm(dim=-1))
    return torch.cat(out)


class ContrastiveDetector(BaseDetector):
    """Base of the contrastive detectors: training loop and the scoring rule.

    Subclasses implement ``_build_model() -> nn.Module`` whose module has
    ``embed(x_ctx, edge_index) -> z [B, N, d]``, ``forecast(z) -> [B, N, F]`` and
    ``contrastive_loss(x_ctx, x_next_ctx, edge_index, generator, z) -> Tensor`` (``z``:
    the embeddings of the unaugmented context, already computed for the forecast loss).
    """

    _fitted_meta = ("history_",)
    #: Whether the contrastive loss uses each window's successor (temporal smoothness).
    _uses_next: bool = False
    #: Whether the network builds an ``N x N`` adaptive adjacency per window.
    _dense_adjacency: bool = False

    # -- helpers -------------------------------------------------------------------------
    def _device(self) -> torch.device:
        return resolve_device(self.device)

    def _check_params(self) -> None:
        parts = tuple(self.scoring) if not isinstance(self.scoring, str) else (self.scoring,)
        unknown = [p for p in parts if p not in _PARTS]
        if unknown or not parts:
            raise GraphadInputError(
                f"Could not resolve {unknown} among choices {list(_PARTS)}", field="scoring"
            )
        wanted = set(parts) | set(self._window_parts_requested())
        if "graph" in wanted and not type(self)._dense_adjacency:
            raise GraphadInputError(
                f"{type(self).__name__} learns no adjacency, so it has no 'graph' part",
                field="scoring",
                expected="a subset of ['forecast', 'knn']",
                found=sorted(wanted),
            )
        if self.knn_space not in ("both", "embedding", "values"):
            raise GraphadInputError(
                f"Could not resolve '{self.knn_space}' among choices "
                "['both', 'embedding', 'values']",
                field="knn_space",
            )
        if self.normalize not in ("global", "node"):
            raise GraphadInputError(
                f"Could not resolve '{self.normalize}' among choices ['global', 'node']",
                field="normalize",
            )
        if self.scaler not in ("minmax", "robust"):
            raise GraphadInputError(
                f"Could not resolve '{self.scaler}' among choices ['minmax', 'robust']",
                field="scaler",
            )
        if (
            self.window_scoring is not None
            and not isinstance(self.window_scoring, str)
            and any(p not in _PARTS for p in self.window_scoring)
        ):
            raise GraphadInputError(
                f"Could not resolve {list(self.window_scoring)} among choices {list(_PARTS)}",
                field="window_scoring",
            )
        if self.window_reduce not in ("sum", "max"):
            raise GraphadInputError(
                f"Could not resolve '{self.window_reduce}' among choices ['max', 'sum']",
                field="window_reduce",
            )

    def _window_parts_requested(self) -> tuple[str, ...]:
        chosen = self.window_scoring
        if chosen is None:
            return ()
        return (chosen,) if isinstance(chosen, str) else tuple(chosen)

    def _graph_weight(self) -> float:
        return float(getattr(self, "graph_weight", 0.0)) if type(self)._dense_adjacency else 0.0

    def _parts(self) -> tuple[str, ...]:
        return tuple(self.scoring) if not isinstance(self.scoring, str) else (self.scoring,)

    def _prepare(self, x: Tensor) -> Tensor:
        return robust_scale(x, self.center_, self.scale_).clamp(-self.clip, self.clip)

    def _fit_input_stats(self, x: Tensor) -> None:
        # every step of the series once: the first window's steps, then each last step
        steps = torch.cat([x[0].transpose(0, 1), x[1:, :, -1]], 0).float()  # [S, N, F]
        if self.scaler == "minmax":
            low, high = steps.min(0).values, steps.max(0).values
            self.center_ = low
            self.scale_ = (high - low).clamp_min(self.eps)
            return
        if steps.shape[0] > 100_000:
            steps = steps[:: steps.shape[0] // 50_000]
        q = torch.quantile(steps, torch.tensor([0.25, 0.5, 0.75]), dim=0)
        spread = steps.std(0)
        self.center_ = q[1]
        self.scale_ = torch.maximum((q[2] - q[0]) / 1.349, 0.5 * spread).clamp_min(self.eps)

    def _edges(self, batch: WindowBatch) -> Tensor:
        return batch.edge_index if self.use_graph else torch.zeros(2, 0, dtype=torch.long)

    def _memory_estimate(self, batch: WindowBatch) -> tuple[float, str]:
        """Peak bytes of ``fit``: the windows and their scaled copy, the dense adaptive
        adjacency of a training batch (``B x N x N`` logits, softmax and gradients for the
        three forward passes of a step), the neighbour memory and one distance block.
        """
        w, n, t, f = batch.x.shape
        need = 2.0 * w * n * t * f * 4
        top_k = getattr(self, "top_k", None)
        if type(self)._dense_adjacency:
            per_row = n if top_k is None else min(int(top_k), n) + 64
            need += 12.0 * int(self.batch_size) * n * per_row * 4
        dim = int(self.hidden_channels) + int(self.knn_steps) * f
        memory = min(int(self.memory_size), w)
        need += memory * n * dim * 4 + 512.0 * memory * 4 + 3.0 * 512 * n * dim * 4
        advice = (
            "top_k=16 (sparse adjacency rows) or a smaller batch_size / memory_size"
            if type(self)._dense_adjacency and top_k is None
            else "a smaller batch_size / memory_size or fewer windows"
        )
        return need, advice

    # -- training ------------------------------------------------------------------------
    def _fit(self, batch: WindowBatch) -> None:
        self._check_params()
        if batch.x.shape[2] < 2:
            raise GraphadInputError(
                "windows need at least 2 steps (context + target)",
                field="window_size",
                expected=">= 2",
                found=batch.x.shape[2],
            )
        generator = seed_everything(self.random_state)
        device = self._device()
        with num_threads(self.num_threads):
            self._fit_input_stats(batch.x)
            x = self._prepare(batch.x)
            self.model_ = self._build_model().to(device)
            self.edge_index_ = self._edges(batch).clone()
            self.history_ = self._train(x, generator, device)
            self.model_.eval()
            self._fit_scoring(x, device)

    def _autocast(self, device: torch.device) -> contextlib.AbstractContextManager:
        if device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _train(self, x: Tensor, generator: torch.Generator, device: torch.device) -> list[float]:
        from tqdm.auto import tqdm

        model = self.model_
        optimizer = torch.optim.Adam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        num_windows = x.shape[0]
        last = num_windows - 1 if self._uses_next and num_windows > 1 else num_windows
        edge_index = self.edge_index_.to(device)
        history: list[float] = []
        model.train()
        bar = tqdm(range(int(self.epochs)), disable=not self.verbose, desc=type(self).__name__)
        for _ in bar:
            perm = torch.randperm(last, generator=generator)
            if self.max_windows is not None:
                perm = perm[: int(self.max_windows)]
            total, count = 0.0, 0
            for idx in perm.split(int(self.batch_size)):
                xb = x[idx].to(device)
                xn = x[(idx + 1).clamp_max(num_windows - 1)].to(device) if self._uses_next else None
                with self._autocast(device):
                    loss = self._loss(xb, xn, edge_index, generator)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(idx)
                count += len(idx)
            history.append(total / max(count, 1))
            logger.debug("%s epoch %d: loss %.5f", type(self).__name__, len(history), history[-1])
            bar.set_postfix(loss=f"{history[-1]:.4f}")
        return history

    def _loss(
        self, xb: Tensor, xn: Tensor | None, edge_index: Tensor, generator: torch.Generator
    ) -> Tensor:
        ctx, target = xb[:, :, :-1], xb[:, :, -1]
        if self._graph_weight() > 0:
            z, neighbour = self.model_.embed(ctx, edge_index, with_graph=True)
            loss = F.mse_loss(self.model_.forecast(z), target)
            loss = loss + self._graph_weight() * F.mse_loss(neighbour, target)
        else:
            z = self.model_.embed(ctx, edge_index)
            loss = F.mse_loss(self.model_.forecast(z), target)
        if self.contrastive_weight > 0:
            nxt = xn[:, :, :-1] if xn is not None else None
            loss = loss + self.contrastive_weight * self.model_.contrastive_loss(
                ctx, nxt, edge_index, generator, z
            )
        return loss

    # -- scoring -------------------------------------------------------------------------
    @torch.no_grad()
    def _encode(self, x: Tensor, device: torch.device) -> tuple[Tensor, Tensor, Tensor | None]:
        """Embeddings ``[W, N, d]``, forecast errors ``[W, N]`` and neighbour-forecast errors
        ``[W, N]`` (``None`` for a network without an adjacency) of prepared windows.

        Scoring runs in float32 even on CUDA (training uses bfloat16 autocast there):
        the kNN part picks neighbours by distance, and bfloat16 embeddings moved scores
        of the same window by up to 19 % between two calls on an H100.
        """
        edge_index = self.edge_index_.to(device)
        graph = type(self)._dense_adjacency
        zs, errs, gerrs = [], [], []
        for xb in x.split(1024):
            xb = xb.to(device)
            if graph:
                z, neighbour = self.model_.embed(xb[:, :, :-1], edge_index, with_graph=True)
                gerrs.append((neighbour.float() - xb[:, :, -1]).abs().mean(-1).cpu())
            else:
                z = self.model_.embed(xb[:, :, :-1], edge_index)
            pred = self.model_.forecast(z)
            errs.append((pred.float() - xb[:, :, -1]).abs().mean(-1).cpu())
            zs.append(z.float().cpu())
        return torch.cat(zs), torch.cat(errs), torch.cat(gerrs) if graph else None

    def _states(self, x: Tensor, z: Tensor) -> Tensor:
        if self.knn_space == "embedding":
            return z
        steps = max(1, min(int(self.knn_steps), x.shape[2]))
        values = x[:, :, -steps:].flatten(2)  # [W, N, steps * F], newest steps
        if self.knn_space == "values":
            return values
        weight = self.embedding_weight / (self.z_rms_ * z.shape[-1] ** 0.5)
        return torch.cat([z * weight, values], -1)

    def _raw_parts(
        self,
        x: Tensor,
        device: torch.device,
        positions: Tensor | None,
        names: Sequence[str],
    ) -> dict[str, Tensor]:
        z, err, graph_err = self._encode(x, device)
        parts = {}
        if "forecast" in names:
            parts["forecast"] = err
        if "graph" in names and graph_err is not None:
            parts["graph"] = graph_err
        if "knn" in names:
            states = self._states(x, z)
            parts["knn"] = knn_deviation(
                states,
                self.memory_,
                k=self.n_neighbors,
                query_pos=positions,
                memory_pos=self.memory_pos_,
                exclusion=self.n_steps_ if positions is not None else 0,
            )
        return parts

    def _fit_scoring(self, x: Tensor, device: torch.device) -> None:
        num_windows = x.shape[0]
        size = min(int(self.memory_size), num_windows)
        self.memory_pos_ = torch.linspace(0, num_windows - 1, size).round().long().unique()
        z = self._encode(x[self.memory_pos_], device)[0]
        self.z_rms_ = z.pow(2).mean().sqrt().clamp_min(1e-6)
        self.memory_ = self._states(x[self.memory_pos_], z)
        # statistics of every part, so that ``scoring`` can be narrowed after fitting
        parts = self._raw_parts(x, device, torch.arange(num_windows), _PARTS)
        centers, scales = [], []
        for name in _PARTS:
            values = parts.get(name)
            if values is None:
                centers.append(torch.zeros(x.shape[1]))
                scales.append(torch.ones(x.shape[1]))
                continue
            if self.normalize == "node":
                q = torch.quantile(values, torch.tensor([0.25, 0.5, 0.75]), dim=0)
                centers.append(q[1])
                scales.append((q[2] - q[0]).clamp_min(1e-6))
            else:
                centers.append(torch.zeros(x.shape[1]))
                scales.append(values.mean().clamp_min(1e-6).expand(x.shape[1]).clone())
        self.part_center_ = torch.stack(centers)
        self.part_scale_ = torch.stack(scales)
        self._train_parts = parts  # scored with the exclusion zone, used by fit

    def _combine(self, parts: dict[str, Tensor], names: Sequence[str]) -> Tensor:
        total = None
        for p, name in enumerate(_PARTS):
            if name in names:
                value = (parts[name] - self.part_center_[p]) / self.part_scale_[p]
                total = value if total is None else total + value
        return total

    def _window_parts(self) -> tuple[str, ...]:
        chosen = self.window_scoring
        if chosen is None:
            return self._parts()
        chosen = (chosen,) if isinstance(chosen, str) else tuple(chosen)
        return tuple(p for p in chosen if p in self._parts()) or self._parts()

    def _reduce(self, scores: Tensor, mask: Tensor) -> Tensor:
        mask = mask.to(scores.device)
        if self.window_reduce == "max":
            return self._reduce_nodes(scores, mask)
        return scores.masked_fill(~mask, 0.0).sum(1)

    def _all_scores(
        self, batch: WindowBatch, parts: dict[str, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        """Node scores ``[W, N]`` (parts in ``scoring``) and window scores ``[W]`` (the
        node-score sum / max over the parts in ``window_scoring``).
        """
        if parts is None:
            names = set(self._parts()) | set(self._window_parts())
            with num_threads(self.num_threads):
                x = self._prepare(batch.x)
                parts = self._raw_parts(x, self._device(), None, tuple(names))
        nodes = self._combine(parts, self._parts())
        windows = self._reduce(self._combine(parts, self._window_parts()), batch.node_mask)
        return nodes, windows

    def _score_nodes(self, batch: WindowBatch) -> Tensor:
        return self._all_scores(batch)[0]

    def _score_windows(self, batch: WindowBatch) -> Tensor:
        cached = getattr(self, "_train_parts", None)
        if cached is not None and next(iter(cached.values())).shape[0] == batch.num_windows:
            self._train_parts = None  # the training windows, right after _fit
            return self._all_scores(batch, cached)[1]
        return self._all_scores(batch)[1]

    # -- persistence ---------------------------------------------------------------------
    def _get_state(self) -> dict[str, Tensor]:
        state = {f"model.{k}": v for k, v in self.model_.state_dict().items()}
        state.update(
            center=self.center_,
            scale=self.scale_,
            memory=self.memory_,
            memory_pos=self.memory_pos_,
            part_center=self.part_center_,
            part_scale=self.part_scale_,
            edge_index=self.edge_index_,
            z_rms=self.z_rms_,
        )
        return state

    def _set_state(self, state: dict[str, Tensor]) -> None:
        self.model_ = self._build_model()
        self.model_.load_state_dict({k[6:]: v for k, v in state.items() if k.startswith("model.")})
        self.model_.to(self._device()).eval()
        self.center_, self.scale_ = state["center"], state["scale"]
        self.memory_, self.memory_pos_ = state["memory"], state["memory_pos"]
        self.part_center_, self.part_scale_ = state["part_center"], state["part_scale"]
        self.edge_index_, self.z_rms_ = state["edge_index"], state["z_rms"]

    def _build_model(self) -> nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError


def subset(
    generator: torch.Generator, size: int, limit: int, device: torch.device
) -> Tensor | None:
    """Indices of at most ``limit`` of ``size`` rows (``None``: all of them)."""
    if limit is None or size <= int(limit):
        return None
    return torch.randperm(size, generator=generator)[: int(limit)].to(device)


def scales_tuple(scales: Sequence[int] | int) -> tuple[int, ...]:
    """Scales as a tuple (JSON turns tuples into lists)."""
    return (int(scales),) if isinstance(scales, int) else tuple(int(s) for s in scales)
