"""One parameter protocol for every registered estimator (detectors and rankers)."""

from __future__ import annotations

import pytest
from sklearn.base import clone

from graphad.detectors import DETECTORS
from graphad.exceptions import GraphadInputError
from graphad.rca import RANKERS
from graphad.utils import ParamsMixin, Registry, resolve

ESTIMATORS = [("detector", name, cls) for name, cls in sorted(DETECTORS.items())] + [
    ("ranker", name, cls) for name, cls in sorted(RANKERS.items())
]


@pytest.mark.parametrize(("kind", "name", "cls"), ESTIMATORS, ids=lambda v: str(v))
def test_clone_get_params_set_params(kind, name, cls):
    estimator = cls()
    assert isinstance(estimator, ParamsMixin)
    params = estimator.get_params(deep=False)
    assert set(params) == set(cls._param_names())
    assert set(params) <= set(estimator.get_params(deep=True))
    copy = clone(estimator)
    assert type(copy) is cls and copy is not estimator
    assert repr(copy.get_params(deep=False)) == repr(params)
    first = next(iter(params))
    assert copy.set_params(**{first: params[first]}) is copy
    with pytest.raises(GraphadInputError, match="unknown parameter"):
        copy.set_params(no_such_parameter=1)
    assert repr(estimator).startswith(f"{cls.__name__}(")


def test_one_resolver_for_keys_and_class_names():
    some_ranker = next(iter(RANKERS.values()))
    assert resolve(some_ranker.__name__.upper(), RANKERS) is some_ranker
    assert DETECTORS.resolve("robust-zscore".replace("-", "")) is DETECTORS["RobustZScore"]
    with pytest.raises(GraphadInputError, match="Could not resolve 'nope' among choices"):
        DETECTORS.resolve("nope")
    registry = Registry("thing")
    registry.register("short", dict)
    assert registry.resolve("SHORT") is dict and registry.resolve("dict") is dict
