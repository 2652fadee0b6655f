"""Shared fixtures of the evidence tests."""

import pandas as pd
import pytest


@pytest.fixture
def small_spans() -> pd.DataFrame:
    """One trace: web calls api and db."""
    return pd.DataFrame(
        {
            "trace_id": ["t"] * 5,
            "span_id": ["1", "2", "3", "4", "5"],
            "parent_id": ["", "1", "2", "1", "4"],
            "service": ["web", "web", "api", "web", "db"],
            "operation": ["GET", "api.Get", "api.Get", "db.Q", "db.Q"],
            "start_ns": [0, 1, 2, 3, 4],
            "duration_ns": [100, 40, 30, 20, 15],
        }
    )
