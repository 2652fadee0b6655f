import pytest

from graphad.eval import ac_at_k, avg_at_k, mrr
from graphad.exceptions import GraphadInputError

RANKS = [1, 2, 1, None, 5, 3, 1, 7]


def test_ac_at_k_hand_example():
    assert ac_at_k(RANKS, 1) == 3 / 8
    assert ac_at_k(RANKS, 3) == 5 / 8
    assert ac_at_k(RANKS, 5) == 6 / 8
    assert ac_at_k(RANKS, 100) == 7 / 8  # None never counts


def test_avg_at_k_hand_example():
    # AC@1..5 = 3/8, 4/8, 5/8, 5/8, 6/8
    assert avg_at_k(RANKS, 5) == pytest.approx((3 + 4 + 5 + 5 + 6) / 40)
    assert avg_at_k(RANKS, 1) == ac_at_k(RANKS, 1)


def test_mrr_hand_example():
    expected = (1 + 1 / 2 + 1 + 0 + 1 / 5 + 1 / 3 + 1 + 1 / 7) / 8
    assert mrr(RANKS) == pytest.approx(expected)
    assert mrr([float("nan"), 1]) == 0.5


@pytest.mark.parametrize(
    "ranks, k, match",
    [
        ([], 1, "no case"),
        ([0, 1], 1, "positive integer or None"),
        ([1.5], 1, "positive integer or None"),
        ([True], 1, "positive integer or None"),
        ([1, 2], 0, "k must be a positive integer"),
        ([1, 2], 1.5, "k must be a positive integer"),
    ],
)
def test_bad_ranks(ranks, k, match):
    with pytest.raises(GraphadInputError, match=match):
        ac_at_k(ranks, k)
