"""The windows of a dynamic graph as a PyG dataset (for ``torch_geometric.loader``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch_geometric.data import Data, Dataset

from graphad.graph.dynamic import DynamicGraph

__all__ = ["WindowDataset"]


class WindowDataset(Dataset):
    """Windows of a :class:`~graphad.graph.DynamicGraph` (or a list of ``Data``) as a
    ``torch_geometric.data.Dataset``, held in memory.

    Batching with :class:`torch_geometric.loader.DataLoader` concatenates ``x [N, T, F]``
    into ``[sum N, T, F]``, offsets ``edge_index`` by the node counts, concatenates
    ``node_mask``/``y``/``rc_mask`` to ``[sum N]``, and ``window_start``/``window_end``/
    ``y_window`` to ``[B]``.

    Args:
        windows: The dynamic graph or windows.
        transform: Applied to each window when it is accessed (PyG convention).

    Example:
        >>> import torch
        >>> from torch_geometric.loader import DataLoader
        >>> w = Data(x=torch.zeros(3, 4, 2), edge_index=torch.tensor([[0], [1]]),
        ...          window_end=torch.tensor([10]))
        >>> batch = next(iter(DataLoader(WindowDataset([w, w]), batch_size=2)))
        >>> tuple(batch.x.shape), batch.edge_index.tolist(), batch.window_end.tolist()
        ((6, 4, 2), [[0, 3], [1, 4]], [10, 10])
    """

    def __init__(
        self,
        windows: DynamicGraph | Sequence[Data],
        transform: Callable[[Data], Data] | None = None,
    ) -> None:
        super().__init__(root=None, transform=transform)
        self.graph = windows if isinstance(windows, DynamicGraph) else None
        self._windows = list(windows)

    def len(self) -> int:
        """Number of windows."""
        return len(self._windows)

    def get(self, idx: int) -> Data:
        """The window at position ``idx``."""
        return self._windows[idx]
