import pytest

from graphad.exceptions import GraphadInputError
from graphad.graph import WindowSpec, parse_duration

MIN = 60 * 10**9


def test_parse_duration():
    assert parse_duration("1h") == 60 * MIN
    assert parse_duration("1.5s") == 1_500_000_000
    with pytest.raises(GraphadInputError, match="unreadable duration"):
        parse_duration("5 parsecs")


def test_windows_end_aligned_half_open():
    spec = WindowSpec.of("3min", stride="2min", step="1min")
    bounds = spec.window_bounds(0, 8 * MIN)
    assert bounds.tolist() == [[0, 3 * MIN], [2 * MIN, 5 * MIN], [4 * MIN, 7 * MIN]]
    assert spec.num_steps == 3


def test_no_window_when_data_too_short():
    assert WindowSpec.of("10min", step="1min").window_bounds(0, 5 * MIN).shape == (0, 2)


def test_inconsistent_spec():
    with pytest.raises(GraphadInputError, match="whole number of steps"):
        WindowSpec.of("5min", step="2min")
    with pytest.raises(GraphadInputError, match="must be positive"):
        WindowSpec(size=0, stride=1, step=1).check()


def test_dict_round_trip():
    spec = WindowSpec.of("4min", stride="1min", step="2min")
    assert WindowSpec.from_dict(spec.to_dict()) == spec
