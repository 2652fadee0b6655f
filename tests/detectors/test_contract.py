"""One contract test over every registered detector (graphad.detectors.DETECTORS).

Each detector class is checked as it declares itself, never skipped silently:

* ``input_kind == "windows"`` (default): the window contract below;
* ``input_kind == "sequences"`` (DeepLog): the equivalent contract on event sequences;
* ``_requires_labels`` (supervised classifiers): ``fit(windows, y)`` with window labels,
  and ``fit`` without labels must raise ``GraphadInputError``.

Any other ``input_kind`` fails the test, so a detector added later must either follow one
of these contracts or teach this file about its own. ``FAST`` holds small settings for
known detectors; an unknown detector runs with its defaults (plus ``window_size``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch_geometric.data import Data

import graphad.detectors  # noqa: F401  (registers every detector shipped with graphad)
from graphad.detectors import DETECTORS, BaseDetector
from graphad.detectors.base import sliding_windows
from graphad.exceptions import GraphadInputError, NotFittedError
from graphad.graph import DynamicGraph, NodeVocab

for _optional in ("graphad.detectors.crl_bsad", "graphad.detectors.ucl"):
    __import__(_optional)  # the contrastive detectors register themselves on import

N_NODES, STEPS, PLANT_NODE, PLANT_WINDOW = 5, 8, 2, 30
NAMES = [f"svc-{i}" for i in range(N_NODES)]

#: Small, fast settings per detector (keyword arguments on top of the defaults).
FAST: dict[str, dict] = {
    "GDN": {"epochs": 8},
    "IForestDetector": {"n_estimators": 50},
    "CNNClassifier": {"epochs": 20},
    "LSTMClassifier": {"epochs": 40, "lr": 5e-3},
    "NegativeSamplingContrastive": {"epochs": 20, "pretrain_epochs": 3},
    "CRLBSAD": {"epochs": 2, "batch_size": 64, "memory_size": 512},
    "UCL": {"epochs": 2, "batch_size": 64, "memory_size": 512},
    "DeepLog": {"window_size": 3, "epochs": 40, "lr": 0.02, "hidden_channels": 16, "num_layers": 1},
}


def _kind(cls: type[BaseDetector]) -> str:
    return getattr(cls, "input_kind", "windows")


WINDOW_DETECTORS = sorted(n for n, c in DETECTORS.items() if _kind(c) == "windows")
SEQUENCE_DETECTORS = sorted(n for n, c in DETECTORS.items() if _kind(c) == "sequences")


def test_every_detector_has_a_known_contract():
    unknown = {
        n: _kind(c) for n, c in DETECTORS.items() if _kind(c) not in ("windows", "sequences")
    }
    assert not unknown, f"teach test_contract.py these input kinds: {unknown}"
    assert {
        "RobustZScore",
        "PCADetector",
        "IForestDetector",
        "KNNDetector",
        "GDN",
        "NegativeSamplingContrastive",
        "CNNClassifier",
        "LSTMClassifier",
    } <= set(WINDOW_DETECTORS)
    assert "DeepLog" in SEQUENCE_DETECTORS


# -- synthetic data ------------------------------------------------------------------------
def _series(length: int, seed: int) -> np.ndarray:
    """``[length, N]`` phase-shifted sines + noise: nodes move together, predictably."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)[:, None]
    base = np.sin(2 * np.pi * t / 25 + 0.7 * np.arange(N_NODES)[None])
    return (base + 0.1 * rng.standard_normal((length, N_NODES))).astype(np.float32)


