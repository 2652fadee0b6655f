"""The dynamic graph: a fixed node vocabulary and one PyG ``Data`` per time window."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
from torch_geometric.data import Data

from graphad._persist import atomic_torch_save, is_str_list, read_blob, require
from graphad.exceptions import GraphadInputError
from graphad.graph.vocab import NodeVocab
from graphad.graph.window import WindowSpec

__all__ = ["DynamicGraph"]

_FORMAT = "graphad.DynamicGraph"
_VERSION = 1


class DynamicGraph(Sequence):
    """A sequence of graph windows over a stable node set.

    Each window is a :class:`torch_geometric.data.Data` with (DESIGN.md data contract):

    * ``x``: ``[N, T, F]`` float node features over the window's ``T`` steps;
    * ``edge_index``: ``[2, E]`` caller -> callee edges observed in the window, and
      ``edge_attr``: ``[E, D]`` (e.g. calls, errors, mean latency);
    * ``node_mask``: ``[N]`` bool, whether the node was present in the window;
    * ``window_start``, ``window_end``: ``[1]`` int64 ns, the half-open range;
    * optional labels ``y`` ``[N]``, ``y_window`` ``[1]``, ``rc_mask`` ``[N]``;
    * ``node_names``: the vocabulary's names (one list shared by every window), so that a
      window, or a list of windows, taken out of the graph still knows its nodes. PyG
      batches a non-tensor attribute into a list per graph (``batch.node_names[i]``).

    Args:
        vocab: Node names <-> ids (``N = len(vocab)``).
        windows: The windows, in time order.
        feature_names: Names of the ``F`` node features.
        edge_feature_names: Names of the ``D`` edge features.
        spec: How the windows were cut, if known.
        meta: Free JSON-serialisable metadata (source files, granularity, ...).

    Example:
        >>> vocab = NodeVocab(["a", "b"])
        >>> w = Data(x=torch.zeros(2, 3, 1), edge_index=torch.tensor([[0], [1]]),
        ...          edge_attr=torch.ones(1, 1), node_mask=torch.ones(2, dtype=torch.bool),
        ...          window_start=torch.tensor([0]), window_end=torch.tensor([3]))
        >>> g = DynamicGraph(vocab, [w, w], ["value"], ["calls"])
        >>> len(g), g.num_nodes, g.num_steps, g.num_features, tuple(g.x.shape)
        (2, 2, 3, 1, (2, 2, 3, 1))
        >>> list(g[:1])[0].node_names
        ['a', 'b']

    """

    def __init__(
        self,
        vocab: NodeVocab,
        windows: list[Data],
        feature_names: Sequence[str],
        edge_feature_names: Sequence[str] = (),
        spec: WindowSpec | None = None,
        meta: dict | None = None,
    ) -> None:
        self.vocab = vocab
        self.windows = list(windows)
        names = list(vocab.names)
        for window in self.windows:
            if "node_names" not in window:
                window.node_names = names
        self.feature_names = list(feature_names)
        self.edge_feature_names = list(edge_feature_names)
        self.spec = spec
        self.meta = dict(meta or {})

    # -- sequence protocol -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return DynamicGraph(
                self.vocab,
                self.windows[index],
                self.feature_names,
                self.edge_feature_names,
                self.spec,
                self.meta,
            )
        return self.windows[index]

    def __iter__(self) -> Iterator[Data]:
        return iter(self.windows)

    def __repr__(self) -> str:
        return (
            f"DynamicGraph(windows={len(self)}, nodes={self.num_nodes}, "
            f"steps={self.num_steps}, features={self.num_features})"
        )

    # -- shapes ------------------------------------------------------------------------
    @property
    def num_nodes(self) -> int:
        """``N``."""
        return len(self.vocab)

    @property
    def num_steps(self) -> int:
        """``T`` (0 for an empty graph)."""
        return int(self.windows[0].x.shape[1]) if self.windows else 0

    @property
    def num_features(self) -> int:
        """``F``."""
        return len(self.feature_names)

    @property
    def x(self) -> torch.Tensor:
        """All node features stacked, ``[W, N, T, F]``."""
        if not self.windows:
            return torch.zeros(0, self.num_nodes, 0, self.num_features)
        return torch.stack([w.x for w in self.windows])

    @property
    def node_mask(self) -> torch.Tensor:
        """Presence of each node in each window, ``[W, N]`` bool."""
        if not self.windows:
            return torch.zeros(0, self.num_nodes, dtype=torch.bool)
        return torch.stack([w.node_mask for w in self.windows])

    @property
    def window_end(self) -> torch.Tensor:
        """Window end times, ``[W]`` int64 ns."""
        return (
            torch.cat([w.window_end.view(-1) for w in self.windows])
            if self.windows
            else torch.zeros(0, dtype=torch.long)
        )

    def edge_union(self) -> torch.Tensor:
        """The union of the edges of all windows, ``[2, E]``, sorted and unique."""
        if not self.windows:
            return torch.zeros(2, 0, dtype=torch.long)
        edges = torch.cat([w.edge_index for w in self.windows], dim=1)
        return torch.unique(edges, dim=1) if edges.numel() else edges

    def to_networkx(self, i: int):
        """Window ``i`` as a ``networkx.DiGraph`` (see :func:`graphad.graph.window_to_networkx`).

        Example:
            >>> vocab = NodeVocab(["a", "b"])
            >>> w = Data(x=torch.ones(2, 3, 1), edge_index=torch.tensor([[0], [1]]),
            ...          edge_attr=torch.tensor([[2.0, 0.0, 1.5]]))
            >>> g = DynamicGraph(vocab, [w], ["req"], ["calls", "errors", "latency"])
            >>> g.to_networkx(0).edges["a", "b"]
            {'calls': 2.0, 'errors': 0.0, 'latency': 1.5}
        """
        from graphad.graph.convert import window_to_networkx

        return window_to_networkx(
            self.windows[i],
            self.vocab,
            self.feature_names,
            self.edge_feature_names or ("calls", "errors", "latency"),
        )

    # -- persistence -------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the graph as tensors + JSON in one ``torch.save`` file (no pickled code).

        The file is written to a temporary file next to ``path`` and then moved over it,
        so that a reader (or another process saving to the same path) never sees a
        partial file.

        Args:
            path: Output file, conventionally ``*.pt``.

        Raises:
            GraphadInputError: A window attribute is not a tensor, or ``path`` cannot be
                written.

        """
        keys = sorted({k for w in self.windows for k in w.keys()} - {"node_names"})
        tensors = {}
        for key in keys:
            values = [w[key] if key in w else None for w in self.windows]
            if any(v is None for v in values) or not all(torch.is_tensor(v) for v in values):
                raise GraphadInputError(
                    "cannot save a window attribute that is not a tensor in every window",
                    field=key,
                )
            tensors[key] = values
        header = {
            "format": _FORMAT,
            "version": _VERSION,
            "vocab": self.vocab.to_dict(),
            "feature_names": self.feature_names,
            "edge_feature_names": self.edge_feature_names,
            "spec": self.spec.to_dict() if self.spec else None,
            "meta": self.meta,
        }
        atomic_torch_save({"header": json.dumps(header), "tensors": tensors}, path)

    @classmethod
    def load(cls, path: str | Path) -> DynamicGraph:
        """Read a graph written by :meth:`save`; never executes code from the file.

        The header and every tensor are checked before use: the format name, the
        vocabulary, the feature names, the window spec, and for every window that ``x``
        is ``[num_nodes, T, num_features]`` (one ``T`` for all), ``edge_index`` is
        ``[2, E]`` of node indices and ``edge_attr`` has one row per edge.

        Raises:
            GraphadInputError: The file is not a saved dynamic graph, or a field of it is
                missing or malformed (the message names the field).

        """
        source = str(path)
        header, tensors = read_blob(path, "graphad dynamic graph", "tensors")
        if header.get("format") != _FORMAT:
            raise GraphadInputError(
                "not a saved graphad dynamic graph",
                source=source,
                field="format",
                expected=_FORMAT,
                found=repr(header.get("format"))[:60],
            )
        require(header, "version", lambda v: v == _VERSION, f"version {_VERSION}", source)
        vocab_state = require(
            header,
            "vocab",
            lambda v: isinstance(v, dict) and is_str_list(v.get("names")),
            "an object with a list of node names",
            source,
        )
        try:
            vocab = NodeVocab.from_dict(vocab_state)
        except (GraphadInputError, TypeError, ValueError, KeyError) as error:
            raise GraphadInputError(
                "malformed field in the saved file",
                source=source,
                field="vocab",
                expected="a node vocabulary",
                found=str(error)[:120],
            ) from None
        features = require(header, "feature_names", is_str_list, "a list of names", source)
        edge_features = (
            require(
                header, "edge_feature_names", is_str_list, "a list of names", source, optional=True
            )
            or []
        )
        spec_state = require(
            header,
            "spec",
            lambda v: (
                isinstance(v, dict)
                and all(isinstance(v.get(k), int) and v[k] > 0 for k in ("size", "stride", "step"))
            ),
            "an object with positive integers size, stride, step",
            source,
            optional=True,
        )
        meta = require(
            header, "meta", lambda v: isinstance(v, dict), "an object", source, optional=True
        )
        windows = _checked_windows(tensors, len(vocab), len(features), len(edge_features), source)
        spec = WindowSpec.from_dict(spec_state) if spec_state else None
        return cls(vocab, windows, features, edge_features, spec, meta)


