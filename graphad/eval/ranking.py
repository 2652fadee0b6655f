"""Root-cause ranking accuracy: AC@k, Avg@k and MRR over fault cases.

Each case contributes the 1-based rank of its true root cause in the ranker's list, or
``None`` when the ranker did not list it at all (counted as a miss).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from graphad.exceptions import GraphadInputError

__all__ = ["ac_at_k", "avg_at_k", "mrr"]


def _ranks(ranks: Iterable[int | None]) -> np.ndarray:
    """1-based ranks as floats, ``inf`` for ``None``; validated."""
    values = list(ranks)
    if not values:
        raise GraphadInputError(
            "no case to evaluate", field="ranks", expected="at least one rank", found=0
        )
    out = np.empty(len(values), dtype=np.float64)
    for i, rank in enumerate(values):
        if rank is None or (isinstance(rank, float) and np.isnan(rank)):
            out[i] = np.inf
            continue
        if isinstance(rank, bool) or not float(rank).is_integer() or rank < 1:
            raise GraphadInputError(
                "a rank must be a positive integer or None",
                record=i,
                field="ranks",
                expected="1, 2, ... or None",
                found=rank,
            )
        out[i] = float(rank)
    return out


def _check_k(k: int) -> int:
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise GraphadInputError(
            "k must be a positive integer", field="k", expected="k >= 1", found=k
        )
    return int(k)


def ac_at_k(ranks: Iterable[int | None], k: int) -> float:
    """AC@k: the share of cases whose true root cause is among the top ``k``.

    Args:
        ranks: 1-based rank of the true root cause per case; ``None`` = not ranked.
        k: Size of the top list.

    Returns:
        A share in ``[0, 1]``.

    Example:
        >>> ac_at_k([1, 3, None, 2], 1), ac_at_k([1, 3, None, 2], 3)
        (0.25, 0.75)
    """
    return float(np.mean(_ranks(ranks) <= _check_k(k)))


def avg_at_k(ranks: Iterable[int | None], k: int = 5) -> float:
    """Avg@k: the mean of AC@1 .. AC@k.

    Example:
        >>> avg_at_k([1, 3, None, 2], 3)    # (0.25 + 0.5 + 0.75) / 3
        0.5
    """
    values = _ranks(ranks)
    k = _check_k(k)
    return float(np.mean([np.mean(values <= j) for j in range(1, k + 1)]))


def mrr(ranks: Iterable[int | None]) -> float:
    """Mean reciprocal rank; an unranked root cause contributes 0.

    Example:
        >>> mrr([1, 2, None, 4])    # (1 + 1/2 + 0 + 1/4) / 4
        0.4375
    """
    return float(np.mean(1.0 / _ranks(ranks)))
