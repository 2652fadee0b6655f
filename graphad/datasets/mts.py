"""Multivariate time-series entities in the ASD / InterFusion layout.

A folder holds, for every entity (server) ``<name>``:

* ``<name>_train.csv`` (or ``.csv.gz``, ``.csv.xz``, ...): one column per metric;
* ``<name>_test.csv``: the same metric columns plus a 0/1 ``label`` column;
* optionally ``<name>_interpretation_label.txt``: one line per anomaly segment,
  ``start-end:d1,d2,...`` where ``start`` and ``end`` are **0-based rows of the test file,
  both inclusive**, and ``d1, d2, ...`` are **1-based** indices of the metric columns that
  explain the segment. (Checked on all 12 ASD servers: the union of the segments
  ``[start, end]`` equals the rows whose ``label`` is 1, exactly.)
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from graphad.datasets.base import MTSEntity
from graphad.exceptions import GraphadInputError, ParseError, SchemaError
from graphad.ingest.io import read_csv_checked

__all__ = ["MultivariateCSV", "read_interpretation", "natural_key", "binary_labels"]

_SUFFIXES = ("", ".gz", ".xz", ".bz2", ".zst", ".zip")
_TRAIN = re.compile(r"^(?P<name>.+)_train\.csv(\.(gz|xz|bz2|zst|zip))?$")
_SEGMENT = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*:\s*([\d,\s]+?)\s*$")


def natural_key(text: str) -> list:
    """Sort key that orders embedded numbers numerically (``omi-2`` before ``omi-10``).

    Example:
        >>> sorted(["omi-10", "omi-2", "omi-1"], key=natural_key)
        ['omi-1', 'omi-2', 'omi-10']
    """
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def read_interpretation(
    path: str | Path, columns: list[str], num_rows: int | None = None
) -> list[tuple[int, int, list[str]]]:
    """Read an ``<entity>_interpretation_label.txt`` file.

    Args:
        path: The file; lines ``start-end:d1,d2,...`` (0-based inclusive rows, 1-based
            metric indices). Blank lines are skipped.
        columns: Metric column names; index ``d`` names ``columns[d - 1]``.
        num_rows: Number of test rows, to check that segments lie inside the test set.

    Returns:
        ``[(start, end, [column names])]`` in file order, both ends inclusive.

    Raises:
        ParseError: A line is not ``start-end:d1,...``, a segment is reversed or out of
            range, or a metric index does not exist.
    """
    segments = []
    text = Path(path).read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _SEGMENT.match(line)
        if match is None:
            raise ParseError(
                "unreadable anomaly segment",
                source=str(path),
                record=number,
                expected="'start-end:d1,d2,...'",
                found=repr(line),
            )
        start, end = int(match.group(1)), int(match.group(2))
        if end < start or (num_rows is not None and end >= num_rows):
            raise ParseError(
                "segment out of range",
                source=str(path),
                record=number,
                expected=f"0 <= start <= end < {num_rows}",
                found=f"{start}-{end}",
            )
        names = []
        for item in match.group(3).split(","):
            if not item.strip():
                continue
            index = int(item)
            if not 1 <= index <= len(columns):
                raise ParseError(
                    "metric index out of range",
                    source=str(path),
                    record=number,
                    expected=f"1-based index in 1..{len(columns)}",
                    found=index,
                )
            names.append(columns[index - 1])
        segments.append((start, end, names))
    return segments


class MultivariateCSV:
    r"""A folder of multivariate time-series entities (``<name>_train.csv`` / ``_test.csv``).

    Args:
        root: The folder (e.g. ``../shared/data/asd``).
        label_column: Name of the 0/1 label column of the test files.

    Raises:
        GraphadInputError: ``root`` is not a folder or holds no ``*_train.csv`` file.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> pd.DataFrame({"m1": [0.1, 0.2], "m2": [0.3, 0.4]}).to_csv(
        ...     root / "srv-1_train.csv", index=False)
        >>> pd.DataFrame({"m1": [0.1, 0.9], "m2": [0.3, 0.4], "label": [0, 1]}).to_csv(
        ...     root / "srv-1_test.csv", index=False)
        >>> _ = (root / "srv-1_interpretation_label.txt").write_text("1-1:1\n")
        >>> data = MultivariateCSV(root)
        >>> data.entities
        ['srv-1']
        >>> entity = data.load("srv-1")
        >>> entity.train.shape, entity.test_labels.tolist(), entity.interpretation
        ((2, 2), [0, 1], [(1, 1, ['m1'])])
    """

    def __init__(self, root: str | Path, label_column: str = "label") -> None:
        self.root = Path(root)
        self.label_column = label_column
        if not self.root.is_dir():
            raise GraphadInputError(
                "dataset folder not found",
                source=str(self.root),
                expected="a folder of <entity>_train.csv / <entity>_test.csv files",
                found="no such folder",
            )
        names = []
        for path in self.root.iterdir():
            match = _TRAIN.match(path.name)
            if match:
                names.append(match.group("name"))
        if not names:
            raise GraphadInputError(
                "no entity found",
                source=str(self.root),
                expected="files named <entity>_train.csv[.gz]",
                found=f"{sum(1 for _ in self.root.iterdir())} other files",
            )
        self._entities = sorted(set(names), key=natural_key)

    @property
    def entities(self) -> list[str]:
        """Entity names, in natural order (``omi-1, omi-2, ..., omi-12``)."""
        return list(self._entities)

    def __len__(self) -> int:
        return len(self._entities)

    def __iter__(self):
        for name in self._entities:
            yield self.load(name)

    def __repr__(self) -> str:
        return f"MultivariateCSV('{self.root}', entities={len(self)})"

    def _find(self, name: str, kind: str) -> Path | None:
        for suffix in _SUFFIXES:
            path = self.root / f"{name}_{kind}{suffix}"
            if path.is_file():
                return path
        return None

    def load(self, name: str) -> MTSEntity:
        """Read one entity.

        Args:
            name: Entity name from :attr:`entities`.

        Returns:
            An :class:`~graphad.datasets.base.MTSEntity`: ``train`` ``[T_train, N]`` and
            ``test`` ``[T_test, N]`` float frames with the same metric columns,
            ``test_labels`` ``[T_test]`` int, ``interpretation`` segments with column names
            (empty when the file is absent).

        Raises:
            GraphadInputError: Unknown entity, missing test file, or a value that is not a
                number.
            SchemaError: The test file lacks the label column or its metric columns differ
                from the training file's.
        """
        if name not in self._entities:
            raise GraphadInputError(
                "unknown entity",
                source=str(self.root),
                field="name",
                expected=f"one of {self._entities[:5]}{'...' if len(self) > 5 else ''}",
                found=repr(name),
            )
        train_path = self._find(name, "train.csv")
        test_path = self._find(name, "test.csv")
        if test_path is None:
            raise GraphadInputError(
                "test file missing",
                source=str(self.root / f"{name}_test.csv"),
                expected="a test file beside the training file",
                found="no such file",
            )
        train = _read_numeric(train_path)
        test_raw = read_csv_checked(test_path)
        if self.label_column not in test_raw.columns:
            raise SchemaError(
                "label column missing",
                source=str(test_path),
                field=self.label_column,
                expected=f"a 0/1 column '{self.label_column}'",
                found=f"columns {list(test_raw.columns)}",
            )
        labels = binary_labels(test_raw[self.label_column], str(test_path), self.label_column)
        test = _read_numeric(test_path, test_raw.drop(columns=[self.label_column]))
        if list(test.columns) != list(train.columns):
            raise SchemaError(
                "test metric columns differ from training columns",
                source=str(test_path),
                expected=f"columns {list(train.columns)}",
                found=f"columns {list(test.columns)}",
            )
        interpretation = []
        interp_path = self.root / f"{name}_interpretation_label.txt"
        if interp_path.is_file():
            interpretation = read_interpretation(interp_path, list(test.columns), len(test))
        return MTSEntity(name, train, test, labels, interpretation)


def _read_numeric(path: Path, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    frame = read_csv_checked(path) if frame is None else frame
    frame.columns = [str(c) for c in frame.columns]
    values = frame.apply(pd.to_numeric, errors="coerce")
    bad = values.isna().to_numpy() & frame.notna().to_numpy()
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        raise GraphadInputError(
            "value is not a number",
            source=str(path),
            record=row + 1,
            field=frame.columns[col],
            expected="a number",
            found=repr(frame.iat[row, col]),
        )
    return values.astype(np.float64)


def binary_labels(series: pd.Series, source: str, column: str, first_record: int = 1) -> np.ndarray:
    """A column of 0/1 labels as ``int64``, or :class:`GraphadInputError` naming the first
    other value.

    Args:
        series: The label column.
        source: Name of the input for messages.
        column: The column's name, for messages.
        first_record: Record number of the column's first row (2 for a CSV line count).

    Returns:
        ``[n]`` labels.
    """
    values = pd.to_numeric(series, errors="coerce")
    bad = ~values.isin([0, 1]).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise GraphadInputError(
            "label is not 0 or 1",
            source=source,
            record=row + first_record,
            field=column,
            expected="0 or 1",
            found=repr(series.iloc[row]),
        )
    return values.to_numpy().astype(np.int64)
