"""Calibration and fusion of the sources."""

import numpy as np
import pandas as pd
import pytest

from graphad.exceptions import GraphadInputError
from graphad.rca import fuse_scores, normalize_scores


def test_fusion_normalises_per_source():
    flat = pd.Series({"a": 5.0, "b": 5.0, "c": 5.0})
    peaked = pd.Series({"a": 0.1, "b": 0.1, "c": 0.9})
    fused, table = fuse_scores({"flat": flat, "peaked": peaked})
    assert fused.index[0] == "c"
    assert table["flat"].tolist() == [0.0, 0.0, 0.0]
    assert normalize_scores(pd.Series({"a": 2.0, "b": 1.0}), "max").tolist() == [1.0, 0.5]
    with pytest.raises(GraphadInputError, match="Could not resolve"):
        normalize_scores(flat, "magic")


def test_calibrated_fusion_uses_each_sources_chance_level():
    loud = pd.Series({"a": 30.0, "b": 20.0, "c": 1.0})  # large units, large chance level
    quiet = pd.Series({"a": 0.1, "b": 0.9, "c": 0.1})  # small units, small chance level
    null = {"loud": pd.Series({"a": 25.0, "b": 5.0}), "quiet": pd.Series({"a": 0.1})}
    fused, table = fuse_scores({"loud": loud, "quiet": quiet}, method="null", null=null)
    assert fused.index[0] == "b"  # 9x its chance level in "quiet" beats 1.2x in "loud"
    assert table.loc["a", "loud"] == pytest.approx(np.log1p(30.0 / 25.0))
    # no null for a source: robust normalisation across nodes, then log1p
    fused, table = fuse_scores({"loud": loud}, method="null", null={})
    assert table["loud"].tolist() == pytest.approx(
        np.log1p(normalize_scores(loud).to_numpy()).tolist()
    )
    with pytest.raises(GraphadInputError, match="method"):
        fuse_scores({"loud": loud}, method="zscore")


def test_chance_level_floor_of_z_sources():
    # a one-sided z source whose null is 0: without a floor a blip of .1 would take the
    # robust fallback's cap; with the floor of one standard error it stays small
    blip = pd.Series({"a": 0.1, "b": 0.0, "c": 0.0})
    _, table = fuse_scores({"z": blip}, method="null", null={"z": pd.Series({"a": 0.0})})
    assert table.loc["a", "z"] == pytest.approx(np.log1p(10.0))
    _, table = fuse_scores(
        {"z": blip}, method="null", null={"z": pd.Series({"a": 0.0})}, min_levels={"z": 1.0}
    )
    assert table.loc["a", "z"] == pytest.approx(np.log1p(0.1))
    # a null above the floor is the chance level as before
    _, table = fuse_scores(
        {"z": blip}, method="null", null={"z": pd.Series({"a": 4.0})}, min_levels={"z": 1.0}
    )
    assert table.loc["a", "z"] == pytest.approx(np.log1p(0.1 / 4.0))


def test_confidence_is_not_assessed_when_the_evidence_has_no_chance_level():
    from graphad.rca import EvidenceScores

    table = pd.DataFrame({"metric": [0.2, 0.1], "latency": [2.4, 0.0]}, index=["db", "api"])
    raw = {"metric": pd.Series({"db": 0.5, "api": 0.2}), "latency": pd.Series({"db": 12.0})}
    # the metric source stays below its chance level; latency had no null to compare with
    unknown = EvidenceScores(table["latency"], table, raw=raw, chance_level={"metric": 1.0})
    assert unknown.confidence is None
    # with a chance level for latency too, the same evidence is assessed
    known = EvidenceScores(
        table["latency"], table, raw=raw, chance_level={"metric": 1.0, "latency": 4.0}
    )
    assert known.confidence == pytest.approx(3.0)
    # a source without a level but with no evidence does not block the verdict
    quiet = table.assign(latency=0.0)
    below = EvidenceScores(quiet["metric"], quiet, raw=raw, chance_level={"metric": 1.0})
    assert below.confidence == pytest.approx(0.5)
