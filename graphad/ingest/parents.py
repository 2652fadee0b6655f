"""The parent of every span: span ids as integer codes and the join on them.

:func:`~graphad.ingest.schema.validate_spans` compares every parent id with every span id
(to count orphans) and the call table of :mod:`graphad.graph.calls` needs the row of each
span's parent. Hashing 10^6 string ids is most of the cost of both, so both go through
integer codes. Nothing is remembered here: validation writes the result into the
canonical spans frame itself, as two integer columns (:data:`SPAN_CODE_COLUMNS`,
:func:`code_columns`), and :func:`frame_parent_rows` reads the join back from them in
O(n) without touching a string; a frame without them (or whose codes no longer hold,
see :func:`coded_parent_rows`) is joined on its ids.

Arrow-backed ids of at most 16 bytes (hex trace-context ids and shorter) are compared
through a 64-bit hash of their bytes, and every match is checked against the bytes and the
length of the ids themselves, so the result is exact; other ids go through
``pd.factorize``.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from graphad.ingest._arrow import arrow_array, string_buffers

#: A column of ids: a Series (Arrow-backed ones take the fast path) or an array.
Ids = pd.Series | np.ndarray

__all__ = [
    "SPAN_CODE_COLUMNS",
    "id_codes",
    "join_codes",
    "parent_rows",
    "code_columns",
    "coded_parent_rows",
    "frame_parent_rows",
]

#: The integer code columns validation appends to the canonical spans frame.
SPAN_CODE_COLUMNS = ("span_code", "parent_code")

_PACKED_BYTES = 16  # ids up to this long are compared as two 64-bit words and a length
_MIX = np.uint64(0x9E3779B97F4A7C15)
_TAG_SHIFT = 40  # span codes: a tag of the validation above, the row below
_ROW_MASK = (1 << _TAG_SHIFT) - 1


def id_codes(span_id: Ids, parent_id: Ids) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer codes of span and parent ids, comparable across the two columns.

    Args:
        span_id: Span ids, shape ``[n]`` (a Series or an array; missing values allowed).
        parent_id: Parent span ids, shape ``[n]``.

    Returns:
        ``(span_codes, parent_codes, num_codes)``: int64 ``[n]`` each, in
        ``[-1, num_codes)``. Two codes ``>= 0`` are equal exactly when the ids are; ``-1``
        (a missing id, or a parent id that is no span's id) equals nothing.

    Example:
        >>> s, p, k = id_codes(np.array(["a", "b"], dtype=object),
        ...                    np.array(["", "a"], dtype=object))
        >>> bool(p[1] == s[0]), bool(p[0] in s)
        (True, False)
    """
    n = len(span_id)
    packed = _packed_codes(span_id, parent_id)
    if packed is not None:
        return packed
    if isinstance(span_id, pd.Series) and isinstance(parent_id, pd.Series):
        both = pd.concat([span_id, parent_id], ignore_index=True)
    else:
        both = np.concatenate(
            [np.asarray(span_id, dtype=object), np.asarray(parent_id, dtype=object)]
        )
    codes, uniques = pd.factorize(both)
    codes = codes.astype(np.int64, copy=False)
    return codes[:n], codes[n:], len(uniques)


def join_codes(
    trace_codes: np.ndarray, span_codes: np.ndarray, parent_codes: np.ndarray, num_codes: int
) -> np.ndarray:
    """Row of each span's parent in the same trace, from integer codes.

    Args:
        trace_codes: Trace id codes, int ``[n]`` (equal codes, same trace).
        span_codes: Span id codes, int ``[n]`` in ``[-1, num_codes)``; ``-1`` matches nothing.
        parent_codes: Parent id codes in the same code space, int ``[n]``.
        num_codes: Number of codes.

    Returns:
        int64 ``[n]``: the row whose ``(trace, span)`` is ``(trace, parent)`` of each row,
        ``-1`` when there is none; the first of a repeated ``(trace, span)`` pair wins.

    Example:
        >>> join_codes(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 2]),
        ...            np.array([-1, 0, -1, 0]), 3).tolist()
        [-1, 0, -1, 2]
    """
    n = len(span_codes)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    trace_codes = np.asarray(trace_codes, dtype=np.int64)
    # Missing ids get codes of their own that match nothing.
    width = num_codes + 2
    span_codes = np.where(span_codes >= 0, span_codes, width - 2)
    parent_codes = np.where(parent_codes >= 0, parent_codes, width - 1)
    counts = np.bincount(span_codes, minlength=width)
    counts[width - 2] = 0
    if counts.max(initial=0) <= 1:  # span ids unique: a parent is found by its id alone
        row_of = np.full(width, -1, dtype=np.int64)
        row_of[span_codes] = np.arange(n)
        row_of[width - 2 :] = -1
        rows = row_of[parent_codes]
        found = np.flatnonzero(rows >= 0)
        rows[found[trace_codes[rows[found]] != trace_codes[found]]] = -1  # another trace
        return rows
    # Span ids repeat across traces: match on (trace, span) pairs.
    trace_codes = trace_codes - trace_codes.min()
    span_key = np.where(span_codes < width - 2, trace_codes * width + span_codes, -1)
    parent_key = trace_codes * width + parent_codes
    order = np.argsort(span_key, kind="stable")  # the first span of a repeated pair wins
    sorted_keys = span_key[order]
    first = np.concatenate([[True], sorted_keys[1:] != sorted_keys[:-1]])
    sorted_keys, order = sorted_keys[first], order[first]
    pos = np.minimum(np.searchsorted(sorted_keys, parent_key), len(sorted_keys) - 1)
    return np.where(sorted_keys[pos] == parent_key, order[pos], -1).astype(np.int64)


