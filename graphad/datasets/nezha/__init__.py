"""The Nezha fault-injection datasets (IntelligentDDS/Nezha, FSE 2023), any system.

Layout read (every CSV may be plain ``.csv`` or compressed, e.g. ``.csv.xz``)::

    <root>/rca_data/<day>/<day>-fault_list.json     faults: {hour: [{inject_time, ...}]}
    <root>/rca_data/<day>/metric/<pod>_metric.csv    one file per pod, one row per minute
    <root>/rca_data/<day>/metric/dependency.csv      true call graph (Source, Target)
    <root>/rca_data/<day>/metric/source_50.csv       per-edge RPC latency, one row per minute
    <root>/rca_data/<day>/metric/destination_50.csv  (see EDGE_METRIC_FILES)
    <root>/rca_data/<day>/trace/<HH_MM>_trace.csv    spans collected around minute HH:MM
    <root>/rca_data/<day>/log/<HH_MM>_log.csv        container logs (docker JSON lines)
    <root>/rca_data/<day>/traceid/<HH_MM>_traceid.csv  one file per *collected* minute
    <root>/construct_data/<day>/...                  the same for fault-free periods
    <root>/construct_data/root_cause_<tag>.json      finer labels per service and fault type

**Systems.** Day folders are grouped into systems by the set of services their metric files
name (pod file names mapped with :func:`graphad.graph.rules.k8s_service`). A system is
named after the upstream tag whose ``construct_data/root_cause_<tag>.json`` shares the most
services with it (``"hipster"`` for OnlineBoutique, ``"ts"`` for TrainTicket); without such
a file it is called ``"system-<first day>"``. Nothing here knows any service name.

**Time.** ``inject_time`` is UTC. The trace (and log) file ``HH_MM`` holds the spans of
about the minute *ending* near ``HH:MM`` (e.g. ``03_54`` spans 03:53:19-03:54:20), so a
case reads every file named from the minute of its start to one minute after its end and
keeps the spans that *start* inside ``[onset - before, onset + after)``. Upstream collected
traces only for a few minutes around each fault; the ``traceid/`` folder names the minutes
collected, and a collected minute whose trace or log file is absent is counted as missing
(``missing_trace_file`` / ``missing_log_file`` in the report, listed in ``meta``).

**Edge metrics.** The files of :data:`EDGE_METRIC_FILES` in a day's ``metric/`` folder
(``source_50`` / ``destination_50``: the median latency, in seconds, of the calls of one
call-graph edge in one minute, measured at the caller and at the callee) have columns
``time, timestamp, <caller>_<callee>, ...``. They become the ``edge_metrics`` frame
(``ts_ns, src, dst, metric, value``; the metric is the file stem). A column name is split
where both halves are known service names of the system (those of its metric files, its
fault list and its ``dependency.csv``); a column with no such split or with several is
left out and counted as ``unresolved_edge_column`` (the column named in the report). An
empty cell means no call in that minute: it is not a sample and is counted as
``no_calls``. A day without these files has no edge metrics.

**Logs.** The ``Log`` column holds docker's JSON line; its ``"log"`` field is the message,
itself often a JSON document whose ``"message"`` field is the text (path ``log.message``,
followed by :func:`graphad.ingest.read_logs`; a line without it keeps its text and is
counted as ``json_field_missing``). Templates are mined with Drain3, configured by the
dataset's ``log_template/drain3_<tag>.ini`` when present (graphad's defaults otherwise).

**Modules.** :mod:`~graphad.datasets.nezha.layout` (where the files are),
:mod:`~graphad.datasets.nezha.readers` (what is in them) and
:mod:`~graphad.datasets.nezha.dataset` (:class:`Nezha`: cases and periods as
:class:`~graphad.ingest.telemetry.FaultCase` / :class:`~graphad.ingest.telemetry.Telemetry`,
with the node rule ``"service"``: pods map to their service).
"""

from graphad.datasets.nezha.dataset import CASE_AFTER, CASE_BEFORE, NODE_RULE, Nezha
from graphad.datasets.nezha.layout import (
    EDGE_METRIC_FILES,
    NEZHA_SPAN_COLUMNS,
    SOURCES,
    SYSTEM_ALIASES,
)
from graphad.datasets.nezha.readers import metric_times

__all__ = [
    "Nezha",
    "NEZHA_SPAN_COLUMNS",
    "SYSTEM_ALIASES",
    "CASE_BEFORE",
    "CASE_AFTER",
    "NODE_RULE",
    "EDGE_METRIC_FILES",
    "SOURCES",
    "metric_times",
]
