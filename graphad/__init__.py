"""graphad: graph-centric anomaly detection and root-cause analysis for backend systems.

Telemetry (traces, metrics, logs) flows one way through the stages::

    ingest -> graph -> transforms -> nn -> detectors -> rca -> eval / viz

Each stage lives in its own sub-package and only imports the stages before it.
"""

from graphad import exceptions

__version__ = "0.1.0"

__all__ = ["__version__", "exceptions"]
