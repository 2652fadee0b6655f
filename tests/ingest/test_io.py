"""File helpers: compression by suffix or by magic bytes, JSON documents vs JSON lines."""

from __future__ import annotations

import gzip
import json

import pytest

from graphad.exceptions import ParseError
from graphad.ingest.io import (
    compression_of,
    inner_suffix,
    iter_lines,
    read_json_documents,
    read_table,
)


def test_compression_by_suffix_and_magic(tmp_path):
    assert compression_of("a.csv.zst") == "zstd"
    path = tmp_path / "data.bin"  # gzip without a .gz suffix
    path.write_bytes(gzip.compress(b"a\nb\n"))
    assert compression_of(path) == "gzip"
    assert list(iter_lines(path)) == ["a", "b"]
    assert inner_suffix(tmp_path / "x.JSON.gz") == ".json"


def test_json_document_and_json_lines(tmp_path):
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"a": [1, 2]}, indent=2))
    assert read_json_documents(one) == [{"a": [1, 2]}]
    lines = tmp_path / "lines.jsonl"
    lines.write_text('{"a": 1}\n\n{"a": 2}\n')
    assert read_json_documents(lines) == [{"a": 1}, {"a": 2}]


def test_bad_json(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("  \n")
    with pytest.raises(ParseError, match=r"empty\.json: empty file"):
        read_json_documents(empty)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"a": 1}\n{"a": 2}\n{"a": }\n')
    with pytest.raises(ParseError, match=r"broken\.jsonl, record line 3, column 7: invalid JSON"):
        read_json_documents(broken)


def test_read_table_keeps_text_ids_and_multiline_fields(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('id,msg\n0012,"two\nlines"\n0034,one\n')
    frame = read_table(path, dtype={"id": str, "absent": str})
    assert frame["id"].tolist() == ["0012", "0034"]
    assert frame["msg"].tolist() == ["two\nlines", "one"]
    tsv = tmp_path / "t.tsv"
    tsv.write_text("a\tb\n1\t2\n")
    assert read_table(tsv).columns.tolist() == ["a", "b"]
