import numpy as np
import pandas as pd
import pytest

from graphad.datasets import MultivariateCSV
from graphad.datasets.mts import natural_key, read_interpretation
from graphad.exceptions import GraphadInputError, ParseError, SchemaError


def _write(root, name, train, test):
    pd.DataFrame(train).to_csv(root / f"{name}_train.csv", index=False)
    pd.DataFrame(test).to_csv(root / f"{name}_test.csv", index=False)


@pytest.fixture
def tiny(tmp_path):
    _write(
        tmp_path,
        "box-10",
        {"a": [1.0, 2.0], "b": [3.0, 4.0]},
        {"a": [1.0, 9.0, 1.0], "b": [3.0, 3.0, 8.0], "label": [0, 1, 1]},
    )
    _write(tmp_path, "box-2", {"a": [0.0], "b": [0.0]}, {"a": [0.0], "b": [0.0], "label": [0]})
    (tmp_path / "box-10_interpretation_label.txt").write_text("1-2:1,2\n\n")
    return tmp_path


def test_tiny_entity(tiny):
    data = MultivariateCSV(tiny)
    assert data.entities == ["box-2", "box-10"]
    entity = data.load("box-10")
    assert entity.train.to_numpy().tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert list(entity.test.columns) == ["a", "b"]
    assert entity.test_labels.tolist() == [0, 1, 1]
    assert entity.interpretation == [(1, 2, ["a", "b"])]
    assert entity.node_labels.astype(int).tolist() == [[0, 0], [1, 1], [1, 1]]
    assert data.load("box-2").interpretation == []


def test_bad_inputs(tiny, tmp_path):
    with pytest.raises(GraphadInputError, match="unknown entity"):
        MultivariateCSV(tiny).load("box-3")
    with pytest.raises(GraphadInputError, match="dataset folder not found"):
        MultivariateCSV(tmp_path / "absent")
    (tiny / "box-10_interpretation_label.txt").write_text("1-5:1\n")
    with pytest.raises(ParseError, match="segment out of range"):
        MultivariateCSV(tiny).load("box-10")
    (tiny / "box-10_interpretation_label.txt").write_text("1-2:3\n")
    with pytest.raises(ParseError, match="metric index out of range"):
        MultivariateCSV(tiny).load("box-10")
    (tiny / "box-10_interpretation_label.txt").write_text("one-two:1\n")
    with pytest.raises(ParseError, match="record 1"):
        MultivariateCSV(tiny).load("box-10")
    _write(tiny, "box-2", {"a": [0.0], "b": [0.0]}, {"a": [0.0], "b": [0.0]})
    with pytest.raises(SchemaError, match="label column missing"):
        MultivariateCSV(tiny).load("box-2")
    _write(tiny, "box-2", {"a": [0.0], "b": [0.0]}, {"a": [0.0], "c": [0.0], "label": [0]})
    with pytest.raises(SchemaError, match="differ"):
        MultivariateCSV(tiny).load("box-2")
    _write(tiny, "box-2", {"a": ["x"], "b": [0.0]}, {"a": [0.0], "b": [0.0], "label": [0]})
    with pytest.raises(GraphadInputError, match="field 'a'.*not a number"):
        MultivariateCSV(tiny).load("box-2")
    _write(tiny, "box-2", {"a": [0.0], "b": [0.0]}, {"a": [0.0], "b": [0.0], "label": [2]})
    with pytest.raises(GraphadInputError, match="label is not 0 or 1"):
        MultivariateCSV(tiny).load("box-2")


def test_natural_key():
    assert sorted(["omi-12", "omi-1", "omi-2"], key=natural_key) == ["omi-1", "omi-2", "omi-12"]


def test_read_interpretation(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("0-0:2\n3-4:1,2\n")
    assert read_interpretation(path, ["m1", "m2"], 5) == [(0, 0, ["m2"]), (3, 4, ["m1", "m2"])]


def test_asd(shared_data):
    data = MultivariateCSV(shared_data / "asd")
    assert data.entities == [f"omi-{k}" for k in range(1, 13)]
    for entity in data:
        # omi-12's training file is shorter upstream (7,291 rows)
        rows = 7291 if entity.name == "omi-12" else 8640
        assert entity.train.shape == (rows, 19) and entity.test.shape == (4320, 19)
        assert list(entity.train.columns) == [f"m{k}" for k in range(1, 20)]
        # segments are 0-based with an inclusive end: their union is exactly the labels
        covered = np.zeros(len(entity.test), dtype=int)
        for start, end, names in entity.interpretation:
            covered[start : end + 1] = 1
            assert names
        assert np.array_equal(covered, entity.test_labels)
        assert entity.node_labels.any(axis=1).astype(int).tolist() == entity.test_labels.tolist()
