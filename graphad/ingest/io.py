"""Opening telemetry files: compression, text, JSON documents and tables.

Every reader of :mod:`graphad.ingest` goes through these helpers, so that a ``.gz``,
``.xz``, ``.zst`` or ``.bz2`` file is read exactly like the plain file, and so that a file
that cannot be parsed raises a :class:`~graphad.exceptions.ParseError` naming the file and
the line.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import importlib.util
import io
import json
import logging
import lzma
import os
import re
import sys
import warnings
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from graphad.exceptions import GraphadInputError, ParseError, ResourceLimitError
from graphad.ingest.report import IngestReport
from graphad.utils import import_optional

__all__ = [
    "PathLike",
    "COMPRESSION_SUFFIXES",
    "compression_of",
    "inner_suffix",
    "source_name",
    "open_text",
    "read_bytes",
    "read_text",
    "iter_lines",
    "read_json_documents",
    "read_table",
    "read_csv_checked",
]

PathLike = str | os.PathLike

#: File suffix -> compression name understood by pandas.
COMPRESSION_SUFFIXES = {".gz": "gzip", ".xz": "xz", ".zst": "zstd", ".bz2": "bz2"}
_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bz2"),
)
_PARQUET_SUFFIXES = (".parquet", ".pq")
_HAS_PYARROW = importlib.util.find_spec("pyarrow") is not None
logger = logging.getLogger(__name__)
_CSV_SEPARATORS = {".tsv": "\t", ".tab": "\t"}

#: Most columns a table may have (pandas' work per column makes wider tables slow).
MAX_COLUMNS = 10_000
#: Longest JSON document read as one piece; a longer file is read as JSON lines.
MAX_JSON_CHARS = 1 << 30
#: Longest CSV field the ``csv`` module reads when salvaging a table's rows.
MAX_FIELD_CHARS = 1 << 28
#: Longest header line of a CSV file, in bytes.
MAX_HEADER_BYTES = 1 << 24


def source_name(source: object) -> str:
    """A short name of an input for messages: the path, or ``"<frame>"`` for a frame.

    Example:
        >>> source_name("data/spans.csv")
        'data/spans.csv'
    """
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    if isinstance(source, pd.DataFrame):
        return "<frame>"
    return f"<{type(source).__name__}>"


def check_source(source: object, format: str, formats: Sequence[str], what: str) -> str:
    """Check a reader's ``format`` and ``source`` arguments and return the source's name.

    Args:
        source: A path or a DataFrame.
        format: The requested format.
        formats: The formats the reader understands.
        what: What the reader reads (``"metrics"``, ``"logs"``), for the message.

    Returns:
        :func:`source_name` of ``source``.

    Raises:
        GraphadInputError: An unknown format, or a source that is neither a path nor a frame.

    Example:
        >>> check_source("m.csv", "long", ("auto", "long"), "metrics")
        'm.csv'
    """
    name = source_name(source)
    if format not in formats:
        raise GraphadInputError(
            f"Could not resolve '{format}' among choices {list(formats)}",
            source=name,
            field="format",
        )
    if not isinstance(source, (pd.DataFrame, str, os.PathLike)):
        raise GraphadInputError(
            f"cannot read {what} from this object",
            field="source",
            expected="a path or a pandas DataFrame",
            found=type(source).__name__,
        )
    return name


def compression_of(path: PathLike) -> str | None:
    """The compression of a file, from its suffix, else from its first bytes.

    Args:
        path: A file path.

    Returns:
        ``"gzip"``, ``"xz"``, ``"zstd"``, ``"bz2"`` or ``None`` for a plain file.

    Example:
        >>> compression_of("trace.csv.xz")
        'xz'
    """
    suffix = Path(path).suffix.lower()
    if suffix in COMPRESSION_SUFFIXES:
        return COMPRESSION_SUFFIXES[suffix]
    try:
        with open(path, "rb") as handle:
            head = handle.read(6)
    except OSError:
        return None
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


def inner_suffix(path: PathLike) -> str:
    """The suffix of a file once a compression suffix is removed, lower-cased.

    Example:
        >>> inner_suffix("a/b/spans.json.gz"), inner_suffix("m.CSV")
        ('.json', '.csv')
    """
    p = Path(path)
    if p.suffix.lower() in COMPRESSION_SUFFIXES:
        p = p.with_suffix("")
    return p.suffix.lower()


def _check_exists(path: PathLike) -> None:
    if not os.path.isfile(path):
        raise ParseError(
            "file not found",
            source=os.fspath(path),
            expected="an existing file",
            found="no such file" if not os.path.exists(path) else "a directory",
        )


def _open_binary(path: PathLike) -> IO[bytes]:
    _check_exists(path)
    compression = compression_of(path)
    if compression == "gzip":
        return gzip.open(path, "rb")
    if compression == "xz":
        return lzma.open(path, "rb")
    if compression == "bz2":
        return bz2.open(path, "rb")
    if compression == "zstd":
        zstandard = import_optional("zstandard", "zstd")
        raw = open(path, "rb")  # noqa: SIM115 - closed through the reader
        return zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)
    return open(path, "rb")


def _compression_error(path: PathLike, error: BaseException) -> ParseError:
    """The error for a compressed file that is cut short, corrupt or not compressed."""
    compression = compression_of(path)
    if compression is None:
        return ParseError(
            "cannot read file",
            source=source_name(path),
            expected="a readable file",
            found=f"{type(error).__name__}: {error}",
        )
    text = str(error) or type(error).__name__
    truncated = isinstance(error, EOFError) or "end-of-stream" in text or "truncated" in text
    return ParseError(
        f"{compression} file is truncated" if truncated else f"not a valid {compression} file",
        source=source_name(path),
        expected=f"a complete {compression} stream (suffix {Path(path).suffix!r})",
        found=f"{type(error).__name__}: {text}",
    )


_DECOMPRESSION_ERRORS = (EOFError, OSError, lzma.LZMAError, zlib.error, ValueError)


def read_bytes(path: PathLike) -> bytes:
    """The bytes of a (possibly compressed) file, decompressed.

    Args:
        path: A plain, ``.gz``, ``.xz``, ``.zst`` or ``.bz2`` file.

    Returns:
        The file's (decompressed) content.

    Raises:
        ParseError: The file does not exist, or a compressed file is cut short, corrupt
            or not compressed as its suffix says.
    """
    try:
        with _open_binary(path) as handle:
            return handle.read()
    except ParseError:
        raise
    except _DECOMPRESSION_ERRORS as error:
        raise _compression_error(path, error) from None


def read_text(path: PathLike, report: IngestReport | None = None, encoding: str = "utf-8") -> str:
    """The text of a (possibly compressed) file: a leading BOM removed, bad bytes replaced.

    Undecodable bytes become U+FFFD (so one bad byte does not lose a file) and are counted
    as ``undecodable_byte`` in ``report`` when one is given.

    Args:
        path: A plain, ``.gz``, ``.xz``, ``.zst`` or ``.bz2`` file.
        report: Where to count replaced bytes.
        encoding: Text encoding.

    Returns:
        The text.

    Raises:
        ParseError: As :func:`read_bytes`.
    """
    raw = read_bytes(path)
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as error:
        text = raw.decode(encoding, errors="replace")
        if report is not None:
            line = raw.count(b"\n", 0, error.start) + 1
            report.add("undecodable_byte", max(1, text.count("\ufffd")), f"line {line}")
        return text


def open_text(path: PathLike, encoding: str = "utf-8") -> IO[str]:
    """Open a (possibly compressed) text file for reading.

    Undecodable bytes are replaced (``errors="replace"``) rather than raising, so that one
    bad byte in a log file does not lose the file.

    Args:
        path: A plain, ``.gz``, ``.xz``, ``.zst`` or ``.bz2`` file.
        encoding: Text encoding.

    Returns:
        A text stream; use it as a context manager.

    Raises:
        ParseError: The file does not exist.
    """
    return io.TextIOWrapper(_open_binary(path), encoding=encoding, errors="replace")


def iter_lines(path: PathLike, encoding: str = "utf-8") -> Iterator[str]:
    """Yield the lines of a (possibly compressed) text file without their line ends.

    Raises:
        ParseError: The file does not exist, or a compressed file is cut short or corrupt.
    """
    try:
        with open_text(path, encoding) as handle:
            first = True
            for line in handle:
                if first:
                    line, first = line.lstrip("\ufeff"), False
                yield line.rstrip("\r\n")
    except ParseError:
        raise
    except _DECOMPRESSION_ERRORS as error:
        raise _compression_error(path, error) from None


def _json_error(source: str, error: json.JSONDecodeError, line_offset: int = 0) -> ParseError:
    return ParseError(
        "invalid JSON",
        source=source,
        record=f"line {error.lineno + line_offset}, column {error.colno}",
        expected="a JSON document or JSON lines",
        found=error.msg,
    )


def _loads(text: str, source: str, line: int | None = None) -> object:
    """``json.loads`` with the resource limits turned into :class:`ResourceLimitError`."""
    if len(text) > MAX_JSON_CHARS:
        raise ResourceLimitError(
            "JSON document too large",
            limit="graphad.ingest.io.MAX_JSON_CHARS",
            value=MAX_JSON_CHARS,
            how="set graphad.ingest.io.MAX_JSON_CHARS, or split the file into JSON lines",
            source=source,
            record=None if line is None else f"line {line}",
            found=f"{len(text)} characters",
        )
    try:
        return json.loads(text)
    except RecursionError:
        raise ResourceLimitError(
            "JSON nested too deeply",
            limit="the nesting depth Python's json module reaches (sys.getrecursionlimit())",
            value=sys.getrecursionlimit(),
            how="flatten the document (telemetry JSON is never nested this deeply)",
            source=source,
            record=None if line is None else f"line {line}",
        ) from None
    except json.JSONDecodeError:
        raise
    except ValueError as error:  # an integer of more digits than Python converts
        if "digits" not in str(error):
            raise
        raise ResourceLimitError(
            "number too long",
            limit="sys.get_int_max_str_digits()",
            value=sys.get_int_max_str_digits(),
            how="sys.set_int_max_str_digits(n) before reading",
            source=source,
            record=None if line is None else f"line {line}",
            found=str(error).split(":")[1].strip() if ":" in str(error) else str(error),
        ) from None


def _first_line_is_json(text: str, source: str) -> bool:
    """Whether the first non-blank line alone is a JSON document (a JSON-lines file)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return False
    try:
        _loads(lines[0], source, 1)
    except json.JSONDecodeError:
        return False
    return True


