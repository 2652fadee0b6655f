"""Thresholds fitted on training scores: quantile and POT."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graphad.detectors.threshold import fit_threshold, pot_threshold, quantile_threshold
from graphad.exceptions import GraphadInputError


def test_quantile_exact():
    assert quantile_threshold(np.arange(11.0), 0.1) == pytest.approx(9.0)
    assert fit_threshold(torch.arange(101.0), "quantile", 0.05) == pytest.approx(95.0)
    # non-finite training scores are ignored
    scores = np.array([0.0, 1.0, 2.0, np.nan, np.inf])
    assert fit_threshold(scores, "quantile", 0.25) == pytest.approx(1.5)


def test_quantile_range_errors():
    with pytest.raises(GraphadInputError, match="contamination"):
        quantile_threshold(np.arange(5.0), 0.0)
    with pytest.raises(GraphadInputError, match="contamination"):
        fit_threshold(np.arange(5.0), "quantile", 0.6)


def test_pot_tail_and_degenerate_cases():
    rng = np.random.default_rng(1)
    z = pot_threshold(rng.exponential(size=50_000), risk=1e-4)
    assert 8.0 < z < 10.5  # exact 0.9999 quantile of Exp(1): 9.21
    # a constant tail: the maximum
    assert pot_threshold(np.r_[np.zeros(100), np.ones(5)]) == 1.0
    with pytest.raises(GraphadInputError, match="too few"):
        pot_threshold(np.arange(5.0))


def test_unknown_method():
    with pytest.raises(GraphadInputError, match="Could not resolve 'evt'"):
        fit_threshold(np.arange(20.0), "evt")
