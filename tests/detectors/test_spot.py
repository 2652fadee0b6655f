"""SPOT / DSPOT streaming thresholds on hand-made series with a known tail."""

from __future__ import annotations

import numpy as np
import pytest

from graphad.detectors.threshold import SPOT, fit_threshold
from graphad.exceptions import GraphadInputError, NotFittedError


def test_spot_threshold_matches_the_known_exponential_tail():
    rng = np.random.default_rng(0)
    spot = SPOT(risk=1e-3, level=0.98).fit(rng.exponential(size=50_000))
    # Exp(1): the exact 0.999 quantile is ln(1000) = 6.91; the excesses are Exp(1) too
    assert spot.threshold_ == pytest.approx(np.log(1000.0), abs=0.4)
    assert abs(spot.gamma_) < 0.1
    assert spot.sigma_ == pytest.approx(1.0, abs=0.1)


def test_spot_stream_alarms_on_spikes_and_rarely_otherwise():
    rng = np.random.default_rng(1)
    spot = SPOT(risk=1e-3).fit(rng.exponential(size=20_000))
    stream = rng.exponential(size=10_000)
    spikes = np.arange(500, 10_000, 1000)
    stream[spikes] += 25.0
    alarms, thresholds = spot.run(stream)
    assert alarms[spikes].all()
    false = alarms.copy()
    false[spikes] = False
    assert false.mean() < 3e-3  # about risk = 1e-3 of the normal steps
    assert np.isfinite(thresholds).all()
    # every non-alarm step of the stream was counted in n
    assert spot.n_ == 20_000 + 10_000 - int(alarms.sum())


def test_dspot_follows_a_drift_that_spot_alarms_on():
    rng = np.random.default_rng(2)
    train = rng.exponential(size=5_000)
    drift = np.minimum(np.arange(10_000) / 1000, 1.0) * 20.0  # level +20 within 1000 steps
    stream = rng.exponential(size=10_000) + drift
    spikes = np.arange(700, 10_000, 1000)
    stream[spikes] += 30.0
    plain, _ = SPOT(risk=1e-3).fit(train).run(stream)
    drifting, thresholds = SPOT(risk=1e-3, depth=50).fit(train).run(stream)
    normal = np.ones(stream.size, dtype=bool)
    normal[spikes] = False
    assert plain[normal].mean() > 0.5  # a fixed threshold: an alarm storm
    assert drifting[normal].mean() < 0.01  # DSPOT moves with the level
    assert drifting[spikes].all()
    assert thresholds[-1] > thresholds[0] + 15.0


def test_nan_in_the_stream_is_skipped():
    spot = SPOT(risk=1e-2).fit(np.random.default_rng(3).exponential(size=1000))
    alarms, _ = spot.run(np.array([np.nan, 100.0, 0.1]))
    assert alarms.tolist() == [False, True, False]


def test_spot_refusals():
    with pytest.raises(GraphadInputError, match="risk"):
        SPOT(risk=0.0)
    with pytest.raises(GraphadInputError, match="level"):
        SPOT(level=1.0)
    with pytest.raises(GraphadInputError, match="too few"):
        SPOT(depth=50).fit(np.arange(30.0))
    with pytest.raises(NotFittedError):
        SPOT().run(np.zeros(3))


def test_fit_threshold_spot_is_the_static_spot_threshold():
    scores = np.random.default_rng(4).exponential(size=5000)
    assert fit_threshold(scores, "spot", risk=1e-3) == SPOT(risk=1e-3).fit(scores).threshold_
    assert fit_threshold(scores, "dspot", risk=1e-3) == SPOT(risk=1e-3).fit(scores).threshold_
    # a larger risk starts the peaks lower (level 1 - 3 risk)
    wide = SPOT(risk=0.02, level=0.94).fit(scores).threshold_
    assert fit_threshold(scores, "spot", risk=0.02) == wide
