"""The estimator contract every graphad detector follows (scikit-learn / PyOD style).

``__init__`` stores keyword arguments only. ``fit(windows)`` learns normal behaviour,
sets attributes ending in ``_`` and returns ``self``. ``decision_function`` gives node
scores ``[W, N]`` and ``score_windows`` window scores ``[W]`` (higher = more anomalous);
``predict`` compares window scores with ``threshold_``, fitted on the training scores only.
``save`` / ``load`` write and read weights + JSON config with ``weights_only=True``.

Inputs (``windows``) may be a :class:`~graphad.graph.DynamicGraph`, a list of PyG ``Data``
windows (``x: [N, T, F]``), a ``[W, N, T, F]`` tensor, or a plain wide time series
(``[T_total, N]`` array or DataFrame), which is cut into end-aligned windows of
``window_size`` steps with stride 1 (see :func:`sliding_windows`).

Per-step outputs for plain series: :meth:`BaseDetector.score_steps`,
:meth:`BaseDetector.predict_steps`, and after fitting on a plain series
``decision_scores_`` / ``labels_`` (and :meth:`BaseDetector.fit_predict`) have one value per
input row, aligned with the rows; the first ``window_size - 1`` rows, which end no full
window, are NaN. For window inputs they have one value per window.

Refusals: ``fit`` estimates the memory it needs (:meth:`BaseDetector._memory_estimate`)
and refuses, naming the size and the option that fits, beyond :func:`memory_limit`;
training data whose every node is constant, and node names / order that differ at
scoring from those of ``fit``, are errors.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data

from graphad._persist import atomic_torch_save, is_str_list, read_blob, require
from graphad.detectors.threshold import SPOT, fit_threshold, spot_level
from graphad.exceptions import GraphadInputError, NotFittedError
from graphad.graph.dynamic import DynamicGraph
from graphad.utils import ParamsMixin, Registry

__all__ = [
    "BaseDetector",
    "WindowBatch",
    "as_window_batch",
    "sliding_windows",
    "window_scores_to_steps",
    "check_is_fitted",
    "check_window_labels",
    "DETECTORS",
    "register_detector",
    "memory_limit",
]

logger = logging.getLogger(__name__)

#: Largest magnitude of an input value (float32 squares overflow near 1.8e19).
MAX_ABS_VALUE = 1e15

#: Environment variable overriding the memory limit of ``fit`` (GB).
MEMORY_LIMIT_ENV = "GRAPHAD_MEMORY_LIMIT_GB"


def memory_limit() -> float:
    """Bytes a detector may plan to use while fitting.

    ``$GRAPHAD_MEMORY_LIMIT_GB`` when set, else 80 % of the machine's physical memory.
    """
    value = os.environ.get(MEMORY_LIMIT_ENV)
    if value:
        try:
            return float(value) * 2**30
        except ValueError as error:
            raise GraphadInputError(
                "memory limit is not a number",
                field=MEMORY_LIMIT_ENV,
                expected="GB as a number",
                found=value,
            ) from error
    try:
        return 0.8 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 16 * 2**30


def _default_names(n: int) -> list[str]:
    return [str(i) for i in range(n)]


#: Registry of detector classes by name, filled by :func:`register_detector`.
DETECTORS: Registry = Registry("detector")


def register_detector(cls: type[BaseDetector]) -> type[BaseDetector]:
    """Class decorator: make ``cls`` loadable by name and resolvable from strings."""
    DETECTORS[cls.__name__] = cls
    return cls


@dataclass
class WindowBatch:
    """Windows stacked for a detector.

    Attributes:
        x: Node features, ``[W, N, T, F]`` float32.
        node_mask: Presence, ``[W, N]`` bool.
        edge_index: Union of observed edges over the windows, ``[2, E]`` (may be empty).
        node_names: Names of the ``N`` nodes.
        window_end: Window end times ``[W]`` int64 (ns, or step indices for plain series).

    """

    x: torch.Tensor
    node_mask: torch.Tensor
    edge_index: torch.Tensor
    node_names: list[str]
    window_end: torch.Tensor

    @property
    def num_windows(self) -> int:
        """``W``."""
        return int(self.x.shape[0])

    @property
    def num_nodes(self) -> int:
        """``N``."""
        return int(self.x.shape[1])


def sliding_windows(series: np.ndarray, window_size: int) -> np.ndarray:
    """Cut a ``[T_total, N]`` series into end-aligned windows of ``window_size`` steps.

    Window ``w`` holds steps ``w .. w + window_size - 1`` and is attributed to its last
    step ``w + window_size - 1``.

    Args:
        series: ``[T_total, N]`` values.
        window_size: Steps per window ``T``.

    Returns:
        ``[T_total - T + 1, N, T]`` array (a view when possible).

    Example:
        >>> sliding_windows(np.arange(8.0).reshape(4, 2), 3)[:, 0].tolist()
        [[0.0, 2.0, 4.0], [2.0, 4.0, 6.0]]

    """
    series = np.asarray(series)
    if series.ndim != 2:
        raise GraphadInputError(
            "a plain time series must be two-dimensional [time, node]",
            field="windows",
            expected="2 dimensions",
            found=f"{series.ndim} dimensions",
        )
    if not 1 <= window_size <= series.shape[0]:
        raise GraphadInputError(
            "window_size does not fit the series",
            field="window_size",
            expected=f"1..{series.shape[0]}",
            found=window_size,
        )
    view = np.lib.stride_tricks.sliding_window_view(series, window_size, axis=0)
    return view  # [W, N, T]


def window_scores_to_steps(
    window_scores: torch.Tensor | np.ndarray, num_steps: int, window_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Map end-aligned window scores back to the steps of the series, explicitly.

    Args:
        window_scores: ``[W]`` (or ``[W, N]``) scores, ``W = num_steps - window_size + 1``.
        num_steps: Length ``T_total`` of the scored series.
        window_size: ``T``.

    Returns:
        ``(scores, valid)``: ``[T_total]`` (or ``[T_total, N]``) scores with NaN where no
        window ends, and the ``[T_total]`` bool mask of steps that have a score.

    Example:
        >>> s, v = window_scores_to_steps(np.array([1.0, 2.0]), 4, 3)
        >>> s.tolist(), v.tolist()
        ([nan, nan, 1.0, 2.0], [False, False, True, True])

    """
    values = (
        window_scores.detach().cpu().numpy()
        if torch.is_tensor(window_scores)
        else np.asarray(window_scores)
    )
    expected = num_steps - window_size + 1
    if values.shape[0] != expected:
        raise GraphadInputError(
            "window scores do not match the series",
            field="window_scores",
            expected=f"{expected} windows",
            found=f"{values.shape[0]}",
        )
    out = np.full((num_steps, *values.shape[1:]), np.nan, dtype=np.float64)
    out[window_size - 1 :] = values
    valid = np.zeros(num_steps, dtype=bool)
    valid[window_size - 1 :] = True
    return out, valid


