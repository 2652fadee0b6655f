"""Model and graph files: malformed files are clear errors, saves are atomic."""

from __future__ import annotations

import json
import multiprocessing
import os

import pytest
import torch
from torch_geometric.data import Data

from graphad.detectors import BaseDetector, RobustZScore
from graphad.exceptions import GraphadInputError
from graphad.graph import DynamicGraph, NodeVocab, WindowSpec


def _graph(n_windows: int = 2) -> DynamicGraph:
    windows = [
        Data(
            x=torch.full((3, 2, 1), float(i)),
            edge_index=torch.tensor([[0, 1], [1, 2]]),
            edge_attr=torch.tensor([[1.0], [2.0]]),
        )
        for i in range(n_windows)
    ]
    return DynamicGraph(NodeVocab(["a", "b", "c"]), windows, ["v"], ["calls"], WindowSpec(2, 1, 1))


def _blob(path, header, payload_key, payload):
    torch.save(
        {"header": header if isinstance(header, str) else json.dumps(header), payload_key: payload},
        path,
    )


def _graph_header(**changes):
    header = {
        "format": "graphad.DynamicGraph",
        "version": 1,
        "vocab": {"names": ["a", "b", "c"]},
        "feature_names": ["v"],
        "edge_feature_names": ["calls"],
        "spec": None,
        "meta": None,
    }
    header.update(changes)
    return {k: v for k, v in header.items() if v != "<drop>"}


_GOOD_TENSORS = {
    "x": [torch.zeros(3, 2, 1)],
    "edge_index": [torch.tensor([[0], [1]])],
    "edge_attr": [torch.ones(1, 1)],
}


@pytest.mark.parametrize(
    "header, tensors, pattern",
    [
        ("null", _GOOD_TENSORS, r"field 'header': not a saved graphad dynamic graph .*JSON object"),
        ("{", _GOOD_TENSORS, r"field 'header': .*expected JSON text"),
        (_graph_header(vocab="<drop>"), _GOOD_TENSORS, r"field 'vocab': field missing"),
        (_graph_header(vocab={"names": [1, 2]}), _GOOD_TENSORS, r"field 'vocab': malformed"),
        (_graph_header(feature_names="v"), _GOOD_TENSORS, r"field 'feature_names': malformed"),
        (_graph_header(version=9), _GOOD_TENSORS, r"field 'version': malformed"),
        (_graph_header(spec={"size": -1}), _GOOD_TENSORS, r"field 'spec': malformed"),
        (
            _graph_header(),
            {"x": [torch.zeros(3, 2, 1), torch.zeros(3, 2, 1)], "edge_index": [torch.zeros(2, 0)]},
            r"field 'tensors': ragged windows",
        ),
        (_graph_header(), {"x": [torch.zeros(4, 2, 1)]}, r"window 0, field 'x': malformed tensor"),
        (
            _graph_header(),
            {"x": [torch.zeros(3, 2, 1)], "edge_index": [torch.tensor([[0], [7]])]},
            r"window 0, field 'edge_index': .*node indices in \[0, 3\)",
        ),
        (_graph_header(), {"x": "zeros"}, r"field 'tensors.x': malformed"),
    ],
)
def test_malformed_graph_files_are_clear_errors(tmp_path, header, tensors, pattern):
    path = tmp_path / "g.pt"
    _blob(path, header, "tensors", tensors)
    with pytest.raises(GraphadInputError, match=pattern):
        DynamicGraph.load(path)


def _detector(tmp_path):
    x = torch.randn(12, 3, 4, 1, generator=torch.Generator().manual_seed(0))
    det = RobustZScore().fit(x)
    det.save(tmp_path / "d.pt")
    return torch.load(tmp_path / "d.pt", weights_only=True)


@pytest.mark.parametrize(
    "change, pattern",
    [
        (lambda h, s: h.pop("class"), r"field 'class': field missing"),
        (lambda h, s: h.update({"class": "NoSuchDetector"}), r"of another class"),
        (lambda h, s: h.pop("params"), r"field 'params': field missing"),
        (lambda h, s: h["fitted"].update({"n_nodes_": "3"}), r"field 'n_nodes_': malformed"),
        (lambda h, s: h["fitted"].update({"node_names_": ["a"]}), r"field 'node_names_'"),
        (lambda h, s: h["params"].update({"bogus": 1}), r"does not fit its class .*TypeError"),
        (lambda h, s: s.pop("train_scores_"), r"field 'state': malformed"),
        (lambda h, s: s.clear(), r"field 'state': malformed"),
    ],
)
def test_malformed_detector_files_are_clear_errors(tmp_path, change, pattern):
    blob = _detector(tmp_path)
    header = json.loads(blob["header"])
    state = dict(blob["state"])
    change(header, state)
    _blob(tmp_path / "bad.pt", header, "state", state)
    with pytest.raises(GraphadInputError, match=pattern):
        BaseDetector.load(tmp_path / "bad.pt")


def test_a_graph_file_is_not_a_detector_and_back(tmp_path):
    _graph().save(tmp_path / "g.pt")
    with pytest.raises(GraphadInputError, match=r"g\.pt, field .state.: not a saved graphad det"):
        BaseDetector.load(tmp_path / "g.pt")
    _detector(tmp_path)
    with pytest.raises(GraphadInputError, match=r"d\.pt, field .tensors.: not a saved graphad dyn"):
        DynamicGraph.load(tmp_path / "d.pt")


class _Payload:
    """An object whose unpickling would run code: the safe loader must refuse it."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_pickled_code_is_refused_without_advice_to_disable_weights_only(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"header": "{}", "state": {"x": _Payload()}}, path)
    for load in (BaseDetector.load, DynamicGraph.load):
        with pytest.raises(GraphadInputError) as caught:
            load(path)
        message = str(caught.value)
        assert "evil.pt" in message and "tensors and plain data only" in message
        assert "weights_only" not in message and "will likely succeed" not in message


def test_missing_and_unwritable_paths(tmp_path):
    with pytest.raises(GraphadInputError, match=r"nope\.pt: not a saved graphad dynamic graph"):
        DynamicGraph.load(tmp_path / "nope.pt")
    with pytest.raises(GraphadInputError, match=r"cannot write file"):
        _graph().save(tmp_path / "no_such_folder" / "g.pt")
    with pytest.raises(GraphadInputError, match=r"cannot write file"):
        _graph().save(tmp_path)  # a directory


def _save_many(path: str, n_windows: int, times: int) -> None:
    graph = _graph(n_windows)
    for _ in range(times):
        graph.save(path)


def test_concurrent_saves_leave_a_loadable_file(tmp_path):
    # Regression: two processes saving to one path left an unloadable file in 7 of 12
    # trials; with a temporary file + os.replace the last complete file wins.
    path = str(tmp_path / "g.pt")
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_save_many, args=(path, n, 15)) for n in (2, 40)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    graph = DynamicGraph.load(path)
    assert len(graph) in (2, 40)
    assert os.listdir(tmp_path) == ["g.pt"]  # no temporary file left behind
