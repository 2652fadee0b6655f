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
    out = to_ns(["2022-08-22T03:51:19Z", "2022-08-22 05:51:19+02:00", "2022-08-22T03:51:19"])
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


@pytest.mark.parametrize(
    ("value", "unit"),
    [
        (1661140279, "s"),
        (1661140279123, "ms"),
        (1661140279123456, "us"),
        (1661140279123456789, "ns"),
    ],
)
def test_infer_unit_and_auto(value, unit):
    assert infer_unit(np.array([value])) == unit
    assert to_ns([value])[0] // 10**9 == 1661140279


def test_iso_offsets_and_go_time_strings():
    got = to_ns(
        [
            "2022-08-22T03:51:19Z",
            "2022-08-22 05:51:19+02:00",
            "2022-08-22 03:51:19.607158889 +0000 UTC m=+0.113112869",
        ]
    )
    assert got.tolist() == [1661140279000000000, 1661140279000000000, 1661140279607158889]


def test_strftime_format():
    assert to_ns(pd.Series(["081109 203615"]), format="%y%m%d %H%M%S").tolist() == [
        1226262975000000000
    ]
    with pytest.raises(
        GraphadInputError,
        match=r"record 1, field 'ts': unreadable timestamp "
        r"\(expected a time in the format '%y%m%d %H%M%S', got 'x'\)",
    ):
        to_ns(["x"], format="%y%m%d %H%M%S", field="ts")


def test_bad_values_name_the_record():
    with pytest.raises(
        GraphadInputError,
        match=r"t\.csv, record 3, field 'ts': unreadable "
        r"timestamp \(expected an epoch number like the other records, got 'x'\)",
    ):
        to_ns(pd.Series(["1", "2", "x"]), source="t.csv", field="ts")
    with pytest.raises(
        GraphadInputError,
        match=r"record 2, field 'ts': unreadable timestamp "
        r"\(expected an epoch number in unit 'ms', got 'soon'\)",
    ):
        to_ns(pd.Series(["1", "soon"]), "ms", field="ts")
    with pytest.raises(GraphadInputError, match=r"record 1: unreadable timestamp .*got 'x'"):
        to_ns(["x", "2022-01-01"])
