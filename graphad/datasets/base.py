"""Records that dataset loaders return: fault cases and multivariate-series entities.

:class:`FaultCase` lives in :mod:`graphad.ingest.telemetry` beside :class:`Telemetry` and
:class:`Incident`, and is re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from graphad.ingest.telemetry import FaultCase, Incident, Telemetry

__all__ = ["FaultCase", "Incident", "MTSEntity", "Telemetry"]


@dataclass
class MTSEntity:
    """One entity (server) of a multivariate time-series dataset (the ASD layout).

    Attributes:
        name: Entity name, e.g. ``"omi-1"``.
        train: ``[T_train, N]`` training values, one column per metric (node).
        test: ``[T_test, N]`` test values, same columns.
        test_labels: ``[T_test]`` int 0/1 point labels.
        interpretation: Anomaly segments with the metrics that explain them:
            ``(start, end, [column names])``, rows of ``test``, both ends inclusive.

    """

    name: str
    train: pd.DataFrame
    test: pd.DataFrame
    test_labels: np.ndarray
    interpretation: list[tuple[int, int, list[str]]] = field(default_factory=list)

    @property
    def node_labels(self) -> np.ndarray:
        """``[T_test, N]`` bool: the metric explains an anomaly at that step.

        Example:
            >>> e = MTSEntity("s", pd.DataFrame({"a": [0.0]*3, "b": [0.0]*3}),
            ...               pd.DataFrame({"a": [0.0]*3, "b": [0.0]*3}),
            ...               np.array([0, 1, 1]), [(1, 2, ["b"])])
            >>> e.node_labels.astype(int).tolist()
            [[0, 0], [0, 1], [0, 1]]

        """
        labels = np.zeros(self.test.shape, dtype=bool)
        columns = {name: i for i, name in enumerate(self.test.columns)}
        for start, end, names in self.interpretation:
            for name in names:
                labels[start : end + 1, columns[name]] = True
        return labels
