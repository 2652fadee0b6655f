import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

from graphad.datasets import (
    load_bgl,
    load_hdfs_labelled,
    load_hdfs_sessions,
    session_graph,
    session_graphs,
)
from graphad.exceptions import GraphadInputError, ParseError


def test_session_graph_exact():
    g = session_graph([3, 1, 1, 3, 1], num_events=4, label=1)
    assert g.num_nodes == 4
    expected = torch.tensor([[3.0, 0.4], [0.0, 0.0], [2.0, 0.2], [0.0, 0.0]])
    assert torch.allclose(g.x, expected)
    # transitions: 3->1, 1->1, 1->3, 3->1 -> (0,0):1, (0,2):1, (2,0):2
    assert g.edge_index.tolist() == [[0, 0, 2], [0, 2, 0]]
    assert g.edge_attr.view(-1).tolist() == [1.0, 1.0, 2.0]
    assert g.node_mask.tolist() == [True, False, True, False]
    assert g.y.tolist() == [1]
    g.validate()


def test_session_graph_edge_cases():
    empty = session_graph([], num_events=2)
    assert empty.edge_index.shape == (2, 0) and empty.x.sum() == 0
    single = session_graph([2], num_events=2)
    assert single.edge_attr.shape == (0, 1) and single.x[1].tolist() == [1.0, 1.0]
    with pytest.raises(GraphadInputError, match="event id out of range"):
        session_graph([0, 1], num_events=2)
    with pytest.raises(GraphadInputError, match="labels and sequences differ"):
        session_graphs([[1]], 1, labels=[0, 1])


def test_batching():
    graphs = session_graphs([[1, 2, 1], [2]], num_events=3, labels=[0, 1])
    batch = next(iter(DataLoader(graphs, batch_size=2)))
    assert batch.num_graphs == 2 and batch.x.shape == (6, 2)
    assert batch.y.tolist() == [0, 1]
    assert torch.equal(batch.batch, torch.tensor([0, 0, 0, 1, 1, 1]))


def test_hdfs_files(tmp_path):
    (tmp_path / "hdfs_train").write_text("1 2 2\n3 1\n")
    (tmp_path / "hdfs_test_abnormal").write_text("4\n")
    sessions = load_hdfs_sessions(tmp_path)
    assert sessions.train == [[1, 2, 2], [3, 1]] and sessions.test_abnormal == [[4]]
    assert sessions.test_normal is None and sessions.num_events == 4
    (tmp_path / "hdfs_test_abnormal").write_text("4 x\n")
    with pytest.raises(ParseError, match="hdfs_test_abnormal, record 1"):
        load_hdfs_sessions(tmp_path)
    (tmp_path / "robust_log_valid.csv").write_text("Sequence,label\n1 2,0\n2 2,1\n")
    sequences, labels = load_hdfs_labelled(tmp_path, "valid")
    assert sequences == [[1, 2], [2, 2]] and labels.tolist() == [0, 1]
    with pytest.raises(GraphadInputError, match="unknown split"):
        load_hdfs_labelled(tmp_path, "test")
    with pytest.raises(GraphadInputError, match="not found"):
        load_hdfs_sessions(tmp_path / "nothing")


def test_bgl_tiny(tmp_path):
    path = tmp_path / "bgl.log"
    path.write_text(
        "- 1117838570 2005.06.03 R02-M1 2005-06-03-15.42.50.675872 R02-M1 RAS KERNEL INFO "
        "cache parity error corrected\n"
        "KERNDTLB 1117838571 2005.06.03 R30-M0 2005-06-03-15.42.51.000001 R30-M0 RAS KERNEL "
        "FATAL data TLB error interrupt\n"
    )
    frame = load_bgl(path)
    assert frame["ts_ns"].tolist() == [1117838570675872000, 1117838571000001000]
    assert frame["label"].tolist() == [0, 1]
    assert frame["alert"].tolist() == ["", "KERNDTLB"]
    assert frame["message"].tolist() == ["cache parity error corrected", "data TLB error interrupt"]
    path.write_text("- 1117838570 2005.06.03 R02\n")
    with pytest.raises(ParseError, match="too few fields"):
        load_bgl(path)
    path.write_text("- abc 2005.06.03 R02 t R02 RAS KERNEL INFO x\n")
    with pytest.raises(ParseError, match="unreadable epoch"):
        load_bgl(path)


def test_hdfs_real(shared_data):
    sessions = load_hdfs_sessions(shared_data / "hdfs")
    # the files hold 4,855 and 16,838 sessions (their last line has no newline, so
    # ``wc -l`` reports one less)
    assert (len(sessions.train), len(sessions.test_abnormal)) == (4855, 16838)
    assert sessions.num_events == 28
    sequences, labels = load_hdfs_labelled(shared_data / "hdfs", "train")
    assert len(sequences) == 12000 and labels.sum() == 6000
    g = session_graph(sessions.train[0], sessions.num_events)
    assert g.x[:, 0].sum() == len(sessions.train[0])
    assert g.edge_attr.sum() == len(sessions.train[0]) - 1


def test_bgl_real(shared_data):
    frame = load_bgl(shared_data / "loghub_2k" / "BGL" / "BGL_2k.log")
    assert len(frame) == 2000 and frame["label"].sum() == 143
    assert np.all(np.diff(frame["ts_ns"].to_numpy()) > -(10**12))
