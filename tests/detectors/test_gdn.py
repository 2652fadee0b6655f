"""GDN: the learned graph, the attention layer, and the deviation scores."""

from __future__ import annotations

import pytest
import torch

from graphad.detectors.gdn import GDN, GDNModel, topk_embedding_graph
from graphad.exceptions import GraphadInputError, NotFittedError


def test_topk_graph_exact():
    emb = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    edge_index = topk_embedding_graph(emb, 1)
    assert edge_index.tolist() == [[1, 0, 3, 2], [0, 1, 2, 3]]
    assert topk_embedding_graph(emb, 3).shape == (2, 12)
    # never a self-loop
    assert not (topk_embedding_graph(emb, 3)[0] == topk_embedding_graph(emb, 3)[1]).any()


def test_model_shapes():
    model = GDNModel(num_nodes=4, in_channels=6, out_channels=2, embedding_dim=8, topk=2)
    assert model(torch.randn(3, 4, 6)).shape == (3, 4, 2)
    assert model.learned_graph().shape == (2, 8)


def _series_windows(seed: int, count: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(count + 5).float()
    base = torch.stack([torch.sin(t / 3 + k) for k in range(4)], dim=1)
    base = base + 0.05 * torch.randn(base.shape, generator=g)
    return base.unfold(0, 6, 1)[:count, :, :, None]  # [W, N, T=6, 1]


def test_gdn_forecast_errors_and_deviation_normalisation():
    train = _series_windows(0, 200)
    det = GDN(epochs=15, topk=2, random_state=0).fit(train)
    assert len(det.history_) == 15 and det.history_[-1] < det.history_[0]
    assert det.err_median_.shape == (4,) and (det.err_iqr_ > 0).all()
    assert det.learned_graph().shape == (2, 8)
    test = _series_windows(1, 20).clone()
    test[10, 3, -1] += 2.0  # only the forecast step of node 3 moves
    scores = det.decision_function(test)
    assert int(scores[10].argmax()) == 3 and int(det.score_windows(test).argmax()) == 10


def test_gdn_input_errors():
    with pytest.raises(GraphadInputError, match="T >= 2"):
        GDN().fit(torch.randn(10, 3, 1, 1))
    with pytest.raises(GraphadInputError, match="N >= 2"):
        GDN().fit(torch.randn(10, 1, 4, 1))
    with pytest.raises(NotFittedError):
        GDN().learned_graph()