def _from_data_list(windows: list[Data], node_names: list[str] | None) -> WindowBatch:
    for i, w in enumerate(windows):
        if not hasattr(w, "x") or w.x is None or w.x.dim() != 3:
            raise GraphadInputError(
                "window has no [N, T, F] node features",
                record=i,
                field="x",
                expected="a 3-dimensional tensor",
                found=None if getattr(w, "x", None) is None else f"{w.x.dim()} dimensions",
            )
    x = torch.stack([w.x for w in windows]).float()
    mask = torch.stack(
        [
            w.node_mask
            if getattr(w, "node_mask", None) is not None
            else torch.ones(w.x.shape[0], dtype=torch.bool)
            for w in windows
        ]
    )
    edges = [w.edge_index for w in windows if getattr(w, "edge_index", None) is not None]
    edge_index = (
        torch.unique(torch.cat(edges, 1), dim=1)
        if edges and sum(e.numel() for e in edges)
        else torch.zeros(2, 0, dtype=torch.long)
    )
    ends = torch.tensor(
        [
            int(w.window_end.view(-1)[0]) if getattr(w, "window_end", None) is not None else i
            for i, w in enumerate(windows)
        ],
        dtype=torch.long,
    )
    names = node_names or [str(i) for i in range(x.shape[1])]
    return WindowBatch(x, mask, edge_index, names, ends)


