"""Opening telemetry files: compression, text, JSON documents and tables.

Every reader of :mod:`graphad.ingest` goes through these helpers, so that a ``.gz``,
``.xz``, ``.zst`` or ``.bz2`` file is read exactly like the plain file, and so that a file
that cannot be parsed raises a :class:`~graphad.exceptions.ParseError` naming the file and
the line.
"""

from __future__ import annotations

import bz2
import gzip
import importlib.util
import io
import json
import logging
import lzma
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import pandas as pd

from graphad.exceptions import GraphadInputError, ParseError
from graphad.utils import import_optional

__all__ = [
    "PathLike",
    "COMPRESSION_SUFFIXES",
    "compression_of",
    "inner_suffix",
    "source_name",
    "open_text",
    "iter_lines",
    "read_json_documents",
    "read_table",
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
    """Yield the lines of a (possibly compressed) text file without their line ends."""
    with open_text(path, encoding) as handle:
        for line in handle:
            yield line.rstrip("\r\n")


def _json_error(source: str, error: json.JSONDecodeError, line_offset: int = 0) -> ParseError:
    return ParseError(
        "invalid JSON",
        source=source,
        record=f"line {error.lineno + line_offset}, column {error.colno}",
        expected="a JSON document or JSON lines",
        found=error.msg,
    )


def _first_line_is_json(text: str) -> bool:
    """Whether the first non-blank line alone is a JSON document (a JSON-lines file)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return False
    try:
        json.loads(lines[0])
    except json.JSONDecodeError:
        return False
    return True


def read_json_documents(path: PathLike) -> list[object]:
    """Read a JSON file holding one document, or JSON lines (one document per line).

    Args:
        path: A plain or compressed ``.json`` / ``.jsonl`` file.

    Returns:
        The documents: ``[document]`` for a single JSON document, one per non-blank line
        for JSON lines.

    Raises:
        ParseError: The text is neither one JSON document nor JSON lines; the message
            names the line and column of the first error.
    """
    source = source_name(path)
    with open_text(path) as handle:
        text = handle.read()
    if not text.strip():
        raise ParseError(
            "empty file",
            source=source,
            expected="a JSON document or JSON lines",
            found="no text",
        )
    try:
        return [json.loads(text)]
    except json.JSONDecodeError as error:
        if error.msg != "Extra data" and not _first_line_is_json(text):
            raise _json_error(source, error) from None
    documents = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            documents.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise _json_error(source, error, number - 1) from None
    return documents


def read_table(
    path: PathLike,
    *,
    usecols: object = None,
    dtype: dict | None = None,
    sep: str | None = None,
) -> pd.DataFrame:
    r"""Read a CSV/TSV (plain or compressed) or Parquet file into a frame.

    CSV goes through pandas with the pyarrow engine when pyarrow is installed (several
    times faster), else, or when pyarrow cannot parse the file, pandas' C parser, whose
    error names the bad line. ``dtype`` and ``usecols`` are passed on (columns named in
    ``dtype`` but absent from the file are ignored).

    Args:
        path: ``.csv``, ``.tsv``, ``.parquet`` / ``.pq``, optionally compressed (CSV only).
        usecols: Columns to read (a list or a callable on the column name).
        dtype: Column name -> dtype for CSV.
        sep: Field separator; by default ``","`` (``"\\t"`` for ``.tsv``).

    Returns:
        The table as read.

    Raises:
        ParseError: The file is missing or cannot be parsed as a table.
    """
    _check_exists(path)
    source = source_name(path)
    suffix = inner_suffix(path)
    try:
        if suffix in _PARQUET_SUFFIXES:
            frame = pd.read_parquet(path)
            if usecols is not None:
                keep = [
                    c for c in frame.columns if (usecols(c) if callable(usecols) else c in usecols)
                ]
                frame = frame[keep]
            return frame
        separator = sep or _CSV_SEPARATORS.get(suffix, ",")
        compression = compression_of(path)
        header = pd.read_csv(path, nrows=0, sep=separator, compression=compression)
        present = set(map(str, header.columns))
        if callable(usecols):
            wanted = [c for c in header.columns if usecols(c)]
        else:
            wanted = usecols
        dtypes = {k: v for k, v in (dtype or {}).items() if k in present}
        options = dict(sep=separator, usecols=wanted, dtype=dtypes or None, compression=compression)
        if _HAS_PYARROW and len(separator) == 1:
            try:
                return pd.read_csv(path, engine="pyarrow", **options)
            except Exception:  # noqa: BLE001 - the C parser below names the bad line
                logger.debug("pyarrow CSV reader failed on %s; using the C parser", source)
        return pd.read_csv(path, engine="c", low_memory=False, **options)
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
    except (OSError, ValueError) as error:
        if isinstance(error, ParseError):
            raise
        raise ParseError(
            "cannot read table",
            source=source,
            expected="a readable CSV/Parquet file",
            found=f"{type(error).__name__}: {error}",
        ) from None


def _parser_line(message: str) -> str | None:
    """Pull ``line N`` out of a pandas parser message, if it names one."""
    match = re.search(r"line (\d+)", message)
    return f"line {match.group(1)}" if match else None
