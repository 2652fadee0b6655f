import numpy as np
import pandas as pd
import pytest
import torch

from graphad.detectors.ucl import UCL, UCLNet
from graphad.exceptions import GraphadInputError, NotFittedError


def make_series(n_steps=400, n_nodes=4, seed=0):
    rng = np.random.default_rng(seed)
    base = np.sin(np.arange(n_steps)[:, None] / 6 + np.arange(n_nodes))
    return pd.DataFrame(
        base + 0.05 * rng.standard_normal((n_steps, n_nodes)),
        columns=[f"m{i}" for i in range(n_nodes)],
    )


FAST = dict(
    window_size=8,
    epochs=2,
    max_windows=256,
    batch_size=64,
    hidden_channels=16,
    memory_size=512,
    random_state=0,
    device="cpu",
)


def test_fit_score_planted_anomaly():
    train, test = make_series(seed=0), make_series(200, seed=1)
    test.iloc[150, 1] -= 3.0
    det = UCL(**FAST)
    with pytest.raises(NotFittedError):
        det.score_windows(test)
    assert det.fit(train) is det
    step = 150 - 7
    top = int(det.score_windows(test).argmax())
    assert step <= top < step + 5
    assert int(det.decision_function(test)[top].argmax()) == 1


def test_seeded_and_save_load(tmp_path):
    train, test = make_series(), make_series(120, seed=4)
    a = UCL(**FAST).fit(train).decision_function(test)
    det = UCL(**FAST).fit(train)
    assert torch.equal(a, det.decision_function(test))
    det.save(tmp_path / "ucl.pt")
    assert torch.allclose(UCL.load(tmp_path / "ucl.pt").decision_function(test), a)


def test_graph_perturbation_path_and_losses():
    net = UCLNet(1, 5, hidden_channels=8, scales=(1, 2), max_pairs=6)
    ctx = torch.randn(3, 4, 5, 1)
    edges = torch.tensor([[0, 1, 2], [1, 2, 3]])
    net.train()
    z = net.embed(ctx, edges)
    loss = net.contrastive_loss(ctx, None, edges, torch.Generator().manual_seed(0), z)
    assert z.shape == (3, 4, 8) and torch.isfinite(loss)
    loss.backward()
    assert net.encoder.embed.lin.weight.grad is not None


def test_needs_two_steps():
    with pytest.raises(GraphadInputError, match="at least 2 steps"):
        UCL(**{**FAST, "window_size": 1}).fit(make_series(50))
    assert np.isfinite(
        UCL(**{**FAST, "scoring": ("forecast",)})
        .fit(make_series(100))
        .score_windows(make_series(60))
        .numpy()
    ).all()
