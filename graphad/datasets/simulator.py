r"""A microservice system simulator: topology, traffic, telemetry and injected faults.

The simulated system is a directed acyclic call graph: a front door (``frontend``) calls
first-level services, which fan out into trees of further services, and a few shared leaf
services (a ``database``, a ``cache``, ...) are called from many places. Edge
:math:`s \to c` carries a call probability :math:`p_{sc}` (expected calls of ``c`` per
request to ``s``).

Per time step :math:`t` and service :math:`s`:

* traffic: :math:`r_{\text{front}}(t) = r_0 (1 + a \sin(2\pi t / 24\text{h} + \phi))
  \cdot \varepsilon_t` (daily seasonality, log-normal noise), and
  :math:`r_c = \sum_s p_{sc} r_s`;
* latency: own processing time :math:`o_s(t)` (log-normal around a per-service median),
  plus the calls it makes, in sequence: :math:`L_s = o_s + \sum_c p_{sc} L_c`; p99 is
  :math:`L_s` scaled by the log-normal tail of :math:`o_s` and the callees' p99;
* errors: :math:`E_s = 1 - (1 - e_s) \prod_c (1 - p_{sc} q E_c)` with own error rate
  :math:`e_s` and propagation probability :math:`q`;
* cpu grows with traffic, memory is flat with noise.

Faults, injected into one service between ``fault_start`` and ``fault_start +
fault_duration``: ``"latency"`` adds delay to its own time; ``"errors"`` raises its own
error rate; ``"cpu"`` saturates its CPU and multiplies its own time; ``"memory"`` makes its
memory grow linearly and slows it down as it grows. Because callers wait for (and fail
with) their callees, latency and errors add up along every call path to the front door,
while services that do not (transitively) call the faulty one stay normal.

Spans are sampled traces that follow the same model; logs are counts of a few templates per
service and step (error templates appear with errors, timeouts with CPU saturation,
garbage-collection pauses with a memory leak).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

from graphad.datasets.base import FaultCase
from graphad.exceptions import GraphadInputError
from graphad.graph.window import parse_duration
from graphad.ingest.report import IngestReport
from graphad.ingest.schema import SPAN_COLUMNS

__all__ = [
    "SimulatedSystem",
    "make_microservice_system",
    "make_topology",
    "FAULT_TYPES",
    "SIMULATED_METRICS",
]

FAULT_TYPES = ("latency", "errors", "cpu", "memory")
SIMULATED_METRICS = ("cpu", "memory", "latency_p50", "latency_p99", "request_rate", "error_rate")
_NAMES = (
    "auth",
    "user",
    "cart",
    "order",
    "payment",
    "catalog",
    "search",
    "inventory",
    "shipping",
    "email",
    "recommendation",
    "review",
    "pricing",
    "notification",
    "ads",
    "currency",
    "checkout",
    "profile",
    "media",
    "rating",
)
_SHARED = ("database", "cache", "queue", "storage")
_DAY_NS = 86_400 * 10**9
_Z99 = 2.326


@dataclass
class SimulatedSystem:
    """Everything a simulation produced.

    Attributes:
        spans: Canonical spans of the sampled traces (``service`` = entity name).
        metrics: Canonical metrics, one sample per entity, metric and step.
        logs: Canonical log events (template counts per entity and step).
        call_graph: Service call graph, caller -> callee; edge attribute ``p`` is the
            expected number of calls per request.
        case: The injected fault with its truth (and the frames above).
        services: Service names, front door first.
        entities: Entity name of each service (the service itself, or a pod-like name).
        start_ns: Start of the simulated range (ns UTC).
        end_ns: End of the simulated range (exclusive).
        step_ns: Metric step.
        params: The arguments and the effective fault parameters.
    """

    spans: pd.DataFrame
    metrics: pd.DataFrame
    logs: pd.DataFrame
    call_graph: nx.DiGraph
    case: FaultCase
    services: list[str]
    entities: dict[str, str]
    start_ns: int
    end_ns: int
    step_ns: int
    params: dict = field(default_factory=dict)


def _service_names(n_services: int, n_shared: int) -> list[str]:
    names = ["frontend"]
    middle = n_services - 1 - n_shared
    for i in range(middle):
        base = _NAMES[i % len(_NAMES)]
        names.append(f"{base}service" if i < len(_NAMES) else f"{base}service{i // len(_NAMES)}")
    for i in range(n_shared):
        base = _SHARED[i % len(_SHARED)]
        names.append(base if i < len(_SHARED) else f"{base}{i // len(_SHARED)}")
    return names


def make_topology(
    n_services: int = 10, random_state: int | None = 0, max_depth: int = 3
) -> nx.DiGraph:
    """A random but realistic service call graph (a DAG rooted at ``frontend``).

    The front door calls a few first-level services; each further service is called by one
    earlier service of depth below ``max_depth`` (fan-out trees); the shared leaves
    (``database``, ``cache``, ...) are called by several services each.

    Args:
        n_services: Number of services (>= 2).
        random_state: Seed.
        max_depth: Largest call depth of a non-shared service below the front door.

    Returns:
        ``nx.DiGraph`` with node attribute ``depth`` and edge attribute ``p`` (expected
        calls per request, in ``(0, 1.5]``).

    Example:
        >>> g = make_topology(8, random_state=1)
        >>> g.number_of_nodes(), nx.is_directed_acyclic_graph(g), g.in_degree("frontend")
        (8, True, 0)
    """
    if n_services < 2:
        raise GraphadInputError(
            "too few services", field="n_services", expected="at least 2", found=n_services
        )
    rng = np.random.default_rng(random_state)
    n_shared = min(len(_SHARED), max(1, n_services // 5)) if n_services >= 3 else 0
    names = _service_names(n_services, n_shared)
    middle = names[1 : n_services - n_shared]
    shared = names[n_services - n_shared :]
    graph = nx.DiGraph()
    graph.add_node("frontend", depth=0)
    for i, name in enumerate(middle):
        candidates = [n for n, d in graph.nodes(data="depth") if d < max_depth]
        if i < max(1, len(middle) // 3):
            parent = "frontend"  # a few first-level services
        else:
            depth = np.array([graph.nodes[n]["depth"] for n in candidates], dtype=float)
            weight = 1.0 / (1.0 + depth)
            parent = candidates[rng.choice(len(candidates), p=weight / weight.sum())]
        graph.add_node(name, depth=graph.nodes[parent]["depth"] + 1)
        graph.add_edge(parent, name, p=float(rng.uniform(0.4, 1.0)))
    callers = [n for n in graph.nodes if n != "frontend"] or ["frontend"]
    for name in shared:
        k = int(min(len(callers), rng.integers(2, 5)))
        chosen = rng.choice(len(callers), size=k, replace=False)
        graph.add_node(name, depth=max(graph.nodes[callers[j]]["depth"] for j in chosen) + 1)
        for j in sorted(chosen):
            graph.add_edge(callers[j], name, p=float(rng.uniform(0.5, 1.5)))
    return graph


def _pod_name(service: str, rng: np.random.Generator) -> str:
    alphabet = np.array(list("bcdfghjklmnpqrstvwxz2456789"))
    return f"{service}-{''.join(rng.choice(alphabet, 10))}-{''.join(rng.choice(alphabet, 5))}"


@dataclass
class _Model:
    """Per-service, per-step quantities (arrays ``[S, T]``)."""

    rate: np.ndarray  # requests per second
    own: np.ndarray  # median own time, ms
    own_error: np.ndarray
    latency: np.ndarray  # p50 total, ms
    latency_p99: np.ndarray
    error: np.ndarray  # total error rate
    cpu: np.ndarray
    memory: np.ndarray
    leak: np.ndarray  # memory-leak progress in [0, 1]


def _fault_profile(kind: str, magnitude: float, active: np.ndarray, progress: np.ndarray):
    """Multiplicative / additive effects of a fault on its service, per step."""
    own_mult = np.ones_like(progress)
    own_add = np.zeros_like(progress)
    err_add = np.zeros_like(progress)
    cpu_set = np.full_like(progress, np.nan)
    mem_mult = np.ones_like(progress)
    if kind == "latency":
        own_add = np.where(active, magnitude, 0.0)
    elif kind == "errors":
        err_add = np.where(active, magnitude, 0.0)
    elif kind == "cpu":
        own_mult = np.where(active, magnitude, 1.0)
        cpu_set = np.where(active, 97.0, np.nan)
    elif kind == "memory":
        mem_mult = np.where(active, 1.0 + magnitude * progress, 1.0)
        own_mult = np.where(active, 1.0 + 2.0 * magnitude * progress**2, 1.0)
    return own_mult, own_add, err_add, cpu_set, mem_mult


_DEFAULT_MAGNITUDE = {"latency": 300.0, "errors": 0.3, "cpu": 4.0, "memory": 2.0}


def _simulate(
    graph: nx.DiGraph,
    services: list[str],
    times: np.ndarray,
    start_ns: int,
    fault: dict,
    rng: np.random.Generator,
    base_rate: float,
    noise: float,
) -> _Model:
    n, t = len(services), len(times)
    index = {s: i for i, s in enumerate(services)}
    phase = rng.uniform(0, 2 * np.pi)
    season = 1.0 + 0.5 * np.sin(2 * np.pi * (times - start_ns) / _DAY_NS + phase)
    front = base_rate * season * rng.lognormal(0.0, noise, t)
    rate = np.zeros((n, t))
    rate[0] = front
    order = list(nx.topological_sort(graph))
    for s in order:
        for c in graph.successors(s):
            rate[index[c]] += graph.edges[s, c]["p"] * rate[index[s]]
    base_own = rng.lognormal(np.log(8.0), 0.5, n)  # ms
    own = base_own[:, None] * rng.lognormal(0.0, noise, (n, t))
    own_error = np.clip(
        rng.uniform(0.0005, 0.003, n)[:, None] * rng.lognormal(0.0, noise, (n, t)), 0, 1
    )
    base_cpu = rng.uniform(10.0, 35.0, n)
    cpu = np.clip(
        base_cpu[:, None] * (0.6 + 0.4 * rate / rate.mean(axis=1, keepdims=True))
        + rng.normal(0.0, 1.0, (n, t)),
        0.0,
        100.0,
    )
    memory = rng.uniform(120.0, 900.0, n)[:, None] * rng.lognormal(0.0, noise / 3, (n, t))
    leak = np.zeros((n, t))
    f = index[fault["service"]]
    active = (times >= fault["start_ns"]) & (times < fault["end_ns"])
    span = max(fault["end_ns"] - fault["start_ns"], 1)
    progress = np.clip((times - fault["start_ns"]) / span, 0.0, 1.0) * active
    own_mult, own_add, err_add, cpu_set, mem_mult = _fault_profile(
        fault["type"], fault["magnitude"], active, progress
    )
    own[f] = own[f] * own_mult + own_add
    own_error[f] = np.clip(own_error[f] + err_add, 0.0, 1.0)
    cpu[f] = np.where(np.isnan(cpu_set), cpu[f], cpu_set + rng.normal(0, 0.5, t).clip(-2, 2))
    memory[f] = memory[f] * mem_mult
    if fault["type"] == "memory":
        leak[f] = progress
    latency = own.copy()
    tail = own * np.exp(_Z99 * 0.35)
    error = own_error.copy()
    q = fault["propagation"]
    for s in reversed(order):
        i = index[s]
        keep = 1.0 - own_error[i]
        for c in graph.successors(s):
            p, j = graph.edges[s, c]["p"], index[c]
            latency[i] += p * latency[j]
            tail[i] += p * latency[j] + (tail[j] - latency[j])
            keep = keep * (1.0 - np.clip(p * q * error[j], 0.0, 1.0))
        error[i] = 1.0 - keep
    return _Model(rate, own, own_error, latency, tail, error, cpu, memory, leak)


def _metrics_frame(model: _Model, entities: list[str], times: np.ndarray) -> pd.DataFrame:
    values = {
        "cpu": model.cpu,
        "memory": model.memory,
        "latency_p50": model.latency,
        "latency_p99": np.maximum(model.latency_p99, model.latency),
        "request_rate": model.rate,
        "error_rate": model.error,
    }
    n, t = model.rate.shape
    frames = []
    for name in SIMULATED_METRICS:
        frames.append(
            pd.DataFrame(
                {
                    "ts_ns": np.tile(times, n),
                    "node": np.repeat(np.array(entities, dtype=object), t),
                    "metric": name,
                    "value": values[name].reshape(-1).astype(np.float64),
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values(["ts_ns", "node", "metric"], kind="stable").reset_index(drop=True)


def _logs_frame(
    graph: nx.DiGraph,
    services: list[str],
    entities: list[str],
    model: _Model,
    times: np.ndarray,
    step_s: float,
    rng: np.random.Generator,
    q: float,
) -> pd.DataFrame:
    index = {s: i for i, s in enumerate(services)}
    rows_ts, rows_node, rows_tpl, rows_count = [], [], [], []

    def emit(i: int, template: str, expected: np.ndarray) -> None:
        counts = rng.poisson(np.clip(expected, 0.0, None))
        keep = counts > 0
        rows_ts.append(times[keep])
        rows_node.append(np.full(keep.sum(), entities[i], dtype=object))
        rows_tpl.append(np.full(keep.sum(), template, dtype=object))
        rows_count.append(counts[keep])

    for s in services:
        i = index[s]
        requests = model.rate[i] * step_s
        emit(i, f"{s}: handled request <*> in <*> ms", 0.02 * requests)
        emit(i, f"{s}: health check ok", np.full(len(times), 2.0))
        emit(
            i,
            f"{s}: internal error while processing request <*>: <*>",
            requests * model.own_error[i],
        )
        for c in graph.successors(s):
            p = graph.edges[s, c]["p"]
            emit(i, f"{s}: call to {c} failed: <*>", requests * p * q * model.error[index[c]])
        slow = np.clip(model.own[i] / np.median(model.own[i]) - 2.0, 0.0, None)
        emit(i, f"{s}: request <*> timed out after <*> ms", 0.01 * requests * slow)
        emit(i, f"{s}: GC pause of <*> ms", 20.0 * model.leak[i] ** 2)
    frame = pd.DataFrame(
        {
            "ts_ns": np.concatenate(rows_ts).astype(np.int64),
            "node": np.concatenate(rows_node),
            "template": np.concatenate(rows_tpl),
            "count": np.concatenate(rows_count).astype(np.int64),
        }
    )
    return frame.sort_values(["ts_ns", "node", "template"], kind="stable").reset_index(drop=True)


def _spans_frame(
    graph: nx.DiGraph,
    services: list[str],
    entities: list[str],
    model: _Model,
    times: np.ndarray,
    step_ns: int,
    traces_per_step: float,
    rng: np.random.Generator,
    q: float,
) -> pd.DataFrame:
    index = {s: i for i, s in enumerate(services)}
    children = {s: [(c, graph.edges[s, c]["p"]) for c in graph.successors(s)] for s in services}
    rows: list[tuple] = []
    season = model.rate[0] / model.rate[0].mean()
    counts = rng.poisson(traces_per_step * season)
    span_counter = [0]

    def visit(s: str, start: float, t: int, trace: str, parent: str) -> tuple[float, bool]:
        i = index[s]
        span_counter[0] += 1
        span_id = f"{span_counter[0]:016x}"
        own = model.own[i, t] * rng.lognormal(0.0, 0.35)
        cursor = start + 0.3 * own * 1e6
        failed = False
        for c, p in children[s]:
            calls = int(p) + (rng.random() < p - int(p))
            for _ in range(calls):
                duration, error = visit(c, cursor, t, trace, span_id)
                cursor += duration
                failed |= error and rng.random() < q
        end = cursor + 0.7 * own * 1e6
        failed |= rng.random() < model.own_error[i, t]
        rows.append(
            (
                trace,
                span_id,
                parent,
                entities[i],
                f"{s}/handle",
                int(start),
                int(end - start),
                int(failed),
            )
        )
        return end - start, failed

    offsets = rng.random(int(counts.sum())) * step_ns
    k = 0
    for t, n in enumerate(counts):
        for _ in range(n):
            trace = f"{rng.integers(0, 2**63):016x}{k:016x}"
            visit(services[0], float(times[t] + offsets[k]), t, trace, "")
            k += 1
    columns = [c for c in SPAN_COLUMNS if c != "kind"]  # the canonical order of ``rows``
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame.astype({c: object for c in columns[:5]})
    frame["start_ns"] = frame["start_ns"].astype(np.int64)
    frame["duration_ns"] = frame["duration_ns"].astype(np.int64)
    frame["status"] = frame["status"].astype(np.int8)
    frame["kind"] = "server"
    frame["kind"] = frame["kind"].astype(object)
    return frame.sort_values("start_ns", kind="stable").reset_index(drop=True)


def make_microservice_system(
    n_services: int = 10,
    duration: str | int = "3h",
    step: str | int = "1min",
    fault_service: str | None = None,
    fault_type: str = "latency",
    fault_start: str | int | None = None,
    fault_duration: str | int = "20min",
    fault_magnitude: float | None = None,
    *,
    start: str | int = "2024-01-01T00:00:00Z",
    base_rate: float = 50.0,
    traces_per_step: float = 15.0,
    noise: float = 0.05,
    propagation: float = 0.9,
    pod_names: bool = False,
    random_state: int | None = 0,
) -> SimulatedSystem:
    """Simulate a microservice system with one injected fault (see the module docstring).

    Args:
        n_services: Number of services, front door and shared leaves included (>= 2).
        duration: Simulated time (``"3h"`` or ns).
        step: Metric / log step.
        fault_service: Service to break (default: a random service other than the front
            door).
        fault_type: ``"latency"``, ``"errors"``, ``"cpu"`` or ``"memory"``.
        fault_start: Fault onset as an offset from ``start`` (``"2h"``) or an absolute
            timestamp in ns; default: 65 % into the range, on a step boundary.
        fault_duration: How long the fault lasts.
        fault_magnitude: Effect size: added ms of own time (latency, default 300), added
            error rate (errors, 0.3), own-time factor (cpu, 4), relative memory growth at
            the end (memory, 2). ``None`` takes the default.
        start: First timestamp (ISO string or ns).
        base_rate: Mean requests per second at the front door.
        traces_per_step: Mean sampled traces per step (spans scale with it).
        noise: Log-normal noise level of traffic and service times.
        propagation: Probability that a callee's error fails its caller.
        pod_names: Name entities like Kubernetes pods (``cart-<hash>-<hash>``) instead of
            services, so that :func:`graphad.graph.rules.k8s_service` maps them back.
        random_state: Seed; the same seed gives the same system, frames and fault.

    Returns:
        :class:`SimulatedSystem`; ``.case`` holds the fault truth (``root_cause`` the
        service, ``root_cause_entity`` its entity, ``meta["end_ns"]`` the fault end,
        ``meta["affected"]`` the services whose latency/errors it can reach).

    Raises:
        GraphadInputError: An unknown fault type or service, or a fault outside the range.

    Example:
        >>> sim = make_microservice_system(6, duration="1h", fault_service="frontend",
        ...                                random_state=3)
        >>> sim.case.root_cause, sorted(sim.metrics["metric"].unique())[:2]
        ('frontend', ['cpu', 'error_rate'])
    """
    if fault_type not in FAULT_TYPES:
        raise GraphadInputError(
            "unknown fault type",
            field="fault_type",
            expected=f"one of {list(FAULT_TYPES)}",
            found=repr(fault_type),
        )
    rng = np.random.default_rng(random_state)
    graph = make_topology(n_services, random_state=int(rng.integers(2**31)))
    services = list(graph.nodes)
    step_ns, duration_ns = parse_duration(step), parse_duration(duration)
    if step_ns <= 0 or duration_ns < step_ns:
        raise GraphadInputError(
            "duration shorter than one step",
            field="duration",
            expected=f"at least {step_ns} ns",
            found=duration_ns,
        )
    start_ns = (
        int(start)
        if isinstance(start, (int, np.integer))
        else int(
            pd.Timestamp(start).tz_convert("UTC").value
            if pd.Timestamp(start).tzinfo
            else pd.Timestamp(start, tz="UTC").value
        )
    )
    times = start_ns + np.arange(duration_ns // step_ns, dtype=np.int64) * step_ns
    end_ns = int(times[-1] + step_ns)
    if fault_service is None:
        fault_service = services[1 + int(rng.integers(len(services) - 1))]
    elif fault_service not in graph:
        raise GraphadInputError(
            "unknown service",
            field="fault_service",
            expected=f"one of {services}",
            found=repr(fault_service),
        )
    if fault_start is None:
        onset = start_ns + (int(0.65 * duration_ns) // step_ns) * step_ns
    else:
        offset = parse_duration(fault_start)
        onset = offset if offset >= start_ns else start_ns + offset
    if not start_ns <= onset < end_ns:
        raise GraphadInputError(
            "fault starts outside the simulated range",
            field="fault_start",
            expected=f"a time in [{start_ns}, {end_ns})",
            found=onset,
        )
    magnitude = float(
        _DEFAULT_MAGNITUDE[fault_type] if fault_magnitude is None else fault_magnitude
    )
    fault = {
        "service": fault_service,
        "type": fault_type,
        "start_ns": onset,
        "end_ns": min(onset + parse_duration(fault_duration), end_ns),
        "magnitude": magnitude,
        "propagation": float(propagation),
    }
    model = _simulate(graph, services, times, start_ns, fault, rng, base_rate, noise)
    entity_rng = np.random.default_rng(rng.integers(2**31))
    entities = [_pod_name(s, entity_rng) if pod_names else s for s in services]
    metrics = _metrics_frame(model, entities, times)
    logs = _logs_frame(
        graph, services, entities, model, times, step_ns / 1e9, rng, float(propagation)
    )
    spans = _spans_frame(
        graph, services, entities, model, times, step_ns, traces_per_step, rng, float(propagation)
    )
    truth_graph = nx.DiGraph()
    truth_graph.add_nodes_from(services)
    truth_graph.add_edges_from(
        (u, v, {"p": d["p"], "weight": d["p"]}) for u, v, d in graph.edges(data=True)
    )
    affected = sorted(nx.ancestors(graph, fault_service) | {fault_service})
    report = IngestReport(
        "simulator",
        n_records=len(spans) + len(metrics) + len(logs),
        n_kept=len(spans) + len(metrics) + len(logs),
    )
    params = {
        "n_services": n_services,
        "duration": duration,
        "step": step,
        "fault_service": fault_service,
        "fault_type": fault_type,
        "fault_start_ns": onset,
        "fault_end_ns": fault["end_ns"],
        "fault_magnitude": magnitude,
        "random_state": random_state,
    }
    case = FaultCase(
        case_id=f"sim-{random_state}-{fault_service}-{fault_type}",
        system="simulated",
        onset_ns=int(onset),
        root_cause=fault_service,
        fault_type=fault_type,
        spans=spans,
        metrics=metrics,
        logs=logs,
        call_graph=truth_graph,
        root_cause_entity=entities[services.index(fault_service)],
        report=report,
        node_rule="service" if pod_names else "identity",
        start_ns=int(start_ns),
        end_ns=int(end_ns),
        meta={
            "end_ns": fault["end_ns"],
            "affected": affected,
            "start_ns": start_ns,
            "stop_ns": end_ns,
            "magnitude": magnitude,
        },
    )
    return SimulatedSystem(
        spans=spans,
        metrics=metrics,
        logs=logs,
        call_graph=truth_graph,
        case=case,
        services=services,
        entities=dict(zip(services, entities, strict=False)),
        start_ns=start_ns,
        end_ns=end_ns,
        step_ns=step_ns,
        params=params,
    )
