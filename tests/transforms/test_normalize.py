import pytest
import torch
from torch_geometric.data import Data

from graphad.exceptions import GraphadInputError
from graphad.transforms import RobustScale, robust_scale, robust_stats


def test_robust_stats_exact_per_node_and_feature():
    x = torch.zeros(5, 2, 1, 2)  # [W, N, T, F]
    x[:, 0, 0, 0] = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    x[:, 1, 0, 1] = torch.tensor([10.0, 10.0, 10.0, 10.0, 10.0])
    center, scale = robust_stats(x, eps=0.5)
    assert center.tolist() == [[3.0, 0.0], [0.0, 10.0]]
    assert scale.tolist() == [[2.0, 0.5], [0.5, 0.5]]
    with pytest.raises(GraphadInputError, match="dimensions"):
        robust_stats(torch.zeros(3, 3))


def test_robust_scale_transform_untouched():
    center, scale = torch.tensor([[1.0], [0.0]]), torch.tensor([[2.0], [4.0]])
    data = Data(x=torch.tensor([[[3.0], [5.0]], [[4.0], [8.0]]]))
    before = data.x.clone()
    out = RobustScale(center, scale)(data)
    assert out.x.flatten().tolist() == [1.0, 2.0, 1.0, 2.0]
    assert torch.equal(data.x, before)
    assert torch.equal(robust_scale(data.x, center, scale), out.x)
    assert repr(RobustScale(center, scale)) == "RobustScale(num_nodes=2)"
