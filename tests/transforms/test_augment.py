import pytest
import torch
from torch_geometric.data import Data

from graphad.exceptions import GraphadInputError
from graphad.transforms import (
    DropEdges,
    FrequencyMask,
    Jitter,
    MaskFeatures,
    RandomChoice,
    RandomSubgraph,
    Scaling,
    SegmentMask,
    SegmentReplace,
    TimeShift,
    TwoViews,
    frequency_mask,
    jitter,
    random_series_view,
    scaling,
    segment_mask,
    segment_replace,
    time_shift,
)


def series():
    return torch.arange(12.0).view(2, 6, 1)  # two nodes, 6 steps, 1 feature


def test_time_shift_exact_per_series():
    x = series()
    out = time_shift(x, torch.tensor([1, -2]))
    assert out[0, :, 0].tolist() == [0.0, 0.0, 1.0, 2.0, 3.0, 4.0]
    assert out[1, :, 0].tolist() == [8.0, 9.0, 10.0, 11.0, 11.0, 11.0]


def test_segment_mask_and_replace_exact():
    x = series()
    masked = segment_mask(x, torch.tensor([0, 4]), 2, value=-1.0)
    assert masked[0, :, 0].tolist() == [-1.0, -1.0, 2.0, 3.0, 4.0, 5.0]
    assert masked[1, :, 0].tolist() == [6.0, 7.0, 8.0, 9.0, -1.0, -1.0]
    replaced = segment_replace(x, 1, 3, 2)
    assert replaced[0, :, 0].tolist() == [0.0, 3.0, 4.0, 3.0, 4.0, 5.0]


def test_frequency_mask_removes_one_band():
    t = torch.arange(8.0)
    slow = torch.cos(2 * torch.pi * t / 8)
    fast = torch.cos(2 * torch.pi * 3 * t / 8)
    x = (1.0 + slow + fast).view(8, 1)
    assert torch.allclose(frequency_mask(x, 3, 1), (1.0 + slow).view(8, 1), atol=1e-5)
    assert torch.allclose(frequency_mask(x, 1, 3), torch.ones(8, 1), atol=1e-5)


def test_jitter_scaling_exact():
    x = torch.ones(2, 3, 2)
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(jitter(x, 0.5, g), x + 0.5 * noise)
    out = scaling(x, torch.tensor([[2.0, 3.0], [1.0, 0.0]]))
    assert out[0, :, 0].tolist() == [2.0] * 3 and out[0, :, 1].tolist() == [3.0] * 3
    assert out[1, :, 1].tolist() == [0.0] * 3


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: time_shift(x, 1),
        lambda x: segment_mask(x, 1, 2),
        lambda x: segment_replace(x, 0, 2, 2),
        lambda x: frequency_mask(x, 1, 1),
        lambda x: jitter(x, 0.1),
        lambda x: scaling(x, 2.0),
        lambda x: random_series_view(x, torch.Generator().manual_seed(0)),
    ],
)
def test_functions_leave_input_untouched(fn):
    x = torch.randn(3, 8, 2)
    before = x.clone()
    out = fn(x)
    assert torch.equal(x, before)
    assert out.shape == x.shape and out.data_ptr() != x.data_ptr()


def test_random_series_view_seeded_and_validates():
    x = torch.randn(4, 10, 2)
    a = random_series_view(x, torch.Generator().manual_seed(3))
    b = random_series_view(x, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert not torch.equal(a, x)
    only_mask = random_series_view(
        torch.ones(4, 10, 1), torch.Generator().manual_seed(0), kinds=("mask",)
    )
    assert ((only_mask == 0).sum(dim=(1, 2)) >= 1).all()
    with pytest.raises(GraphadInputError, match="Could not resolve"):
        random_series_view(x, kinds=("warp",))
    with pytest.raises(GraphadInputError, match="dimensions"):
        time_shift(torch.zeros(3), 1)


def graph():
    return Data(
        x=torch.randn(4, 6, 2),
        edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]]),
        edge_attr=torch.tensor([[1.0], [2.0], [3.0]]),
        node_mask=torch.ones(4).bool(),
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda s: TimeShift(2, random_state=s),
        lambda s: SegmentMask(2, random_state=s),
        lambda s: SegmentReplace(2, random_state=s),
        lambda s: FrequencyMask(1, random_state=s),
        lambda s: Jitter(0.1, random_state=s),
        lambda s: Scaling(0.2, random_state=s),
        lambda s: DropEdges(0.5, random_state=s),
        lambda s: MaskFeatures(0.5, random_state=s),
        lambda s: RandomSubgraph(0.5, random_state=s),
        lambda s: RandomChoice(
            [Jitter(0.1, random_state=s), TimeShift(1, random_state=s)], random_state=s
        ),
    ],
)
def test_transforms_untouched_and_seeded(make):
    data = graph()
    before = {k: v.clone() for k, v in data.items()}
    out1 = make(7)(data)
    out2 = make(7)(data)
    for key, value in before.items():
        assert torch.equal(data[key], value), key
    for key in out1.keys():
        if torch.is_tensor(out1[key]):
            assert torch.equal(out1[key], out2[key]), key
        else:
            assert out1[key] == out2[key], key
    assert repr(make(0)).endswith(")")


def test_graph_views_exact_effects():
    data = graph()
    assert DropEdges(0.0, random_state=0)(data).edge_index.tolist() == data.edge_index.tolist()
    dropped = DropEdges(1.0, random_state=0)(data)
    assert dropped.edge_index.shape == (2, 0) and dropped.edge_attr.shape == (0, 1)
    masked = MaskFeatures(1.0, random_state=0)(data)
    assert masked.x.abs().sum() == 0
    sub = RandomSubgraph(0.5, random_state=0)(data)
    kept = sub.n_id
    assert sub.x.shape == (2, 6, 2) and torch.equal(sub.x, data.x[kept])
    # edges among kept nodes only, relabelled
    for u, v in sub.edge_index.T.tolist():
        assert [int(kept[u]), int(kept[v])] in data.edge_index.T.tolist()


def test_two_views_positive_pair():
    data = Data(x=torch.zeros(3, 5, 1))
    v1, v2 = TwoViews(Jitter(0.1, random_state=0))(data)
    assert v1.x.shape == v2.x.shape == data.x.shape
    assert not torch.equal(v1.x, v2.x)
    a, b = TwoViews(Jitter(0.1, random_state=0), Scaling(0.0, random_state=0))(data)
    assert torch.equal(b.x, data.x)
    with pytest.raises(GraphadInputError, match=r"\[N, T, F\]"):
        Jitter(0.1)(Data(x=torch.zeros(3, 5)))