def as_window_batch(windows: Any, window_size: int | None = None) -> WindowBatch:
    """Coerce any accepted input into a :class:`WindowBatch`.

    Args:
        windows: DynamicGraph, list of ``Data``, ``[W, N, T, F]`` tensor, or a wide
            ``[T_total, N]`` array / DataFrame (then ``window_size`` is required).
        window_size: Steps per window for plain time series.

    Returns:
        The stacked batch.

    Raises:
        GraphadInputError: The input has none of the accepted forms or contains NaN.

    """
    if isinstance(windows, DynamicGraph):
        batch = _from_data_list(windows.windows, windows.vocab.names)
    elif isinstance(windows, (list, tuple)) and windows and isinstance(windows[0], Data):
        batch = _from_data_list(list(windows), None)
    elif torch.is_tensor(windows) and windows.dim() == 4:
        x = windows.float()
        batch = WindowBatch(
            x,
            torch.ones(x.shape[:2], dtype=torch.bool),
            torch.zeros(2, 0, dtype=torch.long),
            [str(i) for i in range(x.shape[1])],
            torch.arange(x.shape[0]),
        )
    elif isinstance(windows, (np.ndarray, pd.DataFrame)) or torch.is_tensor(windows):
        if window_size is None:
            raise GraphadInputError(
                "window_size is needed to cut a plain time series", field="window_size"
            )
        names = [str(c) for c in windows.columns] if isinstance(windows, pd.DataFrame) else None
        series = (
            windows.to_numpy(dtype=np.float32)
            if isinstance(windows, pd.DataFrame)
            else (windows.cpu().numpy() if torch.is_tensor(windows) else np.asarray(windows))
        )
        cut = sliding_windows(series.astype(np.float32, copy=False), int(window_size))
        x = torch.from_numpy(np.require(cut, requirements=["C", "W"]))[..., None]  # [W, N, T, 1]
        names = names or [str(i) for i in range(x.shape[1])]
        ends = torch.arange(window_size - 1, series.shape[0])
        batch = WindowBatch(
            x,
            torch.ones(x.shape[:2], dtype=torch.bool),
            torch.zeros(2, 0, dtype=torch.long),
            names,
            ends,
        )
    else:
        raise GraphadInputError(
            "unsupported input",
            field="windows",
            expected="a DynamicGraph, a list of Data, a [W, N, T, F] tensor, "
            "or a [time, node] array/DataFrame",
            found=type(windows).__name__,
        )
    if batch.num_windows == 0:
        raise GraphadInputError(
            "no windows to work on",
            field="windows",
            expected="at least one window",
            found=0,
        )
    if not torch.isfinite(batch.x).all():
        w, n = (~torch.isfinite(batch.x)).flatten(2).any(-1).nonzero()[0].tolist()
        raise GraphadInputError(
            "non-finite feature value (fill or mask missing values first)",
            record=w,
            field=f"x[node {batch.node_names[n]}]",
            expected="finite values",
            found="NaN/inf",
        )
    return batch


def _plain_rows(windows: Any) -> int | None:
    """Rows of a plain ``[T_total, N]`` series (array / DataFrame / 2-D tensor), else None."""
    if isinstance(windows, pd.DataFrame):
        return len(windows)
    if isinstance(windows, np.ndarray) and windows.ndim == 2:
        return int(windows.shape[0])
    if torch.is_tensor(windows) and windows.dim() == 2:
        return int(windows.shape[0])
    return None


def check_window_labels(y: Any, num_windows: int) -> torch.Tensor:
    """Validate window labels for supervised detectors.

    Args:
        y: ``[W]`` labels, 0 (normal) or 1 (anomalous), as a list, array or tensor.
        num_windows: ``W`` of the windows they label.

    Returns:
        ``[W]`` int64 tensor.

    Raises:
        GraphadInputError: ``y`` is missing, has the wrong length or values other than 0/1.

    Example:
        >>> check_window_labels([0, 1, 1], 3).tolist()
        [0, 1, 1]

    """
    if y is None:
        raise GraphadInputError(
            "this detector is supervised: fit(windows, y) needs labels",
            field="y",
            expected="[W] window labels 0/1",
            found=None,
        )
    values = torch.as_tensor(np.asarray(y.detach().cpu() if torch.is_tensor(y) else y))
    if values.dim() != 1 or values.shape[0] != num_windows:
        raise GraphadInputError(
            "labels do not match the windows",
            field="y",
            expected=f"[{num_windows}] labels",
            found=f"shape {tuple(values.shape)}",
        )
    bad = ~((values == 0) | (values == 1))
    if bool(bad.any()):
        index = int(bad.nonzero()[0, 0])
        raise GraphadInputError(
            "window label is not 0 or 1",
            record=index,
            field="y",
            expected="0 or 1",
            found=values[index].item(),
        )
    return values.long()