def read_json_documents(path: PathLike, report: IngestReport | None = None) -> list[object]:
    """Read a JSON file holding one document, or JSON lines (one document per line).

    A leading byte-order mark is skipped; undecodable bytes are replaced (see
    :func:`read_text`).

    Args:
        path: A plain or compressed ``.json`` / ``.jsonl`` file.
        report: Where to count replaced bytes (``undecodable_byte``).

    Returns:
        The documents: ``[document]`` for a single JSON document, one per non-blank line
        for JSON lines.

    Raises:
        ParseError: The text is neither one JSON document nor JSON lines; the message
            names the line and column of the first error.
        ResourceLimitError: A document is nested too deeply, a number has too many
            digits, or a document is larger than :data:`MAX_JSON_CHARS`.
    """
    source = source_name(path)
    text = read_text(path, report)
    if not text.strip():
        raise ParseError(
            "empty file",
            source=source,
            expected="a JSON document or JSON lines",
            found="no text",
        )
    lines_first = len(text) > MAX_JSON_CHARS
    if not lines_first:
        try:
            return [_loads(text, source)]
        except json.JSONDecodeError as error:
            if error.msg != "Extra data" and not _first_line_is_json(text, source):
                raise _json_error(source, error) from None
    documents = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            documents.append(_loads(line, source, number))
        except json.JSONDecodeError as error:
            raise _json_error(source, error, number - 1) from None
    return documents


