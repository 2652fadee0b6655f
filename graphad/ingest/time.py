"""Timestamp normalisation: anything a telemetry file holds -> int64 nanoseconds UTC."""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import pandas as pd

from graphad.exceptions import GraphadInputError

__all__ = ["to_ns", "infer_unit", "TimeUnit"]

TimeUnit = Literal["auto", "s", "ms", "us", "ns", "iso"]

_FACTORS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
# Magnitudes of epoch timestamps around the years 2001-2286 for each unit.
_THRESHOLDS = [(1e17, "ns"), (1e14, "us"), (1e11, "ms"), (0.0, "s")]
# Go's time.Time.String(): "2022-08-22 03:51:19.607158889 +0000 UTC m=+0.113112869".
# The zone abbreviation and the monotonic-clock reading are dropped; the offset is kept.
_GO_TIME = re.compile(r"^(\S+ \S+ [+-]\d{4}) [A-Za-z]{1,6}(?: m=[+-][\d.]+)?$")


def infer_unit(values: np.ndarray) -> str:
    """Guess the unit of numeric epoch timestamps from their magnitude.

    Args:
        values: Numeric timestamps, shape ``[n]``; NaNs are ignored.

    Returns:
        One of ``"s"``, ``"ms"``, ``"us"``, ``"ns"``.

    Example:
        >>> infer_unit(np.array([1661140279]))
        's'
        >>> infer_unit(np.array([1661140374351773094]))
        'ns'

    """
    finite = np.abs(values[np.isfinite(values)]) if values.dtype.kind == "f" else np.abs(values)
    if finite.size == 0:
        return "s"
    typical = float(np.median(finite))
    for threshold, unit in _THRESHOLDS:
        if typical >= threshold:
            return unit
    return "s"


