"""Fixtures of the graph tests: tiny hand-made frames and one real Nezha minute."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from graphad.ingest import read_traces
from graphad.ingest.schema import validate_logs, validate_metrics, validate_spans

DATA = Path(__file__).parent / "data"
NEZHA_DAY = Path("nezha") / "rca_data" / "2022-08-22"
NEZHA_COLUMNS = {
    "trace_id": "TraceID",
    "span_id": "SpanID",
    "parent_id": "ParentID",
    "service": "PodName",
    "operation": "OperationName",
    "start_ns": "StartTimeUnixNano",
}


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, keep_default_na=False)


@pytest.fixture
def tiny_spans() -> pd.DataFrame:
    """9 spans, 3 traces over 3 steps of 10 ns (see data/spans_tiny.csv)."""
    return validate_spans(_read("spans_tiny.csv"), "spans_tiny.csv")[0]


@pytest.fixture
def tiny_metrics() -> pd.DataFrame:
    return validate_metrics(_read("metrics_tiny.csv"), "metrics_tiny.csv")[0]


@pytest.fixture
def tiny_logs() -> pd.DataFrame:
    return validate_logs(_read("logs_tiny.csv"), "logs_tiny.csv")[0]


def read_nezha_spans(path: Path) -> pd.DataFrame:
    """Read a Nezha span CSV through the public reader and its column mapping."""
    spans, _ = read_traces(path, columns=NEZHA_COLUMNS, end_column="EndTimeUnixNano")
    return spans


@pytest.fixture(scope="session")
def read_nezha():
    """The reader of Nezha span files (:func:`read_nezha_spans`)."""
    return read_nezha_spans


@pytest.fixture(scope="session")
def nezha_day(shared_data) -> Path:
    """The folder of one Nezha day (OnlineBoutique, 2022-08-22)."""
    return shared_data / NEZHA_DAY


@pytest.fixture(scope="session")
def nezha_spans(nezha_day) -> pd.DataFrame:
    """One real minute of OnlineBoutique spans (22,345 spans)."""
    return read_nezha_spans(nezha_day / "trace" / "04_02_trace.csv.xz")


@pytest.fixture(scope="session")
def nezha_dependency(nezha_day) -> set[tuple[str, str]]:
    """The true service call graph of Nezha's OnlineBoutique."""
    dep = pd.read_csv(nezha_day / "metric" / "dependency.csv.xz")
    return set(zip(dep["Source"], dep["Target"], strict=True))
