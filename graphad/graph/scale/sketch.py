"""Mergeable latency quantiles: DDSketch buckets computed and queried with NumPy.

A DDSketch (Masson et al., VLDB 2019) with relative accuracy ``alpha`` puts a value
``v > 0`` in the bucket ``key = ceil(log_gamma(v))`` with ``gamma = (1 + alpha) / (1 -
alpha)``; a sketch is a count per key, so two sketches merge by adding their counts, and
the quantile answered from the counts is within ``alpha * v`` of the value ``v`` of that
rank. The key mapping and the bucket values are those of the ``ddsketch`` package
(:class:`ddsketch.mapping.LogarithmicMapping`); here they are applied to whole arrays, so a
partition of 10^6 spans is sketched with one ``log2`` and one group-by instead of 10^6
``DDSketch.add`` calls, and the counts of many groups (one sketch per step and node) live
in one table. Zeros (and values too small to index) go to a zero bucket, as in ``ddsketch``.
"""

from __future__ import annotations

import numpy as np

from graphad.exceptions import GraphadInputError

__all__ = ["ZERO_KEY", "sketch_mapping", "sketch_keys", "sketch_quantiles"]

#: Key of the zero bucket (below every real key).
ZERO_KEY = np.iinfo(np.int64).min


def sketch_mapping(relative_accuracy: float):
    """The ``ddsketch`` key mapping of a relative accuracy.

    Raises:
        GraphadInputError: ``relative_accuracy`` is not in ``(0, 1)``.
        ImportError: ``ddsketch`` is missing (install ``graphad[dask]``).
    """
    if not 0.0 < float(relative_accuracy) < 1.0:
        raise GraphadInputError(
            "relative accuracy out of range",
            field="relative_accuracy",
            expected="a number in (0, 1), e.g. 0.01",
            found=relative_accuracy,
        )
    try:
        from ddsketch.mapping import LogarithmicMapping
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "latency sketches need the 'ddsketch' package: pip install 'graphad[dask]'"
        ) from error
    return LogarithmicMapping(float(relative_accuracy))


def sketch_keys(values: np.ndarray, mapping) -> np.ndarray:
    """Bucket key of each value (:data:`ZERO_KEY` for values the sketch treats as 0).

    Args:
        values: Non-negative values, shape ``[n]``.
        mapping: A :class:`ddsketch.mapping.LogarithmicMapping`.

    Returns:
        int64 ``[n]``.

    Example:
        >>> m = sketch_mapping(0.01)
        >>> sketch_keys(np.array([0, 100, 1000]), m).tolist()[1:] == [m.key(100), m.key(1000)]
        True
    """
    values = np.asarray(values, dtype=np.float64)
    keys = np.full(values.shape, ZERO_KEY, dtype=np.int64)
    positive = values > mapping.min_possible
    log = np.log2(values[positive]) * mapping._multiplier
    keys[positive] = (np.ceil(log) + mapping._offset).astype(np.int64)
    return keys


def _key_values(keys: np.ndarray, mapping) -> np.ndarray:
    """The value ``ddsketch`` answers for each bucket key (0 for the zero bucket)."""
    keys = np.asarray(keys, dtype=np.int64)
    out = np.zeros(keys.shape, dtype=np.float64)
    real = keys != ZERO_KEY
    power = (keys[real] - mapping._offset) / mapping._multiplier
    out[real] = np.power(2.0, power) * (2.0 / (1.0 + mapping.gamma))
    return out


def sketch_quantiles(
    group: np.ndarray,
    key: np.ndarray,
    count: np.ndarray,
    quantiles,
    num_groups: int,
    mapping,
) -> np.ndarray:
    """Quantiles of many sketches stored as ``(group, key, count)`` rows.

    Rows may repeat a ``(group, key)`` pair (partial sketches are merged here by adding
    their counts). The answer of each group is the one ``DDSketch.get_quantile_value``
    gives: the value of the first bucket whose cumulative count exceeds
    ``q * (count - 1)``.

    Args:
        group: Group id of each row, int in ``[0, num_groups)``, shape ``[m]``.
        key: Bucket key of each row, int64 ``[m]``.
        count: Values in the bucket, int ``[m]``.
        quantiles: The ``Q`` quantiles in ``[0, 1]``.
        num_groups: ``G``.
        mapping: The mapping the keys were made with.

    Returns:
        float64 ``[G, Q]`` (0 for empty groups).

    Example:
        >>> m = sketch_mapping(0.01)
        >>> keys = sketch_keys(np.array([10.0, 20.0, 30.0]), m)
        >>> q = sketch_quantiles(np.zeros(3, int), keys, np.ones(3, int), [0.5], 1, m)
        >>> bool(abs(q[0, 0] - 20.0) <= 0.01 * 20.0)
        True
    """
    group = np.asarray(group, dtype=np.int64)
    key = np.asarray(key, dtype=np.int64)
    count = np.asarray(count, dtype=np.int64)
    quantiles = np.asarray(quantiles, dtype=np.float64)
    out = np.zeros((num_groups, len(quantiles)), dtype=np.float64)
    keep = count > 0
    if not keep.any():
        return out
    group, key, count = group[keep], key[keep], count[keep]
    order = np.lexsort((key, group))
    group, key, count = group[order], key[order], count[order]
    # merge repeated (group, key) rows
    new = np.ones(len(group), dtype=bool)
    new[1:] = (group[1:] != group[:-1]) | (key[1:] != key[:-1])
    starts = np.flatnonzero(new)
    group, key = group[starts], key[starts]
    count = np.add.reduceat(count, starts)
    cum = np.cumsum(count)
    totals = np.bincount(group, weights=count, minlength=num_groups).astype(np.int64)
    nonempty = np.flatnonzero(totals)
    before = np.concatenate([[0], np.cumsum(totals)])[nonempty]  # count before each group
    values = _key_values(key, mapping)
    for j, q in enumerate(quantiles):
        rank = q * (totals[nonempty] - 1)
        row = np.searchsorted(cum, before + rank, side="right")
        out[nonempty, j] = values[row]
    return out
