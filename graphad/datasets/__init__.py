"""Loaders of public datasets and the microservice simulator.

Real data: :class:`Nezha` (microservice fault cases: metrics, traces, logs, call graph),
:class:`MultivariateCSV` (the ASD server-metrics layout), HDFS sessions as graphs
(:func:`load_hdfs_sessions`, :func:`session_graph`) and BGL lines (:func:`load_bgl`).
Synthetic data: :func:`make_microservice_system`. The demo's real fault:
:func:`load_demo_case`.
"""

from graphad.datasets.base import FaultCase, Incident, MTSEntity, Telemetry
from graphad.datasets.demo import demo_root, load_demo_case
from graphad.datasets.logsets import (
    HDFSSessions,
    load_bgl,
    load_hdfs_labelled,
    load_hdfs_sessions,
    session_graph,
    session_graphs,
)
from graphad.datasets.mts import MultivariateCSV
from graphad.datasets.nezha import Nezha
from graphad.datasets.simulator import SimulatedSystem, make_microservice_system, make_topology

__all__ = [
    "FaultCase",
    "MTSEntity",
    "Incident",
    "Telemetry",
    "Nezha",
    "MultivariateCSV",
    "HDFSSessions",
    "load_hdfs_sessions",
    "load_hdfs_labelled",
    "session_graph",
    "session_graphs",
    "load_bgl",
    "SimulatedSystem",
    "make_microservice_system",
    "make_topology",
    "load_demo_case",
    "demo_root",
]
