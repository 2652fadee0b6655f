r"""Strong simple baselines on the window contract: robust z-score, PCA, Isolation Forest, KNN.

A graph or contrastive detector is only worth its cost if it beats these on real data
(simple methods win many public comparisons), so they are first-class detectors: same
contract, same tests, same benchmarks.

All four scale every (node, feature) channel with statistics of the training windows, so
that channels in different units weigh alike: :class:`RobustZScore` by median / IQR, the
three that work on whole windows (PCA, Isolation Forest, KNN) by their ``scaler``
(:func:`scaler_stats`) before flattening a window ``[N, T, F]`` to one vector of
``N * T * F`` values. Defaults: ``"standard"`` for PCA (classical PCA on standardised
data), ``"minmax"`` for KNN and Isolation Forest. On the 12 ASD servers (window 10) mean
AUC-PR of KNN is 0.436 with min-max scaling, 0.462 unscaled (ASD is already in [0, 1]) and
0.284 with standardisation, which inflates metrics that hardly move in training.

Per-node scores (``decision_function``) follow one documented rule per detector:

* :class:`RobustZScore`: the node's own robust :math:`|z|` (max over its features and the
  window's last ``last_steps`` steps).
* :class:`PCADetector`: the node's share of the reconstruction error (sum of squared
  residuals over its ``T * F`` entries), optionally normalised per node by the median /
  IQR of the training errors.
* :class:`IForestDetector` and :class:`KNNDetector` score whole windows; a node's score is
  the window score times the node's share of the window's deviation (from the training
  median for Isolation Forest, from the window's ``k`` nearest training windows for KNN);
  the node scores of a window sum to its window score, and ``score_windows`` is the model's
  own window score (not the maximum node score).

Persistence stores tensors only. The scikit-learn models have no tensor form, so the
scaled training matrix is saved and the model refitted on load with the same seed
(``seed_``, drawn at fit time when ``random_state`` is ``None``); scikit-learn's
IsolationForest and NearestNeighbors are deterministic given the data and the seed, so a
loaded detector gives the same scores.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from graphad.detectors.base import BaseDetector, WindowBatch, register_detector
from graphad.exceptions import GraphadInputError

__all__ = [
    "RobustZScore",
    "PCADetector",
    "IForestDetector",
    "KNNDetector",
    "channel_stats",
    "scaler_stats",
]

#: IQR of a standard normal; IQR / this estimates the standard deviation.
_IQR_TO_STD = 1.3489795


def channel_stats(x: torch.Tensor, robust: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Location and scale per (node, feature) over all windows and steps.

    Args:
        x: ``[W, N, T, F]`` training windows.
        robust: Median and IQR / 1.349 instead of mean and standard deviation.

    Returns:
        ``(center, scale)``, each ``[N, F]``. A zero scale falls back to the standard
        deviation, then to 1, so that constant training channels do not divide by zero.

    Example:
        >>> x = torch.tensor([1.0, 2.0, 3.0, 4.0, 100.0]).view(5, 1, 1, 1)
        >>> center, scale = channel_stats(x, robust=True)
        >>> center.item(), round(scale.item(), 3)
        (3.0, 1.483)
    """
    values = x.permute(1, 3, 0, 2).reshape(x.shape[1], x.shape[3], -1).double()
    std = (
        values.std(dim=-1, unbiased=False)
        if values.shape[-1] > 1
        else torch.zeros(values.shape[:2], dtype=values.dtype)
    )
    if robust:
        center = (
            values.median(dim=-1).values if values.shape[-1] % 2 else values.quantile(0.5, dim=-1)
        )
        q = torch.quantile(values, torch.tensor([0.25, 0.75], dtype=values.dtype), dim=-1)
        scale = (q[1] - q[0]) / _IQR_TO_STD
    else:
        center, scale = values.mean(dim=-1), std
    scale = torch.where(scale > 1e-8, scale, std)
    scale = torch.where(scale > 1e-8, scale, torch.ones_like(scale))
    return center.float(), scale.float()