def _labelled_series(length: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A series with planted jumps (last 3 steps of one node +3) and its window labels."""
    series = _series(length, seed)
    rng = np.random.default_rng(seed + 100)
    labels = np.zeros(length - STEPS + 1, dtype=np.int64)
    for k, end in enumerate(rng.choice(np.arange(STEPS + 5, length, 9), 24, replace=False)):
        series[end - 2 : end + 1, k % N_NODES] += 3.0
        labels[max(0, end - STEPS + 1) : end - STEPS + 4] = 1  # jump within last 3 steps
    return series, labels


def _windows(series: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(sliding_windows(series, STEPS)))[..., None]


def _test_windows() -> torch.Tensor:
    """60 normal windows of another stretch; in window 30, node 2 jumps at the end."""
    x = _windows(_series(120, seed=7))[:60].clone()
    x[PLANT_WINDOW, PLANT_NODE, -3:, 0] += 3.0
    return x


def _as_dynamic_graph(x: torch.Tensor) -> DynamicGraph:
    edge_index = torch.tensor([[0, 0, 1, 3], [1, 2, 2, 4]])
    windows = [
        Data(
            x=w,
            edge_index=edge_index,
            edge_attr=torch.ones(4, 1),
            node_mask=torch.ones(N_NODES, dtype=torch.bool),
            window_start=torch.tensor([i]),
            window_end=torch.tensor([i + STEPS]),
        )
        for i, w in enumerate(x)
    ]
    return DynamicGraph(NodeVocab(NAMES), windows, ["value"], ["calls"])


def _make(name: str, **extra) -> BaseDetector:
    cls = DETECTORS[name]
    params = cls._param_names()
    # settings for parameters the class no longer has are dropped (they only speed tests up)
    kwargs = {k: v for k, v in FAST.get(name, {}).items() if k in params}
    if _kind(cls) == "windows":
        assert "window_size" in params, f"{name} must accept window_size (plain series)"
        kwargs["window_size"] = STEPS
    if "random_state" in params:
        kwargs["random_state"] = 0
    kwargs.update(extra)
    return cls(**kwargs)


def _fit(detector: BaseDetector, windows, labels=None) -> BaseDetector:
    if detector._requires_labels:
        return detector.fit(windows, labels)
    return detector.fit(windows)


@pytest.fixture(scope="module")
def train_data():
    series, labels = _labelled_series()
    return {
        "clean": _windows(_series(300, seed=0)),
        "labelled": _windows(series),
        "labels": torch.from_numpy(labels),
        "series": series,
    }


def _train_for(detector: BaseDetector, data: dict):
    if detector._requires_labels:
        return data["labelled"], data["labels"]
    return data["clean"], None


_FITTED: dict[str, BaseDetector] = {}


def _fitted(name: str, data: dict) -> BaseDetector:
    if name not in _FITTED:
        detector = _make(name)
        windows, labels = _train_for(detector, data)
        assert _fit(detector, windows, labels) is detector  # fit returns self
        _FITTED[name] = detector
    return _FITTED[name]


# -- the window contract -------------------------------------------------------------------
@pytest.mark.parametrize("name", WINDOW_DETECTORS)
def test_unfitted_use_raises(name, tmp_path):
    detector = _make(name)
    x = _test_windows()
    for call in (detector.decision_function, detector.score_windows, detector.predict):
        with pytest.raises(NotFittedError, match="not fitted"):
            call(x)
    with pytest.raises(NotFittedError):
        detector.save(tmp_path / "d.pt")


@pytest.mark.parametrize("name", WINDOW_DETECTORS)
def test_init_only_stores_parameters(name):
    detector = _make(name)
    assert not [k for k in vars(detector) if k.endswith("_")]
    params = detector.get_params()
    assert set(params) == set(type(detector)._param_names())
    assert repr(detector).startswith(f"{name}(")


@pytest.mark.parametrize("name", WINDOW_DETECTORS)
def test_fit_shapes_threshold_and_predict(name, train_data):
    detector = _fitted(name, train_data)
    x = _test_windows()
    node_scores = detector.decision_function(x)
    window_scores = detector.score_windows(x)
    assert node_scores.shape == (60, N_NODES) and node_scores.dtype == torch.float32
    assert window_scores.shape == (60,)
    assert torch.isfinite(node_scores).all() and torch.isfinite(window_scores).all()
    assert isinstance(detector.threshold_, float) and np.isfinite(detector.threshold_)
    assert detector.train_scores_.shape == (train_data["clean"].shape[0],)
    pred = detector.predict(x)
    assert pred.dtype == torch.long
    if getattr(detector, "threshold", None) == "dspot":
        # streaming alarms: DSPOT started from the training scores, run over x in order
        expected = detector._alarms(window_scores.double().numpy())
        assert torch.equal(pred, torch.from_numpy(expected))
        return
    assert torch.equal(pred, (window_scores > detector.threshold_).long())
    original = detector.threshold_
    detector.threshold_ = float(window_scores.min()) - 1.0  # predict reads threshold_
    try:
        assert bool(detector.predict(x).all())
    finally:
        detector.threshold_ = original


@pytest.mark.parametrize("name", WINDOW_DETECTORS)
def test_planted_anomaly_ranks_first(name, train_data):
    detector = _fitted(name, train_data)
    x = _test_windows()
    window_scores = detector.score_windows(x)
    assert int(window_scores.argmax()) == PLANT_WINDOW
    assert int(detector.decision_function(x)[PLANT_WINDOW].argmax()) == PLANT_NODE


@pytest.mark.parametrize("name", WINDOW_DETECTORS)
def test_same_random_state_same_scores(name, train_data):
    first = _fitted(name, train_data)
    second = _make(name)
    windows, labels = _train_for(second, train_data)
    _fit(second, windows, labels)
    x = _test_windows()
    torch.testing.assert_close(first.decision_function(x), second.decision_function(x))
    torch.testing.assert_close(first.score_windows(x), second.score_windows(x))
    assert first.threshold_ == pytest.approx(second.threshold_)


@pytest.mark.parametrize("name", WINDOW_DETECTORS)
def test_save_load_same_scores(name, train_data, tmp_path):
    detector = _fitted(name, train_data)
    path = tmp_path / f"{name}.pt"
    detector.save(path)
    x = _test_windows()
    for loaded in (BaseDetector.load(path), type(detector).load(path)):
        assert type(loaded) is type(detector)
        assert loaded.get_params() == detector.get_params()
        assert loaded.threshold_ == detector.threshold_
        torch.testing.assert_close(loaded.decision_function(x), detector.decision_function(x))
        torch.testing.assert_close(loaded.score_windows(x), detector.score_windows(x))
        assert torch.equal(loaded.predict(x), detector.predict(x))


@pytest.mark.parametrize("name", WINDOW_DETECTORS)
def test_load_rejects_other_class_and_garbage(name, train_data, tmp_path):
    detector = _fitted(name, train_data)
    path = tmp_path / "d.pt"
    detector.save(path)
    other = next(c for n, c in DETECTORS.items() if n != name and _kind(c) == "windows")
    with pytest.raises(GraphadInputError, match="another class"):
        other.load(path)
    garbage = tmp_path / "garbage.pt"
    garbage.write_text("not a detector")
    with pytest.raises(GraphadInputError, match="not a saved graphad detector"):
        type(detector).load(garbage)


@pytest.mark.parametrize("name", WINDOW_DETECTORS)
def test_input_forms_agree(name, train_data):
    detector = _fitted(name, train_data)
    x = _test_windows()
    expected = detector.decision_function(x)
    graph = _as_dynamic_graph(x)
    torch.testing.assert_close(detector.decision_function(graph), expected)
    torch.testing.assert_close(detector.decision_function(list(graph.windows)), expected)
    torch.testing.assert_close(detector.score_windows(graph), detector.score_windows(x))


@pytest.mark.parametrize("name", WINDOW_DETECTORS)
def test_wide_dataframe_input(name, train_data):
    detector = _make(name)
    series = train_data["series"] if detector._requires_labels else _series(300, seed=0)
    frame = pd.DataFrame(series, columns=NAMES)
    _fit(detector, frame, train_data["labels"] if detector._requires_labels else None)
    assert detector.node_names_ == NAMES
    test = pd.DataFrame(_series(40, seed=3), columns=NAMES)
    assert detector.decision_function(test).shape == (40 - STEPS + 1, N_NODES)
    assert detector.score_windows(test.to_numpy()).shape == (40 - STEPS + 1,)


@pytest.mark.parametrize("name", WINDOW_DETECTORS)
def test_mismatched_input_raises(name, train_data):
    detector = _fitted(name, train_data)
    x = _test_windows()
    with pytest.raises(GraphadInputError, match="do not match the training windows"):
        detector.decision_function(x[:, : N_NODES - 1])
    with pytest.raises(GraphadInputError, match="do not match the training windows"):
        detector.score_windows(x[:, :, 1:])
    bad = x.clone()
    bad[3, 1, 0, 0] = float("nan")
    with pytest.raises(GraphadInputError, match="non-finite"):
        detector.score_windows(bad)
    with pytest.raises(GraphadInputError, match="unsupported input"):
        detector.score_windows("windows.csv")


@pytest.mark.parametrize("name", [n for n in WINDOW_DETECTORS if DETECTORS[n]._requires_labels])
def test_supervised_detectors_need_labels(name, train_data):
    detector = _make(name)
    x = train_data["labelled"]
    with pytest.raises(GraphadInputError, match="supervised"):
        detector.fit(x)
    with pytest.raises(GraphadInputError, match="do not match"):
        detector.fit(x, train_data["labels"][:-1])
    with pytest.raises(GraphadInputError, match="both classes"):
        detector.fit(x, torch.zeros(x.shape[0], dtype=torch.long))
    bad = train_data["labels"].clone()
    bad[4] = 2
    with pytest.raises(GraphadInputError, match="not 0 or 1"):
        detector.fit(x, bad)


# -- the sequence contract -----------------------------------------------------------------
def _sessions(seed: int, count: int) -> list[list[str]]:
    """Normal sessions of a toy workflow: open, k x (read, ack), close."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        body = ["read", "ack"] * int(rng.integers(1, 4))
        out.append(["open", *body, "close"])
    return out


def _test_sessions() -> list[list[str]]:
    sessions = _sessions(11, 20)
    sessions[5] = ["open", "read", "close", "ack"]  # out of order: planted anomaly
    return sessions


@pytest.mark.parametrize("name", SEQUENCE_DETECTORS)
def test_sequence_contract(name, tmp_path):
    detector = _make(name)
    with pytest.raises(NotFittedError):
        detector.score_windows(_test_sessions())
    assert detector.fit(_sessions(0, 80)) is detector
    test = _test_sessions()
    scores = detector.score_windows(test)
    node_scores = detector.decision_function(test)
    assert scores.shape == (20,) and node_scores.shape == (20, detector.n_nodes_)
    assert int(scores.argmax()) == 5 and int(detector.predict(test).sum()) == 1
    assert torch.equal(detector.predict(test), (scores > detector.threshold_).long())
    again = _make(name).fit(_sessions(0, 80))
    torch.testing.assert_close(again.score_windows(test), scores)
    path = tmp_path / "seq.pt"
    detector.save(path)
    loaded = BaseDetector.load(path)
    torch.testing.assert_close(loaded.decision_function(test), node_scores)
    assert loaded.threshold_ == detector.threshold_
    with pytest.raises(GraphadInputError, match="list of event sequences"):
        detector.score_windows(torch.zeros(3, 4))
