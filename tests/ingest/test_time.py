import numpy as np
import pandas as pd
import pytest

from graphad.exceptions import GraphadInputError
from graphad.ingest.time import infer_unit, to_ns

NS = 1661140279 * 10**9


@pytest.mark.parametrize(
    "values, unit",
    [
        ([1661140279], "s"),
        ([1661140279000], "ms"),
        ([1661140279000000], "us"),
        ([NS], "ns"),
    ],
)
def test_auto_units(values, unit):
    assert infer_unit(np.array(values)) == unit
    assert to_ns(values).tolist() == [NS]


def test_iso_strings_with_offsets_and_naive():
    out = to_ns(
        ["2022-08-22T03:51:19Z", "2022-08-22 05:51:19+02:00", "2022-08-22T03:51:19"]
    )
    assert out.tolist() == [NS] * 3


def test_numeric_strings_and_datetimes():
    assert to_ns(pd.Series(["1661140279"])).tolist() == [NS]
    stamps = pd.Series(pd.to_datetime(["2022-08-22T03:51:19Z"]))
    assert to_ns(stamps).tolist() == [NS]


def test_bad_timestamp_names_record():
    with pytest.raises(
        GraphadInputError, match=r"t.csv, record 2, field 'ts': unreadable timestamp"
    ):
        to_ns(["2022-08-22T03:51:19Z", "yesterday"], source="t.csv", field="ts")
    with pytest.raises(GraphadInputError, match="non-finite timestamp"):
        to_ns([1.0, float("nan")])