def scaler_stats(x: torch.Tensor, scaler: str = "standard") -> tuple[torch.Tensor, torch.Tensor]:
    """Per (node, feature) ``(center, scale)`` of the training windows for a scaler.

    Args:
        x: ``[W, N, T, F]`` training windows.
        scaler: ``"standard"`` (mean / std), ``"robust"`` (median / IQR / 1.349),
            ``"minmax"`` (min / range) or ``"none"`` (0 / 1). Zero scales fall back as in
            :func:`channel_stats` (min-max: to 1).

    Returns:
        ``(center, scale)``, each ``[N, F]``.

    Example:
        >>> x = torch.tensor([2.0, 4.0, 6.0]).view(3, 1, 1, 1)
        >>> [t.item() for t in scaler_stats(x, "minmax")]
        [2.0, 4.0]
    """
    if scaler == "standard":
        return channel_stats(x)
    if scaler == "robust":
        return channel_stats(x, robust=True)
    if scaler == "minmax":
        values = x.permute(1, 3, 0, 2).reshape(x.shape[1], x.shape[3], -1)
        low, high = values.amin(dim=-1), values.amax(dim=-1)
        span = high - low
        return low, torch.where(span > 1e-8, span, torch.ones_like(span))
    if scaler == "none":
        return torch.zeros(x.shape[1], x.shape[3]), torch.ones(x.shape[1], x.shape[3])
    raise GraphadInputError(
        f"Could not resolve '{scaler}' among choices ['minmax', 'none', 'robust', 'standard']",
        field="scaler",
    )


