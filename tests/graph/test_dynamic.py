import pytest
import torch
from torch_geometric.data import Data

from graphad.exceptions import GraphadInputError
from graphad.graph import DynamicGraph, NodeVocab, WindowSpec


def _window(i: int) -> Data:
    return Data(
        x=torch.full((3, 2, 1), float(i)),
        edge_index=torch.tensor([[0, 1], [1, 2]]),
        edge_attr=torch.tensor([[1.0], [2.0]]),
        node_mask=torch.tensor([True, True, i == 0]),
        window_start=torch.tensor([i * 10]),
        window_end=torch.tensor([i * 10 + 20]),
    )


def _graph() -> DynamicGraph:
    return DynamicGraph(
        NodeVocab(["a", "b", "c"]),
        [_window(0), _window(1)],
        ["v"],
        ["calls"],
        WindowSpec(20, 10, 10),
        {"source": "test"},
    )


def test_shapes_and_stacks():
    g = _graph()
    assert (len(g), g.num_nodes, g.num_steps, g.num_features) == (2, 3, 2, 1)
    assert g.x.shape == (2, 3, 2, 1) and g.x[1].eq(1).all()
    assert g.node_mask.tolist() == [[True, True, True], [True, True, False]]
    assert g.window_end.tolist() == [20, 30]
    assert g.edge_union().tolist() == [[0, 1], [1, 2]]
    assert isinstance(g[0:1], DynamicGraph) and len(g[0:1]) == 1


def test_save_load_round_trip(tmp_path):
    g = _graph()
    path = tmp_path / "g.pt"
    g.save(path)
    again = DynamicGraph.load(path)
    assert again.vocab == g.vocab and again.spec == g.spec and again.meta == g.meta
    assert again.feature_names == ["v"] and again.edge_feature_names == ["calls"]
    for a, b in zip(again, g, strict=True):
        assert a.node_names == b.node_names == g.vocab.names
        for key in set(b.keys()) - {"node_names"}:
            assert torch.equal(a[key], b[key])


def test_load_rejects_other_files(tmp_path):
    path = tmp_path / "not_a_graph.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(GraphadInputError, match="not a saved graphad dynamic graph"):
        DynamicGraph.load(path)
    text = tmp_path / "text.pt"
    text.write_text("hello")
    with pytest.raises(GraphadInputError, match="text.pt"):
        DynamicGraph.load(text)
