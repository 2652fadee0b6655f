"""Small shared helpers: devices, seeding, optional imports, and the one name resolver.

Detectors and rankers share :class:`Registry` (name -> class, resolved by registered name
or class name) and :class:`ParamsMixin` (scikit-learn's ``get_params`` / ``set_params``,
so :func:`sklearn.base.clone` works on every registered class).
"""

from __future__ import annotations

import importlib
import inspect
import random
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import numpy as np
import torch

from graphad.exceptions import GraphadInputError

__all__ = [
    "resolve_device",
    "seed_everything",
    "import_optional",
    "resolve",
    "Registry",
    "ParamsMixin",
    "make_instance",
]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else is passed to torch.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')

    """
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def seed_everything(random_state: int | None) -> torch.Generator:
    """Seed Python, NumPy and torch from ``random_state`` and return a torch generator.

    ``None`` draws a fresh seed (results then differ from run to run).
    """
    seed = int(random_state) if random_state is not None else random.randrange(2**31)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def import_optional(module: str, extra: str) -> ModuleType:
    """Import an optional dependency or fail with the ``pip install`` line that fixes it.

    Example:
        >>> import_optional("json", "none").__name__
        'json'

    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"'{module}' is needed for this feature: pip install 'graphad[{extra}]'"
        ) from error


def _key(name: str) -> str:
    return str(name).lower().replace("-", "_")


def resolve(name: str | object, choices: Mapping[str, object], what: str = "name") -> object:
    """Resolve a string among ``choices`` (case-insensitive); non-strings pass through.

    A name matches a key of ``choices`` or, for class values, the class name (``-`` and
    ``_`` are the same). This is the one name resolver of graphad: detectors, rankers,
    node rules and option values all go through it.

    Example:
        >>> resolve("Mean", {"mean": 1, "max": 2})
        1
        >>> resolve("float", {"f": float}) is float
        True
        >>> try:
        ...     resolve("min", {"mean": 1})
        ... except ValueError as error:
        ...     print(error)
        field 'name': Could not resolve 'min' among choices ['mean']

    """
    if not isinstance(name, str):
        return name
    key = _key(name)
    lowered = {_key(k): v for k, v in choices.items()}
    if key in lowered:
        return lowered[key]
    by_class = {_key(v.__name__): v for v in choices.values() if isinstance(v, type)}
    if key in by_class:
        return by_class[key]
    raise GraphadInputError(
        f"Could not resolve '{name}' among choices {sorted(choices)}", field=what
    )


class Registry(dict):
    """Classes by name (a ``dict``), with :meth:`resolve` and :meth:`create`.

    Args:
        what: What the registry holds, for messages (e.g. ``"detector"``).

    Example:
        >>> reg = Registry("thing")
        >>> @reg.register("one")
        ... class One(ParamsMixin):
        ...     def __init__(self, k=1):
        ...         self.k = k
        >>> reg.resolve("ONE").__name__, reg.create("One", k=2).k
        ('One', 2)
    """

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def register(self, name: str | type | None = None, cls: type | None = None):
        """Register ``cls`` under ``name`` (default: its class name).

        Usable as ``register(cls)``, ``register("name", cls)`` or as a decorator
        ``@register("name")`` / ``@register()``; returns the class.
        """
        if isinstance(name, type):
            name, cls = None, name
        if cls is None:
            return lambda klass: self.register(name, klass)
        self[str(name) if name is not None else cls.__name__] = cls
        return cls

    def resolve(self, name: str | type) -> type:
        """The class registered as ``name`` or named ``name``; a class passes through.

        Raises:
            GraphadInputError: ``Could not resolve 'x' among choices [...]``.
        """
        return resolve(name, self, self.what)  # type: ignore[return-value]

    def create(self, spec: str | type | object, **params: Any) -> Any:
        """A fresh, unfitted instance: see :func:`make_instance`."""
        return make_instance(self.resolve(spec) if isinstance(spec, str) else spec, **params)


def make_instance(spec: type | object, **params: Any) -> Any:
    """A fresh, unfitted instance from a class or an instance (cloned), with ``params``.

    An instance is cloned with :func:`sklearn.base.clone` (constructor arguments copied,
    fitted state dropped), then ``params`` are set.

    Example:
        >>> class A(ParamsMixin):
        ...     def __init__(self, k=1):
        ...         self.k = k
        >>> make_instance(A, k=3).k, make_instance(A(k=4)).k
        (3, 4)
    """
    if isinstance(spec, type):
        return spec(**params)
    from sklearn.base import clone

    return clone(spec).set_params(**params) if params else clone(spec)


class ParamsMixin:
    """scikit-learn's parameter protocol: ``get_params(deep)``, ``set_params``, ``repr``.

    A subclass declares its hyper-parameters as keyword arguments of ``__init__`` and
    stores each under the same name, doing nothing else (the estimator rule); then
    :func:`sklearn.base.clone` makes an unfitted copy of any instance.

    Example:
        >>> from sklearn.base import clone
        >>> class A(ParamsMixin):
        ...     def __init__(self, k=1, part=None):
        ...         self.k = k
        ...         self.part = part
        >>> a = A(k=2, part=A(k=5))
        >>> sorted(a.get_params())
        ['k', 'part', 'part__k', 'part__part']
        >>> clone(a).set_params(part__k=7).part.k, a.part.k
        (7, 5)
    """

    @classmethod
    def _param_names(cls) -> list[str]:
        """Names of the constructor's keyword arguments, in order."""
        signature = inspect.signature(cls.__init__)
        return [
            p.name
            for p in signature.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments, as stored (``deep``: also those of parts).

        Args:
            deep: Also return ``<part>__<name>`` for every part that has
                ``get_params``.

        Returns:
            ``{name: value}``.
        """
        out: dict[str, Any] = {}
        for name in self._param_names():
            value = getattr(self, name)
            out[name] = value
            if deep and not isinstance(value, type) and hasattr(value, "get_params"):
                out.update({f"{name}__{k}": v for k, v in value.get_params().items()})
        return out

    def set_params(self, **params: Any):
        """Set constructor arguments (``part__name`` for a part's); unknown names fail.

        Returns:
            ``self``.

        Raises:
            GraphadInputError: A name is not a constructor argument.
        """
        valid = set(self._param_names())
        nested: dict[str, dict[str, Any]] = {}
        for name, value in params.items():
            head, sep, rest = name.partition("__")
            if head not in valid:
                raise GraphadInputError(
                    f"unknown parameter '{head}' of {type(self).__name__}",
                    field=name,
                    expected=f"one of {sorted(valid)}",
                )
            if sep:
                nested.setdefault(head, {})[rest] = value
            else:
                setattr(self, name, value)
        for head, sub in nested.items():
            getattr(self, head).set_params(**sub)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params(deep=False).items())
        return f"{type(self).__name__}({args})"
