import numpy as np
import pytest
import torch

from graphad.eval import hit_rate_at_p
from graphad.exceptions import GraphadInputError


def test_hit_rate_hand_example():
    scores = np.array(
        [
            [0.9, 0.8, 0.1, 0.2, 0.0],  # G = {1, 3}: top2 {0, 1} -> 1/2; top3 {0,1,3} -> 1
            [0.1, 0.2, 0.3, 0.4, 0.5],  # G = {}: skipped
            [0.5, 0.1, 0.9, 0.2, 0.3],  # G = {2}: top1 {2} -> 1; floor(1.5) = 1 -> 1
            [0.6, 0.5, 0.4, 0.3, 0.2],  # G = {2, 3, 4}: top3 {0,1,2} -> 1/3; top4 -> 2/3
        ]
    )
    labels = np.zeros_like(scores, dtype=bool)
    labels[0, [1, 3]] = True
    labels[2, 2] = True
    labels[3, [2, 3, 4]] = True
    assert hit_rate_at_p(scores, labels, 1.0) == pytest.approx((0.5 + 1 + 1 / 3) / 3)
    assert hit_rate_at_p(scores, labels, 1.5) == pytest.approx((1 + 1 + 2 / 3) / 3)
    assert hit_rate_at_p(torch.tensor(scores), torch.tensor(labels), 1.0) == pytest.approx(
        (0.5 + 1 + 1 / 3) / 3
    )
    mask = np.array([True, True, False, True])
    assert hit_rate_at_p(scores, labels, 1.0, steps=mask) == pytest.approx((0.5 + 1 / 3) / 2)


def test_hit_rate_ties_share_the_places():
    # one place, three tied nodes: 1/3 in expectation, whatever the node order
    assert hit_rate_at_p([[1.0, 1.0, 1.0]], [[0, 0, 1]]) == pytest.approx(1 / 3)
    assert hit_rate_at_p([[1.0, 1.0, 1.0]], [[1, 0, 0]]) == pytest.approx(1 / 3)
    # G = {0, 2}, two places: node 0 is above the cut, nodes 1 and 2 share one place
    assert hit_rate_at_p([[0.9, 0.5, 0.5, 0.1]], [[1, 0, 1, 0]]) == pytest.approx(0.75)
    # p below 1 can leave no place at all
    assert hit_rate_at_p([[0.9, 0.1]], [[1, 0]], p=0.5) == 0.0


def test_hit_rate_random_scores_near_chance():
    rng = np.random.default_rng(0)
    labels = np.zeros((2000, 10), dtype=bool)
    labels[:, :2] = True
    value = hit_rate_at_p(rng.random((2000, 10)), labels, 1.0)
    assert value == pytest.approx(0.2, abs=0.02)


@pytest.mark.parametrize(
    "scores, labels, p, match",
    [
        (np.zeros((2, 3)), np.zeros((2, 2)), 1.0, "differ in shape"),
        (np.zeros(3), np.zeros(3), 1.0, "two-dimensional"),
        (np.zeros((2, 3)), np.zeros((2, 3)), 1.0, "no evaluated step"),
        (np.zeros((2, 3)), np.ones((2, 3)), 0.0, "p must be positive"),
        (np.full((2, 3), np.nan), np.ones((2, 3)), 1.0, "non-finite"),
    ],
)
def test_hit_rate_bad_inputs(scores, labels, p, match):
    with pytest.raises(GraphadInputError, match=match):
        hit_rate_at_p(scores, labels, p)
