"""The ingestion report: what was read, and every recoverable problem, counted."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["IngestReport", "DROPPED_KINDS"]

_MAX_EXAMPLES = 3

#: Problems whose records are left out of the returned frame (one record per count):
#: ``n_records == n_kept + n_dropped`` holds for every reader (``docs/limits.md``).
DROPPED_KINDS = frozenset(
    {
        "malformed_row",
        "duplicate_span_id",
        "implausible_time",
        "blank_line",
        "continuation_line",
        "unparsed_log_line",
        "no_calls",
        "outside_time_range",
    }
)


@dataclass
class IngestReport:
    """Counts of the records read and of each recoverable problem met while reading.

    Recoverable problems are never silent: each kind (``"orphan_span"``,
    ``"duplicate_span_id"``, ``"negative_duration"``, ``"non_finite_value"``,
    ``"unparsed_log_line"``, ``"out_of_order"``, ...) is counted here with up to three
    example locations, and the documentation of the reader says how it was repaired.

    Args:
        source: The file(s) or frame the report is about.
        n_records: Records read from the input.
        n_kept: Records in the returned frame.

    Example:
        >>> r = IngestReport("spans.csv", n_records=10, n_kept=9)
        >>> r.add("duplicate_span_id", 1, "record 4")
        >>> r.counts["duplicate_span_id"]
        1
        >>> print(r)
        spans.csv: 10 records read, 9 kept; duplicate_span_id: 1 (e.g. record 4)

    """

    source: str = "<frame>"
    n_records: int = 0
    n_kept: int = 0
    counts: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, n: int = 1, example: str | None = None) -> None:
        """Count ``n`` problems of ``kind``; remember ``example`` (a location) if given."""
        if n <= 0:
            return
        self.counts[kind] += int(n)
        if example is not None:
            seen = self.examples.setdefault(kind, [])
            if len(seen) < _MAX_EXAMPLES:
                seen.append(example)

    def merge(self, other: IngestReport) -> IngestReport:
        """Add the counts of ``other`` into this report and return it."""
        self.n_records += other.n_records
        self.n_kept += other.n_kept
        self.counts.update(other.counts)
        for kind, items in other.examples.items():
            seen = self.examples.setdefault(kind, [])
            seen.extend(items[: max(0, _MAX_EXAMPLES - len(seen))])
        if other.source not in self.source.split(" + "):
            self.source = (
                other.source if self.source == "<frame>" else f"{self.source} + {other.source}"
            )
        return self

    def absorb(self, other: IngestReport) -> IngestReport:
        """Add the counts and examples of ``other`` (not its totals) and return ``self``."""
        self.counts.update(other.counts)
        for kind, items in other.examples.items():
            seen = self.examples.setdefault(kind, [])
            seen.extend(items[: max(0, _MAX_EXAMPLES - len(seen))])
        return self

    @property
    def n_dropped(self) -> int:
        """Records left out of the frame: the counts of :data:`DROPPED_KINDS`.

        Every reader keeps ``n_records == n_kept + n_dropped`` (log events binned with
        ``bin_ns`` count the events, not the bins).
        """
        return int(sum(n for kind, n in self.counts.items() if kind in DROPPED_KINDS))

    @property
    def n_problems(self) -> int:
        """Total number of recoverable problems counted."""
        return int(sum(self.counts.values()))

    def to_dict(self) -> dict:
        """Plain-JSON view of the report."""
        return {
            "source": self.source,
            "n_records": self.n_records,
            "n_kept": self.n_kept,
            "n_dropped": self.n_dropped,
            "counts": dict(self.counts),
            "examples": {k: list(v) for k, v in self.examples.items()},
        }

    def __str__(self) -> str:
        text = f"{self.source}: {self.n_records} records read, {self.n_kept} kept"
        for kind, n in sorted(self.counts.items()):
            examples = self.examples.get(kind)
            hint = f" (e.g. {', '.join(examples)})" if examples else ""
            text += f"; {kind}: {n}{hint}"
        return text
