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