def _checked_windows(
    tensors: dict, n_nodes: int, n_features: int, n_edge_features: int, source: str
) -> list[Data]:
    """The windows of a saved graph, every tensor's type and shape checked."""
    lengths = set()
    for key, values in tensors.items():
        if not isinstance(values, list) or not all(torch.is_tensor(v) for v in values):
            raise GraphadInputError(
                "malformed field in the saved file",
                source=source,
                field=f"tensors.{key}",
                expected="a list of tensors, one per window",
                found=type(values).__name__,
            )
        lengths.add(len(values))
    if len(lengths) > 1:
        raise GraphadInputError(
            "ragged windows in the saved file",
            source=source,
            field="tensors",
            expected="as many tensors of each kind as windows",
            found=f"lists of lengths {sorted(lengths)}",
        )
    count = lengths.pop() if lengths else 0
    steps = set()
    windows = []
    for i in range(count):
        window = {k: v[i] for k, v in tensors.items()}
        x, edge_index = window.get("x"), window.get("edge_index")

        def bad(field: str, expected: str, found: object, i: int = i) -> GraphadInputError:
            return GraphadInputError(
                "malformed tensor in the saved file",
                source=source,
                record=f"window {i}",
                field=field,
                expected=expected,
                found=found,
            )

        if x is not None:
            if x.dim() != 3 or x.shape[0] != n_nodes or x.shape[2] != n_features:
                raise bad("x", f"shape [{n_nodes}, T, {n_features}]", list(x.shape))
            steps.add(x.shape[1])
        if edge_index is not None:
            if (
                edge_index.dim() != 2
                or edge_index.shape[0] != 2
                or edge_index.dtype not in (torch.int64, torch.int32)
            ):
                raise bad("edge_index", "an integer tensor [2, E]", list(edge_index.shape))
            if edge_index.numel() and (edge_index.min() < 0 or edge_index.max() >= n_nodes):
                raise bad("edge_index", f"node indices in [0, {n_nodes})", "others")
            attr = window.get("edge_attr")
            if attr is not None and (
                attr.dim() != 2
                or attr.shape[0] != edge_index.shape[1]
                or (n_edge_features and attr.shape[1] != n_edge_features)
            ):
                raise bad(
                    "edge_attr",
                    f"shape [{edge_index.shape[1]}, {n_edge_features}]",
                    list(attr.shape),
                )
        windows.append(Data(**window))
    if len(steps) > 1:
        raise GraphadInputError(
            "ragged windows in the saved file",
            source=source,
            field="x",
            expected="the same number of time steps in every window",
            found=sorted(steps),
        )
    return windows
