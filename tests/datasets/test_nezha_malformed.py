"""Regression: a Nezha log file with a record cut short no longer aborts the benchmark."""

from pathlib import Path

import pytest

from graphad.datasets import Nezha

ROOT = Path(__file__).parents[2] / ".." / "shared" / "data" / "nezha"


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / "rca_data").is_dir(), reason="shared Nezha data not present")
def test_trainticket_log_file_with_a_record_cut_short():
    # rca_data/2023-01-29/log/10_06_log.csv.xz line 631 holds a record cut short with
    # the next record on the same line; pandas raised "Expected 8 fields ..., saw 10".
    nezha = Nezha(ROOT, system="ts")
    case = nezha.case("2023-01-29T10:04:34", sources=("logs",), before="10min", after="5min")
    report = case.report
    assert report.counts["malformed_row"] == 1
    assert report.examples["malformed_row"] == ["10_06_log.csv.xz line 631"]
    assert report.n_records == report.n_kept + report.n_dropped
    assert len(case.logs) > 0
