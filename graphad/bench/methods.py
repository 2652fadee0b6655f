"""Methods named in a benchmark call -> ready objects (one resolver, one clone)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tqdm.auto import tqdm

from graphad.detectors import DETECTORS
from graphad.exceptions import GraphadInputError
from graphad.rca import RANKERS
from graphad.utils import make_instance, resolve

__all__ = ["named_methods", "make_ranker", "detector_factory", "progress"]


def named_methods(methods: Any) -> list[tuple[str, Any]]:
    """``"a,b"`` / list / dict / single object -> ``[(label, spec)]``.

    Raises:
        GraphadInputError: No method, or two with the same label.
    """
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    if isinstance(methods, Mapping):
        pairs = [(str(k), v) for k, v in methods.items()]
    elif isinstance(methods, (list, tuple)):
        pairs = [(_label(m), m) for m in methods]
    else:
        pairs = [(_label(methods), methods)]
    if not pairs:
        raise GraphadInputError(
            "no method to benchmark",
            field="methods",
            expected="at least one name or object",
            found="none",
        )
    labels = [label for label, _ in pairs]
    duplicates = sorted({x for x in labels if labels.count(x) > 1})
    if duplicates:
        raise GraphadInputError(
            "two methods share a name",
            field="methods",
            expected="distinct names (pass a dict to name them)",
            found=duplicates,
        )
    return pairs


def _label(method: Any) -> str:
    if isinstance(method, str):
        return method
    if isinstance(method, type):
        return method.__name__
    return str(getattr(method, "name", None) or type(method).__name__)


def make_ranker(spec: Any) -> Any:
    """A ranker from a name in :data:`graphad.rca.RANKERS`, a class or an instance.

    Raises:
        GraphadInputError: Unknown name, or an object without ``rank``.
    """
    if isinstance(spec, str):
        spec = resolve(spec, RANKERS, "rankers")
    if isinstance(spec, type):
        spec = spec()
    if not callable(getattr(spec, "rank", None)):
        raise GraphadInputError(
            "not a ranker",
            field="rankers",
            expected="an object with a rank(case) method",
            found=type(spec).__name__,
        )
    return spec


def detector_factory(spec: Any, params: Mapping[str, Any] | None) -> Callable[[], Any]:
    """A callable that builds a fresh, unfitted detector for every entity.

    Args:
        spec: A name in :data:`graphad.detectors.DETECTORS`, a class, an instance
            (cloned with :func:`sklearn.base.clone` for every entity; one without
            ``get_params`` is refitted in place) or a factory.
        params: Constructor keyword arguments (names, classes and instances).

    Raises:
        GraphadInputError: Unknown name, or nothing a detector can be made from.
    """
    params = dict(params or {})
    if isinstance(spec, str):
        spec = resolve(spec, DETECTORS, "detectors")
    if isinstance(spec, type) or callable(getattr(spec, "get_params", None)):
        return lambda: make_instance(spec, **params)
    if callable(getattr(spec, "fit", None)):
        return lambda: spec  # cannot be cloned: refitted for every entity
    if callable(spec):
        return spec
    raise GraphadInputError(
        "not a detector",
        field="detectors",
        expected="a name, a detector class or instance, or a factory",
        found=type(spec).__name__,
    )


def progress(items: Iterable, verbose: bool, desc: str, total: int | None = None):
    """``items`` behind a tqdm bar that shows only when ``verbose``."""
    return tqdm(items, desc=desc, total=total, disable=not verbose, leave=False)
