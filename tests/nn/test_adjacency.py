import math

import pytest
import torch

from graphad.exceptions import GraphadInputError
from graphad.nn import AdaptiveAdjacency, adaptive_adjacency


def dense(edge_index, edge_weight, n):
    a = torch.zeros(n, n)
    a[edge_index[1], edge_index[0]] = edge_weight
    return a


def test_rows_sum_to_one_and_match_hand_computation():
    h = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    ei, w = adaptive_adjacency(h, tau=1.0)
    a = dense(ei, w, 3)
    assert torch.allclose(a.sum(1), torch.ones(3))
    # row 0: cos = [1, 0, 1/sqrt2]
    logits = torch.tensor([1.0, 0.0, 1 / math.sqrt(2)])
    assert torch.allclose(a[0], torch.softmax(logits, 0), atol=1e-6)


def test_small_tau_is_finite_and_tends_to_argmax_neighbour():
    h = torch.tensor([[1.0, 0.0], [0.9, 0.2], [0.0, 1.0], [-1.0, 0.1]])
    for tau in (0.01, 1e-4):
        ei, w = adaptive_adjacency(h, tau=tau, exclude_self=True)
        assert torch.isfinite(w).all()
        a = dense(ei, w, 4)
        assert torch.allclose(a.sum(1), torch.ones(4))
    # at tiny tau each row is one-hot on the most similar other node
    expected = torch.tensor([1, 0, 1, 2])
    assert torch.equal(a.argmax(1), expected)
    assert torch.allclose(a.max(1).values, torch.ones(4), atol=1e-4)


@pytest.mark.parametrize("exclude_self", [False, True])
def test_topk_matches_dense_restricted_softmax(exclude_self):
    torch.manual_seed(0)
    h = torch.randn(3, 9, 5)
    k = 3
    ei, w = adaptive_adjacency(h, tau=0.2, k=k, exclude_self=exclude_self, block_size=2)
    assert ei.shape[1] == 3 * 9 * k
    a = dense(ei, w, 27)
    for b in range(3):
        block = a[b * 9 : (b + 1) * 9, b * 9 : (b + 1) * 9]
        hn = torch.nn.functional.normalize(h[b], dim=-1)
        logits = hn @ hn.T / 0.2
        if exclude_self:
            logits.fill_diagonal_(float("-inf"))
        top = logits.topk(k, dim=1)
        ref = torch.zeros(9, 9).scatter(1, top.indices, torch.softmax(top.values, 1))
        assert torch.allclose(block, ref, atol=1e-6)
    # no edge crosses graphs
    assert torch.equal(ei[0] // 9, ei[1] // 9)


def test_prior_mixing_keeps_rows_stochastic():
    h = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
    prior = torch.tensor([[0], [1]])  # 0 -> 1, used in both directions
    ei, w = adaptive_adjacency(h, tau=0.5, prior_edge_index=prior, prior_weight=0.5)
    a = dense(ei, w, 4)
    assert torch.allclose(a.sum(1), torch.ones(4), atol=1e-6)
    learned = dense(*adaptive_adjacency(h, tau=0.5), 4)
    expected = learned.clone()
    expected[0] = 0.5 * learned[0]
    expected[0, 1] += 0.5
    expected[1] = 0.5 * learned[1]
    expected[1, 0] += 0.5
    assert torch.allclose(a, expected, atol=1e-6)


def test_bad_arguments():
    with pytest.raises(GraphadInputError, match="tau"):
        adaptive_adjacency(torch.randn(3, 2), tau=0.0)
    with pytest.raises(GraphadInputError, match="2 or 3 dimensions"):
        adaptive_adjacency(torch.randn(3))
    with pytest.raises(GraphadInputError, match="prior_edge_index"):
        adaptive_adjacency(
            torch.randn(3, 2), prior_edge_index=torch.tensor([[0], [5]]), prior_weight=0.5
        )
    with pytest.raises(GraphadInputError, match="prior_weight"):
        adaptive_adjacency(torch.randn(3, 2), prior_weight=2.0)


def test_module_reset_repr_and_gradients():
    adj = AdaptiveAdjacency(4, 8, tau=0.1, k=2)
    assert repr(adj) == "AdaptiveAdjacency(4, 8, tau=0.1, k=2)"
    assert repr(AdaptiveAdjacency()) == "AdaptiveAdjacency(tau=0.1)"
    before = adj.lin.weight.clone()
    adj.reset_parameters()
    assert not torch.equal(before, adj.lin.weight)
    x = torch.randn(5, 4, requires_grad=True)
    _, w = adj(x)
    w.pow(2).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_large_topk_never_builds_n_by_n():
    # 3000 nodes with block rows: the result has N * k edges only
    h = torch.randn(3000, 16, generator=torch.Generator().manual_seed(0))
    ei, w = adaptive_adjacency(h, tau=0.1, k=4, block_size=256)
    assert ei.shape == (2, 12000)
    assert torch.allclose(torch.zeros(3000).index_add_(0, ei[1], w), torch.ones(3000), atol=1e-5)
