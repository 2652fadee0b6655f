"""Shared statistics of the evidence."""

import numpy as np
import pandas as pd
import pytest

from graphad.rca.evidence.stats import shift_scores


def test_shift_less_its_standard_error():
    # log1p(values) = x exactly: before 0..4, after 2..6 (median shift 2, IQR 2 each side)
    x = np.array([0, 1, 2, 3, 4, 2, 3, 4, 5, 6], dtype=float)
    keys = pd.DataFrame({"node": ["a"] * 10})
    before = np.arange(10) < 5
    spread = 2 / 1.349
    se = np.sqrt(np.pi / 2) * np.sqrt(2 * spread**2 / 5)  # SE of a median difference
    plain = shift_scores(pd.Series(np.expm1(x)), keys, before, ~before, 5, 0.1, 0.0)
    sure = shift_scores(pd.Series(np.expm1(x)), keys, before, ~before, 5, 0.1, 1.0)
    assert plain["score"].iloc[0] == pytest.approx(2 / spread)  # 1.349
    assert sure["score"].iloc[0] == pytest.approx((2 - se) / spread)  # 0.556
    # 100 times the spans: the same shift, known 10x better, keeps most of its score
    many = np.repeat(x, 100)
    keys = pd.DataFrame({"node": ["a"] * 1000})
    before = np.repeat(np.arange(10) < 5, 100)
    lots = shift_scores(pd.Series(np.expm1(many)), keys, before, ~before, 5, 0.1, 1.0)
    assert lots["score"].iloc[0] == pytest.approx((2 - se / 10) / spread)  # 1.270
    # a shift smaller than its standard error counts 0, never negative
    small = np.array([0, 1, 2, 3, 4, 0.5, 1.5, 2.5, 3.5, 4.5])
    keys = pd.DataFrame({"node": ["a"] * 10})
    tiny = shift_scores(
        pd.Series(np.expm1(small)), keys, np.arange(10) < 5, np.arange(10) >= 5, 5, 0.1, 1.0
    )
    assert tiny["score"].iloc[0] == 0.0