def _standardise(x: torch.Tensor, center: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """``(x - center) / scale`` broadcast over ``[W, N, T, F]`` with ``[N, F]`` stats."""
    return (x - center[None, :, None, :]) / scale[None, :, None, :]


def _node_shares(contrib: torch.Tensor) -> torch.Tensor:
    """Each node's share of a window's total deviation, ``[W, N]`` rows summing to 1."""
    total = contrib.sum(dim=1, keepdim=True)
    uniform = torch.full_like(contrib, 1.0 / contrib.shape[1])
    return torch.where(total > 0, contrib / total.clamp_min(1e-30), uniform)


def _draw_seed(random_state: int | None) -> int:
    return int(random_state) if random_state is not None else random.randrange(2**31)


@register_detector
class RobustZScore(BaseDetector):
    r"""Per-node robust z-score against the training median and IQR.

    .. math::
        s_{w,n} = \max_{f,\ t > T - L} \frac{|x_{w,n,t,f} - \mathrm{med}_{n,f}|}
        {\mathrm{IQR}_{n,f} / 1.349}

    where :math:`L` is ``last_steps``; the window score is the maximum over present nodes.

    Args:
        last_steps: How many of the window's last steps are scored (1 = the end step).
        window_size: Steps per window when the input is a plain ``[time, node]`` series.
        contamination: Share of training windows above ``threshold_`` (``"quantile"``).
        threshold: ``"quantile"`` or ``"pot"``.

    Shapes:
        decision_function: ``[W, N, T, F]`` -> ``[W, N]``.

    Example:
        >>> train = torch.randn(200, 3, 5, 1, generator=torch.Generator().manual_seed(0))
        >>> test = train[:2].clone()
        >>> test[1, 2, -1] = 50.0
        >>> RobustZScore().fit(train).decision_function(test).argmax().item()  # w 1, n 2
        5
    """

    def __init__(
        self,
        last_steps: int = 1,
        window_size: int | None = 10,
        contamination: float = 0.01,
        threshold: str = "quantile",
    ) -> None:
        self.last_steps = last_steps
        self.window_size = window_size
        self.contamination = contamination
        self.threshold = threshold

    def _fit(self, batch: WindowBatch) -> None:
        if not 1 <= int(self.last_steps) <= batch.x.shape[2]:
            raise GraphadInputError(
                "last_steps does not fit the windows",
                field="last_steps",
                expected=f"1..{batch.x.shape[2]}",
                found=self.last_steps,
            )
        self.center_, self.scale_ = channel_stats(batch.x, robust=True)

    def _score_nodes(self, batch: WindowBatch) -> torch.Tensor:
        z = _standardise(batch.x[:, :, -int(self.last_steps) :], self.center_, self.scale_)
        return z.abs().amax(dim=(2, 3))

    def _get_state(self) -> dict[str, torch.Tensor]:
        return {"center_": self.center_, "scale_": self.scale_}

    def _set_state(self, state: dict[str, torch.Tensor]) -> None:
        self.center_, self.scale_ = state["center_"], state["scale_"]


@register_detector
class PCADetector(BaseDetector):
    r"""Reconstruction error of the flattened, standardised window in a PCA subspace.

    The principal axes :math:`V_k` come from the eigen-decomposition of the training
    covariance; a window :math:`u` (standardised, flattened) is reconstructed as
    :math:`\hat u = \bar u + V_k V_k^\top (u - \bar u)` and node :math:`n` scores the sum of
    its squared residuals :math:`\sum_{t,f} (u - \hat u)^2_{n,t,f}`. With
    ``normalize=True`` each node's error is turned into a robust z-score against that
    node's training errors (median / IQR), so that nodes with noisy residuals do not
    dominate the window score (the maximum over nodes).

    Args:
        n_components: Number of axes kept (int), or the share of variance to explain
            (float in ``(0, 1)``).
        normalize: Normalise node errors by their training median / IQR.
        scaler: Per-channel scaling before flattening (:func:`scaler_stats`).
        window_size: Steps per window for plain series.
        contamination: Share of training windows above ``threshold_``.
        threshold: ``"quantile"`` or ``"pot"``.

    Shapes:
        decision_function: ``[W, N, T, F]`` -> ``[W, N]``.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> base = torch.randn(300, 1, 4, 1, generator=g)
        >>> train = base.repeat(1, 3, 1, 1) + 0.01 * torch.randn(300, 3, 4, 1, generator=g)
        >>> test = train[:3].clone()
        >>> test[2, 1] += 3.0                      # node 1 breaks the correlation
        >>> det = PCADetector(n_components=1).fit(train)
        >>> det.score_windows(test).argmax().item(), det.decision_function(test)[2].argmax().item()
        (2, 1)
    """

    def __init__(
        self,
        n_components: int | float = 0.9,
        normalize: bool = True,
        scaler: str = "standard",
        window_size: int | None = 10,
        contamination: float = 0.01,
        threshold: str = "quantile",
    ) -> None:
        self.n_components = n_components
        self.normalize = normalize
        self.scaler = scaler
        self.window_size = window_size
        self.contamination = contamination
        self.threshold = threshold

    def _flat(self, batch: WindowBatch) -> torch.Tensor:
        return _standardise(batch.x, self.center_, self.scale_).reshape(batch.num_windows, -1)

    def _n_axes(self, eigenvalues: torch.Tensor) -> int:
        dim = eigenvalues.numel()
        k = self.n_components
        if isinstance(k, bool) or not isinstance(k, (int, float)):
            raise GraphadInputError(
                "n_components must be a number",
                field="n_components",
                expected="int >= 1 or float in (0, 1)",
                found=k,
            )
        if isinstance(k, float) and 0.0 < k < 1.0:
            ratio = torch.cumsum(eigenvalues, 0) / eigenvalues.sum().clamp_min(1e-30)
            return int(min(dim, int((ratio < k).sum()) + 1))
        if isinstance(k, int) and k >= 1:
            return min(int(k), dim)
        raise GraphadInputError(
            "invalid n_components",
            field="n_components",
            expected="int >= 1 or float in (0, 1)",
            found=k,
        )

    def _memory_estimate(self, batch: WindowBatch) -> tuple[float, str]:
        """The ``D x D`` covariance and its eigenvectors (float64, ``D = N T F``) and two
        float64 copies of the flattened windows.
        """
        dim = batch.num_nodes * batch.x.shape[2] * batch.x.shape[3]
        need = 3.0 * dim * dim * 8 + 2.0 * batch.num_windows * dim * 8
        return need, "a shorter window_size or fewer nodes (the covariance is (N*T)^2)"

    def _fit(self, batch: WindowBatch) -> None:
        self.center_, self.scale_ = scaler_stats(batch.x, self.scaler)
        u = self._flat(batch).double()
        self.mean_ = u.mean(dim=0)
        centred = u - self.mean_
        cov = centred.T @ centred / max(u.shape[0] - 1, 1)
        eigenvalues, eigenvectors = torch.linalg.eigh(cov)
        order = torch.argsort(eigenvalues, descending=True)
        eigenvalues, eigenvectors = eigenvalues[order].clamp_min(0), eigenvectors[:, order]
        k = self._n_axes(eigenvalues)
        self.components_ = eigenvectors[:, :k].float().contiguous()
        self.explained_variance_ = eigenvalues[:k].float()
        self.mean_ = self.mean_.float()
        self.err_center_ = torch.zeros(batch.num_nodes)
        self.err_scale_ = torch.ones(batch.num_nodes)
        if self.normalize:
            errors = self._node_errors(batch)[:, :, None, None]
            center, scale = channel_stats(errors, robust=True)
            self.err_center_, self.err_scale_ = center[:, 0], scale[:, 0]

    def _node_errors(self, batch: WindowBatch) -> torch.Tensor:
        centred = self._flat(batch) - self.mean_
        residual = centred - (centred @ self.components_) @ self.components_.T
        return residual.pow(2).view(batch.num_windows, batch.num_nodes, -1).sum(-1)

    def _score_nodes(self, batch: WindowBatch) -> torch.Tensor:
        return (self._node_errors(batch) - self.err_center_) / self.err_scale_

    def _get_state(self) -> dict[str, torch.Tensor]:
        return {
            name: getattr(self, name)
            for name in (
                "center_",
                "scale_",
                "mean_",
                "components_",
                "explained_variance_",
                "err_center_",
                "err_scale_",
            )
        }

    def _set_state(self, state: dict[str, torch.Tensor]) -> None:
        for name, value in state.items():
            setattr(self, name, value)


class _FlatWindowModel(BaseDetector):
    """Shared parts of detectors that fit a scikit-learn model on flattened windows."""

    _fitted_meta = ("seed_",)

    def _flat(self, batch: WindowBatch) -> np.ndarray:
        z = _standardise(batch.x, self.center_, self.scale_)
        return z.reshape(batch.num_windows, -1).numpy().astype(np.float64)

    def _fit(self, batch: WindowBatch) -> None:
        self.seed_ = _draw_seed(getattr(self, "random_state", None))
        self.center_, self.scale_ = scaler_stats(batch.x, self.scaler)
        self.train_matrix_ = torch.from_numpy(self._flat(batch)).float()
        self._build_model()

    def _build_model(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _score_nodes(self, batch: WindowBatch) -> torch.Tensor:
        window = self._score_windows(batch)
        return window[:, None] * self._node_contributions(batch)

    def _node_contributions(self, batch: WindowBatch) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def _get_state(self) -> dict[str, torch.Tensor]:
        return {"center_": self.center_, "scale_": self.scale_, "train_matrix_": self.train_matrix_}

    def _set_state(self, state: dict[str, torch.Tensor]) -> None:
        self.center_, self.scale_ = state["center_"], state["scale_"]
        self.train_matrix_ = state["train_matrix_"]
        self._build_model()


@register_detector
class IForestDetector(_FlatWindowModel):
    r"""scikit-learn's Isolation Forest on flattened, standardised windows.

    Window score: the negated ``score_samples`` (higher = shorter isolation paths = more
    anomalous), shifted so that the training median is 0 (so node scores are non-negative
    for windows above it). Node score: the window score times the node's share of
    :math:`\sum_{t,f} z^2_{n,t,f}`, the squared standardised deviation from the training
    median (a documented attribution rule, not the forest's own).

    Args:
        n_estimators: Number of trees.
        max_samples: Sub-sample size per tree (``"auto"`` = ``min(256, W)``).
        scaler: Per-channel scaling before flattening (:func:`scaler_stats`).
        window_size: Steps per window for plain series.
        contamination: Share of training windows above ``threshold_``.
        threshold: ``"quantile"`` or ``"pot"``.
        random_state: Seed of the forest (``None``: drawn at fit and saved as ``seed_``).

    Shapes:
        decision_function: ``[W, N, T, F]`` -> ``[W, N]``; score_windows -> ``[W]``.
    """

    def __init__(
        self,
        n_estimators: int = 100,
        max_samples: int | float | str = "auto",
        scaler: str = "minmax",
        window_size: int | None = 10,
        contamination: float = 0.01,
        threshold: str = "quantile",
        random_state: int | None = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.scaler = scaler
        self.window_size = window_size
        self.contamination = contamination
        self.threshold = threshold
        self.random_state = random_state

    def _build_model(self) -> None:
        from sklearn.ensemble import IsolationForest

        self.model_ = IsolationForest(
            n_estimators=int(self.n_estimators),
            max_samples=self.max_samples,
            random_state=self.seed_,
            n_jobs=1,
        ).fit(self.train_matrix_.numpy().astype(np.float64))
        train = -self.model_.score_samples(self.train_matrix_.numpy().astype(np.float64))
        self.offset_ = float(np.median(train))
        self.median_ = torch.from_numpy(np.median(self.train_matrix_.numpy(), axis=0)).float()

    def _score_windows(self, batch: WindowBatch) -> torch.Tensor:
        scores = -self.model_.score_samples(self._flat(batch)) - self.offset_
        return torch.from_numpy(scores).float()

    def _node_contributions(self, batch: WindowBatch) -> torch.Tensor:
        u = torch.from_numpy(self._flat(batch)).float() - self.median_
        return _node_shares(u.pow(2).view(batch.num_windows, batch.num_nodes, -1).sum(-1))


@register_detector
class KNNDetector(_FlatWindowModel):
    r"""Distance of a flattened, standardised window to its k-th nearest training window.

    Window score: the Euclidean distance to the ``n_neighbors``-th nearest training window
    (``method="largest"``) or the mean distance to the ``n_neighbors`` nearest
    (``"mean"``). Training windows are scored leave-one-out (their own copy is skipped),
    so ``threshold_`` is not biased low. Node score: the window score times the node's
    share of :math:`\sum_{t,f} (u - \bar u_{knn})^2_{n,t,f}`, the squared deviation from the
    mean of the window's ``n_neighbors`` nearest training windows.

    Args:
        n_neighbors: ``k``.
        method: ``"largest"`` or ``"mean"``.
        scaler: Per-channel scaling before flattening (:func:`scaler_stats`).
        window_size: Steps per window for plain series.
        contamination: Share of training windows above ``threshold_``.
        threshold: ``"quantile"`` or ``"pot"``.
        random_state: Unused by the (exact, deterministic) neighbour search; accepted
            for a uniform interface.

    Shapes:
        decision_function: ``[W, N, T, F]`` -> ``[W, N]``; score_windows -> ``[W]``.

    Example:
        >>> train = torch.randn(100, 2, 3, 1, generator=torch.Generator().manual_seed(0))
        >>> test = torch.cat([train[:2], train[:1] + 10.0])
        >>> KNNDetector(n_neighbors=3).fit(train).score_windows(test).argmax().item()
        2
    """

    def __init__(
        self,
        n_neighbors: int = 5,
        method: str = "largest",
        scaler: str = "minmax",
        window_size: int | None = 10,
        contamination: float = 0.01,
        threshold: str = "quantile",
        random_state: int | None = 0,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.method = method
        self.scaler = scaler
        self.window_size = window_size
        self.contamination = contamination
        self.threshold = threshold
        self.random_state = random_state

    def _build_model(self) -> None:
        from sklearn.neighbors import NearestNeighbors

        if self.method not in ("largest", "mean"):
            raise GraphadInputError(
                f"Could not resolve '{self.method}' among choices ['largest', 'mean']",
                field="method",
            )
        n_train = self.train_matrix_.shape[0]
        if not 1 <= int(self.n_neighbors) < n_train:
            raise GraphadInputError(
                "n_neighbors does not fit the training windows",
                field="n_neighbors",
                expected=f"1..{n_train - 1}",
                found=self.n_neighbors,
            )
        self.model_ = NearestNeighbors(n_neighbors=int(self.n_neighbors) + 1).fit(
            self.train_matrix_.numpy().astype(np.float64)
        )

    def fit(self, windows: Any, y: Any = None) -> KNNDetector:
        """Fit; the training windows are scored leave-one-out for ``threshold_``."""
        self._leave_one_out = True
        try:
            return super().fit(windows, y)
        finally:
            self._leave_one_out = False

    def _neighbours(self, batch: WindowBatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        u = self._flat(batch)
        k = int(self.n_neighbors)
        distances, indices = self.model_.kneighbors(u, n_neighbors=k + 1)
        if getattr(self, "_leave_one_out", False):  # drop each training window's own copy
            distances, indices = distances[:, 1:], indices[:, 1:]
        return u, distances[:, :k], indices[:, :k]

    def _score_windows(self, batch: WindowBatch) -> torch.Tensor:
        _, distances, _ = self._neighbours(batch)
        scores = distances[:, -1] if self.method == "largest" else distances.mean(axis=1)
        return torch.from_numpy(scores).float()

    def _node_contributions(self, batch: WindowBatch) -> torch.Tensor:
        u, _, indices = self._neighbours(batch)
        reference = self.train_matrix_.numpy()[indices].mean(axis=1)
        residual = torch.from_numpy(u - reference).float()
        return _node_shares(residual.pow(2).view(batch.num_windows, batch.num_nodes, -1).sum(-1))
