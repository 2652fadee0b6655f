r"""Contrastive learning with negative sampling for a few labels, and its CNN / LSTM baselines.

For users who have *some* labelled windows (seed 3, METHODS.md section 3). Three
supervised detectors share one contract (``fit(windows, y)`` with window labels ``y``):

* :class:`NegativeSamplingContrastive` — the method:

  1. **negative sampling**: normal windows are sampled (without replacement) down to
     ``negative_ratio`` times the number of abnormal ones, balancing the classes;
  2. **abnormal-window augmentation** (Algorithm 1): a new abnormal sample is an abnormal
     window whose first ``augment_steps`` rows (time steps) are replaced by the rows of
     the nearest normal window in time (the pre-onset context is normal anyway);
  3. **SimCLR pretraining** of a small 1-D CNN encoder on (original, augmented) pairs with
     NT-Xent (:func:`graphad.nn.nt_xent`). Normal windows get the same kind of view: their
     first rows replaced by those of the nearest *other* normal window;
  4. **supervised fine-tuning** of encoder + classifier with cross-entropy on the balanced
     set plus the augmented abnormal windows.

* :class:`CNNClassifier` and :class:`LSTMClassifier` — the paper's baselines: the same
  negative sampling, no augmentation, no pretraining.

Scores and thresholds: the window score is the predicted probability of the abnormal
class, and ``threshold_`` is ``decision_threshold`` (0.5: the classifier's own decision),
not a quantile of the training scores. :meth:`report` gives the paper's metrics (accuracy,
TPR, FPR, precision, recall, F1).

Per-node scores (``decision_function``), by occlusion: node ``n``'s score is how much the
abnormal-class logit drops when that node's values are replaced by the training median of
the normal windows (``logit(x) - logit(x with node n occluded)``), so the node that makes
the window look abnormal scores highest. It costs ``N + 1`` forward passes per window.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from graphad.detectors.base import (
    BaseDetector,
    WindowBatch,
    as_window_batch,
    check_is_fitted,
    check_window_labels,
    register_detector,
)
from graphad.detectors.baselines import channel_stats
from graphad.exceptions import GraphadInputError
from graphad.utils import resolve_device, seed_everything

__all__ = [
    "NegativeSamplingContrastive",
    "CNNClassifier",
    "LSTMClassifier",
    "negative_sample",
    "augment_abnormal",
    "CNNEncoder",
]

logger = logging.getLogger(__name__)


# -- data: sampling and augmentation ---------------------------------------------------
def negative_sample(
    y: Tensor, ratio: float = 1.0, generator: torch.Generator | None = None
) -> Tensor:
    """Indices of a class-balanced subset: all abnormal windows + sampled normal ones.

    Args:
        y: ``[W]`` 0/1 labels.
        ratio: Normal windows kept per abnormal window (all kept if there are fewer).
        generator: Torch generator for the draw.

    Returns:
        Sorted ``[M]`` int64 indices.

    Example:
        >>> y = torch.tensor([0, 0, 0, 0, 1, 0, 0, 1])
        >>> idx = negative_sample(y, 1.0, torch.Generator().manual_seed(0))
        >>> int(y[idx].sum()), int((y[idx] == 0).sum())
        (2, 2)
    """
    abnormal = (y == 1).nonzero().view(-1)
    normal = (y == 0).nonzero().view(-1)
    keep = min(normal.numel(), int(round(float(ratio) * abnormal.numel())))
    chosen = normal[torch.randperm(normal.numel(), generator=generator)[:keep]]
    return torch.sort(torch.cat([abnormal, chosen])).values


def nearest_normal(index: Tensor, times: Tensor, y: Tensor, exclude_self: bool = True) -> Tensor:
    """For each window in ``index``, the nearest normal window in time (earlier on ties).

    Args:
        index: ``[M]`` windows to pair.
        times: ``[W]`` window end times (any monotone unit).
        y: ``[W]`` labels; candidates are the windows with ``y == 0``.
        exclude_self: Never pair a window with itself.

    Returns:
        ``[M]`` indices of normal windows.

    Raises:
        GraphadInputError: There is no normal window to pair with.

    Example:
        >>> nearest_normal(torch.tensor([2]), torch.arange(5), torch.tensor([0, 0, 1, 1, 0]))
        tensor([1])
    """
    normal = (y == 0).nonzero().view(-1)
    if normal.numel() == 0 or (
        exclude_self and normal.numel() == 1 and bool((index == normal[0]).any())
    ):
        raise GraphadInputError(
            "the augmentation needs normal windows to borrow rows from",
            field="y",
            expected="at least two windows labelled 0",
            found=int(normal.numel()),
        )
    t = times.double()
    gap = (t[index][:, None] - t[normal][None, :]).abs()
    later = (t[normal][None, :] > t[index][:, None]).double() * 1e-9 * (gap + 1)
    cost = gap + later  # prefer the earlier window on equal distance
    if exclude_self:
        cost = cost.masked_fill(index[:, None] == normal[None, :], float("inf"))
    return normal[cost.argmin(dim=1)]


def augment_abnormal(x: Tensor, donors: Tensor, steps: int) -> Tensor:
    """Algorithm 1: replace the first ``steps`` rows (time steps) of each window.

    Args:
        x: ``[M, N, T, F]`` windows to augment (not modified).
        donors: ``[M, N, T, F]`` the nearby normal windows lending their rows.
        steps: Leading steps replaced, ``0 <= steps < T``.

    Returns:
        ``[M, N, T, F]`` new windows.

    Example:
        >>> a, n = torch.ones(1, 1, 4, 1), torch.zeros(1, 1, 4, 1)
        >>> augment_abnormal(a, n, 2).view(-1).tolist()
        [0.0, 0.0, 1.0, 1.0]
    """
    out = x.clone()
    out[:, :, :steps] = donors[:, :, :steps]
    return out


# -- networks ----------------------------------------------------------------------------
class CNNEncoder(nn.Module):
    """Two 1-D convolutions (over time, node-features as channels), two max-poolings, FC.

    Args:
        in_channels: ``N * F``.
        steps: ``T``.
        hidden_channels: Convolution channels and representation size.
        dropout: Dropout before the representation.

    Shapes:
        input: ``[B, N * F, T]``; output: ``[B, hidden_channels]``.
    """

    def __init__(
        self, in_channels: int, steps: int, hidden_channels: int = 32, dropout: float = 0.01
    ) -> None:
        super().__init__()
        length = steps
        layers: list[nn.Module] = []
        for i in range(2):
            layers += [
                nn.Conv1d(
                    in_channels if i == 0 else hidden_channels, hidden_channels, 3, padding=1
                ),
                nn.ReLU(),
                nn.MaxPool1d(2, ceil_mode=True) if length > 1 else nn.Identity(),
            ]
            length = (length + 1) // 2 if length > 1 else 1
        self.conv = nn.Sequential(*layers)
        self.fc = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(hidden_channels * length, hidden_channels),
            nn.ReLU(),
        )

    def forward(self, x: Tensor) -> Tensor:
        """Representation of each window."""
        return self.fc(self.conv(x))


class _LSTMEncoder(nn.Module):
    """LSTM over the window's steps; the last hidden state is the representation."""

    def __init__(self, in_channels: int, hidden_channels: int = 32) -> None:
        super().__init__()
        self.lstm = nn.LSTM(in_channels, hidden_channels, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.lstm(x.transpose(1, 2))  # [B, C, T] -> [B, T, C]
        return out[:, -1]


class _Classifier(nn.Module):
    def __init__(self, encoder: nn.Module, hidden_channels: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(hidden_channels, 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.encoder(x))


# -- detectors ---------------------------------------------------------------------------
class _WindowClassifier(BaseDetector):
    """Shared parts of the supervised window classifiers."""

    _requires_labels: ClassVar[bool] = True

    def __init__(
        self,
        negative_sampling: bool = True,
        negative_ratio: float = 1.0,
        hidden_channels: int = 32,
        epochs: int = 30,
        batch_size: int = 32,
        lr: float = 1e-3,
        decision_threshold: float = 0.5,
        window_size: int | None = 4,
        random_state: int | None = 0,
        device: str = "auto",
        verbose: bool = False,
    ) -> None:
        self.negative_sampling = negative_sampling
        self.negative_ratio = negative_ratio
        self.hidden_channels = hidden_channels
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.decision_threshold = decision_threshold
        self.window_size = window_size
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _encoder(self, channels: int, steps: int) -> nn.Module:  # pragma: no cover
        raise NotImplementedError

    def _build(self) -> _Classifier:
        return _Classifier(
            self._encoder(self.n_nodes_ * self.n_features_, self.n_steps_),
            int(self.hidden_channels),
        )

    def _inputs(self, x: Tensor) -> Tensor:
        """Standardised ``[W, N, T, F]`` -> ``[W, N * F, T]``."""
        z = (x - self.center_[None, :, None, :]) / self.scale_[None, :, None, :]
        return z.permute(0, 1, 3, 2).reshape(x.shape[0], -1, x.shape[2])

    def _training_set(
        self, batch: WindowBatch, y: Tensor, generator: torch.Generator
    ) -> tuple[Tensor, Tensor, Tensor]:
        """``(windows, labels, pretraining views)`` after sampling (and augmentation)."""
        index = (
            negative_sample(y, self.negative_ratio, generator)
            if self.negative_sampling
            else torch.arange(y.numel())
        )
        return batch.x[index], y[index], batch.x[index]

    def _check_labels(self, y: Tensor) -> None:
        if int(y.sum()) == 0 or int((y == 0).sum()) == 0:
            raise GraphadInputError(
                "a classifier needs both classes in the training labels",
                field="y",
                expected="at least one 0 and one 1",
                found=f"{int((y == 0).sum())} zeros, {int(y.sum())} ones",
            )

    def _pretrain(
        self,
        model: _Classifier,
        x: Tensor,
        views: Tensor,
        generator: torch.Generator,
        device: torch.device,
    ) -> None:
        """No pretraining for the plain classifiers."""

    def _fit(self, batch: WindowBatch, y: Tensor) -> None:
        self._check_labels(y)
        generator = seed_everything(self.random_state)
        device = resolve_device(self.device)
        normal = batch.x[y == 0]
        self.center_, self.scale_ = channel_stats(batch.x)
        self.reference_ = normal.median(dim=0).values  # [N, T, F] for occlusion
        x, labels, views = self._training_set(batch, y, generator)
        self.n_train_ = int(labels.numel())
        self.model_ = self._build().to(device)
        self._pretrain(self.model_, self._inputs(x), self._inputs(views), generator, device)
        self._train(self.model_, self._inputs(x), labels, generator, device)

    def _train(
        self,
        model: _Classifier,
        x: Tensor,
        labels: Tensor,
        generator: torch.Generator,
        device: torch.device,
    ) -> None:
        optimiser = torch.optim.Adam(model.parameters(), lr=float(self.lr))
        self.history_: list[float] = []
        size = int(self.batch_size)
        for _ in tqdm(range(int(self.epochs)), disable=not self.verbose, desc=type(self).__name__):
            model.train()
            order = torch.randperm(labels.numel(), generator=generator)
            total = 0.0
            for start in range(0, order.numel(), size):
                idx = order[start : start + size]
                loss = nn.functional.cross_entropy(model(x[idx].to(device)), labels[idx].to(device))
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += loss.item() * idx.numel()
            self.history_.append(total / labels.numel())

    def _logits(self, inputs: Tensor) -> Tensor:
        """Abnormal-minus-normal logit of ``[B, C, T]`` inputs, ``[B]``."""
        device = next(self.model_.parameters()).device
        self.model_.eval()
        out = []
        with torch.no_grad():
            for start in range(0, inputs.shape[0], 2048):
                logits = self.model_(inputs[start : start + 2048].to(device)).float().cpu()
                out.append(logits[:, 1] - logits[:, 0])
        return torch.cat(out) if out else torch.zeros(0)

    def _score_windows(self, batch: WindowBatch) -> Tensor:
        return torch.sigmoid(self._logits(self._inputs(batch.x)))

    def _score_nodes(self, batch: WindowBatch) -> Tensor:
        n = batch.num_nodes
        per_window = max(1, 4_000_000 // max(1, batch.x[0].numel() * n))
        eye = torch.eye(n, dtype=torch.bool)
        out = []
        for start in range(0, batch.num_windows, per_window):
            x = batch.x[start : start + per_window]
            w = x.shape[0]
            full = self._logits(self._inputs(x))
            occluded = x[:, None].repeat(1, n, 1, 1, 1)  # [w, N (occluded), N, T, F]
            occluded[:, eye] = self.reference_.expand(w, n, *self.reference_.shape[1:])
            drop = self._logits(self._inputs(occluded.view(w * n, *x.shape[1:])))
            out.append(full[:, None] - drop.view(w, n))
        return torch.cat(out)

    def _fit_threshold(self, train_scores: Tensor) -> float:
        if not 0.0 < float(self.decision_threshold) < 1.0:
            raise GraphadInputError(
                "decision_threshold is a probability",
                field="decision_threshold",
                expected="0 < p < 1",
                found=self.decision_threshold,
            )
        return float(self.decision_threshold)

    def report(self, windows: Any, y: Any) -> dict[str, float]:
        """The paper's metrics of ``predict`` against window labels.

        Args:
            windows: Windows to classify.
            y: ``[W]`` 0/1 labels.

        Returns:
            ``accuracy, tpr, fpr, precision, recall, f1`` (a ratio with a zero
            denominator is 0) and the counts ``tp, fp, tn, fn``.
        """
        check_is_fitted(self)
        batch = as_window_batch(windows, getattr(self, "window_size", None))
        labels = check_window_labels(y, batch.num_windows)
        pred = self.predict(windows)
        tp = int(((pred == 1) & (labels == 1)).sum())
        fp = int(((pred == 1) & (labels == 0)).sum())
        tn = int(((pred == 0) & (labels == 0)).sum())
        fn = int(((pred == 0) & (labels == 1)).sum())

        def ratio(a: int, b: int) -> float:
            return a / b if b else 0.0

        precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
        return {
            "accuracy": ratio(tp + tn, tp + tn + fp + fn),
            "tpr": recall,
            "fpr": ratio(fp, fp + tn),
            "precision": precision,
            "recall": recall,
            "f1": ratio(2 * precision * recall, precision + recall) if tp else 0.0,
            "tp": tp,
            "fp": fp,
            "tn": tn,
            "fn": fn,
        }

    def _get_state(self) -> dict[str, Tensor]:
        state = {f"model.{k}": v for k, v in self.model_.state_dict().items()}
        state.update(center_=self.center_, scale_=self.scale_, reference_=self.reference_)
        return state

    def _set_state(self, state: dict[str, Tensor]) -> None:
        self.center_, self.scale_ = state.pop("center_"), state.pop("scale_")
        self.reference_ = state.pop("reference_")
        self.model_ = self._build()
        self.model_.load_state_dict({k[len("model.") :]: v for k, v in state.items()})
        self.model_.to(resolve_device(self.device))


_CLASSIFIER_ARGS = """
        negative_sampling: Balance the classes by sampling normal windows.
        negative_ratio: Normal windows kept per abnormal window.
        hidden_channels: Width of the network.
        epochs: Supervised epochs.
        batch_size: Windows per optimisation step.
        lr: Adam learning rate.
        decision_threshold: Probability above which ``predict`` says abnormal.
        window_size: Steps per window for plain series.
        random_state: Seed of sampling, initialisation and shuffling.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        verbose: Progress bars.
"""


@register_detector
class CNNClassifier(_WindowClassifier):
    """Supervised 1-D CNN window classifier with negative sampling (the paper's CNN).

    Two convolutions, two max-poolings and two fully connected layers; cross-entropy.

    Args:{args}
    Shapes:
        fit: windows ``[W, N, T, F]`` and labels ``[W]``; score_windows -> ``[W]``
        (probability of the abnormal class); decision_function -> ``[W, N]``.
    """

    def _encoder(self, channels: int, steps: int) -> nn.Module:
        return CNNEncoder(channels, steps, int(self.hidden_channels))


@register_detector
class LSTMClassifier(_WindowClassifier):
    """Supervised LSTM window classifier with negative sampling (the paper's LSTM).

    An LSTM reads the window step by step (all node features of a step as its input);
    its last hidden state goes to a linear layer with two outputs; cross-entropy.

    Args:{args}
    Shapes:
        fit: windows ``[W, N, T, F]`` and labels ``[W]``; score_windows -> ``[W]``;
        decision_function -> ``[W, N]``.
    """

    def _encoder(self, channels: int, steps: int) -> nn.Module:
        return _LSTMEncoder(channels, int(self.hidden_channels))


@register_detector
class NegativeSamplingContrastive(_WindowClassifier):
    """Negative sampling + Algorithm-1 augmentation + SimCLR pretraining + fine-tuning.

    Args:{args}        augment_steps: Leading steps replaced by Algorithm 1 (``None``: ``T // 2``,
            the paper's 2 of 4).
        pretrain_epochs: SimCLR epochs before fine-tuning (0 skips pretraining).
        tau: NT-Xent temperature.

    Shapes:
        fit: windows ``[W, N, T, F]`` and labels ``[W]``; score_windows -> ``[W]``;
        decision_function -> ``[W, N]``.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.randn(80, 3, 4, 1, generator=g)
        >>> y = torch.zeros(80, dtype=torch.long)
        >>> y[::8] = 1
        >>> x[y == 1, 1, 2:] += 4.0
        >>> det = NegativeSamplingContrastive(epochs=20, pretrain_epochs=3,
        ...                                   random_state=0).fit(x, y)
        >>> det.report(x, y)["tpr"]
        1.0
    """

    def __init__(
        self,
        negative_sampling: bool = True,
        negative_ratio: float = 1.0,
        hidden_channels: int = 32,
        epochs: int = 30,
        batch_size: int = 32,
        lr: float = 1e-3,
        decision_threshold: float = 0.5,
        window_size: int | None = 4,
        random_state: int | None = 0,
        device: str = "auto",
        verbose: bool = False,
        augment_steps: int | None = None,
        pretrain_epochs: int = 20,
        tau: float = 0.5,
    ) -> None:
        self.negative_sampling = negative_sampling
        self.negative_ratio = negative_ratio
        self.hidden_channels = hidden_channels
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.decision_threshold = decision_threshold
        self.window_size = window_size
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.augment_steps = augment_steps
        self.pretrain_epochs = pretrain_epochs
        self.tau = tau

    def _encoder(self, channels: int, steps: int) -> nn.Module:
        return CNNEncoder(channels, steps, int(self.hidden_channels))

    def _steps(self, steps: int) -> int:
        k = steps // 2 if self.augment_steps is None else int(self.augment_steps)
        if not 0 <= k < steps:
            raise GraphadInputError(
                "augment_steps does not fit the windows",
                field="augment_steps",
                expected=f"0..{steps - 1}",
                found=self.augment_steps,
            )
        return k

    def _training_set(
        self, batch: WindowBatch, y: Tensor, generator: torch.Generator
    ) -> tuple[Tensor, Tensor, Tensor]:
        steps = self._steps(batch.x.shape[2])
        index = (
            negative_sample(y, self.negative_ratio, generator)
            if self.negative_sampling
            else torch.arange(y.numel())
        )
        donors = nearest_normal(index, batch.window_end, y)
        views = augment_abnormal(batch.x[index], batch.x[donors], steps)
        abnormal = y[index] == 1
        x = torch.cat([batch.x[index], views[abnormal]])
        labels = torch.cat([y[index], torch.ones(int(abnormal.sum()), dtype=torch.long)])
        # the augmented abnormal windows are paired with their originals for pretraining
        return x, labels, torch.cat([views, batch.x[index][abnormal]])

    def _pretrain(
        self,
        model: _Classifier,
        x: Tensor,
        views: Tensor,
        generator: torch.Generator,
        device: torch.device,
    ) -> None:
        from graphad.nn import nt_xent

        hidden = int(self.hidden_channels)
        projection = nn.Sequential(
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden)
        ).to(device)
        params = list(model.encoder.parameters()) + list(projection.parameters())
        optimiser = torch.optim.Adam(params, lr=float(self.lr))
        self.pretrain_history_: list[float] = []
        size = max(int(self.batch_size), 2)
        for _ in range(int(self.pretrain_epochs)):
            model.train()
            order = torch.randperm(x.shape[0], generator=generator)
            total, count = 0.0, 0
            for start in range(0, order.numel(), size):
                idx = order[start : start + size]
                if idx.numel() < 2:  # NT-Xent needs a negative
                    continue
                z1 = projection(model.encoder(x[idx].to(device)))
                z2 = projection(model.encoder(views[idx].to(device)))
                loss = nt_xent(z1, z2, tau=float(self.tau))
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += loss.item() * idx.numel()
                count += idx.numel()
            self.pretrain_history_.append(total / max(count, 1))


for _cls in (CNNClassifier, LSTMClassifier, NegativeSamplingContrastive):
    _cls.__doc__ = _cls.__doc__.replace("{args}", _CLASSIFIER_ARGS)