def check_is_fitted(estimator: object, attributes: tuple[str, ...] = ("threshold_",)) -> None:
    """Raise :class:`NotFittedError` unless ``estimator`` has the fitted attributes."""
    if not all(hasattr(estimator, a) for a in attributes):
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
            "training windows before using this estimator."
        )


class BaseDetector(ParamsMixin):
    """Base class of all detectors; subclasses implement ``_fit`` and ``_score_nodes``.

    Subclasses declare their hyper-parameters as keyword arguments of ``__init__`` and
    store each under the same name (nothing else). Shared ones, by convention:
    ``window_size`` (for plain series), ``contamination``, ``threshold`` (``"quantile"``
    or ``"pot"``), ``random_state``, ``device``, ``verbose``.

    Subclasses must implement:

    * ``_fit(batch: WindowBatch) -> None``: learn; set fitted attributes (supervised
      detectors set ``_requires_labels = True`` and implement ``_fit(batch, y)``);
    * ``_score_nodes(batch: WindowBatch) -> Tensor[W, N]``;
    * optionally ``_score_windows(batch) -> Tensor[W]`` (default: max node score) and
      ``_fit_threshold(train_scores) -> float`` (default: ``threshold`` / ``contamination``);
    * ``_get_state() -> dict[str, Tensor]`` / ``_set_state(state)`` for persistence
      (tensors only), plus JSON-able fitted metadata through ``_fitted_meta``.
    """

    #: Names of fitted attributes (besides tensors in the state) saved as JSON.
    _fitted_meta: ClassVar[tuple[str, ...]] = ()
    #: Whether ``fit`` needs window labels ``y`` (supervised detectors); then ``_fit``
    #: is called as ``_fit(batch, y)`` with ``y`` a ``[W]`` int64 tensor of 0/1.
    _requires_labels: ClassVar[bool] = False
    #: What ``fit`` / ``score_windows`` take: ``"windows"`` (this contract) or
    #: ``"sequences"`` (event-sequence models such as DeepLog, documented by the class).
    input_kind: ClassVar[str] = "windows"

    # -- the contract ------------------------------------------------------------------
    def _batch(self, windows: Any) -> WindowBatch:
        return as_window_batch(windows, getattr(self, "window_size", None))

    def fit(self, windows: Any, y: Any = None) -> BaseDetector:
        """Learn normal behaviour from (mostly normal) training windows.

        Args:
            windows: Training windows (see the module docstring for accepted forms).
            y: Window labels ``[W]`` (0 normal, 1 anomalous) for supervised detectors
                (``_requires_labels``); ignored by unsupervised ones.

        Returns:
            ``self``.

        Raises:
            GraphadInputError: Bad windows, or missing / malformed labels for a
                supervised detector.

        """
        batch = self._batch(windows)
        self._check_magnitude(batch, _plain_rows(windows))
        self._check_training_data(batch)
        self._check_memory(batch)
        self.node_names_ = list(batch.node_names)
        self.n_nodes_ = batch.num_nodes
        self.n_steps_ = int(batch.x.shape[2])
        self.n_features_ = int(batch.x.shape[3])
        if self._requires_labels:
            self._fit(batch, check_window_labels(y, batch.num_windows))
        else:
            self._fit(batch)
        self.train_scores_ = self._score_windows(batch).detach().cpu()
        self._check_scores(self.train_scores_, batch)
        self.threshold_ = self._fit_threshold(self.train_scores_)
        rows = _plain_rows(windows)
        self.decision_scores_ = self._align(self.train_scores_.double().numpy(), rows)
        labels = self._alarms(self.train_scores_.double().numpy(), stream=False)
        self.labels_ = self._align(labels.astype(np.float64), rows)
        return self

    def fit_predict(self, windows: Any, y: Any = None) -> np.ndarray:
        """Fit, then return ``labels_``: 1 for training windows (rows) above the threshold.

        Returns:
            ``[W]`` (window input) or ``[T_total]`` (plain series, leading
            ``window_size - 1`` rows NaN) float64 array of 0/1.

        """
        return self.fit(windows, y).labels_

    def _align(self, values: np.ndarray, rows: int | None) -> np.ndarray:
        """Per-window values -> per-row values (NaN before the first full window)."""
        if rows is None:
            return values
        return window_scores_to_steps(values, rows, int(self.window_size))[0]

    def _check_training_data(self, batch: WindowBatch) -> None:
        """Refuse training data on which nothing can be learned (every node constant)."""
        x = batch.x
        high, low = x.amax(dim=(0, 2, 3)), x.amin(dim=(0, 2, 3))  # [N], no copy of x
        spread = high - low
        constant = spread <= 1e-12 * torch.maximum(high.abs(), low.abs()).clamp_min(1.0)
        if bool(constant.all()):
            raise GraphadInputError(
                "training data is constant: every node keeps one value, so nothing "
                "defines normal variation and every later change would alarm",
                field="windows",
                expected="at least one node that varies in training",
                found=f"{len(batch.node_names)} constant nodes",
            )
        if bool(constant.any()):
            names = [batch.node_names[i] for i in constant.nonzero().flatten().tolist()]
            logger.warning(
                "%s: %d training node(s) constant: %s", type(self).__name__, len(names), names[:10]
            )

    def _memory_estimate(self, batch: WindowBatch) -> tuple[float, str]:
        """Bytes ``fit`` will need at its peak, and the option that lowers it.

        The default counts the stacked windows twice (the input and one working copy);
        detectors with larger working sets override it.
        """
        return 2.0 * batch.x.numel() * 4, "fewer or shorter windows (window_size)"

    def _check_memory(self, batch: WindowBatch) -> None:
        need, advice = self._memory_estimate(batch)
        limit = memory_limit()
        if need > limit:
            raise GraphadInputError(
                f"fitting {type(self).__name__} on {batch.num_windows} windows x "
                f"{batch.num_nodes} nodes would need about {need / 2**30:.1f} GB; "
                f"use {advice}, or raise ${MEMORY_LIMIT_ENV}",
                field="windows",
                expected=f"at most {limit / 2**30:.1f} GB",
                found=f"{need / 2**30:.1f} GB",
            )

    def _check_magnitude(self, batch: WindowBatch, rows: int | None = None) -> None:
        """Refuse values beyond ``±MAX_ABS_VALUE``: their squares overflow float32 and
        differences lose every digit, so their scores would be NaN or silently ~0.
        """
        big = batch.x.abs() > MAX_ABS_VALUE
        if bool(big.any()):
            w, n, t, _ = big.nonzero()[0].tolist()
            record = w + t if rows is not None else w  # the row of a plain series
            raise GraphadInputError(
                "value too large to score in float32 (rescale the metric, e.g. to other units)",
                record=record,
                field=f"x[node {batch.node_names[n]}]",
                expected=f"|value| <= {MAX_ABS_VALUE:g}",
                found=f"{float(batch.x[w, n, t].abs().max()):.3g}",
            )

    def _check_scores(self, scores: torch.Tensor, batch: WindowBatch) -> None:
        bad = ~torch.isfinite(scores)
        if bool(bad.any()):
            first = int(bad.reshape(bad.shape[0], -1).any(1).nonzero()[0, 0])
            peak = float(batch.x[first].abs().max())
            raise GraphadInputError(
                "non-finite anomaly score (input values too large for float32 arithmetic; "
                "rescale the metrics)",
                record=first,
                field="scores",
                expected="finite scores",
                found=f"NaN/inf with inputs up to {peak:.3g}",
            )

    def _fit_threshold(self, train_scores: torch.Tensor) -> float:
        """The decision threshold from the training window scores (override to change)."""
        return fit_threshold(
            train_scores,
            getattr(self, "threshold", "quantile"),
            getattr(self, "contamination", 0.01),
            risk=getattr(self, "risk", 1e-3),
        )

    def _score_windows(self, batch: WindowBatch) -> torch.Tensor:
        """Window scores ``[W]``; by default the maximum node score (override to change)."""
        return self._reduce_nodes(self._score_nodes(batch), batch.node_mask)

    def _check_input(self, batch: WindowBatch) -> None:
        check_is_fitted(self)
        shape = (self.n_nodes_, self.n_steps_, self.n_features_)
        if tuple(batch.x.shape[1:]) != shape:
            raise GraphadInputError(
                "windows do not match the training windows",
                field="x",
                expected=f"[W, N, T, F] with (N, T, F) = {shape}",
                found=f"{tuple(batch.x.shape)}",
            )
        names = list(batch.node_names)
        fitted = list(getattr(self, "node_names_", names))
        default = _default_names(len(names))
        if names != fitted and default not in (names, fitted):  # unnamed input: no check
            if sorted(names) == sorted(fitted):
                raise GraphadInputError(
                    "nodes are in another order than at fit (scores would be blamed on the "
                    "wrong node); reorder them, e.g. df[detector.node_names_]",
                    field="node_names",
                    expected=str(fitted[:10]),
                    found=str(names[:10]),
                )
            missing = [n for n in fitted if n not in names]
            extra = [n for n in names if n not in fitted]
            raise GraphadInputError(
                "nodes differ from those at fit",
                field="node_names",
                expected=f"the fitted nodes (missing here: {missing[:10]})",
                found=f"unknown nodes {extra[:10]}",
            )

    def decision_function(self, windows: Any) -> torch.Tensor:
        """Per-node anomaly scores, higher = more anomalous.

        Returns:
            ``Tensor[W, N]``.

        """
        check_is_fitted(self)
        batch = self._batch(windows)
        self._check_input(batch)
        self._check_magnitude(batch, _plain_rows(windows))
        scores = self._score_nodes(batch).detach().cpu()
        self._check_scores(scores, batch)
        return scores

    def score_windows(self, windows: Any) -> torch.Tensor:
        """Per-window anomaly scores, higher = more anomalous.

        Returns:
            ``Tensor[W]``.

        """
        check_is_fitted(self)
        batch = self._batch(windows)
        self._check_input(batch)
        self._check_magnitude(batch, _plain_rows(windows))
        scores = self._score_windows(batch).detach().cpu()
        self._check_scores(scores, batch)
        return scores

    def _alarms(self, scores: np.ndarray, stream: bool = True) -> np.ndarray:
        """0/1 alarms of window scores: above ``threshold_``, or, with
        ``threshold="dspot"`` and ``stream``, DSPOT calibrated on the training scores and
        updated over ``scores`` in order (:class:`~graphad.detectors.threshold.SPOT`).
        """
        if stream and getattr(self, "threshold", None) == "dspot":
            risk = getattr(self, "risk", 1e-3)
            # the drift window is capped at a quarter of the training scores
            depth = min(int(getattr(self, "drift_depth", 0)), len(self.train_scores_) // 4)
            spot = SPOT(risk=risk, level=spot_level(risk), depth=depth).fit(self.train_scores_)
            return spot.run(scores)[0].astype(np.int64)
        return (scores > self.threshold_).astype(np.int64)

    def alarms(self, scores: np.ndarray | torch.Tensor) -> np.ndarray:
        """The alarms :meth:`predict` raises, from window scores already computed.

        For a caller that needs the scores too (a benchmark), so nothing is scored twice.

        Args:
            scores: ``[W]`` window scores of :meth:`score_windows`, in stream order.

        Returns:
            ``[W]`` int64 0/1.

        """
        check_is_fitted(self)
        values = scores.detach().cpu().numpy() if torch.is_tensor(scores) else np.asarray(scores)
        return self._alarms(values.astype(np.float64).ravel())

    def predict(self, windows: Any) -> torch.Tensor:
        """1 where the window score exceeds ``threshold_`` (fitted on training data).

        With ``threshold="dspot"`` the windows are taken as a stream in order and the
        threshold follows it (DSPOT started from the training scores).

        Returns:
            ``Tensor[W]`` of int64 0/1.

        """
        scores = self.score_windows(windows).double().numpy()
        return torch.from_numpy(self._alarms(scores))

    def score_steps(self, series: Any) -> np.ndarray:
        """Window scores of a plain ``[T_total, N]`` series, aligned with its rows.

        Returns:
            ``[T_total]`` float64; the first ``window_size - 1`` rows are NaN (no full
            window ends there).

        """
        rows = _plain_rows(series)
        scores = self.score_windows(series).double().numpy()
        return scores if rows is None else self._align(scores, rows)

    def predict_steps(self, series: Any) -> np.ndarray:
        """:meth:`predict` aligned with the rows of a plain series (leading rows NaN).

        Returns:
            ``[T_total]`` float64 of 0/1 and NaN.

        """
        rows = _plain_rows(series)
        alarms = self.predict(series).double().numpy()
        return alarms if rows is None else self._align(alarms, rows)

    def _reduce_nodes(self, node_scores: torch.Tensor, node_mask: torch.Tensor) -> torch.Tensor:
        """Window score from node scores: the maximum over present nodes."""
        masked = node_scores.masked_fill(~node_mask.to(node_scores.device), float("-inf"))
        out = masked.max(dim=1).values
        return torch.where(torch.isfinite(out), out, torch.zeros_like(out))

    # -- subclass hooks ----------------------------------------------------------------
    def _fit(self, batch: WindowBatch) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _score_nodes(self, batch: WindowBatch) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def _get_state(self) -> dict[str, torch.Tensor]:
        return {}

    def _set_state(self, state: dict[str, torch.Tensor]) -> None:
        pass

    # -- persistence -------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write config (JSON) and fitted tensors to one file; no code is pickled.

        The file is written next to ``path`` and moved over it (:func:`os.replace`), so
        that a reader or a concurrent save never sees a partial file.

        Raises:
            NotFittedError: The detector is not fitted.
            GraphadInputError: ``path`` cannot be written.
        """
        check_is_fitted(self)
        fitted = {
            name: getattr(self, name)
            for name in (
                "node_names_",
                "n_nodes_",
                "n_steps_",
                "n_features_",
                "threshold_",
                *self._fitted_meta,
            )
        }
        params = self.get_params(deep=False)
        header = {
            "class": type(self).__name__,
            "params": params,
            "fitted": fitted,
            # JSON has no tuples: remember which parameters were, to restore them exactly
            "tuple_params": sorted(k for k, v in params.items() if isinstance(v, tuple)),
        }
        state = {k: v.detach().cpu() for k, v in self._get_state().items()}
        state["train_scores_"] = self.train_scores_
        atomic_torch_save({"header": json.dumps(header), "state": state}, path)

    @classmethod
    def load(cls, path: str | Path) -> BaseDetector:  # noqa: C901 - one check per field
        """Read a detector written by :meth:`save` (``torch.load(weights_only=True)``).

        Raises:
            GraphadInputError: The file is not a saved detector, or of another class.

        """
        source = str(path)
        header, state = read_blob(path, "graphad detector", "state")
        name = require(header, "class", lambda v: isinstance(v, str), "a class name", source)
        target = DETECTORS.get(name)
        if target is None or (cls is not BaseDetector and not issubclass(target, cls)):
            raise GraphadInputError(
                "saved detector is of another class",
                source=source,
                field="class",
                expected=cls.__name__ if cls is not BaseDetector else "a registered detector",
                found=name[:60],
            )
        params = dict(require(header, "params", lambda v: isinstance(v, dict), "an object", source))
        fitted = require(header, "fitted", lambda v: isinstance(v, dict), "an object", source)
        _check_fitted_header(fitted, source)
        tuples = require(
            header,
            "tuple_params",
            lambda v: is_str_list(v) and all(k in params for k in v),
            "a list of parameter names",
            source,
            optional=True,
        )
        for key in tuples or ():
            if not isinstance(params[key], list):
                raise GraphadInputError(
                    "malformed field in the saved file",
                    source=source,
                    field=f"params.{key}",
                    expected="a list",
                    found=type(params[key]).__name__,
                )
            params[key] = tuple(params[key])
        state = dict(state)
        scores = state.pop("train_scores_", None)
        if not torch.is_tensor(scores) or not all(torch.is_tensor(v) for v in state.values()):
            raise GraphadInputError(
                "malformed field in the saved file",
                source=source,
                field="state",
                expected="tensors, with 'train_scores_'",
                found=sorted(state)[:8],
            )
        try:
            detector = target(**params)
            for key, value in fitted.items():
                setattr(detector, key, value)
            detector.train_scores_ = scores
            detector._set_state(state)
        except GraphadInputError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError, IndexError, RuntimeError) as error:
            text = str(error).splitlines()[0][:120] if str(error) else ""
            raise GraphadInputError(
                "saved detector does not fit its class",
                source=source,
                field="params / state",
                expected=f"the parameters and tensors of a fitted {name}",
                found=f"{type(error).__name__}: {text}",
            ) from None
        return detector


def _check_fitted_header(fitted: dict, source: str) -> None:
    """The fitted attributes every saved detector has, checked before use."""

    def positive(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v > 0

    n_nodes = require(fitted, "n_nodes_", positive, "a positive integer", source)
    require(fitted, "n_steps_", positive, "a positive integer", source)
    require(fitted, "n_features_", positive, "a positive integer", source)
    require(
        fitted,
        "node_names_",
        lambda v: is_str_list(v) and len(v) == n_nodes and len(set(v)) == len(v),
        f"{n_nodes} distinct node names",
        source,
    )
    require(
        fitted,
        "threshold_",
        lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "a number",
        source,
    )
