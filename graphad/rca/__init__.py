"""Node scores + graph -> ranked root causes."""

from graphad.rca.result import RCAResult

__all__ = ["RCAResult"]
