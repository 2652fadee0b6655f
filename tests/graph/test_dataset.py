import torch
from torch_geometric.loader import DataLoader

from graphad.graph import WindowDataset, WindowSpec, build_dynamic_graph, label_windows


def test_window_dataset_batches(tiny_spans, tiny_metrics):
    g = build_dynamic_graph(tiny_spans, tiny_metrics, spec=WindowSpec.of(10))
    g = label_windows(g, 10, "db")
    dataset = WindowDataset(g)
    assert len(dataset) == 3 and dataset.graph is g
    batch = next(iter(DataLoader(dataset, batch_size=3, shuffle=False)))
    n, t, f = g.num_nodes, g.num_steps, g.num_features
    assert tuple(batch.x.shape) == (3 * n, t, f)
    assert batch.num_graphs == 3
    assert batch.batch.tolist() == sum(([i] * n for i in range(3)), [])
    expected = torch.cat([w.edge_index + i * n for i, w in enumerate(g)], dim=1)
    assert torch.equal(batch.edge_index, expected)
    assert batch.edge_attr.shape == (expected.size(1), 3)
    assert batch.window_end.tolist() == [10, 20, 30]
    assert batch.y_window.tolist() == [0, 1, 1]
    assert batch.node_mask.shape == batch.rc_mask.shape == batch.y.shape == (3 * n,)
    batch.validate(raise_on_error=True)


def test_window_dataset_transform_and_list(tiny_spans):
    g = build_dynamic_graph(tiny_spans, spec=WindowSpec.of(10))

    def double(data):
        data = data.clone()
        data.x = data.x * 2
        return data

    dataset = WindowDataset(list(g), transform=double)
    assert dataset.graph is None
    assert torch.equal(dataset[1].x, g[1].x * 2)
    assert torch.equal(g[1].x, WindowDataset(g)[1].x)


def test_metric_granularity_batches(tiny_spans, tiny_metrics):
    g = build_dynamic_graph(
        tiny_spans, tiny_metrics, spec=WindowSpec.of(20, step=10), granularity="metric"
    )
    batch = next(iter(DataLoader(WindowDataset(g), batch_size=1)))
    assert batch.x.shape == (g.num_nodes, 2, 1)
    assert batch.observed.shape == (g.num_nodes, 2)
