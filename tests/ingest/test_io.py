"""File helpers: compression by suffix or by magic bytes, JSON documents vs JSON lines."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from graphad.exceptions import ParseError, ResourceLimitError
from graphad.ingest import IngestReport
from graphad.ingest.io import (
    compression_of,
    inner_suffix,
    iter_lines,
    read_csv_checked,
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


# ------------------------------------------------------------------ regression (issue 18)

NEZHA_LOG = Path(__file__).parents[2] / (
    "../shared/data/nezha/rca_data/2023-01-29/log/10_06_log.csv.xz"
)


@pytest.mark.skipif(not NEZHA_LOG.is_file(), reason="shared Nezha data not present")
def test_nezha_log_with_a_record_cut_short_is_read_and_counted():
    # A TrainTicket log file holds a record cut short with the next record on the same
    # line ("Expected 8 fields in line 631, saw 10"); it aborted the whole benchmark.
    report = IngestReport("log")
    frame = read_table(NEZHA_LOG, dtype=str, keep_default_na=False, report=report)
    assert report.counts["malformed_row"] == 1
    assert report.examples["malformed_row"] == ["line 631"]
    assert len(frame) == 2128 and report.n_records == 1  # the dropped one
    with pytest.raises(ParseError, match=r"Expected 8 (fields|columns)"):
        read_table(NEZHA_LOG, dtype=str)  # without a report nothing is dropped silently


@pytest.mark.parametrize(
    "text, kept, lines",
    [
        ("a,b,c\n1,2,3\n4,5,6,7,8\n9,10,11\n", [1, 9], ["line 3"]),  # one field too many
        ("a,b,c\n1,2,3\n4,5\n9,10,11\n", [1, 9], ["line 3"]),  # one field short
        ("a,b,c\n1,2,3,4\n5,6,7\n", [5], ["line 2"]),  # extra field on the first row
        ("a,b,c\n1,2,3\n" + "," * 100_000 + "\n4,5,6\n", [1, 4], ["line 3"]),
        ('a,b,c\n1,"x\ny",3\n4,"5,6\n7,8,9\n', [1], ["line 5"]),  # quote left open
    ],
)
def test_malformed_rows_are_dropped_and_counted(tmp_path, text, kept, lines):
    path = tmp_path / "t.csv"
    path.write_text(text)
    report = IngestReport("t")
    frame = read_table(path, report=report)
    assert list(frame.columns) == ["a", "b", "c"]  # an extra field never shifts columns
    assert frame["a"].tolist() == kept
    assert report.examples["malformed_row"] == lines


def test_pandas_index_column_is_recognised_and_counted(tmp_path):
    path = tmp_path / "wide.csv"
    pd.DataFrame({"time": [0, 60], "web/cpu": [0.5, 0.7]}).to_csv(path)  # index written
    report = IngestReport("w")
    frame = read_table(path, report=report)
    assert list(frame.columns) == ["time", "web/cpu"]
    assert report.counts["index_column"] == 1
    assert read_table(path).columns[0] == "Unnamed: 0"  # without a report: as read


@pytest.mark.parametrize(
    "name, content, pattern",
    [
        ("t.csv.gz", gzip.compress(b"a,b\n1,2\n" * 50)[:30], "gzip file is truncated"),
        ("t.csv.gz", b"a,b\n1,2\n", "not a valid gzip file"),
        ("t.json.gz", gzip.compress(b'{"a": 1}')[:-6], "gzip file is truncated"),
        ("t.log.xz", b"not xz", "not a valid xz file"),
    ],
)
def test_compressed_files_cut_short_or_not_compressed(tmp_path, name, content, pattern):
    path = tmp_path / name
    path.write_bytes(content)
    read = (
        read_json_documents
        if ".json" in name
        else (read_table if ".csv" in name else lambda p: list(iter_lines(p)))
    )
    with pytest.raises(ParseError, match=pattern):
        read(path)


def test_json_limits_and_bom(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ResourceLimitError, match="nested too deeply"):
        read_json_documents(path)
    path.write_text('{"a": ' + "1" * 5000 + "}")
    with pytest.raises(ResourceLimitError, match=r"number too long .*set_int_max_str_digits"):
        read_json_documents(path)
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}')  # UTF-8 with a BOM
    assert read_json_documents(path) == [{"a": 1}]


def test_too_many_columns_is_a_resource_limit(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("," * 100_000 + "\n1\n")
    with pytest.raises(ResourceLimitError, match=r"too many columns .*MAX_COLUMNS = 10000"):
        read_table(path)


def test_undecodable_bytes_in_a_table_are_replaced_and_counted(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\n1,x\xffy\n2,z\n")
    report = IngestReport("t")
    frame = read_table(path, report=report)
    assert frame["b"].tolist() == ["x\ufffdy", "z"]
    assert report.counts["undecodable_byte"] == 1


def test_read_csv_checked_turns_pandas_and_decompression_errors_into_parse_errors(tmp_path):
    # The MTS and HDFS loaders read through it: EOFError / ParserError escaped before.
    cut = tmp_path / "t.csv.gz"
    cut.write_bytes(gzip.compress(b"a,b\n1,2\n" * 100)[:25])
    with pytest.raises(ParseError, match=r"t\.csv\.gz: gzip file is truncated"):
        read_csv_checked(cut)
    ragged = tmp_path / "r.csv"
    ragged.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(ParseError, match=r"r\.csv, record line 3: cannot parse table"):
        read_csv_checked(ragged)
    with pytest.raises(ParseError, match="file not found"):
        read_csv_checked(tmp_path / "none.csv")
