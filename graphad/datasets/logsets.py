"""Log datasets: HDFS event-id sessions (as small graphs) and BGL lines with labels.

HDFS (loghub HDFS_v1 as pre-parsed by logdeep): one session (block) per line, a
space-separated sequence of event ids ``1..28``. :func:`session_graph` turns a session into
a PyG graph whose nodes are the event types and whose edges are the observed transitions.

BGL (loghub): one raw line per event; the first token is ``-`` for a normal line and an
alert category (``KERNDTLB``, ``APPREAD``, ...) otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data

from graphad.datasets.mts import binary_labels
from graphad.exceptions import GraphadInputError, ParseError
from graphad.ingest.io import read_csv_checked
from graphad.ingest.logs import read_event_sequences
from graphad.ingest.schema import require_columns

__all__ = [
    "HDFSSessions",
    "load_hdfs_sessions",
    "load_hdfs_labelled",
    "session_graph",
    "session_graphs",
    "load_bgl",
]


@dataclass
class HDFSSessions:
    """HDFS sessions as event-id sequences.

    Attributes:
        train: Normal training sessions (4,854 in logdeep's split).
        test_abnormal: Abnormal test sessions (16,837).
        test_normal: Normal test sessions, or ``None`` when the file is absent (it is
            missing upstream in the shared copy).
        num_events: Largest event id seen (28 for HDFS); ids are ``1..num_events``.
    """

    train: list[list[int]]
    test_abnormal: list[list[int]]
    test_normal: list[list[int]] | None
    num_events: int


def _hdfs_dir(root: str | Path, name: str) -> Path:
    root = Path(root)
    for folder in (root, root / "hdfs"):
        if (folder / name).is_file():
            return folder
    raise GraphadInputError(
        "HDFS session file not found",
        source=str(root),
        field=name,
        expected=f"'{name}' in the folder or in its 'hdfs/' subfolder",
        found="no such file",
    )


def _parse_sequence(tokens: Iterable[str], source: str, line: int) -> list[int]:
    out = []
    for token in tokens:
        if not token.isdigit() or int(token) < 1:
            raise ParseError(
                "event id is not a positive integer",
                source=source,
                record=line,
                expected="space-separated event ids >= 1",
                found=repr(token),
            )
        out.append(int(token))
    return out


def _read_sessions(path: Path) -> list[list[int]]:
    raw = read_event_sequences(path)
    return [_parse_sequence(seq, str(path), i + 1) for i, seq in enumerate(raw)]


def load_hdfs_sessions(root: str | Path) -> HDFSSessions:
    """Load logdeep's HDFS split: normal training sessions and abnormal test sessions.

    Args:
        root: Folder holding ``hdfs_train`` and ``hdfs_test_abnormal`` (and, if present,
            ``hdfs_test_normal``), or its parent (``../shared/data/hdfs``).

    Returns:
        :class:`HDFSSessions`.

    Raises:
        GraphadInputError: A file is missing.
        ParseError: A token is not a positive integer event id.
    """
    folder = _hdfs_dir(root, "hdfs_train")
    train = _read_sessions(folder / "hdfs_train")
    abnormal = _read_sessions(_hdfs_dir(root, "hdfs_test_abnormal") / "hdfs_test_abnormal")
    normal_path = folder / "hdfs_test_normal"
    normal = _read_sessions(normal_path) if normal_path.is_file() else None
    every = [train, abnormal] + ([normal] if normal else [])
    num_events = max((max(s) for part in every for s in part if s), default=0)
    return HDFSSessions(train, abnormal, normal, num_events)


def load_hdfs_labelled(
    root: str | Path, split: str = "train"
) -> tuple[list[list[int]], np.ndarray]:
    """Load the balanced labelled HDFS files ``robust_log_{train,valid}.csv``.

    Args:
        root: Folder holding the files, or its parent.
        split: ``"train"`` or ``"valid"``.

    Returns:
        ``(sequences, labels)``: event-id lists and an int array ``[n]`` of 0/1 labels.

    Raises:
        GraphadInputError: Unknown split or missing file.
        SchemaError: The file lacks the ``Sequence`` or ``label`` column.
        ParseError: A sequence holds a token that is not an event id.
    """
    if split not in ("train", "valid"):
        raise GraphadInputError(
            "unknown split", field="split", expected="'train' or 'valid'", found=repr(split)
        )
    name = f"robust_log_{split}.csv"
    path = _hdfs_dir(root, name) / name
    frame = read_csv_checked(path, dtype={"Sequence": str})
    require_columns(frame, ("Sequence", "label"), str(path))
    sequences = [
        _parse_sequence(str(text).split(), str(path), i + 2)
        for i, text in enumerate(frame["Sequence"].fillna(""))
    ]
    return sequences, binary_labels(frame["label"], str(path), "label", first_record=2)


def session_graph(sequence: Sequence[int], num_events: int, label: int | None = None) -> Data:
    """Turn one event-id session into a graph over the event types.

    Node ``i`` is event id ``i + 1``. Every consecutive pair ``(a, b)`` of the session is a
    transition ``a -> b`` (a repeated event gives a self-loop); each distinct transition is
    one edge whose attribute is how often it occurred.

    Args:
        sequence: Event ids in ``1..num_events``, in order.
        num_events: Number of event types (nodes).
        label: Optional session label (0 normal, 1 anomalous), stored as ``y``.

    Returns:
        ``Data`` with ``x`` ``[num_events, 2]`` (event count, first position as
        ``(index + 1) / len`` or 0 when absent), ``edge_index`` ``[2, E]`` sorted by
        (source, target), ``edge_attr`` ``[E, 1]`` transition counts, ``node_mask``
        ``[num_events]`` (event present), ``num_nodes = num_events`` and ``y`` ``[1]`` when
        a label is given.

    Raises:
        GraphadInputError: An id is outside ``1..num_events``.

    Example:
        >>> g = session_graph([2, 2, 1, 2], num_events=3)
        >>> g.x[:, 0].tolist(), g.x[:, 1].tolist()
        ([1.0, 3.0, 0.0], [0.75, 0.25, 0.0])
        >>> g.edge_index.tolist(), g.edge_attr.view(-1).tolist()
        ([[0, 1, 1], [1, 0, 1]], [1.0, 1.0, 1.0])
    """
    ids = np.asarray(sequence, dtype=np.int64).reshape(-1)
    if ids.size and (ids.min() < 1 or ids.max() > num_events):
        bad = ids[(ids < 1) | (ids > num_events)][0]
        raise GraphadInputError(
            "event id out of range",
            field="sequence",
            expected=f"ids in 1..{num_events}",
            found=int(bad),
        )
    nodes = ids - 1
    counts = np.bincount(nodes, minlength=num_events).astype(np.float32)
    first = np.zeros(num_events, dtype=np.float32)
    if ids.size:
        unique, index = np.unique(nodes, return_index=True)
        first[unique] = (index + 1) / ids.size
    if ids.size > 1:
        pairs = nodes[:-1] * num_events + nodes[1:]
        keys, weights = np.unique(pairs, return_counts=True)
        edge_index = np.stack([keys // num_events, keys % num_events])
    else:
        weights = np.zeros(0, dtype=np.int64)
        edge_index = np.zeros((2, 0), dtype=np.int64)
    data = Data(
        x=torch.from_numpy(np.stack([counts, first], axis=1)),
        edge_index=torch.from_numpy(edge_index.astype(np.int64)),
        edge_attr=torch.from_numpy(weights.astype(np.float32)).view(-1, 1),
        node_mask=torch.from_numpy(counts > 0),
        num_nodes=num_events,
    )
    if label is not None:
        data.y = torch.tensor([int(label)], dtype=torch.long)
    return data


def session_graphs(
    sequences: Iterable[Sequence[int]],
    num_events: int,
    labels: Iterable[int] | None = None,
) -> list[Data]:
    """:func:`session_graph` over many sessions (ready for the PyG ``DataLoader``).

    Args:
        sequences: Sessions of event ids.
        num_events: Number of event types.
        labels: Optional per-session labels, same length as ``sequences``.

    Returns:
        One ``Data`` per session.

    Example:
        >>> from torch_geometric.loader import DataLoader
        >>> graphs = session_graphs([[1, 2], [2, 2, 2]], num_events=2, labels=[0, 1])
        >>> batch = next(iter(DataLoader(graphs, batch_size=2)))
        >>> batch.num_graphs, batch.y.tolist(), batch.edge_index.tolist()
        (2, [0, 1], [[0, 3], [1, 3]])
    """
    sequences = list(sequences)
    if labels is None:
        return [session_graph(s, num_events) for s in sequences]
    labels = list(labels)
    if len(labels) != len(sequences):
        raise GraphadInputError(
            "labels and sequences differ in length",
            field="labels",
            expected=f"{len(sequences)} labels",
            found=len(labels),
        )
    return [session_graph(s, num_events, y) for s, y in zip(sequences, labels, strict=False)]


_BGL_FIELDS = (
    "alert",
    "epoch",
    "date",
    "node",
    "time",
    "node_repeat",
    "type",
    "component",
    "level",
    "message",
)


def load_bgl(path: str | Path) -> pd.DataFrame:
    """Read raw BGL lines (loghub format) with their per-line labels.

    A line is ``LABEL EPOCH DATE NODE TIME NODE TYPE COMPONENT LEVEL CONTENT``; ``LABEL`` is
    ``-`` for a normal line and an alert category otherwise. The timestamp is the epoch
    second plus the microseconds of the ``TIME`` field (whose clock is local time, so only
    its fraction is used).

    Args:
        path: The log file (e.g. ``loghub_2k/BGL/BGL_2k.log``; compressed files are read
            as they are).

    Returns:
        Frame with ``ts_ns`` (int64 ns UTC), ``node``, ``message``, ``label`` (1 = alert),
        ``alert`` (category, ``""`` when normal), ``component``, ``level``; one row per line
        in file order.

    Raises:
        ParseError: A line has fewer than the nine header fields or an unreadable epoch.
    """
    path = Path(path)
    frame = read_csv_checked(
        path,
        sep="\x01",
        header=None,
        names=["line"],
        dtype=str,
        quoting=3,
        skip_blank_lines=True,
        keep_default_na=False,
        engine="c",
    )
    lines = frame["line"].str.rstrip("\r")
    parts = lines.str.split(" ", n=9, expand=True)
    if parts.shape[1] < 9 or parts.iloc[:, :9].isna().any().any():
        short = parts.iloc[:, :9].isna().any(axis=1).to_numpy() if parts.shape[1] >= 9 else None
        row = int(np.flatnonzero(short)[0]) if short is not None else 0
        raise ParseError(
            "line has too few fields",
            source=str(path),
            record=row + 1,
            expected="LABEL EPOCH DATE NODE TIME NODE TYPE COMPONENT LEVEL CONTENT",
            found=repr(lines.iloc[row]),
        )
    parts = parts.reindex(columns=range(10)).fillna("")
    parts.columns = list(_BGL_FIELDS)
    epoch = pd.to_numeric(parts["epoch"], errors="coerce")
    if epoch.isna().any():
        row = int(np.flatnonzero(epoch.isna().to_numpy())[0])
        raise ParseError(
            "unreadable epoch",
            source=str(path),
            record=row + 1,
            field="epoch",
            expected="epoch seconds",
            found=repr(parts["epoch"].iloc[row]),
        )
    micros = pd.to_numeric(
        parts["time"].str.extract(r"\.(\d{1,6})$")[0].str.ljust(6, "0"), errors="coerce"
    ).fillna(0)
    alert = parts["alert"].where(parts["alert"] != "-", "")
    return pd.DataFrame(
        {
            "ts_ns": epoch.to_numpy(np.int64) * 1_000_000_000 + micros.to_numpy(np.int64) * 1000,
            "node": parts["node"].to_numpy(object),
            "message": parts["message"].to_numpy(object),
            "label": (alert != "").to_numpy().astype(np.int64),
            "alert": alert.to_numpy(object),
            "component": parts["component"].to_numpy(object),
            "level": parts["level"].to_numpy(object),
        }
    )
