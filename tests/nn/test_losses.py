import math

import pytest
import torch

from graphad.exceptions import GraphadInputError
from graphad.nn import alignment_loss, cross_scale_loss, info_nce, nt_xent, temporal_smoothness


def test_info_nce_in_batch_by_hand():
    a = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    p = torch.tensor([[1.0, 1.0], [0.0, 1.0]])
    s = 1 / math.sqrt(2)
    # row 0: pos cos = s, neg cos(a0, p1) = 0; row 1: pos 1, neg s
    expected = (
        -math.log(math.exp(s / 0.5) / (math.exp(s / 0.5) + 1))
        - math.log(math.exp(2) / (math.exp(2) + math.exp(s / 0.5)))
    ) / 2
    assert info_nce(a, p, tau=0.5).item() == pytest.approx(expected, rel=1e-5)


def test_info_nce_explicit_negatives_by_hand():
    a = torch.tensor([[1.0, 0.0]])
    p = torch.tensor([[1.0, 0.0]])
    neg = torch.tensor([[[0.0, 1.0], [-1.0, 0.0]]])
    expected = -math.log(math.e / (math.e + 1 + math.exp(-1)))
    assert info_nce(a, p, neg, tau=1.0).item() == pytest.approx(expected, rel=1e-5)
    with pytest.raises(GraphadInputError, match="negatives"):
        info_nce(a, p, torch.zeros(2, 1, 2))
    with pytest.raises(GraphadInputError, match="matching"):
        info_nce(a, torch.zeros(2, 2))


def test_nt_xent_by_hand():
    z1 = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    z2 = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    # view 0 (z1[0]): others z1[1] (0), z2[0] (1, positive), z2[1] (1)
    l0 = -math.log(math.e / (1 + math.e + math.e))
    # view 1 (z1[1]): others z1[0] (0), z2[0] (0), z2[1] (0, positive)
    l1 = -math.log(1 / 3)
    # view 2 (z2[0]): others z1[0] (1, positive), z1[1] (0), z2[1] (1)
    l2 = -math.log(math.e / (math.e + 1 + math.e))
    # view 3 (z2[1]): others z1[0] (1), z1[1] (0, positive), z2[0] (1)
    l3 = -math.log(1 / (math.e + 1 + math.e))
    expected = (l0 + l1 + l2 + l3) / 4
    assert nt_xent(z1, z2, tau=1.0).item() == pytest.approx(expected, rel=1e-5)


def test_cross_scale_and_alignment_by_hand():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    b = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    l_ab = info_nce(a, b, tau=1.0)
    l_ba = info_nce(b, a, tau=1.0)
    assert cross_scale_loss([a, b, a], tau=1.0).item() == pytest.approx(((l_ab + l_ba) / 2).item())
    # mean of (a, b) = 0.5 everywhere: each scale is off by 0.5 in both coordinates
    assert alignment_loss([a, b]).item() == pytest.approx(1.0)
    assert alignment_loss([a, b], z_global=a).item() == pytest.approx(2.0)
    with pytest.raises(GraphadInputError, match="two or more"):
        cross_scale_loss([a])


def test_temporal_smoothness_by_hand():
    z = torch.tensor([[[0.0, 0.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 3.0]]])  # [T=2, N=2, d=2]
    assert temporal_smoothness(z).item() == pytest.approx((1.0 + 4.0) / 2)
    assert temporal_smoothness(z[:1]).item() == 0.0
