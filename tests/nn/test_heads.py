import torch

from graphad.nn import ForecastHead, ProjectionHead


def test_projection_head_formula_and_repr():
    head = ProjectionHead(3, 5, 2)
    z = torch.randn(4, 3)
    expected = head.lin2(torch.relu(head.lin1(z)))
    assert torch.allclose(head(z), expected)
    assert repr(head) == "ProjectionHead(3, 5, 2)"
    head.reset_parameters()


def test_forecast_head_shape_and_repr():
    head = ForecastHead(3, 8, 2, horizon=4)
    assert head(torch.randn(6, 3)).shape == (6, 4, 2)
    assert head(torch.randn(2, 6, 3)).shape == (2, 6, 4, 2)
    assert repr(head) == "ForecastHead(3, 2, horizon=4)"
    head.reset_parameters()


def test_neighbour_forecast_never_reads_the_node_itself():
    import torch

    from graphad.nn import NeighbourForecast

    torch.manual_seed(0)
    head = NeighbourForecast(4, num_nodes=3, num_features=2)
    h = torch.randn(6, 4)  # two graphs of three nodes
    edges = torch.tensor([[0, 1, 2, 1, 3, 4, 5], [0, 0, 0, 1, 3, 3, 3]])
    out = head(h, edges, torch.ones(7))
    changed = h.clone()
    changed[0] += 5.0  # node 0 of graph 0: its own state, and a neighbour of nobody
    again = head(changed, edges, torch.ones(7))
    torch.testing.assert_close(out[0], again[0])  # self-loop 0 -> 0 ignored
    changed = h.clone()
    changed[1] += 5.0  # a neighbour of node 0
    assert not torch.allclose(head(changed, edges, torch.ones(7))[0], out[0])
    # graphs do not mix: node 3 (graph 1) is unchanged by any change in graph 0
    torch.testing.assert_close(head(changed, edges, torch.ones(7))[3], out[3])
    assert out.shape == (6, 2)


def test_dense_paths_equal_message_passing():
    import torch

    from graphad.nn import AdaptiveAdjacency, NeighbourForecast, SpatioTemporalConv

    torch.manual_seed(1)
    b, n, d = 3, 5, 4
    h = torch.randn(b, n, d)
    adjacency = AdaptiveAdjacency(tau=0.3)
    ei, ew = adjacency(h)
    dense = adjacency.dense(h)
    torch.testing.assert_close(dense.sum(-1), torch.ones(b, n))
    conv = SpatioTemporalConv(d, 6)
    torch.testing.assert_close(
        conv(h.reshape(b * n, d), ei, ew).view(b, n, -1), conv.forward_dense(h, dense)
    )
    head = NeighbourForecast(d, num_nodes=n, num_features=2)
    torch.testing.assert_close(
        head(h.reshape(b * n, d), ei, ew).view(b, n, -1), head.forward_dense(h, dense)
    )
