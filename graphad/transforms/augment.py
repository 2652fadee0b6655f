r"""Augmented views of node windows for contrastive learning (UCL's MVAS, graph views).

Series augmentations act on node features ``x: [..., T, F]`` (time on axis ``-2``) and come
in two forms: a pure function with explicit parameters (``time_shift(x, shift)``; the
parameters broadcast over the leading axes, so every series can get its own), and a PyG
:class:`~torch_geometric.transforms.BaseTransform` that draws the parameters per node from
its own seeded generator and applies them to ``data.x`` (``[N, T, F]``). Graph views wrap
PyG's ``dropout_edge``, ``mask_feature`` and ``subgraph``. Nothing writes into its input.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform
from torch_geometric.utils import dropout_edge, mask_feature, subgraph

from graphad.exceptions import GraphadInputError

__all__ = [
    "time_shift",
    "segment_mask",
    "segment_replace",
    "frequency_mask",
    "jitter",
    "scaling",
    "random_series_view",
    "TimeShift",
    "SegmentMask",
    "SegmentReplace",
    "FrequencyMask",
    "Jitter",
    "Scaling",
    "DropEdges",
    "MaskFeatures",
    "RandomSubgraph",
    "RandomChoice",
    "TwoViews",
]


# -- pure functions ------------------------------------------------------------------------
def _check_series(x: Tensor) -> None:
    if x.dim() < 2:
        raise GraphadInputError(
            "series must be [..., T, F]",
            field="x",
            expected=">= 2 dimensions",
            found=f"{x.dim()} dimensions",
        )


def _param(value: int | float | Tensor, x: Tensor) -> Tensor:
    """A parameter broadcast to the leading axes, shaped ``[..., 1]`` against time."""
    t = torch.as_tensor(value, device=x.device)
    return t.expand(x.shape[:-2]).unsqueeze(-1)


def _gather_time(x: Tensor, index: Tensor) -> Tensor:
    """``out[..., t, :] = x[..., index[..., t], :]``."""
    index = index.expand(*x.shape[:-2], x.shape[-2]).unsqueeze(-1).expand_as(x)
    return torch.gather(x, -2, index)


def time_shift(x: Tensor, shift: int | Tensor) -> Tensor:
    """Shift each series forward in time by ``shift`` steps, repeating the edge value.

    Args:
        x: ``[..., T, F]``.
        shift: Steps (positive: later, negative: earlier), an int or one per series.

    Returns:
        A new ``[..., T, F]`` tensor: ``out[t] = x[clamp(t - shift, 0, T - 1)]``.

    Example:
        >>> time_shift(torch.arange(4.0).view(4, 1), 1).flatten().tolist()
        [0.0, 0.0, 1.0, 2.0]
    """
    _check_series(x)
    steps = torch.arange(x.shape[-2], device=x.device)
    index = (steps - _param(shift, x).long()).clamp(0, x.shape[-2] - 1)
    return _gather_time(x, index)


def _segment(x: Tensor, start: int | Tensor, length: int | Tensor) -> Tensor:
    steps = torch.arange(x.shape[-2], device=x.device)
    begin = _param(start, x).long()
    return (steps >= begin) & (steps < begin + _param(length, x).long())  # [..., T]


def segment_mask(
    x: Tensor, start: int | Tensor, length: int | Tensor, value: float = 0.0
) -> Tensor:
    """Local masking: set ``length`` steps from ``start`` to ``value``.

    Example:
        >>> segment_mask(torch.ones(4, 1), 1, 2).flatten().tolist()
        [1.0, 0.0, 0.0, 1.0]
    """
    _check_series(x)
    mask = _segment(x, start, length).unsqueeze(-1)
    return x.masked_fill(mask, value)


def segment_replace(
    x: Tensor, start: int | Tensor, source: int | Tensor, length: int | Tensor
) -> Tensor:
    """Index replacement: copy ``length`` steps starting at ``source`` over ``start``.

    Example:
        >>> segment_replace(torch.arange(5.0).view(5, 1), 0, 3, 2).flatten().tolist()
        [3.0, 4.0, 2.0, 3.0, 4.0]
    """
    _check_series(x)
    steps = torch.arange(x.shape[-2], device=x.device)
    inside = _segment(x, start, length)
    moved = steps - _param(start, x).long() + _param(source, x).long()
    index = torch.where(inside, moved.clamp(0, x.shape[-2] - 1), steps)
    return _gather_time(x, index)


def frequency_mask(x: Tensor, start: int | Tensor, width: int | Tensor) -> Tensor:
    """Frequency-band masking: zero rFFT bins ``start .. start + width - 1`` along time.

    Args:
        x: ``[..., T, F]``.
        start: First bin (0 is the mean), per series or shared.
        width: Number of bins.

    Returns:
        ``irfft`` of the masked spectrum, ``[..., T, F]``.

    Example:
        >>> x = torch.tensor([[1.0], [3.0], [1.0], [3.0]])
        >>> frequency_mask(x, 2, 1).flatten().tolist()   # remove the alternation
        [2.0, 2.0, 2.0, 2.0]
    """
    _check_series(x)
    steps = x.shape[-2]
    spec = torch.fft.rfft(x.float(), dim=-2)  # [..., T//2+1, F]
    bins = torch.arange(spec.shape[-2], device=x.device)
    begin = _param(start, x).long()
    band = (bins >= begin) & (bins < begin + _param(width, x).long())
    spec = spec.masked_fill(band.unsqueeze(-1), 0)
    return torch.fft.irfft(spec, n=steps, dim=-2).to(x.dtype)


def jitter(x: Tensor, sigma: float | Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Add Gaussian noise ``N(0, sigma²)`` to every value.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> jitter(torch.zeros(2, 3), 0.0, g).abs().sum().item()
        0.0
    """
    _check_series(x)
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device="cpu").to(x.device)
    return x + _param(sigma, x).unsqueeze(-1).to(x.dtype) * noise