def to_ns(
    values: pd.Series | np.ndarray | list,
    unit: TimeUnit = "auto",
    *,
    source: str | None = None,
    field: str | None = None,
    format: str | None = None,
) -> np.ndarray:
    """Convert timestamps to int64 nanoseconds since the epoch, UTC.

    Numbers are read as epoch seconds, milliseconds, microseconds or nanoseconds
    (``unit="auto"`` infers it from their magnitude); strings are parsed as ISO 8601
    (naive strings are taken as UTC, offsets are honoured), or with ``format`` when given.
    Go's ``time.Time.String()`` spelling (``"2022-08-22 03:51:19.6 +0000 UTC m=+0.1"``)
    is understood too.

    Args:
        values: Timestamps, shape ``[n]``.
        unit: Unit of numeric timestamps, ``"iso"`` for strings, or ``"auto"``.
        source: File name for error messages.
        field: Column name for error messages.
        format: A ``strftime`` format for string timestamps (e.g. ``"%y%m%d %H%M%S"``);
            naive results are taken as UTC.

    Returns:
        ``np.ndarray`` of dtype int64, shape ``[n]``.

    Raises:
        GraphadInputError: A value cannot be read as a timestamp; the message names the
            first bad record.

    Example:
        >>> to_ns([1.5, 2], unit="s").tolist()
        [1500000000, 2000000000]
        >>> to_ns(["1970-01-01T00:00:01Z"]).tolist()
        [1000000000]
        >>> to_ns(["700101 000002"], format="%y%m%d %H%M%S").tolist()
        [2000000000]

    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    series = series.reset_index(drop=True)
    if format is not None:
        return _strings_to_ns(series, format, source, field)
    if (
        unit != "iso"
        and pd.api.types.is_numeric_dtype(series)
        and not pd.api.types.is_bool_dtype(series)
    ):
        return _numeric_to_ns(series, unit, source, field)
    if pd.api.types.is_datetime64_any_dtype(series):
        missing = series.isna().to_numpy()
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise GraphadInputError(
                "missing timestamp",
                source=source,
                record=row + 1,
                field=field,
                expected="a time in every record",
                found="an empty value",
            )
        if series.dt.tz is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        return _datetimes_to_ns(series, series, source, field)
    if unit in _FACTORS:  # numbers written as text
        numeric = pd.to_numeric(series, errors="coerce")
        bad = numeric.isna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise GraphadInputError(
                "unreadable timestamp",
                source=source,
                record=row + 1,
                field=field,
                expected=f"an epoch number in unit '{unit}'",
                found=repr(series.iloc[row]),
            )
        return _numeric_to_ns(numeric, unit, source, field)
    if unit == "auto":
        numeric = pd.to_numeric(series, errors="coerce")
        readable = numeric.notna().to_numpy()
        if readable.all():
            return _numeric_to_ns(numeric, "auto", source, field)
        if readable.mean() >= 0.5:  # mostly numbers: the others are the bad records
            row = int(np.flatnonzero(~readable)[0])
            raise GraphadInputError(
                "unreadable timestamp",
                source=source,
                record=row + 1,
                field=field,
                expected="an epoch number like the other records",
                found=repr(series.iloc[row]),
            )
    return _strings_to_ns(series, "ISO8601", source, field)


def _strings_to_ns(
    series: pd.Series, format: str, source: str | None, field: str | None
) -> np.ndarray:
    parsed = pd.to_datetime(series, utc=True, errors="coerce", format=format)
    bad = parsed.isna().to_numpy() | series.isna().to_numpy()
    if bad.any() and format == "ISO8601" and not series.isna().any():
        text = series.astype(str).str.strip()
        cleaned = text.str.replace(_GO_TIME, r"\1", regex=True)
        if (cleaned != text).any():
            parsed = pd.to_datetime(cleaned, utc=True, errors="coerce", format=format)
            bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise GraphadInputError(
            "unreadable timestamp",
            source=source,
            record=row + 1,
            field=field,
            expected=(
                "an epoch number or an ISO 8601 string"
                if format == "ISO8601"
                else f"a time in the format {format!r}"
            ),
            found=repr(series.iloc[row]),
        )
    return _datetimes_to_ns(parsed.dt.tz_localize(None), series, source, field)


# Earliest / latest datetime64[ns]: pandas.Timestamp.min / max.
_NS_MIN, _NS_MAX = pd.Timestamp.min, pd.Timestamp.max


def _datetimes_to_ns(
    times: pd.Series, original: pd.Series, source: str | None, field: str | None
) -> np.ndarray:
    """Naive datetimes (any resolution) -> int64 ns; a time outside 1677-2262 is an error."""
    try:
        return times.astype("datetime64[ns]").astype("int64").to_numpy()
    except (pd.errors.OutOfBoundsDatetime, OverflowError):
        outside = ((times < _NS_MIN) | (times > _NS_MAX)).to_numpy()
        row = int(np.flatnonzero(outside)[0]) if outside.any() else 0
        raise GraphadInputError(
            "timestamp out of range",
            source=source,
            record=row + 1,
            field=field,
            expected="a time between 1677-09-22 and 2262-04-11 (int64 nanoseconds)",
            found=repr(original.iloc[row])[:60],
        ) from None


def _numeric_to_ns(
    series: pd.Series, unit: str, source: str | None, field: str | None
) -> np.ndarray:
    array = series.to_numpy()
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise GraphadInputError(
                "missing or non-finite timestamp",
                source=source,
                record=row + 1,
                field=field,
                expected="a finite number",
                found=repr(array[row]),
            )
    if unit == "auto":
        unit = infer_unit(array)
    if unit not in _FACTORS:
        raise GraphadInputError(
            f"Could not resolve unit '{unit}' among choices {sorted(_FACTORS) + ['iso', 'auto']}",
            source=source,
            field=field,
        )
    factor = _FACTORS[unit]
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = array.astype(np.float64) * factor
    outside = np.abs(scaled) >= 2.0**63 - 1024  # int64 ns, with float rounding room
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        raise GraphadInputError(
            "timestamp out of range",
            source=source,
            record=row + 1,
            field=field,
            expected=f"an epoch time in unit '{unit}' between the years 1677 and 2262",
            found=repr(series.iloc[row])[:60],
        )
    if array.dtype.kind in "iu":
        return array.astype(np.int64) * factor
    return np.round(scaled).astype(np.int64)
