"""A stable node name <-> integer id map shared by every window of a dynamic graph."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

import numpy as np
import pandas as pd

from graphad.exceptions import GraphadInputError, UnknownNodeError

__all__ = ["NodeVocab", "UnknownRule"]

UnknownRule = Literal["error", "ignore", "add"]
_RULES = ("error", "ignore", "add")


class NodeVocab:
    """Node name <-> id map, stable across windows.

    Ids are assigned in insertion order and never change. What happens to a name that is
    not in the vocabulary is a rule chosen once:

    * ``"error"`` (default): raise :class:`~graphad.exceptions.UnknownNodeError`;
    * ``"ignore"``: encode it as ``-1`` (callers drop or mask it and count it);
    * ``"add"``: append it with the next id.

    Args:
        names: Initial node names, in id order; duplicates are an error.
        unknown: The rule for unseen names.

    Example:
        >>> vocab = NodeVocab(["frontend", "cart"], unknown="ignore")
        >>> vocab.encode(["cart", "redis", "frontend"]).tolist()
        [1, -1, 0]
        >>> vocab["cart"], vocab.names
        (1, ['frontend', 'cart'])

    """

    def __init__(self, names: Iterable[str] = (), unknown: UnknownRule = "error") -> None:
        if unknown not in _RULES:
            raise GraphadInputError(
                f"Could not resolve '{unknown}' among choices {set(_RULES)}",
                field="unknown",
            )
        self.unknown = unknown
        self._names: list[str] = []
        self._ids: dict[str, int] = {}
        for name in names:
            if name in self._ids:
                raise GraphadInputError("duplicate node name", field="names", found=repr(name))
            self.add(name)

    @property
    def names(self) -> list[str]:
        """Node names in id order."""
        return list(self._names)

    def add(self, name: str) -> int:
        """Add ``name`` if absent and return its id."""
        name = str(name)
        if name not in self._ids:
            self._ids[name] = len(self._names)
            self._names.append(name)
        return self._ids[name]

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._ids

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __getitem__(self, name: str) -> int:
        ids = self.encode([name])
        return int(ids[0])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NodeVocab) and self._names == other._names

    def __repr__(self) -> str:
        return f"NodeVocab({len(self)} nodes, unknown='{self.unknown}')"

    def encode(self, names: Iterable[str] | pd.Series | np.ndarray) -> np.ndarray:
        """Map names to ids, vectorised, applying the unknown-name rule.

        Args:
            names: Node names, shape ``[n]``.

        Returns:
            ``np.ndarray`` of int64 ids, shape ``[n]`` (``-1`` for ignored names).

        Raises:
            UnknownNodeError: A name is unknown and the rule is ``"error"``.

        """
        values = pd.Index(np.asarray(list(names), dtype=object).astype(str), dtype=object)
        ids = pd.Index(self._names, dtype=object).get_indexer(values)
        unseen = ids < 0
        if unseen.any():
            if self.unknown == "error":
                name = values[int(np.flatnonzero(unseen)[0])]
                raise UnknownNodeError(
                    "unknown node",
                    field="node",
                    expected=f"one of {self._names[:10]}" + ("..." if len(self) > 10 else ""),
                    found=repr(name),
                )
            if self.unknown == "add":
                for name in pd.unique(values[unseen]):
                    self.add(name)
                ids = pd.Index(self._names, dtype=object).get_indexer(values)
        return ids.astype(np.int64)

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Map ids back to names.

        Raises:
            GraphadInputError: An id is outside ``[0, len(vocab))``.

        """
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self._names):
                raise GraphadInputError(
                    "node id out of range",
                    field="ids",
                    expected=f"0..{len(self) - 1}",
                    found=i,
                )
            out.append(self._names[i])
        return out

    def to_dict(self) -> dict:
        """JSON-ready description (names in id order and the rule)."""
        return {"names": list(self._names), "unknown": self.unknown}

    @classmethod
    def from_dict(cls, state: dict) -> NodeVocab:
        """Inverse of :meth:`to_dict`."""
        return cls(state["names"], unknown=state.get("unknown", "error"))
