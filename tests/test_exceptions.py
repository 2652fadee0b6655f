import pytest

from graphad.exceptions import (
    GraphadInputError,
    NotFittedError,
    SchemaError,
    UnknownNodeError,
    format_location,
)


def test_message_names_source_record_field_expected_found():
    err = GraphadInputError(
        "bad value",
        source="m.csv",
        record=7,
        field="value",
        expected="a number",
        found="'x'",
    )
    assert str(err) == "m.csv, record 7, field 'value': bad value (expected a number, got 'x')"
    assert (err.source, err.record, err.field) == ("m.csv", 7, "value")


def test_hierarchy():
    assert issubclass(SchemaError, GraphadInputError)
    assert issubclass(GraphadInputError, ValueError)
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
    assert issubclass(UnknownNodeError, KeyError)


def test_unknown_node_error_str_has_no_quotes():
    err = UnknownNodeError("unknown node", field="node", found="'x'")
    assert str(err) == "field 'node': unknown node (got 'x')"


@pytest.mark.parametrize(
    "args, expected",
    [
        ((None, None, None), ""),
        (("f",), "f"),
        ((None, 3), "record 3"),
        (("f", None, "c"), "f, field 'c'"),
    ],
)
def test_format_location(args, expected):
    assert format_location(*args) == expected
