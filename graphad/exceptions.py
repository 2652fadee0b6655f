"""Errors raised by graphad.

Every error about user input is a :class:`GraphadInputError` (a ``ValueError``), whose
message names the file, the record, the field, what was expected and what was found, so
that a user can fix the input without reading a traceback.
"""

from __future__ import annotations

__all__ = [
    "GraphadError",
    "GraphadInputError",
    "SchemaError",
    "ParseError",
    "ResourceLimitError",
    "UnknownNodeError",
    "NotFittedError",
    "ConvergenceError",
    "format_location",
]


class GraphadError(Exception):
    """Base class of every error graphad raises on purpose."""


def format_location(
    source: str | None = None,
    record: int | str | None = None,
    field: str | None = None,
) -> str:
    """Format where a problem is, e.g. ``"spans.csv, record 12, field 'start_ns'"``.

    Args:
        source: File path or a short description of the in-memory input.
        record: Record (row, line or span) number or identifier, 1-based for lines.
        field: Column, key or attribute name.

    Returns:
        A comma-separated description; empty parts are left out.

    Example:
        >>> format_location("a.csv", 3, "value")
        "a.csv, record 3, field 'value'"

    """
    parts = []
    if source is not None:
        parts.append(str(source))
    if record is not None:
        parts.append(f"record {record}")
    if field is not None:
        parts.append(f"field '{field}'")
    return ", ".join(parts)


class GraphadInputError(GraphadError, ValueError):
    """Bad user input: a file, a frame, an argument.

    Args:
        problem: What is wrong, as a sentence fragment.
        source: File path or description of the input.
        record: Record/line number or identifier where it happened.
        field: Field/column name.
        expected: What was expected.
        found: What was found instead.

    Example:
        >>> err = GraphadInputError("bad timestamp", source="t.csv", record=4,
        ...                         field="ts", expected="an integer", found="'abc'")
        >>> str(err)
        "t.csv, record 4, field 'ts': bad timestamp (expected an integer, got 'abc')"

    """

    def __init__(
        self,
        problem: str,
        *,
        source: str | None = None,
        record: int | str | None = None,
        field: str | None = None,
        expected: str | None = None,
        found: object = None,
    ) -> None:
        self.problem = problem
        self.source = source
        self.record = record
        self.field = field
        self.expected = expected
        self.found = found
        where = format_location(source, record, field)
        message = f"{where}: {problem}" if where else problem
        details = []
        if expected is not None:
            details.append(f"expected {expected}")
        if found is not None:
            details.append(f"got {found}")
        if details:
            message += f" ({', '.join(details)})"
        super().__init__(message)


class SchemaError(GraphadInputError):
    """A frame or file lacks a required field or has one of the wrong type."""


class ParseError(GraphadInputError):
    """A file could not be parsed in the requested or detected format."""


class ResourceLimitError(ParseError):
    """An input exceeds one of graphad's documented resource limits (``docs/limits.md``).

    The message says which limit was reached, its value, and how to raise it.

    Args:
        problem: What is too large, as a sentence fragment.
        limit: The limit's name, e.g. ``"graphad.ingest.io.MAX_JSON_DEPTH"``.
        value: The limit's value.
        how: How to raise the limit (or work around it).
        **location: ``source``, ``record``, ``field``, ``found`` as in
            :class:`GraphadInputError`.

    Example:
        >>> err = ResourceLimitError("too many columns", limit="MAX_COLUMNS",
        ...     value=9, how="set MAX_COLUMNS", source="a.csv")
        >>> str(err)
        'a.csv: too many columns (expected at most MAX_COLUMNS = 9; raise it: set MAX_COLUMNS)'

    """

    def __init__(
        self,
        problem: str,
        *,
        limit: str,
        value: object,
        how: str,
        source: str | None = None,
        record: int | str | None = None,
        field: str | None = None,
        found: object = None,
    ) -> None:
        self.limit = limit
        self.value = value
        self.how = how
        super().__init__(
            problem,
            source=source,
            record=record,
            field=field,
            expected=f"at most {limit} = {value}; raise it: {how}",
            found=found,
        )


class UnknownNodeError(GraphadInputError, KeyError):
    """A node name is not in the :class:`~graphad.graph.NodeVocab` and the rule is 'error'."""

    def __str__(self) -> str:  # KeyError would add quotes around the message
        return ValueError.__str__(self)


class NotFittedError(GraphadError, ValueError, AttributeError):
    """An estimator was used before ``fit``."""


class ConvergenceError(GraphadError, RuntimeError):
    """An iterative algorithm (e.g. power iteration) did not converge."""