def scaling(x: Tensor, factor: float | Tensor) -> Tensor:
    """Multiply each series (per feature when ``factor`` is ``[..., F]``) by ``factor``.

    Example:
        >>> scaling(torch.ones(2, 1), 3.0).flatten().tolist()
        [3.0, 3.0]
    """
    _check_series(x)
    f = torch.as_tensor(factor, dtype=x.dtype, device=x.device)
    if f.dim() == 0:
        return x * f
    return x * f.unsqueeze(-2)


def _randint(
    low: int, high: int, shape: Sequence[int], generator: torch.Generator | None
) -> Tensor:
    return torch.randint(low, max(high, low + 1), tuple(shape), generator=generator)


def random_series_view(
    x: Tensor,
    generator: torch.Generator | None = None,
    kinds: Sequence[str] = ("shift", "frequency", "mask", "replace", "jitter", "scale"),
    strength: float = 0.2,
) -> Tensor:
    """One random MVAS view per series: each series gets one augmentation from ``kinds``.

    The augmentations' sizes grow with ``strength``: shifts and segments of up to
    ``max(1, strength·T)`` steps, a frequency band of up to ``max(1, strength·(T/2+1))``
    bins above the mean, jitter ``σ = strength / 4`` and scaling ``N(1, (strength/2)²)``,
    both relative to each series' standard deviation.

    Args:
        x: ``[..., T, F]`` series.
        generator: Source of randomness.
        kinds: Names among ``shift, frequency, mask, replace, jitter, scale``.
        strength: Size of the perturbations in ``(0, 1]``.

    Returns:
        A new tensor of the shape of ``x``.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> random_series_view(torch.randn(3, 8, 2), g).shape
        torch.Size([3, 8, 2])
    """
    _check_series(x)
    names = ("shift", "frequency", "mask", "replace", "jitter", "scale")
    unknown = [k for k in kinds if k not in names]
    if unknown or not kinds:
        raise GraphadInputError(
            f"Could not resolve {unknown} among choices {list(names)}", field="kinds"
        )
    lead, steps = x.shape[:-2], x.shape[-2]
    span = max(1, int(strength * steps))
    choice = torch.tensor([names.index(k) for k in kinds])[
        _randint(0, len(kinds), lead, generator)
    ].to(x.device)
    std = (
        x.std(dim=-2, keepdim=True, unbiased=False) + 1e-6
        if steps > 1
        else torch.ones_like(x[..., :1, :])
    )
    views = {
        "shift": lambda: time_shift(
            x,
            (_randint(1, span + 1, lead, generator) * (2 * _randint(0, 2, lead, generator) - 1)).to(
                x.device
            ),
        ),
        "frequency": lambda: frequency_mask(
            x,
            _randint(1, steps // 2 + 1, lead, generator).to(x.device),
            _randint(1, max(1, int(strength * (steps // 2 + 1))) + 1, lead, generator).to(x.device),
        ),
        "mask": lambda: segment_mask(
            x,
            _randint(0, steps, lead, generator).to(x.device),
            _randint(1, span + 1, lead, generator).to(x.device),
        ),
        "replace": lambda: segment_replace(
            x,
            _randint(0, steps, lead, generator).to(x.device),
            _randint(0, steps, lead, generator).to(x.device),
            _randint(1, span + 1, lead, generator).to(x.device),
        ),
        "jitter": lambda: x + std * jitter(torch.zeros_like(x), strength / 4, generator),
        "scale": lambda: scaling(
            x,
            1
            + strength
            / 2
            * torch.randn((*lead, x.shape[-1]), generator=generator).to(x.device, x.dtype),
        ),
    }
    out = x.clone()
    for k in kinds:
        code = names.index(k)
        pick = choice == code
        if bool(pick.any()):
            out = torch.where(pick[..., None, None], views[k](), out)
    return out


# -- transforms ----------------------------------------------------------------------------
class _SeededTransform(BaseTransform):
    """A transform with its own generator (``random_state``) for repeatable views."""

    def __init__(self, random_state: int | None = None) -> None:
        self.random_state = random_state
        self.generator = torch.Generator()
        if random_state is not None:
            self.generator.manual_seed(int(random_state))
        else:
            self.generator.seed()

    def _x(self, data: Data) -> Tensor:
        x = getattr(data, "x", None)
        if x is None or x.dim() != 3:
            raise GraphadInputError(
                "data.x must be [N, T, F] node windows",
                field="x",
                expected="3 dimensions",
                found=None if x is None else f"{x.dim()} dimensions",
            )
        return x

    def _with_x(self, data: Data, x: Tensor) -> Data:
        out = copy.copy(data)
        out.x = x
        return out

    def _ints(self, low: int, high: int, n: int) -> Tensor:
        return _randint(low, high, (n,), self.generator)


class TimeShift(_SeededTransform):
    """Shift each node's window by up to ``max_shift`` steps (either direction).

    Example:
        >>> d = TimeShift(2, random_state=0)(Data(x=torch.randn(3, 6, 1)))
        >>> d.x.shape
        torch.Size([3, 6, 1])
    """

    def __init__(self, max_shift: int = 2, random_state: int | None = None) -> None:
        super().__init__(random_state)
        self.max_shift = max_shift

    def forward(self, data: Data) -> Data:
        """Return a shifted copy."""
        x = self._x(data)
        n = x.shape[0]
        shift = self._ints(1, self.max_shift + 1, n) * (2 * self._ints(0, 2, n) - 1)
        return self._with_x(data, time_shift(x, shift.to(x.device)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_shift={self.max_shift})"


class SegmentMask(_SeededTransform):
    """Zero a random segment of up to ``max_length`` steps in each node's window."""

    def __init__(
        self, max_length: int = 3, value: float = 0.0, random_state: int | None = None
    ) -> None:
        super().__init__(random_state)
        self.max_length = max_length
        self.value = value

    def forward(self, data: Data) -> Data:
        """Return a masked copy."""
        x = self._x(data)
        n, steps = x.shape[0], x.shape[1]
        start = self._ints(0, steps, n).to(x.device)
        length = self._ints(1, self.max_length + 1, n).to(x.device)
        return self._with_x(data, segment_mask(x, start, length, self.value))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_length={self.max_length})"


class SegmentReplace(_SeededTransform):
    """Copy a random segment of each node's window over another position."""

    def __init__(self, max_length: int = 3, random_state: int | None = None) -> None:
        super().__init__(random_state)
        self.max_length = max_length

    def forward(self, data: Data) -> Data:
        """Return a copy with one segment replaced per node."""
        x = self._x(data)
        n, steps = x.shape[0], x.shape[1]
        start = self._ints(0, steps, n).to(x.device)
        source = self._ints(0, steps, n).to(x.device)
        length = self._ints(1, self.max_length + 1, n).to(x.device)
        return self._with_x(data, segment_replace(x, start, source, length))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_length={self.max_length})"


class FrequencyMask(_SeededTransform):
    """Zero a random band of up to ``max_width`` rFFT bins (above the mean) per node."""

    def __init__(self, max_width: int = 2, random_state: int | None = None) -> None:
        super().__init__(random_state)
        self.max_width = max_width

    def forward(self, data: Data) -> Data:
        """Return a band-masked copy."""
        x = self._x(data)
        n, bins = x.shape[0], x.shape[1] // 2 + 1
        start = self._ints(1, bins, n).to(x.device)
        width = self._ints(1, self.max_width + 1, n).to(x.device)
        return self._with_x(data, frequency_mask(x, start, width))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_width={self.max_width})"


class Jitter(_SeededTransform):
    """Add Gaussian noise with standard deviation ``sigma``."""

    def __init__(self, sigma: float = 0.05, random_state: int | None = None) -> None:
        super().__init__(random_state)
        self.sigma = sigma

    def forward(self, data: Data) -> Data:
        """Return a noisy copy."""
        return self._with_x(data, jitter(self._x(data), self.sigma, self.generator))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(sigma={self.sigma})"


class Scaling(_SeededTransform):
    """Multiply each node's series (per feature) by a factor drawn from ``N(1, sigma²)``."""

    def __init__(self, sigma: float = 0.1, random_state: int | None = None) -> None:
        super().__init__(random_state)
        self.sigma = sigma

    def forward(self, data: Data) -> Data:
        """Return a scaled copy."""
        x = self._x(data)
        factor = 1 + self.sigma * torch.randn((x.shape[0], x.shape[2]), generator=self.generator)
        return self._with_x(data, scaling(x, factor.to(x.device, x.dtype)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(sigma={self.sigma})"


class DropEdges(_SeededTransform):
    """Graph view: drop each edge with probability ``p`` (``dropout_edge``).

    Example:
        >>> d = Data(x=torch.zeros(3, 2, 1), edge_index=torch.tensor([[0, 1], [1, 2]]))
        >>> DropEdges(1.0, random_state=0)(d).edge_index.shape
        torch.Size([2, 0])
    """

    def __init__(self, p: float = 0.2, random_state: int | None = None) -> None:
        super().__init__(random_state)
        self.p = p

    def forward(self, data: Data) -> Data:
        """Return a copy with fewer edges (``edge_attr`` filtered alike)."""
        out = copy.copy(data)
        state = torch.random.get_rng_state()
        torch.manual_seed(int(torch.randint(2**31, (1,), generator=self.generator)))
        try:
            edge_index, keep = dropout_edge(data.edge_index, p=self.p, training=True)
        finally:
            torch.random.set_rng_state(state)
        out.edge_index = edge_index
        if getattr(data, "edge_attr", None) is not None:
            out.edge_attr = data.edge_attr[keep]
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class MaskFeatures(_SeededTransform):
    """Graph view: zero each feature column with probability ``p`` (``mask_feature``)."""

    def __init__(self, p: float = 0.2, random_state: int | None = None) -> None:
        super().__init__(random_state)
        self.p = p

    def forward(self, data: Data) -> Data:
        """Return a copy with masked features (same features masked at every step)."""
        x = self._x(data)
        flat = x.transpose(1, 2).reshape(-1, x.shape[1])  # [N*F, T]: mask node-features
        state = torch.random.get_rng_state()
        torch.manual_seed(int(torch.randint(2**31, (1,), generator=self.generator)))
        try:
            masked, _ = mask_feature(flat.T, p=self.p, mode="col", training=True)
        finally:
            torch.random.set_rng_state(state)
        masked = masked.T.reshape(x.shape[0], x.shape[2], x.shape[1]).transpose(1, 2)
        return self._with_x(data, masked.contiguous())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomSubgraph(_SeededTransform):
    """Graph view: keep a random share ``ratio`` of the nodes and the edges among them.

    Node tensors of size ``N`` (``x``, ``node_mask``, ``y``, ``rc_mask``) are filtered and
    ``n_id`` records the kept original ids.
    """

    def __init__(self, ratio: float = 0.8, random_state: int | None = None) -> None:
        super().__init__(random_state)
        self.ratio = ratio

    def forward(self, data: Data) -> Data:
        """Return the induced subgraph on the kept nodes."""
        n = data.num_nodes
        keep_count = max(1, int(round(self.ratio * n)))
        keep = torch.randperm(n, generator=self.generator)[:keep_count].sort().values
        out = copy.copy(data)
        edge_index = getattr(data, "edge_index", None)
        if edge_index is not None:
            out.edge_index, out.edge_attr = subgraph(
                keep, edge_index, getattr(data, "edge_attr", None), relabel_nodes=True, num_nodes=n
            )
            if out.edge_attr is None:
                del out.edge_attr
        for key in ("x", "node_mask", "y", "rc_mask"):
            value = getattr(data, key, None)
            if torch.is_tensor(value) and value.dim() >= 1 and value.shape[0] == n:
                out[key] = value[keep]
        out.n_id = keep
        out.num_nodes = keep_count
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(ratio={self.ratio})"


class RandomChoice(_SeededTransform):
    """Apply one transform drawn uniformly from ``transforms``."""

    def __init__(
        self, transforms: Sequence[Callable[[Data], Data]], random_state: int | None = None
    ) -> None:
        super().__init__(random_state)
        if not transforms:
            raise GraphadInputError(
                "no transforms to choose from", field="transforms", expected="at least one"
            )
        self.transforms = list(transforms)

    def forward(self, data: Data) -> Data:
        """Apply one of the transforms."""
        index = int(torch.randint(len(self.transforms), (1,), generator=self.generator))
        return self.transforms[index](data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.transforms})"


class TwoViews(BaseTransform):
    """Yield the positive pair ``(t1(data), t2(data))`` of one window.

    Args:
        first: Transform of the first view.
        second: Transform of the second view (default: ``first`` again, a new draw).

    Example:
        >>> v1, v2 = TwoViews(Jitter(0.1, random_state=0))(Data(x=torch.zeros(2, 4, 1)))
        >>> bool((v1.x != v2.x).any())
        True
    """

    def __init__(
        self, first: Callable[[Data], Data], second: Callable[[Data], Data] | None = None
    ) -> None:
        self.first = first
        self.second = second if second is not None else first

    def forward(self, data: Data) -> tuple[Data, Data]:  # type: ignore[override]
        """The two views."""
        return self.first(data), self.second(data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.first}, {self.second})"