# --------------------------------------------------------------------------- tables


def _first_record(path: PathLike, raw: bytes | None, separator: str, source: str) -> list[str]:
    """The header of a CSV file, read with the ``csv`` module.

    (pandas' own header parsing takes quadratic time in the number of columns.)
    """
    if raw is None:
        with open(path, "rb") as handle:
            head = handle.read(MAX_HEADER_BYTES)
    else:
        head = raw[:MAX_HEADER_BYTES]
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    if len(head) == MAX_HEADER_BYTES and "\n" not in text:
        raise ResourceLimitError(
            "header line too long",
            limit="graphad.ingest.io.MAX_HEADER_BYTES",
            value=MAX_HEADER_BYTES,
            how="set graphad.ingest.io.MAX_HEADER_BYTES",
            source=source,
            record="line 1",
        )
    with _field_limit():
        try:
            return next(csv.reader(io.StringIO(text), delimiter=separator), [])
        except csv.Error:
            return []


class _field_limit:  # noqa: N801 - used as a context manager
    """Let the ``csv`` module read fields up to :data:`MAX_FIELD_CHARS` (restored after)."""

    def __enter__(self) -> None:
        self.before = csv.field_size_limit()
        csv.field_size_limit(max(self.before, MAX_FIELD_CHARS))

    def __exit__(self, *exc: object) -> None:
        csv.field_size_limit(self.before)


