"""Constructor parameters of the rca estimators (rankers and their evidence parts)."""

from __future__ import annotations

import inspect

__all__ = ["ParamsMixin"]


class ParamsMixin:
    """``get_params`` and ``__repr__`` from the constructor's keyword arguments.

    ``__init__`` stores every argument under its own name (scikit-learn style).
    """

    def get_params(self, deep: bool = True) -> dict:
        """Constructor arguments (scikit-learn style)."""
        names = inspect.signature(type(self).__init__).parameters
        return {k: getattr(self, k) for k in names if k != "self"}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
