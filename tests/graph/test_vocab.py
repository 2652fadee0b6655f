import numpy as np
import pytest

from graphad.exceptions import GraphadInputError, UnknownNodeError
from graphad.graph import NodeVocab


def test_ids_are_stable_in_insertion_order():
    vocab = NodeVocab(["b", "a"])
    assert vocab.encode(["a", "b", "a"]).tolist() == [1, 0, 1]
    assert vocab.decode([0, 1]) == ["b", "a"]
    assert len(vocab) == 2 and "a" in vocab and list(vocab) == ["b", "a"]


def test_unknown_rules():
    with pytest.raises(UnknownNodeError, match="unknown node.*'c'"):
        NodeVocab(["a"]).encode(["c"])
    assert NodeVocab(["a"], unknown="ignore").encode(["c", "a"]).tolist() == [-1, 0]
    grow = NodeVocab(["a"], unknown="add")
    assert grow.encode(["c", "a", "d", "c"]).tolist() == [1, 0, 2, 1]
    assert grow.names == ["a", "c", "d"]


def test_bad_construction():
    with pytest.raises(GraphadInputError, match="duplicate node name"):
        NodeVocab(["a", "a"])
    with pytest.raises(GraphadInputError, match="Could not resolve 'maybe'"):
        NodeVocab(["a"], unknown="maybe")
    with pytest.raises(GraphadInputError, match="node id out of range"):
        NodeVocab(["a"]).decode([1])


def test_round_trip_dict():
    vocab = NodeVocab(["x", "y"], unknown="ignore")
    again = NodeVocab.from_dict(vocab.to_dict())
    assert again == vocab and again.unknown == "ignore"


def test_encode_numpy_input():
    vocab = NodeVocab(["1", "2"])
    assert vocab.encode(np.array([2, 1])).tolist() == [1, 0]
