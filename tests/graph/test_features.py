import numpy as np
import pandas as pd
import pytest

from graphad.graph import features as feat


def test_step_ids_half_open_grid():
    ts = np.array([-1, 0, 9, 10, 29, 30], dtype=np.int64)
    assert feat.step_ids(ts, 0, 10, 3).tolist() == [-1, 0, 0, 1, 2, -1]


@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_grouped_quantiles_match_numpy(dtype):
    rng = np.random.default_rng(0)
    group = rng.integers(0, 7, size=500)
    values = rng.integers(0, 10_000, size=500).astype(dtype)
    qs = [0.0, 0.5, 0.9, 0.99, 1.0]
    out = feat.grouped_quantiles(group, values, qs, 9)
    for g in range(9):
        expected = np.quantile(values[group == g], qs) if (group == g).any() else np.zeros(5)
        np.testing.assert_allclose(out[g], expected, rtol=1e-12)


def test_grouped_quantiles_negative_values_fall_back_to_lexsort():
    out = feat.grouped_quantiles(np.array([1, 1, 1]), np.array([-5, 5, 0]), [0.5], 2)
    assert out.tolist() == [[0.0], [0.0]]
    out = feat.grouped_quantiles(np.array([1, 1]), np.array([-5, 5]), [0.25], 2)
    assert out.tolist() == [[0.0], [-2.5]]


def test_parent_rows_unique_ids():
    rows = feat.parent_rows(
        np.array(["t", "t", "t"], dtype=object),
        np.array(["a", "b", "c"], dtype=object),
        np.array(["", "a", "x"], dtype=object),
    )
    assert rows.tolist() == [-1, 0, -1]


def test_parent_rows_span_ids_repeated_across_traces():
    trace = np.array(["t", "t", "u", "u", "v"], dtype=object)
    span = np.array(["a", "b", "a", "b", "c"], dtype=object)
    parent = np.array(["", "a", "", "a", "a"], dtype=object)  # v's parent 'a' is not in v
    assert feat.parent_rows(trace, span, parent).tolist() == [-1, 0, -1, 2, -1]


def test_parent_rows_duplicate_pair_takes_first():
    trace = np.array(["t", "t", "t"], dtype=object)
    span = np.array(["a", "a", "b"], dtype=object)
    parent = np.array(["", "", "a"], dtype=object)
    assert feat.parent_rows(trace, span, parent).tolist() == [-1, -1, 0]


def test_span_features_exact():
    step = np.array([0, 0, 0, 1, -1])
    node = np.array([0, 0, 1, 0, 0])
    duration = np.array([1, 2, 3, 4, 5]) * 1_000_000
    status = np.array([1, 0, 1, 0, 1])
    out = feat.span_features(step, node, duration, status, 2, 2)
    assert out.shape == (2, 2, 6)
    np.testing.assert_allclose(out[0, 0], [2, 1, 1.5, 1.5, 1.9, 1.99])
    np.testing.assert_allclose(out[0, 1], [1, 1, 3, 3, 3, 3])
    np.testing.assert_allclose(out[1, 0], [1, 0, 4, 4, 4, 4])
    np.testing.assert_allclose(out[1, 1], [0, 0, 0, 0, 0, 0])


def test_span_edges_and_window_aggregation():
    table = feat.span_edges(
        step=np.array([0, 0, 1, 1, 2, 0]),
        src=np.array([2, 2, 2, 0, 2, 1]),
        dst=np.array([0, 0, 0, 1, 1, 1]),  # last is a self call: ignored
        duration_ns=np.array([2, 4, 6, 8, 10, 1]) * 1_000_000,
        status=np.array([0, 1, 0, 1, 0, 0]),
        num_nodes=3,
    )
    assert table.step.tolist() == [0, 1, 1, 2]
    assert table.src.tolist() == [2, 0, 2, 2]
    assert table.dst.tolist() == [0, 1, 0, 1]
    edge_index, attr = table.window(0, 2, 3)
    assert edge_index.tolist() == [[0, 2], [1, 0]]
    np.testing.assert_allclose(attr, [[1, 1, 8], [3, 1, 4]])
    edge_index, attr = table.window(3, 5, 3)
    assert edge_index.shape == (2, 0) and attr.shape == (0, 3)


@pytest.mark.parametrize("num_nodes", [3, 2_000])  # dense counting, and np.unique keys
def test_span_edges_both_key_paths(num_nodes):
    table = feat.span_edges(
        step=np.array([400, 0, 400, -1, 0]),
        src=np.array([2, 2, 2, 0, 0]),
        dst=np.array([1, 0, 1, 1, 0]),  # the last is a self call
        duration_ns=np.array([3, 5, 7, 9, 1]) * 1_000_000,
        status=np.array([1, 0, 1, 0, 0]),
        num_nodes=num_nodes,
    )
    assert table.step.tolist() == [0, 400]
    assert table.src.tolist() == [2, 2] and table.dst.tolist() == [0, 1]
    assert table.calls.tolist() == [1, 2] and table.errors.tolist() == [0, 2]
    assert table.latency_sum_ms.tolist() == [5, 10]
    empty = feat.span_edges(*(np.zeros(0, np.int64) for _ in range(5)), num_nodes=num_nodes)
    assert len(empty) == 0


def test_metric_features_and_forward_fill():
    mean, seen = feat.metric_features(
        step=np.array([0, 0, 2, 1]),
        node=np.array([0, 0, 0, 1]),
        metric=np.array([1, 1, 1, 0]),
        value=np.array([1.0, 2.0, 5.0, np.inf]),
        num_steps=3,
        num_nodes=2,
        num_metrics=2,
    )
    assert seen[:, 0, 1].tolist() == [True, False, True]
    assert not seen[:, 1, 0].any()  # inf is not an observation
    filled = feat.forward_fill(mean, seen)
    assert filled[:, 0, 1].tolist() == [1.5, 1.5, 5.0]
    assert filled[:, 1, 0].tolist() == [0.0, 0.0, 0.0]


def test_log_features_and_presence():
    counts = feat.log_features(
        np.array([0, 1, 1]), np.array([1, 1, 1]), np.array([0, 0, 1]), np.array([3, 1, 2]), 2, 2, 2
    )
    assert counts[:, 1].tolist() == [[3.0, 0.0], [1.0, 2.0]]
    assert counts[:, 0].sum() == 0
    assert feat.presence(np.array([1, 1]), np.array([0, -1]), 2, 1).tolist() == [[0], [1]]


def test_request_mask():
    kind = pd.Series(["SERVER", "client", "producer", "consumer", "internal", ""])
    assert feat.request_mask(kind, 6).tolist() == [True, False, False, True, False, True]
    assert feat.request_mask(None, 2).tolist() == [True, True]


def test_parent_rows_missing_ids_match_nothing():
    trace = np.array(["t", "t", "t", "u", "u"], dtype=object)
    span = np.array(["a", None, "c", "a", "a"], dtype=object)  # 'a' repeats in u
    parent = np.array([np.nan, "a", None, None, "a"], dtype=object)
    assert feat.parent_rows(trace, span, parent).tolist() == [-1, 0, -1, -1, 3]
    unique = feat.parent_rows(trace[:3], span[:3], parent[:3])
    assert unique.tolist() == [-1, 0, -1]