_FIELD_COUNT = re.compile(r"Expected \d+ (?:columns|fields)")


def _salvage_rows(
    raw: bytes, separator: str, source: str, report: IngestReport
) -> tuple[str, list[int], int]:
    """Re-write a CSV without its rows of the wrong field count.

    Returns:
        ``(text, bad_lines, n_bad)``: the well-formed rows as CSV text (header first),
        the line numbers (1-based, where each bad record ends) of up to three bad rows,
        and the number of bad rows.
    """
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        text = raw.decode("utf-8", errors="replace")
        line = raw.count(b"\n", 0, error.start) + 1
        report.add("undecodable_byte", max(1, text.count("\ufffd")), f"line {line}")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator="\n")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    bad: list[int] = []
    n_bad = 0
    with _field_limit():
        try:
            header = next(reader, None)
            if header is None:
                return "", bad, 0
            writer.writerow(header)
            width = len(header)
            for row in reader:
                if not row:
                    continue  # a blank line, as pandas skips it
                if len(row) != width:
                    n_bad += 1
                    if len(bad) < 3:
                        bad.append(reader.line_num)
                    continue
                writer.writerow(row)
        except csv.Error as error:
            raise ParseError(
                "cannot parse table",
                source=source,
                record=f"line {reader.line_num}",
                expected="a well-formed CSV table",
                found=str(error),
            ) from None
    return out.getvalue(), bad, n_bad


def _decoded(frame: pd.DataFrame, report: IngestReport | None) -> pd.DataFrame:
    """``frame`` with bytes cells (text pyarrow could not decode as UTF-8) decoded, bad
    bytes replaced by U+FFFD and counted as ``undecodable_byte``.
    """
    renamed = {
        c: c.decode("utf-8", errors="replace") for c in frame.columns if isinstance(c, bytes)
    }
    if renamed:
        frame = frame.rename(columns=renamed)
        if report is not None:
            report.add("undecodable_byte", len(renamed), "the header")
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object:
            continue
        is_bytes = values.map(lambda v: isinstance(v, bytes)).to_numpy(dtype=bool)
        if not is_bytes.any():
            continue
        fixed = values.copy()
        raw = values[is_bytes].tolist()
        fixed[is_bytes] = [v.decode("utf-8", errors="replace") for v in raw]
        frame = frame.assign(**{column: fixed}) if isinstance(column, str) else frame
        bad = np.flatnonzero(is_bytes)[[not _is_utf8(v) for v in raw]]
        if report is not None and len(bad):
            report.add("undecodable_byte", len(bad), f"record {bad[0] + 1}, column {column!r}")
    return frame


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _index_columns(frame: pd.DataFrame) -> list[str]:
    """Columns a pandas ``to_csv`` wrote for its index: no header name, values 0..n-1."""
    found = []
    for column in frame.columns:
        name = str(column)
        if not (name == "" or _UNNAMED.fullmatch(name)):
            continue
        values = frame[column]
        if not pd.api.types.is_integer_dtype(values):
            continue
        array = values.to_numpy()
        if len(array) and (np.diff(array) == 1).all() and array[0] in (0, 1):
            found.append(column)
    return found


