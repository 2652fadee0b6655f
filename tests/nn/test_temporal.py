import pytest
import torch

from graphad.exceptions import GraphadInputError
from graphad.nn import MultiScaleTemporalEncoder, StepEmbedding, end_aligned_pool


def test_end_aligned_pool_exact():
    x = torch.arange(7.0).view(1, 7, 1)
    assert end_aligned_pool(x, 1) is x
    assert end_aligned_pool(x, 2).flatten().tolist() == [1.5, 3.5, 5.5]
    assert end_aligned_pool(x, 4).flatten().tolist() == [4.5]
    assert end_aligned_pool(x, 10).flatten().tolist() == [3.0]
    with pytest.raises(GraphadInputError, match="scale"):
        end_aligned_pool(x, 0)


def test_step_embedding_is_relu_affine():
    emb = StepEmbedding(2, 3)
    x = torch.randn(4, 5, 2)
    expected = torch.relu(x @ emb.lin.weight.T + emb.lin.bias)
    assert torch.allclose(emb(x), expected)
    assert repr(emb) == "StepEmbedding(2, 3)"


def test_multiscale_shapes_and_scale_dependence():
    torch.manual_seed(0)
    enc = MultiScaleTemporalEncoder(2, 8, 6, num_steps=9, scales=(1, 3))
    x = torch.randn(5, 9, 2)
    scales = enc.encode_scales(x)
    assert [s.shape for s in scales] == [torch.Size([5, 6])] * 2
    assert torch.allclose(enc(x), enc.fuse_scales(scales))
    # the coarse scale ignores a permutation inside a pooling bucket
    y = x.clone()
    y[:, [0, 1]] = x[:, [1, 0]]
    assert torch.allclose(enc.encode_scales(y)[1], scales[1], atol=1e-6)
    assert not torch.allclose(enc.encode_scales(y)[0], scales[0])
    enc.reset_parameters()


def test_multiscale_rejects_wrong_shapes():
    enc = MultiScaleTemporalEncoder(2, 8, num_steps=4)
    with pytest.raises(GraphadInputError, match="T = 4"):
        enc(torch.randn(3, 5, 2))
    with pytest.raises(GraphadInputError, match="scales"):
        MultiScaleTemporalEncoder(2, 8, num_steps=4, scales=(0,))
