import torch

from graphad.nn import SpatioTemporalConv, adaptive_adjacency


def test_matches_dense_formula():
    torch.manual_seed(0)
    conv = SpatioTemporalConv(3, 4, act="tanh")
    h = torch.randn(5, 3)
    ei, w = adaptive_adjacency(h, tau=0.5)
    a = torch.zeros(5, 5)
    a[ei[1], ei[0]] = w
    expected = torch.tanh(a @ conv.lin_g(h) + conv.lin_t(h))
    assert torch.allclose(conv(h, ei, w), expected, atol=1e-6)


def test_unweighted_edges_count_one_and_repr():
    conv = SpatioTemporalConv(2, 2, act="identity", bias=False)
    with torch.no_grad():
        conv.lin_g.weight.copy_(torch.eye(2))
        conv.lin_t.weight.zero_()
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    out = conv(x, torch.tensor([[0, 1], [2, 2]]))
    assert out.tolist() == [[0.0, 0.0], [0.0, 0.0], [4.0, 6.0]]
    assert repr(conv) == "SpatioTemporalConv(2, 2, act=identity)"
    before = conv.lin_g.weight.clone()
    conv.reset_parameters()
    assert not torch.equal(before, conv.lin_g.weight)