_UNNAMED = re.compile(r"Unnamed: \d+(?:_level_\d+)?")


def read_table(
    path: PathLike,
    *,
    usecols: object = None,
    dtype: dict | type | None = None,
    sep: str | None = None,
    keep_default_na: bool = True,
    report: IngestReport | None = None,
) -> pd.DataFrame:
    r"""Read a CSV/TSV (plain or compressed) or Parquet file into a frame.

    CSV goes through pandas with the pyarrow engine when pyarrow is installed (several
    times faster), else, or when pyarrow cannot parse the file, pandas' C parser
    (``index_col=False``: an extra field never shifts the columns). ``dtype`` and
    ``usecols`` are passed on (columns named in ``dtype`` but absent from the file are
    ignored).

    With a ``report``, a row with the wrong number of fields (a record cut short, two
    records glued on one line) is dropped and counted as ``malformed_row`` with its line
    number, the rest of the file read (the rows are then checked with the ``csv`` module,
    in time linear in the file's size); ``report.n_records`` grows by the number of such
    rows. A column that pandas' ``to_csv`` wrote for a frame's index (no name, values
    ``0..n-1``) is dropped and counted as ``index_column``. Without a report both are
    left as they are and a malformed row raises :class:`ParseError`.

    Args:
        path: ``.csv``, ``.tsv``, ``.parquet`` / ``.pq``, optionally compressed (CSV only).
        usecols: Columns to read (a list or a callable on the column name).
        dtype: Column name -> dtype for CSV, or one dtype for every column.
        sep: Field separator; by default ``","`` (``"\\t"`` for ``.tsv``).
        keep_default_na: Read ``NA``, ``null``, ... as missing (pandas' default).
        report: Where malformed rows and index columns are counted.

    Returns:
        The table as read.

    Raises:
        ParseError: The file is missing, truncated, or cannot be parsed as a table.
        ResourceLimitError: More than :data:`MAX_COLUMNS` columns.
    """
    _check_exists(path)
    source = source_name(path)
    suffix = inner_suffix(path)
    if suffix in _PARQUET_SUFFIXES:
        return _read_parquet(path, usecols, source)
    separator = sep or _CSV_SEPARATORS.get(suffix, ",")
    raw = read_bytes(path) if compression_of(path) is not None else None
    header = _first_record(path, raw, separator, source)
    if len(header) > MAX_COLUMNS:
        raise ResourceLimitError(
            "too many columns",
            limit="graphad.ingest.io.MAX_COLUMNS",
            value=MAX_COLUMNS,
            how="set graphad.ingest.io.MAX_COLUMNS",
            source=source,
            record="line 1",
            found=f"{len(header)} columns",
        )
    present = set(header)
    wanted = [c for c in header if usecols(c)] if callable(usecols) else usecols
    if isinstance(dtype, dict):
        dtypes = {k: v for k, v in dtype.items() if k in present} or None
    else:
        dtypes = dtype
    options = dict(sep=separator, usecols=wanted, dtype=dtypes, keep_default_na=keep_default_na)

    def data() -> object:
        return io.BytesIO(raw) if raw is not None else path

    frame = None
    ragged = False
    ragged_error = "a row has another number of fields than the header"
    try:
        if _HAS_PYARROW and len(separator) == 1:
            try:
                frame = pd.read_csv(data(), engine="pyarrow", **options)
            except Exception as error:  # noqa: BLE001 - checked row by row below
                # With a report, any failure is checked row by row (the C parser would
                # fill a short row with NaN silently); without one, the C parser names
                # the bad line.
                ragged = bool(_FIELD_COUNT.search(str(error))) or report is not None
                ragged_error = str(error)
                logger.debug("pyarrow CSV reader failed on %s: %s", source, error)
        if frame is None and not ragged:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", pd.errors.ParserWarning)
                try:
                    frame = pd.read_csv(
                        data(), engine="c", low_memory=False, index_col=False, **options
                    )
                except pd.errors.ParserError as error:
                    if not _FIELD_COUNT.search(str(error)):
                        raise
                    ragged, ragged_error = True, str(error)
                ragged = ragged or any("does not match" in str(w.message) for w in caught)
        if ragged:
            if report is None or len(separator) != 1:
                raise pd.errors.ParserError(ragged_error)
            text, lines, n_bad = _salvage_rows(
                raw if raw is not None else read_bytes(path), separator, source, report
            )
            if not text:
                raise pd.errors.EmptyDataError("No columns to parse from file")
            frame = pd.read_csv(
                io.StringIO(text), engine="c", low_memory=False, index_col=False, **options
            )
            report.n_records += n_bad
            report.add("malformed_row", n_bad, ", ".join(f"line {n}" for n in lines))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ParseError(
            "cannot parse table",
            source=source,
            record=_parser_line(str(error)),
            expected="a well-formed CSV/Parquet table",
            found=str(error).strip().splitlines()[0]
            if str(error).strip()
            else type(error).__name__,
        ) from None
    except _DECOMPRESSION_ERRORS as error:
        if isinstance(error, ParseError):
            raise
        raise ParseError(
            "cannot read table",
            source=source,
            expected="a readable CSV/Parquet file",
            found=f"{type(error).__name__}: {error}",
        ) from None
    frame = _decoded(frame, report)
    if report is not None:
        for column in _index_columns(frame):
            report.add("index_column", 1, f"column {str(column)!r} (a written index; left out)")
            frame = frame.drop(columns=column)
    return frame


