"""GDN's graph attention layer (graphad.nn.deviation)."""

import torch

from graphad.nn import GraphDeviationLayer


def test_layer_attention_is_a_convex_combination():
    layer = GraphDeviationLayer(2, 3, embedding_dim=2)
    assert repr(layer) == "GraphDeviationLayer(2, 3, embedding_dim=2)"
    with torch.no_grad():
        layer.lin.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        layer.att_i.zero_()
        layer.att_j.zero_()  # equal attention: mean over neighbours and self
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    out = layer(x, torch.zeros(3, 2), torch.tensor([[1, 2], [0, 0]]))
    # node 0 averages itself, 1 and 2: W x = (3, 4, 7); nodes 1, 2 only themselves
    expected = torch.tensor([[3.0, 4.0, 7.0], [3.0, 4.0, 7.0], [5.0, 6.0, 11.0]])
    torch.testing.assert_close(out, expected)
    layer.reset_parameters()
    assert layer.bias.abs().sum() == 0