def parent_rows(trace_id: Ids, span_id: Ids, parent_id: Ids) -> np.ndarray:
    """Row of each span's parent (same trace), ``-1`` when the parent is not in the data.

    Args:
        trace_id: Trace ids, shape ``[n]`` (a Series or an array).
        span_id: Span ids, shape ``[n]``, unique within a trace (else the first one wins).
        parent_id: Parent span ids (``""`` for a root), shape ``[n]``. Missing ids match
            nothing.

    Returns:
        int64 rows, shape ``[n]``.

    Example:
        >>> parent_rows(np.array(["t", "t", "u", "u"], dtype=object),
        ...             np.array(["a", "b", "a", "c"], dtype=object),
        ...             np.array(["", "a", "", "a"], dtype=object)).tolist()
        [-1, 0, -1, 2]
    """
    if len(span_id) == 0:
        return np.zeros(0, dtype=np.int64)
    span_codes, parent_codes, num_codes = id_codes(span_id, parent_id)
    trace_codes = pd.factorize(
        trace_id if isinstance(trace_id, pd.Series) else np.asarray(trace_id, dtype=object)
    )[0]
    return join_codes(trace_codes, span_codes, parent_codes, num_codes)


# --------------------------------------------------------------------------- span codes
def code_columns(parents: np.ndarray, ids: tuple[str, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """The code columns of a validated spans frame, from its parent rows.

    A span's code is a tag of the frame it was validated in (23 bits, from ``ids``)
    above its row there (40 bits); its parent code is its parent's span code (``-1``:
    none). Codes are labels, not positions: they stay right when rows are filtered or
    reordered, a parent filtered away is simply not found. Frames validated apart get
    different tags (unless their ``ids`` agree), which :func:`coded_parent_rows` notices
    when they are concatenated.

    Args:
        parents: Row of each span's parent, int64 ``[n]`` (``-1``: none).
        ids: A few texts of the frame (e.g. its first and last ids) that the tag hashes.

    Returns:
        ``(span_code, parent_code)``, int64 ``[n]`` each.

    Example:
        >>> s, p = code_columns(np.array([-1, 0, 1]), ("t", "a"))
        >>> coded_parent_rows(s[[2, 1]], p[[2, 1]]).tolist()
        [1, -1]
    """
    n = len(parents)
    if n > _ROW_MASK:  # pragma: no cover - 10^12 spans
        raise ValueError(f"too many spans for the code columns: {n}")
    digest = hashlib.blake2b(repr((n, *ids)).encode(), digest_size=8).digest()
    tag = (int.from_bytes(digest, "little") & ((1 << 23) - 1)) << _TAG_SHIFT
    code = np.arange(n, dtype=np.int64) + tag
    parents = np.asarray(parents, dtype=np.int64)
    parent = np.where(parents >= 0, parents + tag, -1)
    return code, parent


def coded_parent_rows(span_code: np.ndarray, parent_code: np.ndarray) -> np.ndarray | None:
    """Row of each span's parent read from the code columns, ``None`` if they do not hold.

    The codes hold when every code carries one tag (one validation) and no span code
    repeats; frames validated apart and concatenated, or a frame stacked on itself, fail
    the check and are to be joined on their ids (:func:`parent_rows`).

    Args:
        span_code: int64 ``[n]``.
        parent_code: int64 ``[n]`` (``-1``: no parent).

    Returns:
        int64 ``[n]`` (``-1``: the parent is not in the frame), or ``None``.
    """
    n = len(span_code)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    span_code = np.asarray(span_code, dtype=np.int64)
    parent_code = np.asarray(parent_code, dtype=np.int64)
    lo = (int(span_code[0]) >> _TAG_SHIFT) << _TAG_SHIFT
    local = span_code - lo
    if local.min() < 0 or local.max() > _ROW_MASK:  # more than one tag
        return None
    wanted = parent_code - lo
    linked = parent_code >= 0
    if wanted.max() > _ROW_MASK or (linked & (wanted < 0)).any():  # a parent of another tag
        return None
    if local[0] == 0 and (np.diff(local) == 1).all():  # rows as validated (or a head of them)
        return np.where(linked & (wanted < n), wanted, -1)
    size = int(local.max()) + 1
    if size <= 4 * n + 1024:  # a table indexed by code
        if np.bincount(local, minlength=size).max() > 1:
            return None
        row_of = np.full(size + 1, -1, dtype=np.int64)
        row_of[local] = np.arange(n)
        return row_of[np.where(linked, np.minimum(wanted, size), size)]
    order = np.argsort(local, kind="stable")  # few rows left of a large frame
    sorted_codes = local[order]
    if (sorted_codes[1:] == sorted_codes[:-1]).any():
        return None
    wanted = np.where(linked, wanted, -1)
    pos = np.minimum(np.searchsorted(sorted_codes, wanted), n - 1)
    return np.where(linked & (sorted_codes[pos] == wanted), order[pos], -1).astype(np.int64)


def frame_parent_rows(spans: pd.DataFrame) -> np.ndarray:
    """Row of each span's parent in a spans frame, from its code columns when they hold.

    Args:
        spans: A spans frame (``trace_id, span_id, parent_id``; the code columns of
            :data:`SPAN_CODE_COLUMNS` when validated).

    Returns:
        int64 ``[n]``, ``-1`` when the parent is not in the frame.

    Example:
        >>> from graphad.ingest import validate_spans
        >>> spans, _ = validate_spans(pd.DataFrame({"trace_id": "t", "span_id": ["a", "b"],
        ...     "parent_id": ["", "a"], "service": "s", "start_ns": [0, 1],
        ...     "duration_ns": 1}))
        >>> frame_parent_rows(spans).tolist(), frame_parent_rows(spans.iloc[::-1]).tolist()
        ([-1, 0], [1, -1])
    """
    if all(c in spans.columns and spans[c].dtype.kind in "iu" for c in SPAN_CODE_COLUMNS):
        rows = coded_parent_rows(
            spans["span_code"].to_numpy(np.int64), spans["parent_code"].to_numpy(np.int64)
        )
        if rows is not None and _spot_check(spans, rows):
            return rows
    return parent_rows(spans["trace_id"], spans["span_id"], spans["parent_id"])


def _spot_check(spans: pd.DataFrame, rows: np.ndarray, samples: int = 64) -> bool:
    """Whether up to ``samples`` linked rows, spread over the frame, agree with the ids.

    Catches id columns replaced after validation (the codes then describe other ids);
    a single edited cell may pass, which is why ids are changed by validating again.
    """
    linked = np.flatnonzero(rows >= 0)
    if not len(linked):
        return True
    picked = linked[np.unique(np.linspace(0, len(linked) - 1, samples).astype(np.intp))]
    for child, parent in (("trace_id", "trace_id"), ("parent_id", "span_id")):
        mine = spans[child].iloc[picked].to_numpy(dtype=object)
        theirs = spans[parent].iloc[rows[picked]].to_numpy(dtype=object)
        if not np.array_equal(mine, theirs):
            return False
    return True


# --------------------------------------------------------------------------- packed ids
def _packed_codes(span_id: Ids, parent_id: Ids) -> tuple[np.ndarray, np.ndarray, int] | None:
    """:func:`id_codes` for unique Arrow-backed span ids of at most 16 bytes, else ``None``.

    Each id becomes two 64-bit words (its bytes, left-padded) and a length; a hash of the
    words finds the candidate span of every parent id, and the words and length confirm it.
    """
    if not (isinstance(span_id, pd.Series) and isinstance(parent_id, pd.Series)):
        return None
    span, parent = _words(span_id), _words(parent_id)
    if span is None or parent is None:
        return None
    index = pd.Index(_hash(span[0]))
    if not index.is_unique:  # repeated ids (or a hash collision): the general path
        return None
    found = index.get_indexer(_hash(parent[0]))
    hit = np.flatnonzero(found >= 0)
    rows = found[hit]
    same = span[0].take(rows, axis=0) == parent[0].take(hit, axis=0)  # take: fast on [n, 2]
    same = same[:, 0] & same[:, 1] & (span[1].take(rows) == parent[1].take(hit))
    found[hit[~same]] = -1
    return np.arange(len(span_id), dtype=np.int64), found.astype(np.int64, copy=False), len(span_id)


def _words(series: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """``(words [n, 2] uint64, byte lengths [n])`` of short Arrow-backed ids, else ``None``."""
    chunked = arrow_array(series)
    if chunked is None or chunked.null_count or len(chunked) == 0:
        return None
    import pyarrow.compute as pc

    array = chunked.combine_chunks() if chunked.num_chunks != 1 else chunked.chunk(0)
    buffers = string_buffers(array)
    if buffers is None:
        return None
    nbytes = np.diff(buffers[0])
    if nbytes.max() > _PACKED_BYTES:
        return None
    offsets, data = string_buffers(pc.utf8_lpad(array, _PACKED_BYTES, " "))
    start, stop = int(offsets[0]), int(offsets[-1])
    if stop - start != _PACKED_BYTES * len(array):  # padding counts code points, not bytes
        return None
    return data[start:stop].view(np.uint64).reshape(-1, 2), nbytes


def _hash(words: np.ndarray) -> np.ndarray:
    """A 64-bit mix of the two words of each id (collisions possible; matches are checked)."""
    return words[:, 0] * _MIX ^ words[:, 1]