def read_csv_checked(path: PathLike, **options: object) -> pd.DataFrame:
    """``pandas.read_csv(path, **options)`` whose failures are :class:`ParseError`.

    For loaders that need pandas' own options (a file of a known layout); a missing,
    truncated, undecodable or malformed file raises :class:`ParseError` naming the file
    (and the line, when pandas names one) instead of pandas' or the decompressor's error.

    Args:
        path: A CSV file, optionally compressed.
        **options: Passed to :func:`pandas.read_csv`.

    Returns:
        The table.

    Raises:
        ParseError: The file cannot be read or parsed.
    """
    _check_exists(path)
    try:
        return pd.read_csv(path, **options)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        text = str(error).strip()
        raise ParseError(
            "cannot parse table",
            source=source_name(path),
            record=_parser_line(text),
            expected="a well-formed CSV table",
            found=text.splitlines()[0] if text else type(error).__name__,
        ) from None
    except _DECOMPRESSION_ERRORS as error:
        raise _compression_error(path, error) from None


def _read_parquet(path: PathLike, usecols: object, source: str) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # noqa: BLE001 - pyarrow raises many kinds on a bad file
        raise ParseError(
            "cannot read Parquet file",
            source=source,
            expected="a complete Parquet file",
            found=f"{type(error).__name__}: {str(error)[:200]}",
        ) from None
    if usecols is not None:
        keep = [c for c in frame.columns if (usecols(c) if callable(usecols) else c in usecols)]
        frame = frame[keep]
    return frame


def _parser_line(message: str) -> str | None:
    """Pull ``line N`` out of a pandas parser message, if it names one."""
    match = re.search(r"line (\d+)", message)
    return f"line {match.group(1)}" if match else None
