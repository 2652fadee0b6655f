"""The demo's bundled real fault: a compact excerpt of one Nezha OnlineBoutique fault.

The excerpt (``graphad/datasets/data/nezha_demo``, about 0.5 MB) keeps the Nezha layout, so
the ordinary :class:`~graphad.datasets.nezha.Nezha` loader reads it. It holds the fault of
2022-08-23 15:47:43 UTC (``cpu_contention`` injected into the ``shippingservice`` pod):
the metrics of every pod and the per-edge latency metrics (``source_50`` /
``destination_50``) from 60 minutes before to 10 minutes after the onset, 20 % of the
traces (whole traces) of the minutes upstream collected within 10 minutes before and 5
after the onset (a benchmark case's window), and the true call graph. See
``datasets/nezha_demo.md`` for how it was cut.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from graphad.datasets.base import FaultCase
from graphad.datasets.nezha import SOURCES, Nezha

__all__ = ["demo_root", "load_demo_case", "DEMO_CASE_ID"]

DEMO_CASE_ID = "2022-08-23T15:47:43"


def demo_root() -> Path:
    """Folder of the bundled excerpt (a Nezha root: ``rca_data/``, ``construct_data/``).

    Example:
        >>> (demo_root() / "rca_data").is_dir()
        True
    """
    return Path(str(resources.files("graphad.datasets").joinpath("data", "nezha_demo")))


def load_demo_case(
    before: str | int = "60min",
    after: str | int = "10min",
    sources: Iterable[str] = SOURCES,
) -> FaultCase:
    """Read the bundled real fault case.

    Args:
        before: Time kept before the onset (the excerpt holds 60 minutes of metrics).
        after: Time kept after the onset (the excerpt holds 10 minutes of metrics).
        sources: Which of ``"metrics"``, ``"spans"``, ``"logs"``, ``"edge_metrics"`` to
            read (default: all; the excerpt has no log file: upstream lost them for these
            minutes).

    Returns:
        The :class:`~graphad.datasets.base.FaultCase` (``root_cause == "shippingservice"``,
        ``fault_type == "cpu_contention"``) with pod-level frames, the call graph and the
        ingestion report.

    Example:
        >>> case = load_demo_case(sources=("metrics",))
        >>> case.root_cause, case.fault_type, case.metrics["node"].nunique()
        ('shippingservice', 'cpu_contention', 10)
    """
    return Nezha(demo_root()).case(DEMO_CASE_ID, before=before, after=after, sources=sources)
