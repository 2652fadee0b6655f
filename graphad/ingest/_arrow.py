"""Fast paths for Arrow-backed text columns (pandas' ``str`` dtype with pyarrow).

Every function here answers ``None`` / the safe answer for any other column, so that
callers keep one general path (plain pandas) and use these only to skip work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["arrow_array", "string_buffers", "may_need_strip"]

# ``str.strip`` can only change a string holding a byte <= 0x20 (ASCII whitespace and
# control characters) or >= 0x7F (DEL and the bytes of multi-byte UTF-8 characters).
_PLAIN_LOW, _PLAIN_HIGH = 0x21, 0x7E


def arrow_array(series: pd.Series) -> pa.ChunkedArray | None:
    """The immutable ``pyarrow.ChunkedArray`` behind an Arrow-backed column, else ``None``.

    Example:
        >>> arrow_array(pd.Series(["a"], dtype=object)) is None
        True
    """
    array = series.array
    if isinstance(array, pd.arrays.ArrowExtensionArray):
        return array.__arrow_array__()
    return None


def string_buffers(array: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """``(offsets [n + 1], data)`` of a ``pyarrow`` (large) string array, without copies.

    String ``i`` is ``data[offsets[i]:offsets[i + 1]]`` (UTF-8 bytes); ``None`` when the
    array is not a string array.
    """
    import pyarrow as pa

    if pa.types.is_large_string(array.type):
        offset_type = np.dtype(np.int64)
    elif pa.types.is_string(array.type):
        offset_type = np.dtype(np.int32)
    else:
        return None
    buffers = array.buffers()
    n = len(array)
    offsets = np.frombuffer(buffers[1], offset_type, n + 1, array.offset * offset_type.itemsize)
    data = np.frombuffer(buffers[2], np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    return offsets, data


def may_need_strip(series: pd.Series) -> bool:
    """Whether ``series.str.strip()`` could change a value (``True`` unless Arrow-backed).

    A column whose bytes are all printable ASCII other than space has nothing to strip;
    that is one pass of min / max over the character data, much cheaper than stripping.
    """
    chunked = arrow_array(series)
    if chunked is None:
        return True
    for chunk in chunked.chunks:
        buffers = string_buffers(chunk)
        if buffers is None:
            return True
        offsets, data = buffers
        text = data[offsets[0] : offsets[-1]]
        if len(text) and (text.min() < _PLAIN_LOW or text.max() > _PLAIN_HIGH):
            return True
    return False
