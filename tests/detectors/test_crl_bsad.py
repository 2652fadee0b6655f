import numpy as np
import pandas as pd
import pytest
import torch

from graphad.detectors._contrastive import knn_deviation, num_threads
from graphad.detectors.crl_bsad import CRLBSAD, CRLBSADNet
from graphad.eval import auc_pr
from graphad.exceptions import GraphadInputError, NotFittedError

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


def make_series(n_steps=400, n_nodes=4, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n_steps)[:, None]
    base = np.sin(t / 6 + np.arange(n_nodes))
    return pd.DataFrame(
        base + 0.05 * rng.standard_normal((n_steps, n_nodes)),
        columns=[f"m{i}" for i in range(n_nodes)],
    )


def test_fit_returns_self_and_unfitted_raises():
    det = CRLBSAD(**FAST)
    with pytest.raises(NotFittedError):
        det.decision_function(make_series())
    assert det.fit(make_series()) is det
    assert det.node_names_ == ["m0", "m1", "m2", "m3"]
    assert len(det.history_) == 2 and all(np.isfinite(det.history_))
    assert det.get_params()["window_size"] == 8


def test_planted_anomaly_ranks_first():
    train, test = make_series(seed=0), make_series(200, seed=1)
    test.iloc[120, 2] += 3.0
    det = CRLBSAD(**FAST).fit(train)
    nodes = det.decision_function(test)
    windows = det.score_windows(test)
    step = 120 - 7  # the window that ends at the planted step
    # the spike stays among the knn_steps (5) newest steps of the next windows too
    top = int(windows.argmax())
    assert step <= top < step + 5
    assert int(nodes[top].argmax()) == 2
    assert det.predict(test)[top] == 1


def test_seeded_and_save_load(tmp_path):
    train, test = make_series(), make_series(150, seed=3)
    a = CRLBSAD(**FAST).fit(train).decision_function(test)
    det = CRLBSAD(**FAST).fit(train)
    b = det.decision_function(test)
    assert torch.equal(a, b)
    det.save(tmp_path / "crl.pt")
    loaded = CRLBSAD.load(tmp_path / "crl.pt")
    assert torch.allclose(loaded.decision_function(test), b)
    assert loaded.threshold_ == det.threshold_


@pytest.mark.parametrize(
    "params",
    [
        dict(scoring=("forecast",)),
        dict(scoring=("knn",), knn_space="values", epochs=0),
        dict(normalize="node", window_reduce="max", scaler="robust", top_k=2),
        dict(contrastive_weight=0.0, threshold="pot"),
    ],
)
def test_scoring_variants_run(params):
    det = CRLBSAD(**{**FAST, **params}).fit(make_series(200))
    scores = det.score_windows(make_series(100, seed=2))
    assert scores.shape == (93,) and torch.isfinite(scores).all()


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(scoring=("magic",)), "Could not resolve"),
        (dict(knn_space="pixels"), "knn_space"),
        (dict(normalize="zscore"), "normalize"),
        (dict(window_reduce="mean"), "window_reduce"),
        (dict(scaler="log"), "scaler"),
        (dict(window_size=1), "at least 2 steps"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(GraphadInputError, match=match):
        CRLBSAD(**{**FAST, **params}).fit(make_series(100))


def test_wrong_shape_at_scoring():
    det = CRLBSAD(**FAST).fit(make_series(150))
    with pytest.raises(GraphadInputError, match="do not match"):
        det.decision_function(make_series(150, n_nodes=3))


def test_graph_windows_with_prior():
    # [W, N, T, F] windows with an observed call graph as a list of PyG Data
    from torch_geometric.data import Data

    x = torch.tensor(make_series(120).to_numpy(np.float32))
    windows = [
        Data(x=x[i : i + 8].T.unsqueeze(-1), edge_index=torch.tensor([[0, 1], [1, 2]]))
        for i in range(100)
    ]
    det = CRLBSAD(**FAST).fit(windows)
    assert det.edge_index_.tolist() == [[0, 1], [1, 2]]
    assert det.decision_function(windows).shape == (100, 4)


def test_network_shapes():
    net = CRLBSADNet(2, 5, hidden_channels=8, scales=(1, 2), top_k=2)
    z = net.embed(torch.randn(3, 4, 5, 2), torch.zeros(2, 0, dtype=torch.long))
    assert z.shape == (3, 4, 8) and net.forecast(z).shape == (3, 4, 2)


def test_knn_deviation_by_hand_and_exclusion():
    memory = torch.tensor([[[0.0, 0.0]], [[2.0, 0.0]], [[10.0, 10.0]]])  # [M=3, N=1, D=2]
    query = torch.tensor([[[1.0, 1.0]]])
    # neighbours 0 and 1 -> centre (1, 0) -> deviation 1
    assert knn_deviation(query, memory, k=2).tolist() == [[1.0]]
    # excluding memory position 0: neighbours 1 and 2 -> centre (6, 5)
    dev = knn_deviation(
        query,
        memory,
        k=2,
        query_pos=torch.tensor([0]),
        memory_pos=torch.tensor([0, 5, 9]),
        exclusion=2,
    )
    assert dev.item() == pytest.approx(float(np.hypot(5.0, 4.0)))


def test_num_threads_restores():
    before = torch.get_num_threads()
    with num_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_real_asd_server_beats_random(shared_data):
    from graphad.datasets.mts import MultivariateCSV

    entity = MultivariateCSV(shared_data / "asd").load("omi-8")
    det = CRLBSAD(
        window_size=8, epochs=1, max_windows=512, memory_size=1024, random_state=0, device="cpu"
    ).fit(entity.train.iloc[:3000])
    test = pd.concat([entity.train.iloc[-7:], entity.test])
    scores = det.score_windows(test).numpy()
    assert auc_pr(entity.test_labels, scores) > 3 * entity.test_labels.mean()


def test_learned_adjacency_rows_sum_to_one():
    import numpy as np

    from graphad.detectors import CRLBSAD

    rng = np.random.default_rng(0)
    series = rng.normal(size=(80, 4)).astype("float32")
    detector = CRLBSAD(window_size=6, epochs=1, random_state=0).fit(series)
    edge_index, edge_weight = detector.learned_adjacency(series[:30])
    assert edge_index.shape[0] == 2 and edge_index.max() < 4
    row_sums = torch.zeros(4).index_add_(0, edge_index[1], edge_weight)
    assert torch.allclose(row_sums, torch.ones(4), atol=1e-5)


def test_graph_part_scores_a_broken_relation():
    import numpy as np

    from graphad.detectors import CRLBSAD, UCL
    from graphad.exceptions import GraphadInputError

    rng = np.random.default_rng(0)
    t = np.arange(400)[:, None]
    base = np.sin(t / 5.0)
    series = np.hstack([base, base, np.cos(t / 7.0)]) + 0.02 * rng.standard_normal((400, 3))
    det = CRLBSAD(
        window_size=8, epochs=30, scoring=("graph",), window_scoring=None, contrastive_weight=0.0
    )
    det.fit(series)
    broken = series.copy()
    broken[300:, 1] = -broken[300:, 1]  # node 1 no longer follows node 0
    nodes = det.decision_function(broken).numpy()
    assert nodes.shape == (393, 3)
    assert nodes[300:, 1].mean() > 2 * nodes[:280, 1].mean()
    assert nodes[300:, 1].mean() > nodes[300:, 2].mean()  # the unrelated node, less
    with pytest.raises(GraphadInputError, match="no 'graph' part"):
        UCL(window_size=8, epochs=1, scoring=("graph",)).fit(series)
