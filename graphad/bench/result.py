"""The result type of every benchmark runner: :class:`BenchResult` and :func:`format_table`."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from graphad.exceptions import GraphadInputError

__all__ = ["BenchResult", "format_table"]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


@dataclasses.dataclass
class BenchResult:
    """Outcome of a benchmark run.

    Attributes:
        kind: ``"rca"``, ``"mts"`` or ``"logs"``.
        records: One plain dict per (case, ranker) or (entity, detector) run.
        tables: Summary tables by name (e.g. ``"overall"``, ``"by_system"``,
            ``"by_fault_type"``; ``"per_entity"``, ``"mean"``).
        config: The settings of the run (JSON-able).

    Example:
        >>> r = BenchResult("rca", [{"ranker": "a", "rank": 1}],
        ...                 {"overall": pd.DataFrame({"ranker": ["a"], "AC@1": [1.0]})})
        >>> r.to_frame().shape, sorted(r.to_dict())
        ((1, 2), ['config', 'kind', 'records', 'tables'])
        >>> print(r.format())
        overall
        ranker   AC@1
        ------  -----
        a       1.000
    """

    kind: str
    records: list[dict]
    tables: dict[str, pd.DataFrame]
    config: dict = dataclasses.field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """All records as one DataFrame (one row per run)."""
        return pd.DataFrame(self.records)

    def to_dict(self) -> dict:
        """Plain-JSON view: kind, config, records and every table as a list of rows."""
        return {
            "kind": self.kind,
            "config": _jsonable(self.config),
            "records": _jsonable(self.records),
            "tables": {
                name: _jsonable(table.to_dict(orient="records"))
                for name, table in self.tables.items()
            },
        }

    def to_json(self, path: str | Path | None = None, indent: int = 2) -> str:
        """Serialise :meth:`to_dict` as JSON; also write it to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, data: Mapping) -> BenchResult:
        """Rebuild a result from :meth:`to_dict` output (e.g. a JSON file's content)."""
        try:
            tables = {name: pd.DataFrame(rows) for name, rows in data["tables"].items()}
            return cls(
                str(data["kind"]), list(data["records"]), tables, dict(data.get("config", {}))
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise GraphadInputError(
                "not a benchmark result",
                field=str(error),
                expected="keys 'kind', 'records', 'tables'",
            ) from error

    def format(self, digits: int = 3) -> str:
        """Every table as aligned text, each under its name."""
        return "\n\n".join(
            format_table(table, digits=digits, title=name) for name, table in self.tables.items()
        )

    def __str__(self) -> str:
        return self.format()


def _cell(value: Any, digits: int) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            return "-"
        return f"{float(value):.{digits}f}"
    if value is None:
        return "-"
    return str(value)


def format_table(
    table: pd.DataFrame | BenchResult, digits: int = 3, title: str | None = None
) -> str:
    """Render a table as aligned plain text (numbers right-aligned, text left-aligned).

    Args:
        table: A summary table, or a :class:`BenchResult` (all its tables).
        digits: Decimals of floats; missing values print as ``-``.
        title: Optional line printed above the table.

    Returns:
        The text, without a trailing newline.

    Example:
        >>> print(format_table(pd.DataFrame({"ranker": ["pagerank", "random"],
        ...                                  "AC@1": [0.9, 0.1], "cases": [56, 56]})))
        ranker     AC@1  cases
        --------  -----  -----
        pagerank  0.900     56
        random    0.100     56
    """
    if isinstance(table, BenchResult):
        return table.format(digits)
    columns = [str(c) for c in table.columns]
    cells = [[_cell(v, digits) for v in row] for row in table.itertuples(index=False)]
    numeric = [
        pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
        for c in table.columns
    ]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    lines = [] if title is None else [title]
    lines.append(line(columns))
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(line(row) for row in cells)
    return "\n".join(lines)
