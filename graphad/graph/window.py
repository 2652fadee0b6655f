"""Window specification: how a time range is cut into end-aligned, half-open windows."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from graphad.exceptions import GraphadInputError

__all__ = ["WindowSpec", "parse_duration"]

_UNITS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "min": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
}


def parse_duration(value: int | str) -> int:
    """Parse ``"30s"``, ``"5min"``, ``"1h"``, ``"250ms"`` or an int (ns) into int ns.

    Example:
        >>> parse_duration("5min"), parse_duration("250ms"), parse_duration(7)
        (300000000000, 250000000, 7)

    """
    if isinstance(value, (int, np.integer)):
        return int(value)
    text = str(value).strip().lower()
    number = text.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = text[len(number) :] or "ns"
    if unit not in _UNITS or not number:
        raise GraphadInputError(
            "unreadable duration",
            field="duration",
            expected=f"a number followed by one of {sorted(_UNITS)}",
            found=repr(value),
        )
    return int(round(float(number) * _UNITS[unit]))


@dataclass(frozen=True)
class WindowSpec:
    """How to cut time into windows of ``T = size // step`` steps.

    A window covers the half-open range ``[end - size, end)`` and is identified by its end
    (end-aligned). Consecutive windows are ``stride`` apart. Within a window, step ``t``
    covers ``[start + t*step, start + (t+1)*step)``.

    Args:
        size: Window length (ns, or a string such as ``"10min"``).
        stride: Distance between consecutive window ends (default: ``step``).
        step: Length of one time step inside a window (default: ``size``, i.e. T = 1).
        anchor: A time (ns) the grid is pinned to: window ends and step boundaries fall
            on ``anchor + k * stride`` / ``anchor + k * step``, so with ``anchor=onset``
            one window ends exactly at the onset. ``None``: the grid starts at the data
            (the first window starts at ``start_ns``).

    Example:
        >>> spec = WindowSpec.of("3min", stride="1min", step="1min")
        >>> spec.num_steps
        3
        >>> spec.window_bounds(0, 5 * 60 * 10**9)[:, 1].tolist()  # window ends, in ns
        [180000000000, 240000000000, 300000000000]
        >>> WindowSpec.of(4, stride=2, step=2, anchor=7).window_bounds(0, 12).tolist()
        [[1, 5], [3, 7], [5, 9], [7, 11]]

    """

    size: int
    stride: int
    step: int
    anchor: int | None = None

    @classmethod
    def of(
        cls,
        size: int | str,
        stride: int | str | None = None,
        step: int | str | None = None,
        anchor: int | None = None,
    ) -> WindowSpec:
        """Build a spec from durations given as strings or ns, and check it."""
        size_ns = parse_duration(size)
        step_ns = parse_duration(step) if step is not None else size_ns
        stride_ns = parse_duration(stride) if stride is not None else step_ns
        spec = cls(
            size=size_ns,
            stride=stride_ns,
            step=step_ns,
            anchor=None if anchor is None else int(anchor),
        )
        spec.check()
        return spec

    def anchored(self, anchor: int | None) -> WindowSpec:
        """The same spec pinned to ``anchor`` (e.g. an incident's onset)."""
        return WindowSpec(
            self.size, self.stride, self.step, None if anchor is None else int(anchor)
        )

    def grid_start(self, first_ns: int) -> int:
        """The step boundary at or before ``first_ns`` (on the anchor's grid, if any)."""
        phase = 0 if self.anchor is None else self.anchor % self.step
        return (int(first_ns) - phase) // self.step * self.step + phase

    def grid_end(self, last_ns: int) -> int:
        """The step boundary at or after ``last_ns`` (exclusive end of the data)."""
        phase = 0 if self.anchor is None else self.anchor % self.step
        return -(-(int(last_ns) - phase) // self.step) * self.step + phase

    def check(self) -> None:
        """Raise :class:`GraphadInputError` unless size, stride, step are consistent."""
        for name in ("size", "stride", "step"):
            if getattr(self, name) <= 0:
                raise GraphadInputError(
                    "window durations must be positive",
                    field=name,
                    expected="> 0",
                    found=getattr(self, name),
                )
        if self.size % self.step:
            raise GraphadInputError(
                "window size must be a whole number of steps",
                field="size",
                expected=f"a multiple of step={self.step}",
                found=self.size,
            )

    @property
    def num_steps(self) -> int:
        """``T``, the number of steps in one window."""
        return self.size // self.step

    def window_bounds(self, start_ns: int, end_ns: int) -> np.ndarray:
        """Windows inside ``[start_ns, end_ns)``: the first starts at ``start_ns``, or,
        with an ``anchor``, the first whose end is on the anchor's stride grid.

        Args:
            start_ns: Start of the data (ns).
            end_ns: End of the data (ns, exclusive).

        Returns:
            ``np.ndarray`` int64 ``[W, 2]`` of ``(window_start, window_end)``; windows
            that would reach past ``end_ns`` are not made.

        """
        first_end = int(start_ns) + self.size
        if self.anchor is not None:  # round up onto anchor + k * stride
            first_end = self.anchor + -(-(first_end - self.anchor) // self.stride) * self.stride
        if first_end > end_ns:
            return np.zeros((0, 2), dtype=np.int64)
        ends = np.arange(first_end, int(end_ns) + 1, self.stride, dtype=np.int64)
        return np.stack([ends - self.size, ends], axis=1)

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, state: dict) -> WindowSpec:
        """Inverse of :meth:`to_dict`."""
        anchor = state.get("anchor")
        return cls(
            **{k: int(state[k]) for k in ("size", "stride", "step")},
            anchor=None if anchor is None else int(anchor),
        )
